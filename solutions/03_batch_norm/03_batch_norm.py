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
#    the gradient derived by hand);
# 3. a `BatchNorm1d` module that matches `torch.nn.BatchNorm1d`;
# 4. `batchnorm2d_forward` (per channel), `bn_block` (why the Linear before BN needs no bias), and folding BN
#    into the preceding Linear for inference;
# 5. a **find the bugs** exercise.
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


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm_by_hand", "locked": true, "points": 10.5, "schema_version": 3, "solution": false, "task": false}
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
# ## 3. `batchnorm_backward`
#
# With $g = \partial L/\partial y$ (`dout`) and $\hat x$, $s = \sqrt{\sigma^2+\epsilon}$ from the forward pass:
#
# $$
# \frac{\partial L}{\partial \beta} = \sum_i g_i,\qquad
# \frac{\partial L}{\partial \gamma} = \sum_i g_i \odot \hat x_i,\qquad
# \frac{\partial L}{\partial x_i} = \frac{\gamma}{s}\odot\Big(g_i - \frac1N\sum_k g_k
#  - \hat x_i \odot \frac1N\sum_k g_k\odot \hat x_k\Big).
# $$
#
# The last formula comes from following $x$ through its three paths: directly into $\hat x_i$, through $\mu$
# and through $\sigma^2$. Derive it on paper (or go through the computational graph step by step); the
# check compares your gradients in float64 with autograd **and** with a centred numerical gradient.

# %% nbgrader={"grade": false, "grade_id": "batchnorm_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def batchnorm_backward(dout, cache):
    """
    Backward pass of batch normalization (train mode).

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
    dbeta = dout.sum(dim=0)
    dgamma = (dout * x_hat).sum(dim=0)
    dx = gamma * inv_std * (dout - dout.mean(dim=0) - x_hat * (dout * x_hat).mean(dim=0))
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_batchnorm_backward", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
points = check("batchnorm_backward")
### BEGIN HIDDEN TESTS
points += check("batchnorm_backward", hidden=True)
### END HIDDEN TESTS
points


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


# %% nbgrader={"grade": true, "grade_id": "check_BatchNorm1d", "locked": true, "points": 9.5, "schema_version": 3, "solution": false, "task": false}
points = check("BatchNorm1d")
### BEGIN HIDDEN TESTS
points += check("BatchNorm1d", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Look: activation distributions without and with BN
#
# A 5-layer tanh MLP whose weights are initialised a bit too large, and the same MLP with your
# `BatchNorm1d` between each Linear and its tanh. The histograms show each layer's activations (after
# tanh). Without BN the pre-activations are too wide, so most units sit at $\pm 1$, where tanh is flat and
# the gradient vanishes; with BN every pre-activation has zero mean and unit variance per feature, and the
# activations stay in tanh's responsive range.

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
            axes[row, k].hist(h.flatten().numpy(), bins=50, range=(-1, 1), color="C1" if use_bn else "C0")
            axes[row, k].set_title(f"layer {k + 1}, {'with BN' if use_bn else 'no BN'}\n"
                                   f"std {h.std():.2f}, saturated {saturated:.0%}", fontsize=9)
for ax in axes[1]:
    ax.set_xlabel("tanh activation")
plt.tight_layout()
plt.show()


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


# %% nbgrader={"grade": true, "grade_id": "check_FixedBatchNorm", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
points = check("FixedBatchNorm")
### BEGIN HIDDEN TESTS
points += check("FixedBatchNorm", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * BN standardizes each feature over the **batch** (biased variance, eps inside the square root), then
#   applies a learned $\gamma, \beta$.
# * Train mode: batch statistics + running-average update (unbiased variance, `momentum=0.1` on the *new*
#   value). Eval mode: running statistics only — a row's output does not depend on its batch.
# * Running statistics are **buffers**: in `state_dict()`, not in `parameters()`.
# * A bias before BN is dead weight; in eval mode BN folds into the preceding Linear.
