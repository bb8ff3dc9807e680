"""Hidden checks of assignment 10: the visible logic on other bounds, seeds, spaces and scripts (never shipped)."""

from autograder.suites.s10_hparam_search import checks as v
from autograder.suites.s10_hparam_search.checks import suite

NAN = v.NAN
v.SCRIPTS.update({
    # val argmin 6, test argmin 0, train argmin 1, val + test argmin 0
    "plain2": {"val": [0.45, 0.41, 0.5, 0.44, 0.6, 0.5, 0.12, 0.3], "test": [0.05, 0.2, 0.3, 0.3, 0.2, 0.1, 0.4, 0.3],
               "train": [0.3, 0.01, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], "best": 6},
    "plain3": {"val": [0.3, 0.25, 0.9, 0.2, 0.21], "test": [0.01, 0.5, 0.5, 0.5, 0.5], "train": [0.5, 0.5, 0.01, 0.5, 0.5],
               "best": 3},
    # every trial tied: the first; ties broken by the test loss would give the last
    "ties2": {"val": [0.7, 0.7, 0.7], "test": [0.3, 0.2, 0.1], "train": [0.3, 0.2, 0.1], "best": 0},
    "ties3": {"val": [0.9, 0.1, 0.1], "test": [0.5, 0.4, 0.05], "train": [0.5, 0.4, 0.05], "best": 1},
    # a NaN in the middle (torch.argmin returns it), and a NaN first (Python's min() keeps it)
    "nan2": {"val": [0.9, NAN, 0.95, 0.8, NAN, 0.8], "test": [0.1, 0.1, 0.1, 0.5, 0.1, 0.1],
             "train": [0.2, NAN, 0.2, 0.2, NAN, 0.2], "best": 3},
    "nan3": {"val": [NAN, 0.7, 0.2, 0.5], "test": [0.5, 0.5, 0.5, 0.01], "train": [NAN, 0.1, 0.5, 0.5], "best": 2},
    # one trial, diverged: still returned
    "single": {"val": [NAN], "test": [0.3], "train": [NAN], "best": 0},
})

suite.hidden(v.values, points=1.5, cases=[{"low": 3e-6, "high": 0.02, "n": 9, "seed": 21},
                                          {"low": 1.0, "high": 10.0, "n": 1, "seed": 22}])
suite.hidden(v.in_range, points=0.5, cases=[{"low": 2.0, "high": 50.0, "seed": 23},
                                            {"low": 1e-9, "high": 1e-3, "seed": 27}])
suite.hidden(v.log_is_uniform, points=1, cases=[{"low": 0.001, "high": 0.1, "seed": 24},
                                                 {"low": 7.0, "high": 7e4, "seed": 28}])
suite.hidden(v.uses_generator, points=1, cases=[{"low": 1e-8, "high": 1e-7, "n": 3, "seed": 25},
                                                 {"low": 5.0, "high": 5000.0, "n": 11, "seed": 26}])

suite.hidden(v.momentum_values, points=1, cases=[{"n": 9, "seed": 31}, {"n": 2, "seed": 32}])
suite.hidden(v.momentum_distribution, points=1, cases=[{"seed": 33}, {"seed": 34}])

suite.hidden(v.selects_on_validation, points=1.5, cases=[{"space": "reordered", "seed": 41, "script": "plain2"},
                                                         {"space": "lr_only", "seed": 50, "script": "plain3"}])
suite.hidden(v.ties_first, points=0.5, cases=[{"space": "mixed", "seed": 42, "script": "ties2"},
                                              {"space": "reordered", "seed": 51, "script": "ties3"}])
suite.hidden(v.nan_never_best, points=1, cases=[{"space": "two", "seed": 43, "script": "nan2"},
                                                 {"space": "lr_only", "seed": 44, "script": "nan3"}])
suite.hidden(v.history, points=1, cases=[{"space": "two", "seed": 45, "script": "nan2"},
                                          {"space": "lr_only", "seed": 46, "script": "single"}])
suite.hidden(v.draws, points=2, cases=[{"space": "two", "seed": 47, "n_trials": 6},
                                        {"space": "mixed", "seed": 1234, "n_trials": 1}])
suite.hidden(v.seeded, points=0.5, cases=[{"space": "lr_only", "seed": 48, "n_trials": 3},
                                          {"space": "reordered", "seed": 52, "n_trials": 2}])
suite.hidden(v.space_unchanged, points=0.5, cases=[{"space": "mixed", "seed": 49, "n_trials": 2},
                                                   {"space": "two", "seed": 53, "n_trials": 1}])
