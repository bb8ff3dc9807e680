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
#     assignment: 05_dropout
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 05 · Dropout
#
# Dropout (Srivastava, Hinton et al., 2014) zeroes every hidden unit independently with probability $p$ at
# each training step. Each step therefore trains a different "thinned" sub-network, and all of them share
# the weights: a network with $n$ droppable units is an ensemble of $2^n$ networks trained together.
# No unit can rely on a particular other unit being present, so co-adapted feature detectors are
# discouraged. At test time we want the ensemble's average, and the cheap approximation is to keep every
# unit and use the **expected** activation — which is why dropout acts differently in train and eval mode.
#
# In this assignment you
#
# 1. work through the lecture's **by-hand** example: masks from given random numbers, scaled activations,
#    the MSE gradient, one real SGD step through the masks, and inference;
# 2. write `dropout_forward` / `dropout_backward` as plain functions;
# 3. fill in `build_model_do`, the FashionMNIST MLP with dropout (the lecture's "fill in `model_do`");
# 4. build `CNNWithBNDropout`, a small CNN with batch norm and two dropout layers;
# 5. run experiments: dropout vs none on a small training set, decision boundaries, dropout as input noise,
#    dropout with weight decay, MC-dropout uncertainty, and how dropout shifts batch norm's statistics.
#
# **Conventions (fixed for the whole course, as in `torch.nn.Dropout`)**
#
# * `p` is the **drop** probability: a unit is zeroed with probability $p$ and kept with probability $1-p$.
# * **Inverted dropout**: kept units are scaled by $\frac1{1-p}$ during training, so the expected activation
#   is unchanged, $\mathbb E[h'] = h$, and **eval mode is the identity** (nothing to rescale at test time).
# * The **keep mask** is `torch.rand(x.shape, generator=generator) >= p` (`True` = kept): one uniform number
#   per element, drawn in the default dtype (float32) in row-major order, from the `generator` you are given
#   (the global generator when it is `None`). `p = 0` keeps everything; `p = 1` drops everything and the
#   output is all zeros (not NaN).
#
# Some courses and libraries use the **keep** probability instead. Know which one you read:
#
# | source | symbol | meaning | scale of kept units | "keep half" |
# |---|---|---|---|---|
# | CS231n `dropout_forward` | `p` | keep probability | $1/p$ | `p = 0.5` |
# | deeplearning.ai (Ng) | `keep_prob` | keep probability | $1/\text{keep\_prob}$ | `keep_prob = 0.5` |
# | Srivastava et al. (2014) | $p$ | keep (retain) probability | weights $\times p$ at test time | $p = 0.5$ |
# | Keras `Dropout(rate)` | `rate` | drop probability | $1/(1-\text{rate})$ | `rate = 0.5` |
# | PyTorch `nn.Dropout(p)`, **this course** | `p` | **drop** probability | $1/(1-p)$ | `p = 0.5` |
#
# A CS231n `p = 0.8` is our `p = 0.2`. Translating one into the other without flipping it is the
# classic "keep/drop swapped" mistake.
#
# After each exercise, a **self-check** cell runs the visible checks; hidden checks (other shapes, seeds and
# probabilities) run when you submit.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from autograder import check
from autograder.data import load_source_data

REGNORM_ASSIGNMENT = "05_dropout"
torch.set_num_threads(1)

# %% [markdown] nbgrader={"grade": false, "grade_id": "by_hand_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. Dropout by hand
#
# The lecture's worksheet network is `Linear(2, 4) → ReLU → Dropout(p1=0.5) → Linear(4, 3) → ReLU →
# Dropout(p2=0.33) → Linear(3, 2)`, trained on two examples. **Rows are examples** everywhere: `X` is
# `(2, 2)` (row $i$ = example $i$), the targets $Y'$ are `(2, 2)` with row $i$ = the two target outputs of
# example $i$, and a linear layer computes $XW^\top + b$.
#
# **Forward pass (training)**, with keep masks $M_1$ `(N, 4)` and $M_2$ `(N, 3)`:
#
# $$
# H_1 = \max(XW_1^\top + b_1, 0),\qquad A_1 = \frac{H_1 \odot M_1}{1-p_1},\qquad
# H_2 = \max(A_1W_2^\top + b_2, 0),\qquad A_2 = \frac{H_2 \odot M_2}{1-p_2},\qquad
# Y = A_2W_3^\top + b_3 .
# $$
#
# **Masks.** The worksheet keeps a unit when its random number is $> p$; the course rule is `rand >= p`.
# They differ only when a number equals $p$ exactly, which does not happen here (the cell below checks it).
# Our masks, like `nn.Dropout`'s, are drawn **per example**: the random numbers are consumed layer by layer
# in forward order, each layer's `(N, units)` mask filled row by row — the first 8 numbers give $M_1$ and
# the next 6 give $M_2$, exactly as `torch.rand((2, 4), generator=g)` then `torch.rand((2, 3), generator=g)`
# would. (The paper worksheet draws one mask per layer and shares it by both examples; its layer-1 mask
# $[◯, ╳, ◯, ╳]$ is our first row.) The last 3 numbers are not needed.
#
# **Loss.** We use the **summed** squared error over both examples and both outputs,
#
# $$ L = \sum_{i}\sum_{k} (Y_{ik} - Y'_{ik})^2, \qquad \frac{\partial L}{\partial Y} = 2\,(Y - Y'), $$
#
# which is the worksheet's gradient formula $2(Y-Y')$ exactly (a *mean* over the 4 entries would divide
# the loss and every gradient by 4).
#
# **One SGD step.** The worksheet jumps to hand-picked "goal" weights; we compute the real gradient of $L$
# with **autograd through the masks** — a unit that is dropped for every example gets exactly zero gradient
# for its incoming weights and bias — and take one step $\theta \leftarrow \theta - \text{lr}\,
# \partial L/\partial\theta$ with `lr = 0.001`. The scale factors are exact: $1/(1-0.33) = 1.4925\ldots$,
# not the worksheet's rounded $1.5$.
#
# **Inference** on the unseen examples uses the updated weights and **identity masks**: no unit is dropped
# and nothing is rescaled (inverted dropout already did the rescaling during training).
#
# The numbers are in `source_data/dropout_by_hand.json`.

