"""Every notebook in a real JupyterLab, in a real browser (Debian's Chromium driven by Playwright).

For each assignment:

- ``NN-student``: the generated student notebook (a temporary copy of ``assignments/NN/NN.ipynb``):
  Run All, then, as a student does after a cell stops the run, "Run Selected Cell and All Below" from the
  next cell until every cell ran. A student sees, in every self-check cell, the self-check's line
  (``name: visible checks 0/T points``), the friendly "`f` is not implemented yet" message and the
  hidden-points note; every stub is named by one of those messages; nothing but a stub's
  NotImplementedError stops a cell (or an error that follows from it: a NameError for what an earlier
  stopped cell was to define, an error on a line using a variable an earlier stopped cell was to fill).
- ``NN-bundle``: the same, in the student bundle (``python -m autograder student-bundle``: what students
  receive), with the kernel importing the bundle's own ``autograder``.
- ``NN-solution``: the solution notebook: Run All reaches the end without an error; every self-check
  (visible and hidden) passes; every cell that runs a tqdm loop (itself or through a notebook function)
  shows a progress bar widget while it runs, and no cell shows tqdm's text bar instead; every cell that
  shows figures has at least as many images in its output area as its source has ``plt.show()`` /
  ``display(fig)`` call sites (counted from the source); a data set loaded offline says so loudly.

Every case leaves a screenshot of the whole notebook (and the cells' outputs as JSON) in its temporary
folder; every failure message names the screenshot.

Run alone with ``pytest -m browser tests/browser`` (``-n 2`` spreads the cases over two workers).
"""

from __future__ import annotations

import ast
import json
import os
import re
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ASSIGNMENTS = sorted(name for name in os.listdir(os.path.join(REPO, "solutions"))
                     if os.path.isfile(os.path.join(REPO, "solutions", name, f"{name}.ipynb")))

# The solution notebooks train (about a minute each): they come first so that xdist starts them early.
CASES = ([pytest.param("solution", a, id=f"{a}-solution") for a in ASSIGNMENTS]
         + [pytest.param("student", a, id=f"{a}-student") for a in ASSIGNMENTS]
         + [pytest.param("bundle", a, id=f"{a}-bundle") for a in ASSIGNMENTS])

RUN_TIMEOUT = {"solution": 480, "student": 240, "bundle": 240}  # seconds, for the whole notebook

CHECK_CALL = re.compile(r"""^\s*(?:\w+\s*\+?=\s*)?check\(\s*["'](\w+)["']\s*(,\s*hidden\s*=\s*True\s*)?\)""", re.M)
CHECK_LINE = re.compile(r"^(\w+): (visible|hidden) checks ([\d.]+)/([\d.]+) points$", re.M)
HIDDEN_NOTE = re.compile(r"-> (visible checks passed|some visible checks failed); "
                         r"(?:[\d.]+ more points are graded by hidden checks|there are no hidden checks for this part)\.")
NOT_IMPLEMENTED = re.compile(r"`([\w.]+)` is not implemented yet \(it raises NotImplementedError")
STUB_DEF = re.compile(r"^(?:def|class)\s+(\w+)", re.M)
TOP_LEVEL_DEF = STUB_DEF
MISSING = re.compile(r"`(\w+)` is not defined: run the cell that defines it")
DATA_LOAD = re.compile(r"\bload_vision_dataset\(")
TEXT_BAR = re.compile(r"\d+%\|")  # tqdm's text bar ("100%|####|"), what shows when widgets do not work
FALLBACK_WARNING = re.compile(r"WARNING: .* is not available, using the offline fallback")

CELLS_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')].map(cell => ({
  code: cell.classList.contains('jp-CodeCell'),
  prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
  outputs: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => ({
    mime: o.getAttribute('data-mime-type') || '', text: o.textContent || ''})),
  images: cell.querySelectorAll('.jp-OutputArea-output img').length,
  progress: cell.querySelectorAll(
    '.jp-OutputArea-output .widget-hprogress, .jp-OutputArea-output .jupyter-widget-hprogress').length,
  progress_seen: Number(cell.dataset.regnormProgressSeen || 0),
}))"""
# Counts, on each cell, the progress bar widgets that ever appeared in it: a bar with leave=False is removed
# from the page when its loop ends, so what is left at the end does not tell whether it rendered.
WATCH_PROGRESS_JS = """() => {
  if (window.__regnormProgressWatch) return;
  window.__regnormProgressWatch = true;
  const selector = '.widget-hprogress, .jupyter-widget-hprogress';
  const seen = new WeakSet();
  const mark = (node) => {
    const found = [...node.querySelectorAll(selector)];
    if (node.matches(selector)) found.push(node);
    for (const bar of found) {
      if (seen.has(bar)) continue;
      seen.add(bar);
      const cell = bar.closest('.jp-Cell');
      if (cell) cell.dataset.regnormProgressSeen = String(Number(cell.dataset.regnormProgressSeen || 0) + 1);
    }
  };
  new MutationObserver(records => {
    for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1) mark(n);
  }).observe(document.body, {childList: true, subtree: true});
}"""
PROMPTS_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-CodeCell')].map(
  cell => (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '')"""
