"""Assignment 01: train/val/test splits and standardization without leakage."""

from autograder.checks import Suite

suite = Suite("01_data_splits", "Data splits")
