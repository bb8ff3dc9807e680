"""Realistic wrong implementations for assignment 04, each with the hint that names it.

Instructor-only. Used to record what each mistake returns (so feedback can say "this matches a
known mistake: ...") and, in the test suite, as submissions that must lose points on ``targets``.
A wrong ``layernorm_forward`` also breaks what is built on it (the backward's cache, the module,
the comparison), hence ``affects``. Backward mistakes bring a correct forward along
(``namespace``) whose cache they read.
"""

import torch
import torch.nn as nn

from autograder.suites.s04_layer_norm.checks import BATCH_AXIS_HINT, suite

DOWNSTREAM = ("layernorm_backward", "LayerNorm", "bn_ln_consistency")


def _forward(x, gamma, beta, eps=1e-5):
    """A correct forward (companion of the backward mistakes); cache = (xhat, inv_std, gamma)."""
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    inv_std = 1.0 / torch.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, inv_std, gamma)


# -- layernorm_forward ---------------------------------------------------------------------------

@suite.mistake("layernorm_forward", name="batch_axis", hint=BATCH_AXIS_HINT,
               targets=("layernorm_forward.row_stats", "layernorm_forward.matches_torch",
                        "layernorm_forward.row_independent"), affects=DOWNSTREAM)
def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(dim=0, keepdim=True)
    var = x.var(dim=0, unbiased=False, keepdim=True)
    xhat = (x - mu) / torch.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, var, gamma)


_RUNNING = {}


@suite.mistake("layernorm_forward", name="running_stats",
               hint="layer norm keeps no running statistics: compute mu and var from the current x only, every "
                    "call, in training and in evaluation.",
               targets=("layernorm_forward.row_independent", "layernorm_forward.matches_torch"), affects=DOWNSTREAM)
def layernorm_forward(x, gamma, beta, eps=1e-5):  # noqa: F811
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    # "like batch norm": running averages of the statistics, used for normalizing
    rm = 0.9 * _RUNNING.get("mean", 0.0) + 0.1 * float(mu.mean())
    rv = 0.9 * _RUNNING.get("var", 1.0) + 0.1 * float(var.mean())
    _RUNNING.update(mean=rm, var=rv)
    xhat = (x - rm) / (rv + eps) ** 0.5
    return gamma * xhat + beta, (xhat, rv, gamma)


@suite.mistake("layernorm_forward", name="no_eps",
               hint="eps is missing: divide by sqrt(var + eps), not sqrt(var) (rows of small variance blow up).",
               targets=("layernorm_forward.eps_inside",), affects=DOWNSTREAM)
def layernorm_forward(x, gamma, beta, eps=1e-5):  # noqa: F811
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    xhat = (x - mu) / torch.sqrt(var)
    return gamma * xhat + beta, (xhat, var, gamma)


@suite.mistake("layernorm_forward", name="eps_outside_sqrt",
               hint="eps was added outside the square root, (x - mu) / (sqrt(var) + eps); it belongs inside: "
                    "sqrt(var + eps).",
               targets=("layernorm_forward.eps_inside",), affects=DOWNSTREAM)
def layernorm_forward(x, gamma, beta, eps=1e-5):  # noqa: F811
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    xhat = (x - mu) / (torch.sqrt(var) + eps)
    return gamma * xhat + beta, (xhat, var, gamma)


@suite.mistake("layernorm_forward", name="no_keepdim",
               hint="the mean and variance have shape (N,) instead of (N, 1) (keepdim missing), so x - mu "
                    "broadcasts along the features: on a square input it silently subtracts the wrong numbers. "
                    "Use keepdim=True.",
               targets=("layernorm_forward.matches_torch",), affects=("layernorm_backward", "LayerNorm",
                                                                      "bn_ln_consistency"))
def layernorm_forward(x, gamma, beta, eps=1e-5):  # noqa: F811
    mu = x.mean(dim=-1)
    var = x.var(dim=-1, unbiased=False)
    xhat = (x - mu) / torch.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, var, gamma)