STATUS_JS = """() => {
  const s = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
  return s ? s.getAttribute('data-status') : null; }"""


def notebook_path(flavour: str, assignment: str) -> str:
    return f"{'solutions' if flavour == 'solution' else 'assignments'}/{assignment}/{assignment}.ipynb"


# --------------------------------------------------------------------------------------- driving the page

def open_notebook(page, server, rel_path: str) -> None:
    page.goto(server.url(rel_path))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_function(f"({STATUS_JS})() === 'idle'", timeout=90_000)  # the kernel started
    page.wait_for_function(f"({PROMPTS_JS})().every(p => p.length > 0)", timeout=60_000)  # every cell rendered
    page.evaluate(WATCH_PROGRESS_JS)
    # Hide the file browser: the notebook gets the width of the window (and of the screenshot).
    if page.locator("#jp-left-stack").is_visible():
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.keyboard.press("Escape")
        page.keyboard.press("Control+b")


def menu(page, menu_name: str, command: str) -> None:
    """Click ``menu_name`` in JupyterLab's menu bar, then the item running ``command``."""
    page.locator(".lm-MenuBar-item", has_text=menu_name).first.click()
    item = page.locator(f'li.lm-Menu-item[data-command="{command}"]')
    item.wait_for(state="visible")
    if "lm-mod-disabled" in (item.get_attribute("class") or ""):
        page.keyboard.press("Escape")
        raise RuntimeError(f"the menu item {command} is disabled")
    item.click()


def start_run(page, menu_name: str, command: str, target, attempts: int = 3) -> None:
    """Run ``command`` from the menu, with ``target`` (a cell's prompt) or the notebook selected, until a
    cell is queued or running, or got a new execution count (it failed too fast to be seen queued).

    On the first notebook a fresh JupyterLab opens, a Run All can be lost (nothing is queued, no error):
    it is tried again, up to ``attempts`` times."""
    reasons = []
    for _ in range(attempts):
        before = page.evaluate(PROMPTS_JS)
        if target is None:  # select the notebook itself
            page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        else:
            target.click()
        try:
            menu(page, menu_name, command)
            page.wait_for_function(
                f"(before) => {{ const now = ({PROMPTS_JS})(); "
                "return now.some(p => p.includes('*')) || now.some((p, i) => /\\[\\d+\\]/.test(p) && p !== before[i]); }",
                arg=before, timeout=20_000)
            return
        except Exception as exc:  # noqa: BLE001 - reported if every attempt fails
            reasons.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    raise RuntimeError(f"{command} did not start any cell after {attempts} attempts: {'; '.join(reasons)}")


def code_cells(cells: list[dict]) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(cells) if c["code"]]


class Stalled(RuntimeError):
    """The kernel is idle with nothing running or queued, yet the cell the run started from never ran."""


def wait_until_idle(page, started_cell: int, deadline: float, stall_after: float = 30.0) -> list[dict]:
    """Wait until code cell ``started_cell`` ran, no cell is running or queued and the kernel is idle
    (twice in a row, 0.4 s apart); returns the cells. Raises :class:`Stalled` when, for ``stall_after``
    seconds, nothing is running or queued and the kernel is idle but that cell has not run (a run that
    JupyterLab lost or cancelled: seen on a loaded CI runner, every prompt back to ``[ ]``)."""
    quiet = 0
    idle_since = None
    while True:
        prompts = page.evaluate(PROMPTS_JS)
        ran = re.search(r"\[\d+\]", prompts[started_cell]) is not None
        busy = any("*" in p for p in prompts) or page.evaluate(STATUS_JS) != "idle"
        if ran and not busy:
            quiet += 1
            if quiet >= 2:
                return page.evaluate(CELLS_JS)
        else:
            quiet = 0
        if not ran and not busy:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > stall_after:
                raise Stalled(f"nothing ran or was queued for {stall_after:g} s; prompts: {' '.join(prompts)}")
        else:
            idle_since = None
        if time.monotonic() > deadline:
            raise TimeoutError(f"the notebook was still running after its time limit; prompts: {' '.join(prompts)}")
        time.sleep(0.4)


