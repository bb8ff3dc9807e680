"""Visible checks of assignment 05 (shipped to students; the self-check runs these).

Conventions (as torch.nn.Dropout): ``p`` is the drop probability; the keep mask is
``torch.rand(x.shape, generator=g) >= p`` (float32 draw, True = kept); kept units are scaled by
``1/(1-p)``; eval mode is the identity and returns no mask (``None``); ``p = 1`` gives zeros.

Generators cannot cross the process boundary: the grader sends ``ctx.make(generator, seed)`` and
reproduces the draw with its own ``torch.Generator().manual_seed(seed)``. Models are watched through the
grader-owned :class:`autograder.fixtures.dropout.Probe` (forward hooks on Linear/Conv2d/BatchNorm2d).

Statistical tolerances: every statistical expectation allows 6 standard errors of the quantity
estimated (a correct implementation fails one with probability below 2e-9); the probabilities in the
cases are chosen so that each known mistake lands dozens of standard errors away.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from autograder.checks import Suite
from autograder.compare import close
from autograder.data import load_source_data

suite = Suite(__name__)
FIX = "autograder.fixtures.dropout"
Z = 6.0  # standard errors allowed by every statistical expectation

HINTS = {
    "no_scaling": "kept units were not scaled: inverted dropout multiplies them by 1/(1-p), so that the "
                  "expected output equals x and eval mode can be the identity.",
    "inv_p": "kept units were scaled by 1/p; p is the DROP probability, so the keep probability is 1-p and the "
             "scale is 1/(1-p).",
    "swapped": "keep and drop are swapped: a unit is KEPT where rand >= p (p is the drop probability, as in "
               "nn.Dropout), so it is kept with probability 1-p.",
    "eval_active": "dropout is active in eval mode; with train=False the output must be x itself (the "
                   "identity) and the mask None.",
    "p1_nan": "p=1 gives NaN (0/0): when every unit is dropped, return zeros (e.g. scale = 0 when p == 1, or "
              "torch.where(mask, x / (1 - p), 0)).",
    "in_place": "the input x was modified in place: compute a new tensor (out = x * ...), never x *= ..., "
                "x.mul_() or x[~mask] = 0.",
    "mask_not_reused": "the backward pass did not reuse the forward mask: dx = dout * mask / (1 - p) with the "
                       "mask you were given, never a new random draw.",
    "after_output": "dropout is applied after the output layer: the logits must come straight out of the last "
                    "Linear layer; dropout belongs after the hidden activations only.",
}


def rand_x(gen: torch.Generator, shape, dtype=torch.float32) -> torch.Tensor:
    """Values in +-[0.5, 2.5] (never zero, both signs), so kept and dropped units are told apart."""
    mag = torch.rand(shape, generator=gen, dtype=torch.float64) * 2 + 0.5
    sign = torch.where(torch.rand(shape, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
    return (mag * sign).to(dtype)


def drawn_mask(shape, p: float, seed: int | None) -> torch.Tensor:
    """The course's keep mask from a fresh generator seeded ``seed`` (None: the global generator seeded 0,
    as ``ctx.call`` seeds it before every call)."""
    if seed is None:
        torch.manual_seed(0)
        return torch.rand(tuple(shape)) >= p
    return torch.rand(tuple(shape), generator=torch.Generator().manual_seed(seed)) >= p


def describe_tensor(t) -> str:
    return f"{t.dtype} {list(t.shape)}" if isinstance(t, torch.Tensor) else type(t).__name__


# ---------------------------------------------------------------------------------------------------
# 1. by hand
# ---------------------------------------------------------------------------------------------------
PARAM_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")
STEPS = ("mask1", "mask2", "h1", "a1", "h2", "a2", "y", "loss", "dY", "grads", "new_params", "y_unseen")


def by_hand_inputs(seed: int | None):
    """(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen): the worksheet's numbers (seed None), or
    small random integers with other probabilities, sizes and learning rate."""
    if seed is None:
        d = load_source_data("dropout_by_hand")
        t = {k: torch.tensor(d[k], dtype=torch.float32) for k in ("X_train", "X_unseen", "Y_target", *PARAM_KEYS)}
        nums = torch.tensor(d["random_numbers"], dtype=torch.float32)
        return (t["X_train"], t["Y_target"], {k: t[k] for k in PARAM_KEYS}, nums[:8].reshape(2, 4),
                nums[8:14].reshape(2, 3), d["p1"], d["p2"], d["lr"], t["X_unseen"])
    g = torch.Generator().manual_seed(seed)
    n, d_in, h1, h2, d_out = 3, 3, 5, 4, 2
    ri = lambda lo, hi, *s: torch.randint(lo, hi, s, generator=g).float()  # noqa: E731
    params = {"W1": ri(-1, 3, h1, d_in), "b1": ri(-1, 2, h1), "W2": ri(-1, 2, h2, h1), "b2": ri(0, 2, h2),
              "W3": ri(-1, 2, d_out, h2), "b3": ri(-2, 2, d_out)}
    X, X_unseen, Y = ri(0, 5, n, d_in), ri(0, 4, 2, d_in), ri(-5, 10, n, d_out)
    rand1 = torch.round(torch.rand(n, h1, generator=g) * 100) / 100
    rand2 = torch.round(torch.rand(n, h2, generator=g) * 100) / 100
    p1, p2 = (0.405, 0.255) if seed % 2 else (0.605, 0.155)  # never equal to a 2-decimal random number
    return X, Y, params, rand1, rand2, p1, p2, 0.002 + 0.001 * (seed % 3), X_unseen


def reference_by_hand(X, Y, params, rand1, rand2, p1, p2, lr, X_unseen) -> dict:
    """The grader's own computation with nn.functional and autograd (float64)."""
    leaf = {k: v.double().requires_grad_(True) for k, v in params.items()}
    m1, m2 = rand1 >= p1, rand2 >= p2
    h1 = F.relu(F.linear(X.double(), leaf["W1"], leaf["b1"]))
    h2 = F.relu(F.linear(h1 * m1 / (1 - p1), leaf["W2"], leaf["b2"]))
    y = F.linear(h2 * m2 / (1 - p2), leaf["W3"], leaf["b3"])
    loss = F.mse_loss(y, Y.double(), reduction="sum")
    grads = dict(zip(PARAM_KEYS, torch.autograd.grad(loss, [leaf[k] for k in PARAM_KEYS])))
    new = {k: (params[k].double() - lr * grads[k]) for k in PARAM_KEYS}
    u = F.relu(F.linear(F.relu(F.linear(X_unseen.double(), new["W1"], new["b1"])), new["W2"], new["b2"]))
    y_unseen = F.linear(u, new["W3"], new["b3"])
    f32 = lambda v: v.detach().float()  # noqa: E731
    return {"grads": {k: f32(v) for k, v in grads.items()}, "new_params": {k: f32(v) for k, v in new.items()},
            "y_unseen": f32(y_unseen), "loss": f32(loss)}


