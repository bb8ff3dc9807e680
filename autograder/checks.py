"""The check-authoring API and the check runner.

An assignment's checks live in ``autograder/suites/sNN_name/`` (see docs/AUTHORING.md):

- ``checks.py`` creates ``suite = Suite(__name__)`` and holds the visible checks (shipped to students,
  run by the self-check);
- ``hidden.py`` (optional) adds hidden cases and hidden-only checks (never shipped to students);
- ``mistakes.py`` holds realistic wrong implementations, each with the hint that names it
  (instructor-only: used to record what each mistake returns, and by the test suite as submissions);
- ``references/visible.json`` and ``references/hidden.json``: reference values recorded from the
  solution notebook by ``autograder references`` (never typed by hand; :mod:`autograder.references`).

A check is a function ``fn(ctx, **case)`` run once per case; each case is worth an equal share of
the check's points. Inside, it calls the student's code through ``ctx`` and states expectations::

    @suite.check("split_data", points=2, title="x and y stay paired", cases=[{"n": 40, "seed": 3}])
    def pairing(ctx, n, seed):
        x, y = make_data(ctx.gen(seed), n)
        out = ctx.call("split_data", x, y, seed=seed)
        ctx.expect(..., "rows of x no longer match their labels", hint="use one permutation for both")
        ctx.expect_reference(out, "the split")

``expect_reference`` compares with the value the solution produced at the same point (its reference)
and, when it differs, with what each known mistake produced there, so the feedback can say which
mistake the answer matches.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograder import compare, paths, wire
from autograder.results import CaseResult, CheckResult, Status, scored, unjudged
from autograder.student import Student, StudentCallError, call_message


class CheckFailed(Exception):
    """Raised inside a check when an expectation fails."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class ReferenceMissing(RuntimeError):
    """No recorded reference value for an expectation: run ``autograder references``."""


@dataclass
class Mistake:
    """A realistic wrong implementation of ``exercise``, and the hint that names it.

    - ``targets``: the checks that must lose points for this mistake (the test suite grades the
      mistake as a submission and asserts it, and that :attr:`expected_feedback` reaches them);
    - ``affects``: other exercises whose checks may fail too (they build on this one);
    - ``feedback``: the text a property check prints for it, when that is not ``hint``;
    - ``namespace``: companion names swapped in with it (e.g. a correct forward beside a wrong backward);
    - ``cell``: the ``grade_id`` of the cell after which it is injected (default: ``exercise``).
    """

    exercise: str
    name: str
    hint: str
    impl: Callable
    targets: tuple[str, ...] = ()
    affects: tuple[str, ...] = ()
    feedback: str | None = None
    namespace: dict[str, Any] = field(default_factory=dict)
    cell: str | None = None

    @property
    def expected_feedback(self) -> str:
        """The text a student who made this mistake must read in the targets' feedback."""
        return self.feedback or self.hint



@dataclass
class Check:
    name: str
    exercise: str
    title: str
    points: float
    hidden: bool
    run: Callable
    cases: list[dict]
    hint: str = ""

    def case_key(self, case: dict) -> str:
        return json.dumps(case, sort_keys=True, default=str)


