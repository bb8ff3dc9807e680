"""Mutation testing of an assignment's checks (issue 8, DESIGN.md §7).

For each exercise (a suite group = the ``grade_id`` of a solution cell) the solution code is
mutated by :mod:`tools.mutants`; each mutant is swapped into a fresh in-process namespace of the
solution notebook (every graded cell run again, the mutated cell in place of the original, so
helpers that call the stub by name call the mutant) and graded with the suite's own checks and
recorded references through :class:`autograder.student.LocalStudent` — the same proxy, codec and
check code as ``autograder grade``, without the sandbox.

A mutant that loses points on any check is **killed**. One that keeps full marks is then
**probed**: every call the checks make is replayed on the solution and on the mutant side by side
(:class:`DiffStudent`), on the checks' own inputs, on inputs drawn from other seeds (each
``ctx.gen(seed)`` re-seeded) and, for plain function calls, with float32 inputs cast to float64;
results, the arguments after the call (in-place changes), autograd state (``requires_grad``,
``grad_fn``, ``.grad``), module parameters/buffers/``training`` and whether outputs are the inputs
themselves or share their storage are compared. If nothing differs the mutant is **equivalent**
(discarded); otherwise it **survived** — the checks missed a behaviour the probe can see.

Optional per-assignment hooks, in the suite's instructor-only ``mistakes.py``:

- ``MUTATION_ACCEPTED = {"exercise": {"<substring of a mutant key>": "why it is acceptable"}}``
  documents survivors (they still count as survived; the reason is printed next to them);
- ``MUTATION_PROBES = {"exercise": [fn(ctx), ...]}``: extra probe code run like a check (with
  ``ctx.call`` etc.) in the equivalence probe, for behaviour the checks' own calls do not reach.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import resource
import signal
import sys
import time
import types
from dataclasses import asdict, dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from tools.mutants import DETACH_SOURCE, Mutant, defined_region, solution_regions  # noqa: E402

# ------------------------------------------------------------------------------------------------
# exercises and namespaces


@dataclass
class Exercise:
    name: str            # the suite group (= grade_id of the solution cell)
    cell_index: int      # index in nb["cells"]
    source: str          # the cell's source
    regions: list        # line ranges mutated


def solution_notebook(assignment: str) -> str:
    return os.path.join(REPO, "solutions", assignment, f"{assignment}.ipynb")


def _cell_source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def find_exercises(assignment: str, nb: dict | None = None) -> list[Exercise]:
    """One :class:`Exercise` per suite group that has a solution cell in the solution notebook."""
    from autograder.notebooks import read_notebook
    from autograder.suites import load_suite

    nb = nb or read_notebook(solution_notebook(assignment))
    suite = load_suite(assignment, hidden=True)
    out = []
    for group in suite.exercises():
        found = None
        for i, cell in enumerate(nb["cells"]):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id") == group:
                found = i
                break
        if found is None:  # a cell that defines the name
            for i, cell in enumerate(nb["cells"]):
                src = _cell_source(cell)
                if cell.get("cell_type") == "code" and (f"def {group}(" in src or f"class {group}" in src):
                    found = i
                    break
        if found is None:
            continue
        src = _cell_source(nb["cells"][found])
        regions = solution_regions(src)
        own = defined_region(src, group)
        if own and regions:
            lo, hi = own[0][0] - 1, own[0][1]
            inside = [r for r in regions if lo <= r[0] and r[1] <= hi]
            regions = inside or regions
        out.append(Exercise(group, found, src, regions or own))
    return out


def build_namespace(assignment: str, nb: dict, replace: dict[int, str] | None = None) -> dict:
    """Run the notebook's graded cells (as the grader picks them) in a fresh dict, in this process.

    ``replace`` maps cell indices to other sources (the mutant). Trusted code only. Raises what a
    cell raises.
    """
    from autograder.notebooks import cells_to_run

    replace = replace or {}
    ns: dict = {"__name__": "__main__"}
    exec(DETACH_SOURCE, ns)
    cwd = os.getcwd()
    try:
        os.chdir(os.path.dirname(solution_notebook(assignment)))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for cell in cells_to_run(nb):
                source = replace.get(cell.index, cell.source)
                exec(compile(source, f"<cell {cell.index}>", "exec"), ns)
    finally:
        os.chdir(cwd)
    return ns


def load_hooks(assignment: str) -> tuple[dict, dict]:
    """``MUTATION_ACCEPTED`` and ``MUTATION_PROBES`` from the suite's mistakes module (optional)."""
    import importlib

    from autograder import paths

    try:
        mod = importlib.import_module(paths.suite_package(assignment) + ".mistakes")
    except ModuleNotFoundError:
        return {}, {}
    return getattr(mod, "MUTATION_ACCEPTED", {}), getattr(mod, "MUTATION_PROBES", {})


# ------------------------------------------------------------------------------------------------
# grading


def load_references(assignment: str) -> dict:
    """``{check_name: {case_key: [expectation, ...]}}``, visible and hidden."""
    from autograder import references

    return dict(references.load(assignment, hidden=True).checks)


