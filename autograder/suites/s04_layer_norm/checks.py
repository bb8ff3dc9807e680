"""Visible checks of assignment 04 (shipped to students; the self-check runs these).

Layer norm normalizes each example over its last dimension (features), with the biased variance
and ``eps`` inside the square root, exactly as ``torch.nn.functional.layer_norm(x, (D,), ...)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from autograder.checks import Suite
from autograder.compare import close, distinct, vjp
from autograder.wire import Ref

suite = Suite(__name__)
# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------


def make_ln_inputs(gen: torch.Generator, shape, dtype=torch.float32, scale: float = 3.0, offset: float = 2.0):
    """x of ``shape`` (every row with its own offset and scale), gamma and beta of shape (D,)."""
    shape = tuple(shape)
    d = shape[-1]
    x = torch.randn(*shape, generator=gen, dtype=dtype)
    row_scale = 0.5 + scale * torch.rand(*shape[:-1], 1, generator=gen, dtype=dtype)
    row_offset = offset * torch.randn(*shape[:-1], 1, generator=gen, dtype=dtype)
    x = x * row_scale + row_offset
    gamma = 1.0 + 0.5 * torch.randn(d, generator=gen, dtype=dtype)
    beta = 0.5 * torch.randn(d, generator=gen, dtype=dtype)
    return x, gamma, beta


def reference_ln(x, gamma, beta, eps):
    return F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)


def expect_forward_form(ctx, res, x):
    ctx.expect(isinstance(res, (tuple, list)) and len(res) == 2,
               f"layernorm_forward should return a tuple (out, cache); got {type(res).__name__}")
    out = res[0]
    ctx.expect(isinstance(out, torch.Tensor), f"out should be a tensor; got {type(out).__name__}")
    ctx.expect(out.shape == x.shape and out.dtype == x.dtype,
               f"out should have x's shape {list(x.shape)} and dtype {x.dtype}; got {list(out.shape)} {out.dtype}",
               hint="normalize with statistics of shape (..., 1) (keepdim=True) so they broadcast over the features.")
    return out


def run_forward(ctx, shape, seed, eps=1e-5, dtype=torch.float32, **kw):
    x, gamma, beta = make_ln_inputs(ctx.gen(seed), shape, dtype, **kw)
    res = ctx.call("layernorm_forward", x, gamma, beta, eps)
    out = expect_forward_form(ctx, res, x)
    return x, gamma, beta, out, res[1]


# ---------------------------------------------------------------------------------------------
# layernorm_forward
# ---------------------------------------------------------------------------------------------

BATCH_AXIS_HINT = ("the statistics were taken over the batch axis (dim 0), which is batch norm; layer norm takes "
                   "the mean and variance of each example over its features: dim=-1, keepdim=True.")


@suite.check("layernorm_forward", points=1,
             title="with gamma=1, beta=0 each row of out has mean 0 and variance ~1; x is not modified",
             cases=[{"shape": [6, 5], "seed": 0}])
def row_stats(ctx, shape, seed):
    x, _, _ = make_ln_inputs(ctx.gen(seed), shape)
    d = shape[-1]
    ones, zeros = torch.ones(d), torch.zeros(d)
    res, args = ctx.call_with_args("layernorm_forward", x, ones, zeros, 1e-5)
    out = expect_forward_form(ctx, res, x)
    ctx.expect_unchanged(args[0], x, "layernorm_forward changed x in place",
                         hint="build new tensors ((x - mu) * inv_std) instead of x -= mu.")
    ctx.expect(close(torch.zeros(shape[:-1]), out.mean(-1), "op"),
               "with gamma=1, beta=0 the rows of out do not have mean 0", hint=BATCH_AXIS_HINT)
    var = x.double().var(-1, correction=0)
    ctx.expect(close((var / (var + 1e-5)).float(), out.var(-1, correction=0), "composite"),
               "with gamma=1, beta=0 the rows of out do not have (biased) variance var / (var + eps) ~ 1",
               hint="divide by sqrt(var + eps) with var the biased variance of each row (correction=0).")


@suite.check("layernorm_forward", points=1,
             title="matches F.layer_norm over the last dim (2-D, square and 3-D inputs)",
             cases=[{"shape": [4, 6], "seed": 1}, {"shape": [5, 5], "seed": 2}, {"shape": [2, 3, 4], "seed": 3}])
def matches_torch(ctx, shape, seed):
    x, gamma, beta, out, _ = run_forward(ctx, shape, seed)
    ctx.expect_reference(out, "out", tier="composite",
                         hint="out = gamma * (x - mu) / sqrt(var + eps) + beta with mu, var of each example over "
                              "the last dim (biased variance, keepdim=True).")
    ctx.expect_equal(out, reference_ln(x, gamma, beta, 1e-5), "out compared with F.layer_norm", tier="composite")


@suite.check("layernorm_forward", points=1, title="eps is added to the variance inside the square root",
             cases=[{"shape": [4, 5], "seed": 4, "eps": 0.05}])
def eps_inside(ctx, shape, seed, eps):
    # rows with a small variance, so that eps matters
    x, gamma, beta, out, _ = run_forward(ctx, shape, seed, eps=eps, scale=0.2, offset=1.0)
    ctx.expect_reference(out, f"out with eps={eps} on rows of small variance", tier="composite",
                         hint="use 1 / sqrt(var + eps): eps belongs inside the square root.")
    ctx.expect_equal(out, reference_ln(x, gamma, beta, eps), "out compared with F.layer_norm", tier="composite")


@suite.check("layernorm_forward", points=1,
             title="a row alone gives the same output as within a batch, and calls keep no state",
             cases=[{"shape": [5, 4], "seed": 5}])
def row_independent(ctx, shape, seed):
    x, gamma, beta, out, _ = run_forward(ctx, shape, seed)
    # Judged only on an output that normalizes something: zeros, a constant or x itself would be "row independent".
    ctx.expect(distinct(out.double().std(), 0.0) and not close(x, out, "composite"),
               "out is constant or x unchanged, so whether rows are normalized independently cannot be judged "
               "(matches_torch says what differs)",
               hint="out = gamma * (x - mu) / sqrt(var + eps) + beta with mu, var of each row (dim=-1, keepdim=True).")
    other, _, _ = make_ln_inputs(ctx.gen(seed + 100), shape, scale=10.0, offset=20.0)
    ctx.call("layernorm_forward", other, gamma, beta, 1e-5)  # an unrelated batch in between
    again = expect_forward_form(ctx, ctx.call("layernorm_forward", x, gamma, beta, 1e-5), x)
    ctx.expect(close(out, again, "composite"),
               "the same x gave a different output after another batch went through layernorm_forward",
               hint="layer norm keeps no running statistics: compute mu and var from the current x only, every "
                    "call, in training and in evaluation.")
    for i in (0, shape[0] - 1):
        alone = expect_forward_form(ctx, ctx.call("layernorm_forward", x[i:i + 1], gamma, beta, 1e-5), x[i:i + 1])
        ctx.expect(close(out[i], alone[0], "composite"),
                   f"row {i} alone (a batch of one) gives another output than within the batch",
                   hint=BATCH_AXIS_HINT)


# ---------------------------------------------------------------------------------------------
# layernorm_backward
# ---------------------------------------------------------------------------------------------


def reference_grads(x, gamma, beta, dout, eps):
    return vjp(lambda x, g, b: F.layer_norm(x, (x.shape[-1],), g, b, eps), (x, gamma, beta), dout)


def run_backward(ctx, shape, seed, eps=1e-5):
    """float64 inputs through the student's forward, then the student's backward on its own cache."""
    gen = ctx.gen(seed)
    x, gamma, beta = make_ln_inputs(gen, shape, torch.float64)
    dout = torch.randn(*shape, generator=gen, dtype=torch.float64)
    # The forward's result stays in the student's process: its cache reaches the backward as the very object.
    kept = ctx.call_kept("layernorm_forward", x, gamma, beta, eps)
    ctx.expect(ctx.method(kept, "__len__") == 2, "layernorm_forward should return a tuple (out, cache)")
    out = expect_forward_form(ctx, [ctx.method(kept, "__getitem__", 0), None], x)
    ctx.expect(close(reference_ln(x, gamma, beta, eps), out, "float64"),
               "layernorm_forward gives a wrong output in float64, so its cache cannot be used to judge the backward "
               "(fix layernorm_forward first: its checks say what differs)",
               hint="this point depends on layernorm_forward (and keep x's dtype: no .float()); layernorm_backward "
                    "itself was not judged.")
    cache_before = ctx.method(kept, "__getitem__", 1)
    grads, args = ctx.call_with_args("layernorm_backward", dout, ctx.method_kept(kept, "__getitem__", 1))
    ctx.expect_unchanged(args[0], dout, "layernorm_backward changed dout in place",
                         hint="compute new tensors from dout (dout * gamma, not dout.mul_(gamma)).")
    if not isinstance(cache_before, Ref):
        ctx.expect_unchanged(ctx.method(kept, "__getitem__", 1), cache_before,
                             "layernorm_backward changed the cache in place (e.g. the cached xhat or gamma)",
                             hint="read the cached tensors without modifying them (xhat * ..., not xhat.mul_(...)).")
    ctx.expect(isinstance(grads, (tuple, list)) and len(grads) == 3,
               f"layernorm_backward should return a tuple (dx, dgamma, dbeta); got {type(grads).__name__}")
    dx, dgamma, dbeta = grads
    for name, got, like in (("dx", dx, x), ("dgamma", dgamma, gamma), ("dbeta", dbeta, beta)):
        ctx.expect(isinstance(got, torch.Tensor) and got.shape == like.shape and got.dtype == like.dtype,
                   f"{name} should be a {like.dtype} tensor of shape {list(like.shape)}; got "
                   + (f"{got.dtype} {list(got.shape)}" if isinstance(got, torch.Tensor) else type(got).__name__),
                   hint="dgamma and dbeta sum over every leading (example) dimension: shape (D,).")
    return x, gamma, beta, dout, (dx, dgamma, dbeta)


@suite.check("layernorm_backward", points=1, title="dx, dgamma, dbeta match autograd (float64)",
             cases=[{"shape": [4, 5], "seed": 10}])
def vs_autograd(ctx, shape, seed):
    x, gamma, beta, dout, got = run_backward(ctx, shape, seed)
    expected = reference_grads(x, gamma, beta, dout, 1e-5)
    for name, g in zip(("dx", "dgamma", "dbeta"), got):
        ctx.expect_reference(g, name, tier="float64")
    for name, g, e in zip(("dx", "dgamma", "dbeta"), got, expected):
        ctx.expect_equal(g, e, f"{name} compared with autograd through F.layer_norm", tier="float64")


@suite.check("layernorm_backward", points=1,
             title="dx, dgamma, dbeta match a centred numerical gradient (relative error < 1e-7)",
             cases=[{"shape": [3, 6], "seed": 11}])
def vs_numerical(ctx, shape, seed):
    x, gamma, beta, dout, got = run_backward(ctx, shape, seed)
    x, gamma, beta = x.clone(), gamma.clone(), beta.clone()

    def loss():
        return (reference_ln(x, gamma, beta, 1e-5) * dout).sum()

    for name, g, wrt in zip(("dx", "dgamma", "dbeta"), got, (x, gamma, beta)):
        ctx.expect_gradient(g, loss, wrt, name,
                            hint="dx has three paths: through xhat directly, through the mean and through the "
                                 "variance, all taken per row over the last dim (check the analytic dx against a "
                                 "numerical gradient on a tiny input).")


@suite.check("layernorm_backward", points=1,
             title="inputs with several leading dims: dgamma and dbeta sum over all of them",
             cases=[{"shape": [2, 3, 4], "seed": 12}])
def leading_dims(ctx, shape, seed):
    x, gamma, beta, dout, got = run_backward(ctx, shape, seed)
    expected = reference_grads(x, gamma, beta, dout, 1e-5)
    for name, g, e in zip(("dx", "dgamma", "dbeta"), got, expected):
        ctx.expect_equal(g, e, f"{name} compared with autograd", tier="float64",
                         hint="flatten the leading dims (dout.reshape(-1, D)) before summing for dgamma and dbeta.")


# ---------------------------------------------------------------------------------------------
# weight_norm
# ---------------------------------------------------------------------------------------------


def make_wn_inputs(gen: torch.Generator, shape):
    v = torch.randn(*shape, generator=gen)
    g = torch.randn(shape[0], *([1] * (len(shape) - 1)), generator=gen) * 2.0
    return v, g


def torch_weight_norm(v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """w from torch.nn.utils.parametrizations.weight_norm(module, dim=0) with original0=g, original1=v."""
    from torch.nn.utils.parametrizations import weight_norm as wn

    if v.dim() == 2:
        module = torch.nn.Linear(v.shape[1], v.shape[0], bias=False)
    else:
        module = torch.nn.Conv2d(v.shape[1], v.shape[0], tuple(v.shape[2:]), bias=False)
    module = wn(module, name="weight", dim=0)
    with torch.no_grad():
        module.parametrizations.weight.original0.copy_(g)
        module.parametrizations.weight.original1.copy_(v)
        return module.weight.detach().clone()


def run_wn(ctx, shape, seed):
    v, g = make_wn_inputs(ctx.gen(seed), shape)
    w = ctx.call("weight_norm", v, g)
    ctx.expect(isinstance(w, torch.Tensor) and w.shape == v.shape and w.dtype == v.dtype,
               f"weight_norm should return a tensor of v's shape {list(v.shape)}; got "
               + (f"{list(w.shape)}" if isinstance(w, torch.Tensor) else type(w).__name__),
               hint="compute the norm of each output row with keepdim=True, so it has g's shape.")
    return v, g, w


@suite.check("weight_norm", points=1,
             title="Linear weight: matches torch.nn.utils.parametrizations.weight_norm(dim=0)",
             cases=[{"shape": [4, 6], "seed": 20}, {"shape": [5, 5], "seed": 21}])
def wn_linear(ctx, shape, seed):
    v, g, w = run_wn(ctx, shape, seed)
    ctx.expect_reference(w, "w", tier="op",
                         hint="w = g * v / ||v|| where ||v|| is the L2 norm of each output row v[i] (over dim 1), "
                              "shape (out, 1).")
    ctx.expect_equal(w, torch_weight_norm(v, g), "w compared with torch's weight_norm parametrization", tier="op")


@suite.check("weight_norm", points=1,
             title="each row of w has norm |g_i|, and w does not change when v is rescaled",
             cases=[{"shape": [3, 7], "seed": 22}])
def wn_properties(ctx, shape, seed):
    v, g, w = run_wn(ctx, shape, seed)
    ctx.expect(close(g.abs().view(-1), w.norm(dim=1), "op"),
               "the rows of w do not have norm |g_i|",
               hint="divide each row v[i] by its own L2 norm (a square root of a sum of squares), then multiply "
                    "by g[i].")
    w2 = ctx.call("weight_norm", v * 3.5, g)
    ctx.expect(close(w, w2, "op"),
               "weight_norm(3.5 * v, g) differs from weight_norm(v, g): only the direction of v should matter",
               hint="divide v by its norm: the length of w comes from g alone.")


@suite.check("weight_norm", points=1,
             title="conv kernels (out, in, kh, kw): the norm runs over every dim but the first",
             cases=[{"shape": [3, 2, 3, 3], "seed": 23}])
def wn_conv(ctx, shape, seed):
    v, g, w = run_wn(ctx, shape, seed)
    ctx.expect_equal(w, torch_weight_norm(v, g), "w compared with torch's weight_norm on a Conv2d", tier="op",
                     hint="take the norm over all dims except 0: torch.linalg.vector_norm(v, dim=tuple(range(1, "
                          "v.dim())), keepdim=True).")


# ---------------------------------------------------------------------------------------------
# LayerNorm module
# ---------------------------------------------------------------------------------------------


@suite.check("LayerNorm", points=1,
             title="LayerNorm(D) has parameters weight (ones) and bias (zeros) of shape (D,), and no buffers",
             cases=[{"d": 6}])
def module_structure(ctx, d):
    ref = ctx.call("LayerNorm", d)
    ctx.expect_structure(ref, parameters={"weight": [d], "bias": [d]}, buffers={},
                         hint="self.weight = nn.Parameter(torch.ones(D)); self.bias = nn.Parameter(torch.zeros(D)); "
                              "layer norm keeps no running statistics: do not register running_mean/running_var "
                              "buffers.")
    ctx.expect_equal(ctx.attr(ref, "weight"), torch.ones(d), "weight at initialisation")
    ctx.expect_equal(ctx.attr(ref, "bias"), torch.zeros(d), "bias at initialisation")


@suite.check("LayerNorm", points=1,
             title="same output as nn.LayerNorm in train and in eval mode, for a row alone and in a batch",
             cases=[{"shape": [5, 4], "seed": 30}, {"shape": [3, 5], "seed": 31, "eps": 0.1, "scale": 0.2}])
def module_train_eval(ctx, shape, seed, eps=None, scale=3.0):
    gen = ctx.gen(seed)
    x, gamma, beta = make_ln_inputs(gen, shape, scale=scale)
    d = shape[-1]
    ref = ctx.call("LayerNorm", d, **({} if eps is None else {"eps": eps}))
    ctx.method(ref, "load_state_dict", {"weight": gamma, "bias": beta}, strict=False)
    expected = reference_ln(x, gamma, beta, 1e-5 if eps is None else eps)
    ctx.method(ref, "train", True)
    for _ in range(3):  # several training batches first: nothing may accumulate
        x_k, _, _ = make_ln_inputs(gen, shape, scale=5.0, offset=10.0)
        ctx.method(ref, "__call__", x_k)
    y_train = ctx.method(ref, "__call__", x)
    ctx.expect_equal(y_train, expected, "output in train mode, compared with nn.LayerNorm", tier="composite")
    ctx.method(ref, "eval")
    y_eval = ctx.method(ref, "__call__", x)
    ctx.expect_equal(y_eval, expected, "output in eval mode, compared with nn.LayerNorm (and with train mode)",
                     tier="composite",
                     hint="layer norm uses the statistics of the current example in both modes: no running "
                          "statistics, no branch on self.training.")
    alone = ctx.method(ref, "__call__", x[:1])
    ctx.expect_equal(alone, expected[:1], "eval output of row 0 alone", tier="composite")


@suite.check("LayerNorm", points=1,
             title="gradients reach weight and bias (the forward is differentiable); deepcopy / state_dict work",
             cases=[{"shape": [4, 5], "seed": 32}])
def module_autograd(ctx, shape, seed):
    x, gamma, beta = make_ln_inputs(ctx.gen(seed), shape)
    ref = ctx.call("LayerNorm", shape[-1])
    ctx.method(ref, "load_state_dict", {"weight": gamma, "bias": beta}, strict=False)
    report = ctx.probe("autograder.fixtures.probes:module_autograd", ref, x, seed=seed)
    ctx.expect("error" not in report, f"LayerNorm's forward raised inside the autograd probe: {report.get('error')}")
    grads = report.get("grads") or {}
    ctx.expect(all(grads.get(k) is not None for k in ("weight", "bias")),
               "the output of LayerNorm carries no gradient to weight and bias (detached, under torch.no_grad(), "
               "or computed through .data / .item())",
               hint="compute the output with differentiable torch operations on self.weight and self.bias; no "
                    "torch.no_grad(), .detach() or .data in forward (nor in your layernorm_forward, if forward "
                    "calls it).")
    _, dgamma, dbeta = reference_grads(x, gamma, beta, torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)),
                                       1e-5)
    ctx.expect_equal([grads["weight"], grads["bias"]], [dgamma, dbeta],
                     "weight.grad and bias.grad after a backward pass, compared with nn.LayerNorm's", tier="composite")
    d = shape[-1]
    ctx.expect_independent_copy(ref, x, {"weight": torch.zeros(d), "bias": torch.full((d,), 7.0)}, "LayerNorm",
                                hint="keep parameters as nn.Parameter and no tensors with autograd history as "
                                     "attributes.")


# ---------------------------------------------------------------------------------------------
# bn_ln_consistency
# ---------------------------------------------------------------------------------------------

CONSISTENCY_KEYS = ("bn_train_vs_eval", "ln_train_vs_eval", "bn_alone_vs_batch", "ln_alone_vs_batch")


@suite.check("bn_ln_consistency", points=2,
             title="BN depends on mode and batch, LN on neither: the four numbers",
             cases=[{"shape": [8, 5], "seed": 40}, {"shape": [6, 4], "seed": 41, "eps": 0.5, "momentum": 0.7}])
def consistency(ctx, shape, seed, eps=None, momentum=None):
    x, _, _ = make_ln_inputs(ctx.gen(seed), shape)
    kwargs = {k: v for k, v in (("eps", eps), ("momentum", momentum)) if v is not None}
    res = ctx.call("bn_ln_consistency", x, **kwargs)
    ctx.expect(isinstance(res, dict) and set(res) == set(CONSISTENCY_KEYS),
               f"bn_ln_consistency should return a dict with keys {list(CONSISTENCY_KEYS)}")
    for k in CONSISTENCY_KEYS:
        ctx.expect(isinstance(res[k], float), f"res[{k!r}] should be a Python float (use .item()); got "
                   f"{type(res[k]).__name__}")
    for k in ("ln_train_vs_eval", "ln_alone_vs_batch"):
        ctx.expect(close(0.0, res[k], "composite"),
                   f"res[{k!r}] = {res[k]:.3g}: layer norm should not depend on the mode or the batch",
                   hint="use your LayerNorm / layernorm_forward: statistics per row, over the features.")
    ctx.expect(distinct(res["bn_train_vs_eval"], 0.0),
               f"res['bn_train_vs_eval'] = {res['bn_train_vs_eval']:.3g}: batch norm should depend on the mode",
               hint="train mode normalizes with the batch statistics; eval mode with the running statistics, "
                    "which after one training step from (0, 1) are still far from them.")
    ctx.expect(distinct(res["bn_alone_vs_batch"], 0.0),
               f"res['bn_alone_vs_batch'] = {res['bn_alone_vs_batch']:.3g}: batch norm should depend on the batch",
               hint="BN in training mode: a batch of one row has mean = the row and variance 0, so the row alone "
                    "becomes 0 (= beta) while inside the batch it does not.")
    ctx.expect_reference([res[k] for k in CONSISTENCY_KEYS], f"the numbers {list(CONSISTENCY_KEYS)}",
                         tier="composite")


# ---------------------------------------------------------------------------------------------
# normalize(x, dims): batch, layer, instance and group norm as one function
# ---------------------------------------------------------------------------------------------
NORMALIZE_HINT = ("(x - mean) / sqrt(var + eps) with the mean and the biased variance (divide by the number of "
                  "elements reduced) over exactly the given dims, keepdim=True so they broadcast back.")


def image_batch(gen: torch.Generator, shape, dtype=torch.float32, scale: float = 3.0):
    """(N, C, H, W) (or any shape) with a different offset and scale per channel (dim 1) and per example."""
    x = torch.randn(*shape, generator=gen, dtype=torch.float64)
    ch = [1] * len(shape)
    ch[1] = shape[1]
    ex = [1] * len(shape)
    ex[0] = shape[0]
    x = x * (0.5 + scale * torch.rand(*ch, generator=gen, dtype=torch.float64)) \
        + 2 * torch.randn(*ch, generator=gen, dtype=torch.float64) + torch.randn(*ex, generator=gen, dtype=torch.float64)
    return x.to(dtype)


def expect_like_x(ctx, out, x, function: str, hint: str) -> None:
    """``function`` returned a tensor of ``x``'s shape and dtype."""
    ctx.expect(isinstance(out, torch.Tensor) and out.shape == x.shape and out.dtype == x.dtype,
               f"{function} should return a {x.dtype} tensor of x's shape {list(x.shape)}; got "
               + (f"{out.dtype} {list(out.shape)}" if isinstance(out, torch.Tensor) else type(out).__name__),
               hint=hint)


