"""A fork server for student processes (DESIGN.md §6).

Starting a student process costs ~2 s, nearly all of it ``import torch``. The zygote is a process
that has already imported torch (one thread, no CUDA), numpy and the worker, and forks one fresh
child per submission: ~15 ms instead of ~2 s. Each child then applies the same limits as a spawned
process (new session, ``RLIMIT_DATA``/``RLIMIT_FSIZE``, fresh working directory, minimal
environment, unprivileged user when root) before it runs any student code, so no state passes
from one submission to the next (each is a fresh fork of a zygote that never ran student code).

Protocol over a ``SOCK_SEQPACKET`` socket pair (one JSON object per packet):
``spawn`` (with the child's two pipe ends attached as file descriptors) → ``{"pid"}``;
``poll``/``wait`` → ``{"status"}`` (the exit status as :class:`subprocess.Popen` reports it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from autograder.paths import REPO_ROOT
from autograder.sandbox.limits import Limits, become, probe_in_child, set_resource_limits, student_env

_PACKAGE_ROOT = REPO_ROOT  # the folder that holds the autograder package
_MAX_PACKET = 1 << 16


def _status_from_wait(status: int) -> int:
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


# -- zygote side ------------------------------------------------------------------------------------
def _child(msg: dict, rfd: int, wfd: int, log_fd: int | None) -> None:
    """Runs in the forked child: apply the limits, then become a worker. Never returns."""
    try:
        os.setsid()
        limits = Limits(memory_mb=int(msg["memory_mb"]), output_mb=int(msg["output_mb"]),
                        max_processes=int(msg["max_processes"]))
        set_resource_limits(limits)
        if msg.get("sandbox"):
            from autograder.sandbox.worker import enter_sandbox

            os.environ.clear()
            os.environ.update(msg["env"])
            enter_sandbox(_MOUNTPOINT, int(msg["tmp_mb"]), (rfd, wfd), msg.get("cgroup"),
                          tuple(msg.get("reveal") or ()))
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.close(devnull)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            from autograder.sandbox.worker import run_worker

            run_worker(rfd, wfd)
            return
        log = log_fd  # opened by the grader and handed over: never reopened by name
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(devnull)
        os.chdir(msg["workdir"])
        os.environ.clear()
        os.environ.update(msg["env"])
        if msg.get("uid") is not None:
            become((int(msg["uid"]), int(msg["gid"])), limits.max_processes)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        from autograder.sandbox.worker import run_worker

        run_worker(rfd, wfd)
    finally:
        os._exit(0)


def _paths_children_read() -> list[str]:
    """What a forked child still reads from disk: the standard library, the grader, site-packages."""
    import site
    import sysconfig

    import torch

    stdlib = sysconfig.get_paths()["stdlib"]
    return [stdlib, os.path.join(stdlib, "secrets.py"),
            os.path.join(_PACKAGE_ROOT, "autograder", "sandbox", "worker.py"),
            os.path.join(_PACKAGE_ROOT, "autograder", "data.py"),
            os.path.join(os.path.dirname(torch.__file__), "__init__.py"),
            *[p for p in site.getsitepackages() if os.path.isdir(p)]]


def _probe_drop(uid: int, gid: int, paths: list[str]) -> str | None:
    """Fork a child that drops to (uid, gid) and reads ``paths``; None if it could, else why not."""
    def probe() -> str:
        try:
            become((uid, gid))
            for path in paths:
                if os.path.isdir(path):
                    os.listdir(path)
                else:
                    with open(path, "rb") as fh:
                        fh.read(1)
        except OSError as exc:
            return f"{exc.filename or ''}: {exc.strerror}"
        return ""

    return probe_in_child(probe)


def serve(sock: socket.socket) -> None:
    """The zygote's loop: fork on ``spawn``, report exit statuses on ``poll``/``wait``."""
    statuses: dict[int, int] = {}

    def reap(pid: int, block: bool) -> int | None:
        if pid in statuses:
            return statuses[pid]
        try:
            got, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return statuses.get(pid, 0)
        if got == 0:
            return None
        statuses[pid] = _status_from_wait(status)
        return statuses[pid]

    while True:
        try:
            raw, fds, _, _ = socket.recv_fds(sock, _MAX_PACKET, 3)
        except (OSError, KeyboardInterrupt):
            return
        if not raw:
            return
        msg = json.loads(raw)
        op = msg.get("op")
        if op == "spawn":
            rfd, wfd, log_fd = (*fds, None)[:3]
            pid = os.fork()
            if pid == 0:
                sock.close()
                _child(msg, rfd, wfd, log_fd)
            for fd in (rfd, wfd, log_fd):
                if fd is not None:
                    os.close(fd)
            reply = {"pid": pid}
        elif op == "poll":
            reply = {"status": reap(int(msg["pid"]), block=False)}
        elif op == "wait":
            deadline = time.monotonic() + float(msg.get("timeout", 5.0))
            status = reap(int(msg["pid"]), block=False)
            while status is None and time.monotonic() < deadline:
                time.sleep(0.01)
                status = reap(int(msg["pid"]), block=False)
            reply = {"status": status}
        elif op == "probe_sandbox":
            from autograder.sandbox import namespaces

            reply = {"problem": namespaces.problem(_MOUNTPOINT)}
        elif op == "probe_drop":
            reply = {"problem": _probe_drop(int(msg["uid"]), int(msg["gid"]), _paths_children_read())}
        else:
            reply = {"error": f"bad op {op!r}"}
        sock.send(json.dumps(reply).encode())


