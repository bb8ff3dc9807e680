"""Hidden checks of assignment 07: the visible logic on other sizes, seeds and arguments (never shipped)."""

from autograder.suites.s07_regularization_showdown import checks as v
from autograder.suites.s07_regularization_showdown.checks import suite

mm = v.make_model_checks
suite.hidden(mm["baseline"], points=0.5, cases=[{"hidden": [7], "in_features": 9, "num_classes": 2, "seed": 21},
                                                {"hidden": [6, 8, 5], "in_features": 784, "num_classes": 7, "seed": 22}])
suite.hidden(mm["dropout"], points=0.5, cases=[{"hidden": [10, 4, 6], "p": 0.15, "in_features": 13, "num_classes": 3,
                                                "seed": 23},
                                               {"hidden": [12], "p": 0.8, "in_features": 784, "num_classes": 5, "seed": 24}])
suite.hidden(mm["bn"], points=0.5, cases=[{"hidden": [9], "in_features": 14, "num_classes": 6, "n": 5, "seed": 25},
                                          {"hidden": [7, 5], "in_features": 784, "num_classes": 3, "n": 9, "seed": 26}])
suite.hidden(mm["ln"], points=0.5, cases=[{"hidden": [5, 9, 4], "in_features": 11, "num_classes": 2, "seed": 27},
                                          {"hidden": [13], "in_features": 784, "num_classes": 10, "seed": 28}])
suite.hidden(mm["penalty_kinds"], points=0.5,
             cases=[{"kind": "l1", "hidden": [4, 4], "in_features": 8, "num_classes": 6, "seed": 29},
                    {"kind": "l2", "hidden": [10, 3], "in_features": 784, "num_classes": 2, "seed": 30}])

suite.hidden(v.optimizer, points=0.5, cases=[{"kind": "l2", "lr": 0.4, "lam": 0.05, "seed": 31},
                                             {"kind": "bn", "lr": 3e-4, "lam": 0.02, "seed": 32}])
suite.hidden(v.penalty_values, points=1, cases=[{"kind": "l1", "lam": 2.5, "seed": 33}, {"kind": "l2", "lam": 0.05, "seed": 34},
                                                {"kind": "l1", "seed": 35}])

suite.hidden(v.one_pass, points=0.5, cases=[{"n": 13, "batch": 5, "seed": 41}, {"n": 4, "batch": 4, "seed": 42}])
suite.hidden(v.parameters, points=1, cases=[{"n": 14, "batch": 3, "seed": 43, "lr": 0.2},
                                            {"n": 8, "batch": 3, "seed": 44, "lr": 0.03, "momentum": 0.5}])
suite.hidden(v.train_mode, points=0.5, cases=[{"n": 12, "batch": 5, "seed": 45}, {"n": 5, "batch": 3, "seed": 46}])
suite.hidden(v.penalty, points=0.5, cases=[{"n": 11, "batch": 4, "seed": 47, "lam": 1.0},
                                           {"n": 6, "batch": 2, "seed": 48, "lam": 0.3}])
suite.hidden(v.mean_loss, points=0.5, cases=[{"n": 14, "batch": 6, "seed": 49}, {"n": 8, "batch": 3, "seed": 50}])

suite.hidden(v.values, points=1, cases=[{"n": 11, "batch": 3, "seed": 51}, {"n": 16, "batch": 7, "seed": 52}])
suite.hidden(v.eval_mode, points=0.5, cases=[{"n": 12, "batch": 5, "seed": 53, "train": True},
                                             {"n": 6, "batch": 4, "seed": 54, "train": True}])
suite.hidden(v.no_grad, points=0.5, cases=[{"n": 7, "batch": 2, "seed": 55}, {"n": 12, "batch": 6, "seed": 56}])
suite.hidden(v.eval_one_pass, points=0.5, cases=[{"n": 9, "batch": 2, "seed": 57}, {"n": 15, "batch": 4, "seed": 58}])

suite.hidden(v.keras_order, points=0.5, cases=[{"before": False, "n": 4, "seed": 61}, {"before": None, "n": 11, "seed": 62}])
suite.hidden(v.bn_before, points=0.5, cases=[{"before": True, "n": 5, "seed": 63}, {"before": True, "n": 12, "seed": 64}])
suite.hidden(v.keras_counts_forward, points=0.5, cases=[{"before": False, "n": 6, "seed": 65},
                                                        {"before": True, "n": 10, "seed": 66}])
