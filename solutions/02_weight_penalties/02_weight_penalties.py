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
#     assignment: 02_weight_penalties
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 02 · Weight penalties: L1, L2, weight decay, ridge regression
#
# Penalizing large weights is the oldest regularizer. In this assignment you write:
#
# 1. `l1_penalty` and `l2_penalty` — the penalty terms you add to a loss;
# 2. `sgd_step_weight_decay` — SGD with weight decay, by hand, matching `torch.optim.SGD(weight_decay=...)`;
# 3. `make_param_groups` — the optimizer parameter groups that decay weights but not biases or norm parameters;
# 4. `ridge_fit` — L2-penalized least squares in closed form, with an unpenalized intercept;
# 5. `decay_pull` — an experiment that shows why `Adam(weight_decay=...)` is **not** `AdamW`;
# 6. `prox_l1_step` — the proximal (soft-thresholding) step that gives L1 its exact zeros.
#
# Then the experiments that show what the penalties buy: ridge's error on **held-out** points against λ, how λ scales
# between mean and summed losses, and a network trained on noisy labels until it overfits, with and without each
# penalty (training vs validation curves, validation accuracy against λ, weight histograms). Two written questions
# close the notebook.
#
# **Conventions for the whole course**
#
# * The L2 penalty is $\frac{\lambda}{2}\sum w^2$ and the L1 penalty is $\lambda \sum |w|$, summed over **weight matrices and
#   conv kernels** (the `weight` of `nn.Linear` / `nn.Conv1d/2d/3d`), **not** over biases and **not** over the parameters of
#   normalization layers (BatchNorm, LayerNorm, GroupNorm).
# * Weight decay in SGD is `p -= lr * (p.grad + wd * p)`; this matches `torch.optim.SGD(weight_decay=wd)`.
# * SGD on `loss + l2_penalty(model, lam)` equals SGD on `loss` with `weight_decay=lam` on the penalized tensors — section 3
#   shows why, and a check proves it.
#
# After each function, a **self-check** cell runs the visible checks. Hidden checks (other models, shapes and seeds) run
# when you submit.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from autograder import check

torch.set_num_threads(1)


# %% [markdown] nbgrader={"grade": false, "grade_id": "penalty_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. The penalties
#
# For a model with parameters $\theta$ and a data loss $\mathcal{L}(\theta)$, a penalized objective is
# $\mathcal{L}(\theta) + \Omega(\theta)$ with
#
# $$
# \Omega_{L2}(\theta) = \frac{\lambda}{2}\sum_{W \in \mathcal{W}} \sum_{ij} W_{ij}^2,
# \qquad
# \Omega_{L1}(\theta) = \lambda\sum_{W \in \mathcal{W}} \sum_{ij} |W_{ij}|,
# $$
#
# where $\mathcal{W}$ is the set of weight matrices and conv kernels. Their gradients with respect to a weight $w$ are
#
# $$
# \frac{\partial \Omega_{L2}}{\partial w} = \lambda w, \qquad \frac{\partial \Omega_{L1}}{\partial w} = \lambda\,\operatorname{sign}(w).
# $$
#
# L2 shrinks each weight *in proportion to its size* (large weights shrink fast, small ones barely move); L1 pushes every
# weight towards 0 by the *same* amount, so small weights reach exactly 0: L1 gives **sparse** weights.
#
# Why not biases? A bias shifts a unit's input; it does not scale how strongly the unit reacts to its inputs, so it does not
# add capacity in the same way, and penalizing it only biases the fit. Norm layers' `weight` and `bias` are a learned scale
# and shift right after a normalization; shrinking them fights the normalization rather than simplifying the model.
#
# Return a **scalar tensor** that stays connected to the weights (no `.item()`, no `torch.tensor(...)` around the sum), so
# `(loss + penalty).backward()` sends the penalty's gradient into the weights.

# %% [markdown] nbgrader={"grade": false, "grade_id": "helper_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# The helper below (given, do not change it) trains a model for a few full-batch SGD steps on
# `cross_entropy + penalty`, calling the `l1_penalty` / `l2_penalty` you write next. The checks of both penalties use it: they compare what it returns with what torch's own
# optimizer does, which tests the penalty's **gradient**, not only its value.

# %% nbgrader={"grade": false, "grade_id": "helper", "locked": true, "schema_version": 3, "solution": false, "task": false}
def sgd_on_penalized_loss(model, x, y, lr, lam, steps, penalty="l2"):
    """
    Plain SGD (no weight decay) on F.cross_entropy(model(x), y) + l1_penalty / l2_penalty(model, lam).

    Inputs:
    - model: a torch.nn.Module (trained in place, in train mode).
    - x, y: a batch of inputs and integer class labels.
    - lr: learning rate; lam: penalty strength; steps: number of full-batch steps.
    - penalty: "l1" or "l2".

    Returns a dict {parameter name: tensor} of the parameters after training.
    """
    penalty_fn = l1_penalty if penalty == "l1" else l2_penalty
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y) + penalty_fn(model, lam)
        loss.backward()
        opt.step()
    return {name: p.detach().clone() for name, p in model.named_parameters()}


