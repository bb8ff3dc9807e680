"""The student process in its own namespaces (DESIGN.md §1, revised): a sandbox by construction.

:func:`enter` turns the calling process — a freshly forked, single-threaded child that has not run
any student code yet — into the init process of a private world:

- **user namespace**: the caller's uid is mapped to root only while the sandbox is set up; the student
  code then runs in a *nested* user namespace as an ordinary uid (``STUDENT_UID``) that holds no
  capability over the mounts below, so it cannot remount, unmount or escape them;
- **mount namespace** with a new root (``pivot_root``, the old root detached): read-only binds of the
  system directories, the interpreter and site-packages, the grader package **without the suites'
  folders** (hidden checks, references, mistakes), ``source_data/`` and nothing else of the course
  (no ``solutions/``, ``tests/``, ``.git``, no other submission, no report); a size-capped tmpfs at
  ``/tmp`` that holds the working directory;
- **PID namespace**: the student's worker is PID 1 of its own namespace and sees only its own
  processes in a fresh ``/proc``; when it ends, the kernel kills everything it started (``setsid``
  escapes nothing);
- **network** and **IPC** namespaces: no network (not even a loopback that is up), no shared memory
  with anything outside.

:func:`problem` probes once whether this machine allows it (a forked child runs the whole set-up).
Linux only; everything here is plain system calls through ``ctypes`` (no helper binary needed).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import site
import sys
import sysconfig

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}

#: What of /etc the student's process sees (the dynamic loader's cache, names of users and groups,
#: time zone): not the rest (no /etc/shadow, no credentials or keys an image may keep there).
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
               "hosts", "alternatives", "fonts", "mime.types")
#: The uid student code runs as inside its (nested) user namespace.
STUDENT_UID = 1000
#: Where the working directory lives inside the sandbox (on the /tmp tmpfs).
WORKDIR = "/tmp/work"

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../autograder
_REPO_ROOT = os.path.dirname(_PACKAGE_DIR)
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class SandboxError(OSError):
    """The namespaces could not be set up."""


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise SandboxError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags: int, what: str) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare({what})")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(text: str | None) -> bytes | None:
        return text.encode() if text is not None else None

    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {source or fstype} on {target}")


def _pivot_root(new_root: str, put_old: str) -> None:
    import platform

    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise SandboxError(0, f"pivot_root: unknown system call number on {platform.machine()}")
    _check(_libc.syscall(ctypes.c_long(number), new_root.encode(), put_old.encode()), "pivot_root")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _map_ids(inner: int, outer_uid: int, outer_gid: int) -> None:
    """Map ``inner`` to the caller's (outer) uid and gid in a user namespace just unshared."""
    try:
        _write("/proc/self/setgroups", "deny")
    except FileNotFoundError:  # pragma: no cover - very old kernels
        pass
    _write("/proc/self/uid_map", f"{inner} {outer_uid} 1\n")
    _write("/proc/self/gid_map", f"{inner} {outer_gid} 1\n")


def readonly_paths() -> list[str]:
    """Directories bound read-only into the sandbox: the system, the interpreter and site-packages."""
    paths = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin",
             *(os.path.join("/etc", name) for name in ETC_ENTRIES),
             sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"],
             *site.getsitepackages(), os.path.dirname(os.path.realpath(sys.executable))]
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user_site:
        paths.append(user_site)
    # Whatever else the interpreter imports from (.pth entries, PYTHONPATH) — except the repository
    # itself or a folder holding it, which would show the solutions and tests.
    paths += [p for p in sys.path if os.path.isabs(p) and _importable_extra(os.path.realpath(p))]
    out: list[str] = []
    for p in paths:
        p = p if p.startswith("/etc/") else os.path.realpath(p)
        if os.path.exists(p) and p not in out and not _holds(p, _REPO_ROOT):
            out.append(p)
    return _outermost(out)


def _importable_extra(path: str) -> bool:
    """Whether a ``sys.path`` entry may be bound into the sandbox. Not: the current folder (``python -m``
    and scripts put the fork server's, the grader's or a script's folder first), a folder holding the
    repository or ``/tmp`` (it would show the course or cover the sandbox's own /tmp), or a folder inside
    the repository other than the interpreter's (``tests/`` on a test run's path holds solutions)."""
    prefix = os.path.realpath(sys.prefix)
    if path == os.path.realpath(os.getcwd()) or _holds(path, _REPO_ROOT) or _holds(path, "/tmp"):
        return False
    return not _holds(_REPO_ROOT, path) or _holds(prefix, path)


def _holds(folder: str, path: str) -> bool:
    """Whether ``folder`` is ``path`` or one of its ancestors."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _outermost(paths: list[str]) -> list[str]:
    """Drop paths inside another path of the list (binding the parent already shows them)."""
    keep = []
    for p in sorted(paths, key=len):
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in keep):
            keep.append(p)
    return keep


def secret_dirs() -> list[str]:
    """Folders of the grader package the student must not see: every suite's checks, hidden checks,
    references and known mistakes (the student side needs none of them: checks run in the grader)."""
    suites = os.path.join(_PACKAGE_DIR, "suites")
    if not os.path.isdir(suites):
        return []
    return sorted(os.path.join(suites, d) for d in os.listdir(suites)
                  if os.path.isdir(os.path.join(suites, d)) and d != "__pycache__")


def student_side_paths() -> list[str]:
    """Course paths bound read-only: the grader package (its suites' folders then hidden) and the
    worksheets' data. Nothing else of the repository (solutions, tests, .git, examples) is in view."""
    paths = [_PACKAGE_DIR]
    source_data = os.path.join(_REPO_ROOT, "source_data")
    if os.path.isdir(source_data):
        paths.append(source_data)
    return paths


def _bind(root: str, path: str, readonly: bool = True) -> None:
    target = root + path
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    _mount(path, target, None, MS_BIND | MS_REC)
    if readonly:
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_REC)


