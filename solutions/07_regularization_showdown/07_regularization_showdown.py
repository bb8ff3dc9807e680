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
#     assignment: 07_regularization_showdown
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 07 · The regularization showdown
#
# Six multilayer perceptrons, one data set, one training loop: which regularizer closes the gap between
# training and validation accuracy, and at what price? In this assignment you
#
# 1. build the six contenders with **`make_model(kind, ...)`**: `baseline`, `dropout`, `bn` (batch norm),
#    `ln` (layer norm), `l1` and `l2` (weight penalties);
# 2. give each its optimizer and penalty with **`make_training_setup`** (and apply the L2 term exactly once);
# 3. write the two loops every PyTorch project has, **`train_epoch`** and **`evaluate`**, with the mode
#    switches (`model.train()` / `model.eval()`) and `torch.no_grad()` where they belong;
# 4. run the showdown on FashionMNIST with **three seeds and error bars**: train/validation curves, a table of
#    the generalization gap, and the largest usable learning rate with and without BN;
# 5. port the lecture's **Keras model** (Dense → BN, four times, on Iris) to PyTorch with
#    **`port_keras_bn_model`**, minding the two libraries' different BN conventions, and compare BN after vs
#    before the activation;
# 6. answer three written questions (graded by hand): where to insert BN and why, BN in every layer?, and
#    replace dropout by BN?
#
# **Conventions (fixed for the whole assignment)**
#
# * Images are `(N, 1, 28, 28)` float tensors in $[0, 1]$; every model starts with `nn.Flatten()`, so
#   `(N, 784)` inputs work too. Models output **logits** `(N, num_classes)`; the loss is
#   `F.cross_entropy(logits, y)` (mean over the batch), which applies the softmax itself.
# * Weight penalties as in assignment 02: $\Omega_{L1} = \lambda\sum|W|$ and $\Omega_{L2} = \frac\lambda2\sum W^2$,
#   summed over the **weight matrices of the `nn.Linear` layers only** (no biases, no norm parameters).
# * The L2 term is applied **once**, as a penalty added to the loss. The optimizer's own `weight_decay` stays
#   `0` for every kind (section 3 says why).
# * BN uses PyTorch's conventions (`eps=1e-5`, `momentum=0.1` with
#   `running = (1 - momentum) * running + momentum * batch_stat`) except in the Keras port (section 8).
#
# After each exercise a **self-check** cell runs the visible checks; hidden checks (other sizes and seeds)
# run when you submit. The training cells are skipped when grading, so they never cost you points, but run
# them: the written answers at the end are about what they show.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from autograder import check

REGNORM_ASSIGNMENT = "07_regularization_showdown"
torch.set_num_threads(1)  # small models: one thread is fastest (and never fights other processes)

# %% [markdown] nbgrader={"grade": false, "grade_id": "data_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. The data
#
# `load_vision_dataset` (in `autograder/data.py`) asks torchvision for FashionMNIST with `download=True` and
# keeps a seeded random subset: 6000 training and 1000 test images are plenty to see overfitting in a minute.
# **If the download is impossible** (no network), it does not pretend: it prints a warning and falls back
# to scikit-learn's small handwritten-digits set (1797 images of 8×8, upsampled to 28×28, shipped with
# scikit-learn), and `data.source` says which data set ran. **The course's own machines are offline**, so
# there (and in the numbers quoted in this notebook's solution) the *fallback* runs; on your machine, with a
# network, you get FashionMNIST. The numbers you
# get then describe *digits*, not clothes; the story (who overfits, who does not) is the same, only milder,
# because digits are easier. The cell below prints the source line: read it before you read the results.
#
# We split the **training** images into a training part and a validation part. The test images are not used
# for any decision in this notebook (which regularizer, which learning rate): those are decided on
# validation data, and the test set stays untouched for a final, honest number.

# %% nbgrader={"grade": false, "grade_id": "data_load", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from autograder.data import load_vision_dataset

data = load_vision_dataset("fashion_mnist", n_train=6000, n_test=1000, download=True, seed=0)
print("data set that ran:", data.source)
print("classes:", data.classes)