# %% nbgrader={"grade": false, "grade_id": "l1_penalty", "locked": false, "schema_version": 3, "solution": true, "task": false}
def l1_penalty(model, lam):
    """
    L1 penalty of a model's weight matrices and conv kernels.

    Inputs:
    - model: a torch.nn.Module.
    - lam: float, the penalty strength (lambda >= 0).

    Returns a scalar (0-dim) tensor lam * sum(|w|), summed over the `weight` of every nn.Linear and
    nn.Conv1d/2d/3d in the model (found with model.modules()). Biases and the parameters of
    normalization layers are NOT penalized. The result is differentiable with respect to the weights.
    """
    ### BEGIN SOLUTION
    total = torch.zeros(())
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            total = total + module.weight.abs().sum()
    return lam * total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_l1_penalty", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
points = check("l1_penalty")
### BEGIN HIDDEN TESTS
points += check("l1_penalty", hidden=True)
### END HIDDEN TESTS
points


# %% nbgrader={"grade": false, "grade_id": "l2_penalty", "locked": false, "schema_version": 3, "solution": true, "task": false}
def l2_penalty(model, lam):
    """
    L2 penalty of a model's weight matrices and conv kernels.

    Inputs:
    - model: a torch.nn.Module.
    - lam: float, the penalty strength (lambda >= 0).

    Returns a scalar (0-dim) tensor (lam / 2) * sum(w**2), summed over the `weight` of every nn.Linear
    and nn.Conv1d/2d/3d in the model. Biases and the parameters of normalization layers are NOT
    penalized. The result is differentiable with respect to the weights (its gradient is lam * w).
    """
    ### BEGIN SOLUTION
    total = torch.zeros(())
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            total = total + (module.weight ** 2).sum()
    return lam / 2 * total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_l2_penalty", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