BY_HAND = {
    "mask1": ("keep masks", "mask1 = rand1 >= p1 (a bool tensor, True = kept); the worksheet's '> p' gives the "
                            "same masks here."),
    "mask2": ("keep masks", "mask2 = rand2 >= p2 (a bool tensor, True = kept)."),
    "h1": ("hidden activations of layer 1", "h1 = relu(X @ W1.T + b1), rows are examples."),
    "a1": ("scaled activations of layer 1", "a1 is h1 * mask1 / (1 - p1): dropped units are 0, kept ones are "
                                            "multiplied by 1/(1-p1) = 2."),
    "h2": ("hidden activations of layer 2", "h2 = relu(a1 @ W2.T + b2): layer 2 sees the dropped-out, scaled a1."),
    "a2": ("scaled activations of layer 2", "a2 is h2 * mask2 / (1 - p2), with the exact scale 1/(1-p2), not a "
                                            "rounded one."),
    "y": ("network output", "y = a2 @ W3.T + b3 (no activation and no dropout after the output layer)."),
    "loss": ("summed squared error", "the loss is ((y - Y_target) ** 2).sum(): the SUM over examples and outputs, not "
                                     "the mean."),
    "dY": ("MSE gradient", "dY is 2 * (y - Y_target), the gradient of the summed squared error."),
    "grads": ("gradients", "compute the loss from tensors with requires_grad=True (clones of the parameters), "
                           "through the same masks, and call loss.backward()."),
    "new_params": ("one SGD step", "new_params[k] = params[k] - lr * grads[k], as new tensors."),
    "y_unseen": ("inference", "at inference every unit is kept and nothing is rescaled: "
                              "relu(relu(X_unseen @ W1'.T + b1') @ W2'.T + b2') @ W3'.T + b3' with the new parameters."),
}
DEPENDS = {"mask1": (), "mask2": (), "h1": (), "a1": ("h1", "mask1"), "h2": ("a1",), "a2": ("h2", "mask2"),
           "y": ("a2",), "loss": ("y",), "dY": ("y",), "grads": ("mask1", "mask2", "a1", "a2", "y"),
           "new_params": ("grads",), "y_unseen": ("new_params",)}
TIER = {"grads": "composite", "new_params": "composite", "y_unseen": "composite", "loss": "composite"}


def call_by_hand(ctx, seed):
    args = by_hand_inputs(seed)
    out, after = ctx.call_with_args("dropout_by_hand", *args)
    ctx.expect(isinstance(out, dict), f"dropout_by_hand should return a dict; got {type(out).__name__}")
    missing = [k for k in STEPS if k not in out]
    ctx.expect(not missing, f"the returned dict lacks the keys {missing}; expected {list(STEPS)}")
    for key in ("grads", "new_params"):
        ctx.expect(isinstance(out[key], dict) and set(out[key]) >= set(PARAM_KEYS),
                   f"out[{key!r}] should be a dict with the keys {list(PARAM_KEYS)}")
        out[key] = {k: out[key][k] for k in PARAM_KEYS}
    if isinstance(out["loss"], float):  # a Python number is as good as a 0-d tensor
        out["loss"] = torch.tensor(out["loss"], dtype=torch.float32)
    return args, out, after


def make_by_hand_check(step: str):
    what, hint = BY_HAND[step]

    def run(ctx, seed=None):
        args, out, _ = call_by_hand(ctx, seed)
        for dep in DEPENDS[step]:  # a wrong earlier step is named as the cause
            ctx.expect_reference(out[dep], f"out[{dep!r}] (used by {step})", tier=TIER.get(dep, "op"),
                                 hint=f"'{step}' is computed from '{dep}', which is wrong: fix '{dep}' first.")
        ctx.expect_reference(out[step], f"out[{step!r}] ({what})", tier=TIER.get(step, "op"), hint=hint)
        if step in ("grads", "new_params", "y_unseen", "loss"):
            ctx.expect_equal(out[step], reference_by_hand(*args)[step],
                             f"out[{step!r}] compared with the grader's autograd computation",
                             tier=TIER[step], hint=hint)

    run.__name__ = step
    return run


BY_HAND_POINTS = {"mask1": 0.5, "mask2": 0.5, "h1": 0.5, "a1": 1, "h2": 0.5, "a2": 1, "y": 0.5, "loss": 0.5,
                  "dY": 0.5, "grads": 1.5, "new_params": 1, "y_unseen": 1}
by_hand = {}
for _step in STEPS:
    by_hand[_step] = suite.check("dropout_by_hand", points=BY_HAND_POINTS[_step], name=f"dropout_by_hand.{_step}",
                                 title=f"{_step}: {BY_HAND[_step][0]}", cases=[{}])(make_by_hand_check(_step))


@suite.check("dropout_by_hand", points=0.5, title="the parameters, inputs and random numbers passed in are unchanged",
             cases=[{}],
             hint="take the SGD step on new tensors (new = W - lr * grad) and compute the gradients on clones "
                  "(W.detach().clone().requires_grad_()), never on the caller's tensors.")
def by_hand_inputs_unchanged(ctx, seed=None):
    args, out, after = call_by_hand(ctx, seed)
    ctx.expect_reference(out["new_params"], "out['new_params'] (one SGD step)", tier="composite",
                         hint="'new_params' is wrong: fix it first (see its own check).")
    names = ("X", "Y_target", "params", "rand1", "rand2", "p1", "p2", "lr", "X_unseen")
    for name, before, now in zip(names, args, after):
        ctx.expect_unchanged(now, before, f"argument {name} was modified by the call")


# ---------------------------------------------------------------------------------------------------
# 2. dropout_forward
# ---------------------------------------------------------------------------------------------------
def call_forward(ctx, x, p, train, seed, *, defaults=False):
    """(out, mask, x_after). ``seed`` None: no generator argument (the global generator)."""
    if defaults:
        result, after = ctx.call_with_args("dropout_forward", x)
    else:
        gen = None if seed is None else ctx.make(f"{FIX}:generator", seed)
        result, after = ctx.call_with_args("dropout_forward", x, p, train, gen)
    ctx.expect(isinstance(result, (tuple, list)) and len(result) == 2,
               "dropout_forward should return a tuple (out, mask)")
    out, mask = result
    ctx.expect(isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(x.shape) and out.dtype == x.dtype,
               f"out should be a {x.dtype} tensor of shape {list(x.shape)}; got {describe_tensor(out)}")
    if train:
        ctx.expect(isinstance(mask, torch.Tensor) and mask.dtype == torch.bool and tuple(mask.shape) == tuple(x.shape),
                   f"in train mode the mask should be a bool tensor of shape {list(x.shape)} (True = kept); "
                   f"got {describe_tensor(mask)}",
                   hint="mask = torch.rand(x.shape, generator=generator) >= p is already a bool tensor; return it "
                        "as it is (not scaled, not converted to float).")
    return out, mask, after[0]


