"""Hidden checks of assignment 05: the visible logic on other shapes, seeds, probabilities and dtypes."""

from autograder.suites.s05_dropout import checks as v
from autograder.suites.s05_dropout.checks import suite

BY_HAND_CASES = [{"seed": 11}, {"seed": 12}]
for _step, _fn in v.by_hand.items():
    suite.hidden(_fn, points=0.25, cases=BY_HAND_CASES)
suite.hidden(v.by_hand_inputs_unchanged, points=0.25, cases=BY_HAND_CASES)

suite.hidden(v.mask_convention, points=1, cases=[{"shape": [7, 3], "p": 0.15, "seed": 201},
                                                 {"shape": [4, 4], "p": "drawn", "seed": 202, "dtype": "float64"},
                                                 {"shape": [2, 2, 2, 3], "p": 0.9, "seed": 203}])
suite.hidden(v.train_values, points=1, cases=[{"shape": [10, 12], "p": 0.6, "seed": 211, "dtype": "float64"},
                                              {"shape": [3, 4, 9], "p": 0.2, "seed": 212}])
suite.hidden(v.eval_identity, points=0.5, cases=[{"shape": [3, 2, 4], "p": 0.7, "seed": 221},
                                                 {"shape": [9, 2], "p": 0.25, "seed": 222}])
suite.hidden(v.edge_p, points=0.5, cases=[{"shape": [2, 3, 4], "seed": 231}, {"shape": [11], "seed": 232}])
suite.hidden(v.input_unchanged, points=0.5, cases=[{"shape": [3, 5, 4], "p": 0.35, "seed": 241},
                                                   {"shape": [12, 3], "p": 0.8, "seed": 242}])
suite.hidden(v.expectation, points=1, cases=[{"d": 4, "k": 12000, "p": 0.8, "seed": 251},
                                             {"d": 8, "k": 10000, "p": 0.1, "seed": 252}])

suite.hidden(v.train_grad, points=1, cases=[{"shape": [4, 3, 5], "p": 0.7, "seed": 261, "dtype": "float64"},
                                            {"shape": [9, 6], "p": 0.2, "seed": 262}])
suite.hidden(v.eval_grad, points=0.5, cases=[{"shape": [2, 8], "p": 0.3, "seed": 271},
                                             {"shape": [3, 3, 3], "p": 0.9, "seed": 272}])
suite.hidden(v.edge_grad, points=0.5, cases=[{"shape": [6], "seed": 281}, {"shape": [2, 5, 2], "seed": 282}])

suite.hidden(v.mlp_structure, points=0.5, cases=[{"input_shape": [3, 4, 4], "num_classes": 2, "hidden": [20], "p": 0.1},
                                                 {"input_shape": [9], "num_classes": 3, "hidden": [8, 8, 8, 8],
                                                  "p": 0.65}])
suite.hidden(v.mlp_params, points=0.5, cases=[{"input_shape": [1, 5, 5], "num_classes": 3, "hidden": [10, 20, 5],
                                               "p": 0.4},
                                              {"input_shape": [7], "num_classes": 9, "hidden": [13], "p": 0.0}])
suite.hidden(v.mlp_probe, points=1, cases=[{"input_shape": [2, 5, 6], "num_classes": 3, "hidden": [40, 50, 30],
                                            "p": 0.6, "n": 48, "seed": 301},
                                           {"n": 16, "seed": 302, "defaults": True}])
suite.hidden(v.mlp_modes, points=0.5, cases=[{"input_shape": [10], "num_classes": 2, "hidden": [16, 16], "p": 0.2,
                                              "n": 5, "seed": 311},
                                             {"input_shape": [1, 4, 4], "num_classes": 3, "hidden": [24], "p": 0.7,
                                              "n": 9, "seed": 312}])

suite.hidden(v.cnn_structure, points=0.5, cases=[{"p1": 0.1, "p2": 0.2}, {"p1": 0.7, "p2": 0.05}])
suite.hidden(v.cnn_probe, points=1, cases=[{"p1": 0.65, "p2": 0.25, "n": 10, "seed": 321},
                                           {"n": 8, "seed": 322, "defaults": True}])
# cnn_modes has no hidden twin: its logic does not depend on p1/p2, and the CNN is the slowest model to build.
