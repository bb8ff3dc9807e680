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
# 2. `standardize` — rescale features with statistics computed on the **training split only**;
# 3. `stratified_split` — the same split, class by class, so every split keeps the class proportions.
#
# Then three experiments show why each matters: class balance per split on a real data set, a **leakage**
# experiment in which pure noise reaches ~90 % "validation accuracy", and the **confidence interval** of a
# validation accuracy next to K-fold cross-validation. Two written questions close the notebook.
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
import math

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
# with scikit-learn, so nothing is downloaded) with your `split_data` and shows which share of each split
# every class takes. The ten classes are almost equally frequent (about 10 % each, the dashed line). A random
# split keeps the proportions only *roughly*: the validation split has 179 rows, so a class expected ~18 times
# can easily appear 12 or 25 times — section 4 fixes that.

# %% nbgrader={"grade": false, "grade_id": "balance_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

digits = load_digits()
x_all = torch.tensor(digits.data, dtype=torch.float32)
y_all = torch.tensor(digits.target, dtype=torch.int64)
print(f"data set: scikit-learn digits, {len(x_all)} examples, {x_all.shape[1]} features, 10 classes")


def class_shares(splits):
    """{split name: share of each of the 10 classes in that split}."""
    return {name: torch.bincount(ys, minlength=10).double() / max(len(ys), 1) for name, (_, ys) in splits.items()}


def plot_shares(ax, shares, title):
    width = 0.27
    for k, (name, share) in enumerate(shares.items()):
        ax.bar(torch.arange(10) + (k - 1) * width, share, width, label=name)
    ax.axhline(0.1, color="k", ls="--", lw=1, label="10 % (balanced)")
    ax.set_xlabel("class (digit)"); ax.set_ylabel("share of the split"); ax.set_xticks(range(10))
    ax.set_ylim(0, 0.16); ax.set_title(title)


splits = split_data(x_all, y_all, seed=0)
random_shares = class_shares(splits)
print("class  " + "  ".join(f"{c:>5d}" for c in range(10)))
for name, share in random_shares.items():
    print(f"{name:<6} " + "  ".join(f"{s:5.1%}" for s in share.tolist()) + f"   (n={len(splits[name][1])})")
overall = torch.bincount(y_all, minlength=10).double() / len(y_all)
print(f"largest gap between a class's share in val and in the whole data set: "
      f"{(random_shares['val'] - overall).abs().max():.1%} points")

fig, ax = plt.subplots(figsize=(8, 3.2))
plot_shares(ax, random_shares, "class balance per split (random split_data, seed 0)")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)   # outside the axes: covers no bar
plt.tight_layout(); plt.show()

train_z, val_z, test_z = standardize(splits["train"][0], splits["val"][0], splits["test"][0])
print("train mean (first 5 features):", train_z.mean(0)[:5])
print("val mean   (first 5 features):", val_z.mean(0)[:5], "<- close to, but not exactly, 0: that is expected")

# %% [markdown] nbgrader={"grade": false, "grade_id": "strat_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. `stratified_split`: every class in the same proportions in every split
#
# A **stratified** split splits *each class separately* with the same ratios, then puts the pieces together.
# For class $c$ with $n_c$ rows, let $\pi_c$ be a random permutation of its row indices; then
#
# $$
# \text{train}_c = \pi_c[0:\lfloor r_0 n_c\rfloor],\quad
# \text{val}_c = \pi_c[\lfloor r_0 n_c\rfloor:\lfloor r_0 n_c\rfloor+\lfloor r_1 n_c\rfloor],\quad
# \text{test}_c = \text{the rest},\qquad
# \text{train} = \textstyle\bigcup_c \text{train}_c \;\ldots
# $$
#
# so every split holds each class in the proportion it has in the data (up to one row per class from
# truncation). With rare classes or small validation sets this removes a source of noise from every
# comparison you make on the validation split (and it is what scikit-learn's `StratifiedKFold` does).
#
# **The order of random draws is part of the contract**: one generator `g = torch.Generator().manual_seed(seed)`;
# for each class in **increasing label order** (`torch.unique(y)` is sorted), the row indices of that class in
# increasing order (`torch.nonzero(y == c)`), permuted with **one** `torch.randperm(n_c, generator=g)`. The
# order of rows *within* a split is yours to choose (the checks compare which rows land where, not their order).

