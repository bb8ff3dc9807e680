"""A minimal ``torch._dynamo`` for processes that grade: torch.compile is not available there.

The first ``torch.optim`` optimizer step (and every function torch wraps in ``_disable_dynamo``)
imports ``torch._dynamo`` — sympy and the compiler stack, about as long as ``import torch`` itself —
only to mark itself "not compiled". No exercise compiles anything, so the student process (always) and
the grading commands' own process get a stand-in with the three entry points eager code reaches
(``disable``, ``graph_break``, ``is_compiling``); anything else raises a clear error. Optimizers compute
exactly as with the real module: the solutions of every assignment, whose checks compare against
``torch.optim`` results, keep full marks with it (tests). Never installed in a user's own kernel.
"""

from __future__ import annotations

import sys
import types

DOC = "torch.compile is not available while grading (autograder.no_compile)"

#: Set by the grading commands (their process exists only to grade): the engine then installs the
#: stand-in in the grader too, once torch is imported. A library user's process is left alone.
GRADER_OPT_IN = False


def install() -> bool:
    """Install the stand-in unless the real ``torch._dynamo`` is already imported; True if installed."""
    if "torch._dynamo" in sys.modules:
        return isinstance(sys.modules["torch._dynamo"], _Stub)
    import torch

    stub = _Stub("torch._dynamo", DOC)
    sys.modules["torch._dynamo"] = stub
    torch._dynamo = stub
    return True


class _Stub(types.ModuleType):
    @staticmethod
    def disable(fn=None, recursive=True, **kwargs):
        return fn if fn is not None else (lambda f: f)

    @staticmethod
    def graph_break(*args, **kwargs) -> None:
        return None

    @staticmethod
    def is_compiling() -> bool:
        return False

    def __getattr__(self, name):
        raise AttributeError(f"torch._dynamo.{name}: {DOC}")