def run_everything(page, timeout: float, continue_after_errors: bool, max_stalls: int = 3) -> tuple[list[dict], int]:
    """Run All; with ``continue_after_errors``, then "Run Selected Cell and All Below" from the first cell
    that did not run, until every code cell ran. A run that stalls (:class:`Stalled`) is started again from
    the first cell that did not run, at most ``max_stalls`` times. Returns the cells and how many runs
    were started."""
    deadline = time.monotonic() + timeout
    stalls: list[str] = []

    def run_from(first_pending: int | None) -> list[dict]:
        """Start a run (Run All when ``first_pending`` is None) and wait for it, restarting stalled runs."""
        while True:
            if first_pending is None:
                start_run(page, "Run", "runmenu:run-all", None)
            else:
                index = code_cells(page.evaluate(CELLS_JS))[first_pending][0]
                prompt = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index).locator(
                    ".jp-InputArea-prompt")
                prompt.scroll_into_view_if_needed()
                start_run(page, "Run", "notebook:run-all-below", prompt)
            try:
                return wait_until_idle(page, first_pending or 0, deadline)
            except Stalled as exc:
                stalls.append(str(exc))
                if len(stalls) > max_stalls:
                    raise RuntimeError(f"{len(stalls)} runs stalled: " + " | ".join(stalls)) from None
                cells = page.evaluate(CELLS_JS)
                pending = [k for k, (_, c) in enumerate(code_cells(cells)) if not re.search(r"\[\d+\]", c["prompt"])]
                first_pending = pending[0] if pending and pending[0] > 0 else None

    cells = run_from(None)
    runs = 1
    while continue_after_errors:
        pending = [k for k, (_, c) in enumerate(code_cells(cells)) if not re.search(r"\[\d+\]", c["prompt"])]
        if not pending:
            break
        cells = run_from(pending[0])
        runs += 1
        if runs > 60:
            raise RuntimeError("more than 60 runs and some cells still did not run")
    return cells, runs


def screenshot_notebook(page, path: str) -> None:
    """The whole notebook, top to bottom, in one PNG: the notebook's scrolling area is captured window by
    window and stitched (JupyterLab scrolls inside the page, so Playwright's full_page sees one window)."""
    from PIL import Image

    outer = ".jp-NotebookPanel .jp-WindowedPanel-outer"
    size = dict(page.viewport_size)
    page.set_viewport_size({"width": size["width"], "height": 4000})  # fewer windows to capture
    time.sleep(0.5)
    box = page.locator(outer).first.bounding_box()
    total = page.evaluate(f"() => document.querySelector('{outer}').scrollHeight")
    view = int(box["height"])
    shots, top = [], 0
    while True:
        page.evaluate(f"() => {{ document.querySelector('{outer}').scrollTop = {top}; }}")
        time.sleep(0.3)
        actual = page.evaluate(f"() => document.querySelector('{outer}').scrollTop")
        part = path + f".part{len(shots)}.png"
        page.screenshot(path=part, clip=box)
        shots.append((part, int(actual)))
        if top + view >= total or len(shots) >= 60:
            break
        top += view
    height = min(total, shots[-1][1] + view)
    sheet = Image.new("RGB", (int(box["width"]), height), "white")
    for part, offset in shots:
        with Image.open(part) as im:
            sheet.paste(im.convert("RGB"), (0, offset))
        os.remove(part)
    sheet.save(path)
    page.evaluate(f"() => {{ document.querySelector('{outer}').scrollTop = 0; }}")
    page.set_viewport_size(size)


