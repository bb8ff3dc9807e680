"""Assignment 10: hyperparameter search (log-uniform sampling, momentum sampling, seeded random search
selected on validation)."""

from autograder.checks import Suite

suite = Suite("10_hparam_search", "Hyperparameter search")
