"""Assignment 06: early stopping (EarlyStopping with patience/min_delta/mode and restore; fit)."""

from autograder.checks import Suite

suite = Suite("06_early_stopping", "Early stopping")