def grade_namespace(ns: dict, checks, references: dict, stop_early: bool = True) -> list:
    """Run ``checks`` on ``ns`` in process; stop at the first check that loses points if asked."""
    from autograder.checks import run_check
    from autograder.student import LocalStudent

    student = LocalStudent(ns, call_timeout=20.0)
    results = []
    for check in checks:
        r = run_check(check, student, references.get(check.name))
        results.append(r)
        if stop_early and r.score < r.points:
            break
    return results


# ------------------------------------------------------------------------------------------------
# the equivalence probe


class Different(Exception):
    pass


F32_RTOL, F32_ATOL = 2e-6, 1e-7
F64_RTOL, F64_ATOL = 1e-8, 1e-12


def _close_tensor(a, b, path: str, rtol: float, atol: float) -> str | None:
    import torch

    if type(a).__name__ != type(b).__name__:
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"{path}: {a.dtype} {list(a.shape)} vs {b.dtype} {list(b.shape)}"
    if a.requires_grad != b.requires_grad:
        return f"{path}: requires_grad {a.requires_grad} vs {b.requires_grad}"
    if (a.grad_fn is None) != (b.grad_fn is None):
        return f"{path}: grad_fn {a.grad_fn is None} vs {b.grad_fn is None}"
    x, y = a.detach(), b.detach()
    if x.is_complex() or x.is_floating_point():
        x64, y64 = x.to(torch.complex128 if x.is_complex() else torch.float64), y.to(
            torch.complex128 if y.is_complex() else torch.float64)
        nan_x, nan_y = torch.isnan(x64), torch.isnan(y64)
        if not torch.equal(nan_x, nan_y):
            return f"{path}: NaN pattern differs"
        fin = torch.isfinite(x64) & torch.isfinite(y64)
        if not torch.equal(torch.isinf(x64), torch.isinf(y64)) or not torch.equal(x64[~fin & ~nan_x], y64[~fin & ~nan_y]):
            return f"{path}: inf pattern differs"
        if x64.numel():
            scale = float(x64[fin].abs().max()) if bool(fin.any()) else 0.0
            dev = float((x64[fin] - y64[fin]).abs().max()) if bool(fin.any()) else 0.0
            if x.dtype == torch.float64 and not (rtol > F32_RTOL):
                rtol_, atol_ = F64_RTOL, F64_ATOL
            else:
                rtol_, atol_ = rtol, atol
            if dev > atol_ + rtol_ * scale:
                return f"{path}: values differ by {dev:.3g} (scale {scale:.3g})"
    elif not torch.equal(x, y):
        return f"{path}: values differ"
    if a.is_leaf and (a.grad is not None or b.grad is not None):
        if (a.grad is None) != (b.grad is None):
            return f"{path}.grad: {a.grad is None} vs {b.grad is None}"
        return _close_tensor(a.grad, b.grad, path + ".grad", rtol, atol)
    return None


def compare(a, b, path: str = "value", rtol: float = F32_RTOL, atol: float = F32_ATOL, depth: int = 0,
            seen: set | None = None) -> str | None:
    """The first difference between ``a`` (solution side) and ``b`` (mutant side), or None."""
    import numpy as np
    import torch
    import torch.nn as nn

    seen = set() if seen is None else seen
    if depth > 6 or a is b:  # the very same object on both sides (e.g. a module, torch's globals) cannot differ
        return None
    if isinstance(a, types.ModuleType) or isinstance(b, types.ModuleType):
        return None if getattr(a, "__name__", a) == getattr(b, "__name__", b) else f"{path}: {a!r} vs {b!r}"
    if isinstance(a, BaseException) or isinstance(b, BaseException):
        if type(a).__name__ != type(b).__name__:
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
        return None
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
        return _close_tensor(a, b, path, rtol, atol)
    if type(a).__name__ != type(b).__name__:
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
            return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, (bool, str, type(None), bytes)):
        return None if a == b else f"{path}: {a!r} vs {b!r}"
    if isinstance(a, (int, float, complex, np.number)):
        fa, fb = complex(a), complex(b)
        if fa == fb:  # also inf == inf, which the tolerance below (inf - inf = nan) would call different
            return None
        if math.isinf(abs(fa)) or math.isinf(abs(fb)):  # inf vs -inf or a finite number: the tolerance is inf
            return f"{path}: {a!r} vs {b!r}"
        if math.isnan(fa.real) or math.isnan(fb.real):
            return None if (math.isnan(fa.real) and math.isnan(fb.real)) else f"{path}: {a!r} vs {b!r}"
        return None if abs(fa - fb) <= 1e-9 + rtol * abs(fa) else f"{path}: {a!r} vs {b!r}"
    if isinstance(a, np.ndarray):
        return compare(torch.as_tensor(a), torch.as_tensor(b), path, rtol, atol, depth + 1, seen)
    if isinstance(a, torch.Generator):
        return None if torch.equal(a.get_state(), b.get_state()) else f"{path}: generator state differs"
    if isinstance(a, (torch.dtype, torch.device, torch.Size)):
        return None if str(a) == str(b) else f"{path}: {a} vs {b}"
    if id(a) in seen:
        return None
    seen.add(id(a))
    if isinstance(a, nn.Module):
        if a.training != b.training:
            return f"{path}.training: {a.training} vs {b.training}"
        pa, pb = list(a.named_parameters()), list(b.named_parameters())
        if [n for n, _ in pa] != [n for n, _ in pb]:
            return f"{path}: parameters {[n for n, _ in pa]} vs {[n for n, _ in pb]}"
        for (n, x), (_, y) in zip(pa, pb):
            d = _close_tensor(x, y, f"{path}.{n}", rtol, atol)
            if d:
                return d
        ba, bb = list(a.named_buffers()), list(b.named_buffers())
        if [n for n, _ in ba] != [n for n, _ in bb]:
            return f"{path}: buffers {[n for n, _ in ba]} vs {[n for n, _ in bb]}"
        for (n, x), (_, y) in zip(ba, bb):
            d = _close_tensor(x, y, f"{path}.{n}", rtol, atol)
            if d:
                return d
        if [type(m).__name__ for m in a.modules()] != [type(m).__name__ for m in b.modules()]:
            return f"{path}: submodules differ"
        ok_a, ok_b = _deepcopies(a), _deepcopies(b)
        if ok_a != ok_b:
            return f"{path}: copy.deepcopy works {ok_a} vs {ok_b}"
        return None
    if isinstance(a, torch.optim.Optimizer):
        return compare(a.param_groups, b.param_groups, path + ".param_groups", rtol, atol, depth + 1, seen)
    if isinstance(a, dict):
        if list(map(repr, a.keys())) != list(map(repr, b.keys())):
            if sorted(map(repr, a.keys())) != sorted(map(repr, b.keys())):
                return f"{path}: keys {sorted(map(repr, a))} vs {sorted(map(repr, b))}"
        kb = {repr(k): v for k, v in b.items()}
        for k, v in a.items():
            d = compare(v, kb[repr(k)], f"{path}[{k!r}]", rtol, atol, depth + 1, seen)
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = compare(x, y, f"{path}[{i}]", rtol, atol, depth + 1, seen)
            if d:
                return d
        return None
    if callable(a) and not hasattr(a, "__dict__"):
        return None
    if hasattr(a, "__dict__") and not isinstance(a, type) and not callable(a):
        return compare(vars(a), vars(b), path, rtol, atol, depth + 1, seen)
    return None