class Suite:
    """All checks, hidden checks and known mistakes of one assignment."""

    def __init__(self, assignment: str, title: str = "", preload: tuple[str, ...] = ()):
        """``assignment``: the suite module's ``__name__`` (``Suite(__name__)`` in checks.py: the id comes
        from the package ``sNN_name``), or the id ``NN_name`` itself. ``title`` defaults to the name part.
        ``preload``: modules slow to import on first use that the checks need in the grader (e.g.
        ``"torch._dynamo"``, which the first ``torch.optim`` optimizer imports): the grader imports them in
        the background while the student's process starts and runs its cells."""
        self.assignment = paths.assignment_of(assignment) if "." in assignment else assignment
        self.title = title or self.assignment[3:].replace("_", " ")
        self.preload = tuple(preload)
        self.checks: list[Check] = []
        self.mistakes: list[Mistake] = []

    # -- registration ---------------------------------------------------------------------------
    def _add(self, check: Check) -> Check:
        if any(c.name == check.name for c in self.checks):
            raise ValueError(f"duplicate check name {check.name}")
        if not check.cases:
            raise ValueError(f"check {check.name} has no cases")
        self.checks.append(check)
        return check

    def check(self, exercise: str, *, points: float, title: str, cases: list[dict] | None = None,
              hint: str = "", name: str | None = None, hidden: bool = False):
        """Decorator: register a check of ``exercise`` (the stub's name); ``hidden``: it runs
        only when the course grades."""

        def deco(fn: Callable) -> Callable:
            check = Check(name or f"{exercise}.{fn.__name__}", exercise, title, float(points), hidden, fn,
                          list(cases or [{}]), hint)
            fn.check = self._add(check)  # type: ignore[attr-defined]
            return fn

        return deco

    def hidden_check(self, exercise: str, **options):
        """Decorator: register a check that runs only when the course grades (``check(..., hidden=True)``)."""
        return self.check(exercise, hidden=True, **options)

    def hidden(self, visible_fn: Callable, *, points: float, cases: list[dict], name: str | None = None,
               title: str | None = None, hint: str | None = None) -> Check:
        """Register hidden cases (other shapes and seeds) for a visible check's logic."""
        base: Check = visible_fn.check  # type: ignore[attr-defined]
        for case in cases:
            if case in base.cases:
                raise ValueError(f"hidden case {case} of {base.name} repeats a visible case")
        return self._add(Check(name or f"{base.name}.hidden", base.exercise, title or base.title, float(points),
                               True, base.run, list(cases), base.hint if hint is None else hint))

    def mistake(self, exercise: str, *, name: str, hint: str, targets: tuple[str, ...] | list[str] = (),
                affects: tuple[str, ...] | list[str] = (), feedback: str | None = None,
                namespace: dict[str, Any] | None = None, cell: str | None = None):
        """Decorator: register a wrong implementation of ``exercise`` (instructor-only module);
        the options are those of :class:`Mistake`."""

        def deco(impl: Callable) -> Callable:
            self.mistakes.append(Mistake(exercise, name, hint, impl, tuple(targets), tuple(affects), feedback,
                                         dict(namespace or {}), cell))
            return impl

        return deco

    # -- queries ----------------------------------------------------------------------------------
    def exercises(self) -> list[str]:
        seen: list[str] = []
        for c in self.checks:
            if c.exercise not in seen:
                seen.append(c.exercise)
        return seen

    def select(self, exercise: str | None = None, hidden: bool | None = None) -> list[Check]:
        return [c for c in self.checks if (exercise is None or c.exercise == exercise)
                and (hidden is None or c.hidden == hidden)]

    def points(self, exercise: str | None = None, hidden: bool | None = None) -> float:
        return sum(c.points for c in self.select(exercise, hidden))

    def mistakes_for(self, exercise: str) -> list[Mistake]:
        return [m for m in self.mistakes if m.exercise == exercise]


def describe_call(target: str, args: tuple, kwargs: dict) -> str:
    parts = [compare.describe_value(a) if not isinstance(a, wire.Make) else a.factory.split(":")[-1] + "(...)"
             for a in args]
    parts += [f"{k}={compare.describe_value(v)}" for k, v in kwargs.items()]
    return f"{target}({', '.join(parts)})"


