"""The command line, ``autograder <command>``: one parser, one exit table, one module per command group.

- :mod:`~autograder.cli.grading` — ``grade``, ``check-report``;
- :mod:`~autograder.cli.batch` — ``grade-batch``, ``merge-scores``;
- :mod:`~autograder.cli.authoring` — ``generate``, ``references``, ``list``;
- :mod:`~autograder.cli.distribution` — ``student-bundle``, ``gradescope-bundle``, ``gradescope-run``;
- :mod:`~autograder.cli.options` — the options every grading command shares.

Exit status (:class:`Exit`, documented in the README): whether grading ran, not whether the student
passed — unless ``--fail-under`` (or ``check-report``) asks for that.
"""

from __future__ import annotations

import argparse
import sys
from enum import IntEnum


class Exit(IntEnum):
    """Every command's exit status."""

    OK = 0  #: the command did its job (every notebook was graded, whatever the score)
    NOT_PASSED = 1  #: grading ran, but the total is below --fail-under (check-report: a check did not pass)
    USAGE = 2  #: bad command line (argparse's own status)
    NOT_GRADED = 3  #: at least one notebook could not be graded (not a notebook, unknown assignment)
    INTERNAL = 4  #: the grader itself failed (a bug: please report it)
    LEAK = 5  #: student-bundle: the bundle gives something away; do not publish it
    INTERRUPTED = 130  #: Ctrl-C


def build_parser() -> argparse.ArgumentParser:
    from autograder.cli import authoring, batch, distribution, grading

    parser = argparse.ArgumentParser(prog="autograder", description="regnorm-lab's grader")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (grading, batch, authoring, distribution):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    except BrokenPipeError:  # `autograder list | head`: the reader left; nothing is wrong
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.OK
    except Exception as exc:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        print(f"autograder: internal error: {exc}", file=sys.stderr)
        return Exit.INTERNAL


def run(argv: list[str] | None = None) -> None:
    """The ``autograder`` command: :func:`main`, then a quick exit. The exit handlers run (temporary folders,
    logging, the fork server) and the output is flushed, but the interpreter's own teardown is skipped: with
    torch loaded, unloading its modules and libraries takes ~0.25 s (a fifth of a whole grading run) and does
    nothing the command needs."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse (--help, usage errors)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else _usage(exc.code))
    import atexit
    import os

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or the reader left
            pass
    os._exit(int(code))


def _usage(message: object) -> int:
    print(message, file=sys.stderr)
    return 1


if __name__ == "__main__":
    run()
