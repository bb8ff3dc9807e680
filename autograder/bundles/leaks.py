"""The leak scan: everything in a bundle a student must not get (secret files, solution and hidden-test
markers in notebooks, any solution line)."""

from __future__ import annotations

import os
import re

from autograder import paths
from autograder.bundles import SECRET_FILES
from autograder.notebooks import read_notebook

#: Solution lines that give nothing away (signatures, the generator the docstring prescribes, ...).
BOILERPLATE = re.compile(r"^(def |class |@|super\(\)\.__init__\(|with torch\.no_grad\(\):$|for .+ in .+:$|"
                         r"if .+:$|elif .+:$|else:$|try:$|except.*:$|"
                         r"return \w+(, \w+)*$|\w+ = torch\.Generator\(\)\.manual_seed\(\w+\)$|self\.(?P<attr>\w+) = (?P=attr)$)")


def solution_lines(assignment: str) -> set[str]:
    """Non-trivial lines between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` of a solution notebook:
    longer than 15 characters, not a comment, not :data:`BOILERPLATE`, and not published on purpose
    elsewhere in the same notebook (a formula in the text, the buggy class of a find-the-bugs cell)."""
    path = paths.solution_notebook(assignment)
    if not os.path.isfile(path):
        return set()
    nb = read_notebook(path)
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
            if f in {os.path.basename(s) for s in SECRET_FILES} or "__pycache__" in rel or rel.startswith("solutions/"):
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


