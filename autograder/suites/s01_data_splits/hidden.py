"""Hidden checks of assignment 01: the visible logic on other sizes and seeds (never shipped)."""

from autograder.suites.s01_data_splits import checks as v
from autograder.suites.s01_data_splits.checks import suite

SPLIT_CASES = [{"n": 19, "seed": 11}, {"n": 103, "seed": 5}]
RATIO_CASES = [{"n": 19, "seed": 11, "ratios": [0.7, 0.2, 0.1]}, {"n": 103, "seed": 5, "ratios": [0.34, 0.33, 0.33]}]
STD_CASES = [{"n_train": 17, "n_other": [6], "d": 3, "seed": 21},
             {"n_train": 64, "n_other": [9, 9, 4], "d": 6, "seed": 4, "dtype": "float64"}]
# One training row: every train std is 0, so each feature is only centred (and the others shifted).
LEAK_CASES = [*STD_CASES, {"n_train": 1, "n_other": [5], "d": 4, "seed": 9}]

suite.hidden(v.sizes, points=1, cases=[SPLIT_CASES[0], {**RATIO_CASES[1], "dtype": "float64"}])
suite.hidden(v.partition, points=1, cases=SPLIT_CASES)
suite.hidden(v.pairing, points=1, cases=SPLIT_CASES)
suite.hidden(v.seeded, points=1, cases=SPLIT_CASES)
suite.hidden(v.reference, points=1, cases=RATIO_CASES)
suite.hidden(v.train_stats, points=1, cases=STD_CASES)
suite.hidden(v.no_leakage, points=1, cases=LEAK_CASES)

# stratified_split (issue 13): other class sizes and labels; a one-row class (it lands in test).
STRAT_CASES = [{"counts": [15, 40, 1, 22], "labels": [4, 1, 9, 2], "seed": 8},
               {"counts": [33, 17], "labels": [1, 0], "seed": 2, "ratios": [0.6, 0.2, 0.2], "dtype": "float64"}]
suite.hidden(v.strat_class_counts, points=1, cases=STRAT_CASES)
STRAT_PLAIN = [STRAT_CASES[0], {"counts": [33, 17], "labels": [1, 0], "seed": 2}]
suite.hidden(v.strat_partition, points=1, cases=STRAT_PLAIN)
suite.hidden(v.strat_pairing, points=1, cases=STRAT_PLAIN)
suite.hidden(v.strat_reference, points=1, cases=STRAT_CASES)
