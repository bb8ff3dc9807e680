"""The proxy through which checks reach a student's code.

Two flavours with one interface and one code path (:class:`autograder.sandbox.worker.Worker`):

- :class:`RemoteStudent`: the functions run in a separate, limited process; requests and answers
  cross a pipe as plain data (used by ``autograder grade``).
- :class:`LocalStudent`: the functions live in this process (the notebook's own namespace, for the
  in-notebook self-check and nbgrader's test cells). Arguments and results still go through the
  same plain-data codec, so a check sees exactly what it would see remotely.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Any

from autograder import wire
from autograder.sandbox.limits import Limits
from autograder.sandbox.worker import HANDLES, Worker


def call_message(target: dict, args: tuple, kwargs: dict, seed: int | None, **flags: bool) -> dict:
    """The protocol's ``call`` request: ``target`` (``{"name": f}``, ``{"ref": id, "method": m}`` or
    ``{"probe": factory}``), the encoded arguments, the seed of the student's globals, and flags (``keep``,
    ``return_args``, ``witness_graph``; see :mod:`autograder.sandbox.worker`)."""
    return {"op": "call", "target": target, "args": [wire.encode(a) for a in args],
            "kwargs": {k: wire.encode(v) for k, v in kwargs.items()}, "seed": seed, **flags}


class StudentCallError(Exception):
    """The student's code raised, is missing, or is not implemented.

    Attributes: ``kind`` (``missing`` | ``not_implemented`` | ``exception``), ``type`` (exception
    class name), ``message``, ``traceback`` (the student's frames only), ``target``.
    """

    def __init__(self, target: str, error: dict):
        self.target = target
        self.kind = error.get("kind", "exception")
        self.type = error.get("type", "Exception")
        self.message = error.get("message", "")
        self.traceback = error.get("traceback", "")
        super().__init__(f"{target}: {self.type}: {self.message}")


class Student:
    """Reach a submission's functions and objects. Subclasses implement :meth:`_request`."""

    call_timeout: float = Limits.call_timeout

    def _request(self, msg: dict, timeout: float) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _answer(self, reply: dict, target: str) -> Any:
        if not reply.get("ok"):
            raise StudentCallError(target, reply.get("error") or {})
        return wire.decode(reply.get("value"))

    def call(self, name: str, *args: Any, global_seed: int | None = None, **kwargs: Any) -> Any:
        """Call the notebook's ``name(*args, **kwargs)``; globals are seeded with ``global_seed`` first."""
        msg = call_message({"name": name}, args, kwargs, global_seed)
        return self._answer(self._request(msg, self.call_timeout), name)

    def call_with_args(self, name: str, *args: Any, global_seed: int | None = None, **kwargs: Any):
        """Like :meth:`call`, but also return the positional arguments as they are after the call
        (to see in-place modification): ``(result, [arg0_after, ...])``."""
        msg = call_message({"name": name}, args, kwargs, global_seed, return_args=True)
        both = self._answer(self._request(msg, self.call_timeout), name)
        return both["result"], both["args"]

    def call_witnessed(self, name: str, *args: Any, global_seed: int | None = None, **kwargs: Any):
        """Like :meth:`call_with_args`, with torch's saved-tensors hooks set around the student's function by the
        worker (:class:`~autograder.sandbox.worker.GraphWitness`): ``(result, [arg0_after, ...], saved)``, where
        ``saved`` is how many tensors autograd saved for a backward pass during the call (0: no graph was built),
        or None if the call removed or covered the hooks."""
        msg = call_message({"name": name}, args, kwargs, global_seed, return_args=True, witness_graph=True)
        reply = self._request(msg, self.call_timeout)
        both = self._answer(reply, name)
        saved = reply.get("graph_saved")
        if saved is not None and (type(saved) is not int or saved < 0):
            raise StudentCallError(name, {"kind": "exception", "type": "MalformedAnswer",
                                          "message": "the answer's count of saved tensors is not a count"})
        return both["result"], both["args"], saved

    def call_kept(self, name: str, *args: Any, global_seed: int | None = None, **kwargs: Any) -> wire.Ref:
        """Like :meth:`call`, but the result stays in the student's process and a :class:`~autograder.wire.Ref`
        comes back (whatever its type); passed as an argument later, it arrives as that very object."""
        msg = call_message({"name": name}, args, kwargs, global_seed, keep=True)
        return self._answer(self._request(msg, self.call_timeout), name)

    def probe(self, factory: str, *args: Any, **kwargs: Any) -> Any:
        """Run the grader-owned function ``factory`` (``autograder.fixtures.<module>:<name>``) in the student's
        process on ``args`` (Refs arrive as the student's objects): state that values do not show."""
        msg = call_message({"probe": factory}, args, kwargs, 0)
        return self._answer(self._request(msg, self.call_timeout), factory.split(":")[-1])

    def method_kept(self, ref: wire.Ref, name: str, *args: Any, global_seed: int | None = None,
                    **kwargs: Any) -> wire.Ref:
        """:meth:`method`, with the result kept in the student's process (a Ref comes back)."""
        msg = call_message({"ref": ref.id, "method": name}, args, kwargs, global_seed, keep=True)
        return self._answer(self._request(msg, self.call_timeout), f"{ref.type}.{name}")

    def method(self, ref: wire.Ref, name: str, *args: Any, global_seed: int | None = None, **kwargs: Any) -> Any:
        """Call ``ref.name(*args, **kwargs)`` on an object that lives with the student."""
        msg = call_message({"ref": ref.id, "method": name}, args, kwargs, global_seed)
        return self._answer(self._request(msg, self.call_timeout), f"{ref.type}.{name}")

    def attr(self, ref: wire.Ref, name: str) -> Any:
        """Read ``ref.name`` (plain data, or another :class:`~autograder.wire.Ref`)."""
        return self._answer(self._request({"op": "getattr", "ref": ref.id, "name": name}, self.call_timeout),
                            f"{ref.type}.{name}")

    def describe(self, ref: wire.Ref) -> dict:
        """Structure of a student object: type, and for modules their submodules/parameters/buffers."""
        return self._answer(self._request({"op": "describe", "ref": ref.id}, self.call_timeout), ref.type)

    def handles(self) -> dict[str, wire.Ref]:
        """Refs to the student process's builtins ``list``, ``map``, ``getattr``, ``dict``, ``zip`` and to
        ``torch.nn.modules.module``'s globals, as captured when it started (see the worker's ``handles`` op)."""
        got = self._answer(self._request({"op": "handles"}, self.call_timeout), "handles")
        if not (isinstance(got, dict) and all(isinstance(got.get(k), wire.Ref) for k in HANDLES)):
            raise StudentCallError("handles", {"kind": "exception", "type": "MalformedAnswer",
                                               "message": "the answer lacks the process's handles"})
        return {k: got[k] for k in HANDLES}

    def forget(self) -> None:
        """Let the student's process drop the objects it kept for earlier calls (between checks)."""
        self._answer(self._request({"op": "forget"}, self.call_timeout), "forget")


class CallTimeout(Exception):
    """Raised inside the student's code when an in-process call runs past its time limit."""


class LocalStudent(Student):
    """The student's namespace is a dict in this process (a notebook kernel's globals).

    A call that runs longer than ``call_timeout`` seconds is interrupted with :class:`CallTimeout`
    (via ``SIGALRM``, in the main thread only), so a self-check never hangs the notebook.
    """

    def __init__(self, namespace: dict, call_timeout: float = Limits.call_timeout):
        self.worker = Worker(-1, -1)
        self.worker.ns = namespace
        self.call_timeout = call_timeout

    def _request(self, msg: dict, timeout: float) -> dict:
        # Round-trip through JSON so both flavours see byte-for-byte the same data.
        msg = wire.loads(wire.dumps(msg))
        handler = getattr(self.worker, msg["op"])
        with _alarm(timeout):
            reply = handler(msg)
        return wire.loads(wire.dumps(reply))


class RemoteStudent(Student):
    """The student's code runs in a :class:`~autograder.sandbox.process.StudentProcess`.

    ``budget_s``: seconds all requests together may take (``Limits.checks_timeout``). Each request waits
    at most what is left of it; once it is spent, requests raise
    :class:`~autograder.sandbox.process.StudentDied` without reaching the student, so every remaining
    check is "not run" with that reason instead of waiting ``call_timeout`` per case.
    """

    def __init__(self, process, call_timeout: float = Limits.call_timeout, budget_s: float | None = None):
        self.process = process
        self.call_timeout = call_timeout
        self.budget_s = budget_s
        self._deadline = None if budget_s is None else time.monotonic() + budget_s

    def _request(self, msg: dict, timeout: float) -> dict:
        if self._deadline is not None:
            left = self._deadline - time.monotonic()
            if left <= 0:
                from autograder.sandbox.process import StudentDied

                raise StudentDied(f"used up the time all checks may take ({self.budget_s:g} s in all; does a "
                                  f"function never return?)")
            timeout = min(timeout, left)
        reply = self.process.request(msg, timeout)
        if reply.get("timed_out"):  # interrupted at the time limit: say so, not "raised KeyboardInterrupt"
            where = (reply.get("error") or {}).get("traceback", "") if isinstance(reply.get("error"), dict) else ""
            lines = str(where).rstrip().splitlines()
            where = "\n".join(lines[:-1] if lines and lines[-1].startswith("KeyboardInterrupt") else lines)
            reply = {"ok": False, "error": {"kind": "exception", "type": "TimeoutError", "traceback": where,
                                            "message": f"no answer within {timeout:g} s (an endless loop, or far "
                                                       f"too slow?); it was interrupted here:"}}
        return reply


@contextlib.contextmanager
def _alarm(seconds: float):
    """Raise :class:`CallTimeout` in the main thread after ``seconds`` (no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def on_alarm(signum, frame):
        raise CallTimeout(f"no answer within {seconds:g} s (endless loop?)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