N_VAL = min(1000, len(data.y_train) // 3)  # 1000 of FashionMNIST's 6000; a third of the fallback's images
N_TRAIN = min(1500, len(data.y_train) - N_VAL)  # a small training set, so the baseline overfits quickly
x_train, y_train = data.x_train[:N_TRAIN], data.y_train[:N_TRAIN]
x_val, y_val = data.x_train[N_TRAIN:N_TRAIN + N_VAL], data.y_train[N_TRAIN:N_TRAIN + N_VAL]
print(f"train {tuple(x_train.shape)}, validation {tuple(x_val.shape)}, test {tuple(data.x_test.shape)} (unused)")

# %% nbgrader={"grade": false, "grade_id": "data_show", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt

fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
for ax, img, label in zip(axes.flat, x_train[:16], y_train[:16]):
    ax.imshow(img[0], cmap="gray_r")
    ax.set_title(data.classes[int(label)], fontsize=8)
    ax.axis("off")
fig.suptitle(f"16 training images ({data.source.split(' (')[0]})")
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "models_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. The contenders: `make_model(kind, ...)`
#
# All six are the same MLP with hidden widths $h_1, h_2, \dots$ (default `(256, 128)`) and ReLU activations;
# they differ in what sits around each hidden layer. With $\ell = 1, \dots, L$ the hidden layers and
# $a^{(0)} = \operatorname{flatten}(x)$:
#
# | kind | hidden layer $\ell$ | what it does |
# |---|---|---|
# | `baseline` | $a^{(\ell)} = \operatorname{ReLU}(W_\ell a^{(\ell-1)} + b_\ell)$ | nothing: the reference |
# | `dropout` | $a^{(\ell)} = \operatorname{Dropout}_p(\operatorname{ReLU}(W_\ell a^{(\ell-1)} + b_\ell))$ | zeroes each hidden unit with probability `p` in training (scales the rest by $\frac1{1-p}$), identity in eval |
# | `bn` | $a^{(\ell)} = \operatorname{ReLU}(\operatorname{BN}(W_\ell a^{(\ell-1)}))$ | standardizes each pre-activation over the **batch**, **before** the ReLU; the Linear has **no bias** (BN's $\beta$ replaces it, assignment 03) |
# | `ln` | $a^{(\ell)} = \operatorname{ReLU}(\operatorname{LN}(W_\ell a^{(\ell-1)} + b_\ell))$ | standardizes each example's pre-activations over its **features**, before the ReLU (same in train and eval) |
# | `l1`, `l2` | as `baseline` | the architecture is the baseline's; the regularizer is a **penalty added to the loss** (section 3), not a layer |
#
# The output layer is a plain `Linear(h_L, num_classes)` in every kind: **no** dropout, BN, LN or activation
# after it (the logits must be free to take any value; the softmax is inside `F.cross_entropy`).
#
# In `nn.Sequential` terms, for `hidden=(256, 128)`:
#
# * `baseline`, `l1`, `l2`: `Flatten, Linear(784,256), ReLU, Linear(256,128), ReLU, Linear(128,10)`
# * `dropout`: `Flatten, Linear, ReLU, Dropout(p), Linear, ReLU, Dropout(p), Linear`
# * `bn`: `Flatten, Linear(784,256,bias=False), BatchNorm1d(256), ReLU, Linear(256,128,bias=False), BatchNorm1d(128), ReLU, Linear(128,10)`
# * `ln`: `Flatten, Linear(784,256), LayerNorm(256), ReLU, Linear(256,128), LayerNorm(128), ReLU, Linear(128,10)`
#
# Use PyTorch's modules (`nn.Dropout`, `nn.BatchNorm1d`, `nn.LayerNorm` with their defaults) and PyTorch's
# default initialization. The checks look at the module sequence, the parameter shapes and counts, and the
# output; how you write the loop that builds the layers is up to you.

# %% nbgrader={"grade": false, "grade_id": "make_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
KINDS = ("baseline", "dropout", "bn", "ln", "l1", "l2")


def make_model(kind, hidden=(256, 128), p=0.3, in_features=784, num_classes=10):
    """
    Build one of the showdown's MLPs as an nn.Sequential.

    Inputs:
    - kind: one of KINDS:
      - "baseline": Flatten, then per hidden width h: Linear(d, h), ReLU; then Linear(h_last, num_classes).
      - "dropout": as baseline with nn.Dropout(p) after every hidden ReLU (never after the output layer).
      - "bn": per hidden width h: Linear(d, h, bias=False), nn.BatchNorm1d(h), ReLU -- BN *before* the
        activation, and no bias in the Linear before it.
      - "ln": per hidden width h: Linear(d, h), nn.LayerNorm(h), ReLU -- LN before the activation.
      - "l1", "l2": exactly the baseline architecture. The penalty is not part of the model: it is the
        `penalty` that make_training_setup returns, added to the loss by train_epoch.
    - hidden: tuple of hidden widths (one or more), e.g. (256, 128).
    - p: drop probability of the dropout layers (only used by kind "dropout").
    - in_features: number of input features after flattening (784 for 28x28 images).
    - num_classes: number of outputs (logits).

    Returns an nn.Sequential that starts with nn.Flatten() and ends with the output nn.Linear; it maps
    (N, 1, 28, 28) or (N, in_features) inputs to (N, num_classes) logits.
    Raises ValueError for an unknown kind.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    layers = [nn.Flatten()]
    d = in_features
    for h in hidden:
        # TODO: append the modules of one hidden layer of width h for this kind (see the table above).
        ### BEGIN SOLUTION
        if kind == "bn":
            layers += [nn.Linear(d, h, bias=False), nn.BatchNorm1d(h), nn.ReLU()]
        elif kind == "ln":
            layers += [nn.Linear(d, h), nn.LayerNorm(h), nn.ReLU()]
        else:
            layers += [nn.Linear(d, h), nn.ReLU()]
            if kind == "dropout":
                layers.append(nn.Dropout(p))
        ### END SOLUTION
        d = h
    # TODO: append the output layer.
    ### BEGIN SOLUTION
    layers.append(nn.Linear(d, num_classes))
    ### END SOLUTION
    return nn.Sequential(*layers)


# %% nbgrader={"grade": true, "grade_id": "check_make_model", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
points = check("make_model")
### BEGIN HIDDEN TESTS
points += check("make_model", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "models_show", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
for kind in KINDS:
    model = make_model(kind)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{kind:>8}: {n_params:7d} parameters  ", " -> ".join(type(m).__name__ for m in model[1:]))

# %% [markdown] nbgrader={"grade": false, "grade_id": "setup_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Optimizer and penalty: `make_training_setup`
#
# Every kind trains with Adam. The penalties of `l1` and `l2` are added to the data loss:
#
# $$
# \mathcal L_{\text{total}} = \frac1B\sum_{i=1}^B \operatorname{CE}(f(x_i), y_i) + \Omega(W),\qquad
# \Omega_{L1} = \lambda\sum_\ell\sum_{jk}|W_{\ell,jk}|,\qquad \Omega_{L2} = \frac\lambda2\sum_\ell\sum_{jk}W_{\ell,jk}^2,
# $$
#
# over the weight matrices $W_\ell$ of the `nn.Linear` layers. `make_training_setup(model, kind, lr, lam)`
# returns the optimizer and the penalty: a function `penalty(model)` returning the 0-dim tensor $\Omega$
# (differentiable, so `backward()` reaches the weights), or `None` for the kinds without a penalty.
#
# **Apply the L2 term once.** `torch.optim.Adam(params, lr, weight_decay=wd)` adds `wd * w` to every gradient
# before its update: that *is* an L2 penalty, applied inside the optimizer (to the biases and norm parameters
# too). With the penalty in the loss *and* `weight_decay=lam` in the optimizer, the weights are pulled to zero
# twice as hard as you think (and Adam then rescales the doubled pull per parameter, which is why decoupled
# weight decay, `AdamW`, is a different method — assignment 02). In this assignment the penalty lives in the
# loss, so every optimizer has `weight_decay=0`. Careful: `torch.optim.AdamW`'s default is
# `weight_decay=0.01`, not 0.

# %% nbgrader={"grade": false, "grade_id": "make_training_setup", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_training_setup(model, kind, lr=1e-3, lam=1e-4):
    """
    The optimizer and the weight penalty of one contender.

    Inputs:
    - model: the nn.Module to train (from make_model(kind, ...)); not modified.
    - kind: one of KINDS.
    - lr: Adam's learning rate.
    - lam: penalty strength lambda (used by "l1" and "l2" only).

    Returns a tuple (optimizer, penalty):
    - optimizer: torch.optim.Adam over all of model.parameters() with learning rate lr, default betas and
      eps, and weight_decay=0 for every kind (the L2 term lives in the penalty, never in the optimizer too).
    - penalty: None for "baseline", "dropout", "bn", "ln"; for "l1" and "l2" a function penalty(m) that
      takes a model and returns a 0-dim tensor, differentiable w.r.t. the weights:
      - "l1": lam * sum of |W| over the weight of every nn.Linear in m,
      - "l2": lam / 2 * sum of W**2 over the weight of every nn.Linear in m.
      Biases and the parameters of norm layers are never penalized.
    """
    # TODO: the optimizer: Adam over all parameters, learning rate lr, no weight decay.
    ### BEGIN SOLUTION
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=0.0)
    ### END SOLUTION
    penalty = None
    if kind == "l1":
        def penalty(m):
            # TODO: lam * (sum of |W|) over the weight W of every nn.Linear in m (a 0-dim tensor).
            ### BEGIN SOLUTION
            return lam * sum(mod.weight.abs().sum() for mod in m.modules() if isinstance(mod, nn.Linear))
            ### END SOLUTION
    elif kind == "l2":
        def penalty(m):
            # TODO: lam / 2 * (sum of W**2) over the weight W of every nn.Linear in m (a 0-dim tensor).
            ### BEGIN SOLUTION
            return lam / 2 * sum((mod.weight ** 2).sum() for mod in m.modules() if isinstance(mod, nn.Linear))
            ### END SOLUTION
    return optimizer, penalty


# %% nbgrader={"grade": true, "grade_id": "check_make_training_setup", "locked": true, "points": 6.5, "schema_version": 3, "solution": false, "task": false}
points = check("make_training_setup")
### BEGIN HIDDEN TESTS
points += check("make_training_setup", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "train_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. `train_epoch`: one pass over the training data
#
# One epoch = one pass over `loader`, one optimizer step per mini-batch:
#
# 1. put the model in **training mode** first (`model.train()`): dropout drops, BN normalizes with the
#    batch's statistics and updates its running ones. A model that was just evaluated is in eval mode; forget
#    this and dropout silently stops regularizing, BN stops learning its statistics.
# 2. per batch `(x, y)`: zero the gradients, compute `loss = F.cross_entropy(model(x), y)` and, if a
#    `penalty` is given, add `penalty(model)` **once**; `loss.backward()`; `optimizer.step()`.
#
# The function returns the epoch's mean loss **per example** (the penalty included):
# $\frac{1}{N}\sum_{\text{batches}} B_b\,\mathcal L_b$, with $B_b$ the size of batch $b$ (the last batch may be
# smaller). The progress bar (`tqdm`) is part of the scaffolding; pass `progress=True` to see it.

# %% nbgrader={"grade": false, "grade_id": "train_epoch", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_epoch(model, loader, optimizer, penalty=None, progress=False):
    """
    Train `model` for one epoch.

    Inputs:
    - model: nn.Module mapping x to logits (N, C); whatever mode it is in when called.
    - loader: iterable of (x, y) batches (e.g. a DataLoader); x a float tensor, y int64 labels (N,).
      Iterated exactly once. Do not modify x or y.
    - optimizer: a torch optimizer over model's parameters; stepped once per batch.
    - penalty: None, or a function penalty(model) -> 0-dim tensor, added once to each batch's loss.
    - progress: show a tqdm progress bar.

    Returns the mean training loss per example over the epoch, as a Python float:
    sum over batches of len(y) * loss (loss = mean cross-entropy of the batch + penalty) / number of examples.
    The model is left in training mode.
    """
    # TODO: put the model in the mode that training needs.
    ### BEGIN SOLUTION
    model.train()
    ### END SOLUTION
    total, n_seen = 0.0, 0
    for x, y in tqdm(loader, desc="train", leave=False, disable=not progress):
        # TODO: one optimization step on (x, y): zero the gradients, `loss` = mean cross-entropy
        # (+ penalty(model) when a penalty is given), backward, optimizer step.
        ### BEGIN SOLUTION
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        if penalty is not None:
            loss = loss + penalty(model)
        loss.backward()
        optimizer.step()
        ### END SOLUTION
        total += float(loss.detach()) * len(y)
        n_seen += len(y)
    return total / n_seen


# %% nbgrader={"grade": true, "grade_id": "check_train_epoch", "locked": true, "points": 13, "schema_version": 3, "solution": false, "task": false}
points = check("train_epoch")
### BEGIN HIDDEN TESTS
points += check("train_epoch", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "eval_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 5. `evaluate`: eval mode, no gradients, and the caller's mode restored
#
# Evaluation must measure the model we will deploy: **eval mode** (`model.eval()`: dropout is the identity, BN
# uses its running statistics and does not update them) and **no autograd graph** (`torch.no_grad()`:
# nothing to backpropagate, so no memory is spent on it). Evaluating in training mode is one of the most
# common bugs in PyTorch code: the numbers look plausible, they are just wrong (dropout noise, batch
# statistics), and every evaluation nudges BN's running statistics towards the validation data.
#
# `evaluate` **restores** the mode the model was in (`model.train(was_training)`, in the scaffolding), so it
# can be called in the middle of training without side effects.
#
# It returns the mean cross-entropy **per example** and the accuracy (fraction of examples whose largest
# logit is the true class), over all of `loader`: with uneven batches, the mean of the per-batch means is
# *not* the mean per example — sum per batch (`reduction="sum"`) and divide once.

# %% nbgrader={"grade": false, "grade_id": "evaluate", "locked": false, "schema_version": 3, "solution": true, "task": false}
def evaluate(model, loader):
    """
    Loss and accuracy of `model` on all of `loader`, in eval mode and without autograd.

    Inputs:
    - model: nn.Module mapping x to logits (N, C).
    - loader: iterable of (x, y) batches, iterated exactly once. Do not modify x or y.

    Returns a tuple (loss, accuracy) of Python floats:
    - loss: mean cross-entropy per example over the whole loader,
    - accuracy: fraction of examples with logits.argmax(dim=1) == y, in [0, 1].
    The forward passes run in eval mode under torch.no_grad(); BN's running statistics do not change;
    the model is returned to the mode (train or eval) it was in when evaluate was called.
    """
    was_training = model.training
    # TODO: switch to the mode evaluation needs, then go over the loader once without building an autograd
    # graph: sum the cross-entropy into `total_loss`, count the correct predictions in `correct` and the
    # examples in `n_seen`.
    ### BEGIN SOLUTION
    model.eval()
    total_loss, correct, n_seen = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(dim=1) == y).sum())
            n_seen += len(y)
    ### END SOLUTION
    model.train(was_training)
    return total_loss / n_seen, correct / n_seen


# %% nbgrader={"grade": true, "grade_id": "check_evaluate", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
points = check("evaluate")
### BEGIN HIDDEN TESTS
points += check("evaluate", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "showdown_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 6. The showdown: six regularizers, three seeds
#
# One run = one kind, one seed: `make_model`, `make_training_setup`, then `EPOCHS` times `train_epoch` and
# `evaluate` on the training and the validation part. The seed fixes the initialization, the dropout masks
# and the order of the mini-batches. A single run per regularizer would tell you little: two seeds of the
# *same* model often differ by more than two regularizers do. So every kind runs with **three seeds**, and
# the curves show the mean with a band of ± one standard deviation, the table mean ± std.
#
# The hyperparameters below are reasonable defaults, not tuned: a regularizer that "loses" here might win
# with another `p` or `lam`. The whole cell takes about half a minute on two CPU cores.

# %% nbgrader={"grade": false, "grade_id": "showdown_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from torch.utils.data import DataLoader, TensorDataset

SEEDS = (0, 1, 2)
EPOCHS = 12
BATCH = 64
HPARAMS = {"lr": 1e-3, "p": 0.3, "lam": {"l1": 1e-4, "l2": 1e-2}}


def make_loaders(seed, batch=BATCH):
    shuffled = DataLoader(TensorDataset(x_train, y_train), batch_size=batch, shuffle=True,
                          generator=torch.Generator().manual_seed(seed))
    train_eval = DataLoader(TensorDataset(x_train, y_train), batch_size=512)
    val = DataLoader(TensorDataset(x_val, y_val), batch_size=512)
    return shuffled, train_eval, val


def run(kind, seed, epochs=EPOCHS, bar=None):
    torch.manual_seed(seed)
    model = make_model(kind, p=HPARAMS["p"])
    optimizer, penalty = make_training_setup(model, kind, lr=HPARAMS["lr"], lam=HPARAMS["lam"].get(kind, 0.0))
    shuffled, train_eval, val = make_loaders(seed)
    hist = {"train_acc": [], "val_acc": [], "train_loss": [], "val_loss": []}
    for _ in range(epochs):
        train_epoch(model, shuffled, optimizer, penalty)
        for split, loader in (("train", train_eval), ("val", val)):
            loss, acc = evaluate(model, loader)
            hist[f"{split}_loss"].append(loss)
            hist[f"{split}_acc"].append(acc)
        if bar is not None:
            bar.update(1)
    return hist


histories = {}
with tqdm(total=len(KINDS) * len(SEEDS) * EPOCHS, desc="showdown (epochs)") as bar:
    for kind in KINDS:
        histories[kind] = [run(kind, seed, bar=bar) for seed in SEEDS]


def stack(kind, key):
    return torch.tensor([h[key] for h in histories[kind]])  # (seeds, epochs)


# %% nbgrader={"grade": false, "grade_id": "showdown_plot", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True, sharey=True)
epochs = torch.arange(1, EPOCHS + 1)
for ax, kind in zip(axes.flat, KINDS):
    for key, color in (("train_acc", "C0"), ("val_acc", "C1")):
        s = stack(kind, key)
        mean, std = s.mean(0), s.std(0)
        ax.plot(epochs, mean, color=color, label=key.replace("_acc", "").replace("val", "validation"))
        ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=0.25)
    ax.set_title(f"{kind}: final gap {float((stack(kind, 'train_acc') - stack(kind, 'val_acc'))[:, -1].mean()):.3f}")
    ax.grid(alpha=0.3)
for ax in axes[1]:
    ax.set_xlabel("epoch")
for ax in axes[:, 0]:
    ax.set_ylabel("accuracy")
axes[0, 0].legend(loc="lower right")
fig.suptitle(f"Train vs validation accuracy per regularizer (mean ± std over {len(SEEDS)} seeds; "
             f"{data.source.split(' (')[0]}, {N_TRAIN} training examples)")
plt.tight_layout()
plt.show()

# %% nbgrader={"grade": false, "grade_id": "showdown_table", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
print(f"after {EPOCHS} epochs, mean ± std over seeds {SEEDS}")
print(f"{'kind':>9} | {'train acc':>15} | {'val acc':>15} | {'gap (train - val)':>17} | {'val loss':>15}")
print("-" * 84)
final = {}
for kind in KINDS:
    tr, va = stack(kind, "train_acc")[:, -1], stack(kind, "val_acc")[:, -1]
    gap, vl = tr - va, stack(kind, "val_loss")[:, -1]
    final[kind] = (tr, va, gap)
    print(f"{kind:>9} | {tr.mean():.3f} ± {tr.std():.3f}   | {va.mean():.3f} ± {va.std():.3f}   | "
          f"{gap.mean():+.3f} ± {gap.std():.3f}   | {vl.mean():.3f} ± {vl.std():.3f}")
best = max(KINDS, key=lambda k: float(final[k][1].mean()))
print(f"\nbest mean validation accuracy: {best}; smallest gap: "
      f"{min(KINDS, key=lambda k: float(final[k][2].mean()))}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
xs = range(len(KINDS))
axes[0].bar(xs, [float(final[k][1].mean()) for k in KINDS], yerr=[float(final[k][1].std()) for k in KINDS],
            capsize=4, color="C1")
axes[0].set_ylim(min(float(final[k][1].mean()) for k in KINDS) - 0.05, 1.0)
axes[0].set_ylabel("validation accuracy")
axes[0].set_title("final validation accuracy (error bars: std over seeds)")
axes[1].bar(xs, [float(final[k][2].mean()) for k in KINDS], yerr=[float(final[k][2].std()) for k in KINDS],
            capsize=4, color="C3")
axes[1].set_ylabel("train acc - val acc")
axes[1].set_title("generalization gap (error bars: std over seeds)")
for ax in axes:
    ax.set_xticks(list(xs), KINDS)
    ax.set_xlabel("regularizer")
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "showdown_read_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Reading the table
#
# * **Look at the error bars before the means.** Two regularizers whose mean ± std intervals overlap have not
#   been separated by this experiment; more seeds (or more data) would be needed.
# * **The gap is not the goal; validation accuracy is.** A strong penalty shrinks the gap by lowering the
#   *training* accuracy; that is only a win if the validation accuracy does not drop with it.
# * For reference, the solution's run on the **offline fallback** (digits, 1027 training images, 12 epochs)
#   gave: baseline 0.945 ± 0.024 validation accuracy (gap 0.027), dropout 0.951 ± 0.009 (gap 0.020, and a
#   much smaller spread between seeds), BN 0.977 ± 0.003 (train 0.999, gap 0.021), LN 0.965 ± 0.008,
#   L1 0.947 ± 0.021 and L2 0.939 ± 0.025 (smallest gaps, 0.015 and 0.012, but no better validation
#   accuracy). BN won on validation accuracy, L2 had the smallest gap. On FashionMNIST the baseline overfits
#   more and the differences grow; check whether the ranking holds.

# %% [markdown] nbgrader={"grade": false, "grade_id": "lr_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 7. The largest usable learning rate, with and without BN
#
# A claim from the BN paper: normalized pre-activations let you train with **much larger learning rates**.
# With plain SGD (no momentum, no adaptive scaling that would hide the effect), we train `baseline` and `bn`
# for four epochs at learning rates from $10^{-2}$ to $10$ and record the validation accuracy, three seeds
# each. We call a learning rate *usable* when the run still learns: its loss stays finite and its validation
# accuracy after those four epochs is at least 25 % (2.5 times chance). Beyond the largest usable rate the
# runs blow up or get stuck at chance level. (Small rates are slow with plain SGD and four epochs; that is a
# different problem, which more epochs solve.) In the solution's offline run (digits), the baseline was usable
# up to lr 0.3 and BN up to lr 3 — ten times larger — with BN also far ahead at every small rate. Without BN, a too-large step makes the pre-activations (and the loss)
# blow up; with BN, the scale of the weights does not change the layer's output (BN divides it out), so the
# effective step on the direction of the weights shrinks as they grow.

# %% nbgrader={"grade": false, "grade_id": "lr_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
LRS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
LR_EPOCHS = 4
USABLE = 0.25  # 2.5 x chance for 10 classes
sweep = {}
with tqdm(total=2 * len(LRS) * len(SEEDS), desc="lr sweep (runs)") as bar:
    for kind in ("baseline", "bn"):
        for lr in LRS:
            accs = []
            for seed in SEEDS:
                torch.manual_seed(seed)
                model = make_model(kind)
                opt = torch.optim.SGD(model.parameters(), lr=lr)
                shuffled, _, val = make_loaders(seed)
                for _ in range(LR_EPOCHS):
                    loss = train_epoch(model, shuffled, opt)
                acc = evaluate(model, val)[1] if math.isfinite(loss) else 0.0
                accs.append(acc)
                bar.update(1)
            sweep[kind, lr] = torch.tensor(accs)

fig, ax = plt.subplots(figsize=(6.5, 3.8))
for kind, color in (("baseline", "C0"), ("bn", "C2")):
    means = [float(sweep[kind, lr].mean()) for lr in LRS]
    stds = [float(sweep[kind, lr].std()) for lr in LRS]
    ax.errorbar(LRS, means, yerr=stds, marker="o", capsize=4, color=color, label=kind)
    usable = [lr for lr, m in zip(LRS, means) if m >= USABLE]
    print(f"{kind:>8}: val acc per lr", {lr: round(m, 3) for lr, m in zip(LRS, means)},
          f"-> largest usable lr: {max(usable) if usable else None}")
ax.set_xscale("log")
ax.set_xlabel("learning rate (SGD)")
ax.set_ylabel(f"validation accuracy after {LR_EPOCHS} epochs")
ax.axhline(USABLE, color="gray", linestyle="--", linewidth=1, label="usable threshold")
ax.set_title("Learning-rate sweep, with and without BN (mean ± std, 3 seeds)")
ax.legend()
ax.grid(alpha=0.3)
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "keras_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 8. Porting the lecture's Keras model
#
# The lecture's model for Iris (4 features, 3 classes), in Keras:
#
# ```python
# model = Sequential([
#     Dense(64, activation="relu", input_shape=(4,)), BatchNormalization(),
#     Dense(128, activation="relu"), BatchNormalization(),
#     Dense(128, activation="relu"), BatchNormalization(),
#     Dense(64, activation="relu"), BatchNormalization(),
#     Dense(3, activation="softmax"),
# ])
# model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
# ```
#
# `Dense(64, activation="relu")` is a Linear layer **followed by** its ReLU, so here BN comes **after** the
# activation — the opposite of our `make_model("bn")` and of the BN paper. A faithful port has to translate
# three things:
#
# 1. **Layers.** `Dense(n, activation="relu")` → `nn.Linear(d, n)` (with bias, as Keras's `use_bias=True`) and
#    `nn.ReLU()`. The final `Dense(3, activation="softmax")` → `nn.Linear(64, 3)` **without** a softmax:
#    PyTorch's `F.cross_entropy` takes logits and applies `log_softmax` itself. A `nn.Softmax` at the end
#    would apply it twice (the loss still decreases, but the gradients are squashed and training stalls).
# 2. **BN's momentum has opposite meanings.** Keras updates
#    `moving = momentum * moving + (1 - momentum) * batch_stat` with `momentum=0.99`; PyTorch updates
#    `running = (1 - momentum) * running + momentum * batch_stat` with `momentum=0.1`. The same update is
#    `nn.BatchNorm1d(n, momentum=0.01)` in PyTorch. (Writing `momentum=0.99` in PyTorch would make the running
#    statistics almost equal to the *last* batch's.)
# 3. **BN's epsilon.** Keras uses `epsilon=1e-3`, PyTorch `eps=1e-5`: port `eps=1e-3`.
#
# **We port Keras's BN hyperparameters** (`eps=1e-3`, `momentum=0.01` in PyTorch's convention) so the
# PyTorch model trains like the lecture's. Two differences remain, and we keep PyTorch's behaviour for them
# (say so when you compare numbers with a Keras run): Keras's moving variance is updated with the *biased*
# batch variance, PyTorch's with the unbiased one (a factor $B/(B-1)$ on each update); and Keras initializes
# `Dense` weights with Glorot-uniform and zero biases, PyTorch's `nn.Linear` with a scaled uniform
# (Kaiming, $a=\sqrt5$) for both.
#
# Parameter count, as Keras's `model.summary()` prints it: Dense layers $4\cdot64+64 + 64\cdot128+128 +
# 128\cdot128+128 + 128\cdot64+64 + 64\cdot3+3 = 33\,603$; each BN layer has $4n$ numbers (γ, β, moving mean,
# moving variance), of which $2n$ are trainable: $4\cdot(64+128+128+64) = 1536$. *Total params: 35,139;
# trainable: 34,371; non-trainable: 768.* In PyTorch the trainable ones are `parameters()` (34 371), and the
# moving statistics are the BN **buffers** `running_mean` / `running_var` (768 numbers).
#
# `port_keras_bn_model(bn_before_activation=False)` builds the faithful port; with `bn_before_activation=True`
# it builds the same layers with each BN moved **before** its ReLU (`Linear → BN → ReLU`), to compare the two
# placements. Keep the Linear biases in both variants, so the two models have the same parameters.

# %% nbgrader={"grade": false, "grade_id": "port_keras_bn_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
KERAS_WIDTHS = (64, 128, 128, 64)


def port_keras_bn_model(bn_before_activation=False):
    """
    The lecture's Keras model (input 4, Dense 64/128/128/64 with ReLU, each followed by BatchNormalization,
    Dense 3 softmax) as a PyTorch nn.Sequential.

    Inputs:
    - bn_before_activation: False (the Keras order): per hidden width n, Linear(d, n), ReLU, BatchNorm1d(n).
      True: Linear(d, n), BatchNorm1d(n), ReLU.

    Every nn.Linear keeps its bias. Every BatchNorm1d ports Keras's defaults: eps=1e-3 and Keras's
    momentum 0.99, written in PyTorch's convention (momentum=0.01). The output layer is nn.Linear(64, 3)
    returning logits: no softmax (F.cross_entropy applies it).

    Returns an nn.Sequential mapping (N, 4) to (N, 3).
    """
    layers = []
    d = 4
    for n in KERAS_WIDTHS:
        # TODO: the Linear, BN and ReLU of one hidden layer, in the order bn_before_activation asks for.
        ### BEGIN SOLUTION
        bn = nn.BatchNorm1d(n, eps=1e-3, momentum=0.01)
        if bn_before_activation:
            layers += [nn.Linear(d, n), bn, nn.ReLU()]
        else:
            layers += [nn.Linear(d, n), nn.ReLU(), bn]
        ### END SOLUTION
        d = n
    # TODO: the output layer.
    ### BEGIN SOLUTION
    layers.append(nn.Linear(d, 3))
    ### END SOLUTION
    return nn.Sequential(*layers)


# %% nbgrader={"grade": true, "grade_id": "check_port_keras_bn_model", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
points = check("port_keras_bn_model")
### BEGIN HIDDEN TESTS
points += check("port_keras_bn_model", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "keras_conventions", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
# Check the momentum translation: one train-mode batch through the ported model, and Keras's update rule
# (moving = 0.99 * moving + 0.01 * batch_mean) computed by hand on the first BN layer's input.
torch.manual_seed(0)
keras_port = port_keras_bn_model()
x_demo = torch.randn(16, 4)
keras_port.train()
keras_port(x_demo)
h = torch.relu(keras_port[0](x_demo))  # what the first BN layer saw
keras_rule = 0.99 * torch.zeros(64) + (1 - 0.99) * h.mean(0)
bn_layers = [m for m in keras_port if isinstance(m, nn.BatchNorm1d)]
print("eps / momentum of the BN layers:", {(m.eps, m.momentum) for m in bn_layers})
print("running_mean == Keras's moving_mean update:", torch.allclose(bn_layers[0].running_mean, keras_rule))
print("trainable parameters:", sum(p.numel() for p in keras_port.parameters()),
      "| BN moving statistics (buffers):", sum(m.running_mean.numel() + m.running_var.numel() for m in bn_layers))

# %% [markdown] nbgrader={"grade": false, "grade_id": "iris_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### BN after vs before the activation, on Iris
#
# Iris (150 flowers, 4 measurements, 3 species) ships with scikit-learn. We standardize the features with the
# training part's mean and std, hold out 30 % for validation (stratified), and train both placements with
# Adam (lr $10^{-3}$, as Keras's default), batch size 16, for 60 epochs, five seeds each. On a data set
# this small the two placements usually end up close; watch the *speed* in the first epochs and the
# spread between seeds rather than the last digit. (Solution's run: BN after ReLU 0.982 ± 0.010, BN before
# ReLU 0.964 ± 0.020 validation accuracy after 60 epochs — within each other's spread.)

# %% nbgrader={"grade": false, "grade_id": "iris_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

iris = load_iris()
xi_tr, xi_va, yi_tr, yi_va = train_test_split(iris.data, iris.target, test_size=0.3, stratify=iris.target,
                                              random_state=0)
mu, sd = xi_tr.mean(0), xi_tr.std(0)
xi_tr, xi_va = (torch.tensor((a - mu) / sd, dtype=torch.float32) for a in (xi_tr, xi_va))
yi_tr, yi_va = torch.tensor(yi_tr), torch.tensor(yi_va)
IRIS_EPOCHS, IRIS_SEEDS = 60, (0, 1, 2, 3, 4)
iris_val = DataLoader(TensorDataset(xi_va, yi_va), batch_size=256)
iris_hist = {}
with tqdm(total=2 * len(IRIS_SEEDS), desc="iris (runs)") as bar:
    for before in (False, True):
        curves = []
        for seed in IRIS_SEEDS:
            torch.manual_seed(seed)
            model = port_keras_bn_model(bn_before_activation=before)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            loader = DataLoader(TensorDataset(xi_tr, yi_tr), batch_size=16, shuffle=True, drop_last=True,
                                generator=torch.Generator().manual_seed(seed))
            curve = []
            for _ in range(IRIS_EPOCHS):
                train_epoch(model, loader, opt)
                curve.append(evaluate(model, iris_val)[1])
            curves.append(curve)
            bar.update(1)
        iris_hist[before] = torch.tensor(curves)

fig, ax = plt.subplots(figsize=(6.5, 3.8))
for before, color in ((False, "C0"), (True, "C2")):
    s = iris_hist[before]
    label = "BN before ReLU" if before else "BN after ReLU (Keras order)"
    ax.plot(range(1, IRIS_EPOCHS + 1), s.mean(0), color=color, label=label)
    ax.fill_between(range(1, IRIS_EPOCHS + 1), s.mean(0) - s.std(0), s.mean(0) + s.std(0), color=color, alpha=0.2)
    print(f"{label:>28}: final val acc {s[:, -1].mean():.3f} ± {s[:, -1].std():.3f}; "
          f"after 5 epochs {s[:, 4].mean():.3f} ± {s[:, 4].std():.3f}")
ax.set_xlabel("epoch")
ax.set_ylabel("validation accuracy")
ax.set_title(f"Iris, ported Keras model (mean ± std, {len(IRIS_SEEDS)} seeds)")
ax.legend(loc="lower right")
ax.grid(alpha=0.3)
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "questions_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 9. Written questions (graded by hand)
#
# Answer in a few sentences each, in the cells below; refer to what your runs above showed (quote a number
# or two from the table, the learning-rate sweep or the Iris curves) and say which data set ran.
#
# **Q1. Where do I insert BN, and why there?** (Between which layers, before or after the activation, and
# what about the bias of the layer before it and the output layer?)

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_where_bn", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** Between a linear (or convolutional) layer and its non-linearity: `Linear → BN → ReLU`,
# as in the BN paper. BN standardizes each pre-activation over the batch, so the input of the non-linearity
# keeps a controlled mean and scale whatever the earlier layers do: ReLU/tanh work in their responsive range,
# and the scale of the weights no longer changes the layer's output, which is why much larger learning rates
# stay usable (our SGD sweep: BN stays usable at learning rates where the baseline diverges). The Linear before
# BN needs no bias: the mean subtraction removes it and β takes its role. Never after the output layer (the
# logits must be free; BN there would fix their scale). After the activation (the Keras lecture model) also
# trains: it normalizes the next layer's input instead; on Iris both placements reached similar accuracy, so
# "before" is a convention with a reason (normalizing what the non-linearity sees), not the only working
# choice.

# %% [markdown] nbgrader={"grade": false, "grade_id": "question_bn_every_layer", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q2. BN in every layer?**

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_bn_every_layer", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** In every *hidden* layer of a deep network, usually yes: that is where it helps
# optimization (each layer's input distribution stays stable). But not on the output layer, and not
# blindly: BN needs reasonably large batches (with a batch of 2–8 the batch statistics are noise; use
# LayerNorm or GroupNorm, which do not depend on the batch), it makes an example's output depend on the other
# examples of its batch in training, it behaves differently in train and eval (a source of bugs and of a
# train/eval gap when the data shift), and it costs time and memory per layer. In a shallow MLP like ours the
# gain over the baseline is modest; one BN after the first layer already gives much of it.

# %% [markdown] nbgrader={"grade": false, "grade_id": "question_bn_vs_dropout", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q3. Can BN replace dropout?**

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_bn_vs_dropout", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** Partly. The batch statistics add noise to every example's activations in training, which
# regularizes a little, and the BN paper removed dropout from Inception without losing accuracy. But BN is
# first an optimization method: its noise shrinks as the batch grows and vanishes in eval, and it does not
# stop co-adaptation the way dropping whole units does. In our table, dropout and BN differ in *how* they
# help — BN usually fits the training set fastest (high train accuracy, the gap remains), dropout narrows the
# gap — so they are not interchangeable. Combining them needs care: dropout before a BN layer shifts the
# variance BN sees between training and evaluation (the running variance was measured with dropout on);
# put dropout after the last BN layer, or use a small `p`.

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * One training loop for every regularizer: `model.train()` before training, `model.eval()` +
#   `torch.no_grad()` for evaluation, and restore the mode afterwards.
# * A penalty is applied once: in the loss *or* as the optimizer's `weight_decay`, never both.
# * Compare regularizers over several seeds: the spread between seeds is often as large as the differences.
# * BN goes between the Linear and its activation (bias off), never after the output; it buys larger learning
#   rates more than it regularizes.
# * Porting between frameworks means translating conventions: Keras's BN momentum 0.99 is PyTorch's 0.01,
#   its epsilon is 1e-3, and Keras's final softmax is inside PyTorch's cross-entropy.
