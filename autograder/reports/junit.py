"""JUnit XML for CI dashboards: one testsuite per notebook, one testcase per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from autograder.results import NOT_JUDGED, GradingRun


def render_junit(run: GradingRun) -> str:
    root = ET.Element("testsuites", name="regnorm-lab", tests=str(sum(len(n.checks) for n in run.notebooks)))
    for nb in run.notebooks:
        failures = sum(1 for c in nb.checks if not c.passed and c.status not in NOT_JUDGED)
        errors = sum(1 for c in nb.checks if c.status in NOT_JUDGED) + (1 if nb.error else 0)
        suite = ET.SubElement(root, "testsuite", name=f"{nb.assignment or 'unknown'}:{nb.path}",
                              tests=str(len(nb.checks) + (1 if nb.error else 0)), failures=str(failures),
                              errors=str(errors), skipped="0", time=f"{nb.duration_s:.3f}")
        if nb.error:
            case = ET.SubElement(suite, "testcase", classname=nb.assignment or "unknown", name="grading", time="0")
            ET.SubElement(case, "error", message=nb.error)
        for c in nb.checks:
            case = ET.SubElement(suite, "testcase", classname=f"{nb.assignment}.{c.exercise}", name=c.name, time="0")
            ET.SubElement(case, "properties").extend([
                ET.Element("property", name="score", value=f"{c.score:g}"),
                ET.Element("property", name="max_score", value=f"{c.points:g}"),
            ])
            if c.status in NOT_JUDGED:
                ET.SubElement(case, "error", message=f"{c.status}: {c.title}").text = c.feedback
            elif not c.passed:
                ET.SubElement(case, "failure", message=f"{c.score:g}/{c.points:g}: {c.title}").text = c.feedback
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
