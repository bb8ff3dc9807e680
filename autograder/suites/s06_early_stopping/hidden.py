"""Hidden checks of assignment 06: the visible logic on other sequences, settings, models and seeds."""

from autograder.suites.s06_early_stopping import checks as v
from autograder.suites.s06_early_stopping.checks import suite

suite.hidden(v.plateau, points=1, cases=[
    {"values": [3.0, 2.0, 2.5, 2.0, 2.2, 1.9, 1.9, 1.95, 2.1, 2.0], "patience": 4},
    {"values": [0.3, 0.3, 0.29, 0.29, 0.29], "patience": 2, "as_tensor": True},
])
suite.hidden(v.late_improvement, points=1, cases=[
    {"values": [5.0, 4.0, 4.5, 4.6, 4.7, 4.8, 3.9, 4.0, 4.1, 4.2, 4.3, 4.4], "patience": 5},
    {"values": [0.9, 0.95, 0.85, 0.9, 0.8, 0.82, 0.83], "patience": 2},
])
suite.hidden(v.min_delta, points=1, cases=[
    {"values": [1.0, 0.95, 0.9, 0.875, 0.8, 0.79, 0.77, 0.76, 0.7], "patience": 4, "min_delta": 0.125},
    {"values": [10.0, 12.0, 13.0, 13.5, 14.5, 14.0, 15.0, 15.5, 16.0, 15.0], "patience": 3, "min_delta": 1.0,
     "mode": "max"},
])
suite.hidden(v.mode_max, points=1, cases=[
    {"values": [0.1, 0.2, 0.2, 0.3, 0.25, 0.3, 0.29], "patience": 3, "mode": "max"},
    {"values": [70.0, 71.0, 71.2, 73.0, 72.0, 72.5], "patience": 2, "min_delta": 0.5, "mode": "max"},
])
suite.hidden(v.attributes, points=1, cases=[
    {"values": [0.3, 0.35, 0.4, 0.38, 0.45, 0.44], "patience": 4, "mode": "max"},
    {"values": [5.0, 4.0, 4.0, 3.5, 3.6], "patience": 3, "min_delta": 0.4},
])
suite.hidden(v.restore, points=2, cases=[
    {"values": [2.0, 1.5, 1.7, 1.2, 1.3, 1.4, 1.6], "patience": 3, "seed": 1},
    {"values": [0.1, 0.2, 0.15, 0.3], "patience": 3, "seed": 2},
    {"values": [0.2, 0.5, 0.6, 0.55, 0.58], "patience": 2, "seed": 3, "mode": "max"},
])
suite.hidden(v.history_values, points=1, cases=[
    {"task": "classify", "seed": 10, "max_epochs": 2, "lr": 0.1},
    {"task": "overfit", "seed": 11, "max_epochs": 3, "loss": "mse"},
])
suite.hidden(v.stops_when_told, points=1, cases=[
    {"task": "classify", "seed": 12, "max_epochs": 9, "stop_at": 0},
    {"task": "classify", "seed": 13, "max_epochs": 4, "stop_at": 3},
])
suite.hidden(v.feeds_validation_loss, points=1, cases=[
    {"task": "overfit", "seed": 1, "max_epochs": 12, "lr": 0.02},
    {"task": "overfit", "seed": 5, "max_epochs": 12, "lr": 0.02},
])
suite.hidden(v.restores_at_end, points=1, cases=[
    {"task": "classify", "seed": 14, "max_epochs": 3, "stop_at": None, "restore_epoch": 2},
    {"task": "classify", "seed": 15, "max_epochs": 7, "stop_at": 4, "restore_epoch": 4},
])
suite.hidden(v.never_touches_test, points=1, cases=[
    {"task": "classify", "seed": 16, "max_epochs": 3, "stop_at": 0},
    {"task": "classify", "seed": 17, "max_epochs": 6, "stop_at": 4},
])
