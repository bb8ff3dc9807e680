"""Realistic wrong implementations for assignment 03, each with the hint that names it.

Instructor-only. Used to record what each mistake returns (so feedback can say "this matches a
known mistake: ...") and, in the test suite, as submissions that must lose points on ``targets``.
``feedback=`` is the text a property check prints instead (asserted by the tests).
"""

import torch
from torch import nn

from autograder.suites.s03_batch_norm.checks import suite

FORWARD = "batchnorm_forward"


# -- by hand ------------------------------------------------------------------------------------------
def _by_hand(X, W, b, gamma, beta, round_stats, eps, dim=0, unbiased=False):
    Z = X @ W.T + b
    H = torch.clamp(Z, min=0)
    mean = H.mean(dim=dim, keepdim=dim != 0)
    var = H.var(dim=dim, unbiased=unbiased, keepdim=dim != 0)
    std = torch.sqrt(var + eps)
    if round_stats:
        mean, std = torch.round(mean), torch.round(std)
    x_hat = (H - mean) / std
    return {"linear": Z, "relu": H, "mean": mean, "var": var, "std": std, "x_hat": x_hat,
            "out": gamma * x_hat + beta}


@suite.mistake("batchnorm_by_hand", name="by_hand_wrong_axis",
               hint="the statistics were taken over the features of each example (dim=1); batch norm takes one "
                    "mean and variance per feature over the examples (dim=0).",
               targets=("batchnorm_by_hand.mean", "batchnorm_by_hand.var", "batchnorm_by_hand.out"))
def batchnorm_by_hand(X, W, b, gamma, beta, round_stats=False, eps=1e-5):
    return _by_hand(X, W, b, gamma, beta, round_stats, eps, dim=1)


@suite.mistake("batchnorm_by_hand", name="by_hand_unbiased_var",
               hint="the variance was divided by N-1 (unbiased); batch norm normalizes with the biased batch "
                    "variance (divide by N).",
               targets=("batchnorm_by_hand.var", "batchnorm_by_hand.out"))
def batchnorm_by_hand(X, W, b, gamma, beta, round_stats=False, eps=1e-5):  # noqa: F811
    return _by_hand(X, W, b, gamma, beta, round_stats, eps, unbiased=True)


# -- batchnorm_forward ----------------------------------------------------------------------------------
def _forward(x, gamma, beta, bn_param, *, dim=0, unbiased_norm=False, eps_outside=False, update=True,
             flip=False, biased_running=False, eval_batch=False, eval_update=False, swap=False):
    mode = bn_param["mode"]
    eps, m = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    N, D = x.shape
    rm = bn_param.get("running_mean", torch.zeros(D, dtype=x.dtype))
    rv = bn_param.get("running_var", torch.ones(D, dtype=x.dtype))
    if swap:
        gamma, beta = beta, gamma
    use_batch = mode == "train" or eval_batch
    if use_batch:
        mean = x.mean(dim=dim, keepdim=True)
        var = x.var(dim=dim, unbiased=unbiased_norm, keepdim=True)
    else:
        mean, var = rm, rv
    std = torch.sqrt(var) + eps if eps_outside else torch.sqrt(var + eps)
    x_hat = (x - mean) / std
    out = gamma * x_hat + beta
    if (mode == "train" and update) or eval_update:
        bm, bv = x.mean(0), x.var(0, unbiased=not biased_running)
        a, c = (m, 1 - m) if flip else (1 - m, m)
        bn_param["running_mean"] = a * rm + c * bm
        bn_param["running_var"] = a * rv + c * bv
    inv_std = 1.0 / torch.sqrt(x.var(0, unbiased=False) + eps)
    return out, {"x_hat": (x - x.mean(0)) * inv_std, "inv_std": inv_std, "gamma": gamma}


