"""Command-line options shared by every grading command."""

from __future__ import annotations


def add_grading_args(parser) -> None:
    """Options of every command that grades many notebooks: hidden checks, fork server, limits."""
    parser.add_argument("--no-hidden", action="store_true", help="run visible checks only")
    parser.add_argument("--no-fork-server", action="store_true",
                        help="start a fresh Python per notebook instead of forking from one that imported torch")
    add_limit_args(parser)


def add_limit_args(parser) -> None:
    """The student process's limits, shared by every grading command."""
    parser.add_argument("--cell-timeout", type=float, default=60.0, metavar="S")
    parser.add_argument("--notebook-timeout", type=float, default=300.0, metavar="S")
    parser.add_argument("--call-timeout", type=float, default=30.0, metavar="S")
    parser.add_argument("--memory-mb", type=int, default=3072, metavar="MB", help="RLIMIT_DATA of the student process")


def limits_from_args(args):
    from autograder.sandbox.limits import Limits

    return Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                  call_timeout=args.call_timeout, memory_mb=args.memory_mb)
