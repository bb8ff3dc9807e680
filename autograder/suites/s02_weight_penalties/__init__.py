"""Assignment 02: L1/L2 penalties, SGD weight decay, parameter groups, ridge regression, Adam vs AdamW."""

from autograder.checks import Suite

suite = Suite("02_weight_penalties", "Weight penalties")
