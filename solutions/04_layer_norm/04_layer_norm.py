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
#     assignment: 04_layer_norm
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 04 · Layer normalization and weight normalization
#
# Batch norm (assignment 03) normalizes each **feature** with statistics of the **batch**. That makes a
# network's output for one example depend on the other examples in its batch, forces two modes (batch
# statistics in training, running statistics in evaluation) and breaks down for a batch of one.
# **Layer norm** (Ba, Kiros & Hinton, 2016) normalizes each **example** over its own features instead:
# no batch statistics, no running averages, one behaviour in training and evaluation. **Weight norm**
# (Salimans & Kingma, 2016) normalizes the *weights* instead of the activations.
#
# You will write:
#
# 1. `layernorm_forward` and `layernorm_backward` (a gradient checked against autograd and a numerical gradient);
# 2. `weight_norm`, the reparametrization $w = g\,v/\lVert v\rVert$;
# 3. a `LayerNorm` module that matches `torch.nn.LayerNorm`;
# 4. `bn_ln_consistency`, which measures how BN and LN depend on the mode and on the batch;
# 5. `normalize(x, dims)`, one function that gives batch, layer, instance and group norm;
# 6. `rms_norm`, the normalization of most recent language models;
#
# with a figure of BN's batch noise against the batch size, a BN vs LN training sweep over batch sizes, and three
# written questions at the end.
#
# **Conventions (fixed for this assignment and the course)**
#
# * Layer norm normalizes over the **last** dimension (the $D$ features) of an input of shape $(N, D)$ or
#   $(\dots, D)$ — every leading index is one example — with the **biased** variance (divide by $D$) and
#   `eps` **inside** the square root, exactly as `torch.nn.functional.layer_norm(x, (D,), gamma, beta, eps)`.
# * Batch norm follows `torch.nn.BatchNorm1d`: normalize with the biased batch variance; update
#   `running = (1 - momentum) * running + momentum * batch_stat` with `momentum=0.1` and the **unbiased**
#   variance for `running_var`; evaluation uses the running statistics only.
# * Weight norm follows `torch.nn.utils.parametrizations.weight_norm(module, dim=0)`: one norm per **output
#   row** (dim 0 is kept; the norm runs over all the other dims), `g` has shape `(out, 1)` for a Linear
#   weight (`(out, 1, 1, 1)` for a Conv2d kernel).
#
# After each function, a **self-check** cell runs the visible checks. Hidden checks (other shapes and
# seeds) run when you submit; the self-check tells you how many points they hold.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from autograder import check

torch.set_num_threads(1)


# %% [markdown] nbgrader={"grade": false, "grade_id": "forward_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. Layer norm, forward
#
# For one example $x \in \mathbb{R}^D$ (a row of the input):
#
# $$
# \mu = \frac{1}{D}\sum_{j=1}^{D} x_j,\qquad
# \sigma^2 = \frac{1}{D}\sum_{j=1}^{D} (x_j-\mu)^2,\qquad
# \hat x_j = \frac{x_j-\mu}{\sqrt{\sigma^2+\varepsilon}},\qquad
# y_j = \gamma_j\,\hat x_j + \beta_j .
# $$
#
# $\gamma, \beta \in \mathbb{R}^D$ are learned per feature, as in batch norm; but $\mu$ and $\sigma^2$ are
# **per example** — one number each per row, computed over the features. Compare batch norm, where
# $\mu_j, \sigma_j^2$ are per feature, computed over the $N$ rows of the batch.
#
# Implementation notes:
#
# * take the statistics with `dim=-1, keepdim=True`, so that they have shape $(\dots, 1)$ and broadcast over
#   the features (without `keepdim`, a $(N,)$ mean broadcasts along the *features* — on a square input it
#   silently subtracts the wrong numbers);
# * the variance is biased (`correction=0` / `unbiased=False`) and $\varepsilon$ goes inside the square root;
# * return a `cache` with whatever your backward needs (a tuple or dict of tensors is simplest); keep
#   the input's dtype (the gradient checks run in float64) and do not modify `x`.

# %% nbgrader={"grade": false, "grade_id": "layernorm_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def layernorm_forward(x, gamma, beta, eps=1e-5):
    """
    Forward pass of layer normalization over the last dimension.

    Inputs:
    - x: tensor of shape (N, D), or (..., D) with any number of leading dims; each leading index
      is one example, normalized over its D features.
    - gamma: scale, tensor of shape (D,).
    - beta: shift, tensor of shape (D,).
    - eps: constant added to the variance inside the square root.

    Returns a tuple (out, cache):
    - out: tensor of x's shape and dtype,
      out = gamma * (x - mu) / sqrt(var + eps) + beta, where mu and var (biased, divide by D) are
      the mean and variance of each example over the last dim. Same as
      torch.nn.functional.layer_norm(x, (D,), gamma, beta, eps).
    - cache: what layernorm_backward needs (e.g. a tuple of tensors).

    No running statistics and no state between calls: an example's output depends on that
    example only. x is not modified.
    """
    ### BEGIN SOLUTION
    mu = x.mean(dim=-1, keepdim=True)
    xc = x - mu
    var = (xc * xc).mean(dim=-1, keepdim=True)
    inv_std = 1.0 / torch.sqrt(var + eps)
    xhat = xc * inv_std
    out = gamma * xhat + beta
    cache = (xhat, inv_std, gamma)
    return out, cache
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "forward_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Try it: every row of the output has mean 0 and variance ~1 (with gamma = 1, beta = 0).
x_demo = torch.tensor([[1.0, 2.0, 3.0, 4.0], [10.0, 0.0, -10.0, 0.0], [5.0, 5.0, 5.0, 6.0]])
out_demo, _ = layernorm_forward(x_demo, torch.ones(4), torch.zeros(4))
print(out_demo)
print("row means:", out_demo.mean(-1), " row variances:", out_demo.var(-1, correction=0))
print("same as F.layer_norm:", torch.allclose(out_demo, F.layer_norm(x_demo, (4,)), atol=1e-6))

