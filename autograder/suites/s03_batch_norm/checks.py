"""Visible checks of assignment 03 (shipped to students; the self-check runs these).

Conventions (as torch.nn.BatchNorm1d): statistics over dim 0, biased variance in the normalization,
eps inside the square root, running = (1 - momentum) * running + momentum * batch_stat with the
unbiased variance for running_var, eval mode uses the running statistics only.

``batchnorm_forward`` updates ``bn_param`` in place (CS231n); the grader reads it back with
``ctx.call_with_args``. Its ``cache`` travels back to the student's ``batchnorm_backward`` as plain
data (objects without a plain-data form stay in the student process as refs and are resolved there).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks import Suite
from autograder.compare import at_most, close, vjp
from autograder.data import load_source_data
from autograder.fixtures import batchnorm as fx
from autograder.wire import Ref

suite = Suite(__name__)
EPS = 1e-5
MOMENTUM = 0.1
STEPS = ("linear", "relu", "mean", "var", "std", "x_hat", "out")


def batch(gen: torch.Generator, n: int, d: int, dtype=torch.float32, scale: float = 3.0) -> torch.Tensor:
    """(n, d) with a different scale and offset per feature."""
    scales = torch.linspace(0.5, scale, d, dtype=torch.float64)
    offsets = torch.linspace(-2.0, 4.0, d, dtype=torch.float64)
    return (torch.randn(n, d, generator=gen, dtype=torch.float64) * scales + offsets).to(dtype)


def affine(gen: torch.Generator, d: int, dtype=torch.float32):
    gamma = (torch.rand(d, generator=gen, dtype=torch.float64) * 2 + 0.5).to(dtype)
    gamma[::2] *= -1
    beta = torch.randn(d, generator=gen, dtype=torch.float64).to(dtype)
    return gamma, beta


# ---------------------------------------------------------------------------------------------------
# 1. by hand
# ---------------------------------------------------------------------------------------------------
def by_hand_inputs(seed: int | None):
    """The worksheet's numbers (seed None), or random small integers (5 examples, so batch means are
    never exactly halfway between integers)."""
    if seed is None:
        data = load_source_data("batchnorm_by_hand")
        return tuple(torch.tensor(data[k], dtype=torch.float32) for k in ("X", "W", "b", "gamma", "beta"))
    g = torch.Generator().manual_seed(seed)
    X = torch.randint(-1, 4, (5, 4), generator=g).float()
    W = torch.randint(-2, 3, (3, 4), generator=g).float()
    b = torch.randint(-1, 2, (3,), generator=g).float()
    gamma = torch.randint(1, 4, (3,), generator=g).float() * torch.tensor([1.0, -1.0, 1.0])
    beta = torch.randint(-1, 2, (3,), generator=g).float()
    return X, W, b, gamma, beta


BY_HAND_HINTS = {
    "linear": "the linear layer is X @ W.T + b (rows of X are examples, rows of W are output features).",
    "relu": "ReLU keeps positive values and sets the others to 0: torch.clamp(Z, min=0) or torch.relu(Z).",
    "mean": "one mean per feature, over the examples: H.mean(dim=0); with round_stats=True round it with "
            "torch.round.",
    "var": "the biased variance over the examples, around the exact (unrounded) mean: divide by N, not N-1.",
    "std": "std = sqrt(var + eps) (eps inside the square root); with round_stats=True round it with torch.round.",
    "x_hat": "x_hat = (H - mean) / std, with the mean and std you returned (rounded if round_stats=True).",
    "out": "out = gamma * x_hat + beta, per feature.",
}


def make_by_hand_check(step: str, index: int):
    def run(ctx, round_stats, seed=None, eps=None):
        X, W, b, gamma, beta = by_hand_inputs(seed)
        kwargs = {} if eps is None else {"eps": eps}
        out = ctx.call("batchnorm_by_hand", X, W, b, gamma, beta, round_stats=round_stats, **kwargs)
        ctx.expect(isinstance(out, dict), f"batchnorm_by_hand should return a dict; got {type(out).__name__}")
        missing = [k for k in STEPS if k not in out]
        ctx.expect(not missing, f"the returned dict lacks the keys {missing}; expected {list(STEPS)}")
        ctx.expect_reference(out[step], f"step {index + 1}, out[{step!r}] (round_stats={round_stats})",
                             tier="op", hint=BY_HAND_HINTS[step])
        if step == "out" and not round_stats:
            ref = F.batch_norm(torch.relu(X @ W.T + b), None, None, gamma, beta, training=True,
                               eps=EPS if eps is None else eps)
            ctx.expect_equal(out["out"], ref, "out (exact path) compared with F.batch_norm", tier="composite",
                             hint=BY_HAND_HINTS["var"])

    run.__name__ = step
    return run


BY_HAND_CASES = [{"round_stats": True}, {"round_stats": False}]
by_hand = {}
for _i, _step in enumerate(STEPS):
    by_hand[_step] = suite.check("batchnorm_by_hand", points=0.5, name=f"batchnorm_by_hand.{_step}",
                                 title=f"step {_i + 1}: {_step} (round_stats=True and False)",
                                 cases=BY_HAND_CASES)(make_by_hand_check(_step, _i))


# ---------------------------------------------------------------------------------------------------
# 2. batchnorm_forward
# ---------------------------------------------------------------------------------------------------
def fresh_param(mode: str, d: int, gen: torch.Generator | None = None, dtype=torch.float32, eps: float = EPS,
                momentum: float = MOMENTUM) -> dict:
    if gen is None:
        rm, rv = torch.zeros(d, dtype=dtype), torch.ones(d, dtype=dtype)
    else:
        rm = torch.randn(d, generator=gen, dtype=torch.float64).to(dtype)
        rv = (torch.rand(d, generator=gen, dtype=torch.float64) * 2 + 0.3).to(dtype)
    return {"mode": mode, "eps": eps, "momentum": momentum, "running_mean": rm, "running_var": rv}


def call_forward(ctx, x, gamma, beta, bn_param):
    """(out, cache, bn_param as it is after the call)."""
    result, args = ctx.call_with_args("batchnorm_forward", x, gamma, beta, bn_param)
    for name, before, after in zip(("x", "gamma", "beta"), (x, gamma, beta), args):
        ctx.expect_unchanged(after, before, f"batchnorm_forward changed {name} in place",
                             hint="only bn_param is updated in place; build new tensors for everything else.")
    ctx.expect(isinstance(result, (tuple, list)) and len(result) == 2,
               "batchnorm_forward should return a tuple (out, cache)")
    out, cache = result
    ctx.expect(isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(x.shape) and out.dtype == x.dtype,
               f"out should be a {x.dtype} tensor of shape {list(x.shape)}; got "
               + (f"{out.dtype} {list(out.shape)}" if isinstance(out, torch.Tensor) else type(out).__name__))
    after = args[3]
    ctx.expect(isinstance(after, dict), "bn_param should stay a dict")
    return out, cache, after


@suite.check("batchnorm_forward", points=2, title="train mode: batch mean and biased variance over dim 0, gamma/beta",
             cases=[{"n": 4, "d": 3, "seed": 0}],
             hint="normalize each feature (column) with its batch mean and biased variance (divide by N), "
                  "then out = gamma * x_hat + beta.")
def train_output(ctx, n, d, seed):
    g = ctx.gen(seed)
    x = batch(g, n, d)
    gamma, beta = affine(g, d)
    out, _, _ = call_forward(ctx, x, gamma, beta, fresh_param("train", d))
    ctx.expect_reference(out, "train-mode output", tier="composite")
    ctx.expect_equal(out, F.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS),
                     "train-mode output compared with F.batch_norm", tier="composite")


@suite.check("batchnorm_forward", points=1, title="eps goes inside the square root (eps=0.1, small-variance features)",
             cases=[{"n": 6, "d": 4, "seed": 1}],
             hint="x_hat = (x - mean) / sqrt(var + eps), not (x - mean) / (sqrt(var) + eps); use bn_param['eps'].")
def eps_inside_sqrt(ctx, n, d, seed):
    g = ctx.gen(seed)
    x = batch(g, n, d, scale=0.6) * 0.5
    gamma, beta = affine(g, d)
    out, _, _ = call_forward(ctx, x, gamma, beta, fresh_param("train", d, eps=0.1))
    ctx.expect_reference(out, "train-mode output with eps=0.1", tier="composite")
    ctx.expect_equal(out, F.batch_norm(x, None, None, gamma, beta, training=True, eps=0.1),
                     "train-mode output with eps=0.1 compared with F.batch_norm", tier="composite")


@suite.check("batchnorm_forward", points=3,
             title="train mode updates bn_param's running_mean / running_var (3 steps, bn_param's momentum, unbiased var)",
             cases=[{"n": 4, "d": 3, "seed": 2}, {"n": 5, "d": 2, "seed": 6, "momentum": 0.35}],
             hint="running = (1 - momentum) * running + momentum * batch_stat, with the unbiased batch variance "
                  "(divide by N-1) for running_var, and bn_param['momentum'] (not a hard-coded 0.1); store the "
                  "results in bn_param.")
def running_stats(ctx, n, d, seed, momentum=MOMENTUM, eps=EPS):
    g = ctx.gen(seed)
    gamma, beta = affine(g, d)
    param = fresh_param("train", d, g, momentum=momentum, eps=eps)  # a large eps: it must not reach running_var
    rm, rv = param["running_mean"].clone(), param["running_var"].clone()
    for step in range(3):
        x = batch(g, n, d) + step
        _, _, param = call_forward(ctx, x, gamma, beta, param)
        ctx.expect("running_mean" in param and "running_var" in param,
                   "after a train-mode call, bn_param has no 'running_mean' / 'running_var'",
                   hint="store the updated statistics in bn_param['running_mean'] and bn_param['running_var'].")
        rm = (1 - momentum) * rm + momentum * x.mean(0)
        rv = (1 - momentum) * rv + momentum * x.var(0, unbiased=True)
        ctx.expect_reference(param["running_mean"], f"bn_param['running_mean'] after train step {step + 1}",
                             tier="steps")
        ctx.expect_reference(param["running_var"], f"bn_param['running_var'] after train step {step + 1}",
                             tier="steps")
        ctx.expect_equal(param["running_mean"], rm, f"running_mean after step {step + 1}", tier="steps")
        ctx.expect_equal(param["running_var"], rv, f"running_var after step {step + 1}", tier="steps")


@suite.check("batchnorm_forward", points=2,
             title="eval mode: running statistics only, nothing updated, a row alone = the same row in a batch",
             cases=[{"n": 5, "d": 3, "seed": 3}, {"n": 4, "d": 3, "seed": 7, "eps": 0.1, "var_scale": 0.01}],
             hint="in eval mode normalize with bn_param['running_mean'] and bn_param['running_var'] (and "
                  "bn_param['eps'] inside the square root) and leave them unchanged.")
def eval_mode(ctx, n, d, seed, eps=EPS, var_scale=1.0):
    g = ctx.gen(seed)
    x = batch(g, n, d)
    gamma, beta = affine(g, d)
    param = fresh_param("eval", d, g, eps=eps)
    param["running_var"] = param["running_var"] * var_scale  # tiny variances: eps matters far above the tolerance
    rm, rv = param["running_mean"].clone(), param["running_var"].clone()
    out, _, after = call_forward(ctx, x, gamma, beta, param)
    _, _, after2 = call_forward(ctx, x, gamma, beta, after)
    for p in (after, after2):
        ctx.expect(torch.equal(p.get("running_mean"), rm) and torch.equal(p.get("running_var"), rv),
                   "bn_param's running statistics changed in eval mode",
                   hint="update the running statistics in train mode only; eval mode must not change bn_param.")
    row, _, _ = call_forward(ctx, x[1:2], gamma, beta, fresh_param("eval", d, eps=eps) | {"running_mean": rm,
                                                                                          "running_var": rv})
    ctx.expect_equal(row[0], out[1], "eval output of row 1 alone vs the same row inside the batch", tier="op",
                     hint="eval mode must not use batch statistics: a row's output may not depend on the other "
                          "rows of the batch.")
    ctx.expect_reference(out, "eval-mode output", tier="composite")
    ref = F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=eps)
    ctx.expect_equal(out, ref, "eval-mode output compared with F.batch_norm(training=False)", tier="composite")


# ---------------------------------------------------------------------------------------------------
# 3. batchnorm_backward
# ---------------------------------------------------------------------------------------------------
def reference_grads(x, gamma, beta, dout):
    return vjp(lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=EPS), (x, gamma, beta), dout)


def loss(x, gamma, beta, dout) -> float:
    """The scalar whose gradients the backward computes: sum(batchnorm(x) * dout)."""
    return float((F.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS) * dout).sum())


def expect_param_grads(ctx, x, gamma, beta, dout, dgamma, dbeta) -> None:
    """dgamma and dbeta against the recorded references and against autograd (float64 tier)."""
    ctx.expect_reference(dbeta, "dbeta", tier="float64")
    ctx.expect_reference(dgamma, "dgamma", tier="float64")
    _, rgamma, rbeta = reference_grads(x, gamma, beta, dout)
    ctx.expect_equal(dbeta, rbeta, "dbeta compared with autograd", tier="float64")
    ctx.expect_equal(dgamma, rgamma, "dgamma compared with autograd", tier="float64")


def call_backward_unchanged(ctx, function: str, dout, kept):
    """``function(dout, cache)`` with the cache of the kept forward result ``kept`` (it reaches the backward as the
    very object); ``dout`` and the cache (where it can travel as plain data) must be unchanged afterwards."""
    cache_before = ctx.method(kept, "__getitem__", 1)
    grads, args = ctx.call_with_args(function, dout, ctx.method_kept(kept, "__getitem__", 1))
    ctx.expect_unchanged(args[0], dout, f"{function} changed dout in place",
                         hint="compute new tensors from dout (dout - dout.mean(0), not dout.sub_(...)).")
    if not isinstance(cache_before, Ref):
        ctx.expect_unchanged(ctx.method(kept, "__getitem__", 1), cache_before,
                             f"{function} changed the cache in place (e.g. the cached gamma, x_hat or std)",
                             hint="read the cached tensors without modifying them: gamma is the layer's own "
                                  "parameter, and the cache may be used again.")
    return grads


def expect_grad_triple(ctx, function: str, grads, n: int, d: int) -> None:
    """``function`` returned ``(dx, dgamma, dbeta)``: float64 tensors of shapes (n, d), (d,), (d,)."""
    ctx.expect(isinstance(grads, (tuple, list)) and len(grads) == 3,
               f"{function} should return a tuple (dx, dgamma, dbeta)")
    for name, t, shape in zip(("dx", "dgamma", "dbeta"), grads, ((n, d), (d,), (d,))):
        ctx.expect(isinstance(t, torch.Tensor) and tuple(t.shape) == shape and t.dtype == torch.float64,
                   f"{name} should be a float64 tensor of shape {list(shape)}; got "
                   + (f"{t.dtype} {list(t.shape)}" if isinstance(t, torch.Tensor) else type(t).__name__))


def run_backward(ctx, n, d, seed):
    g = ctx.gen(seed)
    x = batch(g, n, d, dtype=torch.float64)
    gamma, beta = affine(g, d, dtype=torch.float64)
    dout = torch.randn(n, d, generator=g, dtype=torch.float64)
    param = fresh_param("train", d, dtype=torch.float64)
    # The forward's result stays in the student's process: its cache reaches the backward as the very object
    # (a tuple, named tuple, dict or any object), never through the wire.
    kept = ctx.call_kept("batchnorm_forward", x, gamma, beta, param)
    ctx.expect(ctx.method(kept, "__len__") == 2, "batchnorm_forward should return a tuple (out, cache)")
    out = ctx.method(kept, "__getitem__", 0)
    ctx.expect(isinstance(out, torch.Tensor) and close(F.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS),
                                                       out, "composite"),
               "batchnorm_forward's train-mode output is wrong, so its cache cannot be used to judge the backward "
               "(fix batchnorm_forward first: its checks say what differs)",
               hint="this point depends on batchnorm_forward; batchnorm_backward itself was not judged.")
    grads = call_backward_unchanged(ctx, "batchnorm_backward", dout, kept)
    expect_grad_triple(ctx, "batchnorm_backward", grads, n, d)
    return x, gamma, beta, dout, grads


@suite.check("batchnorm_backward", points=1, title="dgamma and dbeta (float64) vs autograd and a numerical gradient",
             cases=[{"n": 4, "d": 3, "seed": 0}, {"n": 8, "d": 5, "seed": 1}],
             hint="dbeta = dout.sum(0); dgamma = (dout * x_hat).sum(0).")
def param_grads(ctx, n, d, seed):
    x, gamma, beta, dout, (dx, dgamma, dbeta) = run_backward(ctx, n, d, seed)
    expect_param_grads(ctx, x, gamma, beta, dout, dgamma, dbeta)

    for name, got, wrt in (("dgamma", dgamma, gamma), ("dbeta", dbeta, beta)):
        ctx.expect_gradient(got, lambda: loss(x, gamma, beta, dout), wrt, name)


@suite.check("batchnorm_backward", points=3, title="dx (float64) vs autograd and a centred numerical gradient",
             cases=[{"n": 4, "d": 3, "seed": 0}, {"n": 8, "d": 5, "seed": 1}],
             hint="x reaches the loss through x_hat directly, through the mean and through the variance: walk the "
                  "graph backwards step by step, and sum over the rows the gradient of every quantity that was "
                  "broadcast over them (mean, var, std).")
def input_grad(ctx, n, d, seed):
    x, gamma, beta, dout, (dx, _, _) = run_backward(ctx, n, d, seed)
    ctx.expect_reference(dx, "dx", tier="float64")
    rdx, _, _ = reference_grads(x, gamma, beta, dout)
    ctx.expect_equal(dx, rdx, "dx compared with autograd", tier="float64")

    ctx.expect_gradient(dx, lambda: loss(x, gamma, beta, dout), x, "dx")


# ---------------------------------------------------------------------------------------------------
# 4. BatchNorm1d
# ---------------------------------------------------------------------------------------------------
@suite.check("BatchNorm1d", points=1,
             title="weight/bias are parameters (ones/zeros); running_mean/running_var are buffers (zeros/ones)",
             cases=[{"d": 5}])
def structure(ctx, d):
    ref = ctx.call("BatchNorm1d", d)
    ctx.expect_structure(ref, parameters={"weight": [d], "bias": [d]},
                         buffers={"running_mean": [d], "running_var": [d]}, other_buffers=True,
                         hint="weight and bias are nn.Parameter; running statistics are not trained: register them "
                              "with self.register_buffer(...), not as nn.Parameter.")
    for name, value in (("weight", 1.0), ("bias", 0.0), ("running_mean", 0.0), ("running_var", 1.0)):
        got = ctx.attr(ref, name)
        ctx.expect_equal(got, torch.full((d,), value), f"initial {name}", tier="exact",
                         hint="weight (gamma) starts at ones, bias (beta) at zeros, running_mean at zeros and "
                              "running_var at ones, as in nn.BatchNorm1d.")


@suite.check("BatchNorm1d", points=2, title="train mode matches nn.BatchNorm1d over 3 steps (output and buffers)",
             cases=[{"n": 4, "d": 3, "seed": 0}])
def train_steps(ctx, n, d, seed):
    g = ctx.gen(seed)
    ref = ctx.call("BatchNorm1d", d)
    torch_bn = nn.BatchNorm1d(d)
    for step in range(3):
        x = batch(g, n, d) * (step + 1) - step
        out = ctx.method(ref, "__call__", x)
        with torch.no_grad():
            expected = torch_bn(x)
        ctx.expect_reference(out, f"train-mode output at step {step + 1}", tier="composite")
        ctx.expect_equal(out, expected, f"train-mode output at step {step + 1}", tier="composite")
        for buf in ("running_mean", "running_var"):
            got = ctx.attr(ref, buf)
            ctx.expect_reference(got, f"{buf} after step {step + 1}", tier="steps")
            ctx.expect_equal(got, getattr(torch_bn, buf), f"{buf} after step {step + 1}", tier="steps")
    if "num_batches_tracked" in set(ctx.describe(ref).get("state_dict", [])):
        got = ctx.attr(ref, "num_batches_tracked")
        ctx.expect(int(got) == 3, f"num_batches_tracked is {got} after 3 train steps",
                   hint="add 1 to num_batches_tracked on every train-mode forward (or do not keep it).")


@suite.check("BatchNorm1d", points=2,
             title="eval mode: running statistics only, buffers bit-identical, a row alone = the same row in a batch",
             cases=[{"n": 6, "d": 4, "seed": 1}])
def eval_steps(ctx, n, d, seed):
    g = ctx.gen(seed)
    ref = ctx.call("BatchNorm1d", d)
    torch_bn = nn.BatchNorm1d(d)
    for step in range(2):
        x = batch(g, n, d) + step
        ctx.method(ref, "__call__", x)
        with torch.no_grad():
            torch_bn(x)
    ctx.method(ref, "train", False)
    torch_bn.eval()
    x = batch(g, n, d) * 2
    before = [ctx.attr(ref, b) for b in ("running_mean", "running_var")]
    out = ctx.method(ref, "__call__", x)
    ctx.method(ref, "__call__", x * 3 + 1)
    after = [ctx.attr(ref, b) for b in ("running_mean", "running_var")]
    ctx.expect(all(torch.equal(a, b) for a, b in zip(before, after)),
               "running_mean / running_var changed during eval-mode forward passes",
               hint="update the buffers only when self.training is True.")
    row = ctx.method(ref, "__call__", x[2:3])
    ctx.expect_equal(row[0], out[2], "eval output of row 2 alone vs the same row inside the batch", tier="op",
                     hint="in eval mode (self.training is False) normalize with running_mean / running_var, "
                          "never with the batch statistics.")
    ctx.expect_reference(out, "eval-mode output", tier="composite")
    with torch.no_grad():
        ctx.expect_equal(out, torch_bn(x), "eval-mode output compared with nn.BatchNorm1d", tier="composite")


def module_autograd_check(cls: str, spread: float):
    """Train mode: gradients reach weight and bias exactly as in nn.BatchNorm1d (default eps), x is not
    modified in place, deepcopy / state_dict work. ``spread`` scales the batch around its mean: a tiny spread
    (variance ~1e-6) makes the default eps matter. Every verdict is decided here, from plain data: the input
    as the call left it (read by the protocol), gradients compared with nn.BatchNorm1d's, and a copy's
    output after the original was changed (the grader-owned probes only collect; docs/SECURITY.md)."""

    def module_autograd(ctx, n, d, seed):
        g = ctx.gen(seed)
        x = batch(g, n, d) * spread + 1
        gamma, beta = affine(g, d)
        ref = ctx.call(cls, d)
        ctx.method(ref, "load_state_dict", {"weight": gamma, "bias": beta}, strict=False)
        out, (x_after,) = ctx.method_with_args(ref, "__call__", x)
        ctx.expect_unchanged(x_after, x, f"{cls}'s forward modified its input x in place",
                             hint="compute the output as a new tensor ((x - mean) / ...); never x.sub_ / x.div_ / "
                                  "x -= ...")
        report = ctx.probe("autograder.fixtures.probes:module_autograd", ref, x, seed=seed)
        ctx.expect("error" not in report, f"{cls}'s forward raised inside the autograd probe: {report.get('error')}")
        grads = report.get("grads") or {}
        ctx.expect(all(grads.get(k) is not None for k in ("weight", "bias")),
                   f"the output of {cls} carries no gradient to weight and bias (detached, under torch.no_grad(), "
                   "or computed through .data / .item())",
                   hint="compute the output with differentiable torch operations on self.weight and self.bias; "
                        "keep torch.no_grad() for the running-statistics update only.")
        torch_bn = nn.BatchNorm1d(d)
        with torch.no_grad():
            torch_bn.weight.copy_(gamma)
            torch_bn.bias.copy_(beta)
        weight = torch.randn((n, d), generator=torch.Generator().manual_seed(seed))
        (torch_bn(x) * weight).sum().backward()
        ctx.expect_equal([grads["weight"], grads["bias"]], [torch_bn.weight.grad, torch_bn.bias.grad],
                         "weight.grad and bias.grad after a backward pass, compared with nn.BatchNorm1d's (eps 1e-5)",
                         tier="composite", hint="the default eps is 1e-5, inside the square root.")
        ctx.expect_independent_copy(ref, x, {"weight": torch.zeros(d), "bias": torch.full((d,), 7.0)}, cls,
                                    hint="keep weight/bias as nn.Parameter and update the buffers under "
                                         "torch.no_grad().")

    return module_autograd


suite.check("BatchNorm1d", points=1, name="BatchNorm1d.module_autograd",
            title="train mode: gradients reach weight and bias as in nn.BatchNorm1d, x is not modified, "
                  "deepcopy / state_dict work",
            cases=[{"n": 5, "d": 3, "seed": 7}])(module_autograd_check("BatchNorm1d", 2.0))
suite.check("FixedBatchNorm", points=1, name="FixedBatchNorm.module_autograd",
            title="train mode on a nearly constant batch (eps matters): gradients as in nn.BatchNorm1d, x is not "
                  "modified, deepcopy / state_dict work",
            cases=[{"n": 6, "d": 3, "seed": 8}])(module_autograd_check("FixedBatchNorm", 1e-3))


# ---------------------------------------------------------------------------------------------------
# 5. batchnorm2d_forward
# ---------------------------------------------------------------------------------------------------
@suite.check("batchnorm2d_forward", points=1, title="one mean/variance per channel over (N, H, W)",
             cases=[{"n": 2, "c": 3, "h": 4, "w": 5, "seed": 0},
                    {"n": 2, "c": 2, "h": 3, "w": 3, "seed": 3, "eps": 0.1, "scale": 0.1}],
             hint="take the statistics over dims (0, 2, 3) (batch and spatial positions), one per channel, "
                  "and broadcast gamma/beta as (1, C, 1, 1); eps (the argument) goes inside the square root.")
def per_channel(ctx, n, c, h, w, seed, eps=None, scale=1.0):
    g = ctx.gen(seed)
    x = batch(g, n * h * w, c).view(n, h, w, c).permute(0, 3, 1, 2).contiguous() * scale
    gamma, beta = affine(g, c)
    kwargs = {} if eps is None else {"eps": eps}
    out, args = ctx.call_with_args("batchnorm2d_forward", x, gamma, beta, **kwargs)
    for name, before, after in zip(("x", "gamma", "beta"), (x, gamma, beta), args):
        ctx.expect_unchanged(after, before, f"batchnorm2d_forward changed {name} in place",
                             hint="build new tensors ((x - mean) / ...), do not modify the inputs.")
    ctx.expect(isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(x.shape),
               f"batchnorm2d_forward should return a tensor of shape {list(x.shape)}")
    ctx.expect_reference(out, "output", tier="composite")
    ctx.expect_equal(out, F.batch_norm(x, None, None, gamma, beta, training=True, eps=EPS if eps is None else eps),
                     "output compared with F.batch_norm on (N, C, H, W)", tier="composite")


# ---------------------------------------------------------------------------------------------------
# 6. bn_block
# ---------------------------------------------------------------------------------------------------
@suite.check("bn_block", points=1, title="Linear without bias -> BatchNorm1d -> ReLU (structure and output)",
             cases=[{"d_in": 5, "d_out": 4, "n": 8, "seed": 0}],
             hint="nn.Sequential(nn.Linear(d_in, d_out, bias=False), nn.BatchNorm1d(d_out), nn.ReLU()).")
def block(ctx, d_in, d_out, n, seed):
    ref = ctx.call("bn_block", d_in, d_out)
    info = ctx.describe(ref)
    types = [t for _, t, _ in info.get("modules", [])]
    ctx.expect("Linear" in types and "BatchNorm1d" in types,
               f"the block should contain a Linear and a BatchNorm1d; got modules {types}")
    shapes = sorted(shape for _, shape, _ in info.get("parameters", []))
    ctx.expect(shapes == sorted([[d_out, d_in], [d_out], [d_out]]),
               f"the block's parameters should be the Linear weight [{d_out}, {d_in}] and BN's weight and bias "
               f"[{d_out}]; got shapes {shapes}",
               hint="the Linear before BN takes bias=False: BN's mean subtraction cancels any bias.")
    state = ctx.method(ref, "state_dict")
    weight = [v for v in state.values() if isinstance(v, torch.Tensor) and list(v.shape) == [d_out, d_in]][0]
    bn = {k.rsplit(".", 1)[-1]: v for k, v in state.items() if k.rsplit(".", 1)[-1] in
          ("weight", "bias", "running_mean", "running_var") and list(v.shape) == [d_out]}
    # The output is compared with the block's own weights, so the weights must be a fresh block's: a
    # zeroed or constant Linear, or a BatchNorm1d that does not start at weight 1 / bias 0, would otherwise pass.
    bound = 1 / d_in ** 0.5
    ctx.expect(float(weight.std()) > 0 and at_most(weight.abs().max(), bound, "op"),
               "the Linear's weight is not a fresh nn.Linear's (uniform in +-1/sqrt(d_in) and not constant)",
               hint="build the layers with their default initialization: nn.Linear(d_in, d_out, bias=False).")
    ctx.expect(set(bn) >= {"weight", "bias", "running_mean", "running_var"}
               and torch.equal(bn["weight"], torch.ones(d_out)) and torch.equal(bn["bias"], torch.zeros(d_out)),
               "the BatchNorm1d is not a fresh one (weight ones, bias zeros, running statistics zeros/ones)",
               hint="use nn.BatchNorm1d(d_out) as it comes.")
    x = batch(ctx.gen(seed), n, d_in)
    out = ctx.method(ref, "__call__", x)
    expected = torch.relu(F.batch_norm(x @ weight.T, bn["running_mean"].clone(), bn["running_var"].clone(),
                                       bn["weight"], bn["bias"], training=True, eps=EPS))
    ctx.expect_equal(out, expected, "train-mode output of the block (with its own weights)", tier="composite",
                     hint="the order is Linear -> BatchNorm1d -> ReLU.")


# ---------------------------------------------------------------------------------------------------
# 7. fold_bn_into_linear
# ---------------------------------------------------------------------------------------------------
@suite.check("fold_bn_into_linear", points=1, title="the folded Linear matches linear -> bn (eval mode)",
             cases=[{"d_in": 5, "d_out": 4, "seed": 0, "bias": True},
                    {"d_in": 3, "d_out": 6, "seed": 1, "bias": False, "eps": 0.5}],
             hint="with s = bn.weight / sqrt(bn.running_var + bn.eps): W' = s[:, None] * W and "
                  "b' = s * (b - bn.running_mean) + bn.bias (b = 0 if the Linear has no bias).")
def folded(ctx, d_in, d_out, seed, bias, eps=1e-5):
    lin_args, bn_args = (d_in, d_out, seed), (d_out, seed, eps)
    ref, args = ctx.call_with_args("fold_bn_into_linear",
                                   ctx.make("autograder.fixtures.batchnorm:linear", *lin_args, bias=bias),
                                   ctx.make("autograder.fixtures.batchnorm:trained_bn", *bn_args))
    for name, arg, fresh in (("linear", args[0], fx.linear(*lin_args, bias=bias)), ("bn", args[1], fx.trained_bn(*bn_args))):
        ctx.expect_unchanged(dict(ctx.method(arg, "state_dict")), dict(fresh.state_dict()),
                             f"fold_bn_into_linear changed `{name}` (its parameters or buffers) in place",
                             hint="build a new nn.Linear and copy the folded values into it; leave linear and bn "
                                  "as they are (no .mul_ / .sub_ / .copy_ on their tensors).")
    info = ctx.describe(ref)
    ctx.expect(info.get("type") == "Linear", f"fold_bn_into_linear should return an nn.Linear; got {info.get('type')}")
    x = batch(ctx.gen(seed + 10), 7, d_in)
    out = ctx.method(ref, "__call__", x)
    with torch.no_grad():
        expected = fx.trained_bn(*bn_args)(fx.linear(*lin_args, bias=bias)(x))
    ctx.expect_reference(out, "output of the folded Linear", tier="composite")
    ctx.expect_equal(out, expected, "output of the folded Linear vs bn(linear(x))", tier="composite")


# ---------------------------------------------------------------------------------------------------
# 8. find the bugs
# ---------------------------------------------------------------------------------------------------
@suite.check("FixedBatchNorm", points=1, title="bug 1: weight (gamma) starts at ones and bias (beta) at zeros",
             cases=[{"d": 4}])
def fixed_init(ctx, d):
    ref = ctx.call("FixedBatchNorm", d)
    weight, bias = ctx.attr(ref, "weight"), ctx.attr(ref, "bias")
    ctx.expect(torch.equal(weight, torch.ones(d)) and torch.equal(bias, torch.zeros(d)),
               f"a new FixedBatchNorm has weight {weight.tolist()} and bias {bias.tolist()}",
               hint="bug 1 is still there: gamma (weight) must start at ones and beta (bias) at zeros; "
                    "they are initialised swapped.")


@suite.check("FixedBatchNorm", points=1,
             title="bug 2: running_mean follows the batch mean (not mixed with gamma); matches nn.BatchNorm1d",
             cases=[{"n": 5, "d": 4, "seed": 0}])
def fixed_running_mean(ctx, n, d, seed, eps=None, momentum=None):
    g = ctx.gen(seed)
    weight, bias = affine(g, d)
    kwargs = {k: v for k, v in (("eps", eps), ("momentum", momentum)) if v is not None}
    ref = ctx.call("FixedBatchNorm", d, **kwargs)
    ctx.method(ref, "load_state_dict", {"weight": weight, "bias": bias}, strict=False)
    torch_bn = nn.BatchNorm1d(d, **kwargs)
    with torch.no_grad():
        torch_bn.weight.copy_(weight)
        torch_bn.bias.copy_(bias)
    for step in range(2):
        x = batch(g, n, d) + step
        ctx.method(ref, "__call__", x)
        with torch.no_grad():
            torch_bn(x)
        got = ctx.attr(ref, "running_mean")
        ctx.expect_equal(got, torch_bn.running_mean, f"running_mean after step {step + 1} (with weight != 1)",
                         tier="steps",
                         hint="bug 2 is still there: the running mean must move towards the batch mean alone; "
                              "it is multiplied by gamma (weight).")
        ctx.expect_equal(ctx.attr(ref, "running_var"), torch_bn.running_var, f"running_var after step {step + 1}",
                         tier="steps")
    ctx.method(ref, "train", False)
    torch_bn.eval()
    x = batch(g, n, d)
    stats = [ctx.attr(ref, "running_mean"), ctx.attr(ref, "running_var")]
    with torch.no_grad():
        ctx.expect_equal(ctx.method(ref, "__call__", x), torch_bn(x), "eval-mode output vs nn.BatchNorm1d",
                         tier="composite")
    ctx.expect_unchanged([ctx.attr(ref, "running_mean"), ctx.attr(ref, "running_var")], stats,
                         "an eval-mode forward changed running_mean / running_var",
                         hint="in eval mode the running statistics are only read: use var + eps (a new tensor), "
                              "not var.add_(eps), which adds eps to running_var at every call.")


# ---------------------------------------------------------------------------------------------------
# 3b. batchnorm_backward_alt (the simplified closed form; same contract as batchnorm_backward)
# ---------------------------------------------------------------------------------------------------
def run_backward_alt(ctx, n, d, seed):
    g = ctx.gen(seed)
    x = batch(g, n, d, dtype=torch.float64)
    gamma, beta = affine(g, d, dtype=torch.float64)
    dout = torch.randn(n, d, generator=g, dtype=torch.float64)
    # The cache stays in the student's process and reaches the backward as the very object (any type).
    kept = ctx.call_kept("batchnorm_forward", x, gamma, beta, fresh_param("train", d, dtype=torch.float64))
    ctx.expect(ctx.method(kept, "__len__") == 2, "batchnorm_forward should return a tuple (out, cache)")
    grads = call_backward_unchanged(ctx, "batchnorm_backward_alt", dout, kept)
    expect_grad_triple(ctx, "batchnorm_backward_alt", grads, n, d)
    return x, gamma, beta, dout, grads


@suite.check("batchnorm_backward_alt", points=1,
             title="simplified backward: dgamma and dbeta (float64) vs autograd",
             cases=[{"n": 5, "d": 3, "seed": 3}],
             hint="dbeta = dout.sum(0); dgamma = (dout * x_hat).sum(0), as in the staged backward.")
def alt_param_grads(ctx, n, d, seed):
    x, gamma, beta, dout, (_, dgamma, dbeta) = run_backward_alt(ctx, n, d, seed)
    expect_param_grads(ctx, x, gamma, beta, dout, dgamma, dbeta)


@suite.check("batchnorm_backward_alt", points=2,
             title="simplified backward: dx (float64) vs autograd and a centred numerical gradient",
             cases=[{"n": 5, "d": 3, "seed": 3}, {"n": 9, "d": 4, "seed": 4}],
             hint="substitute the staged steps into each other (the c_i sum to 0 over the batch and c_i = std * "
                  "x_hat_i): dx needs only gamma, 1 / std, x_hat and two per-feature batch means.")
def alt_input_grad(ctx, n, d, seed):
    x, gamma, beta, dout, (dx, _, _) = run_backward_alt(ctx, n, d, seed)
    ctx.expect_reference(dx, "dx", tier="float64")
    rdx, _, _ = reference_grads(x, gamma, beta, dout)
    ctx.expect_equal(dx, rdx, "dx compared with autograd", tier="float64")
    ctx.expect_gradient(dx, lambda: loss(x, gamma, beta, dout), x, "dx")