def _deepcopies(module) -> bool:
    try:
        copy.deepcopy(module)
        return True
    except Exception:  # noqa: BLE001
        return False


def _tensor_paths(obj, path: str = "", out: dict | None = None, depth: int = 0) -> dict:
    """{id(tensor): path} and {("storage", ptr): path} for tensors reachable in ``obj``."""
    import torch
    import torch.nn as nn

    out = {} if out is None else out
    if depth > 5:
        return out
    if isinstance(obj, torch.Tensor):
        out.setdefault(id(obj), path)
        try:
            if obj.numel():
                out.setdefault(("storage", obj.untyped_storage().data_ptr()), path)
        except Exception:  # noqa: BLE001
            pass
    elif isinstance(obj, nn.Module):
        for n, p in obj.named_parameters():
            _tensor_paths(p, f"{path}.{n}", out, depth + 1)
        for n, b in obj.named_buffers():
            _tensor_paths(b, f"{path}.{n}", out, depth + 1)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _tensor_paths(v, f"{path}[{k!r}]", out, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _tensor_paths(v, f"{path}[{i}]", out, depth + 1)
    return out


def provenance(result, inputs) -> list:
    """For each tensor in ``result`` (in walk order): which input it is, or whose storage it shares."""
    known = _tensor_paths(inputs)
    found = _tensor_paths(result)
    tags = []
    import torch

    def walk(obj, depth=0):
        if depth > 5:
            return
        if isinstance(obj, torch.Tensor):
            if id(obj) in known:
                tags.append(("is", known[id(obj)]))
            else:
                try:
                    key = ("storage", obj.untyped_storage().data_ptr()) if obj.numel() else None
                except Exception:  # noqa: BLE001
                    key = None
                tags.append(("shares", known[key]) if key in known else ("new",))
        elif isinstance(obj, dict):
            for v in obj.values():
                walk(v, depth + 1)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                walk(v, depth + 1)

    del found
    walk(result)
    return tags


def _to_float64(obj):
    import torch

    if isinstance(obj, torch.Tensor) and obj.dtype == torch.float32 and not obj.requires_grad:
        return obj.to(torch.float64)
    if isinstance(obj, list):
        return [_to_float64(v) for v in obj]
    if isinstance(obj, tuple) and type(obj) is tuple:
        return tuple(_to_float64(v) for v in obj)
    if isinstance(obj, dict) and type(obj) is dict:
        return {k: _to_float64(v) for k, v in obj.items()}
    return obj


def _has_ref(data) -> bool:
    if isinstance(data, dict):
        if data.get("__t__") in ("ref", "make"):
            return True
        return any(_has_ref(v) for v in data.values())
    if isinstance(data, list):
        return any(_has_ref(v) for v in data)
    return False


from autograder.student import Student  # noqa: E402


class DiffStudent(Student):
    """A :class:`~autograder.student.Student` that runs every request on the solution and on the
    mutant side by side, records the first behavioural difference, and answers with the solution's
    reply (so the check goes on exactly as it would for the solution)."""

    def __init__(self, sol_ns: dict, mut_ns: dict, float64_variant: bool = True):
        from autograder.sandbox.worker import Worker

        self.sol, self.mut = Worker(-1, -1), Worker(-1, -1)
        self.sol.ns, self.mut.ns = sol_ns, mut_ns
        self.ref_map: dict[int, int] = {}
        self.difference: str | None = None
        self.float64_variant = float64_variant
        self.calls = 0
        self.call_timeout = 20.0
        self.shadows: dict[int, list] = {}

    def _differ(self, what: str) -> None:
        if self.difference is None:
            self.difference = what

    def _translate(self, data):
        if isinstance(data, dict):
            if data.get("__t__") == "ref":
                if int(data["id"]) not in self.ref_map:
                    raise Different("an object the solution returned has no counterpart")
                return {**data, "id": self.ref_map[int(data["id"])]}
            return {k: self._translate(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self._translate(v) for v in data]
        return data

    def _map_refs(self, a, b) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            if a.get("__t__") == "ref" and b.get("__t__") == "ref":
                self.ref_map[int(a["id"])] = int(b["id"])
                return
            for k in a:
                if k in b:
                    self._map_refs(a[k], b[k])
        elif isinstance(a, list) and isinstance(b, list):
            for x, y in zip(a, b):
                self._map_refs(x, y)

    def _witnesses(self, msg):
        """A :class:`~autograder.sandbox.worker.GraphWitness` per side when the call asks for one (``witness_graph``)."""
        from autograder.sandbox.worker import GraphWitness

        if not msg.get("witness_graph"):
            return None, None
        return GraphWitness(self.sol._saved_hooks), GraphWitness(self.mut._saved_hooks)

    @staticmethod
    def _invoke(worker, msg, cast: bool = False, obj=None, witness=None):
        from autograder import wire
        from autograder.sandbox.worker import _seed_everything

        if obj is not None:
            method = msg["target"].get("method")
            fn = obj if method in (None, "__call__") else getattr(obj, str(method))
        else:
            fn = worker._target(msg["target"])
        args = [wire.decode(a, worker.resolve) for a in msg.get("args", [])]
        kwargs = {k: wire.decode(v, worker.resolve) for k, v in msg.get("kwargs", {}).items()}
        if cast:
            args, kwargs = _to_float64(args), _to_float64(kwargs)
        if msg.get("seed") is not None:
            _seed_everything(int(msg["seed"]))
        try:
            with contextlib.redirect_stdout(io.StringIO()), witness or contextlib.nullcontext():
                value = fn(*args, **kwargs)
            return value, args, kwargs, None
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, (KeyboardInterrupt, SystemExit)) and not isinstance(exc, SystemExit):
                raise
            return None, args, kwargs, exc

    def _encode_reply(self, worker, value, args, exc, return_args: bool, keep: bool = False) -> dict:
        from autograder import wire

        if exc is not None:
            kind = "not_implemented" if isinstance(exc, NotImplementedError) else "exception"
            return {"ok": False, "error": {"kind": kind, "type": type(exc).__name__, "message": str(exc)[:500],
                                           "traceback": ""}}
        if keep:
            value = worker.keep(value)
        if return_args:
            value = {"result": value, "args": list(args)}
        try:
            return {"ok": True, "value": wire.encode(value, keep=worker.keep)}
        except Exception as e:  # noqa: BLE001
            return {"ok": False, "error": {"kind": "exception", "type": "UnsendableResult", "message": str(e),
                                           "traceback": ""}}

    def _request(self, msg: dict, timeout: float) -> dict:
        from autograder import wire
        from autograder.sandbox.worker import describe

        msg = wire.loads(wire.dumps(msg))
        op = msg["op"]
        self.calls += 1
        if op == "call":
            try:
                sol_w, mut_w = self._witnesses(msg)
                sol_v, sol_a, sol_k, sol_e = self._invoke(self.sol, msg, witness=sol_w)
            except LookupError:
                return self.sol.call(msg)
            reply = self._encode_reply(self.sol, sol_v, sol_a, sol_e, bool(msg.get("return_args")), bool(msg.get("keep")))
            if sol_w is not None and reply.get("ok"):
                reply["graph_saved"] = sol_w.count
            try:
                mmsg = self._translate(msg)
                mut_v, mut_a, mut_k, mut_e = self._invoke(self.mut, mmsg, witness=mut_w)
            except Different as exc:
                self._differ(str(exc))
                return reply
            except LookupError:
                self._differ("the mutant namespace lacks the target")
                return reply
            if sol_w is not None and (sol_w.count == 0) != (mut_w.count == 0):
                self._differ(f"{_describe_msg(msg)}: autograd saved {sol_w.count} vs {mut_w.count} tensors for backward")
            d = (compare(sol_e, mut_e, "exception") if (sol_e or mut_e) else None) or \
                compare(sol_v, mut_v, "result") or compare(sol_a, mut_a, "args after the call") or \
                compare(sol_k, mut_k, "kwargs after the call")
            if not d and sol_e is None and mut_e is None:
                pa, pm = provenance(sol_v, [sol_a, sol_k]), provenance(mut_v, [mut_a, mut_k])
                if pa != pm:
                    d = f"result aliasing: {pa} vs {pm}"
            if d:
                self._differ(f"{_describe_msg(msg)}: {d}")
            mreply = self._encode_reply(self.mut, mut_v, mut_a, mut_e, bool(msg.get("return_args")), bool(msg.get("keep")))
            if reply.get("ok") and mreply.get("ok"):
                self._map_refs(reply["value"], mreply["value"])
            if self.float64_variant and "name" in msg["target"] and not _has_ref(msg) and self.difference is None:
                self._float64_probe(msg)
            if self.difference is None:
                self._argument_variants(msg, reply)
            return reply
        if op == "getattr":
            sol_obj = self.sol.objects.get(int(msg["ref"]))
            mid = self.ref_map.get(int(msg["ref"]))
            reply = self.sol.getattr(msg)
            if mid is None:
                self._differ("getattr on an object without counterpart")
                return reply
            mreply = self.mut.getattr({**msg, "ref": mid})
            try:
                a = getattr(sol_obj, msg["name"])
            except Exception as e:  # noqa: BLE001
                a = e
            try:
                b = getattr(self.mut.objects[mid], msg["name"])
            except Exception as e:  # noqa: BLE001
                b = e
            d = compare(a, b, f"attribute {msg['name']}")
            if d:
                self._differ(d)
            if reply.get("ok") and mreply.get("ok"):
                self._map_refs(reply["value"], mreply["value"])
            return reply
        if op == "describe":
            reply = self.sol.describe(msg)
            mid = self.ref_map.get(int(msg["ref"]))
            if mid is not None:
                a = describe(self.sol.objects[int(msg["ref"])])
                b = describe(self.mut.objects[mid])
                if a != b:
                    self._differ(f"structure {a} vs {b}")
            return reply
        if op == "handles":  # the same builtins and torch globals on both sides
            reply, mreply = self.sol.handles(msg), self.mut.handles(msg)
            self._map_refs(reply["value"], mreply["value"])
            return reply
        if op == "forget":
            self.sol.forget(msg)
            self.mut.forget(msg)
            self.ref_map.clear()
            self.shadows.clear()
            return {"ok": True, "value": None}
        if op == "has":
            a, b = self.sol.has(msg), self.mut.has(msg)
            if a != b:
                self._differ(f"has({msg['name']}) differs")
            return a
        return {"ok": False, "error": {"kind": "protocol", "message": f"bad op {op}"}}

    def _argument_variants(self, msg: dict, reply: dict) -> None:
        """Replay the call with one plain argument changed at a time (every default included), so a
        mutant that ignores or hard-codes an argument differs. Objects built by such a variant call
        (a module built with other constructor arguments) become *shadows*: later method calls on
        the original object are replayed on them too."""
        target = msg["target"]
        if "probe" in target:
            return
        if "name" not in target:
            key = int(target["ref"])
            for label, s_obj, m_obj in self.shadows.get(key, []):
                try:
                    sv, sa, sk, se = self._invoke(self.sol, msg, obj=s_obj)
                    mv, ma, mk, me = self._invoke(self.mut, self._translate(msg), obj=m_obj)
                except Exception:  # noqa: BLE001
                    continue
                if se is not None:
                    continue
                d = compare(se, me, "exception") if me else None
                d = d or compare(sv, mv, f"result ({label})") or compare(sa, ma, f"args after the call ({label})") \
                    or compare(s_obj, m_obj, f"the object ({label})")
                if d:
                    self._differ(f"{_describe_msg(msg)}: {d}")
                    return
            return
        fn = self.sol.ns.get(target["name"])
        for label, vmsg in _perturbed_messages(fn, msg):
            try:
                sv, sa, sk, se = self._invoke(self.sol, vmsg)
                mv, ma, mk, me = self._invoke(self.mut, self._translate(vmsg))
            except Exception:  # noqa: BLE001
                continue
            if se is not None:
                continue
            d = (compare(se, me, "exception") if me else None) or compare(sv, mv, f"result ({label})") \
                or compare(sa, ma, f"args after the call ({label})")
            if d:
                self._differ(f"{_describe_msg(msg)}: {d}")
                return
            value = reply.get("value") if reply.get("ok") else None
            if isinstance(value, dict) and value.get("__t__") == "ref" and me is None:
                self.shadows.setdefault(int(value["id"]), []).append((label, sv, mv))

    def _float64_probe(self, msg: dict) -> None:
        try:
            sol_v, sol_a, _, sol_e = self._invoke(self.sol, msg, cast=True)
        except Exception:  # noqa: BLE001
            return
        if sol_e is not None:
            return
        mut_v, mut_a, _, mut_e = self._invoke(self.mut, msg, cast=True)
        d = (compare(sol_e, mut_e, "exception") if mut_e else None) or \
            compare(sol_v, mut_v, "result (float64 inputs)", F64_RTOL, F64_ATOL) or \
            compare(sol_a, mut_a, "args after the call (float64 inputs)", F64_RTOL, F64_ATOL)
        if d:
            self._differ(f"{_describe_msg(msg)}: {d}")


def _perturb(value):
    """Another plausible value of a plain argument (None when there is none)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        if value == 0.0:
            return 0.3
        return value * 100 if abs(value) < 1e-2 else value * 1.7
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                          for v in value):
        rotated = list(value[1:]) + [value[0]]
        if rotated == list(value):
            rotated = [_perturb(v) for v in value]
        return type(value)(rotated)
    return None


def _perturbed_messages(fn, msg: dict):
    """(label, message) for each plain argument of the call changed once, and each default not passed."""
    import inspect

    from autograder import wire

    out = []
    for i, a in enumerate(msg.get("args", [])):
        v = wire.decode(a) if not _has_ref(a) else None
        p = _perturb(v)
        if p is not None:
            args = list(msg["args"])
            args[i] = wire.encode(p)
            out.append((f"argument {i + 1} = {p!r}", {**msg, "args": args}))
    for k, a in msg.get("kwargs", {}).items():
        v = wire.decode(a) if not _has_ref(a) else None
        p = _perturb(v)
        if p is not None:
            out.append((f"{k}={p!r}", {**msg, "kwargs": {**msg["kwargs"], k: wire.encode(p)}}))
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    given = {p.name for p in positional[:len(msg.get("args", []))]} | set(msg.get("kwargs", {}))
    for p in params:
        if p.name in given or p.default is inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        new = _perturb(p.default)
        if new is not None:
            out.append((f"{p.name}={new!r} (not the default)", {**msg, "kwargs": {**msg.get("kwargs", {}),
                                                                           p.name: wire.encode(new)}}))
    return out


def _describe_msg(msg: dict) -> str:
    t = msg["target"]
    if "probe" in t:
        return f"probe {t['probe'].split(':')[-1]}"
    return t["name"] if "name" in t else f"<object>.{t.get('method')}"


def probe(sol_ns: dict, mut_ns: dict, checks, extra_probes=(), seeds: int = 4) -> str | None:
    """Replay every check's calls on both namespaces (the checks' cases, then ``seeds - 1`` re-seeded
    variants of them, plus ``extra_probes``); the first behavioural difference, or None."""
    import torch

    from autograder.checks import Context

    diff = DiffStudent(sol_ns, mut_ns)

    class ProbeContext(Context):
        offset = 0

        def gen(self, seed):  # noqa: D401 - same contract as Context.gen, other seeds for offset > 0
            return torch.Generator().manual_seed(int(seed) + 1_000_003 * self.offset)

    for k in range(seeds):
        for check in checks:
            for case in check.cases:
                ctx = ProbeContext(diff, check, recording=[])
                ctx.offset = k
                try:
                    check.run(ctx, **case)
                except Exception:  # noqa: BLE001 - the check's own expectations are not the point here
                    pass
                try:
                    diff.forget()
                except Exception:  # noqa: BLE001
                    pass
                if diff.difference:
                    return diff.difference
    for fn in extra_probes:
        for k in range(seeds):
            ctx = ProbeContext(diff, checks[0], recording=[])
            ctx.offset = k
            try:
                fn(ctx)
            except Exception:  # noqa: BLE001
                pass
            if diff.difference:
                return diff.difference
    return diff.difference


# ------------------------------------------------------------------------------------------------
# one mutant, in a forked child


@dataclass
class MutantResult:
    exercise: str
    index: int
    line: int
    operator: str
    description: str
    status: str                    # killed | survived | equivalent | error
    crashed: bool = False          # killed because the mutant raised (not by a value check)
    killed_by: list = field(default_factory=list)
    detail: str = ""               # first failing check's feedback, or the probe's difference
    seconds: float = 0.0
    accepted: str = ""             # reason from MUTATION_ACCEPTED, for a survivor

    @property
    def key(self) -> str:
        return f"L{self.line}:{self.operator}:{self.description}"


class State:
    """Everything the parent prepares once before forking children."""

    def __init__(self, assignment: str, exercise: str | None = None):
        from autograder.notebooks import read_notebook
        from autograder.suites import load_suite

        self.assignment = assignment
        self.nb = read_notebook(solution_notebook(assignment))
        self.suite = load_suite(assignment, hidden=True)
        self.references = load_references(assignment)
        self.exercises = [e for e in find_exercises(assignment, self.nb) if exercise in (None, e.name)]
        self.accepted, self.probes = load_hooks(assignment)
        self.sol_ns = build_namespace(assignment, self.nb)

    def checks_for(self, group: str) -> list:
        own = [c for c in self.suite.checks if c.exercise == group]
        return own + [c for c in self.suite.checks if c.exercise != group]


def evaluate(state: State, ex: Exercise, mutant: Mutant, seeds: int = 4, probe_killed: bool = False) -> MutantResult:
    """Grade one mutant in this process (call it in a forked child: the mutant may break things)."""
    import torch

    torch.set_num_threads(1)
    started = time.monotonic()
    res = MutantResult(ex.name, mutant.index, mutant.line, mutant.operator, mutant.description, "error")
    try:
        mut_ns = build_namespace(state.assignment, state.nb, {ex.cell_index: mutant.source})
    except BaseException as exc:  # noqa: BLE001
        res.status, res.crashed = "killed", True
        res.detail = f"the notebook no longer runs: {type(exc).__name__}: {exc}"[:300]
        return res
    results = grade_namespace(mut_ns, state.checks_for(ex.name), state.references)
    lost = [r for r in results if r.score < r.points]
    if lost:
        res.status = "killed"
        res.killed_by = [r.name for r in lost]
        fb = lost[0].feedback or ""
        res.crashed = " raised " in fb or "not implemented" in fb or "not defined" in fb
        res.detail = fb.splitlines()[0][:300] if fb else lost[0].status
        if probe_killed:
            sol_ns = build_namespace(state.assignment, state.nb)
            d = probe(sol_ns, mut_ns, [c for c in state.suite.checks if c.exercise == ex.name],
                      state.probes.get(ex.name, ()), seeds)
            if d is None:
                res.detail = "FALSE REJECTION (probe sees no difference): " + res.detail
    else:
        sol_ns = build_namespace(state.assignment, state.nb)
        checks = [c for c in state.suite.checks if c.exercise == ex.name] or state.suite.checks
        d = probe(sol_ns, mut_ns, checks, state.probes.get(ex.name, ()), seeds)
        if d is None:  # nothing differs on the exercise's own calls: try every check's calls
            d = probe(sol_ns, mut_ns, state.suite.checks, (), 1)
        res.status = "equivalent" if d is None else "survived"
        res.detail = d or ""
        if d is not None:
            for pattern, reason in state.accepted.get(ex.name, {}).items():
                if pattern in res.key:
                    res.accepted = reason
    res.seconds = round(time.monotonic() - started, 3)
    return res


def run_mutants(state: State, work: list[tuple[Exercise, Mutant]], jobs: int = 1, timeout: float = 60.0,
                seeds: int = 4, probe_killed: bool = False, progress=None) -> list[MutantResult]:
    """Evaluate each (exercise, mutant) in its own forked child, ``jobs`` at a time."""
    results: list[MutantResult] = []
    pending = list(work)
    running: dict[int, tuple] = {}  # pid -> (read fd, exercise, mutant, start)
    while pending or running:
        while pending and len(running) < max(1, jobs):
            ex, m = pending.pop(0)
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:  # child
                os.close(r)
                code = 0
                try:
                    _child_limits(timeout)
                    out = evaluate(state, ex, m, seeds, probe_killed)
                    data = json.dumps(asdict(out)).encode()
                except BaseException as exc:  # noqa: BLE001
                    data = json.dumps(asdict(MutantResult(ex.name, m.index, m.line, m.operator, m.description,
                                                          "killed", True, [], f"{type(exc).__name__}: {exc}"[:300])
                                             )).encode()
                    code = 1
                with os.fdopen(w, "wb") as fh:
                    fh.write(data)
                os._exit(code)
            os.close(w)
            running[pid] = (r, ex, m, time.monotonic())
        # collect
        done = False
        for pid, (r, ex, m, start) in list(running.items()):
            got, status = os.waitpid(pid, os.WNOHANG)
            # The child has ``timeout`` seconds of CPU (RLIMIT_CPU); the wall clock allows for a busy machine.
            timed_out = got == 0 and time.monotonic() - start > 5 * timeout
            if got == 0 and not timed_out:
                continue
            if timed_out:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            with os.fdopen(r, "rb") as fh:
                raw = fh.read()
            del running[pid]
            done = True
            if raw and not timed_out:
                out = MutantResult(**json.loads(raw))
            else:
                cpu = os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL)
                why = ("ran past the time limit" if timed_out or cpu else f"the child died (status {status})")
                # The grader's call time limit (or the process' death) costs the student points too.
                out = MutantResult(ex.name, m.index, m.line, m.operator, m.description, "killed", True, [],
                                   why, round(time.monotonic() - start, 3))
            results.append(out)
            if progress:
                progress(out)
        if not done:
            time.sleep(0.01)
    results.sort(key=lambda x: (x.exercise, x.index))
    return results


def _child_limits(cpu_seconds: float) -> None:
    """A mutant must not take the machine down: cap its memory (data segment) and its CPU time (CPU, not
    wall time, so that a loaded machine does not turn slow equivalent mutants into 'killed' ones)."""
    try:
        soft = 3 * 1024 ** 3
        resource.setrlimit(resource.RLIMIT_DATA, (soft, soft))
        used = resource.getrusage(resource.RUSAGE_SELF)
        base = used.ru_utime + used.ru_stime
        limit = int(base + cpu_seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 5))
    except (ValueError, OSError):
        pass
    for sig in (signal.SIGINT,):
        signal.signal(sig, signal.SIG_DFL)


def select_mutants(mutants: list[Mutant], max_mutants: int | None) -> list[Mutant]:
    """An evenly spread, deterministic sample of at most ``max_mutants`` (all when None)."""
    if not max_mutants or len(mutants) <= max_mutants:
        return list(mutants)
    step = len(mutants) / max_mutants
    return [mutants[int(i * step)] for i in range(max_mutants)]


# ------------------------------------------------------------------------------------------------
# summaries


def summarize(results: list[MutantResult]) -> dict:
    out: dict = {}
    for r in results:
        row = out.setdefault(r.exercise, {"mutants": 0, "equivalent": 0, "killed": 0, "crashed": 0, "survived": 0})
        row["mutants"] += 1
        if r.status == "equivalent":
            row["equivalent"] += 1
        elif r.status == "killed":
            row["killed"] += 1
            row["crashed"] += int(r.crashed)
        else:
            row["survived"] += 1
    for row in out.values():
        denom = row["killed"] + row["survived"]
        row["score"] = round(100.0 * row["killed"] / denom, 1) if denom else 100.0
    return out


def total(summary: dict) -> dict:
    tot = {"mutants": 0, "equivalent": 0, "killed": 0, "crashed": 0, "survived": 0}
    for row in summary.values():
        for k in tot:
            tot[k] += row[k]
    denom = tot["killed"] + tot["survived"]
    tot["score"] = round(100.0 * tot["killed"] / denom, 1) if denom else 100.0
    return tot


# ------------------------------------------------------------------------------------------------
# null submissions (DESIGN.md §7: zeros, empty, the input unchanged, a constant, doing nothing)

NULL_KINDS = ("do_nothing", "zeros", "constant", "empty", "identity")


def _null_value(kind: str, out, inputs: list):
    """``out`` (what the solution returned) with every tensor/number replaced as ``kind`` says."""
    import torch

    flat_inputs = []

    def collect(obj, depth=0):
        if depth > 4:
            return
        if isinstance(obj, torch.Tensor):
            flat_inputs.append(obj)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                collect(v, depth + 1)
        elif isinstance(obj, dict):
            for v in obj.values():
                collect(v, depth + 1)

    collect(inputs)
    numbers = [v for v in inputs if isinstance(v, (int, float)) and not isinstance(v, bool)]

    def tensor(t):
        if kind == "zeros":
            return torch.zeros_like(t)
        if kind == "constant":
            return torch.full_like(t, 0.5) if t.is_floating_point() else torch.ones_like(t)
        if kind == "empty":
            return t[:0] if t.ndim else torch.empty(0, dtype=t.dtype)
        same = [x for x in flat_inputs if x.shape == t.shape and x.dtype == t.dtype]
        if same:
            return same[0]
        if numbers and t.ndim == 0:
            return torch.tensor(numbers[0], dtype=t.dtype)
        return torch.zeros_like(t)

    def module(m):
        if kind == "empty":
            return torch.nn.Identity()
        if kind == "identity":
            given = [v for v in inputs if isinstance(v, torch.nn.Module)]
            return given[0] if given else torch.nn.Identity()
        m = copy.deepcopy(m)
        with torch.no_grad():
            for t in [*m.parameters(), *m.buffers()]:
                t.copy_(tensor(t))
        return m

    def walk(obj, depth=0):
        if isinstance(obj, torch.Tensor):
            return tensor(obj.detach())
        if isinstance(obj, torch.nn.Module):
            return module(obj)
        if isinstance(obj, bool) or obj is None or isinstance(obj, str):
            return obj
        if isinstance(obj, (int, float)):
            if kind == "identity":
                return numbers[0] if numbers else type(obj)(0)
            return {"zeros": 0, "constant": 1, "empty": 0}[kind] * type(obj)(1)
        if isinstance(obj, list):
            return [] if kind == "empty" else [walk(v, depth + 1) for v in obj]
        if isinstance(obj, tuple):
            items = [walk(v, depth + 1) for v in obj]
            return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
        if isinstance(obj, dict):
            return {k: walk(v, depth + 1) for k, v in obj.items()}
        return obj

    if kind == "identity" and flat_inputs and isinstance(out, torch.Tensor):
        return inputs[0] if isinstance(inputs[0], torch.Tensor) else flat_inputs[0]
    return walk(out)


def null_function(solution, kind: str):
    """A null version of the function ``solution``: same signature; returns the solution's output
    structure (computed on copies of the inputs, which stay untouched) with every value nulled."""
    import functools

    @functools.wraps(solution)
    def null(*args, **kwargs):
        if kind == "do_nothing":
            return None
        out = solution(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        return _null_value(kind, out, [*args, *kwargs.values()])

    return null


def null_class(solution_cls, kind: str):
    """A null version of a class (an nn.Module): __init__ takes the same arguments and builds nothing;
    each method the solution defines returns a nulled first tensor argument (or None)."""
    import torch

    base = torch.nn.Module if issubclass(solution_cls, torch.nn.Module) else object
    methods = {}
    for name, fn in vars(solution_cls).items():
        if not callable(fn) or name.startswith("__"):
            continue

        def method(self, *args, _kind=kind, **kwargs):
            tensors = [a for a in args if isinstance(a, torch.Tensor)]
            if _kind == "do_nothing" or not tensors:
                return None
            return _null_value(_kind, tensors[0], list(args))

        methods[name] = method

    def __init__(self, *args, **kwargs):  # noqa: N807
        base.__init__(self)

    methods["__init__"] = __init__
    return type(solution_cls.__name__, (base,), methods)


def null_submission(ns: dict, name: str, kind: str):
    obj = ns[name]
    return null_class(obj, kind) if isinstance(obj, type) else null_function(obj, kind)