def call_normalize(ctx, x, dims, eps=None):
    """The student's normalize on x (eps=None: the default, 1e-5, is not passed)."""
    out, args = ctx.call_with_args("normalize", x, dims, *(() if eps is None else (eps,)))
    ctx.expect_unchanged(args[0], x, "normalize changed x in place", hint="build new tensors: (x - mean) / ..., not x -= mean.")
    expect_like_x(ctx, out, x, "normalize",
                  hint="keep the reduced dims (keepdim=True) so the statistics broadcast back over x.")
    return out


@suite.check("normalize", points=2,
             title="dims (0, 2, 3), (1, 2, 3), (2, 3) on (N, C, H, W) match F.batch_norm, F.layer_norm, F.instance_norm",
             cases=[{"shape": [3, 4, 2, 5], "seed": 100}], hint=NORMALIZE_HINT)
def normalize_named(ctx, shape, seed):
    x = image_batch(ctx.gen(seed), shape)
    for dims, name, ref in (((0, 2, 3), "batch norm", lambda t: F.batch_norm(t, None, None, training=True)),
                            ((1, 2, 3), "layer norm", lambda t: F.layer_norm(t, t.shape[1:])),
                            ((2, 3), "instance norm", F.instance_norm)):
        out = call_normalize(ctx, x, dims)
        ctx.expect_reference(out, f"normalize(x, {dims})", tier="composite")
        ctx.expect_equal(out, ref(x), f"normalize(x, {dims}) compared with {name}", tier="composite")


