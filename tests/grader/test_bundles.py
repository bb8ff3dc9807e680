"""The student bundle (no solution, no hidden check, self-check works) and the Gradescope bundle
(unzipped into a Gradescope-like root, run_autograder writes a valid results.json; as root, the
student's process cannot read the hidden checks or reference values)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from helpers import load_nb, python_for_unprivileged_user, solution_path, student_path

from autograder.bundles import (
    build_gradescope_bundle,
    build_student_bundle,
    extract_bundle,
    find_leaks,
    solution_lines,
    temp_root,
)
from autograder.suites import load_suite

ASSIGNMENT = "01_data_splits"
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
SECRET_NAMES = ("hidden.py", "mistakes.py", "hidden.json")


def all_files(root: str) -> list[str]:
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


@pytest.fixture(scope="module")
def student_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "regnorm-lab-student"
    build_student_bundle(str(out), [ASSIGNMENT])
    return out


def test_student_bundle_has_what_students_need(student_bundle):
    for rel in ("pyproject.toml", "requirements.txt", "README.md", f"assignments/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
                "autograder/__init__.py", "autograder/selfcheck.py", "autograder/sandbox/worker.py",
                f"autograder/suites/s{ASSIGNMENT}/checks.py", f"autograder/suites/s{ASSIGNMENT}/references/visible.json"):
        assert (student_bundle / rel).is_file(), rel
    assert os.path.isdir(student_bundle / "source_data")
    assert not (student_bundle / "solutions").exists()
    # Only the released assignment's checks and notebook.
    assert sorted(os.listdir(student_bundle / "assignments")) == [ASSIGNMENT]
    assert [d for d in os.listdir(student_bundle / "autograder" / "suites") if d.startswith("s")] == [f"s{ASSIGNMENT}"]


def test_student_bundle_holds_no_secret(student_bundle):
    files = all_files(str(student_bundle))
    assert files
    for f in files:
        assert os.path.basename(f) not in SECRET_NAMES, f
        assert "__pycache__" not in f, f
    leaks = find_leaks(str(student_bundle), [ASSIGNMENT])
    assert solution_lines(ASSIGNMENT), "no solution lines found to scan for"
    assert not leaks, leaks


def test_whole_course_student_bundle_holds_no_solution_line(tmp_path):
    """Every released assignment, scanned for every line of every solution."""
    from autograder.suites import ASSIGNMENTS

    out = tmp_path / "course-bundle"
    build_student_bundle(str(out))
    released = sorted(os.listdir(out / "assignments"))
    assert released == sorted(ASSIGNMENTS)
    assert all(solution_lines(a) for a in ASSIGNMENTS)
    assert find_leaks(str(out), list(ASSIGNMENTS)) == []


def _selfcheck_script(bundle, solution: str) -> str:
    return textwrap.dedent(f"""
        import json, sys
        import autograder
        assert autograder.__file__.startswith({str(bundle)!r}), autograder.__file__
        nb = json.load(open({solution!r}, encoding="utf-8"))
        ns = {{}}
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {{}})
            if cell["cell_type"] == "code" and (meta.get("solution") or meta.get("grade_id") == "imports"):
                exec("".join(cell["source"]), ns)
        from autograder import check
        from autograder.suites import load_suite
        suite = load_suite({ASSIGNMENT!r}, hidden=False)
        total = sum(float(check(g, namespace=ns)) for g in suite.exercises())
        print("VISIBLE", total)
        try:
            check(suite.exercises()[0], hidden=True, namespace=ns)
        except Exception as exc:
            print("HIDDEN-REFUSED", type(exc).__name__, exc)
        else:
            print("HIDDEN-RAN")
    """)


def test_self_check_works_from_the_bundle(student_bundle):
    env = {k: v for k, v in os.environ.items() if k not in ("REGNORM_GRADING", "PYTHONPATH")}
    env["PYTHONPATH"] = str(student_bundle)
    proc = subprocess.run([sys.executable, "-c", _selfcheck_script(student_bundle, solution_path(ASSIGNMENT))],
                          cwd=student_bundle, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    visible = load_suite(ASSIGNMENT, hidden=True).points(hidden=False)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("VISIBLE"))
    assert float(line.split()[1]) == pytest.approx(visible) and visible > 0, proc.stdout
    refused = [ln for ln in proc.stdout.splitlines() if ln.startswith("HIDDEN-")]
    assert refused and refused[0].startswith("HIDDEN-REFUSED HiddenChecksUnavailable"), proc.stdout
    assert "not installed" in refused[0]


# -- Gradescope --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gs_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("gs") / "autograder.zip"
    names = build_gradescope_bundle(str(path), ASSIGNMENT)
    return path, names


def gradescope_root(zip_path, submission_files: dict[str, str]) -> str:
    root = temp_root()
    extract_bundle(str(zip_path), os.path.join(root, "source"))
    os.makedirs(os.path.join(root, "submission"))
    os.makedirs(os.path.join(root, "results"))
    for name, src in submission_files.items():
        shutil.copy(src, os.path.join(root, "submission", name))
    return root


def run_autograder(root: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("REGNORM_GRADING", "PYTHONPATH")}
    env.update(GRADESCOPE_ROOT=root, REGNORM_PYTHON=python)
    return subprocess.run([os.path.join(root, "source", "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600)


def validate_results(data: dict) -> None:
    assert isinstance(data["score"], (int, float))
    assert isinstance(data["tests"], list)
    for key in ("visibility", "stdout_visibility"):
        if key in data:
            assert data[key] in VISIBILITIES
    for t in data["tests"]:
        assert isinstance(t["name"], str) and t["name"]
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))
        assert 0 <= t["score"] <= t["max_score"]
        assert t["status"] in ("passed", "failed")
        assert isinstance(t["output"], str)
        assert t.get("visibility", "visible") in VISIBILITIES
    if data["tests"]:
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


def test_gradescope_bundle_layout(gs_zip):
    _, names = gs_zip
    assert "setup.sh" in names and "run_autograder" in names
    assert f"grader/autograder/suites/s{ASSIGNMENT}/references/hidden.json" in names
    assert f"grader/autograder/suites/s{ASSIGNMENT}/hidden.py" in names
    assert "grader/pyproject.toml" in names
    assert not [n for n in names if n.startswith(("grader/solutions", "grader/examples")) or "__pycache__" in n]


@pytest.mark.slow
def test_gradescope_run_autograder_writes_valid_results(gs_zip):
    root = gradescope_root(gs_zip[0], {f"{ASSIGNMENT}.ipynb": solution_path(ASSIGNMENT)})
    try:
        proc = run_autograder(root)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # The grader that ran is the bundled copy, not the repository's.
        assert os.path.join(root, "source", "grader", "autograder") in proc.stdout, proc.stdout
        with open(os.path.join(root, "results", "results.json"), encoding="utf-8") as fh:
            data = json.load(fh)
        validate_results(data)
        suite = load_suite(ASSIGNMENT, hidden=True)
        assert suite.points() > 0 and data["score"] == pytest.approx(suite.points())
        assert len(data["tests"]) == len(suite.checks)
        assert any(t["visibility"] == "after_published" for t in data["tests"])  # hidden checks
        assert all(t["status"] == "passed" for t in data["tests"])
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_gradescope_untouched_and_empty_submissions(gs_zip):
    for files in ({"my_upload.ipynb": student_path(ASSIGNMENT)}, {}):
        root = gradescope_root(gs_zip[0], files)
        try:
            proc = run_autograder(root)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            with open(os.path.join(root, "results", "results.json"), encoding="utf-8") as fh:
                data = json.load(fh)
            validate_results(data)
            assert data["score"] == 0
            if not files:
                assert data["tests"] == [] and "No notebook" in data["output"]
            else:
                assert data["tests"] and all(t["status"] == "failed" for t in data["tests"])
        finally:
            shutil.rmtree(root, ignore_errors=True)


# -- the student's process cannot read the secrets (hidden by the sandbox, or root only) -------------------

PROBE = """
import os, json
_probe = {"uid": os.getuid(), "read": {}}
for _p in %r:
    try:
        with open(_p, "rb") as _fh:
            _fh.read(1)
        _probe["read"][_p] = "readable"
    except OSError as _e:
        _probe["read"][_p] = type(_e).__name__