def looks_like_dropout(ctx, x, out, mask, p):
    """Preconditions that every null submission fails: the mask keeps some units and drops others, dropped
    units are 0 and the kept ones are x times one common positive factor."""
    ctx.expect(bool(mask.any()) and not bool(mask.all()),
               f"with p={p} the mask should keep some units and drop others; it "
               + ("keeps all of them" if bool(mask.all()) else "drops all of them"))
    ctx.expect(bool((out[~mask] == 0).all()), "the dropped units (mask False) should be 0 in out")
    ratio = (out[mask].double() / x[mask].double())
    ctx.expect(bool((ratio > 0).all()) and close(torch.full_like(ratio, float(ratio.max())), ratio, "composite"),
               "the kept units should all be x times the same positive factor")
    return float(ratio.mean())


@suite.check("dropout_forward", points=2,
             title="the keep mask is exactly torch.rand(x.shape, generator=generator) >= p (bool, True = kept)",
             cases=[{"shape": [4, 6], "p": 0.3, "seed": 1},
                    {"shape": [3, 5], "p": "drawn", "seed": 2},
                    {"shape": [2, 3, 4], "p": 0.6, "seed": 3, "dtype": "float64"},
                    {"shape": [5, 4], "p": 0.5, "seed": None, "defaults": True}],
             hint="draw once per element, in float32, from the generator you are given (torch's global generator "
                  "when it is None): mask = torch.rand(x.shape, generator=generator) >= p.")
def mask_convention(ctx, shape, p, seed, dtype="float32", defaults=False):
    g = ctx.gen((seed or 0) + 100)
    x = rand_x(g, shape, getattr(torch, dtype))
    if p == "drawn":  # p equals one of the numbers drawn: that unit is kept (rand >= p), a '>' rule drops it
        p = float(torch.rand(tuple(shape), generator=torch.Generator().manual_seed(seed)).flatten()[4])
    out, mask, _ = call_forward(ctx, x, p, True, seed, defaults=defaults)
    ctx.expect_reference(mask, f"mask (p={p:g})", tier="exact")
    ctx.expect_equal(mask, drawn_mask(shape, p, seed), f"mask compared with torch.rand(x.shape, generator=g) >= {p:g}",
                     tier="exact")


@suite.check("dropout_forward", points=2,
             title="train mode: dropped units are 0, kept units are x / (1 - p) (with your own mask)",
             cases=[{"shape": [8, 16], "p": 0.3, "seed": 11}, {"shape": [5, 7], "p": 0.75, "seed": 12}],
             hint="out = x * mask / (1 - p): zero the dropped units and scale the kept ones by 1/(1-p).")
def train_values(ctx, shape, p, seed, dtype="float32"):
    x = rand_x(ctx.gen(seed + 100), shape, getattr(torch, dtype))
    out, mask, _ = call_forward(ctx, x, p, True, seed)
    factor = looks_like_dropout(ctx, x, out, mask, p)
    ctx.expect(not close(1.0, factor, "op"), "the kept units are not rescaled", hint=HINTS["no_scaling"])
    if not close(1.0 / (1.0 - p), 1.0 / p, "steps"):  # p = 0.5: 1/p is the right factor
        ctx.expect(not close(1.0 / p, factor, "op"), "the kept units are scaled by 1/p", hint=HINTS["inv_p"])
    expected = torch.where(mask, x / (1 - p), torch.zeros_like(x))
    ctx.expect_equal(out, expected, f"out compared with x * mask / (1 - {p:g})", tier="op")


@suite.check("dropout_forward", points=1.5,
             title="eval mode (train=False) is the identity and returns no mask (None), whatever p",
             cases=[{"shape": [6, 5], "p": 0.4, "seed": 21}],
             hint="with train=False return (x, None): at test time every unit is kept and nothing is rescaled.")
def eval_identity(ctx, shape, p, seed):
    x = rand_x(ctx.gen(seed + 100), shape)
    out, mask, _ = call_forward(ctx, x, p, True, seed)
    ctx.expect(not torch.equal(out, x), f"in train mode (p={p}) dropout_forward must change x; it returned x "
                                        f"unchanged")
    for q in (p, 0.9, 1.0):
        out, mask, _ = call_forward(ctx, x, q, False, seed)
        ctx.expect(torch.equal(out, x), f"in eval mode with p={q} out should equal x exactly",
                   hint=HINTS["eval_active"])
        ctx.expect(mask is None, f"in eval mode the mask should be None; got {describe_tensor(mask)}",
                   hint="eval mode draws nothing and returns mask None (dropout_backward treats None as the "
                        "identity).")


@suite.check("dropout_forward", points=1.5,
             title="p=0 keeps everything (out = x), p=1 drops everything (zeros, no NaN)",
             cases=[{"shape": [4, 5], "seed": 31}],
             hint="the mask rule handles both ends (rand >= 0 is always True; rand >= 1 never is); only the scale "
                  "needs care at p=1: use 0 there instead of 1/(1-p).")
def edge_p(ctx, shape, seed):
    x = rand_x(ctx.gen(seed + 100), shape)
    out, mask, _ = call_forward(ctx, x, 0.0, True, seed)
    ctx.expect(bool(mask.all()), "with p=0 every unit should be kept (mask all True)")
    ctx.expect_equal(out, x, "out with p=0", tier="op")
    out, mask, _ = call_forward(ctx, x, 1.0, True, seed + 1)
    ctx.expect(not bool(torch.isnan(out).any()), "with p=1 out contains NaN", hint=HINTS["p1_nan"])
    ctx.expect(not bool(mask.any()), "with p=1 every unit should be dropped (mask all False)")
    ctx.expect_equal(out, torch.zeros_like(x), "out with p=1", tier="exact")


@suite.check("dropout_forward", points=1, title="x is not modified (train and eval mode)",
             cases=[{"shape": [6, 8], "p": 0.5, "seed": 41}], hint=HINTS["in_place"])
