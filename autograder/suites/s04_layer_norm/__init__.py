"""Assignment 04: layer normalization (forward, backward), weight normalization, BN vs LN."""

from autograder.checks import Suite

suite = Suite("04_layer_norm", "Layer norm and weight norm")