class Context:
    """What a check sees: the student proxy, seeded generators, and expectations.

    Modes: grading (``references`` holds the recorded expectations of this case), recording the
    references (``recording`` is a list that receives every expected value) or recording a mistake.
    """

    def __init__(self, student: Student, check: Check, references: list | None = None,
                 recording: list | None = None):
        self.student = student
        self.check = check
        self.hidden = check.hidden
        self.references = references
        self.recording = recording
        self._expects = 0
        self.last_call = ""

    # -- inputs -----------------------------------------------------------------------------------
    @staticmethod
    def gen(seed: int):
        """A fresh ``torch.Generator`` seeded with ``seed`` (inputs are built in the grader)."""
        import torch

        g = torch.Generator().manual_seed(int(seed))
        return g

    @staticmethod
    def make(factory: str, *args: Any, **kwargs: Any) -> wire.Make:
        """An object the student's process builds from ``autograder.fixtures`` (e.g. a model)."""
        return wire.Make(factory, *args, **kwargs)

    # -- reaching the student -----------------------------------------------------------------------
    def call(self, function: str, *args: Any, global_seed: int = 0, **kwargs: Any) -> Any:
        """Call the student's ``function``; torch/numpy/random are seeded with ``global_seed`` first."""
        self.last_call = describe_call(function, args, kwargs)
        _seed_grader(global_seed)
        return self.student.call(function, *args, global_seed=global_seed, **kwargs)

    def call_with_args(self, function: str, *args: Any, global_seed: int = 0, **kwargs: Any):
        """Call ``function`` and also get its positional arguments back as they are afterwards
        (``(result, [arg0, ...])``), to catch in-place modification of inputs."""
        self.last_call = describe_call(function, args, kwargs)
        _seed_grader(global_seed)
        return self.student.call_with_args(function, *args, global_seed=global_seed, **kwargs)

    def call_witnessed(self, function: str, *args: Any, global_seed: int = 0, **kwargs: Any):
        """:meth:`call_with_args`, also counting with torch's own saved-tensors hooks (set around the student's
        function, after its arguments are built) the tensors autograd saved for a backward pass:
        ``(result, [arg0, ...], saved)``; judge ``saved`` with :meth:`expect_no_graph`. A graph built and freed
        inside the call leaves no other trace (docs/SECURITY.md, "Trust in fixture code")."""
        self.last_call = describe_call(function, args, kwargs)
        _seed_grader(global_seed)
        return self.student.call_witnessed(function, *args, global_seed=global_seed, **kwargs)

    def expect_no_graph(self, saved: int | None, message: str, hint: str | None = None) -> None:
        """Fail with ``message`` unless :meth:`call_witnessed`'s ``saved`` is 0 (no graph was built), saying what
        torch counted (or that the call removed or covered the hooks)."""
        why = ("the saved-tensors hooks the grader set around the call were removed or covered during it"
               if saved is None else f"autograd saved {saved} tensor(s) for a backward pass (torch's own count)")
        self.expect(saved == 0, f"{message}: {why}", hint)

    def call_kept(self, function: str, *args: Any, global_seed: int = 0, **kwargs: Any) -> wire.Ref:
        """Call ``function`` but keep its result in the student's process: a :class:`~autograder.wire.Ref`
        comes back, whatever the result's type. Pass it to a later call and it arrives as that very object
        (a forward's cache of any type reaches the backward unchanged); read parts with
        ``ctx.method(ref, "__getitem__", 0)`` (plain data) or ``ctx.method_kept(ref, "__getitem__", 1)`` (a Ref)."""
        self.last_call = describe_call(function, args, kwargs)
        _seed_grader(global_seed)
        return self.student.call_kept(function, *args, global_seed=global_seed, **kwargs)

    def probe(self, factory: str, *args: Any, **kwargs: Any) -> Any:
        """Run a grader-owned probe, ``autograder.fixtures.<module>:<function>``, inside the student's process
        on ``args`` (a Ref arrives as the student's very object) and get its plain-data answer (e.g. gradients
        reaching the parameters). The student's process can replace the probe: what it returns is *collected*
        data, to compare with values the grader computes or reads through ordinary calls, never a verdict
        (docs/SECURITY.md, "Trust in fixture code"). Its own errors are the grader's, not the student's."""
        return self.student.probe(factory, *args, **kwargs)

    def probe_kept(self, factory: str, *args: Any, **kwargs: Any) -> wire.Ref:
        """:meth:`probe`, with the result kept in the student's process (a Ref comes back), e.g. the copy that
        ``autograder.fixtures.probes:deep_copy`` makes. Judge it only through ordinary calls on it."""
        msg = call_message({"probe": factory}, args, kwargs, 0, keep=True)
        return self.student._answer(self.student._request(msg, self.student.call_timeout), factory.split(":")[-1])

    def method_with_args(self, ref: wire.Ref, name: str, *args: Any, global_seed: int = 0, **kwargs: Any):
        """:meth:`method`, and also the positional arguments as they are afterwards (``(result, [arg0, ...])``),
        read by the protocol itself rather than by a grader-owned probe: to catch in-place modification of inputs
        (e.g. ``module.__call__`` changing ``x``) with a verdict decided in the grader."""
        self.last_call = describe_call(f"{ref.type}.{name}", args, kwargs)
        _seed_grader(global_seed)
        msg = call_message({"ref": ref.id, "method": name}, args, kwargs, global_seed, return_args=True)
        both = self.student._answer(self.student._request(msg, self.student.call_timeout), f"{ref.type}.{name}")
        if not (isinstance(both, dict) and isinstance(both.get("args"), list) and "result" in both):
            raise StudentCallError(f"{ref.type}.{name}", {"kind": "exception", "type": "MalformedAnswer",
                                                          "message": "the answer lacks the call's arguments"})
        return both["result"], both["args"]

    def method_kept(self, ref: wire.Ref, name: str, *args: Any, global_seed: int = 0, **kwargs: Any) -> wire.Ref:
        """:meth:`method`, with the result kept in the student's process (a Ref comes back)."""
        self.last_call = describe_call(f"{ref.type}.{name}", args, kwargs)
        _seed_grader(global_seed)
        return self.student.method_kept(ref, name, *args, global_seed=global_seed, **kwargs)

    def method(self, ref: wire.Ref, name: str, *args: Any, global_seed: int = 0, **kwargs: Any) -> Any:
        """Call ``ref.name(...)`` on a student object (globals seeded with ``global_seed``)."""
        self.last_call = describe_call(f"{ref.type}.{name}", args, kwargs)
        _seed_grader(global_seed)
        return self.student.method(ref, name, *args, global_seed=global_seed, **kwargs)

    def attr(self, ref: wire.Ref, name: str) -> Any:
        return self.student.attr(ref, name)

    def describe(self, ref: wire.Ref) -> dict:
        return self.student.describe(ref)

    # -- expectations -------------------------------------------------------------------------------
    def _called(self) -> str:
        return "" if self.hidden or not self.last_call else f" (called {self.last_call})"

    def fail(self, message: str, hint: str | None = None):
        raise CheckFailed(message + self._called(), hint)

    def expect(self, condition: Any, message: str, hint: str | None = None) -> None:
        """Fail with ``message`` (and ``hint``) unless ``condition`` holds.

        In a hidden check the message is replaced by the check's title: free-form messages may
        mention shapes or values of the hidden inputs; the hint, which names the mistake, stays.
        """
        if not bool(condition):
            self.fail(f"failed on a hidden case: {self.check.title}" if self.hidden else message, hint)

    def expect_equal(self, actual: Any, expected: Any, what: str, tier: str = "exact",
                     hint: str | None = None) -> None:
        """Compare with a value the grader computed itself (e.g. with torch's own modules)."""
        diff = compare.difference(expected, actual, tier, reveal=not self.hidden)
        if diff:
            self.fail(f"{what}: {diff}", hint)

    def expect_unchanged(self, after: Any, before: Any, message: str, hint: str | None = None) -> None:
        """Fail with ``message`` unless ``after`` (an argument as it is after the call, from
        :meth:`call_with_args`) is exactly ``before`` (what was passed): tensors inside dicts and lists too."""
        diff = compare.difference(before, after, "exact", reveal=not self.hidden)
        self.expect(diff is None, f"{message} ({diff})", hint)

    def call_unchanged(self, function: str, *args: Any, hint: str | None = None, global_seed: int = 0,
                       **kwargs: Any) -> Any:
        """:meth:`call` ``function``, then expect every positional argument (tensors, dicts and lists of
        them) to be unchanged: the contract is "returns a new value", not "changes its input"."""
        result, after = self.call_with_args(function, *args, global_seed=global_seed, **kwargs)
        for i, (a, b) in enumerate(zip(after, args)):
            if not isinstance(b, (wire.Make, wire.Ref)):
                self.expect_unchanged(a, b, f"{function} changed its argument #{i + 1} in place",
                                      hint or "compute a new tensor instead of modifying the input "
                                              "(no x -= ..., x[...] = ..., or *_ methods on the inputs).")
        return result

    def expect_gradient(self, analytic: Any, loss: Callable[[], Any], wrt: Any, what: str,
                        hint: str | None = None) -> None:
        """Gradient-check tier: ``analytic`` (the student's float64 gradient of the scalar ``loss()``
        with respect to the tensor ``wrt``) against a centred numerical gradient; ``loss`` must read
        ``wrt`` itself (it is perturbed in place, then restored)."""
        err = compare.rel_error(analytic, compare.numerical_gradient(loss, wrt))
        self.expect(err <= compare.GRADIENT_TOLERANCE,
                    f"{what}: relative error {err:.3g} against a centred numerical gradient "
                    f"(needs < {compare.GRADIENT_TOLERANCE:g})", hint)

    def expect_independent_copy(self, ref: wire.Ref, x: Any, change: dict, what: str, hint: str | None = None) -> None:
        """``copy.deepcopy`` of the student module ``ref`` (made by the grader-owned probe ``probes:deep_copy`` and
        kept), its parameters then scrambled and restored with ``load_state_dict(ref.state_dict())``, computes what
        the original computes on ``x`` — and keeps doing so after the original's state is changed to ``change``
        (``load_state_dict(change, strict=False)``). The scrambling and the state_dict travel through ordinary
        calls, and the verdict is decided here from the two outputs, so a probe that lies about copying (or
        returns the original itself) gains nothing."""
        st = self.student
        try:
            clone = self.probe_kept("autograder.fixtures.probes:deep_copy", ref)
        except StudentCallError as exc:
            self.fail(f"copy.deepcopy of {what} failed: {exc.type}: {exc.message}", hint)
        for name, _shape, _grad in st.describe(clone).get("parameters", []):
            st.method_kept(st.method_kept(st.method_kept(clone, "get_parameter", name), "detach"), "add_", 1.0)
        st.method(clone, "load_state_dict", st.method_kept(ref, "state_dict"))
        self.last_call = describe_call(f"{ref.type}.__call__", (x,), {})
        out = st.method(ref, "__call__", x, global_seed=0)  # the original, in the state the copy was made from
        st.method(ref, "load_state_dict", change, strict=False)
        twin = st.method(clone, "__call__", x, global_seed=0)  # same seed: the same dropout masks, if any
        self.expect_equal(twin, out, f"output of a deepcopy of {what} whose parameters were scrambled and restored "
                                     "from the original's state_dict (then the original's state was changed) vs the "
                                     "original's output", tier="op", hint=hint)

    # -- reading many attributes in few round trips ---------------------------------------------------------
    def _builtins(self) -> dict[str, wire.Ref]:
        """Refs to ``list``, ``map``, ``getattr``, ``dict``, ``zip`` and ``torch.nn.modules.module``'s globals as the
        student's process captured them when it started, before any student code ran (its ``handles`` operation;
        cached for the case), so that :meth:`getattrs` reads one attribute of many objects in two round trips.
        No grader-owned code in the student's process decides anything."""
        cached = getattr(self, "_builtin_refs", None)
        if cached is None:
            cached = self._builtin_refs = self.student.handles()
        return cached

    def identity_table(self, model: wire.Ref, buffers: bool = False) -> wire.Ref:
        """``dict(zip(model.parameters(), names))`` (and the buffers, with ``buffers``) built and kept in the student's
        process: a dict keyed by tensors finds them by identity, and keeps the objects alive until the check ends.
        Ask it with :meth:`names_in` which of them a sequence of tensors holds (now, or after the student's call)."""
        st = self.student
        info = st.describe(model)
        table = self.table_of(self.kept_list(model, "parameters"), [p[0] for p in info.get("parameters", [])])
        if buffers:
            st.method(table, "update", self.table_of(self.kept_list(model, "buffers"),
                                                     [b[0] for b in info.get("buffers", [])]))
        return table

    def table_of(self, objects: Any, names: list[str]) -> wire.Ref:
        """``dict(zip(objects, names))`` built and kept in the student's process (``objects``: a list of Refs or a Ref
        to a sequence there): for objects without ``__eq__`` of their own (modules, tensors) the dict finds them by
        identity (see :meth:`names_in`)."""
        st = self.student
        bi = self._builtins()
        return st.method_kept(bi["dict"], "__call__", st.method_kept(bi["zip"], "__call__", objects, names))

    def names_in(self, table: wire.Ref, tensors: Any) -> list[str | None]:
        """``list(map(table.get, tensors))`` in the student's process: for each tensor of the student-side sequence
        ``tensors`` (a Ref), the name it has in the :meth:`identity_table` ``table``, or None. Plain names come
        back (no process-specific identities), decided by identity without a grader-owned probe."""
        st = self.student
        bi = self._builtins()
        return st.method(bi["list"], "__call__", st.method_kept(bi["map"], "__call__", st.attr(table, "get"), tensors))

    def tensor_names(self, model: wire.Ref, tensors: Any) -> list[str | None]:
        """For each tensor of the student-side sequence ``tensors``, the name of the ``model`` parameter that *is*
        that tensor object, or None (:meth:`identity_table` + :meth:`names_in`)."""
        return self.names_in(self.identity_table(model), tensors)

    def getattrs(self, objects: Any, names: list[str]) -> list:
        """``list(map(getattr, objects, names))`` evaluated in the student's process (``objects``: a list of Refs, or
        a Ref to a sequence there): attribute reads, two round trips."""
        bi = self._builtins()
        st = self.student
        return st.method(bi["list"], "__call__", st.method_kept(bi["map"], "__call__", bi["getattr"], objects, names))

    def kept_list(self, ref: wire.Ref, method: str) -> wire.Ref:
        """``list(ref.<method>())`` kept in the student's process (e.g. ``modules``, ``parameters``): one round trip
        past the builtins."""
        st = self.student
        return st.method_kept(self._builtins()["list"], "__call__", st.method_kept(ref, method))

    def group_names(self, groups: wire.Ref, model: wire.Ref) -> list[list[str | None] | None]:
        """:meth:`tensor_names` of the ``"params"`` of each parameter group in the student-side list ``groups``
        (e.g. ``make_param_groups``'s result, or ``optimizer.param_groups`` reached with
        ``method_kept(opt, "__getattribute__", "param_groups")``); None for an entry that is not a dict."""
        st = self.student
        out: list[list[str | None] | None] = []
        for i in range(int(st.method(groups, "__len__"))):
            group = st.method_kept(groups, "__getitem__", i)
            if st.describe(group).get("type") not in ("dict", "OrderedDict"):
                out.append(None)
                continue
            out.append(self.tensor_names(model, st.method_kept(group, "get", "params", [])))
        return out

    def module_modes(self, ref: wire.Ref) -> dict[str, bool]:
        """``{name: training}`` of the student-side module ``ref`` and each submodule (root ""), read through
        attribute reads (no grader-owned code in the student's process)."""
        return {name: m["training"] for name, m in self._walk_modules(ref, hooks=False).items()}

    def _walk_modules(self, ref: wire.Ref, hooks: bool = True) -> dict[str, dict]:
        """Every module's ``training`` flag (and hook count), in ``named_modules()`` order, read in a few round
        trips (``list(map(getattr, modules, names))`` in the student's process)."""
        st = self.student
        names = [m[0] for m in st.describe(ref).get("modules", [])]
        mods = self.kept_list(ref, "modules")
        k = len(names)
        flags = self.getattrs(mods, ["training"] * k)
        out = {name: {"training": bool(flag)} for name, flag in zip(names, flags)}
        if hooks:
            dicts = self.getattrs(st.method_kept(mods, "__mul__", len(HOOK_DICTS)),
                                   [h for h in HOOK_DICTS for _ in range(k)])
            for i, name in enumerate(names):
                out[name]["hooks"] = sum(len(dicts[j * k + i] or {}) for j in range(len(HOOK_DICTS)))
        return out

    def observe_module(self, ref: wire.Ref, state: dict | None = None, grads: bool = True, modes: bool = True,
                       hooks: bool = True) -> dict:
        """Plain data about the student-side module ``ref``, read through ordinary calls and attribute reads
        (torch's own ``state_dict``, ``get_parameter``, each submodule's ``training`` and hook dictionaries,
        torch's global module hooks): no grader-owned code runs in the student's process for it, so a patched
        fixture or probe cannot change what the grader sees. Returns ``{"state": {name: tensor},
        "modules": {name: {"training": bool, "hooks": int}}, "params": {name: {"grad": tensor | None,
        "requires_grad": bool, "is_leaf": bool}} (empty without ``grads``), "global_hooks": int}`` (the root module
        is named "").
        ``state``: the ``state_dict()`` the check already read after the call, if any (not read again); ``grads``
        (also ``is_leaf``), ``modes``, ``hooks``: False skips those reads (each costs round trips)."""
        st = self.student  # no seeding, and the feedback keeps naming the student's call
        state = st.method(ref, "state_dict") if state is None else state
        modules = self._walk_modules(ref, hooks=hooks) if modes or hooks else {}
        params: dict[str, dict] = {}
        if grads:
            names = [p[0] for p in st.describe(ref).get("parameters", [])]
            n = len(names)
            plist = st.method_kept(self.kept_list(ref, "parameters"), "__mul__", 3)
            got = self.getattrs(plist, ["grad"] * n + ["is_leaf"] * n + ["requires_grad"] * n)
            for i, name in enumerate(names):
                params[name] = {"grad": got[i], "is_leaf": bool(got[n + i]), "requires_grad": bool(got[2 * n + i])}
        return {"state": state, "modules": modules, "params": params,
                "global_hooks": self._global_hooks() if hooks else 0}

    def _global_hooks(self) -> int:
        """How many of torch's global module hooks are registered (in ``torch.nn.modules.module``'s globals, as
        the student's process captured them at start: see :meth:`_builtins`)."""
        st = self.student
        glob = self._builtins()["module_globals"]
        return sum(len(st.method(glob, "get", f"_global{name}") or {}) for name in HOOK_DICTS)

    def expect_structure(self, ref: wire.Ref, *, parameters: dict[str, list[int]] | None = None,
                         buffers: dict[str, list[int]] | None = None, other_buffers: bool = False,
                         hint: str | None = None) -> dict:
        """Module-structure expectations on a student module ``ref``: exactly these trainable ``parameters``
        and these ``buffers`` (``{name: shape}``; others too if ``other_buffers``), buffers without autograd
        history, and all of them in ``state_dict()``. Returns :meth:`describe`'s answer."""
        info = self.describe(ref)
        got_params = {n: (shape, grad) for n, shape, grad in info.get("parameters", [])}
        got_buffers = {b[0]: (b[1], bool(b[2]) if len(b) > 2 else False) for b in info.get("buffers", [])}
        state = set(info.get("state_dict", []))
        for kind, want, got in (("parameters", parameters, got_params), ("buffers", buffers, got_buffers)):
            if want is None:
                continue
            exact = kind == "parameters" or not other_buffers
            names_ok = set(got) == set(want) if exact else set(want) <= set(got)
            self.expect(names_ok, f"{kind}() should hold {'exactly ' if exact else ''}{sorted(want)}; "
                                  f"got {sorted(got)}", hint)
            for name, shape in want.items():
                got_shape, grad = got[name]
                self.expect(list(got_shape) == list(shape), f"{kind[:-1]} {name} should have shape {list(shape)}; "
                                                            f"got {list(got_shape)}", hint)
                if kind == "parameters":
                    self.expect(grad, f"parameter {name} should be trainable (requires_grad=True)", hint)
                else:
                    self.expect(not grad, f"buffer {name} should carry no autograd history (update it under "
                                          f"torch.no_grad() or from detached values)", hint)
            missing = sorted(set(want) - state)
            self.expect(not missing, f"state_dict() lacks {missing}", hint)
        return info

    def expect_reference(self, actual: Any, what: str, tier: str = "op", hint: str | None = None) -> None:
        """Compare with the solution's value at this point; name the mistake it matches, if any."""
        index = self._expects
        self._expects += 1
        if self.recording is not None:
            self.recording.append(wire.encode(actual))
            return
        if self.references is None or index >= len(self.references):
            raise ReferenceMissing(f"no reference value for {self.check.name} expectation {index}")
        recorded = self.references[index]
        expected = wire.decode(recorded["ref"])
        diff = compare.difference(expected, actual, tier, reveal=not self.hidden)
        if not diff:
            return
        matched = [hint_text for hint_text, value in recorded.get("mistakes", {}).values()
                   if compare.difference(wire.decode(value), actual, tier) is None]
        if matched:
            hint = "this matches a known mistake: " + matched[0]
        self.fail(f"{what}: {diff}", hint)