@suite.check("normalize", points=2,
             title="group norm through a reshape; negative and unordered dims; float64",
             cases=[{"shape": [2, 6, 3, 3], "groups": 3, "seed": 101}], hint=NORMALIZE_HINT)
def normalize_any_dims(ctx, shape, groups, seed):
    x = image_batch(ctx.gen(seed), shape, dtype=torch.float64)
    n = shape[0]
    grouped = x.reshape(n, groups, -1)
    out = call_normalize(ctx, grouped, (2,))
    ctx.expect_equal(out.reshape(x.shape), F.group_norm(x, groups), f"normalize(x.view(N, {groups}, -1), (2,)) "
                     f"compared with F.group_norm(x, {groups})", tier="float64")
    for dims in ((-1, -2), (3, 0), (-3,)):
        out = call_normalize(ctx, x, dims, 1e-5)
        ctx.expect_reference(out, f"normalize(x, {dims}) (float64)", tier="float64")
        pos = tuple(sorted(d % x.dim() for d in dims))
        mean = x.mean(pos, keepdim=True)
        ref = (x - mean) / torch.sqrt(((x - mean) ** 2).mean(pos, keepdim=True) + 1e-5)
        ctx.expect_equal(out, ref, f"normalize(x, {dims}) (float64)", tier="float64")


