# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: regnorm
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   regnorm:
#     assignment: 03_batch_norm
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 03 · Batch normalization
#
# Batch normalization (Ioffe & Szegedy, 2015) standardizes every feature of a layer's input **over the
# mini-batch**, then lets the network re-scale and re-shift it with learned parameters $\gamma, \beta$.
# In this assignment you build it from the ground up:
#
# 1. the lecture's **by-hand** example, every intermediate value;
# 2. `batchnorm_forward` / `batchnorm_backward` as plain functions (train and eval modes, running statistics,
#    the gradient along the computational graph, then the simplified closed form you derive);
# 3. a `BatchNorm1d` module that matches `torch.nn.BatchNorm1d`;
# 4. `batchnorm2d_forward` (per channel), `bn_block` (why the Linear before BN needs no bias), and folding BN
#    into the preceding Linear for inference;
# 5. a **find the bugs** exercise;
# 6. experiments: what BN does to activations and gradients, and to training a deep MLP (init scale × learning
#    rate); running vs calibrated statistics; BN's batch noise as a regularizer (ghost batches); three written
#    questions at the end.
#
# **Conventions (fixed for the whole course, as in `torch.nn.BatchNorm1d`)**
#
# * Inputs are `(N, D)`: rows are examples, columns are features; statistics are taken **over the batch
#   axis** (dim 0), one mean and one variance per feature.
# * The normalization uses the **biased** batch variance $\frac1N\sum_i (x_i-\mu)^2$ and
#   $\hat x = (x-\mu)/\sqrt{\sigma^2+\epsilon}$ (eps **inside** the square root), default `eps = 1e-5`.
# * Running statistics: `running = (1 - momentum) * running + momentum * batch_stat` with `momentum = 0.1`;
#   `running_var` is updated with the **unbiased** batch variance $\frac1{N-1}\sum_i (x_i-\mu)^2$. They
#   start at `running_mean = 0`, `running_var = 1`.
# * Train mode normalizes with the batch statistics and updates the running ones; **eval mode uses the
#   running statistics only** and changes nothing.
#
# After each exercise, a **self-check** cell runs the visible checks; hidden checks (other shapes and
# seeds) run when you submit.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn.functional as F
from torch import nn

from autograder import check
from autograder.data import load_source_data

REGNORM_ASSIGNMENT = "03_batch_norm"
torch.set_num_threads(1)

# %% [markdown] nbgrader={"grade": false, "grade_id": "by_hand_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. Batch norm by hand
#
# The lecture's worksheet: a batch of $N=4$ examples with 3 features goes through a linear layer, a ReLU
# and batch norm.
#
# $$
# Z = XW^\top + b,\qquad H = \max(Z, 0),\qquad
# \mu_j = \frac1N\sum_{i=1}^N H_{ij},\qquad \sigma^2_j = \frac1N\sum_{i=1}^N (H_{ij}-\mu_j)^2,
# $$
# $$
# s_j = \sqrt{\sigma_j^2 + \epsilon},\qquad \hat H_{ij} = \frac{H_{ij}-\mu_j}{s_j},\qquad
# Y_{ij} = \gamma_j \hat H_{ij} + \beta_j .
# $$
#
# On paper, the worksheet **rounds the batch mean and the std to integers** before normalizing
# (`round_stats=True`: $\mu$ and $s$ are rounded with `torch.round`; the variance itself is not rounded).
# The exact path (`round_stats=False`) is what `F.batch_norm(..., training=True)` computes. Compare the two
# outputs below: rounding the statistics changes the result noticeably — and the exact output has mean
# $\beta_j$ and standard deviation $|\gamma_j|$ per feature, the rounded one does not.
#
# In code, per feature (broadcast over the rows): `x_hat = (H - mean) / std`, then
# `out = gamma * x_hat + beta`.
#
# The numbers are in `source_data/batchnorm_by_hand.json`.

# %% nbgrader={"grade": false, "grade_id": "by_hand_data", "locked": true, "schema_version": 3, "solution": false, "task": false}
data = load_source_data("batchnorm_by_hand")
X, W, b = (torch.tensor(data[k], dtype=torch.float32) for k in ("X", "W", "b"))
gamma, beta = (torch.tensor(data[k], dtype=torch.float32) for k in ("gamma", "beta"))
print("X =", X, "\nW =", W, "\nb =", b, "\ngamma =", gamma, "beta =", beta)


# %% nbgrader={"grade": false, "grade_id": "batchnorm_by_hand", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batchnorm_by_hand(X, W, b, gamma, beta, round_stats=False, eps=1e-5):
    """
    Linear -> ReLU -> batch norm on one small batch, returning every intermediate value.

    Inputs:
    - X: tensor of shape (N, D_in), one example per row.
    - W: tensor of shape (D, D_in); the linear layer is Z = X @ W.T + b.
    - b: tensor of shape (D,).
    - gamma, beta: tensors of shape (D,), scale and shift of batch norm.
    - round_stats: if True, follow the pencil-and-paper worksheet: the batch mean and the std are
      rounded to the nearest integer (torch.round) before normalizing. The variance is never rounded.
    - eps: added to the variance inside the square root.

    Returns a dict of tensors (all of X's dtype):
    - "linear": Z, shape (N, D)
    - "relu": H = max(Z, 0), shape (N, D)
    - "mean": per-feature batch mean of H, shape (D,) (rounded if round_stats)
    - "var": per-feature biased batch variance of H (divide by N, around the exact mean), shape (D,)
    - "std": sqrt(var + eps), shape (D,) (rounded if round_stats)
    - "x_hat": (H - mean) / std, shape (N, D)
    - "out": gamma * x_hat + beta, shape (N, D)
    """
    ### BEGIN SOLUTION
    Z = X @ W.T + b
    H = torch.clamp(Z, min=0)
    mean = H.mean(dim=0)
    var = ((H - mean) ** 2).mean(dim=0)
    std = torch.sqrt(var + eps)
    if round_stats:
        mean, std = torch.round(mean), torch.round(std)
    x_hat = (H - mean) / std
    out = gamma * x_hat + beta
    return {"linear": Z, "relu": H, "mean": mean, "var": var, "std": std, "x_hat": x_hat, "out": out}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm_by_hand", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
