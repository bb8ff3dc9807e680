"""Assignment 05 (dropout): alternative correct implementations get full marks, null submissions score 0 on
every check of their group, the by-hand solution reproduces the worksheet's masks, and each guarded pattern
(in-place modification, the '>' rule, ignoring the generator, a float64 draw, dropout after the output
layer, F.dropout in the CNN) is judged with the feedback a student would read."""

from __future__ import annotations

import pytest
import torch
from helpers import assert_full_marks, load_nb, solution_path, with_cells_after, write_nb

from autograder import references
from autograder.checks import run_check
from autograder.notebooks import notebook_namespace
from autograder.student import LocalStudent
from autograder.suites import load_suite

ASSIGNMENT = "05_dropout"

# Variant A: functional forms, masks via ge/masked_fill, loss as a Python float, Dropout before ReLU,
# F.dropout inside the CNN, eval returning a copy.
ALT_A = {
    "dropout_by_hand": r'''
def dropout_by_hand(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen):
    P = {k: v.clone().requires_grad_() for k, v in params.items()}
    mask1, mask2 = rand1.ge(p1), rand2.ge(p2)
    h1 = F.relu(F.linear(X, P["W1"], P["b1"]))
    a1 = h1.masked_fill(~mask1, 0.0) / (1.0 - p1)
    h2 = F.relu(F.linear(a1, P["W2"], P["b2"]))
    a2 = h2.masked_fill(~mask2, 0.0) / (1.0 - p2)
    y = F.linear(a2, P["W3"], P["b3"])
    loss = F.mse_loss(y, Y_target, reduction="sum")
    keys = list(P)
    grads = dict(zip(keys, torch.autograd.grad(loss, [P[k] for k in keys])))
    new = {k: (P[k] - lr * grads[k]).detach() for k in keys}
    y_unseen = F.linear(F.relu(F.linear(F.relu(F.linear(X_unseen, new["W1"], new["b1"])), new["W2"], new["b2"])),
                        new["W3"], new["b3"])
    return {"mask1": mask1, "mask2": mask2, "h1": h1.detach(), "a1": a1.detach(), "h2": h2.detach(),
            "a2": a2.detach(), "y": y.detach(), "loss": loss.item(), "dY": 2 * (y.detach() - Y_target),
            "grads": grads, "new_params": new, "y_unseen": y_unseen}
''',
    "dropout_forward": r'''
def dropout_forward(x, p=0.5, train=True, generator=None):
    if not train:
        return x.clone(), None
    mask = torch.rand(x.shape, generator=generator).ge(p)
    if p == 1:
        return torch.zeros_like(x), mask
    return x * mask.to(x.dtype) / (1 - p), mask
''',
    "dropout_backward": r'''
def dropout_backward(dout, mask, p):
    if mask is None:
        return dout.clone()
    return dout.masked_fill(~mask, 0) * (0.0 if p == 1 else 1 / (1 - p))
''',
    "build_model_do": r'''
from collections import OrderedDict


def build_model_do(input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5):
    d = 1
    for s in input_shape:
        d *= s
    layers = OrderedDict(flat=nn.Flatten(start_dim=1))
    for i, h in enumerate(hidden):
        layers[f"fc{i}"] = nn.Linear(d, h)
        layers[f"drop{i}"] = nn.Dropout(p=p)   # before the ReLU: the same function
        layers[f"act{i}"] = nn.ReLU(inplace=True)
        d = h
    layers["out"] = nn.Linear(d, num_classes)
    return nn.Sequential(layers)
''',
    "CNNWithBNDropout": r'''
class CNNWithBNDropout(nn.Module):
    def __init__(self, p1=0.5, p2=0.5):
        super().__init__()
        self.p1, self.p2 = p1, p2
        self.features = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.fc1 = nn.Linear(6272, 128)
        self.fc2 = nn.Linear(128, 128)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        h = torch.flatten(self.features(x), 1)
        h = F.dropout(torch.relu(self.fc1(h)), self.p1, training=self.training)
        h = F.dropout(torch.relu(self.fc2(h)), self.p2, self.training)
        return self.head(h)
''',
}

