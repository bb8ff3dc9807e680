"""The class templates (GitHub Actions matrix, Kubernetes Indexed Job): their shard and merge commands,
run here as the platforms would run them, give the same scores file and feedback files as one
unsharded `grade-batch` (durations aside)."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from helpers import REPO, solution_path, student_path

TEMPLATES = os.path.join(REPO, "ci_templates")
BIN = os.path.dirname(sys.executable)
GRADER = os.path.join(BIN, "autograder")
EXAMPLE = os.path.join(REPO, "examples", "01_data_splits-example.ipynb")


def load_all(name: str) -> list[dict]:
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as fh:
        return [d for d in yaml.safe_load_all(fh) if d]


def ci_env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REGNORM_GRADING", "PYTHONPATH")}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env["CI"] = "true"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(script: str, cwd, env: dict, shell: str = "bash") -> None:
    proc = subprocess.run([shell, "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    """A flat folder of six submissions: full marks, untouched, known mistakes, two other assignments, junk."""
    root = tmp_path_factory.mktemp("class")
    sub = root / "submissions"
    sub.mkdir()
    shutil.copy(solution_path("01_data_splits"), sub / "alice.ipynb")
    shutil.copy(student_path("01_data_splits"), sub / "bob.ipynb")
    (sub / "carol.ipynb").write_text("{ not a notebook", encoding="utf-8")
    shutil.copy(EXAMPLE, sub / "dave.ipynb")
    shutil.copy(solution_path("02_weight_penalties"), sub / "erin.ipynb")
    shutil.copy(student_path("10_hparam_search"), sub / "frank.ipynb")
    return sub


def read_scores(path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a scores CSV without the duration column (the only one that may differ)."""
    with open(path, newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    keep = [i for i, name in enumerate(header) if name != "duration_s"]
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows]


def read_tree(folder) -> dict[str, str]:
    return {os.path.relpath(os.path.join(d, f), folder): open(os.path.join(d, f), encoding="utf-8").read()
            for d, _, files in os.walk(folder) for f in files}


