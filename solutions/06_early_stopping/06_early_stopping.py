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
#     assignment: 06_early_stopping
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 06 · Early stopping
#
# Train a network long enough and its **training** loss keeps falling — eventually it fits the noise in the
# training labels as well as the signal. The loss on held-out **validation** data tells a different story: it
# falls while the network learns what generalizes, reaches a minimum, and then rises again while the network
# memorizes. *Early stopping* keeps the parameters of the epoch where the validation curve was lowest and stops
# training once it has clearly turned up.
#
# It is a regularizer: stopping after $t$ steps of gradient descent from a small initialisation limits how far the
# weights can travel, much like an L2 penalty (for a quadratic loss, $t$ steps with learning rate $\eta$ behave
# roughly like weight decay with $\lambda \approx 1/(\eta t)$). The number of epochs becomes a hyperparameter,
# chosen on the validation set — never on the test set (section 5 shows why).
#
# In this assignment you write:
#
# 1. `EarlyStopping(patience, min_delta=0.0, mode="min")` with `step(val_metric, model) -> bool` and
#    `restore(model)` — the bookkeeping: what counts as an improvement, when to stop, and a **copy** of the best
#    epoch's parameters *and buffers*;
# 2. `fit(model, loaders, max_epochs, stopper, ...)` — a training loop that stops on the **validation** loss,
#    never looks at the test set, and hands back the best model;
#
# and then run them on handwritten digits with 30 % wrong labels, where stopping early matters most.
#
# **Conventions**
#
# * Epochs are counted from **0**: the $k$-th call of `step` (0-based) is epoch $k$, and
#   `history["val_loss"][stopper.best_epoch] == stopper.best`.
# * An epoch *improves* when its metric beats the best so far by **more than** `min_delta`
#   (`mode="min"`: $m_t < \text{best} - \delta$; `mode="max"`: $m_t > \text{best} + \delta$). A tie, or a gain of
#   exactly `min_delta`, is not an improvement.
# * `step` returns `True` ("stop now") as soon as `patience` **consecutive** epochs brought no improvement.
#
# After each exercise, a **self-check** cell runs the visible checks; hidden checks (other sequences, models and
# seeds) run when you submit.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import copy
import math

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm, trange

from autograder import check

REGNORM_ASSIGNMENT = "06_early_stopping"
torch.set_num_threads(1)

# %% [markdown] nbgrader={"grade": false, "grade_id": "stopper_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. `EarlyStopping`: when to stop, and what to keep
#
# After every epoch the training loop calls `stop = stopper.step(val_metric, model)`. With $m_t$ the metric of
# epoch $t$ and $\delta$ = `min_delta`:
#
# $$
# \text{improved}_t =
# \begin{cases}
# \text{True} & t = 0 \text{ (the first epoch is always the best so far)}\\
# m_t < \text{best} - \delta & \text{mode = "min" (a loss)}\\
# m_t > \text{best} + \delta & \text{mode = "max" (an accuracy)}
# \end{cases}
# \qquad
# \text{counter}_t = \begin{cases} 0 & \text{improved}_t \\ \text{counter}_{t-1} + 1 & \text{otherwise}\end{cases}
# \qquad
# \text{stop}_t = \text{counter}_t \ge \text{patience}.
# $$
#
# On an improvement, remember `best` $= m_t$, `best_epoch` $= t$ and the model's state. An example with
# `patience=2`, `min_delta=0.1`, `mode="min"`:
#
# | epoch $t$ | 0 | 1 | 2 | 3 | 4 |
# |---|---|---|---|---|---|
# | $m_t$ | 1.00 | 0.80 | 0.75 | 0.60 | 0.65 |
# | improved? | yes (first) | yes ($0.80 < 0.90$) | no ($0.75 \not< 0.70$) | yes ($0.60 < 0.70$) | no |
# | `best`, `best_epoch` | 1.00, 0 | 0.80, 1 | 0.80, 1 | 0.60, 3 | 0.60, 3 |
# | `counter` | 0 | 0 | 1 | 0 | 1 |
# | `step` returns | False | False | False | False | False |
#
# and one more epoch without improvement would make `counter` 2 and `step` return `True`. Note epoch 2: it *is*
# lower than 0.80, but by less than `min_delta`, so it does not count (and `best` stays 0.80).
#
# **What to keep.** `model.state_dict()` returns *references* to the model's tensors, not copies: the optimizer
# keeps updating those very tensors in place, so a state saved as `self.best_state = model.state_dict()` silently
# follows the model and "restoring" it restores the *last* epoch. Save a copy
# (`copy.deepcopy(model.state_dict())`, or `{k: v.detach().clone() for k, v in ...items()}`). The state dict holds
# the **buffers** too (BatchNorm's `running_mean`, `running_var`, `num_batches_tracked`): a model restored with the
# best parameters but the last epoch's running statistics is not the best model. `restore(model)` loads the copy
# back **into** `model` (in place, as `model.load_state_dict` does: the model keeps its own parameter tensors, so an
# optimizer holding them keeps working).