points = check("l2_penalty")
### BEGIN HIDDEN TESTS
points += check("l2_penalty", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "sgd_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. SGD with weight decay, by hand
#
# One SGD step with weight decay $\text{wd}$ and learning rate $\eta$ updates every parameter $p$ as
#
# $$
# p \leftarrow p - \eta\,\big(\nabla_p \mathcal{L} + \text{wd}\cdot p\big) = (1 - \eta\,\text{wd})\,p - \eta\,\nabla_p\mathcal{L}.
# $$
#
# The second form is why it is called *decay*: before the gradient step, $p$ is multiplied by $1 - \eta\,\text{wd} < 1$.
# This is exactly what `torch.optim.SGD(params, lr, weight_decay=wd)` does.
#
# Three details make or break the implementation:
#
# * The update is **not** part of the model's computation: do it under `with torch.no_grad():` (otherwise autograd refuses
#   to modify a leaf tensor in place, or records the update into the next step's graph).
# * Update **in place** (`p -= ...`, `p.add_(...)`): `p = p - ...` creates a new tensor and leaves the parameter alone.
# * Leave `p.grad` as it is: it belongs to the caller (gradient clipping, logging, and other optimizers may read it).

# %% nbgrader={"grade": false, "grade_id": "sgd_step_weight_decay", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sgd_step_weight_decay(params, lr, weight_decay):
    """
    One in-place SGD step with (coupled) weight decay.

    Inputs:
    - params: a list of leaf tensors with requires_grad=True; each has its gradient in p.grad
      (parameters whose p.grad is None are skipped).
    - lr: float, learning rate.
    - weight_decay: float, the decay coefficient wd.

    Returns nothing. Each parameter is updated in place, under torch.no_grad():
        p -= lr * (p.grad + weight_decay * p)
    p.grad is not modified. Over several steps this matches torch.optim.SGD(params, lr=lr,
    weight_decay=weight_decay).
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * (p.grad + weight_decay * p)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_sgd_step_weight_decay", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
points = check("sgd_step_weight_decay")
### BEGIN HIDDEN TESTS
points += check("sgd_step_weight_decay", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "equiv_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Why SGD on `loss + l2_penalty` *is* weight decay
#
# Take the penalized objective $\mathcal{L}(\theta) + \frac{\lambda}{2}\sum_{w\in\mathcal{W}} w^2$ and do a plain SGD step
# (no weight decay). For a penalized tensor $w$ the gradient is $\nabla_w\mathcal{L} + \lambda w$, so
#
# $$
# w \leftarrow w - \eta\,(\nabla_w\mathcal{L} + \lambda w),
# $$
#
# which is the weight-decay step of section 2 with $\text{wd} = \lambda$. For tensors that are *not* penalized (biases,
# norm parameters) the penalty's gradient is 0: they get a plain SGD step, i.e. weight decay 0. Hence
#
# > SGD on `loss + l2_penalty(model, lam)` $\equiv$ SGD on `loss` with `weight_decay=lam` on the Linear/Conv weights and
# > `weight_decay=0` on everything else,
#
# which is also why the $\frac12$ is there: without it the penalty's gradient is $2\lambda w$, twice the decay.
# Once you have written `make_param_groups` (section 4), a cell there runs both on the same model and prints the largest
# difference (the `l2_penalty` check proves the same on other models).

# %% [markdown] nbgrader={"grade": false, "grade_id": "groups_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. Parameter groups: decay weights, not biases or norm parameters
#
# `torch.optim.SGD(model.parameters(), weight_decay=wd)` decays **every** parameter, biases and norm parameters included.
# To follow the convention, give the optimizer two *parameter groups*:
#
# ```python
# optimizer = torch.optim.SGD(make_param_groups(model, weight_decay=1e-4), lr=0.1)
# ```
#
# Every parameter must be in **exactly one** group: a parameter in no group is never trained, and one in both groups is
# rejected by PyTorch (and would be updated twice).
#
# *How the check identifies your tensors:* parameters cross to the grader as values, so the check builds the same model
# with random values in every parameter (each tensor is unique) and matches each tensor you return to its name. Return the
# model's own parameter tensors (no copies).

# %% nbgrader={"grade": false, "grade_id": "make_param_groups", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_param_groups(model, weight_decay):
    """
    Optimizer parameter groups that decay weight matrices and conv kernels only.

    Inputs:
    - model: a torch.nn.Module.
    - weight_decay: float, the decay of the first group.

    Returns a list of two dicts, in this order:
        [{"params": decay, "weight_decay": weight_decay},
         {"params": no_decay, "weight_decay": 0.0}]
    where `decay` is a list of the `weight` tensors of every nn.Linear and nn.Conv1d/2d/3d, and
    `no_decay` a list of every other parameter (biases, BatchNorm/LayerNorm/GroupNorm weights and
    biases, ...). Each parameter of model.parameters() is in exactly one list (the tensors themselves,
    not copies). The result can be passed to torch.optim.SGD / AdamW directly.
    """
    ### BEGIN SOLUTION
    decay_ids = {id(m.weight) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))}
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if id(p) in decay_ids else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_make_param_groups", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
points = check("make_param_groups")
### BEGIN HIDDEN TESTS
points += check("make_param_groups", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "equiv_demo_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Section 3's claim, run
#
# With your `make_param_groups`, the cell below trains the same model twice: SGD on `loss + l2_penalty(model, lam)`, and
# SGD on `loss` with `make_param_groups(model, weight_decay=lam)`. It prints the largest difference per parameter
# (float32 round-off, about 1e-7).

# %% nbgrader={"grade": false, "grade_id": "equiv_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
def demo_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))

g = torch.Generator().manual_seed(0)
x_demo, y_demo = torch.randn(32, 5, generator=g), torch.randint(0, 3, (32,), generator=g)
lam, lr = 0.1, 0.2

penalized = sgd_on_penalized_loss(demo_model(), x_demo, y_demo, lr, lam, steps=10)

model = demo_model()
opt = torch.optim.SGD(make_param_groups(model, weight_decay=lam), lr=lr)   # your groups: decay weights only
for _ in range(10):
    opt.zero_grad()
    F.cross_entropy(model(x_demo), y_demo).backward()
    opt.step()
decayed = {n: p.detach() for n, p in model.named_parameters()}
print("largest |difference| per parameter:")
for n in penalized:
    print(f"  {n:<10} {(penalized[n] - decayed[n]).abs().max().item():.2e}")


# %% [markdown] nbgrader={"grade": false, "grade_id": "ridge_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 5. Ridge regression in closed form (the polynomial-overfit example)
#
# Linear regression with an intercept, $\hat y = Xw + b$, and an L2 penalty on $w$ **only**:
#
# $$
# \min_{w,b}\; \sum_{i=1}^{N} (x_i^\top w + b - y_i)^2 + \lambda \lVert w\rVert^2 .
# $$
#
# (Here the penalty is $\lambda\lVert w\rVert^2$ without the $\frac12$, the usual ridge convention; the squared error is
# summed, not averaged.) Setting the gradient with respect to $b$ to zero gives $b = \bar y - \bar x^\top w$; substituting
# it, with centred data $X_c = X - \mathbf{1}\bar x^\top$ and $y_c = y - \bar y$:
#
# $$
# w = (X_c^\top X_c + \lambda I)^{-1} X_c^\top y_c, \qquad b = \bar y - \bar x^\top w .
# $$
#
# Equivalently, append a column of ones to $X$ and solve $(A^\top A + \lambda D)\,[w; b] = A^\top y$ with
# $D = \operatorname{diag}(1,\dots,1,0)$: the **0** is what keeps the intercept unpenalized. Penalizing $b$ would pull the
# fitted curve towards $y = 0$, which has nothing to do with its complexity.
#
# Use `torch.linalg.solve` (or `lstsq`), never an explicit inverse.

# %% nbgrader={"grade": false, "grade_id": "ridge_fit", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ridge_fit(X, y, lam):
    """
    Closed-form ridge regression with an unpenalized intercept.

    Inputs:
    - X: tensor of shape (N, D), one example per row (float64 in the checks).
    - y: tensor of shape (N,), the targets.
    - lam: float >= 0, the penalty strength.

    Returns a tuple (w, b): w of shape (D,) and b a 0-dim tensor (both of X's dtype), minimizing
        sum((X @ w + b - y)**2) + lam * sum(w**2).
    The intercept b is not penalized. Computed in closed form (torch.linalg.solve / lstsq).
    """
    ### BEGIN SOLUTION
    x_mean = X.mean(dim=0)
    y_mean = y.mean()
    xc = X - x_mean
    yc = y - y_mean
    a = xc.T @ xc + lam * torch.eye(X.shape[1], dtype=X.dtype)
    w = torch.linalg.solve(a, xc.T @ yc)
    b = y_mean - x_mean @ w
    return w, b
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_ridge_fit", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
points = check("ridge_fit")
### BEGIN HIDDEN TESTS
points += check("ridge_fit", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "poly_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### The polynomial-overfit example, measured on held-out points
#
# Ten noisy samples of $\sin(2\pi x)$, fitted with a degree-9 polynomial: with $\lambda = 0$ the curve passes through every
# point and swings wildly between them; a little ridge penalty tames it; too much flattens it towards the mean (not towards
# 0 — the intercept is free). The left panel shows the fits; the right one *measures* the overfitting: the mean squared
# error on the ten training points and on 200 **held-out** points drawn the same way (same curve, same noise), against λ.
# Training error only grows with λ; held-out error falls, bottoms out, and rises again when the fit underfits.

# %% nbgrader={"grade": false, "grade_id": "poly_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt

g = torch.Generator().manual_seed(1)
x_pts = torch.linspace(0, 1, 10, dtype=torch.float64)
y_pts = torch.sin(2 * math.pi * x_pts) + 0.2 * torch.randn(10, generator=g, dtype=torch.float64)
x_held = torch.rand(200, generator=g, dtype=torch.float64)
y_held = torch.sin(2 * math.pi * x_held) + 0.2 * torch.randn(200, generator=g, dtype=torch.float64)
x_grid = torch.linspace(0, 1, 200, dtype=torch.float64)
print("data set: 10 seeded noisy samples of sin(2*pi*x) to fit, 200 held-out samples; degree-9 polynomial features")


def poly(x, degree=9):
    return torch.stack([x ** k for k in range(1, degree + 1)], dim=1)


def mse(w, b, x, y):
    return ((poly(x) @ w + b - y) ** 2).mean().item()


lams = [0.0] + [10.0 ** k for k in range(-9, 3)]
ridge_train = [mse(*ridge_fit(poly(x_pts), y_pts, l), x_pts, y_pts) for l in lams]
ridge_val = [mse(*ridge_fit(poly(x_pts), y_pts, l), x_held, y_held) for l in lams]
best_ridge = lams[min(range(1, len(lams)), key=lambda i: ridge_val[i])]
print(f"held-out MSE: λ=0 {ridge_val[0]:.3g}, best λ={best_ridge:g} {min(ridge_val[1:]):.3g}, "
      f"λ={lams[-1]:g} {ridge_val[-1]:.3g}")

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 3.6))
ax.plot(x_grid, torch.sin(2 * math.pi * x_grid), "k--", lw=1, label="sin(2πx)")
ax.scatter(x_held, y_held, s=6, color="0.7", label="held-out points")
ax.scatter(x_pts, y_pts, color="k", zorder=3, label="training points")
for lam_ in (0.0, 1e-4, 1e-1, 10.0):
    w, b = ridge_fit(poly(x_pts), y_pts, lam_)
    ax.plot(x_grid, poly(x_grid) @ w + b, label=f"λ = {lam_:g}  (|w| = {w.norm():.3g})")
ax.set_ylim(-2, 2); ax.legend(fontsize=7, loc="lower left"); ax.set_title("ridge regression, degree 9")
ax.set_xlabel("x"); ax.set_ylabel("y")
ax2.plot(lams[1:], ridge_train[1:], "o-", label="training points (10)")
ax2.plot(lams[1:], ridge_val[1:], "s-", label="held-out points (200)")
ax2.axhline(ridge_val[0], color="C1", ls=":", label=f"held-out, λ = 0 ({ridge_val[0]:.2g})")
ax2.axhline(0.04, color="k", ls="--", lw=1, label="noise variance 0.2² (best possible)")
ax2.set_xscale("log"); ax2.set_yscale("log"); ax2.set_xlabel("λ (log scale)"); ax2.set_ylabel("mean squared error")
ax2.set_title("training vs held-out error against λ"); ax2.legend(fontsize=7)
plt.tight_layout(); plt.show()


# %% [markdown] nbgrader={"grade": false, "grade_id": "adam_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 6. `Adam(weight_decay=...)` is not `AdamW`
#
# With SGD, the L2 penalty and weight decay are the same thing (section 3). With adaptive optimizers they are not.
# `torch.optim.Adam(weight_decay=wd)` adds $\text{wd}\cdot w$ to the **gradient**, and that sum is then divided by
# $\sqrt{\hat v} + \epsilon$, the running RMS of the gradients:
#
# $$
# \text{Adam: } g \leftarrow \nabla\mathcal{L} + \text{wd}\,w,\quad w \leftarrow w - \eta\,\frac{\hat m}{\sqrt{\hat v}+\epsilon}
# \qquad\qquad
# \text{AdamW: } w \leftarrow w - \eta\,\text{wd}\,w - \eta\,\frac{\hat m}{\sqrt{\hat v}+\epsilon}.
# $$
#
# In Adam, weights with **large** gradients have a large $\sqrt{\hat v}$, so their decay is divided away; weights with tiny
# gradients are decayed hard. AdamW (*decoupled* weight decay, Loshchilov & Hutter) shrinks every weight by the same factor
# $1-\eta\,\text{wd}$ per step, whatever its gradients.
#
# `decay_pull` measures this on one weight $w$ (starting at 1.0) whose gradient has a fixed size and alternating sign (like
# mini-batch noise): it returns how much further the decay pulled $w$ towards 0, compared with the same run without decay.

# %% nbgrader={"grade": false, "grade_id": "decay_pull", "locked": false, "schema_version": 3, "solution": true, "task": false}
def decay_pull(optimizer, grad_scale, lr, weight_decay, steps):
    """
    How far weight decay pulls a weight towards 0 under Adam(weight_decay) or AdamW.

    Inputs:
    - optimizer: "adam" (torch.optim.Adam) or "adamw" (torch.optim.AdamW); default betas and eps.
    - grad_scale: float > 0, the size of the loss gradient.
    - lr: float, learning rate.
    - weight_decay: float, the decay coefficient.
    - steps: int, number of optimizer steps.

    One parameter w = torch.ones(1, requires_grad=True); at step t = 0, 1, ..., steps - 1 the loss is
    grad_scale * (-1)**t * w (a gradient of size grad_scale with alternating sign). Run this twice,
    each from a fresh w and a fresh optimizer: once with weight_decay=0.0 and once with weight_decay.

    Returns a float: w_final(weight_decay=0.0) - w_final(weight_decay).
    """
    ### BEGIN SOLUTION
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[optimizer]
    finals = []
    for wd in (0.0, weight_decay):
        w = torch.ones(1, requires_grad=True)
        opt = cls([w], lr=lr, weight_decay=wd)
        for t in range(steps):
            opt.zero_grad()
            (grad_scale * (-1) ** t * w).sum().backward()
            opt.step()
        finals.append(w.item())
    return finals[0] - finals[1]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_decay_pull", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
points = check("decay_pull")
### BEGIN HIDDEN TESTS
points += check("decay_pull", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "adam_table", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
scales = [0.01, 0.1, 1.0, 10.0, 100.0]
print(f"{'grad_scale':>10}  {'Adam(wd) pull':>14}  {'AdamW pull':>11}")
for s in scales:
    print(f"{s:>10g}  {decay_pull('adam', s, 0.01, 0.1, 100):>14.5f}  {decay_pull('adamw', s, 0.01, 0.1, 100):>11.5f}")
print("AdamW pulls every weight by the same amount; Adam's pull shrinks as the gradients grow.")

# %% [markdown] nbgrader={"grade": false, "grade_id": "prox_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 7. The proximal L1 step: exact zeros
#
# Section 1 promised that L1 gives **sparse** weights, with many exactly 0. Plain (sub)gradient descent on
# $\lambda|w|$ does not deliver that: each step moves $w$ by $\eta\lambda\operatorname{sign}(w)$, so a small weight jumps
# over 0 and back and oscillates around it, never landing on it. **Proximal gradient descent** (ISTA) splits the step in
# two: a gradient step on the data loss alone, then the *proximal operator* of $\eta\lambda|w|$,
#
# $$
# \operatorname{prox}_{\eta\lambda|\cdot|}(w) = \arg\min_u \Big(\tfrac{1}{2}(u-w)^2 + \eta\lambda|u|\Big)
# = \operatorname{sign}(w)\,\max\big(|w| - \eta\lambda,\; 0\big),
# $$
#
# **soft-thresholding**: every weight moves $\eta\lambda$ towards 0, and a weight closer to 0 than that stops *exactly*
# at 0. (Derivation: for $u>0$ the minimizer is $w-\eta\lambda$, valid if $w>\eta\lambda$; symmetrically for $u<0$;
# otherwise $u=0$.)
#
# Write `prox_l1_step(params, lr, lam)`: apply soft-thresholding with threshold `lr * lam` to every tensor in `params`,
# **in place** and under `torch.no_grad()` (as in section 2), leaving `p.grad` alone. It is applied *after* the
# optimizer's step on the data loss (which must then not include `l1_penalty`).

# %% nbgrader={"grade": false, "grade_id": "prox_l1_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def prox_l1_step(params, lr, lam):
    """
    In-place proximal step of the L1 penalty lam * sum|w| (soft-thresholding).

    Inputs:
    - params: a list of tensors (leaf parameters with requires_grad=True, or plain tensors); p.grad,
      if any, is not used.
    - lr: float > 0, the learning rate of the gradient step this follows.
    - lam: float >= 0, the L1 strength.

    Returns nothing. Every p in params becomes, in place and under torch.no_grad():
        sign(p) * max(|p| - lr * lam, 0)
    so entries with |p| <= lr * lam become exactly 0. p.grad is not modified.
    """
    # TODO: under torch.no_grad(), overwrite every p with its soft-thresholded value (p.copy_(...)).
    ### BEGIN SOLUTION
    with torch.no_grad():
        for p in params:
            p.copy_(torch.sign(p) * torch.clamp(p.abs() - lr * lam, min=0))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_prox_l1_step", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
points = check("prox_l1_step")
### BEGIN HIDDEN TESTS
points += check("prox_l1_step", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "prox_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
w = torch.tensor([-1.0, -0.25, -0.05, 0.0, 0.04, 0.3, 2.0])
print("before:", w.tolist())
prox_l1_step([w], lr=0.1, lam=1.0)           # threshold 0.1
print("after: ", [round(v, 4) for v in w.tolist()], "<- |w| <= 0.1 became exactly 0, the rest moved 0.1 towards 0")

# %% [markdown] nbgrader={"grade": false, "grade_id": "scale_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 8. What λ means depends on the loss: mean vs sum
#
# `F.cross_entropy` (and `F.mse_loss`) **average** over the batch by default. Compare
#
# $$
# \underbrace{\frac{1}{N}\sum_{i=1}^N \ell_i(\theta) + \frac{\lambda}{2}\lVert w\rVert^2}_{\text{mean loss (this course)}}
# \qquad\text{and}\qquad
# \underbrace{\sum_{i=1}^N \ell_i(\theta) + \frac{\lambda'}{2}\lVert w\rVert^2}_{\text{sum loss (ridge in section 5)}} .
# $$
#
# The second is $N$ times the first when $\lambda' = N\lambda$: same minimizer, same gradient direction. So a λ tuned
# with a mean loss must be multiplied by $N$ for a summed loss (ridge's λ = 1 on 10 points is a mean-loss λ of 0.1),
# and with a mean loss the *effective* strength of a fixed λ relative to the data grows as the data set shrinks —
# exactly what a prior should do (less data, more prior). The cell below checks this numerically on ridge: fitting with
# the summed loss and $\lambda'$, and by gradient descent on the mean loss with $\lambda'/N$ (same $\frac12$-free
# convention), lands on the same weights.

# %% nbgrader={"grade": false, "grade_id": "scale_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
g = torch.Generator().manual_seed(3)
X_s = torch.randn(40, 5, generator=g, dtype=torch.float64)
y_s = X_s @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0], dtype=torch.float64) + 0.3 * torch.randn(40, generator=g,
                                                                                               dtype=torch.float64)
lam_sum = 4.0
w_sum, b_sum = ridge_fit(X_s, y_s, lam_sum)                    # sum((Xw+b-y)^2) + lam_sum * |w|^2
w_gd = torch.zeros(5, dtype=torch.float64, requires_grad=True)
b_gd = torch.zeros((), dtype=torch.float64, requires_grad=True)
opt = torch.optim.SGD([w_gd, b_gd], lr=0.1)
for _ in range(2000):                                           # mean((Xw+b-y)^2) + (lam_sum / N) * |w|^2
    opt.zero_grad()
    (((X_s @ w_gd + b_gd - y_s) ** 2).mean() + lam_sum / len(y_s) * (w_gd ** 2).sum()).backward()
    opt.step()
print(f"ridge, summed loss, λ' = {lam_sum}:      w = {[round(v, 4) for v in w_sum.tolist()]}")
print(f"GD,    mean loss,   λ = λ'/N = {lam_sum / len(y_s)}: w = {[round(v, 4) for v in w_gd.detach().tolist()]}")
print(f"largest difference: {(w_sum - w_gd.detach()).abs().max():.1e}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "hist_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 9. Experiment: do the penalties generalize better?
#
# A penalty is only worth its λ if it improves accuracy on data the model was **not** trained on. The set-up makes
# overfitting easy to see:
#
# * **Data**: scikit-learn's `make_classification` (seeded; 1,000 examples, 20 features of which 5 informative and 5
#   redundant, **20 % of the labels randomized** — `flip_y=0.2`, so no model can be right on all of them), split with
#   01's convention: `split_data(x, y, ratios=(0.3, 0.35, 0.35), seed=0)` → 300 training rows, 350 validation rows (the
#   test split is not used here).
# * **Model**: an MLP 20 → 128 → 2, plain full-batch SGD (lr 0.5, no momentum, so SGD + `prox_l1_step` is exactly
#   proximal gradient descent) for 600 steps — long enough for the unpenalized net to fit every training label, noise
#   included.
# * **Runs**: no penalty; `l1_penalty` and `l2_penalty` over a λ grid; and L1 by **proximal** steps (`prox_l1_step` on
#   the Linear weights after each SGD step on the data loss) at the λ that L1 liked best. Same seed, same
#   initialization for every run.
#
# The figures: training and validation accuracy along training per penalty; validation accuracy against λ (log axis);
# histograms of the first layer's weights — *including the initial weights*, so you can see what training changed.

# %% nbgrader={"grade": false, "grade_id": "hist_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from sklearn.datasets import make_classification
from tqdm.auto import tqdm


def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    """01's split_data (given): one torch.randperm from a seeded generator; sizes int(n*r0), int(n*r1), rest."""
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    n_train, n_val = int(x.shape[0] * ratios[0]), int(x.shape[0] * ratios[1])
    cuts = {"train": perm[:n_train], "val": perm[n_train:n_train + n_val], "test": perm[n_train + n_val:]}
    return {name: (x[idx], y[idx]) for name, idx in cuts.items()}


X_np, y_np = make_classification(n_samples=1000, n_features=20, n_informative=5, n_redundant=5, flip_y=0.2,
                                 random_state=0)
parts = split_data(torch.tensor(X_np, dtype=torch.float32), torch.tensor(y_np, dtype=torch.int64),
                   ratios=(0.3, 0.35, 0.35), seed=0)
(x_tr, y_tr), (x_va, y_va) = parts["train"], parts["val"]
print(f"data set: make_classification (random_state=0, flip_y=0.2); {len(y_tr)} train / {len(y_va)} val rows, "
      f"{x_tr.shape[1]} features, 2 classes")

STEPS, LR, EVERY = 600, 0.5, 10


def make_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 128), nn.ReLU(), nn.Linear(128, 2))