def input_unchanged(ctx, shape, p, seed):
    x = rand_x(ctx.gen(seed + 100), shape)
    out, mask, x_after = call_forward(ctx, x, p, True, seed)
    looks_like_dropout(ctx, x, out, mask, p)
    ctx.expect_unchanged(x_after, x, "x was modified by a train-mode call", hint=HINTS["in_place"])
    _, _, x_after = call_forward(ctx, x, p, False, seed)
    ctx.expect_unchanged(x_after, x, "x was modified by an eval-mode call", hint=HINTS["in_place"])


@suite.check("dropout_forward", points=2,
             title="statistics over 20000 draws: keep rate 1-p, E[train output] = eval output = x, second moment "
                   "x^2/(1-p), all as F.dropout (6 standard errors)",
             cases=[{"d": 6, "k": 20000, "p": 0.3, "seed": 51}],
             hint="out = x * mask / (1 - p) with mask = rand >= p: E[out] = x.")
def expectation(ctx, d, k, p, seed):
    row = torch.linspace(-2.0, 3.0, d)
    row[row.abs() < 0.3] = 0.5
    x = row.expand(k, d).contiguous()
    out, mask, _ = call_forward(ctx, x, p, True, seed)
    n = k * d
    keep = float(mask.double().mean())
    se_keep = math.sqrt(p * (1 - p) / n)
    if abs(keep - p) <= Z * se_keep and abs(p - 0.5) > 0.1:
        ctx.fail(f"the mask keeps a fraction {keep:.4f} of the units; expected 1-p = {1 - p:.4f}", HINTS["swapped"])
    ctx.expect(abs(keep - (1 - p)) <= Z * se_keep,
               f"the mask keeps a fraction {keep:.4f} of the units; expected 1-p = {1 - p:.4f} "
               f"(+-{Z * se_keep:.4f})")
    xd, od = row.double(), out.double()
    mean, second = od.mean(0), (od ** 2).mean(0)
    se_mean = xd.abs() * math.sqrt(p / (1 - p) / k)
    if bool(((mean - (1 - p) * xd).abs() <= Z * se_mean).all()):
        ctx.fail("E[out] is (1-p) x, not x: the train-mode mean does not match the eval output", HINTS["no_scaling"])
    if bool(((mean - (1 - p) / p * xd).abs() <= Z * se_mean).all()):
        ctx.fail("E[out] is (1-p)/p x, not x", HINTS["inv_p"])
    worst = int(((mean - xd).abs() / se_mean).argmax())
    ctx.expect(bool(((mean - xd).abs() <= Z * se_mean).all()),
               f"the mean of the train-mode outputs over {k} draws should equal the eval output x (unit {worst}: "
               f"mean {float(mean[worst]):.4f}, x {float(xd[worst]):.4f}, tolerance {Z * float(se_mean[worst]):.4f})")
    se_second = xd ** 2 * math.sqrt(p / (1 - p) ** 3 / k)
    ctx.expect(bool(((second - xd ** 2 / (1 - p)).abs() <= Z * se_second).all()),
               "the second moment E[out^2] should be x^2/(1-p) (kept units scaled by exactly 1/(1-p))")
    torch.manual_seed(seed)
    ref = F.dropout(x.double(), p, training=True)
    se_two = math.sqrt(2) * se_mean
    ctx.expect(bool(((mean - ref.mean(0)).abs() <= Z * se_two).all()),
               f"the mean over {k} draws differs from F.dropout's by more than {Z:g} standard errors")


# ---------------------------------------------------------------------------------------------------
# 3. dropout_backward
# ---------------------------------------------------------------------------------------------------
def call_backward(ctx, dout, mask, p):
    dx, after = ctx.call_with_args("dropout_backward", dout, mask, p)
    ctx.expect(isinstance(dx, torch.Tensor) and tuple(dx.shape) == tuple(dout.shape) and dx.dtype == dout.dtype,
               f"dropout_backward should return a {dout.dtype} tensor of shape {list(dout.shape)}; got "
               f"{describe_tensor(dx)}")
    return dx, after


@suite.check("dropout_backward", points=2,
             title="train mode: dx = dout * mask / (1 - p) with the given mask (vs autograd), dout and mask unchanged",
             cases=[{"shape": [6, 10], "p": 0.4, "seed": 61}],
             hint="dx = dout * mask / (1 - p), with the mask you were given (the one the forward pass used).")
def train_grad(ctx, shape, p, seed, dtype="float32"):
    g = ctx.gen(seed)
    dout = rand_x(g, shape, getattr(torch, dtype))
    mask = drawn_mask(shape, p, seed + 1)
    dx, after = call_backward(ctx, dout, mask, p)
    zero_pattern = dx == 0
    ctx.expect(not torch.equal(dx, dout), "dx equals dout: the mask and the scale were not applied")
    if not torch.equal(zero_pattern, ~mask) and bool(zero_pattern.any()) and not bool(zero_pattern.all()):
        ctx.fail("dx is zero where the given mask keeps units (or non-zero where it drops them)",
                 HINTS["mask_not_reused"])
    x = rand_x(g, shape, torch.float64).requires_grad_(True)
    (x * mask / (1 - p) * dout.double()).sum().backward()
    ctx.expect_reference(dx, "dx", tier="op")
    ctx.expect_equal(dx, x.grad.to(dout.dtype), "dx compared with autograd through x * mask / (1 - p)", tier="op")
    ctx.expect_unchanged(after[0], dout, "dout was modified by the call", hint=HINTS["in_place"])
    ctx.expect_unchanged(after[1], mask, "mask was modified by the call", hint=HINTS["in_place"])


@suite.check("dropout_backward", points=1,
             title="eval mode (mask None): dx = dout",
             cases=[{"shape": [5, 4], "p": 0.5, "seed": 71}],
             hint="a mask of None means the forward pass ran in eval mode (the identity): return dout.")
def eval_grad(ctx, shape, p, seed):
    g = ctx.gen(seed)
    dout = rand_x(g, shape)
    mask = drawn_mask(shape, p, seed + 1)
    dx, _ = call_backward(ctx, dout, mask, p)
    ctx.expect(not torch.equal(dx, dout), "with a train-mode mask dx must differ from dout")
    dx, _ = call_backward(ctx, dout, None, p)
    ctx.expect_equal(dx, dout, "dx with mask None (eval mode)", tier="exact")


@suite.check("dropout_backward", points=1,
             title="p=0 (mask all True): dx = dout; p=1 (mask all False): dx = 0, no NaN",
             cases=[{"shape": [3, 7], "seed": 81}],
             hint="with p=1 the scale must be 0, not 1/(1-p) = 1/0.")
