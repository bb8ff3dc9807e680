"""Hidden checks of assignment 03: the visible logic on other shapes, seeds and data (never shipped)."""

from autograder.suites.s03_batch_norm import checks as v
from autograder.suites.s03_batch_norm.checks import suite

BY_HAND_CASES = [{"round_stats": False, "seed": 11}, {"round_stats": True, "seed": 12},
                 {"round_stats": False, "seed": 13, "eps": 0.5}]
for _step, _fn in v.by_hand.items():
    suite.hidden(_fn, points=0.5, cases=BY_HAND_CASES)

suite.hidden(v.train_output, points=2, cases=[{"n": 4, "d": 6, "seed": 21}, {"n": 32, "d": 5, "seed": 22}])
suite.hidden(v.eps_inside_sqrt, points=1, cases=[{"n": 4, "d": 2, "seed": 23}, {"n": 10, "d": 7, "seed": 24}])
suite.hidden(v.running_stats, points=2, cases=[{"n": 4, "d": 5, "seed": 25},
                                               {"n": 9, "d": 2, "seed": 26, "momentum": 0.6, "eps": 0.3}])
suite.hidden(v.eval_mode, points=2, cases=[{"n": 4, "d": 6, "seed": 27},
                                           {"n": 12, "d": 3, "seed": 28, "eps": 0.05, "var_scale": 0.02}])
suite.hidden(v.param_grads, points=1, cases=[{"n": 6, "d": 2, "seed": 31}, {"n": 16, "d": 7, "seed": 32}])
suite.hidden(v.input_grad, points=3, cases=[{"n": 6, "d": 2, "seed": 31}, {"n": 16, "d": 7, "seed": 32}])
suite.hidden(v.structure, points=0.5, cases=[{"d": 2}, {"d": 9}])
suite.hidden(v.train_steps, points=2, cases=[{"n": 4, "d": 7, "seed": 41}, {"n": 10, "d": 2, "seed": 42}])
suite.hidden(v.eval_steps, points=2, cases=[{"n": 4, "d": 3, "seed": 43}, {"n": 9, "d": 5, "seed": 44}])
suite.hidden(v.per_channel, points=1, cases=[{"n": 3, "c": 2, "h": 3, "w": 3, "seed": 51},
                                             {"n": 1, "c": 4, "h": 5, "w": 2, "seed": 52, "eps": 0.3, "scale": 0.2}])
suite.hidden(v.block, points=1, cases=[{"d_in": 3, "d_out": 6, "n": 5, "seed": 61},
                                       {"d_in": 8, "d_out": 2, "n": 12, "seed": 62}])
suite.hidden(v.folded, points=1, cases=[{"d_in": 7, "d_out": 2, "seed": 71, "bias": True},
                                        {"d_in": 4, "d_out": 4, "seed": 72, "bias": False}])
suite.hidden(v.fixed_init, points=0.5, cases=[{"d": 3}, {"d": 6}])
suite.hidden(v.fixed_running_mean, points=0.5, cases=[{"n": 4, "d": 3, "seed": 81},
                                                      {"n": 8, "d": 6, "seed": 82, "eps": 0.2, "momentum": 0.4}])
suite.hidden(v.alt_param_grads, points=0.5, cases=[{"n": 6, "d": 2, "seed": 33}, {"n": 16, "d": 7, "seed": 34}])
suite.hidden(v.alt_input_grad, points=1.5, cases=[{"n": 6, "d": 2, "seed": 33}, {"n": 16, "d": 7, "seed": 34}])
