"""Command-line options shared by every grading command."""

from __future__ import annotations

from autograder.sandbox.limits import Limits


def add_grading_args(parser) -> None:
    """Options of every command that grades many notebooks: hidden checks, fork server, limits."""
    parser.add_argument("--no-hidden", action="store_true", help="run visible checks only")
    parser.add_argument("--no-fork-server", action="store_true",
                        help="start a fresh Python per notebook instead of forking from one that imported torch")
    add_limit_args(parser)


def add_limit_args(parser) -> None:
    """The student process's limits, shared by every grading command (defaults: :class:`Limits`)."""
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout, metavar="S")
    parser.add_argument("--notebook-timeout", type=float, default=Limits.notebook_timeout, metavar="S")
    parser.add_argument("--call-timeout", type=float, default=Limits.call_timeout, metavar="S")
    parser.add_argument("--checks-timeout", type=float, default=Limits.checks_timeout, metavar="S",
                        help="seconds all checks' calls together may take; later checks are then not run")
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb, metavar="MB",
                        help="RLIMIT_DATA of the student process")
    parser.add_argument("--trusted-code", action="store_true",
                        help="grade even where student code can get neither its own namespaces nor an "
                             "unprivileged user (otherwise grading refuses); only for code you trust — "
                             "every report of such a run says it was unsandboxed")


def limits_from_args(args) -> Limits:
    return Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                  call_timeout=args.call_timeout, checks_timeout=args.checks_timeout, memory_mb=args.memory_mb,
                  trusted_code=getattr(args, "trusted_code", False))
