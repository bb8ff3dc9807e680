"""The CI templates: their structure, and their exact grading commands run on example notebooks."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml
from helpers import REPO, solution_path

from autograder.suites import load_suite

TEMPLATES = os.path.join(REPO, "ci_templates")
EXAMPLE = os.path.join(REPO, "examples", "01_data_splits-example.ipynb")
GRADER = os.path.join(os.path.dirname(sys.executable), "autograder")
COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"

# Files a student could add to their repository hoping the grading job runs them.
TRAPS = {
    "conftest.py": "open({marker!r}, 'w').write('conftest')\n",
    "sitecustomize.py": "open({marker!r}, 'w').write('sitecustomize')\n",
    "autograder.py": "open({marker!r}, 'w').write('shadow autograder')\n",
    "Makefile": "all:\n\ttouch {marker}\n",
}


def load(name: str) -> dict:
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def github_steps(wf: dict) -> list[dict]:
    (job,) = wf["jobs"].values()
    return job["steps"]


def shell(script: str, cwd, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def ci_env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REGNORM_GRADING", "PYTHONPATH")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def plant_traps(folder, marker: str) -> None:
    for name, text in TRAPS.items():
        (folder / name).write_text(text.format(marker=marker), encoding="utf-8")


def test_github_classroom_template_structure():
    wf = load("github-classroom.yml")
    steps = github_steps(wf)
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout"))
    assert checkout["with"]["path"] == "submission" and checkout["with"]["persist-credentials"] is False
    install = next(s for s in steps if "GRADER_PACKAGE" in s.get("run", ""))
    assert install["working-directory"] == "${{ runner.temp }}"  # never inside the student's checkout
    package = wf["env"]["GRADER_PACKAGE"]
    assert package.startswith("regnorm-lab @ git+https://") and "@v" in package.split("git+")[1]
    assert wf["env"]["PYTHONSAFEPATH"] == "1"
    for s in steps:  # nothing from the student's repo is installed, sourced or made
        text = s.get("run", "") + str(s.get("with", {}).get("setup-command", ""))
        for bad in ("pip install -e", "pip install .", "-r submission", "make", "pytest", "source submission"):
            assert bad not in text, (s.get("name"), bad)
    # One grading step writes the result (one test per check) for the reporter, which is the last step.
    grade = next(s for s in steps if '"$GRADER" grade' in s.get("run", ""))
    assert "--format classroom-output" in grade["run"] and '>> "$GITHUB_OUTPUT"' in grade["run"]
    assert "env -u GITHUB_OUTPUT" in grade["run"]  # the grader (and the student's code) never sees that file
    assert not any(s.get("uses") == COMMAND_GRADER for s in steps)
    reporter = steps[-1]
    assert reporter["uses"] == REPORTER
    runners = reporter["with"]["runners"]
    assert re.fullmatch(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+", runners)  # the reporter's own pattern (src/main.js)
    assert runners.split(",") == [grade["id"]]
    assert reporter["env"] == {f"{grade['id'].upper()}_RESULTS": f"${{{{ steps.{grade['id']}.outputs.result }}}}"}


def run_classroom_grade_step(notebook, tmp_path, grader=GRADER) -> dict:
    """Run the template's grading step as GitHub would (bash -e) and decode its ``result`` output."""
    wf = load("github-classroom.yml")
    steps = github_steps(wf)
    assignment = wf["env"]["ASSIGNMENT"]
    workspace = tmp_path / "workspace"
    (workspace / "submission").mkdir(parents=True)
    shutil.copy(notebook, workspace / "submission" / f"{assignment}.ipynb")
    marker = str(tmp_path / "student-code-ran")
    plant_traps(workspace / "submission", marker)
    plant_traps(workspace, marker)
    output = tmp_path / "github_output"
    output.write_text("earlier=1\n")
    env = ci_env({**wf["env"], "GRADER": grader, "GRADER_PYTHON": sys.executable, "RESULT": tmp_path / "result",
                  "GITHUB_OUTPUT": output, "CI": "true"})
    grade_step = next(s for s in steps if '"$GRADER" grade' in s.get("run", ""))
    proc = shell(grade_step["run"], workspace, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not os.path.exists(marker), "the grading job ran a file from the student's repository"
    assert not os.path.exists(tmp_path / "result")
    lines = output.read_text().splitlines()
    assert lines[0] == "earlier=1" and len(lines) == 2 and lines[1].startswith("result=")  # appended, once
    # the reporter: process.env[`${runner.toUpperCase()}_RESULTS`], base64 -> JSON
    return json.loads(base64.b64decode(lines[1][len("result="):]).decode("utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("notebook,full", [(solution_path("01_data_splits"), True), (EXAMPLE, False)],
                         ids=["solution", "example"])
def test_github_classroom_step_reports_every_checks_points(notebook, full, tmp_path):
    result = run_classroom_grade_step(notebook, tmp_path)
    suite = load_suite("01_data_splits", hidden=True)
    assert result["version"] == 1 and result["max_score"] == suite.points()
    assert [t["name"] for t in result["tests"]] == [f"01_data_splits: {c.name}" for c in suite.checks]
    points = sum(t["score"] for t in result["tests"])  # what the reporter sends Classroom
    if full:
        assert result["status"] == "pass" and points == suite.points()
    else:  # partial credit per check, not all-or-nothing per exercise
        assert result["status"] == "fail" and 0 < points < suite.points()
        assert any(0 < t["score"] < c.points for t, c in zip(result["tests"], suite.checks, strict=True))


def test_github_classroom_step_without_a_finished_grading_gives_zero(tmp_path):
    crash = tmp_path / "crashing-grader"
    crash.write_text("#!/bin/sh\necho 'result=forged' > \"$RESULT\"\nkill -9 $$\n")
    crash.chmod(0o755)
    result = run_classroom_grade_step(EXAMPLE, tmp_path, grader=crash)
    assert result["status"] == "error" and result["max_score"] == load_suite("01_data_splits", hidden=True).points()
    (test,) = result["tests"]
    assert test["score"] == 0 and "grading did not finish (exit 137)" in test["message"]


def test_check_report_without_a_report_fails(tmp_path):
    proc = subprocess.run([GRADER, "check-report", str(tmp_path / "missing.json"), "split_data"],
                          capture_output=True, text=True, env=ci_env({}))
    assert proc.returncode == 1 and "no grading report" in proc.stdout


def test_gitlab_template_structure():
    ci = load("gitlab-ci.yml")
    job = ci["grade"]
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    assert job["artifacts"]["when"] == "always"
    assert any("--format junit" in line for line in job["script"])
    assert ci["variables"]["GRADER_PACKAGE"].startswith("regnorm-lab @ git+https://")
    assert any(line.startswith("(cd / &&") for line in job["before_script"])  # install outside the checkout


@pytest.mark.slow
def test_gitlab_commands_write_junit(tmp_path):
    ci = load("gitlab-ci.yml")
    assignment = ci["variables"]["ASSIGNMENT"]
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EXAMPLE, project / f"{assignment}.ipynb")
    marker = str(tmp_path / "student-code-ran")
    plant_traps(project, marker)
    env = ci_env({**ci["variables"], "GRADER": GRADER, "CI_PROJECT_DIR": project, "CI": "true"})
    script = "\n".join(ci["grade"]["script"])
    proc = shell(script, project, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = ET.parse(project / "reports" / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(load_suite(assignment, hidden=True).checks)
    assert root.findall(".//failure")  # the example submission has mistakes
    assert not os.path.exists(marker)