def edge_grad(ctx, shape, seed):
    dout = rand_x(ctx.gen(seed), shape)
    dx, _ = call_backward(ctx, dout, torch.ones(shape, dtype=torch.bool), 0.0)
    ctx.expect_equal(dx, dout, "dx with p=0", tier="op")
    dx, _ = call_backward(ctx, dout, torch.zeros(shape, dtype=torch.bool), 1.0)
    ctx.expect(not bool(torch.isnan(dx).any()), "dx with p=1 contains NaN", hint=HINTS["p1_nan"])
    ctx.expect_equal(dx, torch.zeros_like(dout), "dx with p=1", tier="exact")


# ---------------------------------------------------------------------------------------------------
# 4. build_model_do / 5. CNNWithBNDropout: shared probes
# ---------------------------------------------------------------------------------------------------
def leaves(info: dict) -> list:
    """[name, type, extra_repr] of the leaf modules, in registration order."""
    mods = [m for m in info.get("modules", []) if m[0] != ""]
    return [m for m in mods if not any(o[0].startswith(m[0] + ".") for o in mods)]


def install_probe(ctx, ref):
    ctx.method(ref, "apply", ctx.make(f"{FIX}:Probe"))
    return ctx.attr(ref, "_regnorm_probe")


def dropout_p_of(extra: str) -> float | None:
    for part in extra.split(","):
        key, _, value = part.strip().partition("=")
        if key == "p":
            return float(value)
    return None


def expect_initialized(ctx, ref, what: str):
    """Every weight matrix / kernel has entries that differ (the layers' default random initialization): each
    parameter's min and max read through ordinary calls and compared here."""
    flat = []
    for name, shape, _ in ctx.describe(ref).get("parameters", []):
        if len(shape) >= 2 and math.prod(shape):
            lo, hi = ctx.student.method(ctx.student.method_kept(ref, "get_parameter", name), "aminmax")
            if bool(lo == hi):
                flat.append(name)
    ctx.expect(not flat, f"{what}: the weights {flat} are constant (every entry equal)",
               hint="keep the layers' default (random) initialization: with a constant weight matrix every hidden "
                    "unit computes the same thing and learns the same thing.")


def check_dropout_link(ctx, before, after, p, link: str, n_min: int = 200):
    """``after`` (the next Linear's input) should be dropout(relu(before), p): dropped entries 0, kept ones
    relu(before) / (1 - p), and the fraction dropped among the positive entries within Z standard errors of p."""
    h = torch.relu(before).double()
    a = after.double()
    ctx.expect(tuple(h.shape) == tuple(a.shape),
               f"{link}: the input of the next Linear has shape {list(a.shape)}, expected {list(h.shape)}")
    pos = h > 0
    ctx.expect(int(pos.sum()) >= n_min, f"{link}: too few positive activations to judge ({int(pos.sum())})")
    dropped = (a == 0) & pos
    kept = (a != 0) & pos
    ctx.expect(bool((a[~pos] == 0).all()), f"{link}: the next layer sees non-zero values where the ReLU output is 0",
               hint="the order is Linear -> ReLU -> dropout: dropout only zeroes and rescales the ReLU output.")
    rate = float(dropped.sum()) / float(pos.sum())
    se = math.sqrt(max(p * (1 - p), 1e-12) / float(pos.sum()))
    if p > 0:
        ctx.expect(bool(dropped.any()), f"{link}: no activation is dropped in train mode (expected a fraction p={p:g})",
                   hint=f"put a dropout with p={p:g} after this ReLU, and keep the model's train mode working "
                        f"(nn.Dropout(p), or F.dropout(h, p, training=self.training)).")
    ratio = a[kept] / h[kept]
    if bool(kept.any()):
        ctx.expect(close(torch.full_like(ratio, 1 / (1 - p)), ratio, "composite"),
                   f"{link}: the kept activations are scaled by {float(ratio.median()):.4f}; with p={p:g} the scale "
                   f"is 1/(1-p) = {1 / (1 - p):.4f}",
                   hint=f"use the p you were given (here {p:g}) for this dropout layer.")
    ctx.expect(abs(rate - p) <= Z * se,
               f"{link}: {rate:.3f} of the positive activations are dropped; expected p={p:g} (+-{Z * se:.3f})",
               hint=f"use the p you were given (here {p:g}) for this dropout layer.")


def check_no_dropout_link(ctx, before, after, link: str):
    ctx.expect_equal(after, torch.relu(before), f"{link} in eval mode (dropout must be off)", tier="op",
                     hint="model.eval() must switch dropout off: use nn.Dropout modules, or F.dropout(h, p, "
                          "training=self.training).")


def submodules(ctx, ref, kind: str) -> list:
    """Refs to the student model's submodules of type ``kind`` (names from describe), in registration order."""
    return [(name, ctx.student.method_kept(ref, "get_submodule", name))
            for name, typ, _ in ctx.describe(ref).get("modules", []) if typ == kind and name]


def traced(ctx, ref, probe, x, train: bool, seed: int) -> dict:
    """The probe's trace of ``model(x)`` (train or eval mode, globals seeded with ``seed``), tied to the model
    by the grader: the recorded output must be the model's own output (an ordinary call, same mode and seed),
    and every recorded Linear call must be what that Linear module computes on the recorded input (the
    hooks run in the student's process, so what they record is checked against ordinary calls; a trace made
    up there gains nothing)."""
    st = ctx.student
    ctx.last_call = f"the probe's trace of model(x) in {'train' if train else 'eval'} mode"
    kept = st.method_kept(probe, "trace", x, train, global_seed=seed)  # kept: its tensors stay there
    trace = st.method(kept, "copy")
    mode = "train" if train else "eval"
    own = forward_pass(ctx, ref, x, train, seed)  # the student's process seeded as for the trace
    ctx.expect_equal(trace.get("output"), own, f"the traced output vs the model's own forward pass ({mode} mode, "
                                               "same seed)", tier="op")
    # every recorded Linear call is what that Linear module computes on the recorded input
    info = ctx.describe(ref)
    weights = {p[0][: -len(".weight")]: list(p[1]) for p in info.get("parameters", []) if p[0].endswith(".weight")}
    linears = [(name, st.method_kept(ref, "get_submodule", name))
               for name, typ, _ in info.get("modules", []) if typ == "Linear" and name]
    calls = st.method_kept(kept, "__getitem__", "calls")
    for k, (index, call) in enumerate((i, c) for i, c in enumerate(trace.get("calls", [])) if c[0] == "Linear"):
        inp, out = call[1], call[2]
        recorded_input = st.method_kept(st.method_kept(calls, "__getitem__", index), "__getitem__", 1)
        fits = [r for name, r in linears if weights.get(name) == [out.shape[-1], inp.shape[-1]]]
        ok = any(compare_close(st.method(r, "__call__", recorded_input), out) for r in fits)
        ctx.expect(ok, f"Linear call {k + 1} of the trace ({mode} mode) is not what any of the model's Linear "
                       f"layers computes on its recorded input")
    return trace