# %% nbgrader={"grade": false, "grade_id": "stratified_split", "locked": false, "schema_version": 3, "solution": true, "task": false}
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    """
    Split rows into train, validation and test sets, class by class, with the same ratios in each class.

    Inputs:
    - x: tensor of shape (N, D), one example per row.
    - y: int64 tensor of shape (N,), the class label of each row (any integer labels, not necessarily
      0..C-1 or contiguous).
    - ratios: (train, val, test) fractions; within class c (n_c rows), train gets int(n_c * ratios[0])
      rows, val gets int(n_c * ratios[1]) rows and test all remaining rows of that class.
    - seed: integer seed of a fresh torch.Generator g. Draw order: for each class c in increasing label
      order, its row indices in increasing order are permuted with exactly one
      torch.randperm(n_c, generator=g). The global RNG is not used.

    Returns a dict {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)}
    like split_data: x_* keep x's dtype and D columns, y_* keep y's dtype, each row keeps its own label.
    Rows within a split may be in any order. x and y are not modified.
    """
    g = torch.Generator().manual_seed(seed)
    index = {"train": [], "val": [], "test": []}
    for c in torch.unique(y):
        # TODO: permute the row indices of class c (increasing order) with one torch.randperm(n_c, generator=g),
        # cut them int(n_c*ratios[0]) / int(n_c*ratios[1]) / rest, and append each piece to index[name].
        ### BEGIN SOLUTION
        rows = torch.nonzero(y == c).flatten()
        rows = rows[torch.randperm(len(rows), generator=g)]
        n_train = int(len(rows) * ratios[0])
        n_val = int(len(rows) * ratios[1])
        index["train"].append(rows[:n_train])
        index["val"].append(rows[n_train:n_train + n_val])
        index["test"].append(rows[n_train + n_val:])
        ### END SOLUTION
    out = {}
    for name, pieces in index.items():
        idx = torch.cat(pieces) if pieces else torch.zeros(0, dtype=torch.int64)
        out[name] = (x[idx], y[idx])
    return out


# %% nbgrader={"grade": true, "grade_id": "check_stratified_split", "locked": true, "points": 12, "schema_version": 3, "solution": false, "task": false}
points = check("stratified_split")
### BEGIN HIDDEN TESTS
points += check("stratified_split", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "strat_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
strat_shares = class_shares(stratified_split(x_all, y_all, seed=0))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), sharey=True)
plot_shares(axes[0], random_shares, "random split (split_data)")
plot_shares(axes[1], strat_shares, "stratified split (stratified_split)")
axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
plt.tight_layout(); plt.show()

# The same comparison over 50 seeds: how far does a class's share in val stray from its share overall?
gap_random = torch.tensor([(class_shares(split_data(x_all, y_all, seed=s))["val"] - overall).abs().max() for s in range(50)])
gap_strat = torch.tensor([(class_shares(stratified_split(x_all, y_all, seed=s))["val"] - overall).abs().max()
                          for s in range(50)])
print(f"largest class-share gap in val, mean over 50 seeds: random {gap_random.mean():.2%}, "
      f"stratified {gap_strat.mean():.2%} (points)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "leak_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 5. Leakage that matters: feature selection before the split
#
# Standardizing with all the data (section 2) leaks a little. Choosing *which features to use* with all the data
# can leak everything. The classic demonstration (Hastie, Tibshirani & Friedman, *Elements of Statistical
# Learning*, §7.10.2): 100 examples with 5,000 pure-noise features and **random** labels — there is nothing
# to learn, so any honest validation accuracy is about 50 %.
#
# * **Leaky**: pick the 20 features most correlated with the labels on *all* 100 rows, then split 50/50 with
#   `split_data`, fit a nearest-centroid classifier on train and score it on val.
# * **Clean**: split first, pick the 20 features on the *training* rows only, same classifier.
#
# Among 5,000 noise features, some correlate with the labels *of these particular rows* by chance; the leaky
# selection picks exactly those, validation rows included, so validation accuracy measures the selection, not
# the model. Every step that looks at labels (or, more mildly, at any data statistics) belongs *inside* the
# training split — inside each fold of a cross-validation too.

# %% nbgrader={"grade": false, "grade_id": "leak_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
from tqdm.auto import tqdm


def top_features(x, y, k):
    """Indices of the k features with the largest |correlation| with the (0/1) labels."""
    xc, yc = x - x.mean(0), y.double() - y.double().mean()
    corr = (xc * yc[:, None]).sum(0) / (xc.norm(dim=0) * yc.norm() + 1e-12)
    return corr.abs().topk(k).indices


def centroid_accuracy(x_train, y_train, x_val, y_val):
    """Nearest-centroid classifier (one mean per class) fitted on train, accuracy on val."""
    centroids = torch.stack([x_train[y_train == c].mean(0) for c in (0, 1)])
    return (torch.cdist(x_val, centroids).argmin(1) == y_val).double().mean().item()


def leakage_run(seed, n=100, d=5000, k=20):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (n,), generator=g)
    parts = split_data(x, y, ratios=(0.5, 0.5, 0.0), seed=seed)
    (x_tr, y_tr), (x_va, y_va) = parts["train"], parts["val"]
    leaky = top_features(x, y, k)               # looks at the validation rows' labels
    clean = top_features(x_tr, y_tr, k)         # training rows only
    return (centroid_accuracy(x_tr[:, leaky], y_tr, x_va[:, leaky], y_va),
            centroid_accuracy(x_tr[:, clean], y_tr, x_va[:, clean], y_va))


