"""The machinery of the browser test (imported by conftest.py and the tests; fixtures are in conftest.py):
Debian's Chromium, found or installed with apt-get (:func:`ensure_chromium`, :func:`chromium_or_fail`),
and a headless JupyterLab on 127.0.0.1 with a random token and an empty configuration (:class:`LabServer`).

Playwright only drives the browser: it never downloads one (``playwright install`` is never called).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM_CANDIDATES = ("/usr/bin/chromium",)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad",
]
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 never through a proxy
INSTALL_LOCK = os.path.join(tempfile.gettempdir(), "regnorm-chromium-install.lock")


class ChromiumUnavailable(Exception):
    """Chromium is not installed and could not be installed; the message says why."""


def find_chromium(candidates=CHROMIUM_CANDIDATES, path: str | None = None) -> str | None:
    """``$REGNORM_CHROMIUM``, then Debian's ``/usr/bin/chromium``, then ``chromium`` on ``path``."""
    override = os.environ.get("REGNORM_CHROMIUM")
    if override:
        return override if os.access(override, os.X_OK) else None
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium", path=path)


def install_commands(is_root: bool, path: str | None = None) -> list[list[str]]:
    """The apt-get commands that install Debian's chromium, as root or through passwordless sudo.

    Raises :class:`ChromiumUnavailable` when neither is possible."""
    apt_get = shutil.which("apt-get", path=path)
    if apt_get is None:
        raise ChromiumUnavailable("chromium is not installed and apt-get is not available to install it "
                                  "(install Debian's `chromium` package, or set REGNORM_CHROMIUM to a Chromium binary)")
    prefix: list[str] = []
    if not is_root:
        sudo = shutil.which("sudo", path=path)
        if sudo is None:
            raise ChromiumUnavailable("chromium is not installed, this user is not root and sudo is not available "
                                      "(run `apt-get install -y chromium` as root)")
        prefix = [sudo, "-n"]
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    return [prefix + [apt_get, *lock, "update"],
            prefix + [apt_get, *lock, "install", "-y", "--no-install-recommends", "chromium"]]


def ensure_chromium(candidates=CHROMIUM_CANDIDATES, path: str | None = None, is_root: bool | None = None,
                    timeout: float = 900) -> str:
    """The path of Debian's Chromium, installing it first when it is missing.

    Workers serialize the installation with a file lock. Raises :class:`ChromiumUnavailable` with the
    reason (the failing command and the end of its output) when it cannot be installed."""
    found = find_chromium(candidates, path)
    if found:
        return found
    if is_root is None:
        is_root = os.geteuid() == 0
    commands = install_commands(is_root, path)
    with open(INSTALL_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = find_chromium(candidates, path)  # another worker installed it while this one waited
        if found:
            return found
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if path is not None:
            env["PATH"] = path
        for cmd in commands:
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise ChromiumUnavailable(f"`{' '.join(cmd)}` could not run: {exc}") from None
            if done.returncode != 0:
                tail = (done.stdout + done.stderr).strip()[-1500:]
                raise ChromiumUnavailable(f"`{' '.join(cmd)}` exited with {done.returncode}:\n{tail}")
    found = find_chromium(candidates, path)
    if not found:
        raise ChromiumUnavailable("apt-get installed chromium but no chromium binary was found "
                                  f"(looked at {', '.join(candidates)} and PATH)")
    return found


def chromium_or_fail(**kw) -> str:
    """:func:`ensure_chromium`; when Chromium cannot be had, fail with the reason on CI (``CI`` set: never a
    silent skip there), skip with the reason elsewhere."""
    try:
        return ensure_chromium(**kw)
    except ChromiumUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the browser test needs Debian's chromium: {exc}", pytrace=False)
        pytest.skip(f"Debian's chromium is not available (on CI, with CI set, this fails): {exc}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A headless ``jupyter lab`` on 127.0.0.1 serving ``root`` with a random token and empty configuration."""

    def __init__(self, root: str, home: str, pythonpath: str | None = None):
        self.root, self.home = root, home
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        self.base = f"http://127.0.0.1:{self.port}"
        dirs = {name: os.path.join(home, name) for name in ("config", "data", "runtime", "ipython", "settings",
                                                             "workspaces", "mpl")}
        for d in dirs.values():
            os.makedirs(d, exist_ok=True)
        # No network from the browser: never ask about or fetch the Jupyter news feed / updates.
        notif = os.path.join(dirs["settings"], "@jupyterlab", "apputils-extension")
        os.makedirs(notif, exist_ok=True)
        with open(os.path.join(notif, "notification.jupyterlab-settings"), "w") as fh:
            json.dump({"fetchNews": "false", "checkForUpdates": False}, fh)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "REGNORM_GRADING", "PYTHONPATH", "IPYTHONDIR", "MPLBACKEND"))}
        env.update(JUPYTER_CONFIG_DIR=dirs["config"], JUPYTER_DATA_DIR=dirs["data"],
                   JUPYTER_RUNTIME_DIR=dirs["runtime"], IPYTHONDIR=dirs["ipython"], MPLCONFIGDIR=dirs["mpl"],
                   JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.open_browser=False",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
               f"--LabApp.user_settings_dir={dirs['settings']}", f"--LabApp.workspaces_dir={dirs['workspaces']}"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log_path = os.path.join(home, "jupyter-lab.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_ready()

    def log_tail(self, n: int = 3000) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()[-n:]

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with _LOCAL.open(f"{self.base}/api/status?token={self.token}", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer on {self.base} within {timeout:.0f} s:\n{self.log_tail()}")

    def url(self, rel_path: str) -> str:
        return f"{self.base}/lab/tree/{rel_path}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        """Shut down every kernel of this server (each case's notebook starts one; a worker runs one case at
        a time, so the next case starts from no running kernel)."""
        def call(method: str, path: str):
            request = urllib.request.Request(f"{self.base}{path}", method=method,
                                             headers={"Authorization": f"token {self.token}"})
            with _LOCAL.open(request, timeout=30) as r:
                body = r.read()
            return json.loads(body) if body else None

        with contextlib.suppress(OSError, ValueError):
            for session in call("GET", "/api/sessions") or []:
                with contextlib.suppress(OSError):
                    call("DELETE", f"/api/sessions/{session['id']}")
            for kernel in call("GET", "/api/kernels") or []:
                with contextlib.suppress(OSError):
                    call("DELETE", f"/api/kernels/{kernel['id']}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=15)
        self._log.close()


def copy_notebooks(dest: str) -> None:
    """Copy every assignment's student and solution notebook (only the .ipynb files) under ``dest``."""
    for kind in ("assignments", "solutions"):
        for name in sorted(os.listdir(os.path.join(REPO, kind))):
            src = os.path.join(REPO, kind, name, f"{name}.ipynb")
            if os.path.isfile(src):
                os.makedirs(os.path.join(dest, kind, name), exist_ok=True)
                shutil.copy2(src, os.path.join(dest, kind, name, f"{name}.ipynb"))