# Variant B: nn.Linear modules and torch.optim.SGD for the by-hand step, torch.where everywhere, a
# classifier nn.Sequential in the CNN, the global generator through generator=None.
ALT_B = {
    "dropout_by_hand": r'''
def dropout_by_hand(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen):
    dims = [params["W1"].shape[1], params["W1"].shape[0], params["W2"].shape[0], params["W3"].shape[0]]
    layers = [nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:])]
    with torch.no_grad():
        for i, layer in enumerate(layers, start=1):
            layer.weight.copy_(params[f"W{i}"])
            layer.bias.copy_(params[f"b{i}"])
    m1 = torch.where(rand1 >= p1, True, False)
    m2 = torch.where(rand2 >= p2, True, False)
    h1 = layers[0](X).clamp(min=0)
    a1 = torch.where(m1, h1 * (1 / (1 - p1)), torch.zeros_like(h1))
    h2 = layers[1](a1).clamp(min=0)
    a2 = torch.where(m2, h2 * (1 / (1 - p2)), torch.zeros_like(h2))
    y = layers[2](a2)
    y.retain_grad()
    loss = ((y - Y_target) ** 2).sum()
    opt = torch.optim.SGD([q for l in layers for q in l.parameters()], lr=lr)
    opt.zero_grad()
    loss.backward()
    grads = {}
    for i, layer in enumerate(layers, start=1):
        grads[f"W{i}"], grads[f"b{i}"] = layer.weight.grad.clone(), layer.bias.grad.clone()
    opt.step()
    new = {}
    for i, layer in enumerate(layers, start=1):
        new[f"W{i}"], new[f"b{i}"] = layer.weight.detach().clone(), layer.bias.detach().clone()
    with torch.no_grad():
        y_unseen = layers[2](layers[1](layers[0](X_unseen).relu()).relu())
    return {"mask1": m1, "mask2": m2, "h1": h1.detach(), "a1": a1.detach(), "h2": h2.detach(), "a2": a2.detach(),
            "y": y.detach(), "loss": loss.detach(), "dY": y.grad, "grads": grads, "new_params": new,
            "y_unseen": y_unseen}
''',
    "dropout_forward": r'''
def dropout_forward(x, p=0.5, train=True, generator=None):
    if train:
        keep = 1.0 - p
        mask = torch.rand(x.shape, generator=generator) >= p
        out = torch.where(mask, x / keep if keep > 0 else torch.zeros_like(x), torch.zeros((), dtype=x.dtype))
    else:
        out, mask = x, None
    return out, mask
''',
    "dropout_backward": r'''
def dropout_backward(dout, mask, p):
    if mask is None:
        return dout
    keep = 1.0 - p
    return torch.where(mask, dout / keep, torch.zeros_like(dout)) if keep > 0 else torch.zeros_like(dout)
''',
    "build_model_do": r'''
import functools
import operator


def build_model_do(input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5):
    sizes = [functools.reduce(operator.mul, input_shape, 1), *hidden]
    model = nn.Sequential(nn.Flatten())
    for a, b in zip(sizes[:-1], sizes[1:]):
        model.append(nn.Linear(a, b))
        model.append(nn.ReLU())
        model.append(nn.Dropout(p))
    model.append(nn.Linear(sizes[-1], num_classes))
    return model
''',
    "CNNWithBNDropout": r'''
class CNNWithBNDropout(nn.Module):
    def __init__(self, p1=0.5, p2=0.5):
        super().__init__()
        self.conv = nn.Conv2d(in_channels=1, out_channels=32, kernel_size=(3, 3), padding=1)
        self.bn = nn.BatchNorm2d(num_features=32)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 14 * 14, 128), nn.ReLU(), nn.Dropout(p1),
            nn.Linear(128, 128), nn.ReLU(), nn.Dropout(p2), nn.Linear(128, 10))

    def forward(self, x):
        return self.classifier(F.max_pool2d(F.relu(self.bn(self.conv(x))), kernel_size=2, stride=2))
''',
}


def alternative_submission(alts: dict, path) -> str:
    nb = load_nb(solution_path(ASSIGNMENT))
    for grade_id, src in alts.items():
        nb = with_cells_after(nb, grade_id, [src.strip("\n")])
        for cell in nb["cells"]:
            if cell.get("id") == "injected0":
                cell["id"] = f"alt-{grade_id}"
    return write_nb(nb, path)


@pytest.mark.parametrize("variant", ["A", "B"])
def test_alternative_implementations_get_full_marks(variant, grade, tmp_path):
    alts = {"A": ALT_A, "B": ALT_B}[variant]
    assert_full_marks(grade(alternative_submission(alts, tmp_path / f"alt{variant}.ipynb")))