leak_acc = torch.tensor([leakage_run(s) for s in tqdm(range(50), desc="leakage runs")])
print("data set: 100 x 5000 seeded Gaussian noise, random 0/1 labels, 50 seeds")
for j, name in enumerate(("selection on all data (leaky)", "selection on train only (clean)")):
    print(f"{name:<32} validation accuracy {leak_acc[:, j].mean():.3f} ± {leak_acc[:, j].std():.3f} (mean ± std)")

fig, ax = plt.subplots(figsize=(6, 3.2))
ax.boxplot([leak_acc[:, 0].numpy(), leak_acc[:, 1].numpy()])
ax.set_xticks([1, 2], ["features chosen on all data\n(leaky)", "features chosen on train\n(clean)"])
ax.axhline(0.5, color="k", ls="--", lw=1, label="chance (random labels)")
ax.set_ylabel("validation accuracy"); ax.set_ylim(0, 1); ax.legend(loc="lower left", fontsize=8)
ax.set_title("random labels, 50 seeds: leakage invents signal")
plt.tight_layout(); plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "ci_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 6. How precise is a validation accuracy? A confidence interval, and K-fold cross-validation
#
# A validation accuracy $\hat p$ measured on $n$ examples is an average of $n$ coin flips (right/wrong). Its
# standard error is $\sqrt{\hat p(1-\hat p)/n}$, so an approximate 95 % confidence interval is
#
# $$
# \hat p \pm 1.96\,\sqrt{\frac{\hat p\,(1-\hat p)}{n}} .
# $$
#
# With $n \approx 180$ and $\hat p \approx 0.95$ that is about $\pm 3$ points: two models 1 point apart on this
# validation split are *not* distinguishable. (Near 0 or 1, or for small $n$, the Wilson interval is better; the
# normal one is enough here.)
#
# **K-fold cross-validation** uses the data better: shuffle once, cut the rows into $K$ folds, train $K$ times,
# each time validating on one fold and training on the other $K-1$, and average the $K$ accuracies. Every row is
# used for validation exactly once, so the estimate rests on all $n_{\text{train}}+n_{\text{val}}$ rows. The
# cell below trains a softmax-regression classifier (standardized with *its own* training folds only) on the
# digits and compares the single split's interval with 5-fold cross-validation. The test split is not touched.

# %% nbgrader={"grade": false, "grade_id": "ci_code", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import torch.nn.functional as F


def softmax_regression_accuracy(x_train, y_train, x_val, y_val, steps=150, lr=0.1):
    """Standardize with train statistics, fit a linear softmax classifier (full-batch Adam), val accuracy."""
    x_train, x_val = standardize(x_train, x_val)
    torch.manual_seed(0)
    model = torch.nn.Linear(x_train.shape[1], 10)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x_train), y_train).backward()
        opt.step()
    with torch.no_grad():
        return (model(x_val).argmax(1) == y_val).double().mean().item()


def normal_ci(p, n, z=1.96):
    half = z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


parts = stratified_split(x_all, y_all, seed=0)
(x_tr, y_tr), (x_va, y_va) = parts["train"], parts["val"]
acc_val = softmax_regression_accuracy(x_tr, y_tr, x_va, y_va)
ci_val = normal_ci(acc_val, len(y_va))
print(f"single split: validation accuracy {acc_val:.3f} on n={len(y_va)}, "
      f"95 % CI [{ci_val[0]:.3f}, {ci_val[1]:.3f}] (±{(ci_val[1] - ci_val[0]) / 2:.3f})")

# 5-fold cross-validation on train + val (one permutation, K nearly equal folds).
x_cv, y_cv = torch.cat([x_tr, x_va]), torch.cat([y_tr, y_va])
K = 5
folds = torch.randperm(len(y_cv), generator=torch.Generator().manual_seed(0)).tensor_split(K)
fold_acc = []
for k in tqdm(range(K), desc="5-fold CV"):
    train_rows = torch.cat([f for j, f in enumerate(folds) if j != k])
    fold_acc.append(softmax_regression_accuracy(x_cv[train_rows], y_cv[train_rows], x_cv[folds[k]], y_cv[folds[k]]))
