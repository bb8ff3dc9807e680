"""Visible checks of assignment 01 (shipped to students; the self-check runs these)."""

from __future__ import annotations

import torch

from autograder.checks import Suite
from autograder.compare import close

suite = Suite(__name__)
SPLITS = ("train", "val", "test")


def make_rows(gen: torch.Generator, n: int, d: int = 4, dtype: str = "float32") -> tuple[torch.Tensor, torch.Tensor]:
    """Rows whose column 0 is the row id, and labels derived from that id (so pairing is checkable).

    Returns x: ``dtype`` [n, d], y: int64 [n] with ``y = (7 * id) % 5``.
    """
    ids = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    x = torch.cat([ids, torch.randn(n, d - 1, generator=gen)], dim=1).to(getattr(torch, dtype))
    y = (torch.arange(n) * 7) % 5
    return x, y


def split_ids(out: dict) -> dict[str, list[int]]:
    return {s: out[s][0][:, 0].round().long().tolist() for s in SPLITS}


def expect_split_form(ctx, out, x: torch.Tensor) -> None:
    """The result is {split: (x_part, y_part)} whose x rows are rows of the input ``x``."""
    n, d = x.shape
    ctx.expect(isinstance(out, dict) and set(out) == set(SPLITS),
               f"split_data should return a dict with keys 'train', 'val', 'test'; got {type(out).__name__}"
               + (f" with keys {sorted(map(str, out))}" if isinstance(out, dict) else ""))
    for s in SPLITS:
        part = out[s]
        ctx.expect(isinstance(part, (tuple, list)) and len(part) == 2,
                   f"out[{s!r}] should be a tuple (x, y)")
        xs, ys = part
        ctx.expect(isinstance(xs, torch.Tensor) and isinstance(ys, torch.Tensor),
                   f"out[{s!r}] should hold two tensors")
        ctx.expect(xs.ndim == 2 and xs.shape[1] == d and xs.dtype == x.dtype,
                   f"out[{s!r}][0] should be {str(x.dtype)[6:]} [rows, {d}] (x's dtype); got {xs.dtype} {list(xs.shape)}")
        ctx.expect(ys.shape == (xs.shape[0],) and ys.dtype == torch.int64,
                   f"out[{s!r}][1] should be int64 [rows] matching x; got {ys.dtype} {list(ys.shape)}")
        ids = xs[:, 0].round().long()
        ctx.expect(bool(((ids >= 0) & (ids < n)).all()) and torch.equal(xs, x[ids.clamp(0, n - 1)]),
                   f"the rows of x in the {s} split are not rows of the input x",
                   hint="select whole rows with an index tensor (x[idx]); do not create or modify rows.")


def run_split(ctx, n: int, seed: int, global_seed: int = 0, d: int = 4, ratios=None, dtype: str = "float32"):
    """Call split_data (``ratios`` passed only when given, so the default is exercised too)."""
    x, y = make_rows(ctx.gen(1000 + n), n, d, dtype)
    kwargs = {} if ratios is None else {"ratios": tuple(ratios)}
    out = ctx.call("split_data", x, y, seed=seed, global_seed=global_seed, **kwargs)
    expect_split_form(ctx, out, x)
    return x, y, out


def expect_judgeable(ctx, out, n: int, what: str) -> None:
    """A property of the rows (pairing, seeding) is judged only on splits that hold at least half of them:
    empty splits, or one row, would satisfy it vacuously (DESIGN.md §7: null submissions score 0)."""
    rows = sum(int(out[s][0].shape[0]) for s in SPLITS)
    ctx.expect(2 * rows >= n, f"the splits hold {rows} of the {n} rows, too few to judge {what} "
                              f"(the sizes and partition checks say what is missing)",
               hint="return every row: train gets int(n*ratios[0]) rows, val int(n*ratios[1]), test the rest.")


@suite.check("split_data", points=1,
             title="returns train/val/test (x, y) with sizes int(n*ratios[0]), int(n*ratios[1]), rest",
             cases=[{"n": 47, "seed": 0}, {"n": 40, "seed": 1, "ratios": [0.5, 0.3, 0.2], "dtype": "float64"}])