@pytest.fixture(scope="module")
def unsharded(class_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("unsharded")
    proc = subprocess.run([GRADER, "grade-batch", str(class_folder), "--jobs", "2", "--output",
                           str(out / "scores.csv")], capture_output=True, text=True, timeout=900, env=ci_env({}))
    assert proc.returncode == 3, proc.stdout + proc.stderr  # carol's file is not a notebook
    header, rows = read_scores(out / "scores.csv")
    assert [r[0] for r in rows] == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert any(name.startswith("02_weight_penalties/") for name in header)
    feedback = read_tree(out / "feedback")
    assert sorted(feedback) == ["alice/01_data_splits.md", "bob/01_data_splits.md", "carol/carol.md",
                                "dave/01_data_splits.md", "erin/02_weight_penalties.md",
                                "frank/10_hparam_search.md"]
    return header, rows, feedback


def test_github_actions_class_template_structure():
    (wf,) = load_all("github-actions-class.yml")
    grade, merge = wf["jobs"]["grade"], wf["jobs"]["merge"]
    assert len(grade["strategy"]["matrix"]["shard"]) == int(wf["env"]["SHARDS"])
    assert grade["strategy"]["matrix"]["shard"] == list(range(int(wf["env"]["SHARDS"])))
    assert grade["strategy"]["fail-fast"] is False and merge["needs"] == "grade"
    assert wf["env"]["GRADER_PACKAGE"].startswith("regnorm-lab @ git+https://")
    shard_step = next(s for s in grade["steps"] if "grade-batch" in s.get("run", ""))
    assert shard_step["env"] == {"SHARD": "${{ matrix.shard }}"}
    assert '--shard "$SHARD/$SHARDS"' in shard_step["run"]
    upload = next(s for s in grade["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "out/" and upload["with"]["name"] == "scores-part-${{ matrix.shard }}"
    download = next(s for s in merge["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact"))
    assert download["with"] == {"pattern": "scores-part-*", "path": "parts"}  # one folder per artifact
    assert "merge-scores" in next(s for s in merge["steps"] if "merge-scores" in s.get("run", ""))["run"]
    final = merge["steps"][-1]
    assert final["uses"].startswith("actions/upload-artifact") and final["with"]["path"] == "class/"


@pytest.mark.slow
def test_github_actions_class_matrix_equals_one_unsharded_run(class_folder, unsharded, tmp_path):
    (wf,) = load_all("github-actions-class.yml")
    shards = 3  # the template's commands with a 3-job matrix
    grade, merge = wf["jobs"]["grade"], wf["jobs"]["merge"]
    shard_step = next(s for s in grade["steps"] if "grade-batch" in s.get("run", ""))
    merge_step = next(s for s in merge["steps"] if "merge-scores" in s.get("run", ""))
    # Every matrix job checks the repository out at the same path: the submissions folder is the same.
    workspace = class_folder.parent
    env = {**wf["env"], "SHARDS": shards, "WORKERS": 1, "GRADER": GRADER}  # one worker: a 2-core test machine
    runner = tmp_path / "runner"
    (runner / "parts").mkdir(parents=True)
    for k in range(shards):
        run(shard_step["run"], workspace, ci_env({**env, "SHARD": k}))
        # upload-artifact (path out/) then download-artifact (pattern) -> parts/scores-part-K/
        shutil.move(str(workspace / "out"), str(runner / "parts" / f"scores-part-{k}"))
    assert sorted(os.listdir(runner / "parts")) == [f"scores-part-{k}" for k in range(shards)]
    run(merge_step["run"], runner, ci_env(env))

    header, rows, feedback = unsharded
    assert read_scores(runner / "class" / "scores.csv") == (header, rows)
    assert read_tree(runner / "class" / "feedback") == feedback


def k8s_jobs() -> tuple[dict, dict]:
    docs = load_all("k8s-indexed-job.yaml")
    assert all(d["apiVersion"] == "batch/v1" and d["kind"] == "Job" for d in docs)
    (indexed,) = [d for d in docs if d["spec"].get("completionMode") == "Indexed"]
    (merge,) = [d for d in docs if d is not indexed]
    return indexed, merge


def container_env(job: dict, overrides: dict) -> tuple[str, dict]:
    """The container's script and its environment, ``$(VAR)`` expanded as the kubelet does."""
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["/bin/sh", "-c"]
    env: dict[str, str] = {}
    for item in container["env"]:
        value = overrides.get(item["name"], item["value"])
        env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), str(value))
    return container["args"][0], env


def test_k8s_indexed_job_structure():
    indexed, merge = k8s_jobs()
    script, env = container_env(indexed, {})
    assert indexed["spec"]["completions"] == int(env["SHARDS"])
    assert '--shard "$JOB_COMPLETION_INDEX/$SHARDS"' in script and "grade-batch" in script
    assert env["RESULTS"] == "/class/results/run-1"  # $(RUN) expanded
    merge_script, merge_env = container_env(merge, {})
    assert merge_env["SHARDS"] == env["SHARDS"] and merge_env["RESULTS"] == env["RESULTS"]
    assert "merge-scores" in merge_script
    for job in (indexed, merge):
        pod = job["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
        claims = {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]}
        assert claims == {"regnorm-class"}


@pytest.mark.slow
def test_k8s_indexed_job_equals_one_unsharded_run(class_folder, unsharded, tmp_path):
    indexed, merge = k8s_jobs()
    shards = 2  # the template's commands with completions: 2
    volume = tmp_path / "class"
    overrides = {"SUBMISSIONS": str(class_folder), "RESULTS": f"{volume}/results/$(RUN)", "SHARDS": str(shards),
                 "WORKERS": "1"}
    script, env = container_env(indexed, overrides)
    for k in range(shards):  # one pod per index, all writing to the shared volume
        run(script, tmp_path, ci_env({**env, "JOB_COMPLETION_INDEX": k}), shell="sh")
    merge_script, merge_env = container_env(merge, overrides)
    run(merge_script, tmp_path, ci_env(merge_env), shell="sh")

    results = volume / "results" / "run-1"
    header, rows, feedback = unsharded
    assert read_scores(results / "scores.csv") == (header, rows)
    assert read_tree(results / "feedback") == feedback