fold_acc = torch.tensor(fold_acc)
acc_cv = fold_acc.mean().item()
ci_cv = normal_ci(acc_cv, len(y_cv))
print(f"5-fold CV: fold accuracies {[round(a, 3) for a in fold_acc.tolist()]}, mean {acc_cv:.3f} on n={len(y_cv)}, "
      f"95 % CI [{ci_cv[0]:.3f}, {ci_cv[1]:.3f}] (±{(ci_cv[1] - ci_cv[0]) / 2:.3f})")

fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.errorbar([0], [acc_val], yerr=[[acc_val - ci_val[0]], [ci_val[1] - acc_val]], fmt="o", capsize=6,
            label=f"one validation split (n={len(y_va)})")
ax.errorbar([1], [acc_cv], yerr=[[acc_cv - ci_cv[0]], [ci_cv[1] - acc_cv]], fmt="s", capsize=6,
            label=f"5-fold CV mean (n={len(y_cv)})")
ax.scatter([1.15] * K, fold_acc, marker="x", color="gray", label="the 5 folds")
ax.set_xticks([0, 1], ["single split", "5-fold CV"]); ax.set_xlim(-0.5, 1.6)
ax.set_ylabel("accuracy (95 % CI)"); ax.set_title("softmax regression on digits: how sure is the estimate?")
ax.legend(fontsize=8, loc="lower left")
plt.tight_layout(); plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "questions_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 7. Written questions (graded by hand)
#
# Answer in a few sentences each, in the cells below, quoting numbers from your runs above.
#
# **Q1.** In section 5 the labels were random, yet the leaky pipeline scored far above 50 % on validation rows it
# never trained on. Explain where the information came from, and say where feature selection (and
# standardization, and any other step fitted on data) must go in a K-fold cross-validation.

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_leakage", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** The selection looked at the labels of *all* 100 rows, the validation rows included. Among
# 5,000 noise features, a few correlate with these particular labels by chance (|r| ≈ 0.35 with n = 100); the
# leaky step keeps exactly those, so on the chosen 20 features the validation rows' labels *are* predictable —
# from the selection, not from any structure that would hold for new data (about 90 % vs 50 % clean in our 50
# seeds). On fresh data the leaky model would be at chance. Every step fitted on data (feature selection,
# standardization, PCA, imputation, hyperparameter choices) is part of the model: inside cross-validation it is
# re-fitted on the K−1 training folds of each split and only *applied* to the held-out fold; the test split is
# touched once, at the end.

# %% [markdown] nbgrader={"grade": false, "grade_id": "question_ci", "locked": true, "schema_version": 3, "solution": false, "task": false}
# **Q2.** A classmate reports that model A reaches 96.1 % and model B 96.7 % validation accuracy on the digits
# validation split (about 180 examples), and concludes that B is better. Use the confidence interval of section 6
# to judge the claim, and say what you would do instead.

# %% [markdown] nbgrader={"grade": true, "grade_id": "answer_ci", "locked": false, "points": 2, "schema_version": 3, "solution": true, "task": false}
# **Model answer.** With n ≈ 180 and p ≈ 0.96, the standard error is √(0.96·0.04/180) ≈ 0.015, so each 95 % CI
# is about ±3 points: 0.6 points (one example!) is far inside the noise, and the claim is not supported. (The
# two accuracies are also correlated — same rows — so a paired comparison, e.g. McNemar's test on the examples
# where they disagree, is sharper than two overlapping intervals.) Instead: use K-fold cross-validation (every
# row validates once, here ≈1,600 rows: ±1.1 instead of ±2.7 points), repeat over several seeds/splits, use a
# stratified split so class mix does not add noise, and report mean ± CI; pick B only if the difference is
# consistently larger than that spread — and confirm once on the untouched test split.

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * Shuffle **once**, with a seeded generator, and index `x` and `y` together.
# * Sizes by truncation, with test taking the rest, so every row is used exactly once.
# * Stratify by class when classes are rare or the validation split is small: each split gets each class's share.
# * Fit preprocessing **and feature selection** (means, stds, vocabularies, PCA, chosen features…) on **train
#   only**, then apply it everywhere — leakage can turn pure noise into 90 % "validation accuracy".
# * A validation accuracy is an estimate: report its confidence interval ($\pm 1.96\sqrt{p(1-p)/n}$), and use
#   K-fold cross-validation when the data are few.