@suite.mistake("layernorm_forward", name="unbiased_variance",
               hint="the variance is the unbiased one (divided by D - 1); layer norm, like F.layer_norm, uses the "
                    "biased variance (correction=0, unbiased=False).",
               targets=("layernorm_forward.matches_torch",), affects=DOWNSTREAM)
def layernorm_forward(x, gamma, beta, eps=1e-5):  # noqa: F811
    mu = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True)
    xhat = (x - mu) / torch.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, var, gamma)


# -- layernorm_backward --------------------------------------------------------------------------

@suite.mistake("layernorm_backward", name="no_variance_path",
               hint="dx misses the path through the variance: dx = inv_std * (dxhat - mean(dxhat) - xhat * "
                    "mean(dxhat * xhat)); the last term was dropped.",
               targets=("layernorm_backward.vs_autograd", "layernorm_backward.vs_numerical",
                        "layernorm_backward.leading_dims"),
               namespace={"layernorm_forward": _forward})
def layernorm_backward(dout, cache):
    xhat, inv_std, gamma = cache
    d = xhat.shape[-1]
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(dim=-1, keepdim=True))
    return dx, (dout * xhat).reshape(-1, d).sum(0), dout.reshape(-1, d).sum(0)


@suite.mistake("layernorm_backward", name="dx_without_gamma",
               hint="dx forgot the scale: the gradient reaching xhat is dout * gamma, not dout.",
               targets=("layernorm_backward.vs_autograd", "layernorm_backward.vs_numerical"),
               namespace={"layernorm_forward": _forward})
def layernorm_backward(dout, cache):  # noqa: F811
    xhat, inv_std, gamma = cache
    d = xhat.shape[-1]
    dxhat = dout
    dx = inv_std * (dxhat - dxhat.mean(dim=-1, keepdim=True) - xhat * (dxhat * xhat).mean(dim=-1, keepdim=True))
    return dx, (dout * xhat).reshape(-1, d).sum(0), dout.reshape(-1, d).sum(0)


@suite.mistake("layernorm_backward", name="sum_dim0_only",
               hint="dgamma and dbeta sum over dim 0 only; with inputs of shape (B, T, D) they must sum over every "
                    "leading dim.",
               targets=("layernorm_backward.leading_dims",),
               feedback="dgamma and dbeta sum over every leading (example) dimension",
               namespace={"layernorm_forward": _forward})
def layernorm_backward(dout, cache):  # noqa: F811
    xhat, inv_std, gamma = cache
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(dim=-1, keepdim=True) - xhat * (dxhat * xhat).mean(dim=-1, keepdim=True))
    return dx, (dout * xhat).sum(0), dout.sum(0)


# -- weight_norm -------------------------------------------------------------------------------

@suite.mistake("weight_norm", name="norm_over_columns",
               hint="the norm was taken over dim 0 (one norm per input column); weight_norm with dim=0 keeps "
                    "dim 0 and takes one norm per output row, over all the other dims.",
               targets=("weight_norm.wn_linear", "weight_norm.wn_properties"))
def weight_norm(v, g):
    return g * v / v.norm(dim=0, keepdim=True)


@suite.mistake("weight_norm", name="whole_matrix_norm",
               hint="v was divided by the norm of the whole matrix; each output row needs its own norm.",
               targets=("weight_norm.wn_linear", "weight_norm.wn_properties", "weight_norm.wn_conv"))
def weight_norm(v, g):  # noqa: F811
    return g * v / v.norm()


@suite.mistake("weight_norm", name="squared_norm",
               hint="v was divided by the squared norm (no square root); divide by ||v|| = sqrt(sum(v**2)).",
               targets=("weight_norm.wn_linear", "weight_norm.wn_properties"))
def weight_norm(v, g):  # noqa: F811
    return g * v / (v ** 2).sum(dim=tuple(range(1, v.dim())), keepdim=True)


# -- LayerNorm module ----------------------------------------------------------------------------

