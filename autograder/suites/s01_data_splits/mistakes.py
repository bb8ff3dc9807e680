"""Realistic wrong implementations for assignment 01, each with the hint that names it.

Instructor-only. Used to record what each mistake returns (so feedback can say "this matches a
known mistake: ...") and, in the test suite, as submissions that must lose points on ``targets``.
``feedback=`` gives the text the student sees when a property check (rather than a comparison
with recorded values) is what catches the mistake; the tests assert it.
"""

import torch

from autograder.suites.s01_data_splits.checks import suite


def _sizes(n, ratios):
    n_train, n_val = int(n * ratios[0]), int(n * ratios[1])
    return n_train, n_val


@suite.mistake("split_data", name="different_permutations",
               hint="x and y were shuffled with different permutations, so labels no longer match their rows; "
                    "index both with the same permutation.",
               targets=("split_data.pairing",), feedback="x and y were shuffled with different permutations")
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    g = torch.Generator().manual_seed(seed)
    px, py = torch.randperm(len(x), generator=g), torch.randperm(len(x), generator=g)
    n_train, n_val = _sizes(len(x), ratios)
    cut = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, len(x))]
    return {k: (x[px[a:b]], y[py[a:b]]) for k, (a, b) in zip(("train", "val", "test"), cut)}


@suite.mistake("split_data", name="no_shuffle",
               hint="the rows are split in their original order: shuffle with torch.randperm(n, generator=g) first.",
               targets=("split_data.shuffled", "split_data.reference"))
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    n_train, n_val = _sizes(len(x), ratios)
    return {"train": (x[:n_train], y[:n_train]), "val": (x[n_train:n_train + n_val], y[n_train:n_train + n_val]),
            "test": (x[n_train + n_val:], y[n_train + n_val:])}


@suite.mistake("split_data", name="overlapping_slices",
               hint="the val slice starts inside the train slice, so some rows are in two splits.",
               targets=("split_data.partition",), feedback="rows appear in more than one split")
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    p = torch.randperm(len(x), generator=g)
    n_train, n_val = _sizes(len(x), ratios)
    idx = {"train": p[:n_train], "val": p[n_train - 1:n_train - 1 + n_val], "test": p[n_train + n_val - 1:]}
    return {k: (x[i], y[i]) for k, i in idx.items()}


@suite.mistake("split_data", name="test_dropped_remainder",
               hint="the test split takes int(n*0.1) rows and drops the remainder: give test all rows left over.",
               targets=("split_data.sizes", "split_data.partition"))
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    p = torch.randperm(len(x), generator=g)
    n_train, n_val = _sizes(len(x), ratios)
    n_test = int(len(x) * ratios[2])
    idx = {"train": p[:n_train], "val": p[n_train:n_train + n_val], "test": p[n_train + n_val:n_train + n_val + n_test]}
    return {k: (x[i], y[i]) for k, i in idx.items()}


@suite.mistake("split_data", name="rounded_sizes",
               hint="sizes were rounded with round(); the convention is int(n*0.8) and int(n*0.1) (truncation), "
                    "with test taking the rest.",
               targets=("split_data.sizes", "split_data.reference"))
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    p = torch.randperm(len(x), generator=g)
    n_train, n_val = round(len(x) * ratios[0]), round(len(x) * ratios[1])
    idx = {"train": p[:n_train], "val": p[n_train:n_train + n_val], "test": p[n_train + n_val:]}
    return {k: (x[i], y[i]) for k, i in idx.items()}


@suite.mistake("split_data", name="global_rng",
               hint="the permutation comes from the global RNG, so the split changes with unrelated code: draw it "
                    "from torch.Generator().manual_seed(seed).",
               targets=("split_data.seeded",),
               feedback="two calls with the same seed gave different splits once the global RNG state changed")
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    p = torch.randperm(len(x))
    n_train, n_val = _sizes(len(x), ratios)
    idx = {"train": p[:n_train], "val": p[n_train:n_train + n_val], "test": p[n_train + n_val:]}
    return {k: (x[i], y[i]) for k, i in idx.items()}


@suite.mistake("standardize", name="statistics_on_all_data",
               hint="mean and std were computed on all splits together (data leakage): use train_x's statistics "
                    "only.",
               targets=("standardize.no_leakage", "standardize.train_stats"))
def standardize(train_x, *others):
    everything = torch.cat([train_x, *others])
    mean, std = everything.mean(0), everything.std(0, correction=0)
    std = torch.where(std == 0, torch.ones_like(std), std)
    return tuple((t - mean) / std for t in (train_x, *others))


