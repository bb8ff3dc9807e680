"""Limits for the student process: memory, file size, environment, user.

Measured with torch 2.14.1 (see DESIGN.md §1): ``RLIMIT_AS`` below ~4 GiB breaks ``import torch``,
while ``RLIMIT_DATA`` of 1 GiB imports it and turns an over-large allocation into a clean
``RuntimeError``/``MemoryError``. We cap ``RLIMIT_DATA``.
"""

from __future__ import annotations

import os
import pwd
import resource
from dataclasses import dataclass

SAFE_ENV_KEYS = ("PATH", "LANG", "LC_ALL", "TZ", "VIRTUAL_ENV")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one student process.

    - cell_timeout: seconds one cell may run before it is interrupted.
    - notebook_timeout: seconds all cells together may run.
    - call_timeout: seconds one call from a check may run.
    - checks_timeout: seconds all checks' calls together may run (then the remaining checks are not run).
    - memory_mb: ``RLIMIT_DATA`` in MiB.
    - output_mb: largest file (or captured output) the process may write, in MiB.
    - max_processes: ``RLIMIT_NPROC`` once dropped to the unprivileged user (a fork bomb stops there).
    - tmp_mb: the sandbox's ``/tmp`` tmpfs (all the student process can write), in MiB.
    - trusted_code: grade without any isolation where none is available (otherwise grading refuses).
    """

    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    call_timeout: float = 30.0
    #: all checks' calls into the student process together; a submission whose functions never return
    #: would otherwise cost call_timeout per case (minutes), past a Gradescope or CI job's own limit.
    checks_timeout: float = 120.0
    memory_mb: int = 3072
    output_mb: int = 64
    #: processes and threads the unprivileged user may have (``RLIMIT_NPROC``; not enforceable on root).
    max_processes: int = 256
    #: size of the sandbox's ``/tmp`` (a tmpfs holding the working directory), in MiB.
    tmp_mb: int = 256
    #: run student code even where no sandbox (namespaces) and no unprivileged user is available. Only
    #: for code the instructor trusts; every report of such a run says so.
    trusted_code: bool = False
    #: assignments whose suite folder (checks, references, known mistakes) stays visible in the sandbox.
    #: Only for the test suite's known-mistake submissions (trusted instructor code that imports the
    #: mistakes); no command-line option sets it.
    reveal_suites: tuple[str, ...] = ()


def unprivileged_user() -> tuple[int, int] | None:
    """The (uid, gid) student code runs as when the grader is root, else None."""
    if os.geteuid() != 0:
        return None
    for name in ("regnorm-student", "nobody"):
        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            continue
    return 65534, 65534


_USABLE: dict[tuple[int, int], str | None] = {}


def drop_problem(user: tuple[int, int], package_root: str) -> str | None:
    """Why ``user`` cannot run the worker (None if it can). Probed once per process."""
    if user not in _USABLE:
        import subprocess
        import sys

        def demote() -> None:
            become(user)

        try:
            proc = subprocess.run([sys.executable, "-c", "import autograder.sandbox.worker"], cwd="/",
                                  env={"PYTHONPATH": package_root, "PATH": os.environ.get("PATH", "")},
                                  preexec_fn=demote, capture_output=True, timeout=30)
            _USABLE[user] = None if proc.returncode == 0 else (
                proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["exit status " + str(proc.returncode)])[-1]
        except OSError as exc:
            _USABLE[user] = f"{sys.executable}: {exc.strerror}"
    return _USABLE[user]


def student_env(workdir: str, package_root: str) -> dict:
    """A minimal environment: no grader secrets, one thread, a private HOME."""
    env = {k: os.environ[k] for k in SAFE_ENV_KEYS if k in os.environ}
    env.update({
        "HOME": workdir,
        "TMPDIR": workdir,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(workdir, ".mpl"),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": package_root,
        "REGNORM_GRADING": "1",
        "CUDA_VISIBLE_DEVICES": "",
    })
    return env


def probe_in_child(probe) -> str | None:
    """Run ``probe()`` in a forked child (it may change the child's user, namespaces, root...) and return
    the problem it reports: its string (None or "" for none), its exception, or "the probe died"."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            message = probe() or ""
        except Exception as exc:  # noqa: BLE001 - any failure is the problem to report
            message = str(exc) or type(exc).__name__
        os.write(w, ("ok:" + message).encode()[:4000])
        os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 4096):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    text = b"".join(chunks).decode(errors="replace")
    if not text.startswith("ok:"):
        return "the probe died"
    return text[3:] or None


def set_resource_limits(limits: Limits) -> None:
    """Apply ``limits``' memory, file-size and core-dump caps to this process (a student child)."""
    data_bytes = limits.memory_mb * 1024 * 1024
    fsize = limits.output_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (data_bytes, data_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def become(user: tuple[int, int], max_processes: int | None = None) -> None:
    """Drop this process (root) to ``user`` = (uid, gid), capping its processes first if asked."""
    if max_processes is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))
    os.setgroups([])
    os.setgid(user[1])
    os.setuid(user[0])


def make_preexec(limits: Limits, user: tuple[int, int] | None):
    """Return the function run in the child between fork and exec."""

    def preexec() -> None:
        set_resource_limits(limits)
        if user is not None:
            become(user, limits.max_processes)

    return preexec