# %% nbgrader={"grade": false, "grade_id": "EarlyStopping", "locked": false, "schema_version": 3, "solution": true, "task": false}
class EarlyStopping:
    """
    Decide after every epoch whether to stop training, and keep a copy of the best epoch's model state.

    Inputs (constructor):
    - patience: int >= 1, how many consecutive epochs without improvement are tolerated; step returns True
      on the patience-th of them.
    - min_delta: float >= 0, an epoch improves only if it beats the best metric so far by MORE than
      min_delta (a tie, or a gain of exactly min_delta, is not an improvement). Default 0.0.
    - mode: "min" if lower is better (a loss), "max" if higher is better (an accuracy). Default "min".

    Attributes (after each step):
    - best: the metric of the last improving epoch, as a float (None before the first step).
    - best_epoch: the 0-based epoch of that improvement (the k-th call of step is epoch k).
    - counter: the number of consecutive epochs since then without improvement (0 right after one).
    - best_state: a deep copy of model.state_dict() (parameters AND buffers) taken at best_epoch.

    step(val_metric, model) -> bool:
    - val_metric: this epoch's validation metric, a float or a one-element tensor.
    - model: the nn.Module being trained; step reads its state and never modifies it.
    Returns True ("stop now") once `patience` consecutive epochs brought no improvement, else False.
    The first step is always an improvement.

    restore(model): load best_state into model, in place (model keeps its own parameter and buffer
    tensors; they receive the best epoch's values), and return None.
    """

    def __init__(self, patience, min_delta=0.0, mode="min"):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.best = None
        self.best_epoch = None
        self.counter = 0
        self.best_state = None
        self.epoch = -1  # the epoch of the last step call

    def is_improvement(self, val_metric):
        """True if val_metric beats self.best by more than min_delta (always True on the first step)."""
        if self.best is None:
            return True
        if self.mode == "min":
            # TODO: lower is better; an improvement must go below best by more than min_delta.
            ### BEGIN SOLUTION
            return val_metric < self.best - self.min_delta
            ### END SOLUTION
        else:
            # TODO: higher is better; an improvement must go above best by more than min_delta.
            ### BEGIN SOLUTION
            return val_metric > self.best + self.min_delta
            ### END SOLUTION

    def step(self, val_metric, model):
        val_metric = float(val_metric)
        self.epoch += 1
        if self.is_improvement(val_metric):
            # TODO: remember the new best metric and its epoch, reset the counter, and keep a COPY of
            # model's state (parameters and buffers), not references to its tensors.
            ### BEGIN SOLUTION
            self.best = val_metric
            self.best_epoch = self.epoch
            self.counter = 0
            self.best_state = copy.deepcopy(model.state_dict())
            ### END SOLUTION
        else:
            # TODO: one more epoch without improvement.
            ### BEGIN SOLUTION
            self.counter += 1
            ### END SOLUTION
        # TODO: stop = True once `patience` consecutive epochs brought no improvement.
        ### BEGIN SOLUTION
        stop = self.counter >= self.patience
        ### END SOLUTION
        return stop

    def restore(self, model):
        # TODO: load the saved best state into model, in place.
        ### BEGIN SOLUTION
        model.load_state_dict(self.best_state)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_EarlyStopping", "locked": true, "points": 18, "schema_version": 3, "solution": false, "task": false}
