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
#     assignment: 10_hparam_search
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 10 · Hyperparameter search
#
# A network's weights are fitted by gradient descent; its **hyperparameters** (learning rate, weight decay,
# momentum, width, ...) are not. We choose them by training several models and keeping the one that does best
# on data it was not trained on. Two ideas make this work in practice:
#
# * **Search scale-type hyperparameters on a log scale.** A learning rate of $10^{-4}$ and one of $10^{-3}$
#   behave as differently as $10^{-2}$ and $10^{-1}$: what matters is the *ratio*, so we sample
#   $\log_{10}(\text{lr})$ uniformly. Sampling lr itself uniformly in $[10^{-4}, 1)$ puts 90 % of the trials in
#   $[0.1, 1)$ and almost none where small learning rates live.
# * **Random search beats grid search on the same budget** (Bergstra & Bengio, 2012). When only one or two of
#   the hyperparameters really matter, a $3\times 3$ grid tries only 3 distinct values of the important one;
#   9 random trials try 9.
#
# And one rule that is not negotiable: **select on the validation set, never on the test set.** The test set
# is used once, at the very end, to report the number of the model you picked. Choosing by the test loss turns
# the test set into a second validation set and its number into an optimistic guess.
#
# In this assignment you write
#
# 1. `log_uniform(low, high, n, generator)`: samples whose $\log_{10}$ is uniform, exactly reproducible;
# 2. `sample_momentum(n, generator)`: momentum sampled as $1 - 10^{U(-3,-1)}$;
# 3. `random_search(train_fn, space, n_trials, seed)`: seeded trials, selection on validation only;
#
# then use them on a real (small) problem: the overfit-a-tiny-subset sanity check, a learning-rate sweep,
# log-uniform against uniform spaces, random against grid search, and coarse-to-fine refinement.
#
# **Conventions (fixed for the whole course).** All randomness goes through a `torch.Generator` argument, in a
# documented draw order, so a search can be replayed exactly from its seed. Samples are `torch.float64`.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch

from autograder import check

REGNORM_ASSIGNMENT = "10_hparam_search"
torch.set_num_threads(1)

# %% [markdown] nbgrader={"grade": false, "grade_id": "log_uniform_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. `log_uniform`: sampling on a log scale
#
# $X$ is **log-uniform** on $[\ell, h)$ when $\log_{10} X$ is uniform on $[\log_{10}\ell, \log_{10}h)$. With
# $U \sim \mathcal U[0, 1)$:
#
# $$
# X = 10^{\,a + U (b - a)},\qquad a = \log_{10}\ell,\quad b = \log_{10} h,
# \qquad p(x) = \frac{1}{x\,\ln 10\,(b-a)}\quad (\ell \le x < h).
# $$
#
# Every decade gets the same share of the samples: for $[10^{-4}, 1)$, a quarter of them fall in
# $[10^{-4}, 10^{-3})$, a quarter in $[10^{-3}, 10^{-2})$, and so on. (The base does not matter for the
# distribution — $\ln$ gives the same one — but the **bounds** must be taken in the same base as the
# exponentiation: $10^{\ln \ell}$ is not $\ell$.)
#
# **The draw (exact, so that a search can be replayed):** one call
# `u = torch.rand(n, generator=generator, dtype=torch.float64)`, then
# `10 ** (log10(low) + u * (log10(high) - log10(low)))`. `u = 0` gives `low`; `high` is never reached
# (`torch.rand` draws from $[0, 1)$). The result is a float64 tensor of shape `(n,)`.
#
# The checks compare your samples with these exact draws (other bounds and sizes too), check that the generator
# advanced by exactly that one draw, and test the distribution itself: the Kolmogorov–Smirnov statistic of
# $\log_{10}$ of 4000 samples against the uniform distribution must stay below $1.63/\sqrt{4000} \approx 0.026$
# (the 1 % critical value; a sampler that is uniform in $x$ instead of $\log x$ scores above 0.4).