def accuracy(net, x, y):
    with torch.no_grad():
        return (net(x).argmax(1) == y).double().mean().item()


def train_run(penalty=None, lam=0.0, prox=False, desc="run"):
    """Returns (first-layer weights after training, {'step', 'train', 'val'} accuracy curves)."""
    net = make_net()
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    weights = [m.weight for m in net.modules() if isinstance(m, nn.Linear)]
    curve = {"step": [], "train": [], "val": []}
    for step in tqdm(range(STEPS + 1), desc=desc, leave=False):
        if step % EVERY == 0:
            curve["step"].append(step)
            curve["train"].append(accuracy(net, x_tr, y_tr))
            curve["val"].append(accuracy(net, x_va, y_va))
        if step == STEPS:
            break
        opt.zero_grad()
        loss = F.cross_entropy(net(x_tr), y_tr)
        if penalty is not None:
            loss = loss + penalty(net, lam)
        loss.backward()
        opt.step()
        if prox:
            prox_l1_step(weights, LR, lam)
    return net[0].weight.detach().flatten().clone(), curve


initial_w = make_net()[0].weight.detach().flatten().clone()
L1_GRID = [3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
L2_GRID = [3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
runs = {("none", 0.0): train_run(desc="no penalty")}
for lam_ in L1_GRID:
    runs[("L1", lam_)] = train_run(l1_penalty, lam_, desc=f"L1 λ={lam_:g}")
for lam_ in L2_GRID:
    runs[("L2", lam_)] = train_run(l2_penalty, lam_, desc=f"L2 λ={lam_:g}")
final_val = {key: curve["val"][-1] for key, (_, curve) in runs.items()}
best = {kind: max(grid, key=lambda l: final_val[(kind, l)]) for kind, grid in (("L1", L1_GRID), ("L2", L2_GRID))}
runs[("prox L1", best["L1"])] = train_run(lam=best["L1"], prox=True, desc="proximal L1")
final_val = {key: curve["val"][-1] for key, (_, curve) in runs.items()}
final_train = {key: curve["train"][-1] for key, (_, curve) in runs.items()}
chosen = [("none", 0.0), ("L1", best["L1"]), ("L2", best["L2"]), ("prox L1", best["L1"])]
for key in chosen:
    w_ = runs[key][0]
    print(f"{key[0]:<8} λ={key[1]:<7g} train acc {final_train[key]:.3f}  val acc {final_val[key]:.3f}  "
          f"exact zeros {(w_ == 0).double().mean():.1%}  |w|<0.01: {(w_.abs() < 0.01).double().mean():.1%}")

# %% nbgrader={"grade": false, "grade_id": "curves_plot", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), sharey=True)
for ax, key in zip(axes, chosen[:3]):
    curve = runs[key][1]
    ax.plot(curve["step"], curve["train"], label="train")
    ax.plot(curve["step"], curve["val"], label="validation")
    ax.set_title(f"{key[0]}" + (f" (λ = {key[1]:g})" if key[1] else "") +
                 f": final val {final_val[key]:.3f}", fontsize=10)
    ax.set_xlabel("SGD step")
axes[0].set_ylabel("accuracy"); axes[0].legend(loc="lower right")
plt.suptitle("training vs validation accuracy (300 noisy training rows)", fontsize=11)
plt.tight_layout(); plt.show()

fig, ax = plt.subplots(figsize=(6.5, 3.4))
for kind, grid, marker in (("L1", L1_GRID, "o"), ("L2", L2_GRID, "s")):
    ax.plot(grid, [final_val[(kind, l)] for l in grid], marker=marker, label=f"{kind} penalty")
ax.axhline(final_val[("none", 0.0)], color="k", ls="--", lw=1, label="no penalty")
ax.scatter([best["L1"]], [final_val[("prox L1", best["L1"])]], marker="*", s=120, color="C2", zorder=3,
           label="L1 by proximal steps")
ax.set_xscale("log"); ax.set_xlabel("λ (log scale)"); ax.set_ylabel("validation accuracy after 600 steps")
ax.set_title("validation accuracy against penalty strength"); ax.legend(fontsize=8)
plt.tight_layout(); plt.show()

fig, axes = plt.subplots(1, 5, figsize=(15, 3), sharex=True)
panels = [("initial weights", initial_w)] + [(f"{k} (λ={l:g})" if l else "no penalty", runs[(k, l)][0])
                                             for k, l in chosen]
for ax, (name, w_) in zip(axes, panels):
    ax.hist(w_.numpy(), bins=60, range=(-0.6, 0.6))
    ax.set_title(f"{name}\nexact 0: {(w_ == 0).double().mean():.0%}, |w|<0.01: {(w_.abs() < 0.01).double().mean():.0%}",
                 fontsize=9)
    ax.set_xlabel("first-layer weight")
axes[0].set_ylabel("count")
plt.tight_layout(); plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "questions_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 10. Written questions (graded by hand)
#
# Answer in a few sentences each, in the cells below, quoting numbers from your runs where they help.
#
# **Q1. L2 as a Gaussian prior.** Show that minimizing a mean cross-entropy plus $\frac{\lambda}{2}\lVert w\rVert^2$ is
# maximum-a-posteriori estimation under a Gaussian prior on the weights. What prior variance corresponds to λ, and what
# prior does the L1 penalty correspond to? Use this to explain why L1 gives exact zeros (with proximal steps) and L2
# does not.

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_gaussian_prior", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** MAP maximizes $p(w\mid D) \propto p(D\mid w)\,p(w)$, i.e. minimizes
# $-\sum_i \log p(y_i\mid x_i,w) - \log p(w)$. With $p(w)=\mathcal N(0,\sigma^2 I)$,
# $-\log p(w) = \frac{1}{2\sigma^2}\lVert w\rVert^2 + \text{const}$, so the objective is
# $\sum_i \ell_i + \frac{1}{2\sigma^2}\lVert w\rVert^2$; dividing by $N$ (a mean loss, same minimizer) gives
# $\frac1N\sum_i\ell_i + \frac{\lambda}{2}\lVert w\rVert^2$ with $\lambda = 1/(N\sigma^2)$: a larger λ is a narrower
# prior (stronger belief that weights are small), and for a fixed prior λ shrinks as $1/N$ — more data, less
# regularization (section 8). L1 is MAP under a Laplace prior $p(w)\propto e^{-|w|/b}$, $\lambda = 1/(Nb)$. The Laplace
# density has a kink (a sharp peak) at 0: the penalty's slope does not vanish near 0, so a weight whose data gradient is
# smaller than λ is pulled all the way to 0 and held there — soft-thresholding makes that exact (our proximal run:
# a large share of the first-layer weights exactly 0). The Gaussian's log-density is flat at 0 (gradient $\lambda w \to 0$),
# so L2 only shrinks weights proportionally and never zeroes them.

# %% [markdown] nbgrader={"grade": false, "grade_id": "question_experiment", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q2. Reading the experiment.** In section 9, how did the unpenalized network's training and validation accuracy
# evolve, and what do the penalties change? Which λ would you report, how did you choose it, and why would you not
# quote that run's validation accuracy as the model's expected accuracy on new data?

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_experiment", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** Without a penalty the training accuracy climbs to (nearly) 100 % — it memorizes the 20 % randomized
# labels — while validation accuracy peaks early and then falls: overfitting. Both penalties keep the training accuracy
# lower (around the share of labels a clean model can get right) and end with higher validation accuracy; too small a λ
# changes nothing, too large a λ underfits (the λ curves turn down on the right). I choose λ by the validation
# accuracy on the log grid (here the best L1 and L2 values printed above), preferably the largest λ within noise of the
# best. But that validation accuracy was used to *select* λ (and 350 rows give a ±4-point 95 % interval, 01's formula),
# so it is optimistically biased: the estimate for new data comes from the untouched test split, or from nested
# cross-validation.

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * L2 $=\frac{\lambda}{2}\sum w^2$ (gradient $\lambda w$), L1 $=\lambda\sum|w|$ (gradient $\lambda\operatorname{sign} w$), over
#   weights only — not biases, not norm parameters.
# * With SGD, an L2 penalty and weight decay are the same update; with Adam they are not — use **AdamW** for weight decay.
# * Use parameter groups so the optimizer's weight decay skips biases and norm parameters.
# * Ridge regression is the closed-form L2 case; leave the intercept unpenalized, and choose λ on held-out points.
# * L1's exact zeros come from the proximal step (soft-thresholding), not from subgradient steps.
# * λ is tied to the loss's scale: a summed loss needs $N$ times the λ of a mean loss.
# * A penalty earns its place on the **validation** split: with noisy labels, both penalties beat the unpenalized net.
