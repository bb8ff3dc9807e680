"""The grader's handle on one student process (spawn, run cells, call, time out, kill)."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from autograder import wire
from autograder.paths import REPO_ROOT
from autograder.sandbox import cgroups, namespaces
from autograder.sandbox.limits import Limits, drop_problem, make_preexec, student_env, unprivileged_user
from autograder.sanitize import CAPS, student_text

PACKAGE_ROOT = REPO_ROOT  # the folder that holds the autograder package (on the student's sys.path)
#: seconds an interrupted call or cell has to answer before its process is killed. Generous: on a loaded
#: machine (a CI runner grading beside a browser test, load 8 on 2 cores) 3 s was seen to be too short for
#: an honest KeyboardInterrupt to come back, which cost every later check of that notebook.
INTERRUPT_GRACE = 10.0
START_TIMEOUT = 120.0


class StudentDied(RuntimeError):
    """The student process exited, was killed, or stopped speaking the protocol."""


class SandboxUnavailable(RuntimeError):
    """Neither a sandbox nor an unprivileged user is available, and the code is not marked trusted."""


class StudentTimeout(StudentDied):
    """The student process did not answer in time and was stopped."""


class StudentProcess:
    """One untrusted process running one submission.

    Use as a context manager; the process (and anything it spawned) is killed on exit.
    """

    def __init__(self, limits: Limits | None = None, zygote=None):
        self.limits = limits or Limits()
        self.zygote = zygote  # a sandbox.zygote.Zygote to fork from, or None to spawn a new Python
        self.proc = None  # subprocess.Popen or zygote.ForkedChild: .pid, .poll(), .wait(timeout)
        self.dead_reason: str | None = None
        self._seq = 0
        self.workdir: str | None = None  # a host folder, only when there is no sandbox
        self._log = None
        self.cgroup: str | None = None  # the sandbox's pids control group, where one can be made
        self.user: tuple[int, int] | None = None
        self.warning: str | None = None
        self.torch_version: str | None = None
        self.isolation = self._choose_isolation()

    #: What to do when there is no sandbox (appended to the refusal and to the warnings of the fallbacks).
    REMEDY = ("To sandbox student code, allow unprivileged user namespaces (Debian/Ubuntu: `sudo sysctl -w "
              "kernel.unprivileged_userns_clone=1`; Ubuntu 23.10+: `sudo sysctl -w "
              "kernel.apparmor_restrict_unprivileged_userns=0`; Docker: `--security-opt seccomp=unconfined "
              "--security-opt apparmor=unconfined`) or run the grader as root so it can use an unprivileged "
              "user; grading only your own work on your own machine? add --trusted-code")

    def _choose_isolation(self) -> str:
        """``"namespaces"`` (the sandbox), else ``"uid"`` (an unprivileged user, when the grader is root
        and that user can run this Python), else ``"none"`` — only with ``Limits.trusted_code``;
        otherwise :class:`SandboxUnavailable` (DESIGN.md §1: nothing fails open)."""
        sandbox_problem = self.zygote.sandbox_problem() if self.zygote is not None else namespaces.problem_here()
        if sandbox_problem is None:
            return "namespaces"
        self.workdir = tempfile.mkdtemp(prefix="regnorm-student-")
        # The log is created now, while the folder is still the grader's alone (O_EXCL, no symlink
        # followed), and handed to the child as a descriptor.
        self._log = os.fdopen(os.open(os.path.join(self.workdir, ".output.log"),
                                      os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "wb")
        user = unprivileged_user()
        drop = "the grader is not root, so it cannot switch to an unprivileged user"
        if user is not None:
            drop = self.zygote.drop_problem(user) if self.zygote is not None else drop_problem(user, PACKAGE_ROOT)
            if not drop:
                self.user = user
                os.fchown(self._log.fileno(), *user)
                os.chown(self.workdir, *user)
                lock_secrets_for_fallback()
                self.warning = (f"no sandbox ({sandbox_problem}): student code ran as uid {user[0]} only; the "
                                f"course's secret files were made readable by root only for it. {self.REMEDY}")
                return "uid"
            drop = f"the unprivileged user (uid {user[0]}) cannot run this Python ({drop})"
        reason = f"no sandbox for student code: namespaces are unavailable ({sandbox_problem}) and {drop}"
        if not self.limits.trusted_code:
            self._log.close()
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise SandboxUnavailable(f"{reason}; grading refused. {self.REMEDY}")
        self.warning = (f"UNSANDBOXED (--trusted-code): {reason}; the student's code could read and change anything "
                        f"the grader can. {self.REMEDY}")
        return "none"

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> StudentProcess:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        if self.isolation == "namespaces":
            env = student_env(namespaces.WORKDIR, PACKAGE_ROOT)
            self.cgroup = cgroups.create(self.limits.max_processes)
            if self.zygote is not None:
                self.proc = self.zygote.spawn(req_r, rep_w, None, None, env, self.limits, None, sandbox=True,
                                              cgroup=self.cgroup)
            else:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "autograder.sandbox.worker", str(req_r), str(rep_w),
                     "--sandbox", namespaces.mountpoint_here(), str(self.limits.tmp_mb), self.cgroup or "",
                     ",".join(self.limits.reveal_suites)],
                    pass_fds=(req_r, rep_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, cwd="/", env=env,
                    preexec_fn=make_preexec(self.limits, None), start_new_session=True,
                )
            os.close(req_r)
            os.close(rep_w)
            self._w, self._r = req_w, rep_r
            return self
        # Fallbacks without namespaces: a host working directory and the log opened by the grader.
        env = student_env(self.workdir, PACKAGE_ROOT)
        if self.zygote is not None:
            self.proc = self.zygote.spawn(req_r, rep_w, self.workdir, self._log.fileno(), env, self.limits, self.user)
        else:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "autograder.sandbox.worker", str(req_r), str(rep_w)],
                pass_fds=(req_r, rep_w),
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                cwd=self.workdir, env=env,
                preexec_fn=make_preexec(self.limits, self.user), start_new_session=True,
            )
        os.close(req_r)
        os.close(rep_w)
        self._w, self._r = req_w, rep_r
        return self

    def wait_ready(self) -> None:
        hello = self._receive(START_TIMEOUT, interruptible=False)
        self.torch_version = hello.get("torch")

    def __enter__(self) -> StudentProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                wire.write_frame(self._w, {"op": "exit"})
                self.proc.wait(timeout=1.0)
            except Exception:  # noqa: BLE001
                pass
        self._kill()
        for fd in (getattr(self, "_w", None), getattr(self, "_r", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if getattr(self, "_log", None):
            self._log.close()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        cgroups.remove(self.cgroup)

    def _kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, RuntimeError):  # pragma: no cover
            pass

    @property
    def alive(self) -> bool:
        return self.dead_reason is None and self.proc is not None and self.proc.poll() is None

    # -- protocol --------------------------------------------------------------------------------
    def _die(self, reason: str, exc_type=StudentDied):
        if self.dead_reason is None:
            self.dead_reason = reason
        self._kill()
        raise exc_type(self.dead_reason)

    def _receive(self, timeout: float, interruptible: bool = True) -> dict:
        deadline = time.monotonic() + timeout
        interrupted = False
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if interruptible and not interrupted:
                    interrupted = True
                    try:
                        os.kill(self.proc.pid, signal.SIGINT)
                    except ProcessLookupError:
                        pass
                    deadline = time.monotonic() + INTERRUPT_GRACE
                    continue
                self._die(f"stopped after {timeout:.0f} s without an answer (time limit)", StudentTimeout)
            ready, _, _ = select.select([self._r], [], [], min(remaining, 0.5))
            if ready:
                try:
                    body = self._read_body()
                except EOFError:
                    self._die(_exit_reason(self._exit_code()))
                except (OSError, wire.WireError, ValueError) as exc:
                    self._die(f"sent a malformed answer ({exc})")  # its framing is lost: stop it now
                msg = validated_reply(body)
                if interrupted:
                    msg.setdefault("timed_out", True)
                return msg
            if self.proc.poll() is not None:
                self._die(_exit_reason(self.proc.returncode))

    def _exit_code(self) -> int | None:
        """The exit status of a process that closed its channel (None if it does not end soon)."""
        try:
            return self.proc.wait(timeout=5) if self.proc.poll() is None else self.proc.returncode
        except (subprocess.TimeoutExpired, RuntimeError):
            return None

    def _read_body(self) -> bytes:
        """One frame's body; a length over :data:`MAX_REPLY_BYTES` cannot be skipped safely, so it ends
        the process (its framing can no longer be trusted)."""
        size = int.from_bytes(wire.read_exact(self._r, 8), "big")
        if size > MAX_REPLY_BYTES:
            raise wire.WireError(f"a reply of {size} bytes is over the {MAX_REPLY_BYTES >> 20} MiB limit")
        return wire.read_exact(self._r, size)

    def request(self, message: dict, timeout: float) -> dict:
        """Send one request and wait for its answer (interrupting, then killing, on timeout)."""
        if not self.alive:
            raise StudentDied(self.dead_reason or "the student process is not running")
        self._seq += 1
        message = dict(message, seq=self._seq)
        try:
            wire.write_frame(self._w, message)
        except OSError:
            self._die(_exit_reason(self._exit_code()))
        while True:
            reply = self._receive(timeout)
            if reply.get("seq") == self._seq:
                return reply
            # A stale answer (e.g. to an interrupted request) or a forged frame: ignore it.

    def run_cell(self, index: int, source: str, timeout: float) -> dict:
        return self.request({"op": "run_cell", "index": index, "source": source}, timeout)


_LOCKED: list[bool] = []


def lock_secrets_for_fallback() -> None:
    """The uid fallback protects only what file modes protect, so before any student code runs as the
    unprivileged user, the course's secrets become root-only: the suites' hidden checks, hidden
    references and mistakes (:func:`autograder.bundles.lockdown.lock_down`) and the repository's
    ``solutions/``, ``tests/`` and ``.git`` folders, where they exist and belong to root. Once per process."""
    if _LOCKED:
        return
    from autograder import paths
    from autograder.bundles.lockdown import lock_down

    lock_down(paths.PACKAGE_DIR)
    for name in ("solutions", "tests", ".git"):
        folder = os.path.join(paths.REPO_ROOT, name)
        if os.path.isdir(folder) and os.stat(folder).st_uid == 0:
            os.chmod(folder, 0o700)
    _LOCKED.append(True)


MAX_REPLY_BYTES = 64 * 1024 * 1024
_ERROR_FIELDS = ("kind", "type", "message", "traceback")


def malformed(why: str) -> dict:
    """The reply that stands for a frame the student process got wrong: an error of that call only."""
    return {"ok": False, "error": {"kind": "exception", "type": "MalformedReply",
                                   "message": f"the student process gave a malformed answer ({why})"}}


def validated_reply(body: bytes) -> dict:
    """A reply frame checked field by field (DESIGN.md §1: every reply is hostile).

    The body must decode (any nesting depth error counts as malformed), be an object with an integer
    ``seq`` if any and a boolean ``ok`` if any, and an ``error`` that is an object of strings; error
    strings are capped and sanitised here, once (:func:`autograder.sanitize.student_text`). Anything
    else becomes :func:`malformed` — an error of that call or cell only, never of the grader.
    """
    try:
        msg = wire.loads(body)
    except (RecursionError, MemoryError, ValueError, TypeError, KeyError, wire.WireError) as exc:
        return malformed(type(exc).__name__)
    if not isinstance(msg, dict):
        return malformed("not an object")
    seq = msg.get("seq")
    if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool)):
        return malformed("bad seq")
    if "ok" in msg and not isinstance(msg["ok"], bool):
        return malformed("bad ok")
    if "error" in msg:
        err = msg["error"]
        if not isinstance(err, dict) or any(not isinstance(err.get(k, ""), str) for k in _ERROR_FIELDS):
            bad = malformed("bad error")
            bad["seq"] = seq
            return bad
        msg["error"] = {k: student_text(err[k], CAPS[k]) for k in _ERROR_FIELDS if k in err}
    return msg


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        hint = " (probably out of memory)" if name == "SIGKILL" else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {code} (os._exit or sys.exit outside a cell?)"
