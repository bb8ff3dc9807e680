"""Assignment 01 as a course (issue 13): the stratified_split exercise (alternative implementations keep full
marks, null submissions score 0 on every check, the draw order is what the reference pins), the written
questions (graded by hand, model answers not released), and the experiments: every figure renders when its
cell runs, and the claims the text makes hold on the notebook's own data."""

from __future__ import annotations

import pytest
from helpers import in_process_judge, load_nb, run_solution_capturing_figures, solution_path, student_path

ASSIGNMENT = "01_data_splits"

# -- stratified_split: alternatives and null submissions (in process, through the suite's own checks) ---------
ALT_STRATIFIED = {
    # Boolean masks, a dict of index lists, the rows of each split sorted (any order within a split is allowed).
    "masks_sorted": r'''
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    g = torch.Generator().manual_seed(seed)
    where = torch.full((len(y),), -1, dtype=torch.int64)
    for c in sorted(set(y.tolist())):
        idx = (y == c).nonzero(as_tuple=True)[0]
        idx = idx[torch.randperm(idx.numel(), generator=g)]
        a = int(idx.numel() * ratios[0])
        b = a + int(idx.numel() * ratios[1])
        where[idx[:a]], where[idx[a:b]], where[idx[b:]] = 0, 1, 2
    out = {}
    for k, name in enumerate(("train", "val", "test")):
        rows = (where == k).nonzero(as_tuple=True)[0]
        out[name] = (x.index_select(0, rows), y.index_select(0, rows))
    return out
''',
    # numpy for the bookkeeping, tensor_split-free slicing, splits shuffled again at the end (extra draws after
    # the contract's ones do not change which rows land where).
    "numpy_reshuffled": r'''
def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = np.unique(y.numpy())
    buckets = {"train": [], "val": [], "test": []}
    for c in labels:
        rows = np.flatnonzero(y.numpy() == c)
        rows = rows[torch.randperm(len(rows), generator=g).numpy()]
        n_tr, n_va = int(len(rows) * ratios[0]), int(len(rows) * ratios[1])
        buckets["train"] += rows[:n_tr].tolist()
        buckets["val"] += rows[n_tr:n_tr + n_va].tolist()
        buckets["test"] += rows[n_tr + n_va:].tolist()
    out = {}
    for name, rows in buckets.items():
        rows = torch.tensor(rows, dtype=torch.long)
        rows = rows[torch.randperm(len(rows), generator=g)]
        out[name] = (x[rows].clone(), y[rows].clone())
    return out
''',
}

NULL_STRATIFIED = {
    "everything_train": "def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):\n"
                        "    return {'train': (x, y), 'val': (x[:0], y[:0]), 'test': (x[:0], y[:0])}",
    "empty": "def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):\n"
             "    return {s: (x[:0], y[:0]) for s in ('train', 'val', 'test')}",
    "zeros": "def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):\n"
             "    return {s: (torch.zeros_like(x), torch.zeros_like(y)) for s in ('train', 'val', 'test')}",
    "same_rows_everywhere": "def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):\n"
                            "    return {s: (x.clone(), y.clone()) for s in ('train', 'val', 'test')}",
}


@pytest.fixture(scope="module")
def judge():
    return in_process_judge(ASSIGNMENT)


@pytest.mark.parametrize("name", sorted(ALT_STRATIFIED))
def test_alternative_stratified_splits_get_full_marks(judge, name):
    results = judge("stratified_split", ALT_STRATIFIED[name])
    assert all(r.score == r.points for r in results.values()), \
        {n: r.feedback for n, r in results.items() if r.score < r.points}


@pytest.mark.parametrize("name", sorted(NULL_STRATIFIED))
def test_null_stratified_splits_score_zero_on_every_check(judge, name):
    results = judge("stratified_split", NULL_STRATIFIED[name])
    assert all(r.score == 0 for r in results.values()), {n: r.score for n, r in results.items() if r.score}


