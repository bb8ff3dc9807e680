"""What leaves the instructor's repository: the student bundle and the Gradescope autograder zip.

- :func:`build_student_bundle` — the release notebooks, the *visible* part of the grader (the
  in-notebook self-check), ``source_data/`` and a ``pyproject.toml``: what students clone or download.
  No solution, no hidden check, no hidden reference value, no known-mistake implementation.
- :func:`build_gradescope_bundle` — ``setup.sh`` + ``run_autograder`` at the zip's root and the whole
  grader (with hidden checks and goldens) under ``grader/``.
- :func:`gradescope_run` — what ``run_autograder`` calls: grade ``$ROOT/submission`` and always write
  ``$ROOT/results/results.json`` (also when the upload holds no notebook).
- :func:`lock_down` — make hidden checks/goldens/mistakes readable by root only, so the student's
  process (which drops to an unprivileged user when the grader runs as root) cannot read them.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import zipfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_DIR = os.path.join(REPO_ROOT, "autograder")
TEMPLATES = os.path.join(PACKAGE_DIR, "gradescope_files")

#: Files of the package that only the instructor/grader may hold (relative to ``autograder/``).
SECRET_PATTERNS = ("suites/*/hidden.py", "suites/*/mistakes.py", "suites/*/goldens/hidden.json")
#: Grader-only modules left out of the student bundle (they are not needed by ``check()``).
INSTRUCTOR_ONLY = ("cli.py", "__main__.py", "engine.py", "generate.py", "instructor_cli.py", "batch.py",
                   "bundles.py", "notebooks.py", "reports/*", "gradescope_files/*")
SKIP_ALWAYS = ("*/__pycache__/*", "__pycache__/*", "*.pyc", "*/.ipynb_checkpoints/*", "*.tmp")


def _matches(rel: str, patterns) -> bool:
    return any(fnmatch.fnmatch(rel, p) for p in patterns)


def package_files(student: bool, assignments=None) -> list[str]:
    """Paths (relative to ``autograder/``) of the package files a bundle holds (``assignments``: only
    these assignments' suites; default all)."""
    out = []
    for root, dirs, files in os.walk(PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(root, f), PACKAGE_DIR).replace(os.sep, "/")
            if _matches(rel, SKIP_ALWAYS):
                continue
            if student and (_matches(rel, SECRET_PATTERNS) or _matches(rel, INSTRUCTOR_ONLY)):
                continue
            parts = rel.split("/")
            if assignments is not None and len(parts) > 2 and parts[0] == "suites" and parts[1][1:] not in assignments:
                continue
            out.append(rel)
    return out


def _copy(src: str, dst: str) -> None:
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o644)


def _copy_tree(src: str, dst: str, exclude=SKIP_ALWAYS) -> list[str]:
    copied = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(root, f), src).replace(os.sep, "/")
            if _matches(rel, exclude) or f.startswith("."):
                continue
            _copy(os.path.join(root, f), os.path.join(dst, rel))
            copied.append(rel)
    return copied


