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
# 4. `bn_ln_consistency`, which measures how BN and LN depend on the mode and on the batch.
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


# %% nbgrader={"grade": true, "grade_id": "check_LayerNorm", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
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
# The plot takes one example (row 0) and puts it in batches of size $B = 1, 2, 4, \dots, 64$ made of other
# random rows. For each $B$ it shows how far row 0's output is from its output in a batch of 64
# (the "typical" output), for batch norm in training mode and for layer norm. At $B = 1$ batch norm
# returns $\beta$ (here 0) for every feature — the input is erased — and PyTorch's own `BatchNorm1d`
# refuses to run; layer norm gives the same answer for every batch size and in both modes.

# %% nbgrader={"grade": false, "grade_id": "plot_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt

gen = torch.Generator().manual_seed(1)
d = 16
row = torch.randn(1, d, generator=gen) * 2 + 1
pool = torch.randn(63, d, generator=gen) * 2 + 1
ones, zeros = torch.ones(d), torch.zeros(d)

def bn_train(rows, eps=1e-5):
    mu = rows.mean(0, keepdim=True)
    return (rows - mu) / torch.sqrt(rows.var(0, unbiased=False, keepdim=True) + eps)

ref_bn = bn_train(torch.cat([row, pool]))[0]
ref_ln = layernorm_forward(torch.cat([row, pool]), ones, zeros, 1e-5)[0][0]
sizes = [1, 2, 4, 8, 16, 32, 64]
dev_bn, dev_ln = [], []
for b in sizes:
    batch = torch.cat([row, pool[: b - 1]])
    dev_bn.append((bn_train(batch)[0] - ref_bn).abs().max().item())
    dev_ln.append((layernorm_forward(batch, ones, zeros, 1e-5)[0][0] - ref_ln).abs().max().item())

try:
    nn.BatchNorm1d(d).train()(row)
except ValueError as exc:
    print("nn.BatchNorm1d on a batch of one, training mode:", exc)

fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
axes[0].plot(sizes, dev_bn, "o-", label="batch norm (train mode)")
axes[0].plot(sizes, dev_ln, "s-", label="layer norm")
axes[0].set_xscale("log", base=2)
axes[0].set_xlabel("batch size B"); axes[0].set_ylabel("max |out(row 0) - out in a batch of 64|")
axes[0].set_title("how much row 0's output depends on its batch"); axes[0].legend()
j = torch.arange(d)
axes[1].bar(j - 0.27, row[0], 0.27, label="input row")
axes[1].bar(j, bn_train(row)[0], 0.27, label="BN, batch of 1")
axes[1].bar(j + 0.27, layernorm_forward(row, ones, zeros, 1e-5)[0][0], 0.27, label="LN, batch of 1")
axes[1].set_xlabel("feature"); axes[1].set_title("batch size 1: BN erases the input, LN does not")
axes[1].legend()
plt.tight_layout()
plt.show()

print(bn_ln_consistency(torch.cat([row, pool])))

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
