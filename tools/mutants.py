"""A small ``ast``-based mutant generator for the solution code of an exercise.

No mutation library is installed here (mutmut, cosmic-ray and mutatest are not in the environment,
and they mutate files on disk rather than a notebook cell), so this module implements the operators
issue 8 asks for, on the code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of a cell (or
a whole ``def``/``class`` when the cell has no markers):

========================  =====================================================================
operator                  what it does
========================  =====================================================================
``binop``                 ``+ - * / // % ** @`` swapped for a related operator
``drop-term``             ``a + b`` / ``a - b`` / ``a * b`` / ``a / b`` replaced by ``a`` or ``b``
``inplace``               ``a + b`` → ``a.add_(b)`` (likewise sub/mul/div): the left operand is
                          modified in place; ``x.add_(y)`` → ``x.add(y)`` and ``a -= b`` →
                          ``a = a - b`` the other way round
``unary``                 a unary ``-`` or ``not`` removed
``compare``               ``== != < <= > >= is is-not in not-in`` swapped
``boolop``                ``and`` ↔ ``or``
``const``                 a number changed (n±1, ×10, ÷10, 0↔1), ``True`` ↔ ``False``
``dim``                   ``dim=``/``axis=`` value changed (0 → 1, 1 → 0, -1 → 0, ...)
``drop-kwarg``            a keyword argument removed (the callee's default is used instead)
``default``               every use of a parameter that has a default replaced by that default
                          (the argument is ignored)
``swap-args``             two positional arguments of a call swapped
``drop-call``             ``x.abs()`` / ``x.sqrt()`` / ``x.clone()`` / ... → ``x``
``slice``                 a slice bound or a constant index off by one
``detach``                an assigned or returned value wrapped in a detach (tensors only)
``no-grad``               the solution's statements run under ``torch.no_grad()``; an existing
                          ``with torch.no_grad():`` removed
``delete``                a statement replaced by ``pass``
========================  =====================================================================

Usage::

    from tools.mutants import solution_regions, generate
    for m in generate(cell_source):
        print(m.line, m.operator, m.description)
        exec(compile(m.source, "<mutant>", "exec"), namespace)

A mutant's ``source`` is the whole cell, re-emitted by :func:`ast.unparse` (comments are lost,
semantics kept). Mutants are generated in a fixed order, so ``Mutant.key`` is stable for a given
source.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

#: Helper the ``detach`` operator calls; the runner defines it in the mutant's namespace.
DETACH_HELPER = "__mutant_detach__"
DETACH_SOURCE = (f"def {DETACH_HELPER}(v):\n"
                 "    import torch\n"
                 "    return v.detach() if isinstance(v, torch.Tensor) else v\n")

_BINOP_SWAPS = {
    ast.Add: [ast.Sub, ast.Mult], ast.Sub: [ast.Add], ast.Mult: [ast.Div, ast.Add], ast.Div: [ast.Mult, ast.FloorDiv],
    ast.FloorDiv: [ast.Div], ast.Mod: [ast.FloorDiv], ast.Pow: [ast.Mult], ast.MatMult: [ast.Mult],
}
_CMP_SWAPS = {
    ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.GtE],
    ast.Gt: [ast.GtE, ast.Lt], ast.GtE: [ast.Gt, ast.LtE], ast.Is: [ast.IsNot], ast.IsNot: [ast.Is],
    ast.In: [ast.NotIn], ast.NotIn: [ast.In],
}
_INPLACE = {ast.Add: "add_", ast.Sub: "sub_", ast.Mult: "mul_", ast.Div: "div_"}
_OUTPLACE = {"add_": "add", "sub_": "sub", "mul_": "mul", "div_": "div", "clamp_": "clamp", "copy_": None,
             "zero_": None, "fill_": None, "pow_": "pow", "sqrt_": "sqrt", "neg_": "neg", "abs_": "abs"}
_DROPPABLE_CALLS = {"abs", "sqrt", "clone", "detach", "t", "float", "double", "contiguous", "exp", "log", "sign",
                    "squeeze", "unsqueeze", "flatten", "item", "sum", "mean", "rsqrt", "neg", "square"}
_DIM_KEYWORDS = {"dim", "axis", "dims", "start_dim", "end_dim"}
_OP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
            ast.Pow: "**", ast.MatMult: "@", ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=",
            ast.Gt: ">", ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
            ast.And: "and", ast.Or: "or"}


@dataclass
class Mutant:
    """One mutation of a cell: where, what, and the whole mutated cell's source."""

    index: int
    line: int           # line number in the cell (1-based)
    operator: str
    description: str    # e.g. "`var + eps` -> `var`"
    source: str

    @property
    def key(self) -> str:
        return f"L{self.line}:{self.operator}:{self.description}"


