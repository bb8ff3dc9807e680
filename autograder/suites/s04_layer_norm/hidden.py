"""Hidden checks of assignment 04: the visible logic on other shapes and seeds (never shipped)."""

from autograder.suites.s04_layer_norm import checks as v
from autograder.suites.s04_layer_norm.checks import suite

suite.hidden(v.row_stats, points=1, cases=[{"shape": [3, 8], "seed": 50}, {"shape": [2, 4, 6], "seed": 51}])
suite.hidden(v.matches_torch, points=1, cases=[{"shape": [7, 3], "seed": 52}, {"shape": [6, 6], "seed": 53},
                                               {"shape": [3, 2, 5], "seed": 54}])
suite.hidden(v.eps_inside, points=1, cases=[{"shape": [3, 6], "seed": 55, "eps": 0.1},
                                            {"shape": [5, 3], "seed": 56, "eps": 0.02}])
suite.hidden(v.row_independent, points=1, cases=[{"shape": [4, 7], "seed": 57}, {"shape": [6, 3], "seed": 58}])

suite.hidden(v.vs_autograd, points=1, cases=[{"shape": [6, 3], "seed": 60}, {"shape": [5, 5], "seed": 61}])
suite.hidden(v.vs_numerical, points=1, cases=[{"shape": [4, 4], "seed": 62}, {"shape": [2, 7], "seed": 63}])
suite.hidden(v.leading_dims, points=1, cases=[{"shape": [3, 2, 5], "seed": 64}, {"shape": [2, 2, 2, 3], "seed": 65}])

suite.hidden(v.wn_linear, points=1, cases=[{"shape": [6, 3], "seed": 70}, {"shape": [2, 9], "seed": 71}])
suite.hidden(v.wn_properties, points=1, cases=[{"shape": [5, 4], "seed": 72}, {"shape": [8, 2], "seed": 73}])
suite.hidden(v.wn_conv, points=1, cases=[{"shape": [4, 3, 1, 1], "seed": 74}, {"shape": [2, 3, 2, 3], "seed": 75}])

suite.hidden(v.module_train_eval, points=1, cases=[{"shape": [6, 3], "seed": 80},
                                                   {"shape": [3, 7], "seed": 81, "eps": 0.3, "scale": 0.3}])
suite.hidden(v.module_autograd, points=1, cases=[{"shape": [3, 6], "seed": 82}, {"shape": [2, 2, 4], "seed": 83}])

suite.hidden(v.consistency, points=1, cases=[{"shape": [4, 6], "seed": 90},
                                             {"shape": [16, 3], "seed": 91, "eps": 0.2, "momentum": 0.5},
                                             # a batch whose largest BN deviation is negative: |.| matters
                                             {"shape": [8, 5], "seed": 1000043}])

suite.hidden(v.normalize_named, points=1, cases=[{"shape": [2, 3, 4, 4], "seed": 120}, {"shape": [5, 2, 3, 1], "seed": 121}])
suite.hidden(v.normalize_any_dims, points=1, cases=[{"shape": [3, 4, 2, 2], "groups": 2, "seed": 122},
                                                    {"shape": [2, 6, 1, 4], "groups": 6, "seed": 123}])
suite.hidden(v.normalize_eps, points=0.5, cases=[{"shape": [2, 5, 3, 2], "seed": 124, "eps": 0.05},
                                                 {"shape": [3, 2, 4, 1], "seed": 125, "eps": 0.2}])
suite.hidden(v.rms_matches_torch, points=0.5, cases=[{"shape": [3, 7], "seed": 130}, {"shape": [2, 2, 6], "seed": 131}])
suite.hidden(v.rms_eps, points=0.5, cases=[{"shape": [6, 3], "seed": 132, "eps": 0.1},
                                           {"shape": [2, 3, 5], "seed": 133, "eps": 0.02}])