def sizes(ctx, n, seed, ratios=None, dtype="float32"):
    _, _, out = run_split(ctx, n, seed, ratios=ratios, dtype=dtype)
    got = tuple(int(out[s][0].shape[0]) for s in SPLITS)
    ctx.expect_reference(got, "sizes (train, val, test)", tier="exact",
                         hint="train gets int(n*ratios[0]) rows, val int(n*ratios[1]), and test all the rest "
                              "(with the `ratios` passed in, not the default ones).")


@suite.check("split_data", points=1, title="every row lands in exactly one split",
             cases=[{"n": 47, "seed": 0}])
def partition(ctx, n, seed):
    _, _, out = run_split(ctx, n, seed)
    expect_partition(ctx, out, n,
                     disjoint_hint="slice one permutation into three disjoint ranges: [:n_train], "
                                   "[n_train:n_train+n_val], [rest].",
                     complete_hint="the test split takes every row left after train and val, not int(n*0.1) of them.")


def expect_partition(ctx, out, n: int, disjoint_hint: str, complete_hint: str) -> dict[str, list[int]]:
    """Every one of the ``n`` rows is in exactly one split (no row twice, none missing); returns the row ids."""
    ids = split_ids(out)
    everything = sorted(ids["train"] + ids["val"] + ids["test"])
    dupes = len(everything) - len(set(everything))
    missing = sorted(set(range(n)) - set(everything))
    ctx.expect(dupes == 0, f"{dupes} rows appear in more than one split (or twice in one)", hint=disjoint_hint)
    ctx.expect(not missing, f"{len(missing)} of the {n} rows are in no split", hint=complete_hint)
    return ids


@suite.check("split_data", points=1, title="x and y stay paired (each label follows its row)",
             cases=[{"n": 47, "seed": 0}])
def pairing(ctx, n, seed):
    x, _, out = run_split(ctx, n, seed)
    expect_judgeable(ctx, out, n, "whether labels follow their rows")
    for s in SPLITS:
        xs, ys = out[s]
        expected = (xs[:, 0].round().long() * 7) % 5
        bad = int((expected != ys).sum())
        ctx.expect(bad == 0, f"in the {s} split, {bad} of {len(ys)} labels do not belong to their rows",
                   hint="x and y were shuffled with different permutations: index both with the same indices.")


@suite.check("split_data", points=1, title="rows are shuffled before splitting",
             cases=[{"n": 47, "seed": 0}])
def shuffled(ctx, n, seed):
    _, _, out = run_split(ctx, n, seed)
    ids = split_ids(out)
    ctx.expect(sorted(ids["train"] + ids["val"] + ids["test"]) == list(range(n)),
               "the splits do not contain every row exactly once, so shuffling cannot be judged",
               hint="slice one permutation of all n rows into train, val and test.")
    train = ids["train"]
    ctx.expect(train != list(range(len(train))),
               "the train split is the first rows in their original order: the data was not shuffled",
               hint="draw a permutation with torch.randperm(n, generator=g) and index x and y with it.")


@suite.check("split_data", points=1, title="the split depends on `seed` only, not on the global RNG",
             cases=[{"n": 47, "seed": 0}])
def seeded(ctx, n, seed):
    _, _, first = run_split(ctx, n, seed, global_seed=1)
    _, _, again = run_split(ctx, n, seed, global_seed=2)
    _, _, other = run_split(ctx, n, seed + 1, global_seed=1)
    expect_judgeable(ctx, first, n, "how the split depends on the seed")
    ctx.expect(split_ids(first) == split_ids(again),
               "two calls with the same seed gave different splits once the global RNG state changed",
               hint="use your own generator, g = torch.Generator().manual_seed(seed), and pass generator=g; "
                    "do not draw from the global RNG.")
    ctx.expect(split_ids(first) != split_ids(other), "seed and seed+1 gave the same split: `seed` is ignored",
               hint="seed the generator with the `seed` argument.")


@suite.check("split_data", points=1, title="matches the reference split (one torch.randperm from the seeded generator)",
             cases=[{"n": 47, "seed": 0}, {"n": 30, "seed": 4, "ratios": [0.6, 0.25, 0.15]}])
def reference(ctx, n, seed, ratios=None):
    _, _, out = run_split(ctx, n, seed, ratios=ratios)
    ctx.expect_reference(split_ids(out), "row ids per split", tier="exact",
                         hint="draw exactly one torch.randperm(n, generator=g); train = perm[:n_train], "
                              "val = perm[n_train:n_train + n_val], test = perm[n_train + n_val:].")