def test_split_data_is_not_a_stratified_split(judge):
    """A plain random split (the previous exercise) loses the class-count and reference points, nothing else."""
    results = judge("stratified_split", "def stratified_split(x, y, ratios=(0.8, 0.1, 0.1), seed=0):\n"
                                        "    return split_data(x, y, ratios, seed)")
    lost = {n for n, r in results.items() if r.score < r.points}
    assert {n.split(".")[1] for n in lost} == {"strat_class_counts", "strat_reference"}, lost


# -- written questions -------------------------------------------------------------------------------------
MANUAL = {"answer_leakage", "answer_ci"}


def test_manual_answers_are_graded_by_hand_and_not_released():
    for nb, released in ((load_nb(solution_path(ASSIGNMENT)), False), (load_nb(student_path(ASSIGNMENT)), True)):
        cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
                 if c["metadata"].get("nbgrader", {}).get("grade_id") in MANUAL}
        assert set(cells) == MANUAL
        for c in cells.values():
            meta = c["metadata"]["nbgrader"]
            assert c["cell_type"] == "markdown" and meta["grade"] and meta["solution"] and meta["points"] == 2
            assert ("Model answer" in "".join(c["source"])) != released
    student_text = "\n".join("".join(c["source"]) for c in load_nb(student_path(ASSIGNMENT))["cells"])
    assert "Model answer" not in student_text


# -- the experiments: figures render, claims hold -----------------------------------------------------------
FIGURE_CELLS = {"balance_code": 1, "strat_code": 1, "leak_code": 1, "ci_code": 1}


@pytest.fixture(scope="module")
def run():
    """Every code cell of the solution notebook in this process: (namespace, {grade_id: figures})."""
    return run_solution_capturing_figures(ASSIGNMENT)


def test_every_experiment_cell_draws_labelled_figures(run):
    _, shown = run
    for gid, n in FIGURE_CELLS.items():
        assert len(shown.get(gid, [])) == n, (gid, shown.get(gid))
        for axes in shown[gid]:
            for title, xlabel, ylabel in axes:
                assert title and ylabel, (gid, title, xlabel, ylabel)


def test_training_and_plot_cells_are_skipped_when_grading():
    nb = load_nb(solution_path(ASSIGNMENT))
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in FIGURE_CELLS:
            assert "skip-when-grading" in cell["metadata"].get("tags", []), gid


def test_random_split_is_visibly_unbalanced_and_stratified_is_not(run):
    ns, _ = run
    # The text: a random val split strays by several points from a class's overall share; stratified by < 1.
    assert float(ns["gap_random"].mean()) > 0.02
    assert float(ns["gap_strat"].mean()) < 0.01
    assert float((ns["random_shares"]["val"] - ns["overall"]).abs().max()) > 0.03


def test_leaky_selection_beats_chance_and_clean_selection_does_not(run):
    ns, _ = run
    leaky, clean = ns["leak_acc"][:, 0], ns["leak_acc"][:, 1]
    assert float(leaky.mean()) > 0.8          # "~90 %" on pure noise
    assert abs(float(clean.mean()) - 0.5) < 0.05
    assert float((leaky > clean).double().mean()) > 0.9


def test_confidence_interval_is_computed_and_cv_narrows_it(run):
    ns, _ = run
    lo, hi = ns["ci_val"]
    n = len(ns["y_va"])
    p = ns["acc_val"]
    assert lo < p < hi and abs((hi - lo) / 2 - 1.96 * (p * (1 - p) / n) ** 0.5) < 1e-9
    assert 0.015 < (hi - lo) / 2 < 0.04       # "about ±3 points"
    lo_cv, hi_cv = ns["ci_cv"]
    assert (hi_cv - lo_cv) < (hi - lo) / 2    # K-fold's interval is over twice as narrow
    assert len(ns["fold_acc"]) == ns["K"] == 5 and all(0.9 < a < 1.0 for a in ns["fold_acc"].tolist())