raise RuntimeError("PROBE " + json.dumps(_probe, separators=(",", ":")))
"""


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: only a root grader drops the student's process to an "
                                               "unprivileged user (run the suite as root, e.g. in the CI container)")
def test_gradescope_student_process_cannot_read_secrets(gs_zip, tmp_path):
    root = temp_root()
    try:
        python, why = python_for_unprivileged_user(root)
        if python is None:
            pytest.skip(why)
        grader = os.path.join(root, "gs", "source", "grader", "autograder")
        secrets = [os.path.join(grader, "suites", f"s{ASSIGNMENT}", rel)
                   for rel in ("hidden.py", "mistakes.py", os.path.join("references", "hidden.json"))]
        nb = load_nb(solution_path(ASSIGNMENT))
        nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "probe", "metadata": {},
                            "outputs": [], "source": PROBE % (secrets,)})
        os.makedirs(os.path.join(root, "gs"))
        sub = os.path.join(root, "sub.ipynb")
        with open(sub, "w", encoding="utf-8") as fh:
            json.dump(nb, fh)
        gs = os.path.join(root, "gs")
        extract_bundle(str(gs_zip[0]), os.path.join(gs, "source"))
        os.makedirs(os.path.join(gs, "submission"))
        shutil.copy(sub, os.path.join(gs, "submission", f"{ASSIGNMENT}.ipynb"))
        proc = run_autograder(gs, python)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        with open(os.path.join(gs, "results", "results.json"), encoding="utf-8") as fh:
            data = json.load(fh)
        assert "ran as root" not in data["output"], data["output"]
        assert data["score"] == pytest.approx(load_suite(ASSIGNMENT, hidden=True).points())
        # The probe reports through its cell's error (in the sandbox it can write nothing outside).
        probe = json.loads(data["output"].split("PROBE ", 1)[1].splitlines()[0])
        assert probe["uid"] != 0
        # Hidden (sandbox: the suites' folders are empty mounts) or root-only (uid fallback, locked down).
        assert set(probe["read"]) == set(secrets), probe
        assert set(probe["read"].values()) <= {"FileNotFoundError", "PermissionError"}, probe
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_student_bundle_is_pip_installable(student_bundle, tmp_path):
    """`pip install -e .` in the bundle needs a valid pyproject: build its wheel (offline, no deps)."""
    import zipfile

    work = tmp_path / "copy"
    shutil.copytree(student_bundle, work)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(work),
                           "-w", str(tmp_path / "wheels")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = glob.glob(str(tmp_path / "wheels" / "*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert f"autograder/suites/s{ASSIGNMENT}/references/visible.json" in names
    assert "autograder/selfcheck.py" in names
    assert not [n for n in names if os.path.basename(n) in SECRET_NAMES]


def test_gradescope_picks_one_notebook_per_assignment(tmp_path):
    from autograder.bundles.gradescope import _pick_notebooks

    sub = tmp_path / "submission"
    (sub / "__MACOSX").mkdir(parents=True)
    (sub / "old").mkdir()
    shutil.copy(student_path(ASSIGNMENT), sub / "old" / "draft.ipynb")
    shutil.copy(solution_path(ASSIGNMENT), sub / f"{ASSIGNMENT}.ipynb")
    shutil.copy(solution_path(ASSIGNMENT), sub / "__MACOSX" / f"._{ASSIGNMENT}.ipynb")
    picked, notes = _pick_notebooks(str(sub), ASSIGNMENT)
    assert picked == [(str(sub / f"{ASSIGNMENT}.ipynb"), ASSIGNMENT)]
    assert any("old/draft.ipynb was not graded" in n for n in notes), notes
    picked, notes = _pick_notebooks(str(sub), None)  # no --assignment: one notebook per detected assignment
    assert [a for _, a in picked] == [ASSIGNMENT] and len(notes) == 1


def test_terminal_self_check_of_a_py_works_from_the_bundle(student_bundle, tmp_path):
    """A student who works in an editor runs `python -m autograder.selfcheck NN.py` with only the bundle."""
    from helpers import load_nb

    from autograder.submissions import notebook_to_script

    script = tmp_path / f"{ASSIGNMENT}.py"
    script.write_text(notebook_to_script(load_nb(solution_path(ASSIGNMENT))))
    env = {k: v for k, v in os.environ.items() if k not in ("REGNORM_GRADING", "PYTHONPATH")}
    env["PYTHONPATH"] = str(student_bundle)
    proc = subprocess.run([sys.executable, "-m", "autograder.selfcheck", str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    visible = load_suite(ASSIGNMENT, hidden=True).points(hidden=False)
    assert f"{ASSIGNMENT}: visible checks {visible:g}/{visible:g} points" in proc.stdout, proc.stdout