def screenshot_cells(page, first: int, last: int, path: str, max_height: int = 2600) -> None:
    """Cells ``first``..``last`` (page indices) as they look in JupyterLab, with the menu and toolbar above
    them (for the documentation): the window grows (up to ``max_height``) until they fit."""
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    outer = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first
    size = dict(page.viewport_size)
    for k in range(last, first - 1, -1):  # lay out every cell of the excerpt (content-visibility skips others)
        cells.nth(k).scroll_into_view_if_needed()
        time.sleep(0.3)
    top, bottom, box = cells.nth(first).bounding_box(), cells.nth(last).bounding_box(), outer.bounding_box()
    below = size["height"] - (box["y"] + box["height"])  # the status bar
    height = int(min(max_height, box["y"] + (bottom["y"] + bottom["height"] - top["y"]) + 24 + below))
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    time.sleep(0.6)
    delta = cells.nth(first).bounding_box()["y"] - outer.bounding_box()["y"] - 4
    outer.evaluate("(el, d) => { el.scrollTop += d; }", delta)
    time.sleep(0.6)
    bottom = cells.nth(last).bounding_box()
    end = min(bottom["y"] + bottom["height"] + 8, page.viewport_size["height"])
    page.screenshot(path=path, clip={"x": 0, "y": 0, "width": size["width"], "height": end})
    page.set_viewport_size(size)


# ------------------------------------------------------------------------------------- what must be seen

def output_text(cell: dict) -> str:
    return "\n".join(o["text"] for o in cell["outputs"])


def errors_of(cell: dict) -> list[str]:
    """The tracebacks in a cell's output (JupyterLab renders an error as text with its traceback)."""
    return [o["text"] for o in cell["outputs"] if "Traceback (most recent call last)" in o["text"]
            or o["mime"] == "application/vnd.jupyter.error"]


def error_name(traceback: str) -> str:
    found = re.search(r"^(\w+(?:Error|Exception|Interrupt|Exit))\b", traceback, re.M)
    return found.group(1) if found else traceback.strip().splitlines()[-1][:120]


def describe(index: int, source: str) -> str:
    first = next((line for line in source.splitlines() if line.strip()), "")
    return f"cell {index} ({first[:70]!r})"


def _call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else "?"
        return f"{owner}.{func.attr}"
    return None


def _walk_outside_defs(nodes):
    """Every node of ``nodes`` except what lies inside function, class and lambda bodies (what the cell
    itself executes)."""
    todo = list(nodes)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def _is_bar(call: ast.Call) -> bool:
    """A tqdm progress bar that is not switched off (``disable=...`` makes it optional: not expected)."""
    return _call_name(call) in ("tqdm", "trange") and not any(k.arg == "disable" for k in call.keywords)


def _is_figure(call: ast.Call) -> bool:
    name = _call_name(call)
    return name == "plt.show" or (name == "display" and bool(call.args) and isinstance(call.args[0], ast.Name)
                                  and call.args[0].id.startswith("fig"))


