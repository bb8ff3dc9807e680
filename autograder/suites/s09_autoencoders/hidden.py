"""Hidden checks of assignment 09: the visible logic on other shapes, seeds and arguments (never shipped)."""

from autograder.suites.s09_autoencoders import checks as v
from autograder.suites.s09_autoencoders.checks import suite

# Autoencoder: other widths (the default hidden width once more, code_dim=1)
suite.hidden(v.structure, points=1, cases=[{"in_dim": 784, "code_dim": 16, "hidden": None},
                                           {"in_dim": 9, "code_dim": 1, "hidden": 4}])
suite.hidden(v.encode, points=1, cases=[{"in_dim": 20, "code_dim": 2, "hidden": 5, "n": 1, "seed": 11},
                                        {"in_dim": 6, "code_dim": 3, "hidden": None, "n": 9, "seed": 12}])
suite.hidden(v.decode, points=1, cases=[{"in_dim": 20, "code_dim": 2, "hidden": 5, "n": 1, "seed": 13},
                                        {"in_dim": 6, "code_dim": 3, "hidden": None, "n": 9, "seed": 14}])
suite.hidden(v.gradients, points=0.5, cases=[{"in_dim": 12, "code_dim": 2, "hidden": None, "n": 1, "seed": 17},
                                             {"in_dim": 7, "code_dim": 4, "hidden": 3, "n": 6, "seed": 18}])
suite.hidden(v.forward, points=0.5, cases=[{"in_dim": 15, "code_dim": 5, "hidden": 9, "n": 4, "seed": 15},
                                           {"in_dim": 784, "code_dim": 32, "hidden": None, "n": 2, "seed": 16}])

# mask_noise: other shapes, dtypes and p
suite.hidden(v.draw, points=1, cases=[{"shape": [50], "p": 0.1, "seed": 21, "dtype": "float64"},
                                      {"shape": [3, 4, 5], "p": 0.9, "seed": 22, "dtype": "float32"}])
suite.hidden(v.kept_values, points=0.5, cases=[{"shape": [3, 1, 6, 6], "p": 0.8, "seed": 23},
                                               {"shape": [40], "p": 0.2, "seed": 24}])
suite.hidden(v.input_unchanged, points=0.5, cases=[{"shape": [2, 1, 4, 4], "p": 0.3, "seed": 25},
                                                   {"shape": [30], "p": 0.7, "seed": 26}])
suite.hidden(v.edge_p, points=0.5, cases=[{"shape": [2, 3, 4], "seed": 27}, {"shape": [1, 9], "seed": 28}])
suite.hidden(v.generator_use, points=0.5, cases=[{"shape": [4, 1, 3, 3], "p": 0.35, "seed": 29},
                                                 {"shape": [17], "p": 0.6, "seed": 30}])

# MaskNoise
suite.hidden(v.train_mode, points=0.5, cases=[{"n": 12, "d": 25, "p": 0.45, "seed": 31},
                                              {"n": 20, "d": 10, "p": 0.2, "seed": None}])
suite.hidden(v.eval_mode, points=0.5, cases=[{"n": 9, "d": 12, "p": 0.7, "seed": 32},
                                             {"n": 3, "d": 30, "p": 0.25, "seed": 33}])

# denoising_step
suite.hidden(v.update, points=1, cases=[{"n": 8, "d": 5, "c": 2, "p": 0.6, "lr": 0.8, "seed": 41},
                                        {"n": 1, "d": 9, "c": 4, "p": 0.2, "lr": 0.3, "seed": 42}])
suite.hidden(v.train_mode_step, points=0.5, cases=[{"n": 3, "d": 4, "c": 1, "p": 0.5, "lr": 0.2, "seed": 43},
                                                   {"n": 7, "d": 8, "c": 3, "p": 0.1, "lr": 0.05, "seed": 44}])
suite.hidden(v.step_input_unchanged, points=0.5, cases=[{"n": 4, "d": 9, "c": 3, "p": 0.3, "lr": 0.6, "seed": 45},
                                                        {"n": 10, "d": 4, "c": 2, "p": 0.8, "lr": 0.2, "seed": 46}])
suite.hidden(v.step_generator, points=0.5, cases=[{"n": 6, "d": 5, "c": 2, "p": 0.5, "lr": 0.1, "seed": 47},
                                                  {"n": 2, "d": 12, "c": 3, "p": 0.4, "lr": 0.4, "seed": 48}])

# sparse_penalty / sparse_loss
suite.hidden(v.penalty_value, points=1, cases=[{"n": 1, "c": 1, "lam": 5.0, "seed": 51, "dtype": "float32"},
                                               {"n": 16, "c": 3, "lam": 0.01, "seed": 52, "dtype": "float64"}])
suite.hidden(v.loss_value, points=1, cases=[{"n": 9, "d": 4, "c": 2, "lam": 0.2, "seed": 53},
                                            {"n": 2, "d": 10, "c": 5, "lam": 3.0, "seed": 54}])

# pca_reconstruct
suite.hidden(v.pca_values, points=1, cases=[{"n": 40, "d": 7, "k": 1, "m": 3, "seed": 61},
                                            {"n": 100, "d": 16, "k": 5, "m": 12, "seed": 62, "dtype": "float64"}])
suite.hidden(v.pca_subspace, points=0.5, cases=[{"n": 30, "d": 6, "k": 4, "m": 5, "seed": 63},
                                                {"n": 70, "d": 12, "k": 1, "m": 8, "seed": 64}])
