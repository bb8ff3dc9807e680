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
# 5. `decay_pull` — an experiment that shows why `Adam(weight_decay=...)` is **not** `AdamW`.
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
# The cell below runs both on the same model and prints the largest difference (the `l2_penalty` check proves the same
# on other models).

# %% nbgrader={"grade": false, "grade_id": "equiv_code", "locked": true, "schema_version": 3, "solution": false, "task": false}
def demo_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))

g = torch.Generator().manual_seed(0)
x_demo, y_demo = torch.randn(32, 5, generator=g), torch.randint(0, 3, (32,), generator=g)
lam, lr = 0.1, 0.2

penalized = sgd_on_penalized_loss(demo_model(), x_demo, y_demo, lr, lam, steps=10)

model = demo_model()
decay = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
rest = [p for p in model.parameters() if all(p is not w for w in decay)]
opt = torch.optim.SGD([{"params": decay, "weight_decay": lam}, {"params": rest, "weight_decay": 0.0}], lr=lr)
for _ in range(10):
    opt.zero_grad()
    F.cross_entropy(model(x_demo), y_demo).backward()
    opt.step()
decayed = {n: p.detach() for n, p in model.named_parameters()}
print("largest |difference| per parameter:")
for n in penalized:
    print(f"  {n:<10} {(penalized[n] - decayed[n]).abs().max().item():.2e}")


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


# %% nbgrader={"grade": true, "grade_id": "check_ridge_fit", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
points = check("ridge_fit")
### BEGIN HIDDEN TESTS
points += check("ridge_fit", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "poly_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### The polynomial-overfit example
#
# Ten noisy samples of $\sin(2\pi x)$, fitted with a degree-9 polynomial: with $\lambda = 0$ the curve passes through every
# point and swings wildly between them; a little ridge penalty tames it; too much flattens it towards the mean (not towards
# 0 — the intercept is free).

# %% nbgrader={"grade": false, "grade_id": "poly_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt

g = torch.Generator().manual_seed(1)
x_pts = torch.linspace(0, 1, 10, dtype=torch.float64)
y_pts = torch.sin(2 * math.pi * x_pts) + 0.2 * torch.randn(10, generator=g, dtype=torch.float64)
x_grid = torch.linspace(0, 1, 200, dtype=torch.float64)
print("data set: 10 seeded noisy samples of sin(2*pi*x), degree-9 polynomial features")

def poly(x, degree=9):
    return torch.stack([x ** k for k in range(1, degree + 1)], dim=1)

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(x_grid, torch.sin(2 * math.pi * x_grid), "k--", lw=1, label="sin(2πx)")
ax.scatter(x_pts, y_pts, color="k", zorder=3)
for lam_ in (0.0, 1e-4, 1e-1, 10.0):
    w, b = ridge_fit(poly(x_pts), y_pts, lam_)
    ax.plot(x_grid, poly(x_grid) @ w + b, label=f"λ = {lam_:g}  (|w| = {w.norm():.3g})")
ax.set_ylim(-2, 2); ax.legend(fontsize=8); ax.set_title("ridge regression, degree 9")
plt.show()


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

# %% [markdown] nbgrader={"grade": false, "grade_id": "hist_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 7. Experiment: L1 vs L2 weight histograms
#
# Same small network, same data, same seed, trained three times: without a penalty, with `l1_penalty` and with
# `l2_penalty`. L2 shrinks the weights smoothly (a narrower bell); L1 piles many weights up at (almost) exactly 0 and
# leaves a few large ones — sparsity. (Plain SGD on $|w|$ oscillates around 0 rather than landing on it; proximal methods
# set such weights to exactly 0.)

# %% nbgrader={"grade": false, "grade_id": "hist_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from sklearn.datasets import make_classification

X_np, y_np = make_classification(n_samples=600, n_features=20, n_informative=5, n_redundant=5, random_state=0)
X_all = torch.tensor(X_np, dtype=torch.float32)
y_all = torch.tensor(y_np, dtype=torch.int64)
print(f"data set: scikit-learn make_classification (seeded, random_state=0), {len(X_all)} examples, "
      f"{X_all.shape[1]} features, 2 classes")

def train(penalty_fn, lam, steps=300, lr=0.1):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(net(X_all), y_all)
        if penalty_fn is not None:
            loss = loss + penalty_fn(net, lam)
        loss.backward()
        opt.step()
    acc = (net(X_all).argmax(1) == y_all).float().mean().item()
    return net[0].weight.detach().flatten(), acc

runs = {"no penalty": train(None, 0.0), "L1 (λ=3e-3)": train(l1_penalty, 3e-3), "L2 (λ=3e-2)": train(l2_penalty, 3e-2)}
fig, axes = plt.subplots(1, 3, figsize=(11, 3), sharex=True, sharey=True)
for ax, (name, (w, acc)) in zip(axes, runs.items()):
    ax.hist(w.numpy(), bins=60, range=(-0.6, 0.6))
    near0 = (w.abs() < 1e-2).float().mean().item()
    ax.set_title(f"{name}\ntrain acc {acc:.2f}, |w|<0.01: {near0:.0%}", fontsize=9)
    print(f"{name:<12} train acc {acc:.3f}  mean |w| {w.abs().mean():.4f}  share |w| < 0.01: {near0:.1%}")
axes[0].set_ylabel("count"); axes[1].set_xlabel("first-layer weight")
plt.tight_layout(); plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * L2 $=\frac{\lambda}{2}\sum w^2$ (gradient $\lambda w$), L1 $=\lambda\sum|w|$ (gradient $\lambda\operatorname{sign} w$), over
#   weights only — not biases, not norm parameters.
# * With SGD, an L2 penalty and weight decay are the same update; with Adam they are not — use **AdamW** for weight decay.
# * Use parameter groups so the optimizer's weight decay skips biases and norm parameters.
# * Ridge regression is the closed-form L2 case; leave the intercept unpenalized.
