"""Assignment 03: batch normalization (by hand, forward/backward, module, 2d, folding, find the bugs)."""

from autograder.checks import Suite

suite = Suite("03_batch_norm", "Batch normalization")