#: The hook dictionaries of an ``nn.Module`` (and, prefixed with ``_global``, torch's global module hooks).
HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")


def _seed_grader(seed: int) -> None:
    from autograder.sandbox.worker import _seed_everything

    _seed_everything(seed)  # the same seeding as the student process's (CPU generators only)


def _case_label(check: Check, case: dict, index: int) -> str:
    if check.hidden:
        return f"hidden case {index + 1}"
    return ", ".join(f"{k}={v}" for k, v in case.items()) or "default case"


class _Unjudged(Exception):
    """A case ended the whole check without judging the code (missing, not implemented, died, setup)."""

    def __init__(self, status: Status, feedback: str):
        super().__init__(feedback)
        self.status, self.feedback = status, feedback


def run_case(check: Check, case: dict, index: int, student: Student, references: dict | None) -> CaseResult:
    """Run one case of ``check``; the student's failures become a failed :class:`CaseResult`, and what
    stops the whole check raises :class:`_Unjudged`."""
    from autograder.sandbox.process import StudentDied

    label = _case_label(check, case, index)
    ctx = Context(student, check, references=(references or {}).get(check.case_key(case)))
    try:
        check.run(ctx, **case)
        return CaseResult(label, True)
    except CheckFailed as exc:
        hint = exc.hint or check.hint
        return CaseResult(label, False, exc.message + (f"\n    Hint: {hint}" if hint else ""))
    except StudentCallError as exc:
        if exc.kind == "missing":
            if "." in exc.target:  # an attribute or method of a student object, not a notebook name
                owner, _, attr = exc.target.rpartition(".")
                raise _Unjudged(Status.MISSING, f"`{exc.target}` does not exist: the {owner} object has no "
                                                f"attribute `{attr}` (set it in __init__, with this name).") from None
            raise _Unjudged(Status.MISSING, f"`{exc.target}` is not defined: run the cell that defines it, and "
                                            f"keep its name and signature as given.") from None
        if exc.kind == "not_implemented":
            raise _Unjudged(Status.NOT_IMPLEMENTED, _not_implemented_feedback(exc)) from None
        if check.hidden:  # its message may quote the hidden inputs' shapes or values
            msg = (f"`{exc.target}` raised {exc.type} on a hidden case (the visible checks show the "
                   f"traceback when they fail the same way)")
        else:
            msg = f"`{exc.target}` raised {exc.type} when called as {ctx.last_call}: {exc.message}"
            if exc.traceback:
                msg += "\n" + _indent(exc.traceback.rstrip())
        return CaseResult(label, False, msg)
    except StudentDied as exc:
        raise _Unjudged(Status.DIED, f"the student process {exc}; this check could not run.") from None
    except ReferenceMissing as exc:
        raise _Unjudged(Status.ERROR, f"grader setup error: {exc} (run `autograder references`).") from None
    except Exception as exc:  # noqa: BLE001 - the student's result had an unexpected form
        detail = type(exc).__name__ if check.hidden else f"{type(exc).__name__}: {exc}"
        return CaseResult(label, False, f"the result does not have the expected form ({detail}){ctx._called()}")