@suite.check("normalize", points=1, title="eps is added to the variance inside the square root (eps = 0.1)",
             cases=[{"shape": [4, 3, 2, 2], "seed": 102, "eps": 0.1}],
             hint="divide by sqrt(var + eps): eps inside the square root, var the biased variance.")
def normalize_eps(ctx, shape, seed, eps):
    x = image_batch(ctx.gen(seed), shape, scale=0.2) * 0.3     # small variances, so eps matters
    out = call_normalize(ctx, x, (0, 2, 3), eps)
    ctx.expect_reference(out, f"normalize(x, (0, 2, 3), eps={eps})", tier="composite")
    ctx.expect_equal(out, F.batch_norm(x, None, None, training=True, eps=eps),
                     f"normalize(x, (0, 2, 3), eps={eps}) compared with F.batch_norm(eps={eps})", tier="composite")


# ---------------------------------------------------------------------------------------------
# rms_norm
# ---------------------------------------------------------------------------------------------
RMS_HINT = "weight * x / sqrt(mean(x ** 2, dim=-1, keepdim=True) + eps): no mean subtraction, eps inside the root."


def call_rms(ctx, x, weight, eps=None):
    """The student's rms_norm on x (eps=None: the default, 1e-6, is not passed)."""
    out, args = ctx.call_with_args("rms_norm", x, weight, *(() if eps is None else (eps,)))
    ctx.expect_unchanged(args[0], x, "rms_norm changed x in place", hint="build new tensors from x.")
    ctx.expect_unchanged(args[1], weight, "rms_norm changed weight in place", hint="build new tensors from weight.")
    expect_like_x(ctx, out, x, "rms_norm",
                  hint="take the mean square with dim=-1, keepdim=True so it broadcasts over the features.")
    return out