@suite.check("split_data", points=1, title="x and y are not modified (the splits are new tensors)",
             cases=[{"n": 23, "seed": 2}])
def split_inputs_unchanged(ctx, n, seed):
    x, y = make_rows(ctx.gen(1000 + n), n)
    out, after = ctx.call_with_args("split_data", x, y, seed=seed)
    ctx.expect_unchanged(after[0], x, "split_data changed x in place",
                         hint="index with a permutation (x[idx]) to build new tensors; do not shuffle x itself.")
    ctx.expect_unchanged(after[1], y, "split_data changed y in place",
                         hint="index with a permutation (y[idx]) to build new tensors; do not shuffle y itself.")
    expect_split_form(ctx, out, x)
    expect_judgeable(ctx, out, n, "whether the inputs are kept")


def make_features(gen: torch.Generator, n: int, d: int, dtype: str = "float32") -> torch.Tensor:
    """``dtype`` [n, d] with different scales and offsets per feature; the last feature is constant."""
    scale = torch.linspace(0.5, 20.0, d)
    offset = torch.linspace(-3.0, 50.0, d)
    x = torch.randn(n, d, generator=gen) * scale + offset
    x[:, -1] = 2.5
    return x.to(getattr(torch, dtype))


def run_standardize(ctx, n_train, n_other, d, seed, dtype="float32"):
    gen = ctx.gen(seed)
    train = make_features(gen, n_train, d, dtype)
    others = [make_features(gen, k, d, dtype) * 1.5 + 4.0 for k in n_other]
    before = [t.clone() for t in [train, *others]]
    out = ctx.call("standardize", train, *others)
    ctx.expect(isinstance(out, (tuple, list)) and len(out) == 1 + len(others),
               f"standardize should return a tuple of {1 + len(others)} tensors (train first, then each other)")
    for i, t in enumerate(out):
        ctx.expect(isinstance(t, torch.Tensor) and t.shape == before[i].shape and t.dtype == before[i].dtype,
                   f"output {i} should be a {str(before[i].dtype)[6:]} tensor of shape {list(before[i].shape)} "
                   f"(its input's shape and dtype)")
    return train, others, out


@suite.check("standardize", points=1, title="train features get mean 0 and std 1 (constant features centred only)",
             cases=[{"n_train": 30, "n_other": [10, 12], "d": 5, "seed": 7}])
def train_stats(ctx, n_train, n_other, d, seed, dtype="float32"):
    train, others, out = run_standardize(ctx, n_train, n_other, d, seed, dtype)
    z = out[0].float()
    ctx.expect(close(torch.zeros(d - 1), z[:, :-1].mean(0), "composite"),
               "standardized train features do not have mean 0", hint="subtract the train mean per feature (dim 0).")
    ctx.expect(close(torch.ones(d - 1), z[:, :-1].std(0, correction=0), "composite"),
               "standardized train features do not have (population) std 1",
               hint="divide by the train std per feature, computed with correction=0 (as scikit-learn does).")
    ctx.expect(torch.isfinite(z).all() and close(torch.zeros(n_train), z[:, -1], "op"),
               "a constant feature became NaN/inf or was not centred",
               hint="where the train std is 0, divide by 1 instead (the feature is only centred).")
    ctx.expect_reference(z, "standardized train features", tier="op")


@suite.check("standardize", points=1, title="val/test use the train statistics only (no leakage)",
             cases=[{"n_train": 30, "n_other": [10, 12], "d": 5, "seed": 7}])
def no_leakage(ctx, n_train, n_other, d, seed, dtype="float32"):
    train, others, out = run_standardize(ctx, n_train, n_other, d, seed, dtype)
    for i, z in enumerate(out[1:], start=1):
        ctx.expect_reference(z, f"standardized output {i} (an evaluation split)", tier="op",
                             hint="compute mean and std on train_x only and apply those same numbers to every "
                                  "other split; never use statistics of validation or test data.")


@suite.check("standardize", points=1, title="inputs are not modified in place (and the result is right)",
             cases=[{"n_train": 30, "n_other": [10], "d": 5, "seed": 8}])