def forward_pass(ctx, ref, x, train: bool, seed: int):
    """``model.train(train)`` then ``model(x)`` with the student's process seeded with ``seed``: ordinary calls,
    no probe (what the modes checks need is the model's own output)."""
    ctx.last_call = f"model.train({bool(train)}); model(x)"
    ctx.student.method(ref, "train", bool(train))
    return ctx.student.method(ref, "__call__", x, global_seed=seed)


def compare_close(a, b) -> bool:
    return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and close(b, a, "op")


def linear_calls(trace: dict) -> list:
    return [c for c in trace["calls"] if c[0] == "Linear"]


# ---------------------------------------------------------------------------------------------------
# 4. build_model_do
# ---------------------------------------------------------------------------------------------------
def mlp_args(input_shape, num_classes, hidden, p):
    return (tuple(input_shape), num_classes, tuple(hidden), p)


def build_mlp(ctx, input_shape, num_classes, hidden, p, defaults=False):
    if defaults:
        ref = ctx.call("build_model_do")
    else:
        ref = ctx.call("build_model_do", *mlp_args(input_shape, num_classes, hidden, p))
    info = ctx.describe(ref)
    ctx.expect("training" in info, f"build_model_do should return an nn.Module; got {info.get('type')}")
    expect_initialized(ctx, ref, "build_model_do(...)")
    return ref, info


@suite.check("build_model_do", points=1.5,
             title="structure: Flatten, then Linear -> ReLU -> Dropout(p) per hidden width, then the output Linear",
             cases=[{"input_shape": [1, 12, 10], "num_classes": 5, "hidden": [32, 16, 8], "p": 0.3},
                    {"defaults": True}],
             hint="nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Dropout(p), nn.Linear(256, 128), "
                  "nn.ReLU(), nn.Dropout(p), nn.Linear(128, 10)) for the defaults.")
def mlp_structure(ctx, input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5, defaults=False):
    _, info = build_mlp(ctx, input_shape, num_classes, hidden, p, defaults)
    ctx.expect(info.get("type") == "Sequential", f"build_model_do should return an nn.Sequential; got {info.get('type')}")
    mods = [m for m in leaves(info) if m[1] != "Flatten"]
    types = [m[1] for m in mods]
    ctx.expect(not types or types[-1] != "Dropout", f"the last layer is a Dropout; got layers {types}",
               hint=HINTS["after_output"])
    ctx.expect(not types or types[-1] not in ("Softmax", "LogSoftmax"),
               f"the model ends with {types[-1] if types else None}; got layers {types}",
               hint="end with the output Linear: nn.CrossEntropyLoss takes logits and applies log-softmax itself.")
    expected = ["Linear", "ReLU", "Dropout"] * len(hidden) + ["Linear"]
    canon = []
    for i in range(0, len(types) - 1, 3):  # Dropout before ReLU is the same function: accept it
        block = types[i:i + 3]
        canon += ["Linear", "ReLU", "Dropout"] if block in (["Linear", "ReLU", "Dropout"],
                                                            ["Linear", "Dropout", "ReLU"]) else block
    canon += types[len(canon):]
    ctx.expect(canon == expected, f"the layers (without Flatten) are {types}; expected {expected}")
    ps = [dropout_p_of(m[2]) for m in mods if m[1] == "Dropout"]
    ctx.expect(all(q is not None and close(p, q, "float64") for q in ps),
               f"the Dropout layers have p = {ps}; expected p = {p} in every one",
               hint="pass the function's p to every nn.Dropout(p).")


@suite.check("build_model_do", points=1, title="parameter count and shapes (Linear weights and biases only)",
             cases=[{"input_shape": [2, 6, 5], "num_classes": 7, "hidden": [24, 12], "p": 0.25}, {"defaults": True}],
             hint="Linear(prod(input_shape), hidden[0]), Linear(hidden[i], hidden[i+1]), ..., "
                  "Linear(hidden[-1], num_classes).")
def mlp_params(ctx, input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5, defaults=False):
    _, info = build_mlp(ctx, input_shape, num_classes, hidden, p, defaults)
    widths = [math.prod(input_shape), *hidden, num_classes]
    expected = []
    for a, b in zip(widths[:-1], widths[1:]):
        expected += [[b, a], [b]]
    got = [shape for _, shape, _ in info.get("parameters", [])]
    count = sum(math.prod(s) for s in got)
    want = sum(math.prod(s) for s in expected)
    ctx.expect(count == want, f"the model has {count} parameters; expected {want}")
    ctx.expect(got == expected, f"parameter shapes {got}; expected {expected}")
    ctx.expect(all(flag for _, _, flag in info.get("parameters", [])), "every parameter should require grad")


@suite.check("build_model_do", points=2,
             title="probe: dropout(p) sits after every hidden ReLU (zeros, 1/(1-p) scale, rate p), none on the "
                   "input or after the output layer; none in eval mode",
             cases=[{"input_shape": [1, 12, 10], "num_classes": 5, "hidden": [64, 48], "p": 0.3, "n": 40, "seed": 3}],
             hint="Linear -> ReLU -> Dropout(p) for every hidden layer; the output Linear is the last layer.")
def mlp_probe(ctx, n, seed, input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5, defaults=False):
    ref, _ = build_mlp(ctx, input_shape, num_classes, hidden, p, defaults)
    probe = install_probe(ctx, ref)
    x = torch.rand((n, *input_shape), generator=ctx.gen(seed)) * 2 - 0.5
    for train in (True, False):
        trace = traced(ctx, ref, probe, x, train, seed)
        lins = linear_calls(trace)
        ctx.expect(len(lins) == len(hidden) + 1, f"the forward pass uses {len(lins)} Linear layers; expected "
                                                 f"{len(hidden) + 1}")
        ctx.expect_equal(lins[0][1], x.flatten(1), f"input of the first Linear ({'train' if train else 'eval'} mode)",
                         tier="exact", hint="no dropout on the input: Flatten goes straight into the first Linear.")
        for i in range(len(hidden)):
            link = f"hidden layer {i + 1} -> Linear {i + 2}"
            if train:
                check_dropout_link(ctx, lins[i][2], lins[i + 1][1], p, link)
            else:
                check_no_dropout_link(ctx, lins[i][2], lins[i + 1][1], link)
        ctx.expect_equal(trace["output"], lins[-1][2], "model output vs the output Linear's output", tier="exact",
                         hint=HINTS["after_output"])