points = check("EarlyStopping")
### BEGIN HIDDEN TESTS
points += check("EarlyStopping", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "stopper_demo_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Look: the example above, and what a state saved by reference does
#
# The first table replays the example. The second cell "trains" a small model with a BatchNorm layer (an
# in-place update stands in for an optimizer step) and compares a state saved by reference with a copy.

# %% nbgrader={"grade": false, "grade_id": "stopper_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
demo_model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
stopper = EarlyStopping(patience=2, min_delta=0.1)
print(f"{'epoch':>5} {'metric':>7} {'stop':>6} {'best':>6} {'best_epoch':>10} {'counter':>7}")
for t, m in enumerate([1.00, 0.80, 0.75, 0.60, 0.65, 0.62]):
    stop = stopper.step(m, demo_model)
    print(f"{t:>5} {m:>7.2f} {str(stop):>6} {stopper.best:>6.2f} {stopper.best_epoch:>10} {stopper.counter:>7}")
    if stop:
        break

# %% nbgrader={"grade": false, "grade_id": "reference_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
torch.manual_seed(0)
demo_model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
by_reference = demo_model.state_dict()               # references to the live tensors
by_copy = copy.deepcopy(demo_model.state_dict())     # an independent copy
demo_model(torch.randn(8, 3))                         # a train-mode forward updates the BN buffers in place
with torch.no_grad():
    for p in demo_model.parameters():
        p.add_(1.0)                                   # what optimizer.step() does: in place
w = demo_model[0].weight
print("saved by reference still equals the live weight:", torch.equal(by_reference["0.weight"], w))
print("the copy kept the old weight:                   ", not torch.equal(by_copy["0.weight"], w))
print("num_batches_tracked by reference / copy:", int(by_reference["1.num_batches_tracked"]),
      "/", int(by_copy["1.num_batches_tracked"]))

# %% [markdown] nbgrader={"grade": false, "grade_id": "fit_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. `fit`: a training loop that stops on the validation loss
#
# `loaders` is a dict with three data loaders, `"train"`, `"val"` and `"test"`, each yielding `(x, y)` batches.
# Per epoch $t$:
#
# 1. **train**: `model.train()`; for every batch of `loaders["train"]`: clear the gradients (the optimizer's
#    `zero_grad()`), $\ell_b = $ `loss_fn(model(x), y)`, `backward()`, `optimizer.step()`. The epoch's training
#    loss is the mean of its batch losses, $\bar\ell^{\text{train}}_t = \frac1B\sum_b \ell_b$ (each taken before
#    its step);
# 2. **validate**: `model.eval()` (BatchNorm uses its running statistics, dropout is off) under `torch.no_grad()`;
#    the validation loss is the mean over the validation **examples**,
#    $\bar\ell^{\text{val}}_t = \frac1{N_{\text{val}}}\sum_b n_b\,\ell_b$ (`loss_fn` averages within a batch of
#    $n_b$ examples);
# 3. record both in `history`, then ask the stopper with the **validation** loss — `stopper.step(val_loss, model)`
#    — and leave the loop when it says so (the epoch that triggered the stop is recorded too).
#
# After the loop — stopped early or after `max_epochs` — `stopper.restore(model)` puts the best epoch's state back
# into `model`. `fit` never touches `loaders["test"]`: the test set is looked at **once**, after all decisions
# (which epoch, which hyperparameters) are made.
#
# The optimizer, `optimizer_cls(model.parameters(), lr=lr)` — plain SGD by default — is created for you; so is the
# progress bar (`progress=True` shows one). Use only its `zero_grad()` and `step()`.

# %% nbgrader={"grade": false, "grade_id": "fit", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit(model, loaders, max_epochs, stopper, lr=0.05, loss_fn=F.cross_entropy, progress=False,
        optimizer_cls=torch.optim.SGD):
    """
    Train `model` with SGD, stopping when `stopper` says so, and restore the best epoch's state.

    Inputs:
    - model: an nn.Module; it is trained in place and holds the best epoch's state when fit returns.
    - loaders: dict with keys "train", "val", "test" of iterables over (x, y) batches. Only "train"
      and "val" are used; "test" must never be touched.
    - max_epochs: the most epochs to run (int >= 1).
    - stopper: an object with step(val_loss, model) -> bool and restore(model) (e.g. EarlyStopping).
    - lr: the learning rate.
    - loss_fn: loss_fn(model(x), y) -> the mean loss of a batch (default F.cross_entropy).
    - progress: show a tqdm progress bar over the epochs.
    - optimizer_cls: the optimizer, created as optimizer_cls(model.parameters(), lr=lr) (default: plain
      SGD; the grader passes an equivalent SGD of its own).

    Returns history, a dict with two lists of Python floats, one entry per epoch that ran:
    - "train_loss": the mean of the epoch's training batch losses (each taken before its optimizer step),
    - "val_loss": the mean validation loss over the validation examples (model in eval mode, no grad),
    the epoch on which the stopper said stop included. The best epoch is stopper.best_epoch.
    """
    optimizer = optimizer_cls(model.parameters(), lr=lr)
    history = {"train_loss": [], "val_loss": []}
    for epoch in trange(max_epochs, desc="epochs", disable=not progress):
        # TODO: one epoch of training over loaders["train"] (train mode; zero_grad, loss, backward, step per
        # batch); train_loss = the mean of the batch losses, as a Python float.
        ### BEGIN SOLUTION
        model.train()
        batch_losses = []
        for x, y in loaders["train"]:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
        train_loss = sum(batch_losses) / len(batch_losses)
        ### END SOLUTION
        # TODO: val_loss = the mean loss over the validation examples, in eval mode and without gradients.
        ### BEGIN SOLUTION
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in loaders["val"]:
                total += loss_fn(model(x), y).item() * len(x)
                count += len(x)
        val_loss = total / count
        ### END SOLUTION
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        # TODO: ask the stopper with this epoch's validation loss; leave the loop if it says stop.
        ### BEGIN SOLUTION
        if stopper.step(val_loss, model):
            break
        ### END SOLUTION
    # TODO: put the best epoch's state back into model.
    ### BEGIN SOLUTION
    stopper.restore(model)
    ### END SOLUTION
    return history


