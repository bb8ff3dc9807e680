"""The Chromium set-up of the browser test, without touching the machine's own Chromium: a fake PATH
holds fake ``apt-get``/``sudo`` scripts that log their calls (and "install" a fake ``chromium``)."""

from __future__ import annotations

import os
import stat

import pytest
from browser_setup import ChromiumUnavailable, chromium_or_fail, ensure_chromium, install_commands

pytestmark = pytest.mark.browser

APT_GET = """#!/bin/sh
echo "apt-get $*" >> {log}
case "$*" in
  *install*) {install} ;;
esac
exit {status}
"""
SUDO = """#!/bin/sh
echo "sudo $*" >> {log}
[ "$1" = "-n" ] || exit 1
shift
exec "$@"
"""


def _script(folder, name: str, text: str) -> None:
    path = os.path.join(folder, name)
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


@pytest.fixture
def fake_path(tmp_path, monkeypatch):
    """A folder to use as PATH with no chromium in it (REGNORM_CHROMIUM unset); returns (folder, log)."""
    monkeypatch.delenv("REGNORM_CHROMIUM", raising=False)
    folder, log = tmp_path / "bin", tmp_path / "calls.log"
    folder.mkdir()
    return str(folder), str(log)


def _fake_apt(folder: str, log: str, status: int = 0, installs: bool = True) -> None:
    chromium = os.path.join(folder, "chromium")
    install = (f"printf '#!/bin/sh\\necho Chromium 1.0\\n' > {chromium}; /bin/chmod +x {chromium}"
               if installs else "true")
    _script(folder, "apt-get", APT_GET.format(log=log, install=install, status=status))


def _calls(log: str) -> list[str]:
    with open(log) as fh:
        return fh.read().splitlines()


def test_found_chromium_installs_nothing(fake_path):
    folder, log = fake_path
    _fake_apt(folder, log)
    _script(folder, "chromium", "#!/bin/sh\n")
    assert ensure_chromium(candidates=(), path=folder, is_root=True) == os.path.join(folder, "chromium")
    assert not os.path.exists(log)


def test_root_installs_with_apt_get(fake_path):
    folder, log = fake_path
    _fake_apt(folder, log)
    assert ensure_chromium(candidates=(), path=folder, is_root=True) == os.path.join(folder, "chromium")
    calls = _calls(log)
    assert len(calls) == 2 and calls[0].startswith("apt-get") and calls[0].endswith(" update")
    assert calls[1].startswith("apt-get") and calls[1].endswith("install -y --no-install-recommends chromium")


def test_not_root_installs_through_sudo_n(fake_path):
    folder, log = fake_path
    _fake_apt(folder, log)
    _script(folder, "sudo", SUDO.format(log=log))
    assert ensure_chromium(candidates=(), path=folder, is_root=False) == os.path.join(folder, "chromium")
    calls = _calls(log)
    assert [c.split()[:2] for c in calls[::2]] == [["sudo", "-n"], ["sudo", "-n"]]
    assert calls[1].endswith(" update") and calls[3].endswith("install -y --no-install-recommends chromium")


def test_not_root_without_sudo_says_why(fake_path):
    folder, log = fake_path
    _fake_apt(folder, log)
    with pytest.raises(ChromiumUnavailable, match="not root and sudo is not available"):
        ensure_chromium(candidates=(), path=folder, is_root=False)


def test_no_apt_get_says_why(fake_path):
    folder, _ = fake_path
    with pytest.raises(ChromiumUnavailable, match="apt-get is not available"):
        install_commands(is_root=True, path=folder)


def test_failed_install_names_the_command_and_its_output(fake_path):
    folder, log = fake_path
    _fake_apt(folder, log, status=100, installs=False)
    with pytest.raises(ChromiumUnavailable, match=r"(?s)apt-get .*update` exited with 100"):
        ensure_chromium(candidates=(), path=folder, is_root=True)


def test_install_that_leaves_no_binary_says_so(fake_path):
    folder, log = fake_path
    _fake_apt(folder, log, installs=False)
    with pytest.raises(ChromiumUnavailable, match="no chromium binary was found"):
        ensure_chromium(candidates=(), path=folder, is_root=True)


def test_on_ci_a_missing_chromium_fails_never_skips(fake_path, monkeypatch):
    folder, _ = fake_path
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="needs Debian's chromium"):
        chromium_or_fail(candidates=(), path=folder, is_root=True)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="on CI, with CI set, this fails"):
        chromium_or_fail(candidates=(), path=folder, is_root=True)