def _effects(source: str) -> tuple[list[ast.Call], dict[str, list[ast.Call]]]:
    """The calls a cell makes itself, and the calls inside each function it defines."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics); such cells are not counted on
        return [], {}
    own = [n for n in _walk_outside_defs(tree.body) if isinstance(n, ast.Call)]
    functions = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
    return own, functions


def expected_from_source(nb: dict) -> list[dict]:
    """What each cell's source says it will show. A cell shows a progress bar when it runs a tqdm loop
    itself or calls a notebook function that does (directly or through other notebook functions), and
    at least as many figures as it has ``plt.show()``/``display(fig)`` call sites, counting one for each
    call of a notebook function that shows one."""
    sources, parsed, functions = [], [], {}
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        sources.append(src)
        own, defs = _effects(src) if cell["cell_type"] == "code" else ([], {})
        parsed.append(own)
        functions.update(defs)

    def closure(direct) -> set[str]:
        marked = {name for name, calls in functions.items() if any(direct(c) for c in calls)}
        while True:
            more = {name for name, calls in functions.items() if name not in marked
                    and any(_call_name(c) in marked for c in calls)}
            if not more:
                return marked
            marked |= more

    with_bar, with_figure = closure(_is_bar), closure(_is_figure)
    out = []
    for cell, src, own in zip(nb["cells"], sources, parsed):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        code = cell["cell_type"] == "code"
        calls = CHECK_CALL.findall(src) if code else []
        out.append({
            "code": code,
            "source": src,
            "visible_checks": [name for name, hidden in calls if not hidden],
            "hidden_checks": [name for name, hidden in calls if hidden],
            "stub_names": STUB_DEF.findall(src) if code and meta.get("solution") and "NotImplementedError" in src else [],
            "tqdm": any(_is_bar(c) or _call_name(c) in with_bar for c in own),
            "figures": sum(1 for c in own if _is_figure(c) or _call_name(c) in with_figure),
            "loads_data": code and DATA_LOAD.search(src) is not None,
        })
    return out


def _follows_a_stopped_cell(traceback: str, stopped_sources: list[str]) -> bool:
    """An error caused by an earlier cell that stopped: a NameError for a name that cell was to define, or
    an error on a line that uses a variable that cell was to fill (05: a dict of models left empty)."""
    missing = re.search(r"NameError: name '(\w+)' is not defined", traceback)
    if missing:
        return any(re.search(rf"\b{missing.group(1)}\b", src) for src in stopped_sources)
    arrow = re.search(r"^-+> *\d+ (.*)$", traceback, re.M)  # the cell's own line that raised
    names = set(re.findall(r"\b([A-Za-z_]\w*)\b", arrow.group(1))) if arrow else set()
    return any(re.search(rf"^\s*{name}\b\s*(?:\[[^\]\n]*\])?\s*=(?!=)", src, re.M)
               for name in names for src in stopped_sources)


def student_problems(expected: list[dict], cells: list[dict]) -> list[str]:
    problems, announced, stopped = [], set(), []
    defined = {name for exp in expected if exp["code"] for name in TOP_LEVEL_DEF.findall(exp["source"])}
    stubs = {name for exp in expected for name in exp["stub_names"]}
    not_implemented_by_exercise: dict[str, set[str]] = {}
    for i, (exp, cell) in enumerate(zip(expected, cells)):
        if not exp["code"]:
            continue
        text = output_text(cell)
        announced.update(NOT_IMPLEMENTED.findall(text))
        for name in exp["visible_checks"]:
            not_implemented_by_exercise.setdefault(name, set()).update(NOT_IMPLEMENTED.findall(text))
        for tb in errors_of(cell):
            if error_name(tb) != "NotImplementedError" and not _follows_a_stopped_cell(tb, stopped):
                problems.append(f"{describe(i, exp['source'])} stopped with {error_name(tb)} (only a stub's "
                                f"NotImplementedError, or what follows from an earlier cell that stopped, "
                                f"is expected in an untouched notebook):\n{tb[-800:]}")
        if errors_of(cell):
            stopped.append(exp["source"])
        for name in exp["visible_checks"]:
            lines = [m for m in CHECK_LINE.findall(text) if m[0] == name and m[1] == "visible"]
            if not lines:
                problems.append(f"{describe(i, exp['source'])}: no self-check line `{name}: visible checks 0/T points` "
                                f"in its output:\n{text[:800]}")
            elif float(lines[0][2]) != 0:
                problems.append(f"{describe(i, exp['source'])}: the untouched stub earns {lines[0][2]}/{lines[0][3]} points")
            undefined_stubs = [m for m in MISSING.findall(text) if m not in defined]
            wrongly_missing = [m for m in MISSING.findall(text) if m in defined]
            if "is not implemented yet" not in text and not undefined_stubs:
                problems.append(f"{describe(i, exp['source'])}: the self-check of `{name}` does not say what is not "
                                f"implemented yet:\n{text[:800]}")
            if wrongly_missing:
                problems.append(f"{describe(i, exp['source'])}: the self-check says {', '.join(wrongly_missing)} is not "
                                f"defined, but the notebook defines it (did its cell fail?):\n{text[:800]}")
            if not HIDDEN_NOTE.search(text):
                problems.append(f"{describe(i, exp['source'])}: the self-check of `{name}` has no hidden-points note "
                                f"('-> ...; N more points are graded by hidden checks.'):\n{text[:800]}")
            if errors_of(cell):
                problems.append(f"{describe(i, exp['source'])}: the self-check cell raised instead of reporting")
    for i, exp in enumerate(expected):
        names = exp["stub_names"]
        # A stub is named by a message, or its own self-check names the unfinished stub it depends on
        # (03's batchnorm_backward is checked on batchnorm_forward's cache: forward is what is missing).
        through_dependency = any(a.split(".")[0] in stubs for n in names
                                 for a in not_implemented_by_exercise.get(n, ()))
        if names and not through_dependency and not any(a == n or a.startswith(n + ".") for n in names for a in announced):
            problems.append(f"{describe(i, exp['source'])}: no self-check says that its stub ({', '.join(names)}) is "
                            f"not implemented yet (announced: {', '.join(sorted(announced)) or 'nothing'})")
    return problems


def solution_problems(expected: list[dict], cells: list[dict]) -> list[str]:
    problems = []
    for i, (exp, cell) in enumerate(zip(expected, cells)):
        if not exp["code"]:
            continue
        text, where = output_text(cell), describe(i, exp["source"])
        if not re.search(r"\[\d+\]", cell["prompt"]) and exp["source"].strip():  # JupyterLab skips empty cells
            problems.append(f"{where} did not run (prompt {cell['prompt']!r})")
        for tb in errors_of(cell):
            problems.append(f"{where} raised {error_name(tb)}:\n{tb[-1500:]}")
        found = CHECK_LINE.findall(text)
        for kind, names in (("visible", exp["visible_checks"]), ("hidden", exp["hidden_checks"])):
            for name in names:
                lines = [m for m in found if m[0] == name and m[1] == kind]
                if not lines:
                    problems.append(f"{where}: no `{name}: {kind} checks` line in its output:\n{text[:800]}")
                elif float(lines[0][2]) != float(lines[0][3]):
                    problems.append(f"{where}: the solution earns {lines[0][2]}/{lines[0][3]} on the {kind} checks of "
                                    f"`{name}`:\n{text[:1500]}")
        if exp["visible_checks"] and "-> visible checks passed;" not in text:
            problems.append(f"{where}: the self-check does not say 'visible checks passed':\n{text[:800]}")
        if exp["tqdm"] and max(cell["progress"], cell["progress_seen"]) == 0:
            problems.append(f"{where} runs a tqdm loop but no progress bar widget appeared in its output")
        if TEXT_BAR.search(text) or "IProgress not found" in text or "Error displaying widget" in text:
            problems.append(f"{where}: a progress bar did not render as a widget:\n{text[:500]}")
        if exp["figures"] and cell["images"] < exp["figures"]:
            problems.append(f"{where} shows {exp['figures']} figure(s) in its source but its output area has "
                            f"{cell['images']} image(s)")
        if exp["loads_data"] and not (FALLBACK_WARNING.search(text) or "(torchvision, " in text):
            problems.append(f"{where} loads a data set but its output says neither which one ran (torchvision) nor, "
                            f"loudly, that it fell back offline ('WARNING: ... using the offline fallback'):\n{text[:500]}")
    return problems


# ------------------------------------------------------------------------------------------------ the test

@pytest.mark.browser
@pytest.mark.parametrize(("flavour", "assignment"), CASES)
def test_notebook_in_jupyterlab(flavour, assignment, lab, page, tmp_path):
    server = lab("bundle" if flavour == "bundle" else "repo")
    rel = notebook_path(flavour, assignment)
    with open(os.path.join(server.root, rel), encoding="utf-8") as fh:
        expected = expected_from_source(json.load(fh))
    shot = str(tmp_path / f"{assignment}-{flavour}.png")
    where = f"{flavour} notebook {rel} (served from {server.root})"
    cells, failure = [], None
    started = time.monotonic()
    try:
        open_notebook(page, server, rel)
        cells, runs = run_everything(page, RUN_TIMEOUT[flavour], continue_after_errors=flavour != "solution")
    except Exception as exc:  # noqa: BLE001 - reported below with the screenshot
        failure = f"{type(exc).__name__}: {exc}"
        runs = 0
    finally:
        try:
            screenshot_notebook(page, shot)
        except Exception as exc:  # noqa: BLE001
            shot += f" (could not be taken: {exc})"
        if cells:
            with open(str(tmp_path / f"{assignment}-{flavour}.cells.json"), "w", encoding="utf-8") as fh:
                json.dump(cells, fh, indent=1)
        server.shutdown_kernels()
    elapsed = time.monotonic() - started
    if failure:
        pytest.fail(f"{where}: {failure}\nscreenshot: {shot}\njupyter lab log (end):\n{server.log_tail(1500)}",
                    pytrace=False)
    assert len(cells) == len(expected), (f"{where}: the page shows {len(cells)} cells, the notebook has "
                                         f"{len(expected)}\nscreenshot: {shot}")
    assert any(exp["visible_checks"] for exp in expected), f"{rel} has no self-check cell\nscreenshot: {shot}"
    problems = solution_problems(expected, cells) if flavour == "solution" else student_problems(expected, cells)
    assert not problems, (f"{where} ({runs} run(s), {elapsed:.0f} s): {len(problems)} problem(s):\n- "
                          + "\n- ".join(problems) + f"\nscreenshot: {shot}")