@suite.mistake("LayerNorm", name="running_stats_module",
               hint="layer norm keeps no running statistics: do not register running_mean/running_var buffers.",
               targets=("LayerNorm.module_structure", "LayerNorm.module_train_eval"), affects=("bn_ln_consistency",))
class LayerNorm(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(1))
        self.register_buffer("running_var", torch.ones(1))

    def forward(self, x):
        if self.training:
            mu = x.mean(dim=-1, keepdim=True)
            var = x.var(dim=-1, unbiased=False, keepdim=True)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mu.mean())
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var.mean())
        else:
            mu, var = self.running_mean, self.running_var
        return self.weight * (x - mu) / torch.sqrt(var + self.eps) + self.bias


# -- bn_ln_consistency ---------------------------------------------------------------------------

def _ln(x, eps):
    mu = x.mean(dim=-1, keepdim=True)
    return (x - mu) / torch.sqrt(x.var(dim=-1, unbiased=False, keepdim=True) + eps)


def _bn_train(x, eps):
    mu = x.mean(dim=0, keepdim=True)
    return (x - mu) / torch.sqrt(x.var(dim=0, unbiased=False, keepdim=True) + eps)


def _consistency(x, eps, momentum, alone_in_eval=False, biased_running_var=False):
    n = x.shape[0]
    mean, var = x.mean(0), x.var(0, unbiased=biased_running_var is False)
    running_mean = momentum * mean
    running_var = (1 - momentum) + momentum * var
    y_eval = (x - running_mean) / torch.sqrt(running_var + eps)
    y_train = _bn_train(x, eps)
    if alone_in_eval:
        bn_alone = max(float(((x[i:i + 1] - running_mean) / torch.sqrt(running_var + eps) - y_eval[i]).abs().max())
                       for i in range(n))
    else:
        bn_alone = max(float((_bn_train(x[i:i + 1], eps)[0] - y_train[i]).abs().max()) for i in range(n))
    z = _ln(x, eps)
    ln_alone = max(float((_ln(x[i:i + 1], eps)[0] - z[i]).abs().max()) for i in range(n))
    return {"bn_train_vs_eval": float((y_train - y_eval).abs().max()), "ln_train_vs_eval": 0.0,
            "bn_alone_vs_batch": bn_alone, "ln_alone_vs_batch": ln_alone}


@suite.mistake("bn_ln_consistency", name="bn_alone_in_eval",
               hint="the row alone went through BN in eval mode (running statistics), where it trivially matches; "
                    "the question is BN in training mode with a batch of one row.",
               targets=("bn_ln_consistency.consistency",), feedback="batch norm should depend on the batch")
def bn_ln_consistency(x, eps=1e-5, momentum=0.1):
    return _consistency(x, eps, momentum, alone_in_eval=True)


@suite.mistake("bn_ln_consistency", name="biased_running_var",
               hint="running_var was updated with the biased batch variance; nn.BatchNorm1d updates it with the "
                    "unbiased one (only the normalization uses the biased variance).",
               targets=("bn_ln_consistency.consistency",))
def bn_ln_consistency(x, eps=1e-5, momentum=0.1):  # noqa: F811
    return _consistency(x, eps, momentum, biased_running_var=True)


# -- normalize(x, dims) ---------------------------------------------------------------------------------
NORM_ALL = ("normalize.normalize_named", "normalize.normalize_any_dims", "normalize.normalize_eps")


def _normalize(x, dims, eps=1e-5, unbiased=False, eps_outside=False, all_dims=False, no_keepdim=False, sorted_first=False):
    dims = tuple(range(x.dim())) if all_dims else tuple(dims)
    if sorted_first:
        dims = dims[:1]
    mean = x.mean(dim=dims, keepdim=not no_keepdim)
    var = x.var(dim=dims, unbiased=unbiased, keepdim=not no_keepdim)
    std = torch.sqrt(var) + eps if eps_outside else torch.sqrt(var + eps)
    return (x - mean) / std