points = check("batchnorm_by_hand")
### BEGIN HIDDEN TESTS
points += check("batchnorm_by_hand", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "by_hand_show", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
pencil = batchnorm_by_hand(X, W, b, gamma, beta, round_stats=True)
exact = batchnorm_by_hand(X, W, b, gamma, beta, round_stats=False)
for key in ("linear", "relu"):
    print(f"{key}:\n{exact[key]}")
for key in ("mean", "var", "std"):
    print(f"{key:>5}: pencil {pencil[key].tolist()}   exact {[round(v, 3) for v in exact[key].tolist()]}")
print("output per feature (pencil):", pencil["out"].T.tolist())
print("output per feature (exact): ", [[round(v, 3) for v in row] for row in exact["out"].T.tolist()])
print("F.batch_norm agrees with the exact path:",
      torch.allclose(exact["out"], F.batch_norm(exact["relu"], None, None, gamma, beta, training=True)))


# %% [markdown] nbgrader={"grade": false, "grade_id": "forward_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. `batchnorm_forward`: train and eval modes
#
# Train mode, for a batch $x \in \mathbb R^{N\times D}$:
#
# $$
# \mu = \frac1N\sum_i x_i,\quad \sigma^2 = \frac1N\sum_i (x_i-\mu)^2,\quad
# \hat x_i = \frac{x_i-\mu}{\sqrt{\sigma^2+\epsilon}},\quad y_i = \gamma\odot\hat x_i + \beta,
# $$
#
# and the running statistics move towards the batch ones (note the **unbiased** variance here):
#
# $$
# \text{running\_mean} \leftarrow (1-m)\,\text{running\_mean} + m\,\mu,\qquad
# \text{running\_var} \leftarrow (1-m)\,\text{running\_var} + m\,\tfrac{N}{N-1}\sigma^2 .
# $$
#
# Eval mode computes $y = \gamma\odot(x-\text{running\_mean})/\sqrt{\text{running\_var}+\epsilon}+\beta$: each
# row is normalized on its own, so a row gives the same output alone or inside any batch, and nothing is
# updated.
#
# **How the running statistics come back.** As in CS231n, `bn_param` is a dict that `batchnorm_forward`
# **updates in place**: after a train-mode call, `bn_param["running_mean"]` and `bn_param["running_var"]`
# hold the new running statistics (replace the entries or update the tensors in place, either works). The
# grader reads `bn_param` back after your call. The `cache` is yours to design (a tuple or dict of tensors and
# numbers is simplest): it is passed unchanged to `batchnorm_backward`.

# %% nbgrader={"grade": false, "grade_id": "batchnorm_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batchnorm_forward(x, gamma, beta, bn_param):
    """
    Forward pass of batch normalization for fully connected layers.

    Inputs:
    - x: tensor of shape (N, D).
    - gamma: scale, tensor of shape (D,).
    - beta: shift, tensor of shape (D,).
    - bn_param: dict with keys
      - "mode": "train" or "eval" (required)
      - "eps": constant inside the square root (default 1e-5)
      - "momentum": running-average momentum (default 0.1), torch's convention:
        running = (1 - momentum) * running + momentum * batch_stat
      - "running_mean": tensor of shape (D,) (default zeros(D) if missing)
      - "running_var": tensor of shape (D,) (default ones(D) if missing)

    Train mode normalizes with the batch mean and the biased batch variance and updates
    bn_param["running_mean"] and bn_param["running_var"] (the latter with the unbiased variance)
    in bn_param itself. Eval mode normalizes with the running statistics and changes nothing.

    Returns a tuple of:
    - out: tensor of shape (N, D), same dtype as x.
    - cache: whatever batchnorm_backward needs (plain tensors and numbers; train mode).
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.1)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", torch.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", torch.ones(D, dtype=x.dtype))
    ### BEGIN SOLUTION
    if mode == "train":
        mean = x.mean(dim=0)
        var = x.var(dim=0, unbiased=False)
        inv_std = 1.0 / torch.sqrt(var + eps)
        x_hat = (x - mean) * inv_std
        out = gamma * x_hat + beta
        bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mean
        bn_param["running_var"] = (1 - momentum) * running_var + momentum * var * N / (N - 1)
        cache = {"x_hat": x_hat, "inv_std": inv_std, "gamma": gamma}
    elif mode in ("eval", "test"):
        out = gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta
        cache = None
    else:
        raise ValueError(f"invalid mode {mode!r}")
    return out, cache
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm_forward", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
points = check("batchnorm_forward")
### BEGIN HIDDEN TESTS
points += check("batchnorm_forward", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "backward_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. `batchnorm_backward`: along the computational graph
#
# Break the train-mode forward pass into elementary steps (per feature, broadcast over the $N$ rows):
#
# | step | forward | local derivative |
# |---|---|---|
# | 1 | $\mu = \frac1N\sum_i x_i$ | $\partial\mu/\partial x_i = \frac1N$ |
# | 2 | $c_i = x_i - \mu$ | $\partial c_i/\partial x_i = 1$, $\partial c_i/\partial \mu = -1$ |
# | 3 | $v = \frac1N\sum_i c_i^2$ | $\partial v/\partial c_i = \frac2N c_i$ |
# | 4 | $s = \sqrt{v+\epsilon}$ | $\partial s/\partial v = \frac1{2s}$ |
# | 5 | $r = 1/s$ | $\partial r/\partial s = -\frac1{s^2}$ |
# | 6 | $\hat x_i = c_i\, r$ | $\partial \hat x_i/\partial c_i = r$, $\partial \hat x_i/\partial r = c_i$ |
# | 7 | $y_i = \gamma\odot\hat x_i + \beta$ | $\partial y_i/\partial\gamma = \hat x_i$, $\partial y_i/\partial\beta = 1$, $\partial y_i/\partial \hat x_i = \gamma$ |
#
# Walk the graph **backwards** from $g = \partial L/\partial y$ (`dout`): at each node, the upstream gradient
# times the local derivative, **summed over every path** that leaves the node. Two places need care:
# a quantity that was broadcast over the rows in the forward pass ($\mu$, $v$, $s$, $r$, $\gamma$, $\beta$)
# receives the **sum over the rows** of the gradients that flow into it; and $c_i$ feeds both $\hat x_i$
# (step 6) and $v$ (step 3), so $\partial L/\partial c_i$ has two terms. $x_i$ likewise has two: directly
# (step 2) and through $\mu$.
#
# Write `batchnorm_backward` as this staged computation, one line per step (`dbeta`, `dgamma`, `dxhat`,
# `dr`, `ds`, `dv`, `dc`, `dmu`, `dx`). Your forward's `cache` must hold what the steps need — change your
# `batchnorm_forward` if it does not (the forward's checks do not look at the cache). The check compares
# your gradients in float64 with autograd **and** with a centred numerical gradient. The simplified closed
# form comes in the next exercise; do not look it up — derive it.

# %% nbgrader={"grade": false, "grade_id": "batchnorm_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batchnorm_backward(dout, cache):
    """
    Backward pass of batch normalization (train mode), step by step along the computational graph.

    Inputs:
    - dout: upstream gradient dL/dout, tensor of shape (N, D).
    - cache: the cache returned by your batchnorm_forward in train mode.

    Returns a tuple of:
    - dx: gradient with respect to x, shape (N, D).
    - dgamma: gradient with respect to gamma, shape (D,).
    - dbeta: gradient with respect to beta, shape (D,).
    All have dout's dtype. Do not use autograd.
    """
    ### BEGIN SOLUTION
    x_hat, inv_std, gamma = cache["x_hat"], cache["inv_std"], cache["gamma"]
    xc = x_hat / inv_std                          # c = x - mu, recovered from the cache
    n = dout.shape[0]
    dbeta = dout.sum(dim=0)                       # step 7
    dgamma = (dout * x_hat).sum(dim=0)
    dxhat = dout * gamma
    dr = (dxhat * xc).sum(dim=0)                  # step 6 (r was broadcast over the rows)
    dc = dxhat * inv_std
    ds = -dr * inv_std ** 2                       # step 5
    dv = ds * 0.5 * inv_std                       # step 4
    dc = dc + 2.0 / n * xc * dv                   # step 3 (second path into c)
    dmu = -dc.sum(dim=0)                          # step 2
    dx = dc + dmu / n                             # step 1
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm_backward", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
points = check("batchnorm_backward")
### BEGIN HIDDEN TESTS
points += check("batchnorm_backward", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "backward_alt_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 3b. `batchnorm_backward_alt`: simplify on paper
#
# The staged backward keeps ten intermediate arrays. Substitute the steps into each other on paper:
# express $\partial L/\partial x_i$ through $g_i$, $\hat x_i$, $\gamma$, $s$ and two per-feature averages
# over the batch. (Hint: $\sum_i c_i = 0$, and $c_i = s\,\hat x_i$.) The result fits on one line of code
# and needs only $\hat x$, $\gamma$ and $1/s$ from the cache.
#
# Write `batchnorm_backward_alt` with your simplified formula (same inputs and outputs as
# `batchnorm_backward`). The closed form is shown after the check once your function passes it, and the
# cell after that times both versions.

# %% nbgrader={"grade": false, "grade_id": "batchnorm_backward_alt", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batchnorm_backward_alt(dout, cache):
    """
    Backward pass of batch normalization (train mode) with the simplified closed-form dx.

    Inputs and returns: as batchnorm_backward (dx of shape (N, D), dgamma and dbeta of shape (D,),
    all in dout's dtype). Do not use autograd and do not call batchnorm_backward.
    """
    ### BEGIN SOLUTION
    x_hat, inv_std, gamma = cache["x_hat"], cache["inv_std"], cache["gamma"]
    dbeta = dout.sum(dim=0)
    dgamma = (dout * x_hat).sum(dim=0)
    dx = gamma * inv_std * (dout - dout.mean(dim=0) - x_hat * (dout * x_hat).mean(dim=0))
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm_backward_alt", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
points = check("batchnorm_backward_alt")
### BEGIN HIDDEN TESTS
points += check("batchnorm_backward_alt", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "backward_reveal", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
# Shows the closed form once your batchnorm_backward_alt agrees with autograd (float64, a fresh batch).
import base64

from IPython.display import Markdown, display

_g = torch.Generator().manual_seed(123)
_x = torch.randn(7, 4, generator=_g, dtype=torch.float64) * 2 + 1
_gamma, _beta = torch.rand(4, generator=_g, dtype=torch.float64) + 0.5, torch.randn(4, generator=_g, dtype=torch.float64)
_dout = torch.randn(7, 4, generator=_g, dtype=torch.float64)
_xr = _x.clone().requires_grad_()
(F.batch_norm(_xr, None, None, _gamma, _beta, training=True) * _dout).sum().backward()
try:
    _mine = batchnorm_backward_alt(_dout, batchnorm_forward(_x, _gamma, _beta, {"mode": "train"})[1])[0]
    _ok = torch.allclose(_mine, _xr.grad, rtol=1e-7, atol=1e-9)
except Exception as exc:  # noqa: BLE001 -- an unfinished stub
    _ok = False
    print("batchnorm_backward_alt raised", type(exc).__name__)
_CLOSED_FORM = (
    "JCRcZnJhY3tccGFydGlhbCBMfXtccGFydGlhbCB4X2l9ID0gXGZyYWN7XGdhbW1hfXtzfVxvZG90XEJpZ2woZ19pIC0gXGZyYWMx"
    "TlxzdW1fayBnX2sgLSBcaGF0IHhfaVxvZG90XGZyYWMxTlxzdW1fayBnX2tcb2RvdFxoYXQgeF9rXEJpZ3IpJCQKClRoZSB0aHJl"
    "ZSB0ZXJtczogdGhlIGRpcmVjdCBwYXRoLCBtaW51cyB0aGUgc2hhcmUgdGhhdCBmbG93cyB0aHJvdWdoIHRoZSBtZWFuIChhIGNv"
    "bnN0YW50IHNoaWZ0IG9mIGFsbCByb3dzIGRvZXMgbm90IGNoYW5nZSAkXGhhdCB4JCksIG1pbnVzIHRoZSBzaGFyZSB0aGF0IGZs"
    "b3dzIHRocm91Z2ggdGhlIHZhcmlhbmNlIChzY2FsaW5nIGFsbCByb3dzIGRvZXMgbm90IGNoYW5nZSAkXGhhdCB4JCk6ICRcZnJh"
    "Y3tccGFydGlhbCBMfXtccGFydGlhbCB4fSQgaXMgb3J0aG9nb25hbCB0byBib3RoIGRpcmVjdGlvbnMsIHNvIGl0IHN1bXMgdG8g"
    "emVybyBvdmVyIHRoZSBiYXRjaCBhbmQgaGFzIHplcm8gZG90IHByb2R1Y3Qgd2l0aCAkXGhhdCB4JC4="
)
if _ok:
    display(Markdown(base64.b64decode(_CLOSED_FORM).decode()))
else:
    print("The closed form appears here once batchnorm_backward_alt agrees with autograd.")

# %% nbgrader={"grade": false, "grade_id": "backward_timing", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
# Timing: the staged backward vs the simplified one (float32, N=256, D=512, best of 5 runs of 50 calls).
import timeit

_x = torch.randn(256, 512) * 2 + 1
_gamma, _beta, _dout = torch.rand(512) + 0.5, torch.randn(512), torch.randn(256, 512)
_cache = batchnorm_forward(_x, _gamma, _beta, {"mode": "train"})[1]
t_staged = min(timeit.repeat(lambda: batchnorm_backward(_dout, _cache), number=50, repeat=5)) / 50
t_alt = min(timeit.repeat(lambda: batchnorm_backward_alt(_dout, _cache), number=50, repeat=5)) / 50
print(f"staged backward {t_staged * 1e3:.2f} ms, simplified {t_alt * 1e3:.2f} ms per call "
      f"(simplified is {t_staged / t_alt:.1f}x faster); same dx: "
      f"{torch.allclose(batchnorm_backward(_dout, _cache)[0], batchnorm_backward_alt(_dout, _cache)[0], atol=1e-5)}")


# %% [markdown] nbgrader={"grade": false, "grade_id": "module_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. A `BatchNorm1d` module
#
# Now package it as an `nn.Module` that behaves exactly like `torch.nn.BatchNorm1d(num_features)` on `(N, D)`
# inputs:
#
# * **parameters** `weight` ($\gamma$, starts at ones) and `bias` ($\beta$, starts at zeros): trained by the
#   optimizer, so they are `nn.Parameter`s;
# * **buffers** `running_mean` (zeros) and `running_var` (ones): state that is saved in `state_dict()` but is
#   not trained, so they are registered with `self.register_buffer(...)` and do **not** appear in
#   `parameters()`; `num_batches_tracked` (a long scalar counting train steps) is optional;
# * `self.training` (switched by `.train()` / `.eval()`) selects the mode. Update the buffers without
#   autograd (`torch.no_grad()` or `.detach()`).

# %% nbgrader={"grade": false, "grade_id": "BatchNorm1d", "locked": false, "schema_version": 3, "solution": true, "task": false}
class BatchNorm1d(nn.Module):
    """
    Batch normalization over the feature axis of (N, D) inputs, matching torch.nn.BatchNorm1d.

    Inputs (constructor):
    - num_features: D.
    - eps: constant inside the square root (1e-5).
    - momentum: running = (1 - momentum) * running + momentum * batch_stat (0.1).

    Parameters: weight (D,) = ones, bias (D,) = zeros.
    Buffers: running_mean (D,) = zeros, running_var (D,) = ones (unbiased variance in updates),
    optionally num_batches_tracked (long scalar, +1 per train-mode forward).

    forward(x): x of shape (N, D) -> tensor of shape (N, D). Train mode: batch statistics (biased
    variance) and buffer update; eval mode: running statistics, no update.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        ### BEGIN SOLUTION
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        if self.training:
            n = x.shape[0]
            mean = x.mean(dim=0)
            var = x.var(dim=0, unbiased=False)
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))
                self.num_batches_tracked += 1
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_BatchNorm1d", "locked": true, "points": 10.5, "schema_version": 3, "solution": false, "task": false}
points = check("BatchNorm1d")
### BEGIN HIDDEN TESTS
points += check("BatchNorm1d", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Look: activations and gradients without and with BN
#
# A 5-layer tanh MLP whose weights are initialised a bit too large, and the same MLP with your
# `BatchNorm1d` between each Linear and its tanh. The first figure shows each layer's activations (after
# tanh): without BN the pre-activations are too wide and a large share of the units sits at $\pm 1$ (the
# titles give the share with $|h| > 0.97$); with BN every pre-activation has zero mean and unit variance per
# feature, and the activations stay in tanh's responsive range.
#
# Does the saturation make the gradient *vanish*? The second figure measures it, for a cross-entropy loss on
# random labels: the histograms of each layer's weight gradient, and the **grad:data ratio**
# $\operatorname{std}(\partial L/\partial W_k)/\operatorname{std}(W_k)$ per layer (the size of an SGD step
# relative to the weights, for a learning rate of 1). Read the numbers before you read on.

# %% nbgrader={"grade": false, "grade_id": "plot_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt

torch.manual_seed(0)
depth, width = 5, 64
xs = torch.randn(512, width) * 2 + 1
linears = [nn.Linear(width, width) for _ in range(depth)]
for lin in linears:
    nn.init.normal_(lin.weight, std=3.0 / math.sqrt(width))
    nn.init.normal_(lin.bias, mean=0.5)
bns = [BatchNorm1d(width) for _ in range(depth)]
saturation = {False: [], True: []}

fig, axes = plt.subplots(2, depth, figsize=(3 * depth, 5), sharex=True, sharey="row")
with torch.no_grad():
    for row, use_bn in enumerate((False, True)):
        h = xs
        for k, lin in enumerate(linears):
            z = lin(h)
            if use_bn:
                z = bns[k](z)
            h = torch.tanh(z)
            saturated = (h.abs() > 0.97).float().mean()
            saturation[use_bn].append(saturated.item())
            axes[row, k].hist(h.flatten().numpy(), bins=50, range=(-1, 1), color="C1" if use_bn else "C0")
            axes[row, k].set_title(f"layer {k + 1}, {'with BN' if use_bn else 'no BN'}\n"
                                   f"std {h.std():.2f}, saturated {saturated:.0%}", fontsize=9)
for ax in axes[1]:
    ax.set_xlabel("tanh activation")
for ax in axes[:, 0]:
    ax.set_ylabel("count")
fig.suptitle("activations per layer: too-large init, without (top) and with BN (bottom)")
plt.tight_layout()
plt.show()

# %% nbgrader={"grade": false, "grade_id": "grad_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
readout = torch.randn(width, 10, generator=torch.Generator().manual_seed(1)) / math.sqrt(width)
labels = torch.randint(10, (len(xs),), generator=torch.Generator().manual_seed(2))
grad_ratio, grads = {}, {}
for use_bn in (False, True):
    for lin in linears:
        lin.zero_grad()
    h = xs
    for k, lin in enumerate(linears):
        z = lin(h)
        h = torch.tanh(bns[k](z) if use_bn else z)
    F.cross_entropy(h @ readout, labels).backward()
    grads[use_bn] = [lin.weight.grad.flatten().clone() for lin in linears]
    grad_ratio[use_bn] = [(lin.weight.grad.std() / lin.weight.std()).item() for lin in linears]

fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for ax, use_bn in zip(axes, (False, True)):
    for k, gk in enumerate(grads[use_bn]):
        ax.hist(gk.numpy(), bins=60, range=(-0.03, 0.03), histtype="step", label=f"layer {k + 1}")
    ax.set_yscale("log")
    ax.set_xlabel("dL/dW entry"); ax.set_ylabel("count (log)")
    ax.set_title(f"weight gradients per layer, {'with' if use_bn else 'no'} BN")
    ax.legend(fontsize=7)
layers = range(1, depth + 1)
axes[2].plot(layers, grad_ratio[False], "o-", label="no BN")
axes[2].plot(layers, grad_ratio[True], "s-", label="with BN")
axes[2].set_yscale("log"); axes[2].set_xticks(list(layers))
axes[2].set_xlabel("layer"); axes[2].set_ylabel("std(dL/dW) / std(W)")
axes[2].set_title("grad:data ratio per layer"); axes[2].legend()
plt.tight_layout()
plt.show()
spread = {bn: max(r) / min(r) for bn, r in grad_ratio.items()}
print("grad:data ratio per layer, no BN:  ", [f"{r:.1e}" for r in grad_ratio[False]])
print("grad:data ratio per layer, with BN:", [f"{r:.1e}" for r in grad_ratio[True]])
print(f"largest / smallest layer: no BN {spread[False]:.1f}x, with BN {spread[True]:.1f}x")

# %% [markdown] nbgrader={"grade": false, "grade_id": "grad_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **What the figures show.** In this set-up the gradient does **not** vanish without BN: the saturated units
# pass almost no gradient, but the others do: every layer's grad:data ratio is about $10^{-2}$ (from
# $2.5\cdot10^{-2}$ in layer 1 to $0.9\cdot10^{-2}$ in layer 5), and the deepest layers' gradients are as large as
# the middle ones'. What BN changes is the **spread across layers**: without BN the first layer's ratio is
# nearly 3× the last one's (the layers would learn at different speeds with one learning rate); with BN all
# five are within about 20 % of each other ($4\cdot10^{-3}$ to $5\cdot10^{-3}$). Vanishing gradients in the strict sense need deeper nets or sigmoid-like units at
# both ends; what BN reliably buys is activations and gradients of a predictable size at every depth.
#
# ### BN in training: initialization scale × learning rate
#
# Does that make training easier? The next cell trains an 8-layer ReLU MLP (width 64) on scikit-learn's
# **digits** (1,400 training and 397 validation images) for 150 SGD steps of batch 64, from weights
# $\mathcal N(0, s^2/d_{\text{in}})$ with $s \in \{0.3, 1, 3\}$ and learning rates $\{0.01, 0.1, 1\}$, once
# without BN and once with your `BatchNorm1d` after every hidden Linear (whose bias is then dropped). The
# heat maps show the validation accuracy of each of the 18 runs; the right panel the training loss of the
# three runs at $s = 1$ with BN against the same runs without BN. (About 15 s.)

# %% nbgrader={"grade": false, "grade_id": "train_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from sklearn.datasets import load_digits
from tqdm.auto import tqdm

digits = load_digits()
X_all = torch.tensor(digits.data, dtype=torch.float32)
y_all = torch.tensor(digits.target)
order = torch.randperm(len(y_all), generator=torch.Generator().manual_seed(0))
tr_idx, va_idx = order[:1400], order[1400:]
X_all = (X_all - X_all[tr_idx].mean(0)) / (X_all[tr_idx].std(0) + 1e-3)
X_tr, y_tr, X_va, y_va = X_all[tr_idx], y_all[tr_idx], X_all[va_idx], y_all[va_idx]


def make_mlp(scale, use_bn, depth=8, width=64, seed=0, momentum=0.1):
    torch.manual_seed(seed)
    layers, d_in = [], X_tr.shape[1]
    for _ in range(depth):
        lin = nn.Linear(d_in, width, bias=not use_bn)
        nn.init.normal_(lin.weight, std=scale / math.sqrt(d_in))
        if lin.bias is not None:
            nn.init.zeros_(lin.bias)
        layers += [lin, BatchNorm1d(width, momentum=momentum), nn.ReLU()] if use_bn else [lin, nn.ReLU()]
        d_in = width
    return nn.Sequential(*layers, nn.Linear(d_in, 10))


def train_mlp(model, lr, steps=150, batch_size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        idx = torch.randint(len(y_tr), (batch_size,), generator=g)
        loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        acc = (model(X_va).argmax(1) == y_va).float().mean().item()
    return torch.tensor(losses), acc


scales, lrs = [0.3, 1.0, 3.0], [0.01, 0.1, 1.0]
val_acc = {bn: torch.zeros(len(scales), len(lrs)) for bn in (False, True)}
curves = {}
runs = [(bn, i, j) for bn in (False, True) for i in range(len(scales)) for j in range(len(lrs))]
for bn, i, j in tqdm(runs, desc="18 training runs"):
    curves[bn, i, j], val_acc[bn][i, j] = train_mlp(make_mlp(scales[i], bn), lrs[j])

fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for ax, bn in zip(axes, (False, True)):
    im = ax.imshow(val_acc[bn].numpy(), vmin=0, vmax=1, cmap="viridis")
    for i in range(len(scales)):
        for j in range(len(lrs)):
            ax.text(j, i, f"{val_acc[bn][i, j]:.2f}", ha="center", va="center",
                    color="white" if val_acc[bn][i, j] < 0.6 else "black")
    ax.set_xticks(range(len(lrs)), [str(lr) for lr in lrs]); ax.set_yticks(range(len(scales)), [str(s) for s in scales])
    ax.set_xlabel("learning rate"); ax.set_ylabel("init scale s")
    ax.set_title(f"validation accuracy, {'with' if bn else 'no'} BN")
fig.colorbar(im, ax=axes[:2], fraction=0.03)
for j, lr in enumerate(lrs):
    for bn, style in ((False, "--"), (True, "-")):
        c = curves[bn, 1, j]
        smooth = torch.nn.functional.avg_pool1d(torch.nan_to_num(c, nan=10.0)[None], 10, 1)[0]
        axes[2].plot(range(10, len(c) + 1), smooth, style, color=f"C{j}",
                     label=f"lr {lr}, {'BN' if bn else 'no BN'}")
axes[2].set_ylim(0, 2.6)
axes[2].set_xlabel("SGD step"); axes[2].set_ylabel("training loss (moving average of 10)")
axes[2].set_title("training loss at init scale s = 1"); axes[2].legend(fontsize=7)
plt.show()
good = {bn: int((val_acc[bn] > 0.8).sum()) for bn in (False, True)}
print(f"settings above 80 % validation accuracy: no BN {good[False]}/9, with BN {good[True]}/9; "
      f"mean over the grid: no BN {val_acc[False].mean():.2f}, with BN {val_acc[True].mean():.2f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "train_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Without BN, only a narrow band of (scale, learning rate) trains at all in 150 steps: too small an init and
# the signal shrinks layer after layer (loss stuck at $\ln 10 \approx 2.3$), too large and it explodes;
# too large a learning rate diverges. With BN almost the whole grid trains. The one BN cell that lags is the
# large init with the small learning rate — the next cell shows why.
#
# **Linear + BN is scale invariant.** Multiply the weights of a Linear that feeds BN by $a > 0$: the batch
# mean and std are multiplied by $a$ too, so the output does not change — and the gradient with respect to the
# weights is divided by $a$. An SGD step changes $W$ by $\eta/a$ in absolute terms, i.e. by $\eta/a^2$
# relative to $\lVert W\rVert$: a weight matrix 3× too large trains like one with a learning rate 9× smaller.

# %% nbgrader={"grade": false, "grade_id": "scale_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
lin_demo, bn_demo = nn.Linear(6, 4, bias=False).double(), nn.BatchNorm1d(4).double()
x_scale = torch.randn(32, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
target_scale = torch.randn(32, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
scale_out, scale_grad = {}, {}
for a in (1.0, 3.0):
    w = (lin_demo.weight.detach() * a).requires_grad_()
    out = bn_demo(x_scale @ w.T)
    ((out - target_scale) ** 2).mean().backward()
    scale_out[a], scale_grad[a] = out.detach(), w.grad.norm().item()
print(f"largest output difference between W and 3W: {(scale_out[1.0] - scale_out[3.0]).abs().max():.1e} "
      "(only eps, inside the square root, breaks the invariance)")
print(f"|dL/dW| at W: {scale_grad[1.0]:.4f}, at 3W: {scale_grad[3.0]:.4f} (ratio {scale_grad[1.0] / scale_grad[3.0]:.2f})")


# %% [markdown] nbgrader={"grade": false, "grade_id": "calib_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Running statistics vs population statistics
#
# Eval mode uses the running averages, which are only an estimate of the statistics of the training
# population, and an estimate made while the weights were still moving. The next cell trains the BN network
# ($s = 1$, learning rate 0.1) twice, with `momentum` 0.1 and 0.001, and evaluates each on the validation set
# twice: with the running statistics as training left them, and after **calibrating** them — one forward pass
# over all 1,400 training images in train mode with `momentum = 1`, which sets every layer's running mean
# and variance to the statistics of the whole training set under the final weights.

# %% nbgrader={"grade": false, "grade_id": "calib_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
def calibrate_bn(model, x):
    """Set every BatchNorm1d's running statistics to those of x under the current weights (one pass)."""
    bn_layers = [m for m in model.modules() if isinstance(m, (BatchNorm1d, nn.BatchNorm1d))]
    saved = [m.momentum for m in bn_layers]
    for m in bn_layers:
        m.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(x)
    for m, mom in zip(bn_layers, saved):
        m.momentum = mom
    model.eval()


def val_accuracy(model):
    model.eval()
    with torch.no_grad():
        return (model(X_va).argmax(1) == y_va).float().mean().item()


calib_acc = {}
for momentum in tqdm((0.1, 0.001), desc="momentum"):
    model = make_mlp(1.0, True, momentum=momentum)
    train_mlp(model, 0.1)
    calib_acc[momentum, "running"] = val_accuracy(model)
    calibrate_bn(model, X_tr)
    calib_acc[momentum, "calibrated"] = val_accuracy(model)

fig, ax = plt.subplots(figsize=(6, 3.5))
for k, kind in enumerate(("running", "calibrated")):
    vals = [calib_acc[m, kind] for m in (0.1, 0.001)]
    ax.bar([k * 0.35 + i for i in range(2)], vals, 0.35, label=f"{kind} statistics")
    for i, v in enumerate(vals):
        ax.text(k * 0.35 + i, v + 0.01, f"{v:.2f}", ha="center", fontsize=8)
ax.set_xticks([0.175, 1.175], ["momentum 0.1", "momentum 0.001"])
ax.set_ylim(0, 1.05); ax.set_ylabel("validation accuracy (eval mode)"); ax.set_xlabel("BN momentum during training")
ax.set_title("BN's eval-mode statistics: running averages vs calibrated"); ax.legend(fontsize=8, loc="lower left")
plt.tight_layout()
plt.show()
print({f"{m} {kind}": round(v, 3) for (m, kind), v in calib_acc.items()})

# %% [markdown] nbgrader={"grade": false, "grade_id": "calib_result_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# With `momentum = 0.1` the running averages follow the last ~10 batches, close enough to the final weights'
# statistics that calibration changes little (0.94 → 0.95 in our run). With `momentum = 0.001` they have moved only
# $1 - 0.999^{150} \approx 14\,\%$ of the way from their initial values (0 and 1) in 150 steps: eval mode
# normalizes with statistics the network never saw, and the validation accuracy drops (0.69 against 0.95 in
# our run) although the weights are as good as before — one calibration pass recovers it. (PyTorch's `momentum=None` computes a
# cumulative average instead, for the same purpose.)

# %% [markdown] nbgrader={"grade": false, "grade_id": "noise_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### BN's batch noise as a regularizer?
#
# In train mode an example is normalized with the mean and variance of *its* batch, so its output depends on
# which other examples were drawn with it: a random perturbation of every hidden layer, often credited with a
# regularizing effect like dropout's (Ioffe & Szegedy, 2015). Does it show here? The next cell isolates that
# noise from every other source of randomness in training:
#
# * **no SGD noise**: the MLP (2 hidden layers of 128, Linear without bias → BN → ReLU) is trained by
#   **full-batch** gradient descent (momentum 0.9, learning rate 0.1, 300 steps) on a small subset of **128**
#   training digits, small enough to overfit — every step sees all 128 images;
# * **ghost batches** (Hoffer et al., 2017): the BN statistics alone are taken over groups of $g$ images —
#   at every step the 128 images are shuffled and cut into $128/g$ groups, each normalized with its own mean
#   and variance. $g = 128$ is BN **without** batch noise (the same statistics at every step); the noise of a
#   group's statistics grows like $1/\sqrt g$ as $g$ shrinks (assignment 04 measures it);
# * every network is evaluated in eval mode after `calibrate_bn` on its 128 images, on the **1,669** digits it
#   was not trained on; the same MLP **without BN** (with biases) is the reference. Three seeds, each a
#   different subset and initialization. (About 15 s.)
#
# Randomness: `torch.manual_seed(seed)` before building a model (initialization), the subset from
# `Generator(100 + seed)`, the per-step shuffles from `Generator(seed)`.

# %% nbgrader={"grade": false, "grade_id": "noise_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
class GhostBatchNorm1d(BatchNorm1d):
    """Your BatchNorm1d, but in train mode each group of `ghost` consecutive rows is normalized with its own
    statistics (the running statistics are not updated on that path: calibrate_bn sets them afterwards)."""

    def __init__(self, num_features, ghost=None):
        super().__init__(num_features)
        self.ghost = ghost

    def forward(self, x):
        n, d = x.shape
        if not self.training or self.ghost is None or self.ghost >= n:
            return super().forward(x)
        groups = x.reshape(n // self.ghost, self.ghost, d)
        mean, var = groups.mean(1, keepdim=True), groups.var(1, unbiased=False, keepdim=True)
        return self.weight * ((groups - mean) / torch.sqrt(var + self.eps)).reshape(n, d) + self.bias


def make_ghost_mlp(ghost, use_bn, seed, width=128):
    torch.manual_seed(seed)
    layers, d_in = [], X_tr.shape[1]
    for _ in range(2):
        layers += [nn.Linear(d_in, width, bias=not use_bn)]
        layers += [GhostBatchNorm1d(width, ghost), nn.ReLU()] if use_bn else [nn.ReLU()]
        d_in = width
    return nn.Sequential(*layers, nn.Linear(d_in, 10))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


n_sub, ghost_sizes, noise_seeds = 128, [4, 8, 16, 32, 128], [0, 1, 2]
noise_acc = {}   # (g or None for no BN, seed) -> (training accuracy, validation accuracy), eval mode
noise_runs = [(g, seed) for seed in noise_seeds for g in ghost_sizes + [None]]
for g, seed in tqdm(noise_runs, desc=f"{len(noise_runs)} full-batch runs"):
    sub = torch.randperm(len(y_tr), generator=torch.Generator().manual_seed(100 + seed))[:n_sub]
    rest = torch.ones(len(y_tr), dtype=torch.bool)
    rest[sub] = False
    x_sub, y_sub = X_tr[sub], y_tr[sub]
    x_held, y_held = torch.cat([X_tr[rest], X_va]), torch.cat([y_tr[rest], y_va])
    model = make_ghost_mlp(g, g is not None, seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    shuffle = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(300):
        p = torch.randperm(n_sub, generator=shuffle)       # new ghost batches at every step
        loss = F.cross_entropy(model(x_sub[p]), y_sub[p])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if g is not None:
        for m in model.modules():
            if isinstance(m, GhostBatchNorm1d):
                m.ghost = None                               # population statistics of the 128 images
        calibrate_bn(model, x_sub)
    noise_acc[g, seed] = (accuracy(model, x_sub, y_sub), accuracy(model, x_held, y_held))

noise_tr = {g: torch.tensor([noise_acc[g, s][0] for s in noise_seeds]) for g in ghost_sizes + [None]}
noise_val = {g: torch.tensor([noise_acc[g, s][1] for s in noise_seeds]) for g in ghost_sizes + [None]}
noise_gain = {g: noise_val[g] - noise_val[n_sub] for g in ghost_sizes + [None]}   # paired: same seed, same subset

fig, axes = plt.subplots(1, 2, figsize=(13, 4))
for kind, vals, style in (("training (128 images)", noise_tr, "s--"), ("validation (1,669 images)", noise_val, "o-")):
    axes[0].errorbar(ghost_sizes, [vals[g].mean() for g in ghost_sizes], yerr=[vals[g].std() for g in ghost_sizes],
                     fmt=style, capsize=3, label=f"BN, {kind}")
nb_mean, nb_std = noise_val[None].mean().item(), noise_val[None].std().item()
axes[0].axhline(nb_mean, color="gray", ls=":", label="no BN, validation (band: ± std)")
axes[0].axhspan(nb_mean - nb_std, nb_mean + nb_std, color="gray", alpha=0.2)
axes[0].set_xscale("log", base=2); axes[0].set_xticks(ghost_sizes, [str(g) for g in ghost_sizes])
axes[0].set_xlabel("ghost batch size g (128 = no batch noise)"); axes[0].set_ylabel("accuracy (eval mode)")
axes[0].set_title("accuracy vs BN's ghost batch size (mean ± std, 3 seeds)"); axes[0].legend(fontsize=8)
for k in range(len(noise_seeds)):
    axes[1].plot(ghost_sizes, [noise_gain[g][k] * 100 for g in ghost_sizes], ".", color="C0", alpha=0.5,
                 label="one seed" if k == 0 else None)
axes[1].plot(ghost_sizes, [noise_gain[g].mean() * 100 for g in ghost_sizes], "o-", color="C0", label="mean of 3 seeds")
axes[1].axhline(noise_gain[None].mean() * 100, color="gray", ls=":", label="no BN (mean)")
axes[1].axhline(0, color="black", lw=0.5)
axes[1].set_xscale("log", base=2); axes[1].set_xticks(ghost_sizes, [str(g) for g in ghost_sizes])
axes[1].set_xlabel("ghost batch size g"); axes[1].set_ylabel("validation accuracy − BN at g = 128 (points)")
axes[1].set_title("what batch noise adds, paired by seed"); axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()
for g in ghost_sizes + [None]:
    print(f"{'no BN' if g is None else f'g = {g}':>7}: training {noise_tr[g].mean():.3f}, validation "
          f"{noise_val[g].mean():.3f} ± {noise_val[g].std():.3f}; vs g = 128: "
          f"{', '.join(f'{100 * v:+.1f}' for v in noise_gain[g].tolist())} points")

# %% [markdown] nbgrader={"grade": false, "grade_id": "noise_result_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **What the figure shows** (numbers from our run; yours are printed above). Every network fits its 128
# training images perfectly (training accuracy 1.000 for every $g$ and without BN), so the differences are
# all in generalization:
#
# * BN **without** batch noise ($g = 128$) already generalizes better than no BN: validation accuracy
#   0.916 ± 0.003 against 0.896 ± 0.009, a gain of 2.1 points on average and in all three seeds. That gain
#   has nothing to do with noise — there is none at $g = 128$.
# * Moderate batch noise adds little on top: +0.5 points at $g = 32$ (+0.4, −0.1, +1.3 over the three seeds)
#   and +0.1 at $g = 16$, no more than the spread between seeds. At this scale the regularizing effect of
#   batch noise is **small**: it is there on average, not in every run.
# * More noise **hurts**: $g = 8$ loses 0.9 points and $g = 4$ loses 2.3 points against $g = 128$, in every
#   seed — as much as dropping BN altogether. With 4 rows per group the statistics are off by about
#   $1/\sqrt 4$ of their size at every step, and what the network learns under that noise generalizes worse.
#
# So batch noise is at best a weak regularizer with a sweet spot, and tiny batches are on the wrong side of
# it; assignment 04 trains BN and layer norm with real mini-batches of 2 to 64 images.

# %% [markdown] nbgrader={"grade": false, "grade_id": "bn2d_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 5. `batchnorm2d_forward`: one set of statistics per channel
#
# For images $x \in \mathbb R^{N\times C\times H\times W}$ (as `nn.BatchNorm2d`), each **channel** is one
# feature: its mean and variance are taken over the batch *and* all spatial positions,
#
# $$
# \mu_c = \frac1{NHW}\sum_{n,h,w} x_{nchw},\qquad \sigma^2_c = \frac1{NHW}\sum_{n,h,w}(x_{nchw}-\mu_c)^2,
# $$
#
# and $\gamma, \beta$ have shape $(C,)$. (Train mode only, no running statistics here.)

# %% nbgrader={"grade": false, "grade_id": "batchnorm2d_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batchnorm2d_forward(x, gamma, beta, eps=1e-5):
    """
    Train-mode batch normalization of images, one mean/variance per channel.

    Inputs:
    - x: tensor of shape (N, C, H, W).
    - gamma, beta: tensors of shape (C,).
    - eps: constant inside the square root.

    Returns out, tensor of shape (N, C, H, W): per channel c,
    gamma[c] * (x[:, c] - mean_c) / sqrt(var_c + eps) + beta[c], with mean_c and the biased var_c
    taken over dims (N, H, W).
    """
    ### BEGIN SOLUTION
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
    x_hat = (x - mean) / torch.sqrt(var + eps)
    return gamma.view(1, -1, 1, 1) * x_hat + beta.view(1, -1, 1, 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm2d_forward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
points = check("batchnorm2d_forward")
### BEGIN HIDDEN TESTS
points += check("batchnorm2d_forward", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "block_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 6. `bn_block`: no bias before batch norm
#
# A bias $b$ added before BN is removed again by the mean subtraction: $(z+b) - \mu(z+b) = z - \mu(z)$. So it
# changes nothing in the output and its gradient is exactly zero ($\partial L/\partial b = \sum_i
# \partial L/\partial z_i$, and BN's $\partial L/\partial x$ sums to zero over the batch). BN's $\beta$ already
# plays the role of the bias. Write `bn_block(d_in, d_out)` = `Linear(d_in, d_out, bias=False)` →
# `nn.BatchNorm1d(d_out)` (torch's, or yours) → `ReLU`. The cell after it demonstrates the claim.

# %% nbgrader={"grade": false, "grade_id": "bn_block", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bn_block(d_in, d_out):
    """
    A fully connected block Linear (no bias) -> BatchNorm1d -> ReLU.

    Inputs:
    - d_in, d_out: input and output widths.

    Returns an nn.Module (e.g. nn.Sequential) mapping (N, d_in) -> (N, d_out), whose only parameters
    are the Linear weight (d_out, d_in) and the BN weight and bias (d_out,).
    """
    ### BEGIN SOLUTION
    return nn.Sequential(nn.Linear(d_in, d_out, bias=False), nn.BatchNorm1d(d_out), nn.ReLU())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_bn_block", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
points = check("bn_block")
### BEGIN HIDDEN TESTS
points += check("bn_block", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "block_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
# Demonstration (float64, so rounding does not hide the zeros): the same block with a bias before BN.
torch.manual_seed(0)
x_demo = torch.randn(16, 5, dtype=torch.float64)
with_bias = nn.Sequential(nn.Linear(5, 4, bias=True), nn.BatchNorm1d(4), nn.ReLU()).double()
without_bias = bn_block(5, 4).double()
without_bias[0].weight.data.copy_(with_bias[0].weight.data)
with torch.no_grad():
    with_bias[0].bias.fill_(3.0)  # any bias at all
out_b, out_nb = with_bias(x_demo), without_bias(x_demo)
(out_b ** 2).sum().backward()
print("outputs identical up to rounding:", torch.allclose(out_b, out_nb, atol=1e-12))
print("gradient of the bias before BN (zero up to float64 rounding):", with_bias[0].bias.grad)
print("gradient of BN's beta (the bias that does the work):", with_bias[1].bias.grad)


# %% [markdown] nbgrader={"grade": false, "grade_id": "fold_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 7. Folding BN into the preceding Linear (inference)
#
# In eval mode BN is a fixed affine map per feature, so `bn(linear(x))` is itself a Linear layer:
# with $s = \gamma / \sqrt{\text{running\_var} + \epsilon}$,
#
# $$
# W' = \operatorname{diag}(s)\,W,\qquad b' = s\odot(b - \text{running\_mean}) + \beta .
# $$
#
# Deployed networks do this to save the extra pass over the activations. Write `fold_bn_into_linear(linear,
# bn)` returning a **new** `nn.Linear` (with bias) that matches `bn(linear(x))` with `bn` in eval mode. If
# `linear` has no bias, treat $b = 0$.

# %% nbgrader={"grade": false, "grade_id": "fold_bn_into_linear", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fold_bn_into_linear(linear, bn):
    """
    Fold an eval-mode BatchNorm1d into the Linear layer before it.

    Inputs:
    - linear: nn.Linear(D_in, D), with or without bias.
    - bn: nn.BatchNorm1d(D) (weight, bias, running_mean, running_var, eps).

    Returns a new nn.Linear(D_in, D) with bias such that folded(x) == bn.eval()(linear(x)) for any
    x of shape (N, D_in). linear and bn are not modified.
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        b = linear.bias if linear.bias is not None else torch.zeros(linear.out_features)
        folded = nn.Linear(linear.in_features, linear.out_features, bias=True)
        folded.weight.copy_(linear.weight * scale[:, None])
        folded.bias.copy_(scale * (b - bn.running_mean) + bn.bias)
    return folded
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_fold_bn_into_linear", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
points = check("fold_bn_into_linear")
### BEGIN HIDDEN TESTS
points += check("fold_bn_into_linear", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "bugs_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 8. Find the bugs
#
# A colleague wrote the batch norm module below. It runs, but it has **two bugs**. Read it, find them, and
# write the corrected class as `FixedBatchNorm` in the cell after it (copy, rename, fix). The check tells you
# which bug is still there.

# %% nbgrader={"grade": false, "grade_id": "buggy_class", "locked": true, "schema_version": 3, "solution": false, "task": false}
class BuggyBatchNorm(nn.Module):
    """A BatchNorm1d for (N, D) inputs, meant to match torch.nn.BatchNorm1d. It has two bugs."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.zeros(num_features))
        self.bias = nn.Parameter(torch.ones(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            n = x.shape[0]
            mean, var = x.mean(0), x.var(0, unbiased=False)
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * self.weight * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias


# %% nbgrader={"grade": false, "grade_id": "FixedBatchNorm", "locked": false, "schema_version": 3, "solution": true, "task": false}
# Copy BuggyBatchNorm here, rename it FixedBatchNorm, and fix its two bugs.
### BEGIN SOLUTION
class FixedBatchNorm(nn.Module):
    """BuggyBatchNorm with its two bugs fixed."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            n = x.shape[0]
            mean, var = x.mean(0), x.var(0, unbiased=False)
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias
### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_FixedBatchNorm", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
points = check("FixedBatchNorm")
### BEGIN HIDDEN TESTS
points += check("FixedBatchNorm", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "questions_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 9. Written questions (graded by hand)
#
# Answer in a few sentences each, in the cells below, quoting numbers from your runs above.
#
# **Q1.** In the training experiment of section 4, the network without BN trains in only a narrow band of
# initialization scales and learning rates, the network with BN in almost all of them — except at a large
# init with a small learning rate. Explain both observations, using the activation/gradient figures and the
# scale-invariance cell.

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_bn_training", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** Without BN the scale of the activations is multiplied by roughly the same factor at every
# layer ($\approx s$ for ReLU with $\mathcal N(0, s^2/d)$ weights, up to $\sqrt2$), so over 8 layers
# $s = 0.3$ shrinks the signal to almost nothing (the logits are constant, the loss sits at $\ln 10 \approx
# 2.3$, every run below 15 %) and $s = 3$ blows it up (overflowing logits, NaN loss). Only $s \approx 1$ keeps
# activations and gradients of a usable size, and even then the learning rate must match the gradient
# scale. BN re-standardizes every hidden layer, so the forward signal has unit scale at any depth whatever
# $s$ is, and the gradients have a similar grad:data ratio in every layer (about $4\cdot10^{-3}$ in all five
# layers of the tanh example, against a 2.8× spread without BN): one learning rate suits all layers, and a
# wide range of them works (7 of 9 settings above 80 % validation accuracy vs 1 without; grid mean 0.82 vs
# 0.19). The exception
# follows from scale invariance: with BN, $W$ and $aW$ give the same output, and the gradient at $aW$ is
# $1/a$ times smaller, so the *relative* update is $\eta/a^2$: $s = 3$ with $\eta = 0.01$ behaves like
# $\eta \approx 0.001$ at $s = 1$ and has barely moved after 150 steps.

# %% [markdown] nbgrader={"grade": false, "grade_id": "question_small_batch_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q2.** A classmate trains the same BN network with a batch size of 2 and then evaluates it in eval mode.
# Its training loss looks fine but its validation accuracy is poor. Give two reasons rooted in how BN works,
# and one remedy for each.

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_small_batch", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** (1) **Train/eval mismatch.** In training each example is normalized with the statistics of
# its batch of 2 (for two rows $\hat x = \pm 1$ per feature, almost whatever the values: very noisy, and the
# biased variance of 2 rows is far from the population's), while eval mode uses the running averages of
# those noisy statistics — with the unbiased variance, so the layer sees a different normalization at test
# time than the one it was trained with. Remedy: larger batches, or recompute the population statistics
# after training with a pass over the training data in train mode with momentum `None` (cumulative
# average), or use batch renormalization. (2) **Dependence on the batch.** With $N = 2$ the normalization
# destroys much of the information in each example (two rows are mapped to $\pm1$ per feature) and the
# network learns to rely on its batch-mate; the statistics change with every batch, a noise that is a
# regularizer at moderate $N$ but dominates at $N = 2$. Remedy: a normalization that does not use the batch —
# layer norm or group norm (assignment 04) — which behaves the same in training and evaluation.

# %% [markdown] nbgrader={"grade": false, "grade_id": "question_batch_noise_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q3.** The batch-noise experiment trains with **full-batch** gradient descent and takes only BN's
# statistics over ghost batches of $g$ images. Why not simply train with mini-batches of $g$ images and
# compare? Name two things besides BN's noise that would change with $g$, and say how each could make the
# comparison mislead.

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_batch_noise", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** With mini-batches of size $g$, BN's noise would not be the only thing that changes.
# (1) **Gradient noise**: the gradient of a small mini-batch is itself a noisy estimate of the full gradient,
# and SGD noise is a regularizer of its own (small-batch SGD tends to find solutions that generalize
# differently); any gain at small $g$ could come from it, with or without BN — the network without BN would
# change too. (2) **The optimization budget**: at a fixed number of epochs a smaller $g$ takes $128/g$ times more
# steps (at a fixed number of steps it sees fewer images), and the effective learning rate changes with
# the batch size, so the runs would not be equally trained. (Also: the running statistics would be averaged
# over noisier batches, adding a train/eval mismatch.) Full-batch training keeps the gradient, the number
# of steps and the learning rate identical across $g$ — and the eval-mode statistics are re-calibrated on
# the same 128 images — so the only difference between the runs is the statistics BN normalizes with.

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * BN standardizes each feature over the **batch** (biased variance, eps inside the square root), then
#   applies a learned $\gamma, \beta$.
# * Train mode: batch statistics + running-average update (unbiased variance, `momentum=0.1` on the *new*
#   value). Eval mode: running statistics only — a row's output does not depend on its batch.
# * Running statistics are **buffers**: in `state_dict()`, not in `parameters()`.
# * A bias before BN is dead weight; in eval mode BN folds into the preceding Linear.
# * The backward follows the graph (sum over the rows for everything broadcast over them); simplified, it
#   is one line, and faster.
# * BN does not so much "prevent vanishing gradients" as give every layer activations and gradients of the same
#   scale, so one learning rate suits all layers and a wide range of inits and learning rates trains; Linear +
#   BN is scale invariant in the weights (a larger $W$ means a smaller effective learning rate).
# * Eval mode is only as good as its statistics: slow running averages can be far off, one calibration pass
#   fixes them. BN's batch noise is at best a weak regularizer here (+0.5 points with ghost batches of 32,
#   within the seed spread), and groups of 4 rows cost as much as BN gains.
