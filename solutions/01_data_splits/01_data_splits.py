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
#     assignment: 01_data_splits
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 01 · Train, validation and test splits
#
# A model is only as trustworthy as the data it was *not* trained on. In this assignment you write the
# two functions every experiment in this course starts with:
#
# 1. `split_data` — shuffle once, then cut the data into **train / validation / test**;
# 2. `standardize` — rescale features with statistics computed on the **training split only**.
#
# **Conventions for the whole course**
#
# * Splits take a `seed` and draw from their **own** `torch.Generator`, never from the global RNG, so the
#   split does not change when unrelated code draws random numbers.
# * With `n` rows and `ratios=(0.8, 0.1, 0.1)`, the sizes are `int(n*0.8)`, `int(n*0.1)` and *the rest*
#   (so no row is ever lost to rounding).
#
# After each function, a **self-check** cell runs the visible checks and tells you what went wrong. Hidden
# checks (other shapes and seeds) run when you submit; the self-check tells you how many points they hold.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import torch
from autograder import check

torch.set_num_threads(1)


# %% [markdown] nbgrader={"grade": false, "grade_id": "split_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. `split_data`
#
# Let $\pi$ be a uniformly random permutation of the row indices $\{0,\dots,n-1\}$ drawn from a seeded
# generator. With $n_{\text{train}} = \lfloor 0.8\,n \rfloor$ and $n_{\text{val}} = \lfloor 0.1\,n \rfloor$:
#
# $$
# \text{train} = \pi[0:n_{\text{train}}],\quad
# \text{val} = \pi[n_{\text{train}}:n_{\text{train}}+n_{\text{val}}],\quad
# \text{test} = \pi[n_{\text{train}}+n_{\text{val}}:n].
# $$
#
# `x` and `y` must be indexed with **the same** permutation: row $i$ of `x` keeps its label `y[i]`.
# Draw exactly one `torch.randperm(n, generator=g)`: the order of random draws is part of the contract.

# %% nbgrader={"grade": false, "grade_id": "split_data", "locked": false, "schema_version": 3, "solution": true, "task": false}
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    """
    Shuffle rows once and split them into train, validation and test sets.

    Inputs:
    - x: tensor of shape (N, D), one example per row.
    - y: tensor of shape (N,), the label of each row.
    - ratios: (train, val, test) fractions; train gets int(N * ratios[0]) rows, val gets
      int(N * ratios[1]) rows, and test gets all remaining rows.
    - seed: integer seed of a fresh torch.Generator; the permutation is drawn with exactly one call
      torch.randperm(N, generator=g). The global RNG is not used.

    Returns a dict {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)};
    x_* keep x's dtype and D columns, y_* keep y's dtype, and each row keeps its own label.
    """
    ### BEGIN SOLUTION
    n = x.shape[0]
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    n_train = int(n * ratios[0])
    n_val = int(n * ratios[1])
    index = {
        "train": perm[:n_train],
        "val": perm[n_train:n_train + n_val],
        "test": perm[n_train + n_val:],
    }
    return {name: (x[idx], y[idx]) for name, idx in index.items()}
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_split_data", "locked": true, "points": 12, "schema_version": 3, "solution": false, "task": false}
points = check("split_data")
### BEGIN HIDDEN TESTS
points += check("split_data", hidden=True)
### END HIDDEN TESTS
points


# %% [markdown] nbgrader={"grade": false, "grade_id": "std_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. `standardize` without leakage
#
# Standardizing feature $j$ maps $x_{ij} \mapsto (x_{ij} - \mu_j)/\sigma_j$. The statistics must come from
# the **training split only**:
#
# $$
# \mu_j = \frac{1}{n_{\text{train}}}\sum_{i \in \text{train}} x_{ij},\qquad
# \sigma_j = \sqrt{\frac{1}{n_{\text{train}}}\sum_{i\in\text{train}} (x_{ij}-\mu_j)^2}
# $$
#
# (the population standard deviation, `correction=0`, as scikit-learn's `StandardScaler`). Validation and
# test rows are transformed with the *same* $\mu, \sigma$. Computing them on all the data lets information
# from the evaluation sets leak into training — the model then looks better than it is.
#
# A feature that is constant on the training split has $\sigma_j = 0$: divide by $1$ instead (it is only
# centred). Do not modify the inputs in place.

# %% nbgrader={"grade": false, "grade_id": "standardize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def standardize(train_x, *others):
    """
    Standardize features with statistics of the training split only.

    Inputs:
    - train_x: tensor of shape (N, D), the training features.
    - others: any number of tensors of shape (M_k, D) (validation, test, ...).

    Returns a tuple (train_z, *others_z), each of the same shape as its input, where
    z = (x - mean) / std with mean and std (correction=0) computed per feature over the rows of
    train_x; features whose train std is 0 are divided by 1. Inputs are not modified.
    """
    ### BEGIN SOLUTION
    mean = train_x.mean(dim=0)
    std = train_x.std(dim=0, correction=0)
    std = torch.where(std == 0, torch.ones_like(std), std)
    return tuple((t - mean) / std for t in (train_x, *others))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_standardize", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
points = check("standardize")
### BEGIN HIDDEN TESTS
points += check("standardize", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "balance_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Look at your splits: class balance on a real data set
#
# The cell below splits scikit-learn's **digits** data set (1,797 8×8 images of handwritten digits, shipped
# with scikit-learn, so nothing is downloaded) with your `split_data` and shows how many examples of each
# class land in each split. A random split keeps the class proportions roughly equal; with small
# validation sets, expect some wobble — which is one reason to report a confidence interval, not a single
# accuracy.

# %% nbgrader={"grade": false, "grade_id": "balance_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

digits = load_digits()
x_all = torch.tensor(digits.data, dtype=torch.float32)
y_all = torch.tensor(digits.target, dtype=torch.int64)
print(f"data set: scikit-learn digits, {len(x_all)} examples, {x_all.shape[1]} features, 10 classes")

splits = split_data(x_all, y_all, seed=0)
counts = {name: torch.bincount(ys, minlength=10) for name, (_, ys) in splits.items()}
print("class  " + "  ".join(f"{c:>5d}" for c in range(10)))
for name, c in counts.items():
    share = c.float() / c.sum()
    print(f"{name:<6} " + "  ".join(f"{s:5.1%}" for s in share.tolist()) + f"   (n={int(c.sum())})")

fig, ax = plt.subplots(figsize=(7, 3))
width = 0.27
for k, (name, c) in enumerate(counts.items()):
    ax.bar(torch.arange(10) + (k - 1) * width, c.float() / c.sum(), width, label=name)
ax.set_xlabel("class"); ax.set_ylabel("share of split"); ax.set_xticks(range(10)); ax.legend()
ax.set_title("class balance per split")
plt.show()

train_z, val_z, test_z = standardize(splits["train"][0], splits["val"][0], splits["test"][0])
print("train mean (first 5 features):", train_z.mean(0)[:5])
print("val mean   (first 5 features):", val_z.mean(0)[:5], "<- close to, but not exactly, 0: that is expected")

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * Shuffle **once**, with a seeded generator, and index `x` and `y` together.
# * Sizes by truncation, with test taking the rest, so every row is used exactly once.
# * Fit preprocessing (means, stds, vocabularies, PCA…) on **train only**, then apply it everywhere.