def inputs_unchanged(ctx, n_train, n_other, d, seed):
    gen = ctx.gen(seed)
    train = make_features(gen, n_train, d)
    other = make_features(gen, n_other[0], d)
    result, after = ctx.call_with_args("standardize", train, other)
    ctx.expect_reference(result, "the standardized (train, other) pair", tier="op")
    ctx.expect(torch.equal(after[0], train) and torch.equal(after[1], other),
               "standardize changed its input tensors in place",
               hint="build new tensors ((x - mean) / std) instead of x -= mean or x.sub_(...).")


# -- stratified_split (issue 13) ----------------------------------------------------------------------------
def make_labelled_rows(gen: torch.Generator, counts: list[int], labels: list[int], d: int = 3,
                       dtype: str = "float32") -> tuple[torch.Tensor, torch.Tensor]:
    """Rows whose column 0 is the row id; ``counts[j]`` rows carry label ``labels[j]``, interleaved at random.

    Returns x: ``dtype`` [n, d], y: int64 [n] (classes neither contiguous in y nor sorted by first appearance).
    """
    y = torch.cat([torch.full((c,), lab, dtype=torch.int64) for c, lab in zip(counts, labels)])
    y = y[torch.randperm(len(y), generator=gen)]
    n = len(y)
    ids = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    x = torch.cat([ids, torch.randn(n, d - 1, generator=gen)], dim=1).to(getattr(torch, dtype))
    return x, y


def run_stratified(ctx, counts, labels, seed, global_seed=0, ratios=None, dtype="float32", data_seed=77):
    """Call stratified_split (``ratios`` passed only when given, so the default is exercised too)."""
    x, y = make_labelled_rows(ctx.gen(data_seed), counts, labels, dtype=dtype)
    kwargs = {} if ratios is None else {"ratios": tuple(ratios)}
    out = ctx.call("stratified_split", x, y, seed=seed, global_seed=global_seed, **kwargs)
    expect_split_form(ctx, out, x)
    return x, y, out


def expect_strat_judgeable(ctx, out, n: int, what: str) -> None:
    """Pairing, seeding and the inputs are judged only on a split that puts rows in every part and keeps at least
    half of them, and not many more than all of them (so returning everything as 'train', the whole data as every
    split, or nothing, earns none of these points)."""
    sizes = [int(out[s][0].shape[0]) for s in SPLITS]
    ctx.expect(min(sizes) > 0 and n <= 2 * sum(sizes) <= 3 * n,
               f"the splits hold {sizes[0]}/{sizes[1]}/{sizes[2]} rows for {n} input rows, so {what} cannot be "
               f"judged (the class-count and partition checks say what is wrong)",
               hint="split every class with the ratios: train int(n_c*ratios[0]) rows, val int(n_c*ratios[1]), "
                    "test the rest of the class.")


STRAT_DEFAULT = {"counts": [20, 13, 31], "labels": [0, 1, 2], "seed": 0}
STRAT_ODD = {"counts": [9, 25, 4, 12], "labels": [7, -1, 3, 10], "seed": 3, "ratios": [0.5, 0.3, 0.2],
             "dtype": "float64"}


@suite.check("stratified_split", points=2,
             title="each class is split int(n_c*ratios[0]) / int(n_c*ratios[1]) / rest (class proportions per split)",
             cases=[STRAT_DEFAULT, STRAT_ODD])
def strat_class_counts(ctx, counts, labels, seed, ratios=None, dtype="float32"):
    x, y, out = run_stratified(ctx, counts, labels, seed, ratios=ratios, dtype=dtype)
    r = ratios if ratios is not None else (0.8, 0.1, 0.1)
    for lab, n_c in zip(labels, counts):
        want = (int(n_c * r[0]), int(n_c * r[1]), n_c - int(n_c * r[0]) - int(n_c * r[1]))
        got = tuple(int((out[s][1] == lab).sum()) for s in SPLITS)
        ctx.expect(got == want,
                   f"class {lab} ({n_c} rows) was split {got[0]}/{got[1]}/{got[2]} into train/val/test; "
                   f"expected {want[0]}/{want[1]}/{want[2]}",
                   hint="split each class on its own: train gets int(n_c*ratios[0]) of its rows, val "
                        "int(n_c*ratios[1]), test the rest of the class (with the `ratios` passed in).")


