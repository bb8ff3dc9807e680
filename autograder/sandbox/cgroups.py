"""A cap on the number of processes of one student sandbox (a fork bomb stops there).

Inside its namespaces the student's uid maps to the grader's own (root, when the grader is root), for
which ``RLIMIT_NPROC`` is never enforced. A ``pids`` control group caps the sandbox's processes and
threads whoever it runs as. Best effort: where no writable ``pids`` hierarchy exists (most containers),
:func:`create` returns None and the sandbox runs without this cap (its time limit still ends it, and
everything in its PID namespace dies with it).
"""

from __future__ import annotations

import os
import time
import uuid

#: Candidate hierarchies: cgroup v1's pids controller, then a cgroup v2 tree.
HIERARCHIES = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup")


def create(max_processes: int) -> str | None:
    """A new control group allowing ``max_processes`` tasks, or None where none can be made."""
    for base in HIERARCHIES:
        if not os.path.isfile(os.path.join(base, "cgroup.procs")):
            continue
        path = os.path.join(base, f"regnorm-{uuid.uuid4().hex[:12]}")
        try:
            os.mkdir(path, 0o755)
        except OSError:
            continue
        try:
            with open(os.path.join(path, "pids.max"), "w") as fh:
                fh.write(str(int(max_processes)))
            return path
        except OSError:
            remove(path)
    return None


def join(path: str, pid: int | None = None) -> None:
    """Move ``pid`` (default: this process) into the control group; its children follow."""
    with open(os.path.join(path, "cgroup.procs"), "w") as fh:
        fh.write(str(pid or os.getpid()))


def remove(path: str | None) -> None:
    """Remove the (empty) control group; retried briefly while its last processes are reaped."""
    if not path:
        return
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
