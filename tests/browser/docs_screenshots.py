"""The screenshots in docs/STUDENTS.md, taken with the browser test's own machinery (not a test).

    .venv/bin/python tests/browser/docs_screenshots.py [OUT_DIR]   # default: docs/img

- ``student-notebook.png``: the untouched student notebook of 01 after Run All: a self-check's line, the
  friendly "not implemented yet" message and the hidden-points note;
- ``solved-notebook.png``: the same student notebook with the stubs filled in (the solution's code pasted
  into the stub cells, as a student who solved it has it) after Run All: a passing self-check and a plot.

Both are cut from a 1400-pixel-wide window (as tall as the excerpt needs) and scaled down to 1000 pixels
wide, in 256 colours (PNG, well under 300 KB).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from browser_setup import CHROMIUM_ARGS, REPO, LabServer, ensure_chromium  # noqa: E402
from test_jupyterlab import expected_from_source, open_notebook, run_everything, screenshot_cells  # noqa: E402

ASSIGNMENT = "01_data_splits"
WIDTH = 1000


def solved_copy(student: dict, solution: dict) -> dict:
    """The student notebook with each stub cell's source replaced by the solution's cell of the same grade_id."""
    by_id = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in solution["cells"]}
    for cell in student["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution") and meta.get("grade_id") in by_id:
            source = by_id[meta["grade_id"]]["source"]
            source = "".join(source) if isinstance(source, list) else source
            cell["source"] = "".join(line for line in source.splitlines(keepends=True)
                                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    return student


def excerpt(page, expected: list[dict], solved: bool) -> tuple[int, int]:
    """The first self-check cell; for the solved notebook, the last self-check followed by a figure."""
    checks = [i for i, e in enumerate(expected) if e["visible_checks"]]
    if not solved:
        return checks[0], checks[0]
    for i in reversed(checks):
        later = [j for j in range(i + 1, min(i + 3, len(expected))) if expected[j]["figures"]]
        if later:
            return i, later[0]
    raise RuntimeError("no self-check followed by a figure")


def main(out_dir: str) -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    home = tempfile.mkdtemp(prefix="regnorm-docs-")
    root = os.path.join(home, "root", ASSIGNMENT)
    os.makedirs(root)
    with open(os.path.join(REPO, "assignments", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), encoding="utf-8") as fh:
        student = json.load(fh)
    with open(os.path.join(REPO, "solutions", ASSIGNMENT, f"{ASSIGNMENT}.ipynb"), encoding="utf-8") as fh:
        solution = json.load(fh)
    notebooks = {"student-notebook": student, "solved-notebook": solved_copy(json.loads(json.dumps(student)), solution)}
    for name, nb in notebooks.items():
        with open(os.path.join(root, f"{name}.ipynb"), "w", encoding="utf-8") as fh:
            json.dump(nb, fh, indent=1)
    server = LabServer(os.path.join(home, "root"), home)
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                os.path.join(home, "profile"), executable_path=ensure_chromium(), headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(60_000)
            os.makedirs(out_dir, exist_ok=True)
            for name, nb in notebooks.items():
                solved = name == "solved-notebook"
                open_notebook(page, server, f"{ASSIGNMENT}/{name}.ipynb")
                run_everything(page, 600, continue_after_errors=not solved)
                first, last = excerpt(page, expected_from_source(nb), solved)
                raw = os.path.join(home, f"{name}.png")
                # The untouched one with the stub's cell above its self-check.
                screenshot_cells(page, first if solved else first - 1, last, raw)
                with Image.open(raw) as im:
                    im = im.convert("RGB")
                    im = im.resize((WIDTH, round(im.height * WIDTH / im.width)), Image.LANCZOS)
                    im = im.convert("P", palette=Image.ADAPTIVE, colors=256)  # a screenshot: 256 colours are plenty
                    im.save(os.path.join(out_dir, f"{name}.png"), optimize=True)
                print(f"wrote {os.path.join(out_dir, name + '.png')}")
            context.close()
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "docs", "img"))