def _not_implemented_feedback(exc: StudentCallError) -> str:
    """Name the student's function that raised NotImplementedError (the innermost notebook frame), not the
    one the check called: a given helper that calls an unfinished stub is not what is unfinished."""
    frames = re.findall(r'File "<[^"]*>", line \d+, in ([A-Za-z_][A-Za-z_0-9]*)', exc.traceback or "")
    inner = frames[-1] if frames else None
    called = exc.target.rpartition(".")[2]
    if inner and inner != called and inner != "<module>":
        return (f"`{inner}` is not implemented yet (it raises NotImplementedError; reached through "
                f"`{exc.target}`).")
    return f"`{exc.target}` is not implemented yet (it raises NotImplementedError)."


def run_check(check: Check, student: Student, references: dict | None) -> CheckResult:
    """Run every case of ``check`` against ``student`` and score it; never raises for student behaviour.

    ``references`` maps case keys to the recorded expectation list of this check.
    """
    from autograder.sandbox.process import StudentDied

    started = time.monotonic()
    cases: list[CaseResult] = []
    try:
        for i, case in enumerate(check.cases):
            cases.append(run_case(check, case, i, student, references))
        result = scored(check, cases)
    except _Unjudged as stop:
        result = unjudged(check, stop.status, stop.feedback, cases)
    if result.status != Status.DIED:
        try:
            student.forget()  # objects of this check's cases are not needed by the next check
        except (StudentCallError, StudentDied):
            pass
    result.duration_s = round(time.monotonic() - started, 4)
    return result


def _indent(text: str, prefix: str = "    | ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
