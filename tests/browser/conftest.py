"""Fixtures of the browser test: Debian's Chromium (installed when missing), a headless JupyterLab on
127.0.0.1 with a random token and empty configuration, and a Playwright page driving them.

One JupyterLab server per pytest(-xdist) worker and per flavour of notebooks ("repo": a temporary copy of
assignments/ and solutions/; "bundle": a temporary student bundle, whose own ``autograder`` the kernel
imports), one Chromium per worker. Nothing in the repository is written.

Playwright only drives the browser: it never downloads one (``playwright install`` is never called); the
browser is Debian's ``chromium``. Where it is missing, :func:`ensure_chromium` installs it with apt-get
(as root, else through ``sudo -n``). When that is impossible the test fails with the reason on CI
(``CI`` set) and is skipped with the reason elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from browser_setup import CHROMIUM_ARGS, REPO, LabServer, chromium_or_fail, copy_notebooks


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return chromium_or_fail()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """``lab("repo")`` / ``lab("bundle")``: this worker's JupyterLab server for that flavour, started on
    first use and stopped at the end of the session."""
    servers: dict[str, LabServer] = {}

    def get(flavour: str) -> LabServer:
        if flavour not in servers:
            home = str(tmp_path_factory.mktemp(f"lab-{flavour}"))
            root = os.path.join(home, "root")
            if flavour == "repo":
                copy_notebooks(root)
                servers[flavour] = LabServer(root, home)
            elif flavour == "bundle":
                done = subprocess.run([sys.executable, "-m", "autograder", "student-bundle", root], cwd=REPO,
                                      capture_output=True, text=True, timeout=300)
                assert done.returncode == 0, f"student-bundle failed:\n{done.stdout}{done.stderr}"
                # The kernel imports the bundle's own autograder, as a student's `pip install -e .` would.
                probe = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"],
                                       cwd=os.path.join(root, "assignments"), capture_output=True, text=True,
                                       env=dict(os.environ, PYTHONPATH=root), timeout=300)
                assert probe.stdout.strip().startswith(root), (
                    f"with PYTHONPATH={root} the kernel would not import the bundle's autograder: "
                    f"{probe.stdout}{probe.stderr}")
                servers[flavour] = LabServer(root, home, pythonpath=root)
            else:
                raise ValueError(flavour)
        return servers[flavour]

    yield get
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def browser_context(chromium_path, tmp_path_factory):
    """One Chromium per worker, with an empty profile (``--user-data-dir`` in a fresh temporary folder)."""
    from playwright.sync_api import sync_playwright

    profile = str(tmp_path_factory.mktemp("chromium-profile"))
    home = str(tmp_path_factory.mktemp("chromium-home"))  # nothing read from or written to the user's home
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"))
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS, env=env,
            viewport={"width": 1400, "height": 1000})
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    page = browser_context.new_page()
    page.set_default_timeout(60_000)
    yield page
    page.close()
