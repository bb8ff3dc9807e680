"""``./lab``: which PyTorch build it installs (``./lab torch-build`` says, installing nothing), and that a
second call re-imports nothing to check the install."""

from __future__ import annotations

import http.server
import os
import stat
import subprocess
import threading

import pytest
from helpers import REPO

LAB = os.path.join(REPO, "lab")


def torch_build(tmp_path, **env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("REGNORM_TORCH", "REGNORM_TORCH_CPU_INDEX")}
    base.update(env)
    return subprocess.run(["bash", LAB, "torch-build"], capture_output=True, text=True, env=base, timeout=60)


def pins() -> list[str]:
    with open(os.path.join(REPO, "constraints.txt")) as fh:
        return [line.strip() + "+cpu" for line in fh if line.startswith(("torch==", "torchvision=="))]


def test_cpu_build_is_the_constraints_pins_with_the_cpu_label(tmp_path):
    out = torch_build(tmp_path, REGNORM_TORCH="cpu")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("cpu: ")
    for pin in pins():
        assert pin in out.stdout
    assert "download.pytorch.org/whl/cpu" in out.stdout


def test_default_build_is_the_registrys(tmp_path):
    out = torch_build(tmp_path, REGNORM_TORCH="default")
    assert (out.returncode, out.stdout.strip()) == (0, "default: the registry's torch build")


def test_a_bad_choice_is_refused_with_the_allowed_values(tmp_path):
    out = torch_build(tmp_path, REGNORM_TORCH="cuda12")
    assert out.returncode == 2
    assert "REGNORM_TORCH must be auto, cpu or default (got 'cuda12')" in out.stderr


def test_auto_falls_back_loudly_when_the_cpu_index_is_unreachable(tmp_path):
    out = torch_build(tmp_path, REGNORM_TORCH_CPU_INDEX="http://127.0.0.1:9")  # discard port: refused
    assert out.returncode == 0
    assert out.stdout.strip() == "default: the registry's torch build"
    assert "cannot be reached" in out.stderr and "REGNORM_TORCH=default" in out.stderr


@pytest.fixture
def cpu_index(tmp_path):
    """A local stand-in for PyTorch's CPU index: serves /torch/."""
    (tmp_path / "index" / "torch").mkdir(parents=True)
    (tmp_path / "index" / "torch" / "index.html").write_text("<a href='torch-2.14.1+cpu.whl'>torch</a>")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path / "index"))  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_auto_picks_cpu_on_linux_without_a_gpu_when_the_index_answers(tmp_path, cpu_index):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    path = f"{empty_bin}:/usr/bin:/bin"  # no nvidia-smi on it
    out = torch_build(tmp_path, REGNORM_TORCH_CPU_INDEX=cpu_index, PATH=path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("cpu: ") and cpu_index in out.stdout


def test_auto_keeps_the_default_build_where_an_nvidia_driver_is_present(tmp_path, cpu_index):
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    out = torch_build(tmp_path, REGNORM_TORCH_CPU_INDEX=cpu_index, PATH=f"{fake.parent}:/usr/bin:/bin")
    assert out.stdout.strip() == "default: the registry's torch build"


def test_a_second_call_checks_the_install_without_importing_it():
    """The up-to-date check is the stamp plus importlib's find_spec, which locates torch without importing it."""
    with open(LAB) as fh:
        script = fh.read()
    check = script[script.index("local want"):script.index('echo "lab: installing dependencies')]
    assert "find_spec" in check
    assert "import autograder, torch" not in check