# -- in-process judging (the same checks through LocalStudent: fast, for many small submissions) -------------
@pytest.fixture(scope="module")
def judge():
    suite = load_suite(ASSIGNMENT, hidden=True)
    refs = references.load(ASSIGNMENT, hidden=True)
    base = notebook_namespace(solution_path(ASSIGNMENT))

    def _judge(group: str, source: str) -> dict:
        ns = dict(base)
        exec(source, ns)
        student = LocalStudent(ns)
        return {c.name: run_check(c, student, refs.checks.get(c.name)) for c in suite.select(group)}

    return _judge


NULL_FORWARD = {
    "input_unchanged": "def dropout_forward(x, p=0.5, train=True, generator=None):\n    return x, None",
    "input_and_ones": "def dropout_forward(x, p=0.5, train=True, generator=None):\n"
                      "    return x, torch.ones(x.shape, dtype=torch.bool)",
    "zeros": "def dropout_forward(x, p=0.5, train=True, generator=None):\n"
             "    return torch.zeros_like(x), torch.zeros(x.shape, dtype=torch.bool)",
    "constant": "def dropout_forward(x, p=0.5, train=True, generator=None):\n"
                "    return torch.full_like(x, 2.0), torch.ones(x.shape, dtype=torch.bool)",
}
NULL_BACKWARD = {
    "dout_unchanged": "def dropout_backward(dout, mask, p):\n    return dout",
    "zeros": "def dropout_backward(dout, mask, p):\n    return torch.zeros_like(dout)",
    "constant": "def dropout_backward(dout, mask, p):\n    return torch.ones_like(dout)",
}
NULL_BY_HAND = {
    "zeros": r'''
def dropout_by_hand(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen):
    z = lambda t: torch.zeros_like(t)
    return {"mask1": rand1 > 2, "mask2": rand2 > 2, "h1": z(rand1), "a1": z(rand1), "h2": z(rand2), "a2": z(rand2),
            "y": z(Y_target), "loss": torch.tensor(0.0), "dY": z(Y_target), "grads": {k: z(v) for k, v in params.items()},
            "new_params": dict(params), "y_unseen": torch.zeros(X_unseen.shape[0], Y_target.shape[1])}
''',
}
NULL_MLP = {
    "identity_head": "def build_model_do(input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5):\n"
                     "    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))",
    "no_dropout": "def build_model_do(input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5):\n"
                  "    return build_model_do_ref(input_shape, num_classes, hidden, 0.0)",
}


@pytest.mark.parametrize("name", sorted(NULL_FORWARD))
def test_null_dropout_forward_scores_zero(judge, name):
    results = judge("dropout_forward", NULL_FORWARD[name])
    assert all(r.score == 0 for r in results.values()), {n: r.score for n, r in results.items() if r.score}


@pytest.mark.parametrize("name", sorted(NULL_BACKWARD))
def test_null_dropout_backward_scores_zero(judge, name):
    results = judge("dropout_backward", NULL_BACKWARD[name])
    assert all(r.score == 0 for r in results.values()), {n: r.score for n, r in results.items() if r.score}


def test_null_by_hand_scores_zero(judge):
    results = judge("dropout_by_hand", NULL_BY_HAND["zeros"])
    assert all(r.score == 0 for r in results.values()), {n: r.score for n, r in results.items() if r.score}


def test_mlp_without_dropout_loses_every_dropout_check(judge):
    src = "build_model_do_ref = build_model_do\n" + NULL_MLP["no_dropout"]
    results = judge("build_model_do", src)
    assert results["build_model_do.mlp_structure"].score == 0
    assert results["build_model_do.mlp_probe"].score == 0
    assert "no activation is dropped in train mode" in results["build_model_do.mlp_probe"].feedback
    assert results["build_model_do.mlp_modes"].score == 0
    results = judge("build_model_do", NULL_MLP["identity_head"])
    assert sum(r.score for r in results.values()) == 0


def test_strict_greater_rule_is_caught_only_by_the_drawn_p_case(judge):
    src = ("def dropout_forward(x, p=0.5, train=True, generator=None):\n"
           "    if not train:\n        return x, None\n"
           "    mask = torch.rand(x.shape, generator=generator) > p\n"
           "    return torch.where(mask, x / (1 - p) if p < 1 else x * 0, torch.zeros_like(x)), mask\n")
    results = judge("dropout_forward", src)
    mask = results["dropout_forward.mask_convention"]
    assert mask.status == "partial"
    assert [c.passed for c in mask.cases] == [True, False, True, True]
    assert all(r.passed for n, r in results.items() if not n.startswith("dropout_forward.mask_convention"))


