"""Instructor commands (batch grading, Gradescope bundle, student bundle), registered on the main CLI."""

from __future__ import annotations


def register_instructor_commands(sub) -> None:
    """Add the instructor subcommands to ``autograder``'s subparsers."""
