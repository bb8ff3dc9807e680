"""The student bundle: what students clone or download (see :mod:`autograder.bundles`)."""

from __future__ import annotations

import json
import os

from autograder.bundles import PACKAGE_DIR, REPO_ROOT, copy_file, copy_tree, package_files
from autograder.paths import REFERENCES


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
        copy_file(os.path.join(PACKAGE_DIR, rel), os.path.join(out_dir, "autograder", rel))
        written.append("autograder/" + rel)
    for a in selected:
        src = os.path.join(REPO_ROOT, "assignments", a)
        if os.path.isdir(src):
            written += [f"assignments/{a}/{r}" for r in copy_tree(src, os.path.join(out_dir, "assignments", a))]
    src = os.path.join(REPO_ROOT, "source_data")
    if os.path.isdir(src):
        written += [f"source_data/{r}" for r in copy_tree(src, os.path.join(out_dir, "source_data"))]
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
        f'"autograder" = ["suites/*/{REFERENCES}/*.json"]',
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