@suite.mistake("normalize", name="normalize_unbiased", targets=NORM_ALL,
               hint="the variance was divided by n-1 (unbiased); normalization uses the biased variance (divide by n).")
def normalize(x, dims, eps=1e-5):
    return _normalize(x, dims, eps, unbiased=True)


@suite.mistake("normalize", name="normalize_eps_outside", targets=("normalize.normalize_eps",),
               hint="eps was added to the standard deviation; it belongs inside the square root: sqrt(var + eps).")
def normalize(x, dims, eps=1e-5):  # noqa: F811
    return _normalize(x, dims, eps, eps_outside=True)


@suite.mistake("normalize", name="normalize_over_everything", targets=NORM_ALL,
               hint="the statistics were taken over every axis of x; take them over the given dims only.")
def normalize(x, dims, eps=1e-5):  # noqa: F811
    return _normalize(x, dims, eps, all_dims=True)


@suite.mistake("normalize", name="normalize_first_dim_only", targets=NORM_ALL,
               hint="only the first axis of dims was reduced; the mean and variance run over all of them together.")
def normalize(x, dims, eps=1e-5):  # noqa: F811
    return _normalize(x, dims, eps, sorted_first=True)


@suite.mistake("normalize", name="normalize_ignores_eps", targets=("normalize.normalize_eps",),
               hint="the eps argument was ignored (a fixed 1e-5 was used); pass eps on to sqrt(var + eps).")
def normalize(x, dims, eps=1e-5):  # noqa: F811
    return _normalize(x, dims, 1e-5)


@suite.mistake("normalize", name="normalize_mean_only", targets=NORM_ALL,
               hint="the output was only centred; also divide by sqrt(var + eps).")
def normalize(x, dims, eps=1e-5):  # noqa: F811
    return x - x.mean(dim=tuple(dims), keepdim=True)


# -- rms_norm ---------------------------------------------------------------------------------------------
RMS_ALL = ("rms_norm.rms_matches_torch", "rms_norm.rms_eps")


@suite.mistake("rms_norm", name="rms_subtracts_mean", targets=RMS_ALL,
               hint="the mean was subtracted (that is layer norm); RMSNorm divides x itself by its root mean square.")
def rms_norm(x, weight, eps=1e-6):
    xc = x - x.mean(-1, keepdim=True)
    return weight * xc / torch.sqrt((xc * xc).mean(-1, keepdim=True) + eps)


@suite.mistake("rms_norm", name="rms_eps_outside", targets=("rms_norm.rms_eps",),
               hint="eps was added to the root mean square; it belongs inside the square root.")
def rms_norm(x, weight, eps=1e-6):  # noqa: F811
    return weight * x / (torch.sqrt((x * x).mean(-1, keepdim=True)) + eps)


@suite.mistake("rms_norm", name="rms_over_batch", targets=RMS_ALL,
               hint="the mean square was taken over the batch (dim 0); RMSNorm uses each example's features (dim=-1).")
def rms_norm(x, weight, eps=1e-6):  # noqa: F811
    return weight * x / torch.sqrt((x * x).mean(0, keepdim=True) + eps)


@suite.mistake("rms_norm", name="rms_sum_not_mean", targets=RMS_ALL,
               hint="the squares were summed; RMSNorm uses their mean (divide by D) before the square root.")
def rms_norm(x, weight, eps=1e-6):  # noqa: F811
    return weight * x / torch.sqrt((x * x).sum(-1, keepdim=True) + eps)


@suite.mistake("rms_norm", name="rms_no_sqrt", targets=RMS_ALL,
               hint="x was divided by the mean square itself; divide by its square root.")
def rms_norm(x, weight, eps=1e-6):  # noqa: F811
    return weight * x / ((x * x).mean(-1, keepdim=True) + eps)


@suite.mistake("rms_norm", name="rms_without_weight", targets=RMS_ALL,
               hint="the result was not multiplied by weight (gamma), one factor per feature.")
def rms_norm(x, weight, eps=1e-6):  # noqa: F811
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps)
