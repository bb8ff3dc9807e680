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
    loss.backward()
    grads = {k: v.grad.detach().clone() for k, v in leaf.items()}
    new = {k: params[k] - lr * grads[k] for k in params}
    u = torch.relu(X_unseen @ new["W1"].T + new["b1"])
    u = torch.relu(u @ new["W2"].T + new["b2"])
    y_unseen = u @ new["W3"].T + new["b3"]
    out = {"mask1": mask1, "mask2": mask2, "h1": h1, "a1": a1, "h2": h2, "a2": a2, "y": y, "loss": loss,
           "dY": dY, "grads": grads, "new_params": new, "y_unseen": y_unseen}
    return {k: (v.detach() if isinstance(v, torch.Tensor) else v) for k, v in out.items()}
    ### END SOLUTION


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
    print(f"{key}:\n{res[key]}")
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
        scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
        out = torch.where(mask, x * scale, torch.zeros_like(x))
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
        scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
        dx = torch.where(mask, dout * scale, torch.zeros_like(dout))
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


# %% nbgrader={"grade": true, "grade_id": "check_CNNWithBNDropout", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
points = check("CNNWithBNDropout")
### BEGIN HIDDEN TESTS
points += check("CNNWithBNDropout", hidden=True)
### END HIDDEN TESTS
points