# %% nbgrader={"grade": true, "grade_id": "check_layernorm_forward", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
points = check("layernorm_forward")
### BEGIN HIDDEN TESTS
points += check("layernorm_forward", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "backward_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. Layer norm, backward
#
# Given the upstream gradient $\partial L/\partial y$ (`dout`, the shape of `x`), the parameter gradients sum
# over every example (every leading index):
#
# $$
# \frac{\partial L}{\partial \beta_j} = \sum_{\text{examples}} \frac{\partial L}{\partial y_j},\qquad
# \frac{\partial L}{\partial \gamma_j} = \sum_{\text{examples}} \frac{\partial L}{\partial y_j}\,\hat x_j .
# $$
#
# For the input, write $g_j = \partial L/\partial \hat x_j = \gamma_j\,\partial L/\partial y_j$. Each
# $\hat x_j$ depends on every $x_k$ of its row through $\mu$ and $\sigma^2$; with
# $\partial \mu/\partial x_k = 1/D$ and $\partial \sigma^2/\partial x_k = 2(x_k-\mu)/D$ the three paths
# combine into
#
# $$
# \frac{\partial L}{\partial x_k} = \frac{1}{\sqrt{\sigma^2+\varepsilon}}
# \Big( g_k - \frac{1}{D}\sum_j g_j - \hat x_k\,\frac{1}{D}\sum_j g_j\,\hat x_j \Big).
# $$
#
# It is batch norm's formula with the roles of the axes swapped: the means run over the **features** of
# one example instead of over the batch. Your backward receives the `cache` your forward returned.
#
# The check runs in float64 and compares with autograd **and** with a centred numerical gradient
# $\big(f(x+h e_i) - f(x-h e_i)\big)/2h$ (a higher-order version of it), asking for a relative error
# $\max_i |a_i-b_i| / \max(10^{-8}, |a_i|+|b_i|) < 10^{-7}$, as in CS231n.

# %% nbgrader={"grade": false, "grade_id": "layernorm_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def layernorm_backward(dout, cache):
    """
    Backward pass of layer normalization.

    Inputs:
    - dout: upstream gradient, tensor of the shape of x, (N, D) or (..., D).
    - cache: the cache returned by layernorm_forward.

    Returns a tuple (dx, dgamma, dbeta):
    - dx: gradient with respect to x, shape of x.
    - dgamma: gradient with respect to gamma, shape (D,) (summed over every leading dim).
    - dbeta: gradient with respect to beta, shape (D,) (summed over every leading dim).
    All in dout's dtype.
    """
    ### BEGIN SOLUTION
    xhat, inv_std, gamma = cache
    d = xhat.shape[-1]
    dbeta = dout.reshape(-1, d).sum(dim=0)
    dgamma = (dout * xhat).reshape(-1, d).sum(dim=0)
    g = dout * gamma
    dx = inv_std * (g - g.mean(dim=-1, keepdim=True) - xhat * (g * xhat).mean(dim=-1, keepdim=True))
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_layernorm_backward", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
points = check("layernorm_backward")
### BEGIN HIDDEN TESTS
points += check("layernorm_backward", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "wn_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Weight normalization
#
# Weight norm reparametrizes each output row $w_i$ of a weight matrix by a direction $v_i$ and a length $g_i$:
#
# $$
# w_i = g_i\,\frac{v_i}{\lVert v_i\rVert_2},\qquad \lVert v_i\rVert_2 = \sqrt{\textstyle\sum_k v_{ik}^2},
# $$
#
# so $\lVert w_i\rVert = |g_i|$ whatever the scale of $v_i$, and gradient descent on $(g, v)$ adjusts
# length and direction separately. The convention is `torch.nn.utils.parametrizations.weight_norm(layer,
# dim=0)`: for a Linear weight `v` of shape `(out, in)` the norm runs over dim 1 and `g` has shape
# `(out, 1)` (the parametrization's `original0`; `v` is `original1`). For a conv kernel `(out, in, kh, kw)`
# the norm runs over all dims but the first and `g` has shape `(out, 1, 1, 1)`.

# %% nbgrader={"grade": false, "grade_id": "weight_norm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def weight_norm(v, g):
    """
    Weight normalization w = g * v / ||v||, one norm per output row (dim=0 convention).

    Inputs:
    - v: direction, tensor of shape (out, in) for a Linear weight, or (out, ...) for any weight
      (e.g. a conv kernel (out, in, kh, kw)); row i is everything in v[i].
    - g: magnitude per output row, tensor of shape (out, 1) (or (out, 1, 1, 1) for a conv kernel):
      the same number of dims as v, size 1 except dim 0.

    Returns w, a tensor of v's shape with w[i] = g[i] * v[i] / ||v[i]||_2 (L2 norm over all dims but
    dim 0), as torch.nn.utils.parametrizations.weight_norm(module, dim=0) computes module.weight
    from original0 = g and original1 = v.
    """
    ### BEGIN SOLUTION
    norm = torch.linalg.vector_norm(v, dim=tuple(range(1, v.dim())), keepdim=True)
    return g * v / norm
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_weight_norm", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
points = check("weight_norm")
### BEGIN HIDDEN TESTS
points += check("weight_norm", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "module_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. A `LayerNorm` module
#
# Wrap your forward in a module that matches `torch.nn.LayerNorm(D)`: learnable `weight` (initialised to
# ones) and `bias` (zeros) of shape `(D,)`, and **no buffers** — `state_dict()` holds `weight` and `bias`
# only. Unlike `BatchNorm1d`, it does the same thing in `train()` and `eval()` mode. Gradients come from
# autograd here (your forward is made of differentiable torch operations).

# %% nbgrader={"grade": false, "grade_id": "LayerNorm", "locked": false, "schema_version": 3, "solution": true, "task": false}
class LayerNorm(nn.Module):
    """
    Layer normalization over the last dimension, matching torch.nn.LayerNorm(num_features, eps).

    Inputs to the constructor:
    - num_features: D, the size of the last dimension.
    - eps: constant added to the variance inside the square root.

    Parameters: weight (D,) initialised to ones, bias (D,) initialised to zeros. No buffers.
    forward(x): x of shape (..., D) -> tensor of the same shape, the same in train and eval mode.
    """

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        ### BEGIN SOLUTION
        self.num_features = num_features
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        ### END SOLUTION

    def forward(self, x):
        """x: tensor of shape (..., D). Returns the layer-normalized x, same shape (use layernorm_forward)."""
        ### BEGIN SOLUTION
        out, _ = layernorm_forward(x, self.weight, self.bias, self.eps)
        return out
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_LayerNorm", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
points = check("LayerNorm")
### BEGIN HIDDEN TESTS
points += check("LayerNorm", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "compare_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 5. BN vs LN: does the output depend on the mode, or on the batch?
#
# Measure it. For a batch `x` of shape `(N, D)`, compute four numbers (each a largest absolute difference,
# a Python `float`):
#
# * `"bn_train_vs_eval"`: a fresh `nn.BatchNorm1d(D, eps=eps, momentum=momentum)`; $y_{\text{train}}$ =
#   its output on `x` in training mode (this also updates the running statistics once, from their initial
#   values 0 and 1); then $y_{\text{eval}}$ = its output on the same `x` in eval mode;
#   $\max|y_{\text{train}} - y_{\text{eval}}|$.
# * `"ln_train_vs_eval"`: the same with a fresh `LayerNorm(D, eps=eps)` (yours).
# * `"bn_alone_vs_batch"`: batch norm **in training mode** (batch statistics, $\gamma = 1, \beta = 0$):
#   $\max_i \max_j |\mathrm{BN}(x_{i:i+1})_j - \mathrm{BN}(x)_{ij}|$ — row $i$ alone, as a batch of one,
#   against row $i$ inside the batch. `nn.BatchNorm1d` refuses a batch of one in training mode
#   ("Expected more than 1 value per channel"), so write it out: $(x-\mu_B)/\sqrt{\sigma_B^2+\varepsilon}$
#   with the mean and biased variance over dim 0.
# * `"ln_alone_vs_batch"`: the same with `layernorm_forward` ($\gamma = 1, \beta = 0$).
#
# Before you run it, predict which numbers are 0. A batch of one row has $\mu_B$ = the row and
# $\sigma_B^2 = 0$: what is left of the input?

# %% nbgrader={"grade": false, "grade_id": "bn_ln_consistency", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bn_ln_consistency(x, eps=1e-5, momentum=0.1):
    """
    How much batch norm and layer norm outputs depend on the mode (train/eval) and on the batch.

    Inputs:
    - x: tensor of shape (N, D), N >= 2.
    - eps: the eps of both normalizations.
    - momentum: the momentum of nn.BatchNorm1d.

    Returns a dict of four Python floats, each a largest absolute difference:
    - "bn_train_vs_eval": fresh nn.BatchNorm1d(D, eps=eps, momentum=momentum), output on x in
      train mode vs then in eval mode.
    - "ln_train_vs_eval": the same with a fresh LayerNorm(D, eps=eps).
    - "bn_alone_vs_batch": max over rows i of |BN(x[i:i+1]) - BN(x)[i]|, BN in training mode
      (batch mean and biased batch variance over dim 0, gamma=1, beta=0).
    - "ln_alone_vs_batch": the same with layernorm_forward (gamma=1, beta=0).
    """
    ### BEGIN SOLUTION
    n, d = x.shape
    with torch.no_grad():
        bn = nn.BatchNorm1d(d, eps=eps, momentum=momentum)
        bn.train()
        y_train = bn(x)
        bn.eval()
        y_eval = bn(x)

        ln = LayerNorm(d, eps=eps)
        ln.train()
        z_train = ln(x)
        ln.eval()
        z_eval = ln(x)

        def bn_batch_stats(rows):
            mu = rows.mean(dim=0, keepdim=True)
            var = rows.var(dim=0, unbiased=False, keepdim=True)
            return (rows - mu) / torch.sqrt(var + eps)

        ones, zeros = torch.ones(d), torch.zeros(d)
        bn_full = bn_batch_stats(x)
        ln_full, _ = layernorm_forward(x, ones, zeros, eps)
        bn_alone = max((bn_batch_stats(x[i:i + 1])[0] - bn_full[i]).abs().max().item() for i in range(n))
        ln_alone = max((layernorm_forward(x[i:i + 1], ones, zeros, eps)[0][0] - ln_full[i]).abs().max().item()
                       for i in range(n))
    return {
        "bn_train_vs_eval": (y_train - y_eval).abs().max().item(),
        "ln_train_vs_eval": (z_train - z_eval).abs().max().item(),
        "bn_alone_vs_batch": bn_alone,
        "ln_alone_vs_batch": ln_alone,
    }
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "compare_demo", "locked": true, "schema_version": 3, "solution": false, "task": false}
gen = torch.Generator().manual_seed(0)
x_cmp = torch.randn(8, 5, generator=gen) * 3 + 2
for key, value in bn_ln_consistency(x_cmp).items():
    print(f"{key:>18}: {value:.3g}")

# %% nbgrader={"grade": true, "grade_id": "check_bn_ln_consistency", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
points = check("bn_ln_consistency")
### BEGIN HIDDEN TESTS
points += check("bn_ln_consistency", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 6. Look at it: one example's output as a function of its batch
#
# Take one example (row 0) from a population whose per-feature mean and standard deviation we know, and put
# it into batches of size $B = 2, 4, \dots, 256$ whose other rows are fresh draws from the same population —
# **200 random batches per size**. What batch norm *should* give row 0 is its normalization with the
# **population** statistics (what eval mode approximates with its running averages); in training mode it gets
# the normalization with its batch's statistics instead. The left panel shows, per $B$, the mean over the 200
# batches of the root-mean-square (over the 16 features) deviation of row 0's BN output from that target, with
# ± one standard deviation across batches as error bars and a $1/\sqrt B$ guide line: the batch mean and std
# are estimates from $B$ samples, whose error shrinks like $1/\sqrt B$. Layer norm's output for row 0 is the
# same in every batch (it is computed from row 0 alone), so its deviation is exactly 0 for every $B$ (printed
# below the figure; a log axis cannot show 0).
#
# The right panel shows row 0 itself, its population-normalized target, its BN output in one batch of 4, its
# BN output in a batch of **one** (marked ×: every feature is exactly $\beta = 0$ — the input is erased, and
# PyTorch's own `BatchNorm1d` refuses to run) and its LN output.

# %% nbgrader={"grade": false, "grade_id": "plot_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt

gen = torch.Generator().manual_seed(1)
d, draws, eps = 16, 200, 1e-5
pop_mean = torch.linspace(-2.0, 3.0, d)
pop_std = torch.linspace(0.5, 3.0, d)
row = pop_mean + pop_std * torch.randn(1, d, generator=gen)
ones, zeros = torch.ones(d), torch.zeros(d)


def bn_train(rows, eps=1e-5):
    """Batch norm in training mode (gamma=1, beta=0) over dim -2: works on (B, D) and on (draws, B, D)."""
    mu = rows.mean(-2, keepdim=True)
    return (rows - mu) / torch.sqrt(rows.var(-2, unbiased=False, keepdim=True) + eps)


target_bn = (row[0] - pop_mean) / torch.sqrt(pop_std ** 2 + eps)
ln_row = layernorm_forward(row, ones, zeros, eps)[0][0]
sizes = [2, 4, 8, 16, 32, 64, 128, 256]
bn_err_mean, bn_err_std, ln_dev = [], [], 0.0
for B in sizes:
    others = pop_mean + pop_std * torch.randn(draws, B - 1, d, generator=gen)
    batches = torch.cat([row.expand(draws, 1, d), others], dim=1)        # row 0 in each of 200 batches
    err = (bn_train(batches)[:, 0] - target_bn).pow(2).mean(-1).sqrt()   # RMS over features, per batch
    bn_err_mean.append(err.mean().item())
    bn_err_std.append(err.std().item())
    ln_out = layernorm_forward(batches, ones, zeros, eps)[0][:, 0]
    ln_dev = max(ln_dev, (ln_out - ln_row).abs().max().item())
bn_err_mean, bn_err_std = torch.tensor(bn_err_mean), torch.tensor(bn_err_std)
slope = torch.linalg.lstsq(torch.stack([torch.log(torch.tensor(sizes, dtype=torch.float32)), torch.ones(len(sizes))], 1),
                           torch.log(bn_err_mean)[:, None]).solution[0].item()

try:
    nn.BatchNorm1d(d).train()(row)
except ValueError as exc:
    print("nn.BatchNorm1d on a batch of one, training mode:", exc)

fig, axes = plt.subplots(1, 2, figsize=(13, 4))
axes[0].errorbar(sizes, bn_err_mean.numpy(), yerr=bn_err_std.numpy(), fmt="o-", capsize=3,
                 label="batch norm, train mode (mean ± std over 200 batches)")
guide = bn_err_mean[-1] * math.sqrt(sizes[-1]) / torch.sqrt(torch.tensor(sizes, dtype=torch.float32))
axes[0].plot(sizes, guide.numpy(), "k--", label=r"$\propto 1/\sqrt{B}$")
axes[0].set_xscale("log", base=2); axes[0].set_yscale("log")
axes[0].set_xlabel("batch size B"); axes[0].set_ylabel("RMS deviation of row 0's output\nfrom its population-normalized value")
axes[0].set_title(f"BN's batch noise shrinks like 1/sqrt(B) (fitted slope {slope:.2f}); LN: exactly 0")
axes[0].legend(fontsize=8)
j = torch.arange(d).numpy()
w = 0.2
bn_of_4 = bn_train(torch.cat([row, pop_mean + pop_std * torch.randn(3, d, generator=gen)]))[0]
axes[1].bar(j - 1.5 * w, row[0].numpy(), w, label="input row 0")
axes[1].bar(j - 0.5 * w, target_bn.numpy(), w, label="population-normalized (BN's target)")
axes[1].bar(j + 0.5 * w, bn_of_4.numpy(), w, label="BN, one batch of 4")
axes[1].bar(j + 1.5 * w, ln_row.numpy(), w, label="LN (any batch)")
axes[1].plot(j, bn_train(row)[0].numpy(), "kx", markersize=8, label="BN, batch of 1 (all exactly 0)")
axes[1].axhline(0, color="gray", lw=0.5)
axes[1].set_xlabel("feature"); axes[1].set_ylabel("value")
axes[1].set_title("row 0: BN with a small batch is noisy, with B = 1 erased; LN is not")
axes[1].legend(fontsize=7, ncol=2)
plt.tight_layout()
plt.show()
print(f"BN deviation at B=2: {bn_err_mean[0]:.2f}, at B=256: {bn_err_mean[-1]:.3f}; fitted slope {slope:.2f} "
      f"(1/sqrt(B) is -0.5); LN's largest deviation over all {draws * len(sizes)} batches: {ln_dev:.1e}")
print(bn_ln_consistency(torch.cat([row, pop_mean + pop_std * torch.randn(63, d, generator=gen)])))


# %% [markdown] nbgrader={"grade": false, "grade_id": "sweep_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Training with small batches: BN vs LN
#
# Does that noise matter when a network is trained? CS231n's experiment: the same MLP (64 → 64 → 64 → 10,
# ReLU) trained **without normalization**, with `nn.BatchNorm1d` and with **your** `LayerNorm` after each
# hidden Linear, on 1,000 of scikit-learn's digits, at batch sizes $B = 2, 4, 16, 64$. Every run gets the same
# data budget — **2 epochs** (so $B = 2$ takes 1,000 Adam steps, $B = 64$ takes 32), Adam with learning rate
# $5\cdot10^{-3}$ — and is evaluated in eval mode (BN with its running statistics) on the 797 other digits.
# Three seeds per setting. The left panel shows the final validation accuracy against $B$, the right panel
# the training loss (train mode, mean of the three seeds) during training at $B = 2$ and $B = 64$.
# (About 15 s.)
#
# Randomness: `torch.manual_seed(seed)` before building a model (initialization); the order of the examples
# in each epoch is `torch.randperm(1000, generator=Generator(seed))`.

# %% nbgrader={"grade": false, "grade_id": "sweep_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from sklearn.datasets import load_digits
from tqdm.auto import tqdm

digits = load_digits()
X_dig = torch.tensor(digits.data, dtype=torch.float32)
y_dig = torch.tensor(digits.target)
order = torch.randperm(len(y_dig), generator=torch.Generator().manual_seed(0))
tr_idx, va_idx = order[:1000], order[1000:]
X_dig = (X_dig - X_dig[tr_idx].mean(0)) / (X_dig[tr_idx].std(0) + 1e-3)
X_tr, y_tr, X_va, y_va = X_dig[tr_idx], y_dig[tr_idx], X_dig[va_idx], y_dig[va_idx]


def make_norm_mlp(norm, seed, width=64):
    torch.manual_seed(seed)
    layers, d_in = [], X_tr.shape[1]
    for _ in range(2):
        layers.append(nn.Linear(d_in, width))
        if norm == "BN":
            layers.append(nn.BatchNorm1d(width))
        elif norm == "LN":
            layers.append(LayerNorm(width))
        layers.append(nn.ReLU())
        d_in = width
    return nn.Sequential(*layers, nn.Linear(d_in, 10))


def train_epochs(model, batch_size, seed, epochs=2, lr=5e-3):
    """Adam over `epochs` shuffled passes of the 1,000 training digits; returns the train-mode losses."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(y_tr), generator=g).split(batch_size):
            loss = F.cross_entropy(model(X_tr[idx]), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    model.eval()
    return torch.tensor(losses)


norms, batch_sizes, sweep_seeds = ["none", "BN", "LN"], [2, 4, 16, 64], [0, 1, 2]
sweep_acc, sweep_loss = {}, {}
sweep_runs = [(norm, B, seed) for B in batch_sizes for norm in norms for seed in sweep_seeds]
for norm, B, seed in tqdm(sweep_runs, desc=f"{len(sweep_runs)} training runs"):
    model = make_norm_mlp(norm, seed)
    sweep_loss[norm, B, seed] = train_epochs(model, B, seed)
    with torch.no_grad():
        sweep_acc[norm, B, seed] = (model(X_va).argmax(1) == y_va).float().mean().item()
val_by = {(norm, B): torch.tensor([sweep_acc[norm, B, s] for s in sweep_seeds]) for norm in norms for B in batch_sizes}

fig, axes = plt.subplots(1, 2, figsize=(13, 4))
for norm, style in zip(norms, ("s:", "o-", "^-")):
    axes[0].errorbar(batch_sizes, [val_by[norm, B].mean() for B in batch_sizes],
                     yerr=[val_by[norm, B].std() for B in batch_sizes], fmt=style, capsize=3,
                     label={"none": "no normalization", "BN": "nn.BatchNorm1d", "LN": "your LayerNorm"}[norm])
axes[0].set_xscale("log", base=2); axes[0].set_xticks(batch_sizes, [str(B) for B in batch_sizes])
axes[0].set_xlabel("batch size B (2 epochs each)"); axes[0].set_ylabel("validation accuracy (eval mode)")
axes[0].set_title("final validation accuracy vs batch size (mean ± std, 3 seeds)"); axes[0].legend()
for norm, color in zip(norms, ("C0", "C1", "C2")):
    for B, style in ((2, "-"), (64, "--")):
        curve = torch.stack([sweep_loss[norm, B, s] for s in sweep_seeds]).mean(0)
        k = max(1, len(curve) // 20)                          # moving average over 1/20 of the run
        smooth = F.avg_pool1d(curve[None], k, 1)[0]
        epochs_seen = torch.arange(k, len(curve) + 1) * 2 / len(curve)
        axes[1].plot(epochs_seen, smooth, style, color=color, label=f"{norm}, B = {B}")
axes[1].set_ylim(0, 2.5)
axes[1].set_xlabel("epoch"); axes[1].set_ylabel("training loss (train mode, moving average)")
axes[1].set_title("training loss at B = 2 (solid) and B = 64 (dashed)"); axes[1].legend(fontsize=8, ncol=3)
plt.tight_layout()
plt.show()
for norm in norms:
    print(f"{norm:>4}: validation accuracy " + ", ".join(
        f"B={B}: {val_by[norm, B].mean():.3f} ± {val_by[norm, B].std():.3f}" for B in batch_sizes))
final_loss = {(norm, B): torch.stack([sweep_loss[norm, B, s][-len(sweep_loss[norm, B, s]) // 4:].mean()
                                      for s in sweep_seeds]).mean().item() for norm in norms for B in batch_sizes}
print("training loss over the last quarter of the run at B = 2:",
      {norm: round(final_loss[norm, 2], 2) for norm in norms})


# %% [markdown] nbgrader={"grade": false, "grade_id": "sweep_result_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **What the figure shows** (numbers from our run; yours are printed under the figure):
#
# * Without normalization and with layer norm the batch size barely matters: LN reaches 0.944 ± 0.008 at
#   $B = 2$ and 0.957 ± 0.005 at $B = 64$ (1.3 points apart), no normalization 0.931 ± 0.023 and 0.928 ± 0.009.
# * Batch norm matches them at $B = 16$ and $64$ (0.952 ± 0.011 and 0.949 ± 0.009), loses 2.6 points at
#   $B = 4$ (0.923 ± 0.015) and **collapses at $B = 2$: 0.637 ± 0.048**.
# * The right panel shows that at $B = 2$ this is not only an evaluation problem: BN's *training* loss (train
#   mode, its own batch statistics) is still 1.8 over the last quarter of the run, while LN's and the
#   unnormalized network's are about 0.2. With two rows per batch, BN's output keeps so little of the input
#   (Q3 asks what exactly) that the network cannot even fit its training data. At $B = 4$ the statistics are
#   noisy (section 6: an RMS deviation of 0.6 from the population-normalized value) but usable.
#
# Layer norm normalizes each example with its own statistics, so nothing in it depends on $B$: this is why
# it (and group norm) replace batch norm when batches must be small.

# %% [markdown] nbgrader={"grade": false, "grade_id": "normalize_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 7. One function, four normalizations: `normalize(x, dims)`
#
# Batch, layer, instance and group norm differ only in **which axes the statistics run over**. For images
# $x \in \mathbb R^{N\times C\times H\times W}$:
#
# | normalization | statistics over | one mean per |
# |---|---|---|
# | batch norm | $(N, H, W)$ = dims `(0, 2, 3)` | channel |
# | layer norm | $(C, H, W)$ = dims `(1, 2, 3)` | example |
# | instance norm | $(H, W)$ = dims `(2, 3)` | example and channel |
# | group norm, $G$ groups | view as $(N, G, C/G \cdot H W)$, dims `(2,)` | example and group of channels |
#
# Write `normalize(x, dims, eps)`: subtract the mean over `dims` and divide by $\sqrt{\sigma^2 + \epsilon}$ with the
# biased variance over the same dims (no $\gamma$, $\beta$). `dims` is a tuple of axes, possibly negative,
# in any order. The cell after the check recovers all four from it and compares them with PyTorch's
# `F.batch_norm`, `F.layer_norm`, `F.instance_norm` and `F.group_norm`.

# %% nbgrader={"grade": false, "grade_id": "normalize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def normalize(x, dims, eps=1e-5):
    """
    Standardize x over the axes in dims.

    Inputs:
    - x: tensor of any shape.
    - dims: tuple of ints, the axes the statistics run over (negative values count from the end).
    - eps: constant added to the variance inside the square root.

    Returns a tensor of x's shape and dtype: (x - mean) / sqrt(var + eps), with mean and the biased
    variance (divide by the number of elements reduced) taken over dims, broadcast back over them.
    x is not modified.
    """
    ### BEGIN SOLUTION
    dims = tuple(dims)
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_normalize", "locked": true, "points": 7.5, "schema_version": 3, "solution": false, "task": false}
points = check("normalize")
### BEGIN HIDDEN TESTS
points += check("normalize", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "normalize_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
x_img = torch.randn(4, 6, 5, 5, generator=torch.Generator().manual_seed(7)) * 3 + 1
N_, C_, G_ = x_img.shape[0], x_img.shape[1], 3
recovered = {
    "batch norm": (normalize(x_img, (0, 2, 3)), F.batch_norm(x_img, None, None, training=True)),
    "layer norm": (normalize(x_img, (1, 2, 3)), F.layer_norm(x_img, x_img.shape[1:])),
    "instance norm": (normalize(x_img, (2, 3)), F.instance_norm(x_img)),
    "group norm (G=3)": (normalize(x_img.reshape(N_, G_, -1), (2,)).reshape(x_img.shape), F.group_norm(x_img, G_)),
}
for name, (mine, torch_out) in recovered.items():
    print(f"{name:>17}: largest difference from PyTorch {(mine - torch_out).abs().max():.1e}")
print("group norm with G=1 is layer norm:", torch.allclose(F.group_norm(x_img, 1), recovered["layer norm"][1], atol=1e-5),
      "| with G=C it is instance norm:", torch.allclose(F.group_norm(x_img, C_), recovered["instance norm"][1], atol=1e-5))


# %% [markdown] nbgrader={"grade": false, "grade_id": "rms_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 8. RMSNorm
#
# RMSNorm (Zhang & Sennrich, 2019), used by most recent large language models, drops layer norm's mean
# subtraction and its $\beta$: each example is divided by its root mean square over the last dimension,
#
# $$
# y_j = \frac{x_j}{\sqrt{\frac1D\sum_{k=1}^D x_k^2 + \epsilon}}\;\gamma_j ,
# $$
#
# which is cheaper (one reduction instead of two) and, in practice, works as well: the re-centring matters
# less than the re-scaling. It matches `torch.nn.functional.rms_norm(x, (D,), weight, eps)`. Note what is
# lost: a constant added to every feature of an example is no longer removed.

# %% nbgrader={"grade": false, "grade_id": "rms_norm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rms_norm(x, weight, eps=1e-6):
    """
    RMS normalization over the last dimension.

    Inputs:
    - x: tensor of shape (..., D).
    - weight: gamma, tensor of shape (D,).
    - eps: constant added to the mean square inside the square root.

    Returns a tensor of x's shape and dtype: weight * x / sqrt(mean(x ** 2 over the last dim) + eps),
    as torch.nn.functional.rms_norm(x, (D,), weight, eps). x is not modified.
    """
    ### BEGIN SOLUTION
    ms = (x * x).mean(dim=-1, keepdim=True)
    return weight * x / torch.sqrt(ms + eps)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_rms_norm", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
points = check("rms_norm")
### BEGIN HIDDEN TESTS
points += check("rms_norm", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "invariance_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Invariances, checked
#
# Layer norm's output for an example does not change if the example is **scaled** by any $a > 0$ or
# **shifted** by a constant $c$ on every feature: $\mathrm{LN}(a x + c) = \mathrm{LN}(x)$ (up to $\epsilon$). So a
# Linear layer before LN is scale invariant in its weights, as with BN — but per example, not per batch.
# RMSNorm keeps the scale invariance and gives up the shift invariance. The cell measures both on random
# rows ($a = 7$, $c = 5$).

# %% nbgrader={"grade": false, "grade_id": "invariance_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
x_inv = torch.randn(32, 64, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
w_inv = torch.ones(64, dtype=torch.float64)
b_inv = torch.zeros(64, dtype=torch.float64)
invariance = {
    ("LN", "scale"): (layernorm_forward(7 * x_inv, w_inv, b_inv)[0] - layernorm_forward(x_inv, w_inv, b_inv)[0]).abs().max().item(),
    ("LN", "shift"): (layernorm_forward(x_inv + 5, w_inv, b_inv)[0] - layernorm_forward(x_inv, w_inv, b_inv)[0]).abs().max().item(),
    ("RMS", "scale"): (rms_norm(7 * x_inv, w_inv) - rms_norm(x_inv, w_inv)).abs().max().item(),
    ("RMS", "shift"): (rms_norm(x_inv + 5, w_inv) - rms_norm(x_inv, w_inv)).abs().max().item(),
}
for (norm, kind), dev in invariance.items():
    print(f"{norm:>3} under a {kind}: largest change of the output {dev:.1e}")


# %% [markdown] nbgrader={"grade": false, "grade_id": "questions_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 9. Written questions (graded by hand)
#
# Answer in a few sentences each, in the cells below.
#
# **Q1.** Layer norm is the normalization of transformers (hundreds to thousands of features per token). What
# happens to layer norm's output when the number of features $D$ is small — work out $D = 1$ and $D = 2$
# exactly — and what does that imply for using it after a narrow layer?

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_small_d", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** With $D = 1$ the mean is the feature itself, $x - \mu = 0$, and the output is $\beta$ for every
# input: everything is erased (the same failure as BN with a batch of one). With $D = 2$, $x - \mu =
# \pm(x_1 - x_2)/2$ and $\sigma = |x_1 - x_2|/2$, so $\hat x = (\operatorname{sign}(x_1 - x_2), -\operatorname{sign}(x_1 - x_2))$
# (up to $\epsilon$): only *which feature is larger* survives, all magnitude information is gone. In general
# LN removes two degrees of freedom per example (the mean and the scale) out of $D$ and its statistics are
# estimated from $D$ numbers, so with small $D$ it destroys a large share of the information and its statistics
# are noisy — the mirror image of BN with small batches. After a narrow layer (a bottleneck of a few units, a
# 1-channel feature map) LN should not be used; prefer no normalization, BN if batches are large, or normalize
# over more axes (e.g. LN over $(C, H, W)$ in a CNN, or group norm with enough channels per group).

# %% [markdown] nbgrader={"grade": false, "grade_id": "question_norm_choice_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q2.** You fine-tune an image segmentation CNN with **2 images per batch**. Which of batch, layer, instance
# and group norm would you use after the convolutions, with which `dims` of your `normalize`, and why? What does
# instance norm remove that a segmentation network may need?

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_norm_choice", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** Not batch norm (dims `(0, 2, 3)`): with $N = 2$ its statistics are estimates from two images,
# very noisy (error ∝ $1/\sqrt B$, section 6; in the training sweep BN at $B = 2$ could not even fit the
# training data), and training and evaluation see different normalizations. Group
# norm (view as $(N, G, C/G\cdot HW)$, dims `(2,)`, typically $G = 32$) is the usual choice (Wu & He, 2018): its
# statistics come from one image, so they do not depend on the batch size, and each group pools many channels
# and all positions, so they are well estimated. Layer norm over `(1, 2, 3)` ($G = 1$) also works but forces all
# channels to share one mean and scale; instance norm over `(2, 3)` ($G = C$) gives each channel of each image
# zero mean and unit variance over the image, which **removes the per-image contrast and the overall intensity
# of every feature map** — fine for style transfer, where that is the point, but harmful when the absolute
# strength of a feature (is there any "road" in this image at all?) carries information for the labels.


# %% [markdown] nbgrader={"grade": false, "grade_id": "question_bn_two_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q3.** In the training sweep, BN's training loss at $B = 2$ stays near 1.8 while LN's falls to about 0.2.
# Work out what a BN layer (train mode, $\gamma = 1$, $\beta = 0$) outputs for a batch of exactly two rows, and
# explain the training curve with it. A classmate proposes to evaluate the $B = 2$ network in train mode, on
# validation batches of two, "so that training and evaluation match". What would the prediction for a digit
# then depend on, and would it fix the problem?

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_bn_two", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** For two rows, per feature, $\mu = (x_1 + x_2)/2$ and the biased variance is
# $\sigma^2 = ((x_1 - x_2)/2)^2$, so $\hat x_1 = \frac{(x_1 - x_2)/2}{\sqrt{((x_1 - x_2)/2)^2 + \epsilon}} \approx
# \operatorname{sign}(x_1 - x_2)$ and $\hat x_2 = -\hat x_1$: every feature becomes $\pm 1$, telling only which of the
# two examples is larger. All magnitude information is erased in every BN layer, and what is left depends as
# much on the batch-mate as on the example; the layers after BN get one bit per feature, so the network cannot
# fit the labels (the loss stays far above LN's; $\ln 10 \approx 2.3$ would be chance). LN normalizes each
# example over its 64 features: it removes 2 of 64 degrees of freedom, the same in every batch. Evaluating in
# train mode on pairs would make the prediction for a digit depend on which other digit it is paired with
# (the same image gets different predictions in different pairs), and it would be as poor as the training
# fit — it does not fix anything. Remedies: LN/group norm, larger batches, or batch renormalization.


# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * Layer norm normalizes each example over its **features**: the statistics have shape $(\dots, 1)$
#   (`keepdim=True`), the variance is biased, $\varepsilon$ sits inside the square root.
# * It keeps **no running statistics**: the same output in training and evaluation, for a batch of one and
#   inside any batch — which is why transformers and recurrent nets use it.
# * Its backward is batch norm's with the axes swapped; $\partial L/\partial\gamma$ and
#   $\partial L/\partial\beta$ still sum over all examples.
# * Weight norm moves the normalization to the weights: $w_i = g_i v_i / \lVert v_i \rVert$, one norm per
#   output row (dim 0).
# * Batch, layer, instance and group norm are one operation over different axes; BN's batch statistics carry a
#   noise that shrinks like $1/\sqrt B$, the others have none from the batch.
# * RMSNorm divides by the root mean square only: scale invariant, not shift invariant, one reduction cheaper.
# * Trained with tiny batches, BN fails (here 0.64 validation accuracy at $B = 2$ against 0.95 at $B = 64$;
#   it cannot even fit the training data), while LN hardly notices the batch size (0.94 vs 0.96).