# %% nbgrader={"grade": true, "grade_id": "check_fit", "locked": true, "points": 14, "schema_version": 3, "solution": false, "task": false}
points = check("fit")
### BEGIN HIDDEN TESTS
points += check("fit", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "noise_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Experiment: label noise, and when stopping early matters
#
# scikit-learn ships 1 797 handwritten digits (8×8 pixels, 10 classes; no download). We split them into
# training / validation / test sets (60 / 20 / 20 %) and replace a fraction `NOISE` of the **training and
# validation** labels by a random *other* class — as if they came from a careless annotator. The test labels stay
# clean: test accuracy measures what we actually care about.
#
# An over-sized MLP is trained for `EPOCHS` epochs **without stopping**, once on clean and once on noisy labels,
# recording the training and validation losses (and, for this analysis only, the test accuracy of every epoch —
# something a real training run must never look at). With noisy labels the network first learns the digits and
# then starts memorizing the wrong labels: the training loss keeps falling, the validation loss turns up, and test
# accuracy drops. With clean labels the validation curve stays almost flat after its minimum — stopping early saves
# time but changes little. Defaults run in about a minute on two CPU cores.

# %% nbgrader={"grade": false, "grade_id": "noise_data", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import time

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

NOISE = 0.3        # fraction of wrong training/validation labels (try 0.2 and 0.4)
EPOCHS = 60        # the full run, without stopping
PATIENCE = 5
LR = 0.3
BATCH = 32
print(f"data set: scikit-learn load_digits (1797 images of 8x8, 10 classes); label noise {NOISE:.0%}")

digits = load_digits()
X_all = torch.tensor(digits.data, dtype=torch.float32) / 16.0
y_all = torch.tensor(digits.target, dtype=torch.int64)
g = torch.Generator().manual_seed(0)
perm = torch.randperm(len(X_all), generator=g)
n_tr, n_va = int(len(X_all) * 0.6), int(len(X_all) * 0.2)
idx = {"train": perm[:n_tr], "val": perm[n_tr:n_tr + n_va], "test": perm[n_tr + n_va:]}


def corrupt(labels, fraction, generator, classes=10):
    """Replace a `fraction` of the labels by a uniformly random *other* class."""
    flip = torch.rand(len(labels), generator=generator) < fraction
    other = (labels + torch.randint(1, classes, (len(labels),), generator=generator)) % classes
    return torch.where(flip, other, labels), flip


def make_loaders(noise, seed=1):
    gen = torch.Generator().manual_seed(seed)
    sets = {}
    for split in ("train", "val", "test"):
        x, y = X_all[idx[split]], y_all[idx[split]]
        if split != "test":
            y, _ = corrupt(y, noise, gen)
        sets[split] = TensorDataset(x, y)
    shuffle_gen = torch.Generator().manual_seed(seed)
    return {"train": DataLoader(sets["train"], batch_size=BATCH, shuffle=True, generator=shuffle_gen),
            "val": DataLoader(sets["val"], batch_size=256), "test": DataLoader(sets["test"], batch_size=256)}


def make_mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def evaluate(model, loader):
    """(mean cross-entropy, accuracy) over a loader, in eval mode."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            total += F.cross_entropy(out, y, reduction="sum").item()
            correct += (out.argmax(1) == y).sum().item()
            count += len(y)
    return total / count, correct / count


def full_run(noise, epochs=EPOCHS, seed=0, desc=""):
    """Train without stopping; per epoch: train loss, val loss, val acc, and (analysis only) test acc."""
    loaders, model = make_loaders(noise, seed + 1), make_mlp(seed)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    curves = {"train_loss": [], "val_loss": [], "val_acc": [], "test_acc": []}
    for _ in trange(epochs, desc=desc or f"noise {noise:.0%}", leave=False):
        model.train()
        losses = []
        for x, y in loaders["train"]:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        curves["train_loss"].append(sum(losses) / len(losses))
        vl, va = evaluate(model, loaders["val"])
        curves["val_loss"].append(vl)
        curves["val_acc"].append(va)
        curves["test_acc"].append(evaluate(model, loaders["test"])[1])  # analysis only!
    return curves


# %% nbgrader={"grade": false, "grade_id": "noise_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
start = time.time()
runs = {noise: full_run(noise) for noise in tqdm((0.0, NOISE), desc="full runs")}

fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
for ax, (noise, c) in zip(axes, runs.items()):
    epochs = range(len(c["train_loss"]))
    best = min(epochs, key=c["val_loss"].__getitem__)
    ax.plot(epochs, c["train_loss"], label="training loss")
    ax.plot(epochs, c["val_loss"], label="validation loss")
    ax.axvline(best, color="k", ls="--", lw=1)
    ax.plot([best], [c["val_loss"][best]], "k*", ms=14, label=f"validation minimum (epoch {best})")
    ax2 = ax.twinx()
    ax2.plot(epochs, c["test_acc"], color="tab:green", alpha=0.6, label="test accuracy (analysis only)")
    ax2.set_ylabel("test accuracy")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title(f"{noise:.0%} wrong labels: test acc {c['test_acc'][best]:.3f} at the minimum, "
                 f"{c['test_acc'][-1]:.3f} at epoch {len(c['test_acc']) - 1}", fontsize=10)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="center right")
fig.suptitle("Training without stopping on load_digits: the validation curve's minimum (star)")
fig.tight_layout()
plt.show()
print(f"full runs took {time.time() - start:.1f} s")

# %% [markdown] nbgrader={"grade": false, "grade_id": "es_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. The same runs with `fit` and `EarlyStopping`
#
# Now the honest procedure: `fit` with `EarlyStopping(patience=PATIENCE)` on the validation loss, then **one**
# evaluation of the restored model on the test set. The table reports the epoch chosen, how many of the `EPOCHS`
# epochs were saved, and the test accuracy of the restored model next to the model trained for all `EPOCHS`
# epochs. (`fit` uses the same data order and initialisation as the full runs above, so its curve is the prefix of
# theirs.) The validation curve wobbles from epoch to epoch: a small patience may stop at an early dip, a large one
# costs more epochs but lands nearer the real minimum — try `PATIENCE = 10`. Either way the restored model is the
# best one *seen*, never the last one.

# %% nbgrader={"grade": false, "grade_id": "es_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
rows = []
for noise in (0.0, NOISE):
    loaders, model = make_loaders(noise, 1), make_mlp(0)
    stopper = EarlyStopping(patience=PATIENCE)
    history = fit(model, loaders, EPOCHS, stopper, lr=LR, progress=True)
    test_loss, test_acc = evaluate(model, loaders["test"])  # the one look at the test set
    ran = len(history["val_loss"])
    rows.append((noise, stopper.best_epoch, ran, EPOCHS - ran, test_acc, runs[noise]["test_acc"][-1]))

print(f"{'noise':>6} {'best epoch':>10} {'epochs run':>10} {'saved':>6} {'test acc (ES)':>13} "
      f"{'test acc (all ' + str(EPOCHS) + ')':>17}")
for noise, best, ran, saved, acc, acc_full in rows:
    print(f"{noise:>6.0%} {best:>10} {ran:>10} {saved:>6} {acc:>13.3f} {acc_full:>17.3f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "why_val_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 5. Why the validation set, not the test set, decides when to stop
#
# Choosing the stopping epoch is *fitting a hyperparameter to data*. Whatever data is used for that choice stops
# being an unbiased judge of the result: among many epochs whose scores wobble by chance, the one picked for the
# best score on a set is, on average, one whose score on *that* set was lucky. The lecture's story: a team that
# tunes and stops on its test set reports a number that the model never reaches again on new data.
#
# The cell below makes the bias visible. It trains the noisy-label MLP with a few seeds, records after every epoch
# the validation loss and which test examples are classified correctly, and compares two ways of picking the epoch:
#
# * **by validation** (the procedure of section 4): the epoch with the lowest validation loss, then its test
#   accuracy;
# * **by test**: the epoch with the highest test accuracy — and that same test accuracy reported.
#
# To see which report is honest we need data that neither choice has seen: we split the test set at random into two
# halves, pick (and report) with the first half — "test" — and measure the same epoch on the second — "fresh data",
# standing in for the future. Averaged over `SPLITS` random halvings, the validation-picked report is unbiased (its
# two halves are exchangeable), while the test-picked report is systematically higher than what the same epoch
# achieves on fresh data.

# %% nbgrader={"grade": false, "grade_id": "why_val_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
SEEDS = (0, 1, 2)
VAL_TEST_EPOCHS = 40
SPLITS = 500
rows = []
for seed in tqdm(SEEDS, desc="seeds"):
    loaders, model = make_loaders(NOISE, seed + 1), make_mlp(seed)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x_te, y_te = X_all[idx["test"]], y_all[idx["test"]]
    val_loss, correct = [], []
    for _ in trange(VAL_TEST_EPOCHS, desc=f"seed {seed}", leave=False):
        model.train()
        for x, y in loaders["train"]:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        val_loss.append(evaluate(model, loaders["val"])[0])
        model.eval()
        with torch.no_grad():
            correct.append((model(x_te).argmax(1) == y_te).float())   # analysis only
    correct = torch.stack(correct)                                    # (epochs, test examples)
    by_val = min(range(VAL_TEST_EPOCHS), key=val_loss.__getitem__)
    gen = torch.Generator().manual_seed(seed)
    n, half = correct.shape[1], correct.shape[1] // 2
    sums = torch.zeros(4)
    for _ in range(SPLITS):
        perm = torch.randperm(n, generator=gen)
        acc_test, acc_fresh = correct[:, perm[:half]].mean(1), correct[:, perm[half:]].mean(1)
        by_test = int(acc_test.argmax())
        sums += torch.stack([acc_test[by_val], acc_fresh[by_val], acc_test[by_test], acc_fresh[by_test]])
    rows.append((seed, by_val, *(sums / SPLITS).tolist()))

print(f"mean over {SPLITS} random halvings of the test set into 'test' and 'fresh data'")
print(f"{'seed':>4} | {'by val: epoch':>13} {'test':>6} {'fresh':>6} | {'by test: test':>13} {'fresh':>6}")
for seed, epoch, vt, vf, tt, tf in rows:
    print(f"{seed:>4} | {epoch:>13} {vt:>6.3f} {vf:>6.3f} | {tt:>13.3f} {tf:>6.3f}")
mean = [sum(r[k] for r in rows) / len(rows) for k in range(2, 6)]
print(f"mean | {'':>13} {mean[0]:>6.3f} {mean[1]:>6.3f} | {mean[2]:>13.3f} {mean[3]:>6.3f}")
print(f"optimism (reported - fresh): picked by validation {mean[0] - mean[1]:+.3f}, "
      f"picked by test {mean[2] - mean[3]:+.3f}")

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.bar([0, 1], [mean[0], mean[2]], width=0.35, label="reported (on 'test')")
ax.bar([0.35, 1.35], [mean[1], mean[3]], width=0.35, label="on fresh data")
ax.set_xticks([0.175, 1.175], ["epoch picked by validation", "epoch picked by test"])
ax.set_ylim(min(mean) - 0.04, max(mean) + 0.02)
ax.set_ylabel("test accuracy (mean over seeds and splits)")
ax.set_title("Picking the epoch on the test set makes the test score optimistic", fontsize=10)
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * Early stopping watches the **validation** metric: an epoch improves only when it beats the best so far by more
#   than `min_delta`; after `patience` consecutive epochs without improvement, stop.
# * Keep a **copy** of the best epoch's state — parameters *and* buffers. `model.state_dict()` alone holds
#   references that keep following the model.
# * The number of epochs is a hyperparameter: pick it on validation data, look at the test set once at the end.
#   A test score that was used to choose anything is optimistic.
# * Stopping early matters most when the network can memorize — noisy labels, small data, big models. With clean
#   labels it mostly saves time.