def _project_dependencies() -> list[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        return ["torch>=2.9,<2.15", "numpy>=1.26", "nbformat>=5.9", "ipykernel>=6.29", "ipython>=8.18",
                "matplotlib>=3.8", "scikit-learn>=1.4"]
    with open(os.path.join(REPO_ROOT, "pyproject.toml"), "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


STUDENT_README = """# regnorm-lab — student copy

Install once (a virtual environment is recommended), then open the notebooks:

```bash
python -m venv .venv && . .venv/bin/activate
pip install -e .
jupyter lab assignments/
```

Each notebook ends its exercises with a cell like `check("split_data")`: it runs the **visible**
checks on your functions and prints what passed and what did not. Hidden checks (other shapes and
seeds) are run by the course's grader only; they are not part of this copy.
"""


def released_assignments() -> list[str]:
    """Assignments with a student notebook in ``assignments/`` and checks in the package."""
    from autograder.suites import ASSIGNMENTS

    return [a for a in ASSIGNMENTS if os.path.isfile(os.path.join(REPO_ROOT, "assignments", a, f"{a}.ipynb"))]


def build_student_bundle(out_dir: str, assignments: list[str] | None = None) -> list[str]:
    """Write the student bundle to ``out_dir`` (must not exist or be empty); returns the files written.

    ``assignments``: the assignments to release (default: every one with a notebook in ``assignments/``).
    """
    from autograder.suites import ASSIGNMENTS

    selected = list(assignments) if assignments else released_assignments()
    unknown = [a for a in selected if a not in ASSIGNMENTS]
    if unknown:
        raise KeyError(f"unknown assignment(s) {', '.join(unknown)}; known: {', '.join(ASSIGNMENTS)}")
    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise FileExistsError(f"{out_dir} exists and is not empty")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for rel in package_files(student=True, assignments=selected):
        _copy(os.path.join(PACKAGE_DIR, rel), os.path.join(out_dir, "autograder", rel))
        written.append("autograder/" + rel)
    for a in selected:
        src = os.path.join(REPO_ROOT, "assignments", a)
        if os.path.isdir(src):
            written += [f"assignments/{a}/{r}" for r in _copy_tree(src, os.path.join(out_dir, "assignments", a))]
    src = os.path.join(REPO_ROOT, "source_data")
    if os.path.isdir(src):
        written += [f"source_data/{r}" for r in _copy_tree(src, os.path.join(out_dir, "source_data"))]
    # Student-side requirements: the grader's own tooling (nbgrader, the full jupyter metapackage) is
    # not needed, but Jupyter is.
    deps = [d for d in _project_dependencies() if not d.startswith(("nbgrader", "nbclient"))]
    pyproject = "\n".join([
        "[build-system]",
        'requires = ["setuptools>=64"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        'name = "regnorm-lab-student"',
        'version = "0.1.0"',
        'description = "regnorm-lab: notebooks and visible self-checks"',
        'requires-python = ">=3.10"',
        "dependencies = [" + ", ".join(json.dumps(d) for d in deps) + "]",
        "",
        "[tool.setuptools.packages.find]",
        'include = ["autograder*"]',
        "",
        "[tool.setuptools.package-data]",
        '"autograder" = ["suites/*/goldens/*.json"]',
        "",
    ])
    extra = {
        "pyproject.toml": pyproject,
        "requirements.txt": "\n".join(deps) + "\n",
        "README.md": STUDENT_README,
    }
    for name, text in extra.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as fh:
            fh.write(text)
        written.append(name)
    return written


#: Solution lines that give nothing away (signatures, the generator the docstring prescribes, ...).
BOILERPLATE = re.compile(r"^(def |class |@|super\(\)\.__init__\(|with torch\.no_grad\(\):$|for .+ in .+:$|"
                         r"if .+:$|elif .+:$|else:$|try:$|except.*:$|"
                         r"return \w+(, \w+)*$|\w+ = torch\.Generator\(\)\.manual_seed\(\w+\)$|self\.(?P<attr>\w+) = (?P=attr)$)")


def solution_lines(assignment: str) -> set[str]:
    """Non-trivial lines between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` of a solution notebook:
    longer than 15 characters, not a comment, not :data:`BOILERPLATE`, and not published on purpose
    elsewhere in the same notebook (a formula in the text, the buggy class of a find-the-bugs cell)."""
    path = os.path.join(REPO_ROOT, "solutions", assignment, f"{assignment}.ipynb")
    if not os.path.isfile(path):
        return set()
    with open(path, encoding="utf-8") as fh:
        nb = json.load(fh)
    lines: set[str] = set()
    public: set[str] = set()
    for cell in nb["cells"]:
        inside = False
        src = cell.get("source", "")
        for line in ("".join(src) if isinstance(src, list) else src).splitlines():
            s = line.strip()
            if s == "### BEGIN SOLUTION":
                inside = True
            elif s == "### END SOLUTION":
                inside = False
            elif inside and len(s) > 15 and not s.startswith("#") and not BOILERPLATE.match(s):
                lines.add(s)
            elif not inside:
                public.add(s)
                public.update(part.strip() for part in s.split("`") if part.strip())  # `code` in markdown
    public_text = "\n".join(public)
    return {line for line in lines if line not in public_text}


def find_leaks(bundle_dir: str, assignments: list[str]) -> list[str]:
    """Everything in ``bundle_dir`` a student must not get: secret files, solution/hidden-test markers in
    notebooks, and any solution line of ``assignments``. Returns one description per leak."""
    leaks = []
    texts = {}
    for root, _dirs, files in os.walk(bundle_dir):
        for f in files:
            path = os.path.join(root, f)
            rel = os.path.relpath(path, bundle_dir).replace(os.sep, "/")
            if f in ("hidden.py", "mistakes.py", "hidden.json") or "__pycache__" in rel or rel.startswith("solutions/"):
                leaks.append(f"{rel}: instructor-only file")
            with open(path, encoding="utf-8", errors="replace") as fh:
                texts[rel] = fh.read()
    for rel, text in texts.items():
        if rel.endswith(".ipynb"):
            for marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "hidden=True"):
                if marker in text:
                    leaks.append(f"{rel}: contains {marker!r}")
    for a in assignments:
        for line in sorted(solution_lines(a)):
            leaks += [f"{rel}: solution line of {a}: {line}" for rel, text in texts.items() if line in text]
    return leaks


# -- Gradescope --------------------------------------------------------------------------------------------

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


def lock_down(package_dir: str) -> list[str]:
    """Make the secret files under ``package_dir`` (an ``autograder/`` folder) root-only (0600, their
    folders' caches 0700); returns the paths changed. Everything else stays world-readable, because the
    unprivileged student process imports the package's worker from there."""
    changed = []
    suites = os.path.join(package_dir, "suites")
    if not os.path.isdir(suites):
        return changed
    for entry in sorted(os.listdir(suites)):
        d = os.path.join(suites, entry)
        if not os.path.isdir(d):
            continue
        for rel in ("hidden.py", "mistakes.py", os.path.join("goldens", "hidden.json")):
            p = os.path.join(d, rel)
            if os.path.exists(p):
                os.chmod(p, 0o600)
                changed.append(p)
        cache = os.path.join(d, "__pycache__")
        os.makedirs(cache, exist_ok=True)
        os.chmod(cache, 0o700)  # compiled hidden.py / mistakes.py land here
        changed.append(cache)
    return changed


def _pick_notebooks(submission: str, assignment: str | None) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Choose what to grade in an upload: one notebook per assignment. Returns ([(path, assignment)], notes)."""
    from autograder.cli import find_notebooks
    from autograder.notebooks import NotebookError, detect_assignment, read_notebook

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


def temp_root(prefix: str = "regnorm-gs-") -> str:
    """A temporary folder the unprivileged user can traverse (pytest's tmp_path is 0700 under root)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path