#: An empty directory each sandboxed child mounts its own root on (in its own mount namespace).
_MOUNTPOINT = ""


def main(argv: list[str]) -> None:
    global _MOUNTPOINT
    _MOUNTPOINT = tempfile.mkdtemp(prefix="regnorm-root-", dir=os.getcwd())
    sock = socket.socket(fileno=int(argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import IPython.core.inputtransformer2  # noqa: F401 - warm what every child needs
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    import autograder.sandbox.worker  # noqa: F401
    import autograder.wire  # noqa: F401

    sock.send(json.dumps({"ready": True, "torch": torch.__version__}).encode())
    serve(sock)


# -- grader side ------------------------------------------------------------------------------------
class ForkedChild:
    """A :class:`subprocess.Popen`-like handle on a child of the zygote."""

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote = zygote
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.request({"op": "poll", "pid": self.pid}).get("status")
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            status = self.zygote.request({"op": "wait", "pid": self.pid, "timeout": timeout or 5.0}).get("status")
            if status is None:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 5.0)
            self.returncode = status
        return self.returncode


class Zygote:
    """The grader's handle on one fork server (thread-safe; started on first use)."""

    def __init__(self, python: str | None = None):
        self.python = python or sys.executable  # the interpreter the fork server runs (and children share)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._home = tempfile.mkdtemp(prefix="regnorm-zygote-")
        import atexit

        atexit.register(self.close)  # the fork server and its folder go with the grader
        self._drop_checked: dict = {}  # (uid, gid) or "sandbox" -> problem (None: works)

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = student_env(self._home, _PACKAGE_ROOT)
        self._proc = subprocess.Popen([self.python, "-m", "autograder.sandbox.zygote", str(theirs.fileno())],
                                      pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self._home, env=env)
        theirs.close()
        self._sock = ours
        hello = json.loads(self._sock.recv(_MAX_PACKET) or b"{}")
        if not hello.get("ready"):
            raise RuntimeError("the fork server did not start")

    def request(self, msg: dict, fds: tuple[int, ...] = ()) -> dict:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            payload = json.dumps(msg).encode()
            if fds:
                socket.send_fds(self._sock, [payload], list(fds))
            else:
                self._sock.send(payload)
            reply = self._sock.recv(_MAX_PACKET)
        if not reply:
            raise RuntimeError("the fork server stopped")
        return json.loads(reply)

    def spawn(self, rfd: int, wfd: int, workdir: str | None, log: int | None, env: dict, limits: Limits,
              user: tuple[int, int] | None, sandbox: bool = False, cgroup: str | None = None) -> ForkedChild:
        """Fork a student child. ``log``: a descriptor for its stdout/stderr, passed over the socket (the
        child never opens anything by a name the student side could have changed); ``sandbox``: in its
        own namespaces (``workdir`` and ``log`` unused then: it writes only to its own /tmp)."""
        msg = {"op": "spawn", "workdir": workdir, "env": env, "memory_mb": limits.memory_mb,
               "output_mb": limits.output_mb, "max_processes": limits.max_processes, "tmp_mb": limits.tmp_mb,
               "uid": user[0] if user else None, "gid": user[1] if user else None, "sandbox": sandbox,
               "cgroup": cgroup, "reveal": list(limits.reveal_suites)}
        fds = (rfd, wfd) if log is None else (rfd, wfd, log)
        return ForkedChild(self, int(self.request(msg, fds)["pid"]))

    def sandbox_problem(self) -> str | None:
        """Why children of this fork server cannot get their own namespaces (None if they can)."""
        if "sandbox" not in self._drop_checked:
            self._drop_checked["sandbox"] = self.request({"op": "probe_sandbox"}).get("problem")
        return self._drop_checked["sandbox"]

    def drop_problem(self, user: tuple[int, int]) -> str | None:
        """Why a child dropped to ``user`` could not work (None if it can), probed once by forking.

        A forked child never executes the Python binary, so only the files it will still read
        matter: the standard library, the grader package and the site-packages that student code
        (and numpy, torch, ...) import lazily.
        """
        if user not in self._drop_checked:
            self._drop_checked[user] = self.request({"op": "probe_drop", "uid": user[0],
                                                     "gid": user[1]}).get("problem")
        return self._drop_checked[user]

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                self._proc = None
            import shutil

            shutil.rmtree(self._home, ignore_errors=True)


_shared: Zygote | None = None
_shared_lock = threading.Lock()


def shared_zygote() -> Zygote:
    """One fork server per grader process (used when grading several notebooks)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Zygote()
        return _shared


if __name__ == "__main__":
    main(sys.argv)