def solution_regions(source: str) -> list[tuple[int, int]]:
    """Line ranges (1-based, inclusive) between BEGIN/END SOLUTION markers; [] when there are none."""
    regions, start = [], None
    for i, line in enumerate(source.splitlines(), start=1):
        if BEGIN in line:
            start = i + 1
        elif END in line and start is not None:
            regions.append((start, i - 1))
            start = None
    return regions


def defined_region(source: str, name: str) -> list[tuple[int, int]]:
    """The line range of the top-level ``def``/``class`` called ``name`` (for cells without markers)."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            body = node.body
            first = body[1] if (len(body) > 1 and isinstance(body[0], ast.Expr)
                                and isinstance(getattr(body[0], "value", None), ast.Constant)) else body[0]
            return [(first.lineno, node.end_lineno)]
    return []


def _seg(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001
        text = type(node).__name__
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= 60 else text[:57] + "..."


def _in_regions(node: ast.AST, regions: list[tuple[int, int]]) -> bool:
    line = getattr(node, "lineno", None)
    end = getattr(node, "end_lineno", line)
    return line is not None and any(a <= line and end <= b for a, b in regions)


def _num_variants(value) -> list:
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        out = [value + 1, value - 1] if value not in (0, 1) else ([1] if value == 0 else [0, 2])
        return out
    if isinstance(value, float):
        if value == 0.0:
            return [1.0]
        if value == 1.0:
            return [0.0, 2.0]
        return [value * 10, value / 10]
    return []


# Each operator: (node, info) -> list of (operator, description, transform) where transform maps the
# node (in a fresh copy of the tree) to its replacement (a node, or a list of statements).
Transform = Callable[[ast.AST], object]


def _ops_for(node: ast.AST, info: dict) -> list[tuple[str, str, Transform]]:
    out: list[tuple[str, str, Transform]] = []
    if isinstance(node, ast.BinOp):
        for new in _BINOP_SWAPS.get(type(node.op), []):
            out.append(("binop", f"`{_OP_TEXT[type(node.op)]}` -> `{_OP_TEXT[new]}` in `{_seg(node)}`",
                        lambda n, new=new: ast.BinOp(n.left, new(), n.right)))
        if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
            out.append(("drop-term", f"`{_seg(node)}` -> `{_seg(node.left)}`", lambda n: n.left))
            out.append(("drop-term", f"`{_seg(node)}` -> `{_seg(node.right)}`", lambda n: n.right))
        if type(node.op) in _INPLACE and isinstance(node.left, (ast.Name, ast.Attribute, ast.Subscript)):
            meth = _INPLACE[type(node.op)]
            out.append(("inplace", f"`{_seg(node)}` -> `{_seg(node.left)}.{meth}(...)`",
                        lambda n, meth=meth: ast.Call(ast.Attribute(n.left, meth, ast.Load()), [n.right], [])))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        out.append(("unary", f"`{_seg(node)}` -> `{_seg(node.operand)}`", lambda n: n.operand))
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        for new in _CMP_SWAPS.get(type(node.ops[0]), []):
            out.append(("compare", f"`{_OP_TEXT[type(node.ops[0])]}` -> `{_OP_TEXT[new]}` in `{_seg(node)}`",
                        lambda n, new=new: ast.Compare(n.left, [new()], n.comparators)))
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append(("boolop", f"`{_OP_TEXT[type(node.op)]}` -> `{_OP_TEXT[new]}` in `{_seg(node)}`",
                    lambda n, new=new: ast.BoolOp(new(), n.values)))
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not info.get("dim_kw"):
        for v in _num_variants(node.value):
            out.append(("const", f"`{node.value!r}` -> `{v!r}`", lambda n, v=v: ast.Constant(v)))
    elif isinstance(node, ast.keyword) and node.arg:
        if node.arg in _DIM_KEYWORDS:
            val = node.value
            current = val.value if isinstance(val, ast.Constant) else (
                -val.operand.value if isinstance(val, ast.UnaryOp) and isinstance(val.operand, ast.Constant) else None)
            if isinstance(current, int) and not isinstance(current, bool):
                for v in {0: [1], 1: [0], -1: [0, -2]}.get(current, [current - 1]):
                    out.append(("dim", f"`{node.arg}={current}` -> `{node.arg}={v}`",
                                lambda n, v=v: ast.keyword(n.arg, ast.Constant(v) if v >= 0 else
                                                           ast.UnaryOp(ast.USub(), ast.Constant(-v)))))
        out.append(("drop-kwarg", f"keyword `{node.arg}={_seg(node.value)}` removed", lambda n: None))
    elif isinstance(node, ast.Call):
        if len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
            out.append(("swap-args", f"arguments 1 and 2 of `{_seg(node.func)}` swapped",
                        lambda n: ast.Call(n.func, [n.args[1], n.args[0], *n.args[2:]], n.keywords)))
        if isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            if attr in _DROPPABLE_CALLS and not node.args and not node.keywords:
                out.append(("drop-call", f"`{_seg(node)}` -> `{_seg(node.func.value)}`", lambda n: n.func.value))
            if attr in _OUTPLACE and _OUTPLACE[attr]:
                out.append(("inplace", f"`.{attr}(...)` -> `.{_OUTPLACE[attr]}(...)` (result discarded if unused)",
                            lambda n, a=_OUTPLACE[attr]: ast.Call(ast.Attribute(n.func.value, a, ast.Load()),
                                                                  n.args, n.keywords)))
    elif isinstance(node, ast.Slice):
        for field in ("lower", "upper"):
            bound = getattr(node, field)
            if bound is not None:
                for sign in (ast.Add, ast.Sub):
                    out.append(("slice", f"slice {field} bound `{_seg(bound)}` {'+' if sign is ast.Add else '-'} 1",
                                lambda n, field=field, sign=sign: _with_bound(n, field, sign)))
    elif isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        out.append(("inplace", f"`{_seg(node)}` -> out of place (`x = x {_OP_TEXT[type(node.op)]} ...`)",
                    lambda n: ast.Assign([_store(n.target)], ast.BinOp(_load(n.target), n.op, n.value))))
    return out


def _store(target: ast.expr) -> ast.expr:
    t = copy.deepcopy(target)
    t.ctx = ast.Store()
    return t


def _load(target: ast.expr) -> ast.expr:
    t = copy.deepcopy(target)
    t.ctx = ast.Load()
    return t


def _with_bound(node: ast.Slice, field: str, sign) -> ast.Slice:
    new = copy.copy(node)
    setattr(new, field, ast.BinOp(getattr(node, field), sign(), ast.Constant(1)))
    return new


def _stmt_ops(node: ast.stmt, info: dict) -> list[tuple[str, str, Transform]]:
    out: list[tuple[str, str, Transform]] = []
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.If, ast.For, ast.With,
                         ast.Continue, ast.Break)) and not info.get("only_stmt"):
        out.append(("delete", f"statement `{_seg(node)}` deleted", lambda n: ast.Pass()))
    if isinstance(node, ast.Assign) and info.get("in_function"):
        out.append(("detach", f"`{_seg(node.value)}` detached",
                    lambda n: ast.Assign(n.targets, _detach(n.value))))
    if isinstance(node, ast.Return) and node.value is not None:
        out.append(("detach", f"returned `{_seg(node.value)}` detached", lambda n: ast.Return(_detach(n.value))))
    if isinstance(node, ast.With) and any("no_grad" in _seg(item.context_expr) for item in node.items):
        out.append(("no-grad", "`with torch.no_grad():` removed (its body runs with autograd)", lambda n: n.body))
    return out


def _detach(value: ast.expr) -> ast.expr:
    return ast.Call(ast.Name(DETACH_HELPER, ast.Load()), [value], [])


def _sites(tree: ast.AST, regions: list[tuple[int, int]], params: dict) -> list[tuple[int, str, str, Transform, int]]:
    """(walk index, operator, description, transform, line) for every mutation site in ``regions``."""
    sites = []
    nodes = list(ast.walk(tree))
    parents = {child: parent for parent in nodes for child in ast.iter_child_nodes(parent)}
    for i, node in enumerate(nodes):
        if isinstance(node, ast.keyword):
            line_node = node.value
        else:
            line_node = node
        if not _in_regions(line_node, regions):
            continue
        info = {"in_function": _inside(node, parents, (ast.FunctionDef, ast.Lambda)),
                "dim_kw": isinstance(parents.get(node), ast.keyword) and parents[node].arg in _DIM_KEYWORDS}
        if isinstance(parents.get(node), ast.UnaryOp) and isinstance(node, ast.Constant):
            info["dim_kw"] = info["dim_kw"] or (isinstance(parents.get(parents[node]), ast.keyword)
                                                and parents[parents[node]].arg in _DIM_KEYWORDS)
        if _is_docstring(node, parents):
            continue
        ops = _stmt_ops(node, info) if isinstance(node, ast.stmt) else _ops_for(node, info)
        for op, desc, fn in ops:
            sites.append((i, op, desc, fn, line_node.lineno))
    return sites


def _inside(node, parents, kinds) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, kinds):
            return True
    return False


def _is_docstring(node, parents) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str))


def _replace(tree: ast.AST, index: int, transform: Transform) -> ast.AST:
    tree = copy.deepcopy(tree)
    nodes = list(ast.walk(tree))
    target = nodes[index]
    for parent in nodes:
        for field, value in ast.iter_fields(parent):
            if value is target:
                new = transform(target)
                setattr(parent, field, new)
                return tree
            if isinstance(value, list) and any(v is target for v in value):
                new = transform(target)
                k = next(j for j, v in enumerate(value) if v is target)
                if new is None:
                    value.pop(k)
                elif isinstance(new, list):
                    value[k:k + 1] = new
                else:
                    value[k] = new
                return tree
    raise LookupError("node not found")


class _SubstituteName(ast.NodeTransformer):
    """Replace loads of ``name`` inside ``regions`` by a copy of ``value``."""

    def __init__(self, name: str, value: ast.expr, regions):
        self.name, self.value, self.regions = name, value, regions

    def visit_Name(self, node):  # noqa: N802
        if node.id == self.name and isinstance(node.ctx, ast.Load) and _in_regions(node, self.regions):
            return copy.deepcopy(self.value)
        return node


def _param_default_mutants(tree: ast.AST, regions) -> Iterator[tuple[str, str, ast.AST, int]]:
    """For each function parameter with a default: every use in the solution replaced by the default."""
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        args = fn.args
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        for arg, default in pairs:
            uses = [n for n in ast.walk(fn) if isinstance(n, ast.Name) and n.id == arg.arg
                    and isinstance(n.ctx, ast.Load) and _in_regions(n, regions)]
            if not uses:
                continue
            new = copy.deepcopy(tree)
            new_fn = next(n for n in ast.walk(new) if isinstance(n, ast.FunctionDef) and n.name == fn.name
                          and n.lineno == fn.lineno)

            sub = _SubstituteName(arg.arg, default, regions)
            new_fn.body = [sub.visit(s) for s in new_fn.body]
            yield ("default", f"argument `{arg.arg}` ignored (its default `{_seg(default)}` used instead)", new,
                   uses[0].lineno)


def _no_grad_mutants(tree: ast.AST, regions) -> Iterator[tuple[str, str, ast.AST, int]]:
    """The statements of each solution region (inside a function) wrapped in ``with torch.no_grad():``."""
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        body = [s for s in fn.body if _in_regions(s, regions)]
        if not body or any(isinstance(n, ast.With) and "no_grad" in _seg(n) for s in body for n in ast.walk(s)):
            continue
        new = copy.deepcopy(tree)
        new_fn = next(n for n in ast.walk(new) if isinstance(n, ast.FunctionDef) and n.name == fn.name
                      and n.lineno == fn.lineno)
        idx = [i for i, s in enumerate(new_fn.body) if _in_regions(s, regions)]
        stmts = [new_fn.body[i] for i in idx]
        wrapped = ast.With([ast.withitem(ast.parse("__import__('torch').no_grad()", mode="eval").body)], stmts)
        new_fn.body = new_fn.body[:idx[0]] + [wrapped] + new_fn.body[idx[-1] + 1:]
        yield ("no-grad", f"body of `{fn.name}` run under torch.no_grad()", new, body[0].lineno)


def generate(source: str, name: str | None = None, regions: list[tuple[int, int]] | None = None) -> list[Mutant]:
    """Every mutant of the solution code in ``source`` (a notebook cell).

    ``regions``: line ranges to mutate (default: the BEGIN/END SOLUTION ranges, or the def/class
    ``name`` when the cell has no markers).
    """
    if regions is None:
        regions = solution_regions(source) or (defined_region(source, name) if name else [])
    tree = ast.parse(source)
    out: list[Mutant] = []
    seen: set[str] = set()
    original = ast.unparse(tree)

    def add(op, desc, new_tree, line):
        try:
            ast.fix_missing_locations(new_tree)
            text = ast.unparse(new_tree)
            compile(text, "<mutant>", "exec")
        except Exception:  # noqa: BLE001 - an operator produced invalid code here: skip it
            return
        if text == original or text in seen:
            return
        seen.add(text)
        out.append(Mutant(len(out), line, op, desc, text))

    for index, op, desc, fn, line in _sites(tree, regions, {}):
        try:
            new_tree = _replace(tree, index, fn)
        except Exception:  # noqa: BLE001
            continue
        add(op, desc, new_tree, line)
    for op, desc, new_tree, line in _param_default_mutants(tree, regions):
        add(op, desc, new_tree, line)
    for op, desc, new_tree, line in _no_grad_mutants(tree, regions):
        add(op, desc, new_tree, line)
    return out