@suite.check("rms_norm", points=2, title="matches F.rms_norm over the last dim (2-D, square and 3-D inputs, offset rows)",
             cases=[{"shape": [4, 6], "seed": 110}, {"shape": [5, 5], "seed": 111}, {"shape": [2, 3, 4], "seed": 112}],
             hint=RMS_HINT)
def rms_matches_torch(ctx, shape, seed):
    x, weight, _ = make_ln_inputs(ctx.gen(seed), shape)
    out = call_rms(ctx, x, weight)
    ctx.expect_reference(out, "rms_norm(x, weight) (default eps)", tier="composite")
    ctx.expect_equal(out, F.rms_norm(x, (shape[-1],), weight, 1e-6), "rms_norm compared with F.rms_norm",
                     tier="composite")


@suite.check("rms_norm", points=1, title="eps inside the square root (eps = 0.05, rows of small magnitude)",
             cases=[{"shape": [4, 5], "seed": 113, "eps": 0.05}], hint=RMS_HINT)
def rms_eps(ctx, shape, seed, eps):
    x, weight, _ = make_ln_inputs(ctx.gen(seed), shape, scale=0.2, offset=0.1)
    x = x * 0.3
    out = call_rms(ctx, x, weight, eps)
    ctx.expect_reference(out, f"rms_norm with eps={eps}", tier="composite")
    ctx.expect_equal(out, F.rms_norm(x, (shape[-1],), weight, eps), f"rms_norm(eps={eps}) compared with F.rms_norm",
                     tier="composite")