def _forward_mistake(name, hint, targets, affects=("batchnorm_backward", "batchnorm_backward_alt"), feedback=None,
                     **flags):
    def impl(x, gamma, beta, bn_param):
        return _forward(x, gamma, beta, bn_param, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake(FORWARD, name=name, hint=hint, targets=targets, affects=affects, **extra)(impl)


_forward_mistake("wrong_axis", "the statistics were taken over the features of each example (dim=1); batch norm "
                 "takes one mean and variance per feature, over the batch (dim=0).",
                 ("batchnorm_forward.train_output",), dim=1)
_forward_mistake("unbiased_norm", "the normalization used the unbiased variance (divide by N-1); batch norm "
                 "normalizes with the biased batch variance (divide by N) and keeps the unbiased one for "
                 "running_var only.", ("batchnorm_forward.train_output",), unbiased_norm=True)
_forward_mistake("eps_outside_sqrt", "eps was added outside the square root: use sqrt(var + eps), not "
                 "sqrt(var) + eps.", ("batchnorm_forward.eps_inside_sqrt",), eps_outside=True)
_forward_mistake("gamma_beta_swapped", "gamma and beta are swapped: out = gamma * x_hat + beta (gamma scales, "
                 "beta shifts).", ("batchnorm_forward.train_output",), swap=True)
_forward_mistake("running_not_updated", "after a train-mode call, bn_param's running statistics were not "
                 "updated.", ("batchnorm_forward.running_stats",), affects=(), update=False)
_forward_mistake("momentum_flipped", "the momentum convention is flipped: PyTorch uses running = (1 - momentum) "
                 "* running + momentum * batch_stat (momentum weighs the new value).",
                 ("batchnorm_forward.running_stats",), affects=(), flip=True)
_forward_mistake("running_var_biased", "running_var was updated with the biased variance; PyTorch updates it with "
                 "the unbiased one (divide by N-1).", ("batchnorm_forward.running_stats",), affects=(),
                 biased_running=True)
_forward_mistake("updated_in_eval", "running statistics updated in eval mode",
                 ("batchnorm_forward.eval_mode",), affects=(), eval_update=True,
                 feedback="bn_param's running statistics changed in eval mode")
_forward_mistake("batch_stats_in_eval", "batch statistics used in eval mode", ("batchnorm_forward.eval_mode",),
                 affects=(), eval_batch=True,
                 feedback="eval mode must not use batch statistics")


# -- batchnorm_backward ----------------------------------------------------------------------------------
def _correct_forward(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param)


# the backward checks call the forward first: record backward mistakes with a correct forward beside them
_WITH_FORWARD = {"namespace": {"batchnorm_forward": _correct_forward}}

@suite.mistake("batchnorm_backward", name="dx_ignores_batch_stats",
               hint="dx treats the mean and variance as constants (dx = dout * gamma / std); they depend on x too.",
               targets=("batchnorm_backward.input_grad",), **_WITH_FORWARD)
def batchnorm_backward(dout, cache):
    return dout * cache["gamma"] * cache["inv_std"], (dout * cache["x_hat"]).sum(0), dout.sum(0)


@suite.mistake("batchnorm_backward", name="dx_missing_var_path",
               hint="dx misses the path through the variance: subtract x_hat * mean(dout * x_hat) as well as "
                    "mean(dout).",
               targets=("batchnorm_backward.input_grad",), **_WITH_FORWARD)
def batchnorm_backward(dout, cache):  # noqa: F811
    dx = cache["gamma"] * cache["inv_std"] * (dout - dout.mean(0))
    return dx, (dout * cache["x_hat"]).sum(0), dout.sum(0)


@suite.mistake("batchnorm_backward", name="dgamma_without_xhat",
               hint="dgamma was summed without the factor x_hat: dgamma = (dout * x_hat).sum(0).",
               targets=("batchnorm_backward.param_grads",), **_WITH_FORWARD)
def batchnorm_backward(dout, cache):  # noqa: F811
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    dx = gamma * inv_std * (dout - dout.mean(0) - x_hat * (dout * x_hat).mean(0))
    return dx, dout.sum(0), dout.sum(0)


# -- batchnorm_backward_alt (the simplified closed form) -------------------------------------------------------
ALT = "batchnorm_backward_alt"
ALT_DX, ALT_PARAMS = (f"{ALT}.alt_input_grad",), (f"{ALT}.alt_param_grads",)


@suite.mistake(ALT, name="alt_ignores_batch_stats", targets=ALT_DX, **_WITH_FORWARD,
               hint="dx treats the mean and variance as constants (dx = dout * gamma / std); they depend on x too.")
def batchnorm_backward_alt(dout, cache):
    return dout * cache["gamma"] * cache["inv_std"], (dout * cache["x_hat"]).sum(0), dout.sum(0)


@suite.mistake(ALT, name="alt_missing_var_path", targets=ALT_DX, **_WITH_FORWARD,
               hint="dx misses the path through the variance: subtract x_hat * mean(dout * x_hat) as well.")
def batchnorm_backward_alt(dout, cache):  # noqa: F811
    return cache["gamma"] * cache["inv_std"] * (dout - dout.mean(0)), (dout * cache["x_hat"]).sum(0), dout.sum(0)


@suite.mistake(ALT, name="alt_missing_mean_path", targets=ALT_DX, **_WITH_FORWARD,
               hint="dx misses the path through the mean: subtract the batch mean of dout as well.")
def batchnorm_backward_alt(dout, cache):  # noqa: F811
    x_hat = cache["x_hat"]
    dx = cache["gamma"] * cache["inv_std"] * (dout - x_hat * (dout * x_hat).mean(0))
    return dx, (dout * x_hat).sum(0), dout.sum(0)


@suite.mistake(ALT, name="alt_sums_not_means", targets=ALT_DX, **_WITH_FORWARD,
               hint="the two correction terms are batch *means* (1/N times the sums), not sums.")
def batchnorm_backward_alt(dout, cache):  # noqa: F811
    x_hat = cache["x_hat"]
    dx = cache["gamma"] * cache["inv_std"] * (dout - dout.sum(0) - x_hat * (dout * x_hat).sum(0))
    return dx, (dout * x_hat).sum(0), dout.sum(0)


@suite.mistake(ALT, name="alt_without_gamma", targets=ALT_DX, **_WITH_FORWARD,
               hint="dx lacks the factor gamma: dL/dx_hat = gamma * dout before the normalization's backward.")
def batchnorm_backward_alt(dout, cache):  # noqa: F811
    x_hat = cache["x_hat"]
    dx = cache["inv_std"] * (dout - dout.mean(0) - x_hat * (dout * x_hat).mean(0))
    return dx, (dout * x_hat).sum(0), dout.sum(0)


@suite.mistake(ALT, name="alt_scales_cached_gamma_in_place", targets=ALT_DX + ALT_PARAMS, **_WITH_FORWARD,
               feedback="batchnorm_backward_alt changed the cache in place",
               hint="gamma * inv_std was computed with gamma.mul_(...): the cached gamma (the layer's parameter) "
                    "changed. Compute a new tensor: gamma * inv_std.")
def batchnorm_backward_alt(dout, cache):  # noqa: F811
    x_hat = cache["x_hat"]
    dx = cache["gamma"].mul_(cache["inv_std"]) * (dout - dout.mean(0) - x_hat * (dout * x_hat).mean(0))
    return dx, (dout * x_hat).sum(0), dout.sum(0)


@suite.mistake(ALT, name="alt_dgamma_without_xhat", targets=ALT_PARAMS, **_WITH_FORWARD,
               hint="dgamma was summed without the factor x_hat: dgamma = (dout * x_hat).sum(0).")
def batchnorm_backward_alt(dout, cache):  # noqa: F811
    x_hat = cache["x_hat"]
    dx = cache["gamma"] * cache["inv_std"] * (dout - dout.mean(0) - x_hat * (dout * x_hat).mean(0))
    return dx, dout.sum(0), dout.sum(0)


# -- BatchNorm1d (classes) --------------------------------------------------------------------------------
class _BN(nn.Module):
    unbiased_norm = flip = no_update = eval_update = eval_batch = as_parameters = False

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        if self.as_parameters:
            self.running_mean = nn.Parameter(torch.zeros(num_features), requires_grad=False)
            self.running_var = nn.Parameter(torch.ones(num_features), requires_grad=False)
        else:
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training or self.eval_batch:
            mean, var = x.mean(0), x.var(0, unbiased=self.unbiased_norm)
        else:
            mean, var = self.running_mean, self.running_var
        if (self.training and not self.no_update) or (self.eval_update and not self.training):
            bm, bv = x.mean(0).detach(), x.var(0, unbiased=True).detach()
            m = self.momentum
            a, c = (m, 1 - m) if self.flip else (1 - m, m)
            self.running_mean.data = a * self.running_mean.data + c * bm
            self.running_var.data = a * self.running_var.data + c * bv
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias


def _bn_mistake(name, hint, targets, feedback=None, **attrs):
    cls = type("BatchNorm1d", (_BN,), attrs)
    suite.mistake("BatchNorm1d", name=name, hint=hint, targets=targets,
                  **({"feedback": feedback} if feedback else {}))(cls)


_bn_mistake("module_unbiased_norm", "the normalization used the unbiased variance (divide by N-1); normalize "
            "with the biased batch variance and keep the unbiased one for running_var.",
            ("BatchNorm1d.train_steps",), unbiased_norm=True)
_bn_mistake("module_running_not_updated", "the buffers were never updated in train mode.",
            ("BatchNorm1d.train_steps",), no_update=True)
_bn_mistake("module_momentum_flipped", "the momentum convention is flipped: PyTorch uses running = (1 - momentum) "
            "* running + momentum * batch_stat.", ("BatchNorm1d.train_steps",), flip=True)
_bn_mistake("module_updated_in_eval", "buffers updated in eval mode", ("BatchNorm1d.eval_steps",),
            feedback="running_mean / running_var changed during eval-mode forward passes", eval_update=True)
_bn_mistake("module_batch_stats_in_eval", "batch statistics used in eval mode", ("BatchNorm1d.eval_steps",),
            feedback="never with the batch statistics", eval_batch=True)
_bn_mistake("module_buffers_as_parameters", "running statistics registered as parameters",
            ("BatchNorm1d.structure",), feedback="register them with self.register_buffer(...)", as_parameters=True)


# -- batchnorm2d_forward -------------------------------------------------------------------------------------
@suite.mistake("batchnorm2d_forward", name="bn2d_per_position",
               hint="the statistics were taken per channel *and position* (over the batch only); BatchNorm2d "
                    "shares one mean/variance per channel over (N, H, W).",
               targets=("batchnorm2d_forward.per_channel",))
def batchnorm2d_forward(x, gamma, beta, eps=1e-5):
    mean, var = x.mean(0, keepdim=True), x.var(0, unbiased=False, keepdim=True)
    return gamma.view(1, -1, 1, 1) * (x - mean) / torch.sqrt(var + eps) + beta.view(1, -1, 1, 1)


# -- bn_block -----------------------------------------------------------------------------------------------
@suite.mistake("bn_block", name="block_with_bias", hint="Linear before BN keeps its bias",
               targets=("bn_block.block",), feedback="the Linear before BN takes bias=False")
def bn_block(d_in, d_out):
    return nn.Sequential(nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU())


@suite.mistake("bn_block", name="block_relu_before_bn", hint="ReLU before BN", targets=("bn_block.block",),
               feedback="the order is Linear -> BatchNorm1d -> ReLU")
def bn_block(d_in, d_out):  # noqa: F811
    return nn.Sequential(nn.Linear(d_in, d_out, bias=False), nn.ReLU(), nn.BatchNorm1d(d_out))


# -- fold_bn_into_linear ----------------------------------------------------------------------------------------
@suite.mistake("fold_bn_into_linear", name="fold_bias_not_scaled",
               hint="the Linear's bias was not scaled: b' = s * (b - running_mean) + beta, with s = gamma / "
                    "sqrt(running_var + eps).",
               targets=("fold_bn_into_linear.folded",))
def fold_bn_into_linear(linear, bn):
    with torch.no_grad():
        s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        b = linear.bias if linear.bias is not None else torch.zeros(linear.out_features)
        out = nn.Linear(linear.in_features, linear.out_features)
        out.weight.copy_(linear.weight * s[:, None])
        out.bias.copy_(b - s * bn.running_mean + bn.bias)
    return out


# -- find the bugs -----------------------------------------------------------------------------------------------
class _Fixed(nn.Module):
    swapped_init = gamma_in_mean = eps_in_place = False

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        ones, zeros = torch.ones(num_features), torch.zeros(num_features)
        self.weight = nn.Parameter(zeros.clone() if self.swapped_init else ones.clone())
        self.bias = nn.Parameter(ones.clone() if self.swapped_init else zeros.clone())
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            n = x.shape[0]
            mean, var = x.mean(0), x.var(0, unbiased=False)
            with torch.no_grad():
                m = self.momentum
                new = m * self.weight * mean if self.gamma_in_mean else m * mean
                self.running_mean.mul_(1 - m).add_(new)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / torch.sqrt(var.add_(self.eps) if self.eps_in_place else var + self.eps) \
            + self.bias


suite.mistake("FixedBatchNorm", name="bug1_left", hint="bug 1 is still there",
              targets=("FixedBatchNorm.fixed_init",))(type("FixedBatchNorm", (_Fixed,), {"swapped_init": True}))
suite.mistake("FixedBatchNorm", name="bug2_left", hint="bug 2 is still there",
              targets=("FixedBatchNorm.fixed_running_mean",))(
    type("FixedBatchNorm", (_Fixed,), {"gamma_in_mean": True}))
suite.mistake("FixedBatchNorm", name="eps_added_in_place", targets=("FixedBatchNorm.fixed_running_mean",),
              hint="var.add_(eps) in forward: in eval mode var is running_var itself, so every eval call adds eps "
                   "to the running variance", feedback="an eval-mode forward changed running_mean / running_var")(
    type("FixedBatchNorm", (_Fixed,), {"eps_in_place": True}))
