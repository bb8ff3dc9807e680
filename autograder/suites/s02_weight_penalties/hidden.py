"""Hidden checks of assignment 02: the visible logic on other models, shapes and seeds (never shipped)."""

from autograder.suites.s02_weight_penalties import checks as v
from autograder.suites.s02_weight_penalties.checks import suite

PENALTY_CASES = [{"kind": "convnet", "seed": 3, "lam": 0.02}, {"kind": "mlp", "seed": 7, "lam": 0.5}]
TRAIN_CASES = [{"kind": "convnet", "seed": 4, "lam": 0.1}, {"kind": "mlp", "seed": 9, "lam": 0.2}]
SGD_CASES = [{"seed": 5, "lr": 0.05, "wd": 0.2, "steps": 4, "shapes": [[5], [2, 6]]},
             {"seed": 6, "lr": 0.2, "wd": 0.01, "steps": 6, "shapes": [[4, 4, 2], [3], [7, 1]], "frozen": [0, 2]}]
GROUP_CASES = [{"kind": "convnet", "seed": 2, "wd": 0.05}, {"kind": "mlp", "seed": 8, "wd": 0.3}]
RIDGE_CASES = [{"n": 9, "d": 5, "lam": 2.0, "seed": 11}, {"n": 30, "d": 2, "lam": 0.01, "seed": 12}]

suite.hidden(v.value, points=1, cases=PENALTY_CASES)
suite.hidden(v.l1_gradient, points=1, cases=TRAIN_CASES)
suite.hidden(v.l2_value, points=1, cases=PENALTY_CASES)
suite.hidden(v.l2_equivalence, points=1, cases=TRAIN_CASES)
suite.hidden(v.matches_torch, points=1, cases=SGD_CASES)
suite.hidden(v.in_place, points=1, cases=[{k: c[k] for k in ("seed", "lr", "wd", "shapes")} for c in SGD_CASES])
suite.hidden(v.ridge_inputs_unchanged, points=1, cases=[{"n": 7, "d": 1, "lam": 3.0, "seed": 15},
                                                        {"n": 16, "d": 4, "lam": 0.0, "seed": 16}])
suite.hidden(v.partition, points=1, cases=GROUP_CASES)
suite.hidden(v.assignment, points=1, cases=GROUP_CASES)
suite.hidden(v.reference, points=1, cases=RIDGE_CASES)
suite.hidden(v.intercept, points=1, cases=[{"n": 8, "d": 3, "lam": 50.0, "seed": 13},
                                           {"n": 25, "d": 1, "lam": 5.0, "seed": 14}])
suite.hidden(v.matches, points=1, cases=[
    {"optimizer": "adam", "grad_scale": 0.5, "lr": 0.02, "weight_decay": 0.05, "steps": 60},
    {"optimizer": "adamw", "grad_scale": 3.0, "lr": 0.005, "weight_decay": 0.3, "steps": 80},
])

# prox_l1_step (issue 13): other shapes, thresholds and dtypes.
PROX_CASES = [{"seed": 10, "lr": 0.05, "lam": 4.0, "shapes": [[7], [2, 3, 4]], "dtype": "float64"},
              {"seed": 11, "lr": 1.0, "lam": 0.1, "shapes": [[9, 3]], "dtype": "float32"}]
suite.hidden(v.prox_values, points=1, cases=PROX_CASES)
suite.hidden(v.prox_exact_zeros, points=1, cases=PROX_CASES)
suite.hidden(v.prox_on_parameters, points=1, cases=[{"seed": 12, "lr": 0.1, "lam": 2.0, "shapes": [[6, 2], [3]]},
                                                    {"seed": 13, "lr": 0.4, "lam": 0.25, "shapes": [[5]]}])
