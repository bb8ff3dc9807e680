"""One-off migration of a suite package to the layout of docs/AUTHORING.md (temporary; delete when every
suite has migrated):

- ``__init__.py`` (``suite = Suite("NN_name", ...)``) disappears: ``checks.py`` creates ``suite = Suite(__name__)``;
- ``hidden.py`` / ``mistakes.py`` / fixtures import it as ``from autograder.suites.sNN_name.checks import suite``;
- ``goldens/`` becomes ``references/``.

    python tools/migrate_suite.py s05_dropout [...]     # or no argument: every suite folder
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITES = os.path.join(REPO, "autograder", "suites")


def migrate(name: str) -> list[str]:
    d = os.path.join(SUITES, name)
    changed = []
    init = os.path.join(d, "__init__.py")
    checks = os.path.join(d, "checks.py")
    if not os.path.exists(checks):
        return [f"{name}: no checks.py yet, left alone"]
    plain = re.compile(rf"^from autograder\.suites\.{name} import suite\s*$", re.M)
    for fname in sorted(os.listdir(d)):
        path = os.path.join(d, fname)
        if not fname.endswith(".py") or fname == "__init__.py":
            continue
        text = open(path, encoding="utf-8").read()
        new = text
        if fname == "checks.py" and plain.search(text):
            new = plain.sub("from autograder.checks import Suite", text)
            lines = new.splitlines(keepends=True)
            last_import = max(i for i, line in enumerate(lines) if line.startswith(("import ", "from ")))
            lines.insert(last_import + 1, "\nsuite = Suite(__name__)\n")
            new = "".join(lines)
        elif fname != "checks.py":
            new = plain.sub(f"from autograder.suites.{name}.checks import suite", text)
        if new != text:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(new)
            changed.append(path)
    if os.path.exists(init):
        if "suite = Suite(__name__)" in open(checks, encoding="utf-8").read():
            os.unlink(init)
            changed.append(init + " (deleted)")
        else:
            changed.append(f"{name}: checks.py does not create the suite; __init__.py kept")
    old, new_dir = os.path.join(d, "goldens"), os.path.join(d, "references")
    if os.path.isdir(old) and not os.path.exists(new_dir):
        os.rename(old, new_dir)
        changed.append(f"{old} -> references/")
    py = [p for p in changed if p.endswith(".py")]
    if py:
        subprocess.run([sys.executable, "-m", "ruff", "check", "--fix", "-q", "--select", "I,E303", *py], cwd=REPO,
                       check=False)
    return changed


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(e for e in os.listdir(SUITES) if re.fullmatch(r"s\d\d_[a-z0-9_]+", e))
    for n in names:
        for line in migrate(n):
            print(line)