# %% nbgrader={"grade": false, "grade_id": "log_uniform", "locked": false, "schema_version": 3, "solution": true, "task": false}
def log_uniform(low, high, n, generator):
    """
    Draw n samples whose base-10 logarithm is uniform on [log10(low), log10(high)).

    Inputs:
    - low, high: positive numbers, low < high. low can be drawn, high cannot.
    - n: number of samples.
    - generator: a torch.Generator; the only source of randomness. Exactly one draw is taken from it:
      u = torch.rand(n, generator=generator, dtype=torch.float64).

    Returns:
    - samples: float64 tensor of shape (n,), samples[i] = 10 ** (log10(low) + u[i] * (log10(high) - log10(low))).
    """
    if not 0 < low < high:
        raise ValueError(f"log_uniform needs 0 < low < high; got low={low}, high={high}")
    samples = None
    # TODO: draw u (one torch.rand call, float64, from `generator`) and map it to [low, high) on a log10 scale.
    ### BEGIN SOLUTION
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    a, b = math.log10(low), math.log10(high)
    samples = 10.0 ** (a + u * (b - a))
    ### END SOLUTION
    return samples


# %% nbgrader={"grade": true, "grade_id": "check_log_uniform", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
points = check("log_uniform")
### BEGIN HIDDEN TESTS
points += check("log_uniform", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "log_uniform_plot_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# What the two samplers look like for a learning rate in $[10^{-5}, 1)$: histograms on a **log** axis. The
# log-uniform sampler fills every decade equally; the uniform one spends almost every sample in the last decade.

# %% nbgrader={"grade": false, "grade_id": "setup_plots", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

# %% nbgrader={"grade": false, "grade_id": "log_uniform_plot", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
g = torch.Generator().manual_seed(0)
lr_log = log_uniform(1e-5, 1.0, 5000, g)
lr_lin = 1e-5 + torch.rand(5000, generator=g, dtype=torch.float64) * (1.0 - 1e-5)
bins = np.logspace(-5, 0, 26)
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.hist(lr_log.numpy(), bins=bins, alpha=0.6, label="log-uniform")
ax.hist(lr_lin.numpy(), bins=bins, alpha=0.6, label="uniform")
ax.set_xscale("log")
ax.set_xlabel("learning rate (log scale)")
ax.set_ylabel("number of samples (of 5000)")
ax.set_title("5000 learning rates drawn in $[10^{-5}, 1)$")
ax.legend()
plt.show()
for name, s in (("log-uniform", lr_log), ("uniform", lr_lin)):
    shares = [f"{float(((s >= 10.0 ** k) & (s < 10.0 ** (k + 1))).double().mean()):.0%}" for k in range(-5, 0)]
    print(f"{name:>11}: share of samples per decade 1e-5..1e0: {shares}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "momentum_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. `sample_momentum`: log scale on $1-\beta$
#
# SGD with momentum $\beta$ averages the gradients over about $1/(1-\beta)$ steps. The interesting values of
# $\beta$ (0.9, 0.99, 0.999) are crowded near 1, but their **horizons** 10, 100, 1000 steps are spread over
# decades. So we sample $1-\beta$ log-uniformly:
#
# $$
# \beta = 1 - 10^{\,U(-3,\,-1)} \in (0.9,\ 0.999],
# $$
#
# i.e. `1 - log_uniform(1e-3, 1e-1, n, generator)`: the same single draw of `n` uniforms from the generator.
# (Sampling $\beta$ itself as $10^{U(-3,-1)}$ gives momenta between 0.001 and 0.1 — almost no momentum.)

# %% nbgrader={"grade": false, "grade_id": "sample_momentum", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sample_momentum(n, generator):
    """
    Draw n momentum values beta = 1 - 10**U with U uniform on [-3, -1).

    Inputs:
    - n: number of samples.
    - generator: a torch.Generator; exactly one draw is taken from it, the one of
      log_uniform(1e-3, 1e-1, n, generator).

    Returns:
    - momentum: float64 tensor of shape (n,), values in (0.9, 0.999].
    """
    momentum = None
    # TODO: 1 minus a log-uniform sample of 1 - beta in [1e-3, 1e-1).
    ### BEGIN SOLUTION
    momentum = 1.0 - log_uniform(1e-3, 1e-1, n, generator)
    ### END SOLUTION
    return momentum


# %% nbgrader={"grade": true, "grade_id": "check_sample_momentum", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
points = check("sample_momentum")
### BEGIN HIDDEN TESTS
points += check("sample_momentum", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "search_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. `random_search`: seeded trials, selected on validation
#
# **The search space** is a dict `name -> spec`; the specs are
#
# | spec | one value is drawn as |
# |---|---|
# | `("log_uniform", low, high)` | `log_uniform(low, high, 1, generator)` |
# | `("uniform", low, high)` | `low + u * (high - low)` with `u = torch.rand(1, generator=generator, dtype=torch.float64)` |
# | `("momentum",)` | `sample_momentum(1, generator)` |
# | `("choice", options)` | `options[i]` with `i = torch.randint(len(options), (1,), generator=generator)` |
#
# Numeric values go into the config as Python floats (`.item()`); a choice is the option itself.
#
# **The draw order (exact):** one generator for the whole search, `torch.Generator().manual_seed(seed)`; trial
# by trial, and inside a trial one value per hyperparameter **in the order of the space dict**. So trial 0
# draws all its values, then trial 1 draws all of its values, and so on. The same seed gives the same
# configs whatever else the program does with torch's global random number generator.
#
# **The trials:** for each trial, build the config dict `{name: value}`, call `train_fn(config)` once, and keep
# `{"config": config, "result": result}` in `history` (in trial order). `train_fn` returns a dict with at
# least `"val_loss"`; it may hold more (`"train_loss"`, `"val_acc"`, even `"test_loss"`).
#
# **The selection:** the best trial has the **smallest `result["val_loss"]`** — never the test loss, nor the
# training loss. Ties go to the **first** such trial, and a NaN validation loss (a run that diverged) counts as
# $+\infty$: it is never chosen over a finite one (if every trial diverged, the first trial is returned). Return
# `(best_config, history)`. The space dict you are given must not be changed.

# %% nbgrader={"grade": false, "grade_id": "random_search", "locked": false, "schema_version": 3, "solution": true, "task": false}
def random_search(train_fn, space, n_trials, seed):
    """
    Random search over `space` with n_trials seeded trials, selected by the validation loss.

    Inputs:
    - train_fn: callable, train_fn(config) -> dict with at least "val_loss" (a float; may be NaN).
    - space: dict name -> spec, spec one of ("log_uniform", low, high), ("uniform", low, high),
      ("momentum",), ("choice", options). Not modified.
    - n_trials: number of trials (>= 1); train_fn is called exactly once per trial.
    - seed: seeds the one generator of the search, torch.Generator().manual_seed(seed).

    Draw order: trial by trial; within a trial one value per hyperparameter in the order of `space`.

    Returns a tuple of:
    - best_config: the config of the trial with the smallest result["val_loss"] (NaN counts as +inf;
      ties go to the first trial).
    - history: list of n_trials dicts {"config": config, "result": result}, in trial order.
    """
    # TODO: one generator for the whole search, seeded with `seed`.
    ### BEGIN SOLUTION
    generator = torch.Generator().manual_seed(seed)
    ### END SOLUTION
    history = []
    for trial in range(n_trials):
        config = {}
        for name, spec in space.items():
            kind = spec[0]
            if kind == "log_uniform":
                low, high = spec[1], spec[2]
                # TODO: one log-uniform value, as a Python float.
                ### BEGIN SOLUTION
                config[name] = log_uniform(low, high, 1, generator).item()
                ### END SOLUTION
            elif kind == "uniform":
                low, high = spec[1], spec[2]
                # TODO: one uniform value (one float64 torch.rand draw), as a Python float.
                ### BEGIN SOLUTION
                u = torch.rand(1, generator=generator, dtype=torch.float64)
                config[name] = (low + u * (high - low)).item()
                ### END SOLUTION
            elif kind == "momentum":
                # TODO: one momentum value, as a Python float.
                ### BEGIN SOLUTION
                config[name] = sample_momentum(1, generator).item()
                ### END SOLUTION
            elif kind == "choice":
                options = spec[1]
                # TODO: one of the options, index drawn with torch.randint.
                ### BEGIN SOLUTION
                config[name] = options[torch.randint(len(options), (1,), generator=generator).item()]
                ### END SOLUTION
            else:
                raise ValueError(f"unknown kind {kind!r} for hyperparameter {name!r}")
        # TODO: train once with this config and keep {"config": ..., "result": ...} in history.
        ### BEGIN SOLUTION
        result = train_fn(config)
        history.append({"config": config, "result": result})
        ### END SOLUTION
    best_config = None
    # TODO: the config of the trial with the smallest validation loss (NaN = +inf, ties: first trial).
    ### BEGIN SOLUTION
    best, best_loss = 0, math.inf
    for i, entry in enumerate(history):
        loss = float(entry["result"]["val_loss"])
        if loss < best_loss:  # NaN < x is False: a diverged run never wins; strict <: the first of ties wins
            best, best_loss = i, loss
    best_config = history[best]["config"]
    ### END SOLUTION
    return best_config, history


# %% nbgrader={"grade": true, "grade_id": "check_random_search", "locked": true, "points": 16, "schema_version": 3, "solution": false, "task": false}
points = check("random_search")
### BEGIN HIDDEN TESTS
points += check("random_search", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "experiments_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. Searching for real
#
# The data: scikit-learn's **digits** (1797 images of $8\times 8$ pixels, 10 classes; it ships with the package,
# nothing is downloaded), split once with a seeded permutation into 500 training, 400 validation and 897 test
# images. The model: a small MLP $64 \to 64 \to 10$ with ReLU, trained for 20 epochs of SGD with momentum and
# weight decay, mini-batches of 50. One trial takes a fraction of a second.
#
# `train_mlp(config)` returns the training and **validation** metrics only: the test set is not touched during
# the search at all. It is evaluated once, at the end, for the config the search picked.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from sklearn.datasets import load_digits

digits = load_digits()
X_all = torch.tensor(digits.data, dtype=torch.float32)
y_all = torch.tensor(digits.target, dtype=torch.int64)
perm = torch.randperm(len(X_all), generator=torch.Generator().manual_seed(10))
idx_train, idx_val, idx_test = perm[:500], perm[500:900], perm[900:]
mean, std = X_all[idx_train].mean(0), X_all[idx_train].std(0) + 1.0  # training statistics only
X_all = (X_all - mean) / std
(X_train, y_train), (X_val, y_val), (X_test, y_test) = ((X_all[i], y_all[i]) for i in (idx_train, idx_val, idx_test))
print(f"data: scikit-learn load_digits (8x8 images, 10 classes): {len(X_train)} train, {len(X_val)} validation, "
      f"{len(X_test)} test")


def make_mlp(hidden=64, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def evaluate(model, X, y):
    with torch.no_grad():
        logits = model(X)
        return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).double().mean().item()


def train_mlp(config, epochs=20, batch_size=50, X=None, y=None, return_model=False):
    """Train the MLP with config["lr"], config.get("weight_decay", 0), config.get("momentum", 0.9),
    config.get("hidden", 64); return train/validation metrics (NaN losses if training diverged)."""
    X = X_train if X is None else X
    y = y_train if y is None else y
    model = make_mlp(int(config.get("hidden", 64)))
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=config.get("momentum", 0.9),
                          weight_decay=config.get("weight_decay", 0.0))
    order = torch.Generator().manual_seed(1)
    for epoch in range(epochs):
        p = torch.randperm(len(X), generator=order)
        for i in range(0, len(X), batch_size):
            b = p[i:i + batch_size]
            loss = F.cross_entropy(model(X[b]), y[b])
            if not torch.isfinite(loss):
                nan = {"train_loss": math.nan, "val_loss": math.nan, "val_acc": 0.1}
                return (nan, model) if return_model else nan
            opt.zero_grad()
            loss.backward()
            opt.step()
    train_loss, _ = evaluate(model, X, y)
    val_loss, val_acc = evaluate(model, X_val, y_val)
    result = {"train_loss": train_loss, "val_loss": val_loss, "val_acc": val_acc}
    return (result, model) if return_model else result


def search(space, n_trials, seed, desc):
    """random_search with a progress bar (one tick per trial)."""
    with tqdm(total=n_trials, desc=desc) as bar:
        def train_fn(config):
            result = train_mlp(config)
            bar.update(1)
            return result
        return random_search(train_fn, space, n_trials, seed)

# %% [markdown] nbgrader={"grade": false, "grade_id": "overfit_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 4.1 Sanity check first: overfit a tiny subset
#
# Before searching anything (CS231n): with regularization off, the model must be able to drive the training loss
# of **20 examples** to about zero. If it cannot, something is broken (the loss, the labels, the optimizer) and
# no hyperparameter will fix it. Also look at the loss at step 0: with 10 classes and a small random
# initialization it should be close to $\ln 10 \approx 2.30$.

# %% nbgrader={"grade": false, "grade_id": "overfit", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
X_tiny, y_tiny = X_train[:20], y_train[:20]
model = make_mlp()
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
losses = []
for step in tqdm(range(200), desc="overfit 20 examples"):
    loss = F.cross_entropy(model(X_tiny), y_tiny)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
tiny_loss, tiny_acc = evaluate(model, X_tiny, y_tiny)
print(f"initial loss {losses[0]:.3f} (ln 10 = {math.log(10):.3f}); after 200 steps: training loss {tiny_loss:.2e}, "
      f"training accuracy {tiny_acc:.0%}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogy(losses)
ax.set_xlabel("step (full batch of 20 examples)")
ax.set_ylabel("training loss (log scale)")
ax.set_title("Overfitting 20 examples: the loss must go to ~0")
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "sweep_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 4.2 Validation loss against the learning rate
#
# The first search is one-dimensional: 16 learning rates evenly spaced on a log scale from $10^{-4}$ to $10$
# (momentum 0.9, weight decay $10^{-4}$). Too small and the model has not learned much in 20 epochs; too large
# and training diverges (a NaN or astronomically large loss, marked at the top of the plot). The good region spans about one decade, and you
# would not find it by sampling lr uniformly.

# %% nbgrader={"grade": false, "grade_id": "sweep", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
sweep_lrs = torch.logspace(-4, 1, 16, dtype=torch.float64).tolist()
sweep = [train_mlp({"lr": lr, "momentum": 0.9, "weight_decay": 1e-4}) for lr in tqdm(sweep_lrs, desc="lr sweep")]
sweep_val = np.array([r["val_loss"] for r in sweep])
finite = np.isfinite(sweep_val) & (sweep_val < 10 * math.log(10))  # NaN, or a loss far above chance: diverged
cap = sweep_val[finite].max() * 2
fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(np.array(sweep_lrs)[finite], sweep_val[finite], "o-", label="validation loss")
ax.plot(np.array(sweep_lrs)[~finite], np.full((~finite).sum(), cap), "rx", ms=9, label="diverged (NaN or huge)")
ax.axhline(math.log(10), color="gray", ls="--", lw=1, label="chance: ln 10")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("learning rate (log scale)")
ax.set_ylabel("validation loss after 20 epochs (log scale)")
ax.set_title("Validation loss against the learning rate")
ax.legend()
plt.show()
best_sweep = int(np.nanargmin(sweep_val))
print(f"best learning rate of the sweep: {sweep_lrs[best_sweep]:.2g} (validation loss {sweep_val[best_sweep]:.3f})")

# %% [markdown] nbgrader={"grade": false, "grade_id": "spaces_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 4.3 Log-uniform against uniform spaces
#
# Now three hyperparameters at once, 24 trials each, with your `random_search`: learning rate in
# $[10^{-4}, 1)$, weight decay in $[10^{-6}, 10^{-1})$ and momentum — once sampled on log scales
# (`log_uniform`, `momentum`), once uniformly in the same ranges (momentum uniform in $[0.9, 0.999)$).
# The scatter plots show validation accuracy against $\log_{10}$ of the learning rate and of the weight decay:
# the learning rate decides almost everything, the weight decay matters only when it is large.

# %% nbgrader={"grade": false, "grade_id": "spaces", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
space_log = {"lr": ("log_uniform", 1e-4, 1.0), "weight_decay": ("log_uniform", 1e-6, 1e-1), "momentum": ("momentum",)}
space_lin = {"lr": ("uniform", 1e-4, 1.0), "weight_decay": ("uniform", 1e-6, 1e-1), "momentum": ("uniform", 0.9, 0.999)}
best_log, hist_log = search(space_log, 24, seed=0, desc="log-uniform space")
best_lin, hist_lin = search(space_lin, 24, seed=0, desc="uniform space")


def column(history, key, result=False):
    return np.array([(h["result"] if result else h["config"])[key] for h in history], dtype=float)


fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for hist, label, marker in ((hist_log, "log-uniform space", "o"), (hist_lin, "uniform space", "^")):
    acc = column(hist, "val_acc", result=True)
    for ax, key in zip(axes, ("lr", "weight_decay")):
        ax.scatter(np.log10(column(hist, key)), acc, marker=marker, alpha=0.75, label=label)
for ax, key in zip(axes, ("learning rate", "weight decay")):
    ax.set_xlabel(f"log10({key})")
    ax.set_title(f"validation accuracy against log10({key})")
axes[0].set_ylabel("validation accuracy")
axes[0].legend()
plt.show()
for name, best, hist in (("log-uniform", best_log, hist_log), ("uniform", best_lin, hist_lin)):
    lrs = column(hist, "lr")
    val = column(hist, "val_loss", result=True)
    print(f"{name:>11} space: {np.mean(lrs < 1e-2):.0%} of the trials have lr < 1e-2; best validation loss "
          f"{np.nanmin(val):.3f} with lr={best['lr']:.2g}, weight_decay={best['weight_decay']:.2g}, "
          f"momentum={best['momentum']:.3f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "grid_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 4.4 Random against grid search on the same budget
#
# Nine trials over learning rate and weight decay: a $3\times3$ grid (the centres of a $3\times 3$ split of the
# same log ranges) or 9 random log-uniform trials. Projected on the axis that matters, the grid has tried
# **3** learning rates and random search **9** (Bergstra & Bengio, 2012, figure 1).
#
# First on a toy "validation loss" where only the learning rate matters, with a narrow optimum at
# $\mathrm{lr} = 10^{-1.3}$ that no grid line hits, and a weak weight-decay term; it costs nothing, so we can
# repeat random search with 200 seeds. Then on the digits MLP (momentum fixed at 0.9), with 5 seeds.

# %% nbgrader={"grade": false, "grade_id": "grid", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
def centres(lo, hi, k=3):
    return [10 ** (lo + (hi - lo) * (i + 0.5) / k) for i in range(k)]


def toy_train_fn(config):
    """Only lr matters much: a narrow valley around lr = 10**-1.3, plus a weak weight-decay term."""
    x, y = math.log10(config["lr"]), math.log10(config["weight_decay"])
    return {"val_loss": 1 - math.exp(-((x + 1.3) / 0.4) ** 2) + 0.05 * ((y + 3.5) / 2.5) ** 2}


space_2d = {"lr": ("log_uniform", 1e-4, 1.0), "weight_decay": ("log_uniform", 1e-6, 1e-1), "momentum": ("choice", [0.9])}
grid = [{"lr": lr, "weight_decay": wd, "momentum": 0.9} for lr in centres(-4, 0) for wd in centres(-6, -1)]
toy_grid_best = min(toy_train_fn(c)["val_loss"] for c in grid)
toy_random_best = np.array([min(h["result"]["val_loss"] for h in random_search(toy_train_fn, space_2d, 9, s)[1])
                            for s in tqdm(range(200), desc="toy: random search x 200 seeds")])
_, toy_hist = random_search(toy_train_fn, space_2d, 9, 0)

grid_results = [train_mlp(c) for c in tqdm(grid, desc="digits: grid 3x3")]
random_runs = [search(space_2d, 9, seed=s, desc=f"digits: random 9 (seed {s})")[1] for s in range(5)]
grid_best = min(r["val_loss"] for r in grid_results)
random_best = np.array([np.nanmin(column(h, "val_loss", result=True)) for h in random_runs])

fig, axes = plt.subplots(1, 3, figsize=(15, 3.9))
xs, ys = np.meshgrid(np.linspace(-4, 0, 200), np.linspace(-6, -1, 200))
zs = np.vectorize(lambda a, b: toy_train_fn({"lr": 10 ** a, "weight_decay": 10 ** b})["val_loss"])(xs, ys)
axes[0].contourf(xs, ys, zs, levels=20, cmap="viridis_r")
axes[0].scatter(np.log10([c["lr"] for c in grid]), np.log10([c["weight_decay"] for c in grid]), s=70, marker="s",
                c="w", edgecolors="k", label="grid: 3 distinct lr")
axes[0].scatter(np.log10(column(toy_hist, "lr")), np.log10(column(toy_hist, "weight_decay")), s=60, c="C3",
                edgecolors="k", label="random (seed 0): 9 distinct lr")
axes[0].set_xlabel("log10(learning rate)")
axes[0].set_ylabel("log10(weight decay)")
axes[0].set_title("Toy validation loss (dark = low) and 9 trials")
axes[0].legend(fontsize=8, loc="lower left")
axes[1].hist(toy_random_best, bins=25, color="C3", alpha=0.8, label="random search, 200 seeds")
axes[1].axvline(toy_grid_best, color="k", lw=2, label=f"grid: {toy_grid_best:.2f}")
axes[1].set_xlabel("best toy validation loss of 9 trials")
axes[1].set_ylabel("number of seeds")
axes[1].set_title(f"Toy: random beats the grid for {np.mean(toy_random_best < toy_grid_best):.0%} of the seeds")
axes[1].legend(fontsize=8)
axes[2].axhline(grid_best, color="k", lw=2, label=f"grid: {grid_best:.3f}")
axes[2].plot(range(5), random_best, "o", color="C3", ms=8, label=f"random: median {np.median(random_best):.3f}")
axes[2].set_xlabel("random-search seed")
axes[2].set_ylabel("best validation loss of 9 trials")
axes[2].set_title("Digits MLP: grid against random search")
axes[2].legend(fontsize=8)
plt.tight_layout()
plt.show()
print(f"toy: best of 9 trials, grid {toy_grid_best:.3f}; random search median {np.median(toy_random_best):.3f} "
      f"over 200 seeds, better than the grid for {np.mean(toy_random_best < toy_grid_best):.0%} of them")
print(f"digits: best validation loss of 9 trials, grid {grid_best:.3f}; random search over 5 seeds "
      f"{', '.join(f'{v:.3f}' for v in random_best)}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "grid_read_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# On the toy problem the grid's best is fixed by where its 3 learning rates happen to fall, while random search
# samples 9 of them and usually lands closer to the narrow optimum. On the digits MLP the good learning rates
# span about a decade, so a grid line that falls inside it does about as well: the advantage of random search
# grows with the number of hyperparameters that do not matter (each one multiplies a grid's cost but adds
# nothing) and with how narrow the good region of the ones that do is. Read the numbers above for this run.

# %% [markdown] nbgrader={"grade": false, "grade_id": "fine_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 4.5 Coarse to fine
#
# The coarse search (4.3, log-uniform space) shows where the good region is. Narrow the ranges to the
# learning rates and weight decays of the 5 best coarse trials and search again with 12 trials and a new seed
# (momentum stays in its full range). The plot shows both stages in the (log lr, log weight decay) plane, coloured
# by validation loss. What refinement buys is mostly **fewer wasted trials**: compare the median trial of each
# stage, not only the best one (the best of 24 coarse trials is often already near the optimum).

# %% nbgrader={"grade": false, "grade_id": "fine", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
coarse_val = column(hist_log, "val_loss", result=True)
top = np.argsort(np.where(np.isfinite(coarse_val), coarse_val, np.inf))[:5]
lr_top, wd_top = column(hist_log, "lr")[top], column(hist_log, "weight_decay")[top]
space_fine = {"lr": ("log_uniform", lr_top.min(), lr_top.max()),
              "weight_decay": ("log_uniform", wd_top.min(), wd_top.max()),
              "momentum": ("momentum",)}
print("fine space:", {k: (v[0], *(f"{x:.2g}" for x in v[1:])) for k, v in space_fine.items()})
best_fine, hist_fine = search(space_fine, 12, seed=1, desc="fine search")
fine_val = column(hist_fine, "val_loss", result=True)

fig, ax = plt.subplots(figsize=(6.5, 4))
both = np.concatenate([coarse_val, fine_val])
norm = matplotlib.colors.LogNorm(vmin=np.nanmin(both), vmax=math.log(10))
for hist, val, marker, label in ((hist_log, coarse_val, "o", "coarse (24)"), (hist_fine, fine_val, "*", "fine (12)")):
    capped = np.minimum(np.nan_to_num(val, nan=math.log(10)), math.log(10))
    sc = ax.scatter(np.log10(column(hist, "lr")), np.log10(column(hist, "weight_decay")), c=capped,
                    cmap="viridis_r", norm=norm, marker=marker, s=110 if marker == "*" else 45, edgecolors="k",
                    linewidths=0.4, label=label)
fig.colorbar(sc, ax=ax, label="validation loss (log scale, capped at ln 10)")
ax.set_xlabel("log10(learning rate)")
ax.set_ylabel("log10(weight decay)")
ax.set_title("Coarse-to-fine random search")
ax.legend()
plt.show()
for name, val in (("coarse", coarse_val), ("fine", fine_val)):
    print(f"{name:>6}: best validation loss {np.nanmin(val):.3f}, median trial {np.nanmedian(val):.3f}, "
          f"{np.mean(np.nan_to_num(val, nan=np.inf) < 0.2):.0%} of the trials below 0.2, {np.isnan(val).sum()} diverged")

# %% [markdown] nbgrader={"grade": false, "grade_id": "final_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 4.6 The pick, and the test number — once
#
# Over all the trials of 4.3–4.5 (digits only) we keep the config with the smallest **validation** loss, retrain it (training
# is deterministic, so this is the same model) and evaluate it on the test set, once. That number is what we
# report; had we looked at it while choosing, it would no longer be an honest estimate.

# %% nbgrader={"grade": false, "grade_id": "final", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
grid_trials = [{"config": c, "result": r} for c, r in zip(grid, grid_results)]
all_trials = hist_log + hist_lin + grid_trials + [h for run in random_runs for h in run] + hist_fine
val_all = [h["result"]["val_loss"] for h in all_trials]
pick = min(range(len(all_trials)), key=lambda i: val_all[i] if math.isfinite(val_all[i]) else math.inf)
final_config = all_trials[pick]["config"]
final_result, final_model = train_mlp(final_config, return_model=True)
test_loss, test_acc = evaluate(final_model, X_test, y_test)
print("selected on validation:", {k: round(v, 5) if isinstance(v, float) else v for k, v in final_config.items()})
print(f"validation loss {final_result['val_loss']:.3f}, validation accuracy {final_result['val_acc']:.1%}")
print(f"test loss {test_loss:.3f}, test accuracy {test_acc:.1%}  (reported once, never used to choose)")


# %% [markdown] nbgrader={"grade": false, "grade_id": "summary_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## What to take away
#
# * Check that the model can overfit a handful of examples before searching anything.
# * Scale-type hyperparameters (learning rate, weight decay, $1-\beta$ for momentum) are sampled **log-uniformly**;
#   a uniform range spends almost every trial in its last decade.
# * On the same budget, **random search** tries as many values of each hyperparameter as it has trials; a grid
#   tries only its few grid lines, and pays for every unimportant dimension.
# * Search **coarse to fine**: a wide log-uniform search first, then a narrower one around the best trials.
# * Make a search **reproducible** (one seeded generator, a documented draw order) and **select on validation
#   only**; the test set gives one number, once, for the model you already chose.
