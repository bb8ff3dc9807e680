"""No suite compares with a bare float tolerance (issue 7): tolerances are named in autograder/compare.py (the
tiers used through ``close`` / ``expect_equal`` / ``expect_reference``, ``GRADIENT_TOLERANCE``, ``DISTINCT``,
``at_most`` / ``at_least``) or are documented module constants of the suite (e.g. 08's statistical tolerances).

What counts as a literal tolerance, found with ``ast`` in every ``autograder/suites/*/checks.py`` and
``hidden.py``:

- a float literal of magnitude below 0.05 anywhere inside an ordering comparison (``<``, ``<=``, ``>``, ``>=``),
  e.g. ``err < 1e-7``, ``abs(rate - p) <= Z * se + 1e-12``, ``w.max() <= bound * (1 + 1e-6)``. Larger literals
  in comparisons are bounds from the specification (``lo > 0.9`` for a momentum), not tolerances; f-strings
  and titles are text, not comparisons;
- a float literal passed as ``atol=`` / ``rtol=`` / ``tol=``;
- any call of ``allclose`` / ``isclose`` / ``assert_allclose`` (they bring their own tolerances: use
  ``compare.close(expected, actual, tier)``).

A literal that is not a tolerance may be allowlisted below with the reason.
"""

from __future__ import annotations

import ast
import glob
import os

from helpers import REPO

ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
TOLERANCE_KEYWORDS = ("atol", "rtol", "tol")
OWN_TOLERANCE_CALLS = ("allclose", "isclose", "assert_allclose")
SMALL = 0.05

#: (path relative to the repository, text of the line, stripped) -> why the literal there is not a tolerance.
ALLOWED: dict[tuple[str, str], str] = {}


def _small_floats(node: ast.AST):
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and type(n.value) is float and 0 < abs(n.value) < SMALL:
            yield n


def literal_tolerances(source: str) -> list[tuple[int, str]]:
    """(line, why) of every literal tolerance in ``source`` (see the module docstring)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(isinstance(op, ORDER) for op in node.ops):
            found += [(n.lineno, f"{n.value!r} in a comparison") for n in _small_floats(node)]
        elif isinstance(node, ast.keyword) and node.arg in TOLERANCE_KEYWORDS:
            found += [(n.lineno, f"{node.arg}={n.value!r}") for n in _small_floats(node.value)]
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in OWN_TOLERANCE_CALLS:
                found.append((node.lineno, f"{name}(...) brings its own tolerances"))
    return sorted(set(found))


def test_the_detector_finds_literal_tolerances_and_nothing_else():
    bad = [
        "ctx.expect(res['bn_train_vs_eval'] > 1e-2, 'msg')",
        "ok = err < 1e-7",
        "ctx.expect(abs(rate - p) <= Z * se + 1e-12, 'msg')",
        "ok = float(w.abs().max()) <= bound * (1 + 1e-6)",
        "ctx.expect(all(abs(q - p) < 1e-12 for q in ps), 'msg')",
        "ctx.expect(torch.allclose(a, b), 'msg')",
        "ok = np.isclose(a, b)",
        "ok = helper(a, b, atol=1e-5)",
    ]
    good = [
        "ctx.expect(lo > 0.9 and hi < high, 'msg')",
        "ctx.expect(close(0.0, x, 'composite'), f'value {x:.3g} above {1e-2}')",
        "ok = distinct(a, 0.0) and at_most(w, bound, 'op')",
        "se = math.sqrt(max(p * (1 - p), 1e-12) / n)",
        "STD_TOL = 0.03",
        "@suite.check('f', points=1, title='relative error < 1e-7')\ndef c(ctx):\n    pass",
        "ok = count >= 200 and rate == 0.5",
    ]
    for src in bad:
        assert literal_tolerances(src), src
    for src in good:
        assert not literal_tolerances(src), src


def test_no_suite_compares_with_a_literal_tolerance():
    files = sorted(glob.glob(os.path.join(REPO, "autograder", "suites", "*", "checks.py"))
                   + glob.glob(os.path.join(REPO, "autograder", "suites", "*", "hidden.py")))
    assert len(files) >= 10
    offenders = []
    for path in files:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
        lines = source.splitlines()
        rel = os.path.relpath(path, REPO)
        for line, why in literal_tolerances(source):
            text = lines[line - 1].strip()
            if (rel, text) not in ALLOWED:
                offenders.append(f"{rel}:{line}: {why}: {text}")
    assert not offenders, "literal tolerances (use the named tiers of autograder/compare.py):\n" + "\n".join(offenders)


def test_the_allowlist_has_no_stale_entries():
    for (rel, text), reason in ALLOWED.items():
        with open(os.path.join(REPO, rel), encoding="utf-8") as fh:
            assert text in [ln.strip() for ln in fh], f"allowlisted line gone from {rel}: {text} ({reason})"
