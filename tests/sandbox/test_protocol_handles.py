"""The worker's ``handles`` operation: bulk reads are composed of builtins and torch globals captured when the
student process started, so a notebook that rebinds ``builtins.getattr``, ``map`` or ``zip`` (or
``torch.nn.Module``'s methods) cannot change what the grader reads through them. (Rebinding ``list`` or ``dict``
breaks the protocol's own encoding, so every answer of that process is an error and the notebook scores 0.)"""

from __future__ import annotations

import pytest

from autograder import wire
from autograder.checks import Context
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import StudentProcess
from autograder.student import HANDLES, RemoteStudent, StudentCallError
from autograder.suites import load_suite

LYING_CELL = """
import builtins, torch
from torch import nn
model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
model.eval()
_real_getattr = builtins.getattr
builtins.getattr = lambda obj, name, *default: True if name == "training" else _real_getattr(obj, name, *default)
builtins.map = lambda *a: iter(["lie"])
builtins.zip = lambda *a: iter([])
for name in ("register_forward_hook", "_call_impl", "register_module", "add_module"):
    setattr(nn.Module, name, lambda self, *a, **k: None)
nn.Module.training = True
"""


@pytest.fixture
def lying_student():
    proc = StudentProcess(Limits()).start()
    try:
        reply = proc.run_cell(0, LYING_CELL, 60)
        assert reply.get("ok"), reply
        yield RemoteStudent(proc, 30)
    finally:
        proc.close()


def test_handles_are_refs_to_what_the_process_had_before_the_notebook_ran(lying_student):
    st = lying_student
    handles = st.handles()
    assert set(handles) == set(HANDLES) and all(isinstance(r, wire.Ref) for r in handles.values())
    assert handles["getattr"].type == "builtin_function_or_method" and handles["list"].type == "type"
    assert st.method(handles["module_globals"], "get", "__name__") == "torch.nn.modules.module"


def test_bulk_reads_see_the_truth_after_the_notebook_rebound_builtins_and_module_methods(lying_student):
    st = lying_student
    ctx = Context(st, load_suite("05_dropout").checks[0], references=None)
    main_model = _kept_global(st, "model")
    assert ctx.module_modes(main_model) == {"": False, "0": False, "1": False, "2": False}
    seen = ctx.observe_module(main_model)
    assert sorted(seen["params"]) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert all(p["is_leaf"] and p["requires_grad"] and p["grad"] is None for p in seen["params"].values())
    assert seen["global_hooks"] == 0
    assert ctx.tensor_names(main_model, ctx.kept_list(main_model, "parameters")) == [
        "0.weight", "0.bias", "2.weight", "2.bias"]


def test_a_forged_handles_answer_is_an_error_of_that_call():
    class Forging(RemoteStudent):
        def __init__(self):
            self.call_timeout = 1

        def _request(self, msg, timeout):
            return {"ok": True, "value": {"list": 1}}

    with pytest.raises(StudentCallError, match="lacks the process's handles"):
        Forging().handles()


def _kept_global(st: RemoteStudent, name: str) -> wire.Ref:
    """A Ref to the notebook's global ``name`` (a function returning it, defined in a cell of its own)."""
    reply = st.process.run_cell(1, f"def _grader_get():\n    return {name}\n", 30)
    assert reply.get("ok"), reply
    return st.call_kept("_grader_get")


WITNESS_CELL = """
import torch
w = torch.ones(3, requires_grad=True)
def with_graph(x):
    return float((w * x).sum())
def without_graph(x):
    with torch.no_grad():
        return float((w * x).sum())
def hides_its_graph(x):
    torch._C._autograd._pop_saved_tensors_default_hooks()
    return float((w * x).sum())
def covers_its_graph(x):
    torch._C._autograd._push_saved_tensors_default_hooks(lambda t: t, lambda t: t)
    return float((w * x).sum())
"""


def test_the_graph_witness_counts_what_autograd_saved_during_the_call_only():
    """``call_witnessed``: torch's saved-tensors hooks, set by the worker around the student's function, count a
    graph built and freed inside it; 0 under no_grad; None when the call pops or covers the hooks."""
    import torch

    proc = StudentProcess(Limits()).start()
    try:
        assert proc.run_cell(0, WITNESS_CELL, 60).get("ok")
        st = RemoteStudent(proc, 30)
        x = torch.arange(3.0)
        result, after, saved = st.call_witnessed("with_graph", x)
        assert result == 3.0 and torch.equal(after[0], x) and saved >= 1  # w * x saves its inputs for backward
        assert st.call_witnessed("without_graph", x)[2] == 0
        assert st.call_witnessed("hides_its_graph", x)[2] is None
        assert st.call_witnessed("covers_its_graph", x)[2] is None
        assert st.call_witnessed("without_graph", x)[2] == 0  # nothing the earlier calls did is left on the stack
    finally:
        proc.close()


def test_a_forged_graph_count_is_an_error_of_that_call():
    class Forging(RemoteStudent):
        def __init__(self, count):
            self.call_timeout, self.count = 1, count

        def _request(self, msg, timeout):
            return {"ok": True, "value": {"result": 1.0, "args": []}, "graph_saved": self.count}

    for bad in (-1, "0", 1.5, True):
        with pytest.raises(StudentCallError, match="not a count"):
            Forging(bad).call_witnessed("f")
    assert Forging(None).call_witnessed("f") == (1.0, [], None)