def _build_root(mountpoint: str, tmp_mb: int, readonly: list[str], reveal: tuple[str, ...] = ()) -> None:
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", mountpoint, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    # /tmp first: read-only binds of paths under /tmp (a grader or venv installed there) go on top of it.
    os.makedirs(mountpoint + "/tmp", exist_ok=True)
    _mount("tmpfs", mountpoint + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(tmp_mb)}m,mode=1777")
    for path in readonly:
        if os.path.exists(path):
            _bind(mountpoint, path)
    shown = {f"s{a}" for a in reveal}
    for secret in secret_dirs():
        if os.path.basename(secret) in shown:
            continue
        target = mountpoint + secret
        if os.path.isdir(target):
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=0555")
    os.makedirs(mountpoint + "/dev", exist_ok=True)
    for dev in ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"):
        if os.path.exists(dev):
            _bind(mountpoint, dev, readonly=False)
    os.makedirs(mountpoint + "/dev/shm", exist_ok=True)
    _mount("tmpfs", mountpoint + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    os.makedirs(mountpoint + "/proc", exist_ok=True)
    os.makedirs(mountpoint + "/.old_root", exist_ok=True)
    os.chdir(mountpoint)
    _pivot_root(".", ".old_root")
    os.chroot(".")
    os.chdir("/")


def _finish_root() -> None:
    """In the new PID namespace: its own /proc (the kernel allows it only while the old root's /proc is
    still in this mount namespace), then the old root detached and the new root made read-only."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _check(_libc.umount2(b"/.old_root", ctypes.c_int(MNT_DETACH)), "umount old root")
    os.rmdir("/.old_root")
    _mount(None, "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _relay_exit(pid: int, close_fds: tuple[int, ...]) -> None:
    """The set-up process: forward SIGINT to the student's PID 1, then leave with its exit status."""
    for fd in close_fds:  # the grader sees end-of-file as soon as the student's side is gone
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGINT, lambda *_: os.kill(pid, signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def enter(mountpoint: str, tmp_mb: int = 256, close_in_relay: tuple[int, ...] = (),
          reveal: tuple[str, ...] = ()) -> None:
    """Move the calling (forked, single-threaded) process into a fresh sandbox.

    Returns in a new process: PID 1 of the sandbox's PID namespace, running as ``STUDENT_UID`` in a
    nested user namespace, with ``/`` the sandbox's root and the working directory :data:`WORKDIR`
    (empty, writable, on the /tmp tmpfs of ``tmp_mb`` MiB). The calling process stays outside as the
    sandbox's relay: it forwards SIGINT and exits with the student's status (it never returns).
    Raises :class:`SandboxError` if the set-up fails (nothing of the student's has run yet).
    ``close_in_relay``: descriptors only the student needs (its pipes to the grader). ``reveal``:
    assignments whose suite folder stays in view (:attr:`Limits.reveal_suites`, tests only).
    """
    uid, gid = os.getuid(), os.getgid()
    readonly = readonly_paths() + student_side_paths()
    _unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC, "user, mount, pid, net, ipc")
    _map_ids(0, uid, gid)
    _build_root(mountpoint, tmp_mb, readonly, reveal)
    pid = os.fork()
    if pid:
        _relay_exit(pid, close_in_relay)  # never returns
    # PID 1 of the new PID namespace: its own /proc, then drop to an ordinary uid with no capability
    # over anything mounted above.
    _finish_root()
    os.makedirs(WORKDIR, mode=0o700, exist_ok=True)
    _unshare(CLONE_NEWUSER, "user (student)")
    _map_ids(STUDENT_UID, 0, 0)
    os.chdir(WORKDIR)


def problem(mountpoint: str) -> str | None:
    """None if :func:`enter` works on this machine, else why not (probed in a forked child)."""
    from autograder.sandbox.limits import probe_in_child

    def probe() -> str:
        enter(mountpoint, tmp_mb=8)
        secret = next(iter(secret_dirs()), None)
        if secret and os.listdir(secret):
            return f"the suites' folders are visible in the sandbox ({secret})"
        if os.path.exists(os.path.join(_REPO_ROOT, "solutions")) and _REPO_ROOT != "/":
            return "the solutions are visible in the sandbox"
        if os.getuid() != STUDENT_UID:
            return f"student code would run as uid {os.getuid()}"
        return ""

    return probe_in_child(probe)


_here: dict[str, str | None] = {}


def mountpoint_here() -> str:
    """An empty directory of this process's to mount sandboxes' roots on (each sandbox mounts its own
    tmpfs over it in its own mount namespace; the directory itself stays empty). Removed at exit."""
    if "mountpoint" not in _here:
        import atexit
        import tempfile

        path = tempfile.mkdtemp(prefix="regnorm-root-")
        atexit.register(lambda: os.path.isdir(path) and os.rmdir(path))
        _here["mountpoint"] = path
    return _here["mountpoint"]  # type: ignore[return-value]


def problem_here() -> str | None:
    """:func:`problem` for sandboxes started from this process, probed once."""
    if "problem" not in _here:
        _here["problem"] = problem(mountpoint_here()) if sys.platform.startswith("linux") else "not Linux"
    return _here["problem"]