@suite.check("build_model_do", points=1,
             title="train mode is stochastic, eval mode deterministic; deepcopy and state_dict round trips agree",
             cases=[{"input_shape": [1, 8, 8], "num_classes": 4, "hidden": [32], "p": 0.5, "n": 6, "seed": 4}],
             hint="use nn.Dropout(p) modules, which follow model.train() / model.eval().")
def mlp_modes(ctx, input_shape, num_classes, hidden, p, n, seed):
    ref, _ = build_mlp(ctx, input_shape, num_classes, hidden, p)
    x = torch.rand((n, *input_shape), generator=ctx.gen(seed))
    t1 = forward_pass(ctx, ref, x, True, 1)
    t2 = forward_pass(ctx, ref, x, True, 2)
    ctx.expect(not torch.equal(t1, t2), "two train-mode forward passes gave the same output: dropout is not active "
                                        "in train mode")
    e1 = forward_pass(ctx, ref, x, False, 1)
    e2 = forward_pass(ctx, ref, x, False, 2)
    modes = ctx.module_modes(ref)
    ctx.expect(not any(modes.values()), "after model.eval() some submodule is still in training mode")
    ctx.expect_equal(e2, e1, "eval-mode outputs with different random seeds", tier="exact",
                     hint="model.eval() must switch dropout off.")
    expect_copies(ctx, ref, x)


def expect_copies(ctx, ref, x):
    """In eval mode, copy.deepcopy(model) and a state_dict round trip give the model's output (and stay
    independent of the original); decided in the grader (``ctx.expect_independent_copy``)."""
    ctx.method(ref, "eval")
    params = ctx.describe(ref).get("parameters", [])
    change = {name: torch.zeros(shape) for name, shape, _ in params[:1]}
    ctx.expect_independent_copy(ref, x, change, "the model",
                                hint="build the model from nn modules (nn.Dropout, nn.BatchNorm2d, ...) so that "
                                     "deepcopy and state_dict capture all of it.")


# ---------------------------------------------------------------------------------------------------
# 5. CNNWithBNDropout
# ---------------------------------------------------------------------------------------------------
CNN_PARAMS = [[32, 1, 3, 3], [32], [32], [32], [128, 6272], [128], [128, 128], [128], [10, 128], [10]]


def build_cnn(ctx, p1, p2, defaults=False):
    ref = ctx.call("CNNWithBNDropout") if defaults else ctx.call("CNNWithBNDropout", p1, p2)
    info = ctx.describe(ref)
    ctx.expect("training" in info, f"CNNWithBNDropout(...) should be an nn.Module; got {info.get('type')}")
    expect_initialized(ctx, ref, "CNNWithBNDropout(...)")
    return ref, info


@suite.check("CNNWithBNDropout", points=1.5,
             title="layers: Conv2d(1, 32, 3, padding=1), BatchNorm2d(32), Linear 6272->128, 128->128, 128->10; "
                   "parameter count 821130; BN buffers",
             cases=[{"p1": 0.3, "p2": 0.6}, {"defaults": True}],
             hint="see the table above the class: conv, BN, then three Linear layers (FC1, FC2, FC3).")
def cnn_structure(ctx, p1=0.5, p2=0.5, defaults=False):
    _, info = build_cnn(ctx, p1, p2, defaults)
    extras = {t: [m[2] for m in leaves(info) if m[1] == t] for t in ("Conv2d", "BatchNorm2d", "Linear")}
    ctx.expect(len(extras["Conv2d"]) == 1 and "1, 32, kernel_size=(3, 3)" in extras["Conv2d"][0]
               and "padding=(1, 1)" in extras["Conv2d"][0],
               f"expected one nn.Conv2d(1, 32, kernel_size=3, padding=1); got {extras['Conv2d']}")
    ctx.expect(len(extras["BatchNorm2d"]) == 1 and extras["BatchNorm2d"][0].startswith("32,"),
               f"expected one nn.BatchNorm2d(32); got {extras['BatchNorm2d']}")
    ctx.expect(len(extras["Linear"]) == 3, f"expected three nn.Linear layers; got {extras['Linear']}",
               hint="FC1 6272->128, FC2 128->128 (the hidden layer the extra dropout follows), FC3 128->10.")
    got = sorted(shape for _, shape, _ in info.get("parameters", []))
    count = sum(math.prod(s) for s in got)
    ctx.expect(count == 821130, f"the model has {count} parameters; expected 821130")
    ctx.expect(got == sorted(CNN_PARAMS), f"parameter shapes {got}; expected {sorted(CNN_PARAMS)}")
    buffers = sorted(b[1] for b in info.get("buffers", []) if b[1])
    ctx.expect(buffers == [[32], [32]], f"expected BN's running_mean and running_var [32] as buffers; got {buffers}")
    ctx.expect(not any(len(b) > 2 and b[2] for b in info.get("buffers", [])),
               "a buffer carries autograd history (BN's running statistics must be updated without autograd)")


@suite.check("CNNWithBNDropout", points=2.5,
             title="probe: dropout(p1) after FC1's ReLU, dropout(p2) after FC2's ReLU, none on the conv features or "
                   "after FC3; none in eval mode",
             cases=[{"p1": 0.3, "p2": 0.6, "n": 8, "seed": 5}],
             hint="conv -> BN -> ReLU -> max-pool -> flatten -> FC1 -> ReLU -> dropout(p1) -> FC2 -> ReLU -> "
                  "dropout(p2) -> FC3.")
