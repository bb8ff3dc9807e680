"""The plain-data codec and the comparison messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from autograder import compare, wire
from autograder.checks import describe_call


def roundtrip(x):
    return wire.decode(wire.loads(wire.dumps({"v": wire.encode(x)}))["v"])


def test_roundtrip_keeps_dtypes_shapes_and_structure():
    value = {"a": torch.arange(6, dtype=torch.int64).reshape(2, 3), "b": (torch.ones(2, dtype=torch.float64), 3.5),
             "c": [np.float32(2.0), np.arange(3, dtype=np.int16)], "d": None, "e": True, 7: "int key",
             "f": float("nan"), "g": torch.tensor([True, False]), "h": torch.float32, "i": torch.Size([2, 3])}
    back = roundtrip(value)
    assert back["a"].dtype == torch.int64 and torch.equal(back["a"], value["a"])
    assert isinstance(back["b"], tuple) and back["b"][0].dtype == torch.float64
    assert isinstance(back["c"][1], np.ndarray) and back["c"][1].dtype == np.int16
    assert back[7] == "int key" and back["d"] is None and back["e"] is True
    assert math.isnan(back["f"]) and back["g"].dtype == torch.bool and back["h"] is torch.float32
    assert back["i"] == (2, 3)


def test_zero_dim_tensors_keep_their_shape():
    assert roundtrip(torch.tensor(3.0)).shape == ()
    assert roundtrip(np.float64(2.0)) == 2.0


def test_named_tuples_travel_as_tuples():
    back = roundtrip(torch.max(torch.tensor([[1.0, 3.0], [4.0, 2.0]]), dim=1))
    assert type(back) is tuple and torch.equal(back[1], torch.tensor([1, 0]))


def test_tensor_subclasses_and_grad_are_stripped():
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    t = torch.zeros(3, requires_grad=True).as_subclass(Liar)
    back = roundtrip(t)
    assert type(back) is torch.Tensor and not back.requires_grad


def test_unknown_objects_need_a_keeper_and_refs_stay_handles():
    with pytest.raises(wire.WireError):
        wire.encode(object())
    kept = []
    enc = wire.encode(torch.nn.Linear(2, 2), keep=lambda o: kept.append(o) or wire.Ref(len(kept), type(o).__name__))
    assert wire.decode(enc) == wire.Ref(1, "Linear")


def test_decoder_refuses_bad_dtypes_sizes_and_make_instructions():
    with pytest.raises(wire.WireError):
        wire.decode({"__t__": "ndarray", "dtype": "object", "shape": [1], "data": ""})
    with pytest.raises(wire.WireError):
        wire.decode({"__t__": "ndarray", "dtype": "float32", "shape": [3], "data": "AAAA"})
    with pytest.raises(wire.WireError):
        wire.decode({"__t__": "make", "factory": "autograder.fixtures.x:y", "args": [], "kwargs": {}})
    with pytest.raises(wire.WireError):
        wire.Make("os:system", "rm -rf /")


def test_compare_messages_name_the_difference():
    e = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert compare.difference(e, e.clone(), "op") is None
    msg = compare.difference(e, e + torch.tensor([[0, 0], [0, 0.5]]), "op")
    assert "1 of 4 values differ" in msg and "at [1, 1]" in msg and "expected 4" in msg
    assert "shape [2]" in compare.difference(e, torch.ones(2), "op")
    assert "dtype float64" in compare.difference(e, e.double(), "op")
    assert "missing keys ['val']" in compare.difference({"train": 1, "val": 2}, {"train": 1}, "exact")
    hidden = compare.difference(e, e + 1, "op", reveal=False)
    assert "expected" not in hidden and "4 of 4 values differ" in hidden
    assert "expected" not in compare.difference([1, 2, 3], [1, 2], "exact", reveal=False)
    assert compare.difference(1.0, 1.0 + 1e-7, "op") is None
    assert compare.difference(1.0, 1.001, "op") is not None
    assert compare.difference(1.0, 1.00005, "steps") is None


def test_describe_call_shows_shapes_not_values():
    text = describe_call("f", (torch.zeros(2, 3), 0.5), {"seed": 3})
    assert text == "f(tensor float32[2, 3], 0.5, seed=3)"