# %% nbgrader={"grade": false, "grade_id": "by_hand_data", "locked": true, "schema_version": 3, "solution": false, "task": false}
data = load_source_data("dropout_by_hand")
X_train, X_unseen, Y_target = (torch.tensor(data[k], dtype=torch.float32) for k in ("X_train", "X_unseen", "Y_target"))
params = {k: torch.tensor(data[k], dtype=torch.float32) for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
p1, p2, lr = data["p1"], data["p2"], data["lr"]
numbers = torch.tensor(data["random_numbers"], dtype=torch.float32)
rand1 = numbers[:8].reshape(2, 4)   # layer 1: row i = example i
rand2 = numbers[8:14].reshape(2, 3)  # layer 2
# The worksheet's rule (> p) and the course's (>= p) agree on these numbers: none equals its layer's p.
assert torch.equal(rand1 > p1, rand1 >= p1) and torch.equal(rand2 > p2, rand2 >= p2)
print("rand1 =", rand1, "\nrand2 =", rand2, "\np1 =", p1, " p2 =", p2, " lr =", lr)


# %% nbgrader={"grade": false, "grade_id": "dropout_by_hand", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dropout_by_hand(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen):
    """
    The worksheet's training step and inference, returning every intermediate value.

    Network: Linear(W1, b1) -> ReLU -> dropout(p1) -> Linear(W2, b2) -> ReLU -> dropout(p2) -> Linear(W3, b3).

    Inputs:
    - X: tensor (N, D_in), one training example per row.
    - Y_target: tensor (N, D_out), row i = the targets of example i.
    - params: dict with "W1" (H1, D_in), "b1" (H1,), "W2" (H2, H1), "b2" (H2,), "W3" (D_out, H2), "b3" (D_out,);
      a linear layer computes A @ W.T + b. Do not modify these tensors.
    - rand1: tensor (N, H1) of uniform numbers for the layer-1 mask; rand2: tensor (N, H2) for layer 2.
    - p1, p2: drop probabilities of the two dropout layers (keep a unit where rand >= p).
    - lr: learning rate of the SGD step.
    - X_unseen: tensor (M, D_in), examples for inference.

    Returns a dict:
    - "mask1" (N, H1), "mask2" (N, H2): bool keep masks (True = kept).
    - "h1": ReLU(X @ W1.T + b1); "a1": h1 * mask1 / (1 - p1)  (the scaled activations), (N, H1).
    - "h2": ReLU(a1 @ W2.T + b2); "a2": h2 * mask2 / (1 - p2), (N, H2).
    - "y": a2 @ W3.T + b3, (N, D_out).
    - "loss": scalar tensor, the SUMMED squared error ((y - Y_target) ** 2).sum().
    - "dY": dL/dy = 2 * (y - Y_target), (N, D_out).
    - "grads": dict with the same keys as params: dL/dparam, computed with autograd through the masks.
    - "new_params": dict with the same keys: param - lr * grad (new tensors; params stay unchanged).
    - "y_unseen": (M, D_out), inference on X_unseen with new_params and identity masks (no dropout, no scaling).
    """
    # TODO: the keep masks, then the training forward pass through them (with parameters that autograd can
    # differentiate, e.g. clones with requires_grad=True), the summed squared error and dY.
    ### BEGIN SOLUTION
    leaf = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    mask1, mask2 = rand1 >= p1, rand2 >= p2
    h1 = torch.relu(X @ leaf["W1"].T + leaf["b1"])
    a1 = h1 * mask1 / (1 - p1)
    h2 = torch.relu(a1 @ leaf["W2"].T + leaf["b2"])
    a2 = h2 * mask2 / (1 - p2)
    y = a2 @ leaf["W3"].T + leaf["b3"]
    loss = ((y - Y_target) ** 2).sum()
    dY = 2 * (y - Y_target)
    ### END SOLUTION
    # TODO: the gradients of the loss (autograd, through the masks), one SGD step on new tensors, and inference
    # on X_unseen with the new parameters and identity masks.
    ### BEGIN SOLUTION
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in leaf.items()}
    new_params = {k: params[k] - lr * grads[k] for k in params}
    u = torch.relu(X_unseen @ new_params["W1"].T + new_params["b1"])
    u = torch.relu(u @ new_params["W2"].T + new_params["b2"])
    y_unseen = u @ new_params["W3"].T + new_params["b3"]
    ### END SOLUTION
    out = {"mask1": mask1, "mask2": mask2, "h1": h1, "a1": a1, "h2": h2, "a2": a2, "y": y, "loss": loss, "dY": dY,
           "grads": grads, "new_params": new_params, "y_unseen": y_unseen}
    return out


