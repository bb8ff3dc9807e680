"""Assignment 04 (layer_norm): other correct implementations get full marks.

Each alternative is injected into the solution notebook right after the cell it replaces and graded
as a submission (remote student process). The caches of the forward alternatives come in three
forms — a tuple of tensors, a dict, and objects with no plain-data form (a closure over an autograd
graph, an instance of a class), which travel to the grader as a ``Ref`` and back to the student's
backward — and the in-process self-check is run on the same alternatives.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest
from helpers import assert_full_marks, load_nb, solution_path, with_cells_after, write_nb

from autograder.suites import load_suite

A = "04_layer_norm"

# -- forward + backward pairs (the cache format is theirs) ---------------------------------------

LN_VAR_RSQRT_DICT = r'''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, unbiased=False, keepdim=True)
    rstd = torch.rsqrt(var + eps)
    xhat = (x - mu) * rstd
    return xhat * gamma + beta, {"x": x, "mu": mu, "var": var, "gamma": gamma, "eps": eps}


def layernorm_backward(dout, cache):
    # CS231n-style staged derivation through the computational graph
    x, mu, var, gamma, eps = cache["x"], cache["mu"], cache["var"], cache["gamma"], cache["eps"]
    D = x.shape[-1]
    xmu = x - mu
    std = torch.sqrt(var + eps)
    istd = 1.0 / std
    xhat = xmu * istd
    dbeta = dout.reshape(-1, D).sum(0)
    dgamma = (dout * xhat).reshape(-1, D).sum(0)
    dxhat = dout * gamma
    dxmu1 = dxhat * istd
    distd = (dxhat * xmu).sum(-1, keepdim=True)
    dstd = -distd / std ** 2
    dvar = 0.5 * dstd / std
    dsq = dvar * torch.ones_like(x) / D
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(-1, keepdim=True)
    dx2 = dmu * torch.ones_like(x) / D
    return dx1 + dx2, dgamma, dbeta
'''

LN_MEAN_OF_SQUARES = r'''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    D = x.shape[-1]
    mu = x.sum(dim=-1, keepdim=True) / D
    var = (x ** 2).mean(dim=-1, keepdim=True) - mu ** 2
    std = (var + eps).sqrt()
    xhat = (x - mu) / std
    out = torch.addcmul(beta.expand_as(x), gamma.expand_as(x), xhat)
    return out, [xhat, std, gamma]


def layernorm_backward(dout, cache):
    # the compact form: (1/D) / std * (D dxhat - sum dxhat - xhat sum(dxhat xhat))
    xhat, std, gamma = cache
    D = xhat.shape[-1]
    lead = tuple(range(dout.dim() - 1))
    dxhat = dout * gamma
    dx = (D * dxhat - dxhat.sum(-1, keepdim=True) - xhat * (dxhat * xhat).sum(-1, keepdim=True)) / (D * std)
    return dx, torch.sum(dout * xhat, dim=lead), torch.sum(dout, dim=lead)
'''

LN_AUTOGRAD_CLOSURE = r'''
def layernorm_forward(x, gamma, beta, eps=1e-5):
    # torch's own layer_norm; the cache is a closure over its own autograd graph (no plain-data form); the
    # returned out stays differentiable for the caller (the LayerNorm module trains through it)
    xs, gs, bs = (t.detach().clone().requires_grad_(True) for t in (x, gamma, beta))
    out = F.layer_norm(xs, (x.shape[-1],), gs, bs, eps)

    def cache(dout):
        return torch.autograd.grad(out, (xs, gs, bs), dout, retain_graph=True)

    return F.layer_norm(x, (x.shape[-1],), gamma, beta, eps), cache


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = cache(dout)
    return dx, dgamma, dbeta
'''

LN_CLASS_CACHE = r'''
class _LNCache:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    centered = x - x.mean(-1, keepdim=True)
    inv = (centered.pow(2).mean(-1, keepdim=True) + eps).rsqrt()
    xhat = centered * inv
    return gamma * xhat + beta, _LNCache(xhat=xhat, inv=inv, gamma=gamma)


def layernorm_backward(dout, cache):
    D = dout.shape[-1]
    flat = dout.reshape(-1, D)
    g = dout * cache.gamma
    proj = (g * cache.xhat).mean(-1, keepdim=True)
    dx = cache.inv * (g - g.mean(-1, keepdim=True) - cache.xhat * proj)
    return dx, torch.einsum("nd,nd->d", flat, cache.xhat.reshape(-1, D)), flat.sum(0)
'''

# -- weight_norm ---------------------------------------------------------------------------------

WN_SQRT_SUM = r'''
def weight_norm(v, g):
    norms = v.reshape(v.shape[0], -1).pow(2).sum(dim=1).sqrt()
    return g * v / norms.reshape(g.shape)
'''

WN_NORMALIZE = r'''
def weight_norm(v, g):
    direction = F.normalize(v.flatten(1), p=2.0, dim=1, eps=0.0).reshape(v.shape)
    return direction * g
'''

WN_TORCH_INTERNAL = r'''
def weight_norm(v, g):
    return torch._weight_norm(v, g, 0)
'''

# -- LayerNorm module and the comparison --------------------------------------------------------

MODULE_F_LAYER_NORM = r'''
class LayerNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.normalized_shape = (num_features,)
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(num_features))
        self.bias = nn.Parameter(torch.empty(num_features))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.ones_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
'''

MODULE_BY_HAND = r'''
class LayerNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x):
        var, mean = torch.var_mean(x, dim=-1, keepdim=True, correction=0)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
'''

CONSISTENCY_BY_HAND = r'''
def bn_ln_consistency(x, eps=1e-5, momentum=0.1):
    # batch norm written out, running statistics included; layer norm via F.layer_norm
    n, d = x.shape
    mean, var_b, var_u = x.mean(0), x.var(0, correction=0), x.var(0, correction=1)
    y_train = (x - mean) / torch.sqrt(var_b + eps)
    run_mean = (1 - momentum) * torch.zeros(d) + momentum * mean
    run_var = (1 - momentum) * torch.ones(d) + momentum * var_u
    y_eval = (x - run_mean) / torch.sqrt(run_var + eps)
    alone = torch.zeros_like(x)  # a batch of one: x - mean = 0, var = 0
    ln = F.layer_norm(x, (d,), eps=eps)
    ln_alone = torch.cat([F.layer_norm(x[i:i + 1], (d,), eps=eps) for i in range(n)])
    return {"bn_train_vs_eval": float((y_train - y_eval).abs().max()),
            "ln_train_vs_eval": 0.0,
            "bn_alone_vs_batch": float((alone - y_train).abs().max()),
            "ln_alone_vs_batch": float((ln_alone - ln).abs().max())}
'''

CONSISTENCY_MODULES = r'''
def bn_ln_consistency(x, eps=1e-5, momentum=0.1):
    d = x.shape[1]
    results = {}
    for name, layer in (("bn", nn.BatchNorm1d(d, eps=eps, momentum=momentum)), ("ln", nn.LayerNorm(d, eps=eps))):
        layer.train()
        y_train = layer(x).detach()
        layer.eval()
        y_eval = layer(x).detach()
        results[f"{name}_train_vs_eval"] = torch.max(torch.abs(y_train - y_eval)).item()
    def batch_stats_norm(t):
        return F.batch_norm(t, None, None, training=True, eps=eps) if t.shape[0] > 1 else torch.zeros_like(t)
    full = batch_stats_norm(x)
    results["bn_alone_vs_batch"] = max((batch_stats_norm(x[i:i + 1]) - full[i]).abs().max().item()
                                       for i in range(x.shape[0]))
    ones, zeros = torch.ones(d), torch.zeros(d)
    full_ln, _ = layernorm_forward(x, ones, zeros, eps)
    results["ln_alone_vs_batch"] = max((layernorm_forward(x[i:i + 1], ones, zeros, eps)[0] - full_ln[i]).abs().max().item()
                                       for i in range(x.shape[0]))
    return results
'''

ALTERNATIVES = {
    "ln_var_rsqrt_dict_cache_staged_backward": ("layernorm_backward", LN_VAR_RSQRT_DICT,
                                                ("layernorm_forward", "layernorm_backward")),
    "ln_mean_of_squares_list_cache_compact_backward": ("layernorm_backward", LN_MEAN_OF_SQUARES,
                                                       ("layernorm_forward", "layernorm_backward")),
    "ln_autograd_closure_cache_ref": ("layernorm_backward", LN_AUTOGRAD_CLOSURE,
                                      ("layernorm_forward", "layernorm_backward")),
    "ln_class_instance_cache_ref": ("layernorm_backward", LN_CLASS_CACHE,
                                    ("layernorm_forward", "layernorm_backward")),
    "wn_sqrt_of_sum_of_squares": ("weight_norm", WN_SQRT_SUM, ("weight_norm",)),
    "wn_f_normalize": ("weight_norm", WN_NORMALIZE, ("weight_norm",)),
    "wn_torch_weight_norm_kernel": ("weight_norm", WN_TORCH_INTERNAL, ("weight_norm",)),
    "module_f_layer_norm": ("LayerNorm", MODULE_F_LAYER_NORM, ("LayerNorm",)),
    "module_var_mean": ("LayerNorm", MODULE_BY_HAND, ("LayerNorm",)),
    "consistency_by_hand": ("bn_ln_consistency", CONSISTENCY_BY_HAND, ("bn_ln_consistency",)),
    "consistency_torch_modules": ("bn_ln_consistency", CONSISTENCY_MODULES, ("bn_ln_consistency",)),
}


@pytest.mark.parametrize("name", list(ALTERNATIVES))
def test_04_alternative_gets_full_marks(name, grade, tmp_path):
    after, src, groups = ALTERNATIVES[name]
    nb = with_cells_after(load_nb(solution_path(A)), after, [src])
    result = grade(write_nb(nb, tmp_path / f"{A}-{name}.ipynb"))
    assert_full_marks(result)
    assert {c.exercise for c in result.checks} >= set(groups)


def _solution_namespace() -> dict:
    """The solution notebook's gradable cells, run in this process (as the in-notebook self-check sees them)."""
    from autograder.notebooks import notebook_namespace

    return notebook_namespace(solution_path(A))


