"""The Gradescope autograder zip, and what its ``run_autograder`` calls (:func:`gradescope_run`)."""

from __future__ import annotations

import json
import os
import stat
import sys
import zipfile

from autograder.bundles import PACKAGE_DIR, REPO_ROOT, package_files
from autograder.bundles.lockdown import lock_down

TEMPLATES = os.path.join(PACKAGE_DIR, "gradescope_files")


def _template(name: str, **subst: str) -> str:
    with open(os.path.join(TEMPLATES, name), encoding="utf-8") as fh:
        text = fh.read()
    for key, value in subst.items():
        text = text.replace("@" + key + "@", value)
    return text


def build_gradescope_bundle(out_zip: str, assignment: str | None = None) -> list[str]:
    """Write the Gradescope autograder zip; returns the names inside it.

    ``assignment``: grade uploads as this assignment (recommended: one Gradescope assignment per
    course assignment); without it every notebook of the upload is graded as what its metadata says.
    """
    from autograder.suites import ASSIGNMENTS

    if assignment is not None and assignment not in ASSIGNMENTS:
        raise KeyError(f"unknown assignment {assignment!r}; known: {', '.join(ASSIGNMENTS)}")
    files: dict[str, tuple[str | None, str | None, int]] = {}  # name -> (source path, text, mode)
    files["setup.sh"] = (None, _template("setup.sh"), 0o755)
    files["run_autograder"] = (None, _template("run_autograder", ASSIGNMENT=assignment or ""), 0o755)
    for rel in package_files(student=False):
        files["grader/autograder/" + rel] = (os.path.join(PACKAGE_DIR, rel), None, 0o644)
    for name in ("pyproject.toml", "constraints.txt", "README.md", "LICENSE"):
        path = os.path.join(REPO_ROOT, name)
        if os.path.isfile(path):
            files["grader/" + name] = (path, None, 0o644)
    if "grader/README.md" not in files:  # pyproject's `readme` must exist for pip
        files["grader/README.md"] = (None, "regnorm-lab grader\n", 0o644)
    src = os.path.join(REPO_ROOT, "source_data")
    if os.path.isdir(src):
        for root, _dirs, names in os.walk(src):
            for f in sorted(names):
                full = os.path.join(root, f)
                files["grader/source_data/" + os.path.relpath(full, src).replace(os.sep, "/")] = (full, None, 0o644)
    os.makedirs(os.path.dirname(os.path.abspath(out_zip)), exist_ok=True)
    tmp = out_zip + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            path, text, mode = files[name]
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            if text is None:
                with open(path, "rb") as fh:
                    data = fh.read()
            else:
                data = text.encode("utf-8")
            zf.writestr(info, data)
    os.replace(tmp, out_zip)
    return sorted(files)


def extract_bundle(zip_path: str, dest: str) -> None:
    """Unzip keeping the executable bits (as Gradescope does)."""
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = zf.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode)


def _pick_notebooks(submission: str, assignment: str | None) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Choose what to grade in an upload: one notebook per assignment. Returns ([(path, assignment)], notes)."""
    from autograder.notebooks import NotebookError, detect_assignment, find_notebooks, read_notebook

    found = [p for p in find_notebooks([submission]) if "__MACOSX" not in p]
    notes: list[str] = []
    detected: list[tuple[str, str | None]] = []
    for p in found:
        try:
            a = detect_assignment(read_notebook(p), p)
        except NotebookError:
            a = None
        detected.append((p, a))
    if assignment:
        matching = [p for p, a in detected if a == assignment] or ([found[0]] if len(found) == 1 else [])
        if not matching:
            return [], notes
        exact = [p for p in matching if os.path.basename(p) == f"{assignment}.ipynb"]
        chosen = (exact or matching)[0]
        notes += [f"{os.path.relpath(p, submission)} was not graded (only one notebook per submission is)"
                  for p in found if p != chosen]
        return [(chosen, assignment)], notes
    picked: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for p, a in detected:
        if a is not None and a in seen:
            notes.append(f"{os.path.relpath(p, submission)} was not graded: another notebook of {a} was")
            continue
        if a is not None:
            seen.add(a)
        picked.append((p, a))
    return picked, notes


def gradescope_run(root: str, assignment: str | None = None, limits=None) -> int:
    """Grade ``root``/submission and write ``root``/results/results.json. Returns 0 once results are written."""
    from autograder.engine import grade_notebook
    from autograder.reports import write_atomic
    from autograder.reports.gradescope import render_gradescope
    from autograder.results import GradingRun

    submission = os.path.join(root, "submission")
    results = os.path.join(root, "results", "results.json")
    if os.geteuid() == 0:
        locked = lock_down(PACKAGE_DIR)
        print(f"regnorm-lab: {len(locked)} secret paths made root-only under {PACKAGE_DIR}")
    print(f"regnorm-lab grader {PACKAGE_DIR} (python {sys.executable})")
    picked, notes = _pick_notebooks(submission, assignment) if os.path.isdir(submission) else ([], [])
    if not picked:
        what = f"{assignment}.ipynb" if assignment else "your notebook (.ipynb)"
        data = {"score": 0.0, "execution_time": 0, "visibility": "visible", "stdout_visibility": "hidden",
                "output": f"No notebook to grade was found in your submission. Upload {what}.", "tests": []}
        write_atomic(results, json.dumps(data, indent=2) + "\n")
        return 0
    run = GradingRun()
    for path, a in picked:
        print(f"grading {os.path.relpath(path, submission)} as {a or 'its own assignment'}")
        run.notebooks.append(grade_notebook(path, limits, hidden=True, assignment=a))
    data = json.loads(render_gradescope(run))
    if notes:
        data["output"] = "\n".join(notes + [data.get("output", "")]).strip()
    write_atomic(results, json.dumps(data, indent=2) + "\n")
    print(f"score {run.score:g}/{run.max_score:g}; wrote {results}")
    return 0


