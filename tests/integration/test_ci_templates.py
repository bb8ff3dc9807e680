"""The CI templates: their structure, and their exact grading commands run on example notebooks."""

from __future__ import annotations

import json
import os
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
    graders = [s for s in steps if s.get("uses") == COMMAND_GRADER]
    suite = load_suite(wf["env"]["ASSIGNMENT"], hidden=True)
    assert {s["with"]["test-name"]: s["with"]["max-score"] for s in graders} == {g: suite.points(g) for g in suite.exercises()}
    for s in graders:
        assert {"test-name", "command", "timeout", "max-score"} <= set(s["with"])
    reporter = steps[-1]
    assert reporter["uses"] == REPORTER
    ids = [s["id"] for s in graders]
    assert reporter["with"]["runners"].split(",") == ids
    assert reporter["env"] == {f"{i.upper()}_RESULTS": f"${{{{ steps.{i}.outputs.result }}}}" for i in ids}


@pytest.mark.slow
@pytest.mark.parametrize("notebook,full", [(solution_path("01_data_splits"), True), (EXAMPLE, False)],
                         ids=["solution", "example"])
def test_github_classroom_commands_grade_the_notebook(notebook, full, tmp_path):
    wf = load("github-classroom.yml")
    steps = github_steps(wf)
    assignment = wf["env"]["ASSIGNMENT"]
    workspace = tmp_path / "workspace"
    (workspace / "submission").mkdir(parents=True)
    shutil.copy(notebook, workspace / "submission" / f"{assignment}.ipynb")
    marker = str(tmp_path / "student-code-ran")
    plant_traps(workspace / "submission", marker)
    plant_traps(workspace, marker)
    env = ci_env({**wf["env"], "GRADER": GRADER, "REPORT": tmp_path / "report.json", "CI": "true"})

    grade_step = next(s for s in steps if '"$GRADER" grade' in s.get("run", ""))
    proc = shell(grade_step["run"], workspace, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    earned = 0.0
    for s in (s for s in steps if s.get("uses") == COMMAND_GRADER):
        proc = shell(s["with"]["command"], workspace, env)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        assert s["with"]["test-name"] in proc.stdout
        earned += s["with"]["max-score"] if proc.returncode == 0 else 0
    total = load_suite(assignment, hidden=True).points()
    with open(tmp_path / "report.json", encoding="utf-8") as fh:
        (nb,) = json.load(fh)["notebooks"]
    groups = {c["exercise"]: 0.0 for c in nb["checks"]}
    for g in groups:
        checks = [c for c in nb["checks"] if c["exercise"] == g]
        groups[g] = sum(c["points"] for c in checks) if all(c["status"] == "passed" for c in checks) else 0.0
    assert earned == sum(groups.values())  # a step earns its points iff its whole group passed
    assert (earned == total) if full else (nb["score"] < total and earned < total), earned
    assert not os.path.exists(marker), "the grading job ran a file from the student's repository"


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