@pytest.mark.parametrize("name", ["ln_autograd_closure_cache_ref", "ln_class_instance_cache_ref",
                                  "ln_var_rsqrt_dict_cache_staged_backward"])
def test_04_self_check_in_process_accepts_any_cache(name):
    """The in-process flavour (LocalStudent) passes non-plain caches back as Refs too."""
    from autograder import check

    ns = _solution_namespace()
    exec(compile(ALTERNATIVES[name][1], "<alternative>", "exec"), ns)
    suite = load_suite(A, hidden=True)
    for group in ("layernorm_forward", "layernorm_backward"):
        for hidden in (False, True):
            with redirect_stdout(io.StringIO()) as out:
                got = check(group, hidden=hidden, namespace=ns)
            assert got == suite.points(group, hidden=hidden), out.getvalue()


def test_04_numerical_gradient_has_margin():
    """The numerical gradient the backward is judged against is far more accurate than the 1e-7 bar."""
    import torch

    from autograder.compare import numerical_gradient, rel_error
    from autograder.suites.s04_layer_norm import checks

    cases = [c for chk in load_suite(A, hidden=True).select("layernorm_backward") if chk.run is checks.vs_numerical
             for c in chk.cases]
    assert len(cases) >= 3
    for case in cases:
        gen = torch.Generator().manual_seed(case["seed"])
        x, gamma, beta = checks.make_ln_inputs(gen, case["shape"], torch.float64)
        dout = torch.randn(*case["shape"], generator=gen, dtype=torch.float64)
        exact = checks.reference_grads(x, gamma, beta, dout, 1e-5)

        def loss(x=x, gamma=gamma, beta=beta, dout=dout):
            return (checks.reference_ln(x, gamma, beta, 1e-5) * dout).sum()

        for e, wrt in zip(exact, (x, gamma, beta)):
            assert rel_error(e, numerical_gradient(loss, wrt)) < 1e-9, case