# %% nbgrader={"grade": true, "grade_id": "check_dropout_by_hand", "locked": true, "points": 12.75, "schema_version": 3, "solution": false, "task": false}
points = check("dropout_by_hand")
### BEGIN HIDDEN TESTS
points += check("dropout_by_hand", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "by_hand_show", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
res = dropout_by_hand(X_train, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen)
sym = lambda m: [["◯" if k else "╳" for k in row] for row in m.tolist()]  # noqa: E731
print("mask1 (◯ kept, ╳ dropped):", sym(res["mask1"]), "\nmask2:", sym(res["mask2"]))
for key in ("h1", "a1", "h2", "a2", "y", "dY"):
    print(f"{key}:\n{res[key].detach()}")
print(f"loss (summed squared error): {res['loss'].item():.4f}")
for key in ("W1", "b1", "W2", "b2", "W3", "b3"):
    print(f"dL/d{key}:\n{res['grads'][key]}")
print("units 2 and 4 of layer 1 are dropped for both examples: rows 2 and 4 of dL/dW1 are exactly zero:",
      res["grads"]["W1"][[1, 3]].abs().sum().item() == 0.0)
print("prediction for the unseen examples (identity masks):\n", res["y_unseen"])

# %% [markdown] nbgrader={"grade": false, "grade_id": "forward_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. `dropout_forward`
#
# Training mode, with the keep mask $m$ (`m_i = 1` when `rand_i >= p`, so $P(m_i = 1) = 1 - p$):
#
# $$ \text{out}_i = \frac{m_i\,x_i}{1-p},\qquad
# \mathbb E[\text{out}_i] = \frac{(1-p)\,x_i}{1-p} = x_i,\qquad
# \operatorname{Var}[\text{out}_i] = \frac{p}{1-p}\,x_i^2 . $$
#
# Eval mode returns `x` itself (the identity) and **no mask** (`None`): there is nothing to remember for the
# backward pass, which is the identity too.
#
# Details that the checks look at:
#
# * the mask is exactly `torch.rand(x.shape, generator=generator) >= p` (a **bool** tensor of `x`'s shape,
#   `True` = kept), drawn in float32 even when `x` is float64, so the grader can reproduce it from the same
#   generator seed;
# * `out` has `x`'s dtype and shape; `p = 1` gives zeros, not NaN (`0 / 0`) and no `ZeroDivisionError`;
# * `x` is **never modified** (no `x *= ...`, no `x[~mask] = 0`): the caller may still need it.

# %% nbgrader={"grade": false, "grade_id": "dropout_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dropout_forward(x, p=0.5, train=True, generator=None):
    """
    Forward pass of (inverted) dropout.

    Inputs:
    - x: tensor of any shape (float32 or float64).
    - p: drop probability, 0 <= p <= 1 (a unit is zeroed with probability p).
    - train: True in training mode, False in eval mode.
    - generator: a torch.Generator for the random draw (None: torch's global generator).

    Returns a tuple (out, mask):
    - train: mask = torch.rand(x.shape, generator=generator) >= p, a bool tensor of x's shape (True = kept);
      out = x * mask / (1 - p), with out all zeros when p == 1. Exactly one draw of x.numel() numbers.
    - eval: out = x (the identity) and mask = None; nothing is drawn.
    out has x's shape and dtype; x itself is never modified.
    """
    if train:
        # TODO: draw the keep mask from `generator`, zero the dropped units and scale the kept ones by
        # 1 / (1 - p); when p == 1 every unit is dropped and out is all zeros. Do not modify x.
        ### BEGIN SOLUTION
        mask = torch.rand(x.shape, generator=generator) >= p
        out = torch.where(mask, x / (1 - p), torch.zeros_like(x))  # p == 1: x / 0 is never selected
        ### END SOLUTION
    else:
        # TODO: eval mode: dropout is the identity and there is no mask.
        ### BEGIN SOLUTION
        out, mask = x, None
        ### END SOLUTION
    return out, mask


# %% nbgrader={"grade": true, "grade_id": "check_dropout_forward", "locked": true, "points": 14.5, "schema_version": 3, "solution": false, "task": false}
points = check("dropout_forward")
### BEGIN HIDDEN TESTS
points += check("dropout_forward", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "backward_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. `dropout_backward`
#
# Dropout is elementwise multiplication by the constant $m_i/(1-p)$, so
#
# $$ \frac{\partial L}{\partial x_i} = \frac{m_i}{1-p}\,\frac{\partial L}{\partial \text{out}_i} . $$
#
# The backward pass must **reuse the forward pass's mask**: drawing a new one would send the gradient
# through units that did not take part in the forward pass. Our signature is
# `dropout_backward(dout, mask, p)`: `mask` is the bool mask `dropout_forward` returned (CS231n passes a
# cache holding the mask and the mode; ours is the mask itself plus `p`). A `mask` of `None` means the
# forward pass ran in eval mode, whose backward is the identity. With `p = 1` every gradient is 0.

# %% nbgrader={"grade": false, "grade_id": "dropout_backward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def dropout_backward(dout, mask, p):
    """
    Backward pass of (inverted) dropout.

    Inputs:
    - dout: upstream gradient dL/dout, tensor of the forward input's shape.
    - mask: the mask returned by dropout_forward: a bool tensor of dout's shape (train mode, True = kept)
      or None (eval mode).
    - p: the drop probability used in the forward pass.

    Returns dx, tensor of dout's shape and dtype: dout * mask / (1 - p) in train mode (zeros when p == 1),
    dout in eval mode. dout and mask are not modified. Do not use autograd.
    """
    if mask is not None:
        # TODO: route the gradient through the units the forward pass kept, with the same scale.
        ### BEGIN SOLUTION
        dx = torch.where(mask, dout / (1 - p), torch.zeros_like(dout))
        ### END SOLUTION
    else:
        # TODO: eval mode: the forward pass was the identity.
        ### BEGIN SOLUTION
        dx = dout
        ### END SOLUTION
    return dx


# %% nbgrader={"grade": true, "grade_id": "check_dropout_backward", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
points = check("dropout_backward")
### BEGIN HIDDEN TESTS
points += check("dropout_backward", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "noise_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Look: $\mathbb E[h'] = h$, and dropout as input noise
#
# Inverted dropout is *unbiased* noise: averaged over masks, the dropped-out activation $h'$ equals $h$
# (that is what makes eval mode the identity), and its variance is $\frac{p}{1-p}h^2$. The cell below
# estimates both from 20 000 draws of your `dropout_forward`.
#
# What does that noise do to learning? Take a linear model $\hat y = w^\top x$ with dropout on its inputs,
# $\tilde x = m\odot x/(1-p)$. Averaged over the masks, the squared error splits into the clean error and a
# penalty (d2l §5.6; Wager et al., 2013):
#
# $$ \mathbb E_m\big[(y - w^\top\tilde x)^2\big] = (y - w^\top x)^2 + \frac{p}{1-p}\sum_j w_j^2 x_j^2 . $$
#
# So dropout on the inputs of a linear model is an **L2 penalty scaled per feature by $x_j^2$** — a
# data-dependent ridge. Any noise with the same mean and variance (e.g. multiplicative Gaussian noise
# $\mathcal N(1, \frac{p}{1-p})$, "Gaussian dropout") gives the same expected loss; in deep networks the
# penalty is no longer exactly quadratic, but the intuition carries over: training on noisy copies of the
# hidden activations discourages weights that depend on any single unit.

# %% nbgrader={"grade": false, "grade_id": "noise_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
g = torch.Generator().manual_seed(0)
h = torch.tensor([0.5, -1.0, 2.0, 3.0])
p_demo, draws = 0.3, 20000
out, _ = dropout_forward(h.expand(draws, -1).contiguous(), p_demo, True, g)
print("h                 :", h.tolist())
print("mean of h' (20000):", [round(v, 3) for v in out.mean(0).tolist()])
print("var of h'         :", [round(v, 3) for v in out.var(0).tolist()])
print("p/(1-p) h^2       :", [round(v, 3) for v in (p_demo / (1 - p_demo) * h ** 2).tolist()])

# the expected squared error of a linear model with input dropout = clean error + data-dependent ridge
w, x, y = torch.tensor([1.5, -2.0, 0.5, 1.0]), torch.tensor([1.0, 2.0, -1.0, 0.5]), torch.tensor(0.7)
noisy, _ = dropout_forward(x.expand(draws, -1).contiguous(), p_demo, True, g)
monte_carlo = ((y - noisy @ w) ** 2).mean()
closed_form = (y - w @ x) ** 2 + p_demo / (1 - p_demo) * (w ** 2 * x ** 2).sum()
gaussian = x * (1 + torch.randn(draws, 4, generator=g) * math.sqrt(p_demo / (1 - p_demo)))
print(f"E[(y - w.x~)^2]: Monte Carlo {monte_carlo:.3f}, closed form {closed_form:.3f}, "
      f"Gaussian dropout {((y - gaussian @ w) ** 2).mean():.3f}, clean {(y - w @ x) ** 2:.3f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "model_do_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. Fill in `model_do`: an MLP with dropout
#
# The lecture's exercise: take the FashionMNIST MLP and add dropout. `build_model_do(input_shape,
# num_classes, hidden, p)` returns an `nn.Sequential`
#
# ```
# Flatten → Linear(in, hidden[0]) → ReLU → Dropout(p) → Linear(hidden[0], hidden[1]) → ReLU → Dropout(p) → … → Linear(hidden[-1], num_classes)
# ```
#
# with `in = prod(input_shape)` (784 for `(1, 28, 28)` images). Dropout goes after **every hidden
# activation** and **never after the output layer**: the output layer produces the logits, and zeroing
# logits at random does not regularize anything, it just corrupts the prediction the loss looks at. No
# softmax at the end either: `nn.CrossEntropyLoss` takes logits. Use `nn.Dropout(p)`, so that
# `model.train()` / `model.eval()` switch it on and off.
#
# The notebook then trains it the lecture's way: `torch.optim.Adam(model.parameters(), lr=3e-4)` and
# `nn.CrossEntropyLoss()`.

# %% nbgrader={"grade": false, "grade_id": "build_model_do", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_model_do(input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5):
    """
    The FashionMNIST MLP with dropout after every hidden activation.

    Inputs:
    - input_shape: shape of one example, e.g. (1, 28, 28); the model flattens it to prod(input_shape) features.
    - num_classes: number of output logits.
    - hidden: sequence of hidden widths, one Linear -> ReLU -> Dropout(p) block per entry.
    - p: drop probability of every dropout layer.

    Returns an nn.Sequential: Flatten, then per hidden width Linear, ReLU, Dropout(p), then the output
    Linear(hidden[-1], num_classes). Input (N, *input_shape) -> logits (N, num_classes).
    """
    layers = [nn.Flatten()]
    width = math.prod(input_shape)
    for h in hidden:
        # TODO: append the hidden block: a Linear from `width` to `h` features, its ReLU, and dropout with p.
        ### BEGIN SOLUTION
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(p)]
        ### END SOLUTION
        width = h
    # TODO: append the output layer (logits): no activation and no dropout after it.
    ### BEGIN SOLUTION
    layers.append(nn.Linear(width, num_classes))
    ### END SOLUTION
    return nn.Sequential(*layers)


# %% nbgrader={"grade": true, "grade_id": "check_build_model_do", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
points = check("build_model_do")
### BEGIN HIDDEN TESTS
points += check("build_model_do", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "train_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Train it: dropout vs none on a small training set
#
# The lecture's setting: `torch.optim.Adam(model.parameters(), lr=3e-4)` and `nn.CrossEntropyLoss()` on
# FashionMNIST. To make overfitting visible within a minute of CPU time we train on a **small** training set
# (600 images) and compare `build_model_do(p=0.5)` with the same network at `p=0` (no dropout), watching
# training and validation curves. `load_vision_dataset` downloads FashionMNIST through torchvision; where
# there is no network it says so and falls back to scikit-learn's digits (upsampled to 28×28) — the line
# printed after loading tells you which data set ran.
#
# What to look for: the model without dropout drives its training loss down faster, and the validation curve
# tells whether that is learning or memorizing (the gap between the two). The dropout model's training loss is
# measured in train mode (with dropout), so it sits above what the same weights score in eval mode. In a run
# this short, dropout mostly slows training down; its benefit shows once the plain model starts to overfit,
# which on a small set takes more epochs than this minute-long run (try `epochs=100`). On two moons
# (section 6.1) the effect is plain to see.

# %% nbgrader={"grade": false, "grade_id": "train_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import time

import matplotlib.pyplot as plt
from tqdm.auto import tqdm

from autograder.data import load_vision_dataset

started = time.time()
data_img = load_vision_dataset("fashion_mnist", n_train=600, n_test=1000, seed=0)
print("data set:", data_img.source)


def evaluate(model, x, y, batch=500):
    """Mean cross-entropy and accuracy of `model` in eval mode."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            logits = model(x[i:i + batch])
            loss += F.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
            correct += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return loss / len(y), correct / len(y)


def fit(model, x_tr, y_tr, x_va, y_va, epochs, lr=3e-4, batch=64, weight_decay=0.0, seed=0, desc="training"):
    """Adam (or AdamW when weight_decay > 0) with cross-entropy; returns per-epoch train/val loss and accuracy."""
    torch.manual_seed(seed)
    opt_cls = torch.optim.AdamW if weight_decay else torch.optim.Adam
    opt = opt_cls(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    hist = {k: [] for k in ("train_loss", "val_loss", "train_acc", "val_acc")}
    for _ in tqdm(range(epochs), desc=desc, leave=False):
        model.train()
        perm = torch.randperm(len(y_tr))
        total = 0.0
        for i in range(0, len(y_tr), batch):
            idx = perm[i:i + batch]
            loss = loss_fn(model(x_tr[idx]), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        hist["train_loss"].append(total / len(y_tr))  # train mode: with dropout
        hist["val_loss"].append(evaluate(model, x_va, y_va)[0])
        hist["train_acc"].append(evaluate(model, x_tr, y_tr)[1])
        hist["val_acc"].append(evaluate(model, x_va, y_va)[1])
    return hist


histories = {}
for p_img in (0.0, 0.5):
    torch.manual_seed(0)
    model_img = build_model_do(input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=p_img)
    histories[p_img] = fit(model_img, data_img.x_train, data_img.y_train, data_img.x_test, data_img.y_test,
                           epochs=30, desc=f"MLP p={p_img}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for p_img, hist in histories.items():
    label = "no dropout" if p_img == 0 else f"dropout p={p_img}"
    axes[0].plot(hist["train_loss"], "--", label=f"{label}: train (train mode)")
    axes[0].plot(hist["val_loss"], label=f"{label}: validation")
    axes[1].plot(hist["train_acc"], "--", label=f"{label}: train")
    axes[1].plot(hist["val_acc"], label=f"{label}: validation")
axes[0].set(xlabel="epoch", ylabel="cross-entropy", title=f"Loss ({len(data_img.y_train)} training images)")
axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy (eval mode)")
for ax in axes:
    ax.legend(fontsize=7)
plt.tight_layout()
plt.show()
for p_img, hist in histories.items():
    print(f"p={p_img}: train acc {hist['train_acc'][-1]:.3f}, val acc {hist['val_acc'][-1]:.3f}, "
          f"gap {hist['train_acc'][-1] - hist['val_acc'][-1]:.3f}, best val loss {min(hist['val_loss']):.3f}")
print(f"({time.time() - started:.1f} s)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "cnn_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 5. `CNNWithBNDropout`
#
# The lecture's small CNN for 28×28 grey-scale images is
# `conv 1→32 (3×3, padding 1) → BatchNorm2d(32) → ReLU → 2×2 max-pool → FC 32·14·14→128 → ReLU → dropout →
# FC 128→10`, and the exercise asks for an **extra dropout after the second fully connected layer**. In that
# network the second FC layer *is* the output layer, and dropout after it would zero logits (the mistake of
# section 4). So the exercise's second FC layer is a **hidden** one, inserted before the output layer, and
# the extra dropout follows its activation. The network you build, exactly:
#
# | # | layer | output shape (for `N` images) |
# |---|---|---|
# | 1 | `Conv2d(1, 32, kernel_size=3, padding=1)` | `(N, 32, 28, 28)` |
# | 2 | `BatchNorm2d(32)` → ReLU → `max_pool2d(2)` | `(N, 32, 14, 14)` |
# | 3 | flatten → **FC 1** `Linear(32*14*14, 128)` → ReLU → **dropout(`p1`)** | `(N, 128)` |
# | 4 | **FC 2** `Linear(128, 128)` → ReLU → **dropout(`p2`)** (the exercise's extra dropout) | `(N, 128)` |
# | 5 | **FC 3**, the output layer, `Linear(128, 10)`: logits, nothing after it | `(N, 10)` |
#
# There is no dropout on the convolutional features. Use `nn.Conv2d`, `nn.BatchNorm2d` and `nn.Linear` modules
# (the checks count their parameters and watch them work) and either `nn.Dropout` modules or `F.dropout(h, p,
# training=self.training)`. `model.eval()` must switch both dropouts off and make batch norm use its running
# statistics.

# %% nbgrader={"grade": false, "grade_id": "CNNWithBNDropout", "locked": false, "schema_version": 3, "solution": true, "task": false}
class CNNWithBNDropout(nn.Module):
    """
    conv(1->32, 3x3, pad 1) -> BatchNorm2d -> ReLU -> 2x2 max-pool -> FC1 (6272->128) -> ReLU -> dropout(p1)
    -> FC2 (128->128) -> ReLU -> dropout(p2) -> FC3 (128->10, logits).

    Inputs (constructor):
    - p1: drop probability after FC1's ReLU.
    - p2: drop probability after FC2's ReLU (the exercise's extra dropout).

    forward(x): x of shape (N, 1, 28, 28) -> logits of shape (N, 10).
    """

    def __init__(self, p1=0.5, p2=0.5):
        super().__init__()
        self.p1, self.p2 = p1, p2
        # TODO: create the conv layer, the batch norm, the three Linear layers and the two dropouts.
        ### BEGIN SOLUTION
        self.conv = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 14 * 14, 128)
        self.drop1 = nn.Dropout(p1)
        self.fc2 = nn.Linear(128, 128)
        self.drop2 = nn.Dropout(p2)
        self.fc3 = nn.Linear(128, 10)
        ### END SOLUTION

    def forward(self, x):
        # TODO: the conv block, flatten, then FC1 -> ReLU -> dropout(p1) -> FC2 -> ReLU -> dropout(p2) -> FC3.
        ### BEGIN SOLUTION
        h = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        h = self.drop1(F.relu(self.fc1(h.flatten(1))))
        h = self.drop2(F.relu(self.fc2(h)))
        return self.fc3(h)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_CNNWithBNDropout", "locked": true, "points": 6.5, "schema_version": 3, "solution": false, "task": false}
points = check("CNNWithBNDropout")
### BEGIN HIDDEN TESTS
points += check("CNNWithBNDropout", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "cnn_train_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Train the CNN for a moment
#
# Three epochs on the same small training set (Adam, lr 1e-3, cross-entropy). Note the two evaluations at the
# end: `model.eval()` switches both dropouts off **and** makes batch norm use its running statistics; an
# evaluation left in train mode is noisy (dropout) and depends on the batch it sees (batch statistics).

# %% nbgrader={"grade": false, "grade_id": "cnn_train_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
torch.manual_seed(0)
cnn = CNNWithBNDropout(p1=0.5, p2=0.25)
hist_cnn = fit(cnn, data_img.x_train, data_img.y_train, data_img.x_test, data_img.y_test, epochs=3, lr=1e-3,
               desc="CNN")
print(f"CNN after 3 epochs: train acc {hist_cnn['train_acc'][-1]:.3f}, val acc {hist_cnn['val_acc'][-1]:.3f} (eval mode)")
cnn.train()
with torch.no_grad():
    noisy = [(cnn(data_img.x_test[:200]).argmax(1) == data_img.y_test[:200]).float().mean().item() for _ in range(3)]
print("the same 200 images scored in train mode three times:", [round(a, 3) for a in noisy], "(noisy)")
_ = cnn.eval()

# %% [markdown] nbgrader={"grade": false, "grade_id": "exp_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 6. Experiments
#
# Small, fast data sets that ship with scikit-learn. Each cell runs in seconds.
#
# ### 6.1 Decision boundaries on two moons (deeplearning.ai's picture)
#
# 200 noisy training points, 1000 validation points, a `2 → 128 → 128 → 2` MLP (`build_model_do` with
# `input_shape=(2,)`) trained for 400 full-batch Adam steps with and without dropout. Without dropout the
# boundary bends around individual noisy points; with dropout it is smoother. The table gives train and
# validation accuracy.

# %% nbgrader={"grade": false, "grade_id": "moons_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from sklearn.datasets import make_moons


def moons(n, seed):
    xs, ys = make_moons(n_samples=n, noise=0.3, random_state=seed)
    return torch.tensor(xs, dtype=torch.float32), torch.tensor(ys)


x_mtr, y_mtr = moons(200, 0)
x_mva, y_mva = moons(1000, 1)


def fit_full_batch(model, steps=400, lr=1e-2, weight_decay=0.0, seed=0, desc="moons"):
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in tqdm(range(steps), desc=desc, leave=False):
        model.train()
        loss = F.cross_entropy(model(x_mtr), y_mtr)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


grid_x, grid_y = torch.meshgrid(torch.linspace(-2, 3, 150), torch.linspace(-1.6, 2.1, 150), indexing="xy")
grid = torch.stack([grid_x.flatten(), grid_y.flatten()], 1)
moon_models = {}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
print(f"{'model':<16}{'train acc':>10}{'val acc':>10}{'gap':>8}")
for ax, p_m in zip(axes, (0.0, 0.5)):
    torch.manual_seed(0)
    model_m = fit_full_batch(build_model_do(input_shape=(2,), num_classes=2, hidden=(128, 128), p=p_m),
                             desc=f"moons p={p_m}")
    moon_models[p_m] = model_m
    tr, va = accuracy(model_m, x_mtr, y_mtr), accuracy(model_m, x_mva, y_mva)
    name = "no dropout" if p_m == 0 else f"dropout p={p_m}"
    print(f"{name:<16}{tr:>10.3f}{va:>10.3f}{tr - va:>8.3f}")
    with torch.no_grad():
        prob = F.softmax(model_m(grid), 1)[:, 1].reshape(grid_x.shape)
    ax.contourf(grid_x, grid_y, prob, levels=20, cmap="RdBu_r", alpha=0.6)
    ax.contour(grid_x, grid_y, prob, levels=[0.5], colors="k")
    ax.scatter(x_mtr[:, 0], x_mtr[:, 1], c=y_mtr, cmap="RdBu_r", edgecolors="k", s=18)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=f"{name}: train {tr:.2f}, val {va:.2f}")
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "wd_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 6.2 Dropout and weight decay together
#
# The two regularizers are complementary: weight decay shrinks the weights, dropout injects noise into the
# activations (and, as the input-noise view after section 3 shows, acts like a data-dependent L2 penalty). The original
# dropout paper combined dropout with a max-norm constraint for the same reason. The table trains the moons MLP
# with each combination (AdamW, decoupled weight decay) and reports accuracy and the weights' total L2 norm.

# %% nbgrader={"grade": false, "grade_id": "wd_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
print(f"{'p':>5}{'weight decay':>14}{'train acc':>11}{'val acc':>9}{'||W||':>8}")
for p_m in (0.0, 0.5):
    for wd in (0.0, 0.5):
        torch.manual_seed(0)
        model_m = fit_full_batch(build_model_do(input_shape=(2,), num_classes=2, hidden=(128, 128), p=p_m),
                                 weight_decay=wd, desc=f"p={p_m} wd={wd}")
        norm = math.sqrt(sum((m.weight ** 2).sum().item() for m in model_m if isinstance(m, nn.Linear)))
        print(f"{p_m:>5}{wd:>14}{accuracy(model_m, x_mtr, y_mtr):>11.3f}{accuracy(model_m, x_mva, y_mva):>9.3f}"
              f"{norm:>8.2f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "mc_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 6.3 MC dropout: an uncertainty estimate for free
#
# Gal & Ghahramani (2016): keep dropout **on** at test time and average $T$ stochastic forward passes. The
# mean is an ensemble prediction (it agrees with the eval-mode prediction near the data, less so far from it,
# where the network extrapolates), and the spread across passes is an estimate of the model's uncertainty. We switch only the `nn.Dropout` modules to train mode (a network with batch norm must
# keep its BN layers in eval mode). The uncertainty is largest along the decision boundary and away from the data.

# %% nbgrader={"grade": false, "grade_id": "mc_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
def mc_dropout(model, x, passes=50):
    """Mean and standard deviation of the class-1 probability over `passes` forward passes with dropout on."""
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.train()
    with torch.no_grad():
        probs = torch.stack([F.softmax(model(x), 1)[:, 1] for _ in range(passes)])
    model.eval()
    return probs.mean(0), probs.std(0)


torch.manual_seed(0)
mean_p, std_p = mc_dropout(moon_models[0.5], grid)
with torch.no_grad():
    eval_p = F.softmax(moon_models[0.5](grid), 1)[:, 1]
mean_tr, _ = mc_dropout(moon_models[0.5], x_mtr)
with torch.no_grad():
    eval_tr = F.softmax(moon_models[0.5](x_mtr), 1)[:, 1]
print(f"|MC mean - eval-mode prediction|: mean {(mean_tr - eval_tr).abs().mean():.3f} at the training points, "
      f"largest {(mean_p - eval_p).abs().max():.3f} over the whole grid")
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for ax, values, title in ((axes[0], mean_p, "MC-dropout mean of P(class 1)"),
                          (axes[1], std_p, "MC-dropout std of P(class 1) (uncertainty)")):
    im = ax.contourf(grid_x, grid_y, values.reshape(grid_x.shape), levels=20, cmap="viridis")
    ax.scatter(x_mtr[:, 0], x_mtr[:, 1], c=y_mtr, cmap="RdBu_r", edgecolors="w", s=12)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title)
    fig.colorbar(im, ax=ax)
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "bnshift_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 6.4 Dropout before batch norm shifts BN's statistics ("variance shift")
#
# Li et al. (2019): when dropout feeds a BN layer, BN's running variance is collected in train mode, where
# dropout adds noise (variance $\frac{p}{1-p}h^2$ per unit); in eval mode dropout is off, the input to BN has a
# **smaller** variance than the running statistic, and BN's output no longer has unit variance. The network
# below is `Linear → ReLU → Dropout(p) → Linear → BatchNorm1d`; we let BN collect its running statistics over
# 200 train-mode batches, then compare the running variance with the variance BN actually sees in eval mode.
# The fix is the ordering used in `CNNWithBNDropout`: put dropout **after** the last BN layer.

# %% nbgrader={"grade": false, "grade_id": "bnshift_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
print(f"{'p':>5}{'running_var / eval-time var':>30}{'std of BN output in eval':>27}")
for p_bn in (0.0, 0.2, 0.5):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(p_bn), nn.Linear(64, 32), nn.BatchNorm1d(32))
    with torch.no_grad():
        net.train()
        for _ in range(200):
            net(torch.randn(128, 20))
        net.eval()
        xs_bn = torch.randn(4096, 20)
        pre_bn = net[:4](xs_bn)
        ratio = (net[4].running_var / pre_bn.var(0)).mean().item()
        out_std = net(xs_bn).std(0).mean().item()
    print(f"{p_bn:>5}{ratio:>30.3f}{out_std:>27.3f}")
print("with p > 0, BN's running variance overestimates the eval-time variance, so its eval output has std < 1")

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * `p` is the **drop** probability here (torch, Keras); CS231n and deeplearning.ai use the keep probability.
# * Inverted dropout: keep mask `rand >= p`, kept units scaled by $1/(1-p)$, so $\mathbb E[h'] = h$ and eval
#   mode is the identity; `p = 1` gives zeros.
# * The backward pass reuses the forward mask and scale: $\partial L/\partial x = m\odot\partial L/\partial
#   \text{out}/(1-p)$; dropped units get exactly zero gradient.
# * Dropout goes after hidden activations, never after the output layer; `model.eval()` switches it off.
# * Dropout trains an ensemble of thinned networks; it acts like input noise / a data-dependent L2 penalty,
#   combines well with weight decay, gives uncertainty estimates when left on (MC dropout), and should come
#   after batch norm, not before it.
