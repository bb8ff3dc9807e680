"""Hidden checks of assignment 08: the visible logic on other models, sizes, seeds and arguments (never shipped)."""

from autograder.suites.s08_training_diagnostics import checks as v
from autograder.suites.s08_training_diagnostics.checks import suite

suite.hidden(v.ln_classes, points=0.5, cases=[{"classes": [27, 2]}, {"classes": [1000, 5]}])

suite.hidden(v.loss_value, points=0.5, cases=[{"kind": "mlp", "seed": 11, "n": 9}, {"kind": "mlp", "seed": 12, "n": 30}])
suite.hidden(v.loss_side_effects, points=0.5, cases=[{"kind": "mlp", "seed": 13, "n": 7, "train": True},
                                                     {"kind": "branchy", "seed": 14, "n": 8, "train": False}])

suite.hidden(v.shrink_values, points=0.5, cases=[{"kind": "branchy", "seed": 21, "scale": None},
                                                 {"kind": "mlp", "seed": 22, "scale": 0.25}])
suite.hidden(v.shrink_only_last, points=0.5, cases=[{"kind": "mlp", "seed": 23, "scale": 0.1},
                                                    {"kind": "branchy", "seed": 24, "scale": 0.01}])
suite.hidden(v.shrink_in_place, points=0.5, cases=[{"kind": "branchy", "seed": 25, "scale": None},
                                                   {"kind": "mlp", "seed": 26, "scale": 0.3}])

suite.hidden(v.layers_and_means, points=0.5, cases=[{"kind": "mlp", "seed": 31}, {"kind": "branchy", "seed": 32}])
suite.hidden(v.stds, points=1, cases=[{"kind": "mlp", "seed": 33}, {"kind": "branchy", "seed": 34}])
suite.hidden(v.tanh_saturation, points=1, cases=[{"seed": 35, "n": 20, "d": 6, "threshold": None},
                                                 {"seed": 36, "n": 16, "d": 10, "threshold": 0.875}])
suite.hidden(v.relu_saturation, points=0.5, cases=[{"seed": 37, "n": 24, "d": 5, "threshold": 0.9},
                                                   {"seed": 38, "n": 12, "d": 12, "threshold": None}])
suite.hidden(v.hooks_removed, points=0.5, cases=[{"kind": "mlp", "seed": 39}, {"kind": "branchy", "seed": 40}])
suite.hidden(v.stats_side_effects, points=0.5, cases=[{"kind": "mlp", "seed": 41, "train": True},
                                                      {"kind": "branchy", "seed": 42, "train": False}])

suite.hidden(v.ratio_selection, points=0.5, cases=[{"kind": "mlp", "seed": 51, "lr": 0.01, "frozen": ["3"]},
                                                   {"kind": "branchy", "seed": 52, "lr": 1.0, "frozen": ["block.fc2"]}])
suite.hidden(v.ratio_value, points=1, cases=[{"kind": "branchy", "seed": 53, "lr": 0.05, "frozen": []},
                                             {"kind": "mlp", "seed": 54, "lr": 2e-4, "frozen": []}])
suite.hidden(v.ratio_side_effects, points=0.5, cases=[{"kind": "branchy", "seed": 55, "lr": 0.2, "frozen": []},
                                                      {"kind": "mlp", "seed": 56, "lr": 1e-3, "frozen": []}])

suite.hidden(v.relu_gain, points=0.5, cases=[{"seed": 61, "sizes": [300, 300]}, {"seed": 62, "sizes": [224, 224, 224, 224]}])
suite.hidden(v.tanh_gain, points=0.5, cases=[{"seed": 63, "sizes": [300, 300]}, {"seed": 64, "sizes": [240, 240, 240]}])
suite.hidden(v.fan_in_mode, points=0.5, cases=[{"seed": 65, "sizes": [600, 100], "nonlinearity": "tanh"},
                                               {"seed": 66, "sizes": [128, 512, 96], "nonlinearity": "relu"}])
suite.hidden(v.normal_shape, points=0.5, cases=[{"seed": 67, "sizes": [300, 300], "nonlinearity": "relu"},
                                                {"seed": 68, "sizes": [256, 256], "nonlinearity": "tanh"}])
suite.hidden(v.biases_and_others, points=0.5, cases=[{"seed": 69, "sizes": [20, 30, 10], "nonlinearity": "tanh", "bias": True},
                                                     {"seed": 70, "sizes": [16, 16, 16, 16, 4], "nonlinearity": "relu",
                                                      "bias": False}])
suite.hidden(v.generator_draws, points=1, cases=[{"seed": 71, "sizes": [12, 50, 7], "nonlinearity": "relu", "gen_seed": 3},
                                                 {"seed": 72, "sizes": [33, 21, 21, 5], "nonlinearity": "tanh", "gen_seed": 11}])
suite.hidden(v.init_in_place, points=0.5, cases=[{"seed": 73, "sizes": [300, 300, 300], "nonlinearity": "tanh"},
                                                 {"seed": 74, "sizes": [224, 224], "nonlinearity": "relu"}])