def test_global_generator_and_float64_draw_are_named(judge):
    results = judge("dropout_forward", "def dropout_forward(x, p=0.5, train=True, generator=None):\n"
                                       "    if not train:\n        return x, None\n"
                                       "    mask = torch.rand(x.shape) >= p\n"
                                       "    return torch.where(mask, x / (1 - p), torch.zeros_like(x)), mask\n")
    fb = results["dropout_forward.mask_convention"].feedback
    assert "the generator argument was ignored" in fb
    results = judge("dropout_forward", "def dropout_forward(x, p=0.5, train=True, generator=None):\n"
                                       "    if not train:\n        return x, None\n"
                                       "    mask = torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p\n"
                                       "    return torch.where(mask, x / (1 - p), torch.zeros_like(x)), mask\n")
    check = results["dropout_forward.mask_convention"]
    assert [c.passed for c in check.cases] == [True, True, False, True]
    assert "drawn in x's dtype" in check.feedback


def test_in_place_forward_loses_only_the_input_check(judge):
    src = ("def dropout_forward(x, p=0.5, train=True, generator=None):\n"
           "    if not train:\n        return x, None\n"
           "    mask = torch.rand(x.shape, generator=generator) >= p\n"
           "    x[~mask] = 0\n    x *= (0.0 if p == 1 else 1 / (1 - p))\n    return x, mask\n")
    results = judge("dropout_forward", src)
    failed = {n for n, r in results.items() if not r.passed}
    assert failed == {"dropout_forward.input_unchanged", "dropout_forward.input_unchanged.hidden"}
    assert "x was modified by a train-mode call" in results["dropout_forward.input_unchanged"].feedback
    assert "never x *= ..." in results["dropout_forward.input_unchanged"].feedback


def test_backward_with_fresh_mask_is_named(judge):
    src = ("def dropout_backward(dout, mask, p):\n"
           "    if mask is None:\n        return dout\n"
           "    fresh = torch.rand(dout.shape) >= p\n"
           "    return torch.where(fresh, dout / (1 - p), torch.zeros_like(dout))\n")
    fb = judge("dropout_backward", src)["dropout_backward.train_grad"].feedback
    assert "did not reuse the forward mask" in fb


def test_by_hand_dependency_is_named_as_the_cause(judge):
    src = r'''
_ref_by_hand = dropout_by_hand
def dropout_by_hand(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen):
    out = _ref_by_hand(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen)
    out["h1"] = out["h1"] + 1.0
    return out
'''
    results = judge("dropout_by_hand", src)
    assert not results["dropout_by_hand.h1"].passed
    assert "'a1' is computed from 'h1', which is wrong: fix 'h1' first." in results["dropout_by_hand.a1"].feedback
    assert results["dropout_by_hand.mask1"].passed and results["dropout_by_hand.y"].passed


def test_cnn_with_dropout_on_logits_as_the_extra_dropout(judge):
    src = r'''
class CNNWithBNDropout(nn.Module):
    def __init__(self, p1=0.5, p2=0.5):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.fc1, self.fc2, self.fc3 = nn.Linear(6272, 128), nn.Linear(128, 128), nn.Linear(128, 10)
        self.d1, self.d2 = nn.Dropout(p1), nn.Dropout(p2)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2).flatten(1)
        h = F.relu(self.fc2(self.d1(F.relu(self.fc1(h)))))
        return self.d2(self.fc3(h))
'''
    results = judge("CNNWithBNDropout", src)
    assert results["CNNWithBNDropout.cnn_structure"].passed
    probe = results["CNNWithBNDropout.cnn_probe"]
    assert probe.score == 0
    assert "no activation is dropped in train mode" in probe.feedback


def test_by_hand_reproduces_the_worksheet():
    ns = notebook_namespace(solution_path(ASSIGNMENT))
    res = ns["dropout_by_hand"](ns["X_train"], ns["Y_target"], ns["params"], ns["rand1"], ns["rand2"], ns["p1"],
                                ns["p2"], ns["lr"], ns["X_unseen"])
    # the worksheet's layer-1 mask [keep, drop, keep, drop] is example 1's row
    assert res["mask1"][0].tolist() == [True, False, True, False]
    assert torch.equal(res["dY"], 2 * (res["y"] - ns["Y_target"]))
    # units dropped for both examples get exactly zero gradient
    dropped = ~res["mask1"].any(0)
    assert dropped.any() and res["grads"]["W1"][dropped].abs().sum() == 0 and res["grads"]["b1"][dropped].abs().sum() == 0
    assert torch.allclose(res["a2"][res["mask2"]], res["h2"][res["mask2"]] / 0.67)