@suite.mistake("standardize", name="per_split_statistics",
               hint="each split was standardized with its own statistics; val and test must reuse the train mean "
                    "and std.",
               targets=("standardize.no_leakage",))
def standardize(train_x, *others):  # noqa: F811
    def one(t):
        mean, std = t.mean(0), t.std(0, correction=0)
        return (t - mean) / torch.where(std == 0, torch.ones_like(std), std)

    return tuple(one(t) for t in (train_x, *others))


@suite.mistake("standardize", name="in_place",
               hint="the inputs were modified in place (x -= mean); return new tensors.",
               targets=("standardize.inputs_unchanged",), feedback="standardize changed its input tensors in place")
def standardize(train_x, *others):  # noqa: F811
    mean, std = train_x.mean(0), train_x.std(0, correction=0)
    std = torch.where(std == 0, torch.ones_like(std), std)
    for t in (*others, train_x):
        t.sub_(mean).div_(std)
    return (train_x, *others)


@suite.mistake("split_data", name="ratios_ignored",
               hint="the `ratios` argument is ignored (0.8/0.1/0.1 is hard-coded): size the splits with the ratios "
                    "passed in.",
               targets=("split_data.sizes", "split_data.reference"))
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    p = torch.randperm(len(x), generator=g)
    n_train, n_val = int(len(x) * 0.8), int(len(x) * 0.1)
    idx = {"train": p[:n_train], "val": p[n_train:n_train + n_val], "test": p[n_train + n_val:]}
    return {k: (x[i], y[i]) for k, i in idx.items()}


@suite.mistake("split_data", name="shuffled_in_place",
               hint="x and y were shuffled in place (x[:] = x[perm]), so the caller's data changed; index into new "
                    "tensors instead.",
               targets=("split_data.split_inputs_unchanged",), feedback="split_data changed x in place")
def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    p = torch.randperm(len(x), generator=g)
    x[:], y[:] = x[p].clone(), y[p].clone()
    n_train, n_val = _sizes(len(x), ratios)
    return {"train": (x[:n_train].clone(), y[:n_train].clone()),
            "val": (x[n_train:n_train + n_val].clone(), y[n_train:n_train + n_val].clone()),
            "test": (x[n_train + n_val:].clone(), y[n_train + n_val:].clone())}


# -- stratified_split (issue 13) ----------------------------------------------------------------------------
def _strat_from_index(x, y, index):
    out = {}
    for name, pieces in index.items():
        idx = torch.cat(pieces) if pieces else torch.zeros(0, dtype=torch.int64)
        out[name] = (x[idx], y[idx])
    return out


def _strat_cut(index, rows, ratios, rounding=int):
    n_train, n_val = rounding(len(rows) * ratios[0]), rounding(len(rows) * ratios[1])
    index["train"].append(rows[:n_train])
    index["val"].append(rows[n_train:n_train + n_val])
    index["test"].append(rows[n_train + n_val:])


@suite.mistake("stratified_split", name="not_stratified",
               hint="the rows were split all together (like split_data), not class by class: split each class's "
                    "rows with the ratios.",
               targets=("stratified_split.strat_class_counts", "stratified_split.strat_reference"))
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    g = torch.Generator().manual_seed(seed)
    p = torch.randperm(len(y), generator=g)
    index = {"train": [], "val": [], "test": []}
    _strat_cut(index, p, ratios)
    return _strat_from_index(x, y, index)


@suite.mistake("stratified_split", name="rounded_class_sizes",
               hint="class sizes were rounded with round(); the convention is int(n_c*ratios[0]) and "
                    "int(n_c*ratios[1]) (truncation), with test taking the rest of the class.",
               targets=("stratified_split.strat_class_counts", "stratified_split.strat_reference"))
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    index = {"train": [], "val": [], "test": []}
    for c in torch.unique(y):
        rows = torch.nonzero(y == c).flatten()
        _strat_cut(index, rows[torch.randperm(len(rows), generator=g)], ratios, rounding=round)
    return _strat_from_index(x, y, index)


@suite.mistake("stratified_split", name="reseeded_per_class",
               hint="a new generator is seeded for every class; seed one generator once and draw every class's "
                    "permutation from it, in turn.",
               targets=("stratified_split.strat_reference",))
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    index = {"train": [], "val": [], "test": []}
    for c in torch.unique(y):
        g = torch.Generator().manual_seed(seed)
        rows = torch.nonzero(y == c).flatten()
        _strat_cut(index, rows[torch.randperm(len(rows), generator=g)], ratios)
    return _strat_from_index(x, y, index)