def cnn_probe(ctx, n, seed, p1=0.5, p2=0.5, defaults=False):
    ref, _ = build_cnn(ctx, p1, p2, defaults)
    probe = install_probe(ctx, ref)
    x = torch.rand((n, 1, 28, 28), generator=ctx.gen(seed))
    for train in (True, False):
        mode = "train" if train else "eval"
        trace = traced(ctx, ref, probe, x, train, seed)
        kinds = [c[0] for c in trace["calls"]]
        ctx.expect(kinds == ["Conv2d", "BatchNorm2d", "Linear", "Linear", "Linear"],
                   f"the forward pass calls {kinds}; expected Conv2d, BatchNorm2d, Linear, Linear, Linear")
        conv, bn, fc1, fc2, fc3 = trace["calls"]
        ctx.expect_equal(conv[1], x, f"input of the conv layer ({mode} mode)", tier="exact")
        ctx.expect_equal([bn[1]["mean"], bn[1]["var"]], [conv[2]["mean"], conv[2]["var"]],
                         f"per-channel mean and variance of BatchNorm2d's input vs the conv output ({mode} mode)",
                         tier="op", hint="BatchNorm2d(32) comes right after the conv layer.")
        if train:  # a fresh BatchNorm2d (weight 1, bias 0) standardizes each channel with its batch statistics
            ctx.expect_equal([bn[2]["mean"], bn[2]["var"]],
                             [torch.zeros(32), conv[2]["var"] / (conv[2]["var"] + 1e-5)],
                             "per-channel mean and variance of the BatchNorm2d output (train mode)", tier="composite",
                             hint="BatchNorm2d(32) normalizes the conv output with its batch statistics in train mode.")
        ctx.expect_equal(fc1[1], bn[2]["pooled"],
                         f"input of FC1 vs max_pool2d(relu(BN output), 2) flattened ({mode} mode)", tier="op",
                         hint="BN -> ReLU -> 2x2 max-pool -> flatten, and no dropout on the convolutional features.")
        if train:  # ties the recorded conv/BN calls to the model's own layers (the Linear calls are tied in traced)
            projected, v = conv_features(ctx, ref, x, seed)
            ctx.expect_equal(projected, fc1[1].double().matmul(v.double()).float() if fc1[1].shape[-1] == v.shape[0]
                             else fc1[1], f"input of FC1 (traced) vs the model's own conv and BN layers, ReLU and 2x2 "
                                          f"max-pool, projected on random directions ({mode} mode)", tier="composite")
        if train:
            check_dropout_link(ctx, fc1[2], fc2[1], p1, "FC1 -> ReLU -> dropout(p1) -> FC2")
            check_dropout_link(ctx, fc2[2], fc3[1], p2, "FC2 -> ReLU -> dropout(p2) -> FC3")
        else:
            check_no_dropout_link(ctx, fc1[2], fc2[1], "FC1 -> FC2")
            check_no_dropout_link(ctx, fc2[2], fc3[1], "FC2 -> FC3")
        ctx.expect_equal(trace["output"], fc3[2], f"model output vs FC3's output ({mode} mode)", tier="exact",
                         hint=HINTS["after_output"])


def conv_features(ctx, ref, x, seed: int):
    """``max_pool2d(relu(bn(conv(x))), 2)`` flattened, computed by the model's own Conv2d and BatchNorm2d modules
    and torch tensor methods through ordinary calls (the tensors stay in the student's process), and returned
    as a seeded random projection ``(features @ v, v)`` (a few numbers instead of the whole feature matrix)."""
    st = ctx.student
    (_, conv), = submodules(ctx, ref, "Conv2d")[:1] or [(None, None)]
    (_, bn), = submodules(ctx, ref, "BatchNorm2d")[:1] or [(None, None)]
    ctx.expect(conv is not None and bn is not None, "the model has no Conv2d or no BatchNorm2d module")
    h = st.method_kept(bn, "__call__", st.method_kept(conv, "__call__", x))
    h = st.method_kept(st.method_kept(st.method_kept(h, "relu"), "unfold", 2, 2, 2), "unfold", 3, 2, 2)
    h = st.method_kept(st.method_kept(h, "amax", (-1, -2)), "flatten", 1)
    v = torch.randn((int(st.method(h, "size", 1)), 4), generator=torch.Generator().manual_seed(seed + 991))
    return st.method(h, "matmul", v), v


@suite.check("CNNWithBNDropout", points=1,
             title="train mode stochastic and updates BN's running stats; eval deterministic and leaves them; "
                   "deepcopy/state_dict round trips agree; the output trains every parameter",
             cases=[{"p1": 0.4, "p2": 0.2, "n": 4, "seed": 6}],
             hint="use nn.BatchNorm2d and nn.Dropout modules (or F.dropout(..., training=self.training)).")
def cnn_modes(ctx, p1, p2, n, seed):
    ref, _ = build_cnn(ctx, p1, p2)
    x = torch.rand((n, 1, 28, 28), generator=ctx.gen(seed))

    names = [b[0] for b in ctx.describe(ref).get("buffers", [])
             if b[0].endswith("running_mean") or b[0].endswith("running_var")]

    def buffers():  # read through ordinary calls, not through the probe
        return [ctx.student.method(ctx.student.method_kept(ref, "get_buffer", n), "clone") for n in names]

    before = buffers()
    t1 = forward_pass(ctx, ref, x, True, 1)
    t2 = forward_pass(ctx, ref, x, True, 2)
    ctx.expect(not torch.equal(t1, t2), "two train-mode forward passes gave the same output: dropout is not active")
    trained = buffers()
    ctx.expect(len(trained) == 2 and not all(torch.equal(a, b) for a, b in zip(before, trained)),
               "BN's running statistics did not change in train mode")
    e1 = forward_pass(ctx, ref, x, False, 1)
    e2 = forward_pass(ctx, ref, x, False, 2)
    ctx.expect_equal(e2, e1, "eval-mode outputs with different random seeds", tier="exact",
                     hint="model.eval() must switch dropout off.")
    ctx.expect(all(torch.equal(a, b) for a, b in zip(trained, buffers())),
               "BN's running statistics changed during eval-mode forward passes")
    expect_copies(ctx, ref, x)
    expect_trainable(ctx, ref, x)


def expect_trainable(ctx, ref, x) -> None:
    """A train-mode output carries autograd history and ``output.sum().backward()`` gives every parameter a finite
    gradient: torch's own autograd, run through ordinary calls (the output stays in the student's process)."""
    st = ctx.student
    st.method(ref, "train", True)
    ctx.last_call = "model.train(); model(x).sum().backward()"
    out = st.method_kept(ref, "__call__", x, global_seed=3)
    ctx.expect(bool(st.attr(out, "requires_grad")),
               "the train-mode output carries no autograd history (requires_grad is False): a loss computed from it "
               "cannot train the model",
               hint="return the last layer's output as it is: no .detach(), no torch.no_grad() inside forward.")
    st.method(st.method_kept(out, "sum"), "backward")
    names = [p[0] for p in ctx.describe(ref).get("parameters", [])]
    # each .grad stays in the student's process (FC1's alone is 3 MB): only "is it a finite tensor" comes back
    grads = [st.method_kept(st.method_kept(ref, "get_parameter", name), "__getattribute__", "grad") for name in names]
    untrained = [name for name, g in zip(names, grads)
                 if g.type != "Tensor" or not bool(st.method(st.method_kept(g, "isfinite"), "all"))]
    ctx.expect(names and not untrained, f"after model(x).sum().backward() the parameters {untrained} have no (finite) "
                                        "gradient: they are not part of the forward pass's graph",
               hint="every layer must be used in forward, on the path to the output (no detached intermediate).")