@suite.check("stratified_split", points=1, title="every row lands in exactly one split, and every split gets rows",
             cases=[STRAT_DEFAULT])
def strat_partition(ctx, counts, labels, seed):
    _, _, out = run_stratified(ctx, counts, labels, seed)
    ids = expect_partition(ctx, out, sum(counts), disjoint_hint="cut each class's permuted rows into three "
                                                                "disjoint ranges.",
                           complete_hint="test takes every row of the class left after train and val.")
    ctx.expect(all(ids[s] for s in SPLITS), "a split is empty although every class has rows for it",
               hint="give each split its share of every class.")


@suite.check("stratified_split", points=1, title="x and y stay paired (each label follows its row)",
             cases=[STRAT_DEFAULT])
def strat_pairing(ctx, counts, labels, seed):
    x, y, out = run_stratified(ctx, counts, labels, seed)
    expect_strat_judgeable(ctx, out, len(y), "whether labels follow their rows")
    for s in SPLITS:
        xs, ys = out[s]
        bad = int((y[xs[:, 0].round().long()] != ys).sum())
        ctx.expect(bad == 0, f"in the {s} split, {bad} of {len(ys)} labels do not belong to their rows",
                   hint="index x and y with the same row indices.")


@suite.check("stratified_split", points=1, title="the split depends on `seed` only, not on the global RNG",
             cases=[STRAT_DEFAULT])
def strat_seeded(ctx, counts, labels, seed):
    _, y, first = run_stratified(ctx, counts, labels, seed, global_seed=1)
    _, _, again = run_stratified(ctx, counts, labels, seed, global_seed=2)
    _, _, other = run_stratified(ctx, counts, labels, seed + 1, global_seed=1)
    expect_strat_judgeable(ctx, first, len(y), "how the split depends on the seed")
    same = {s: sorted(v) for s, v in split_ids(first).items()} == {s: sorted(v) for s, v in split_ids(again).items()}
    ctx.expect(same, "two calls with the same seed gave different splits once the global RNG state changed",
               hint="draw every permutation from your own generator, g = torch.Generator().manual_seed(seed).")
    differ = {s: sorted(v) for s, v in split_ids(first).items()} != {s: sorted(v) for s, v in split_ids(other).items()}
    ctx.expect(differ, "seed and seed+1 put the same rows in each split: `seed` is ignored or the rows of each "
                       "class are not shuffled",
               hint="permute each class's rows with torch.randperm(n_c, generator=g), g seeded with `seed`.")


@suite.check("stratified_split", points=2,
             title="the same rows as the reference (classes in increasing label order, one randperm per class)",
             cases=[{**STRAT_DEFAULT, "seed": 5}, {**STRAT_ODD, "seed": 1, "dtype": "float32"}])
def strat_reference(ctx, counts, labels, seed, ratios=None, dtype="float32"):
    _, _, out = run_stratified(ctx, counts, labels, seed, ratios=ratios, dtype=dtype)
    ctx.expect_reference({s: sorted(v) for s, v in split_ids(out).items()}, "row ids per split (any order within "
                         "a split)", tier="exact",
                         hint="one generator seeded once; for each class in increasing label order (torch.unique), "
                              "permute its row indices (increasing) with one torch.randperm(n_c, generator=g).")


@suite.check("stratified_split", points=1, title="x and y are not modified (the splits are new tensors)",
             cases=[{"counts": [6, 11, 5], "labels": [2, 0, 1], "seed": 4}])
def strat_inputs_unchanged(ctx, counts, labels, seed):
    x, y = make_labelled_rows(ctx.gen(77), counts, labels)
    out, after = ctx.call_with_args("stratified_split", x, y, seed=seed)
    ctx.expect_unchanged(after[0], x, "stratified_split changed x in place",
                         hint="index with row indices (x[idx]) to build new tensors; do not reorder x itself.")
    ctx.expect_unchanged(after[1], y, "stratified_split changed y in place",
                         hint="index with row indices (y[idx]) to build new tensors; do not sort or shuffle y "
                              "itself.")
    expect_split_form(ctx, out, x)
    expect_strat_judgeable(ctx, out, len(y), "whether the inputs are kept")