@suite.mistake("stratified_split", name="classes_in_order_of_appearance",
               hint="the classes were visited in order of first appearance in y; the draw order visits them in "
                    "increasing label order (torch.unique(y) is sorted).",
               targets=("stratified_split.strat_reference",))
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    index = {"train": [], "val": [], "test": []}
    seen = []
    for c in y.tolist():
        if c not in seen:
            seen.append(c)
    for c in seen:
        rows = torch.nonzero(y == c).flatten()
        _strat_cut(index, rows[torch.randperm(len(rows), generator=g)], ratios)
    return _strat_from_index(x, y, index)


@suite.mistake("stratified_split", name="one_permutation_then_group",
               hint="one permutation of all rows was drawn and each class cut in that order; the draw order is one "
                    "torch.randperm(n_c, generator=g) per class, in increasing label order.",
               targets=("stratified_split.strat_reference",))
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    p = torch.randperm(len(y), generator=g)
    index = {"train": [], "val": [], "test": []}
    for c in torch.unique(y):
        _strat_cut(index, p[y[p] == c], ratios)
    return _strat_from_index(x, y, index)


@suite.mistake("stratified_split", name="class_rows_not_shuffled",
               hint="each class's rows were cut in their original order: permute them with "
                    "torch.randperm(n_c, generator=g) first.",
               targets=("stratified_split.strat_seeded", "stratified_split.strat_reference"))
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    index = {"train": [], "val": [], "test": []}
    for c in torch.unique(y):
        _strat_cut(index, torch.nonzero(y == c).flatten(), ratios)
    return _strat_from_index(x, y, index)


@suite.mistake("stratified_split", name="global_rng",
               hint="the permutations come from the global RNG, so the split changes with unrelated code: draw them "
                    "from torch.Generator().manual_seed(seed).",
               targets=("stratified_split.strat_seeded",),
               feedback="two calls with the same seed gave different splits once the global RNG state changed")
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    index = {"train": [], "val": [], "test": []}
    for c in torch.unique(y):
        rows = torch.nonzero(y == c).flatten()
        _strat_cut(index, rows[torch.randperm(len(rows))], ratios)
    return _strat_from_index(x, y, index)


@suite.mistake("stratified_split", name="labels_not_reindexed",
               hint="x was indexed with the split's rows but y was not (or with other indices): index both with "
                    "the same row indices.",
               targets=("stratified_split.strat_pairing",), feedback="labels do not belong to their rows")
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    index = {"train": [], "val": [], "test": []}
    for c in torch.unique(y):
        rows = torch.nonzero(y == c).flatten()
        _strat_cut(index, rows[torch.randperm(len(rows), generator=g)], ratios)
    out = _strat_from_index(x, y, index)
    labels = y[torch.randperm(len(y), generator=g)]
    start = 0
    for name in ("train", "val", "test"):
        k = len(out[name][1])
        out[name] = (out[name][0], labels[start:start + k])
        start += k
    return out


@suite.mistake("stratified_split", name="class_remainder_dropped",
               hint="test takes int(n_c*ratios[2]) rows of each class and drops the remainder: give test all the "
                    "rows of the class left over.",
               targets=("stratified_split.strat_class_counts", "stratified_split.strat_partition"),
               feedback="rows are in no split")
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    index = {"train": [], "val": [], "test": []}
    for c in torch.unique(y):
        rows = torch.nonzero(y == c).flatten()
        rows = rows[torch.randperm(len(rows), generator=g)]
        n_train, n_val = int(len(rows) * ratios[0]), int(len(rows) * ratios[1])
        n_test = int(len(rows) * ratios[2])
        index["train"].append(rows[:n_train])
        index["val"].append(rows[n_train:n_train + n_val])
        index["test"].append(rows[n_train + n_val:n_train + n_val + n_test])
    return _strat_from_index(x, y, index)


@suite.mistake("stratified_split", name="sorted_in_place",
               hint="x and y were reordered in place (e.g. y[:] = y[order]), so the caller's data changed; build new "
                    "tensors by indexing.",
               targets=("stratified_split.strat_inputs_unchanged",), feedback="stratified_split changed x in place")
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):  # noqa: F811
    g = torch.Generator().manual_seed(seed)
    index = {"train": [], "val": [], "test": []}
    for c in torch.unique(y):
        rows = torch.nonzero(y == c).flatten()
        _strat_cut(index, rows[torch.randperm(len(rows), generator=g)], ratios)
    out = _strat_from_index(x, y, index)
    order = torch.argsort(y, stable=True)
    x[:], y[:] = x[order].clone(), y[order].clone()   # "tidy up": the caller's data sorted by class
    return out
