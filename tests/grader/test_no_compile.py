"""autograder.no_compile: the stand-in torch._dynamo computes optimizers exactly as the real one, and the
student process always runs with it (the first optimizer costs no torch._dynamo import)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r'''
import sys, torch
if sys.argv[1] == "stub":
    from autograder import no_compile
    assert no_compile.install()
torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
out = []
for cls, kw in ((torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
                (torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.05}), (torch.optim.AdamW, {"lr": 0.01}),
                (torch.optim.RMSprop, {"lr": 0.01})):
    opt = cls(m.parameters(), **kw)
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x), y).backward()
        opt.step()
out = torch.cat([p.detach().flatten() for p in m.parameters()])
print(out.double().sum().item(), "torch._dynamo" in sys.modules and type(sys.modules["torch._dynamo"]).__name__)
'''


def run(mode: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_optimizers_compute_the_same_with_the_stand_in():
    real, stub = run("real"), run("stub")
    assert real[0] == stub[0]  # bit for bit
    assert real[1] == "module" and stub[1] == "_Stub"


def test_compile_features_fail_clearly():
    import pytest

    from autograder.no_compile import _Stub

    with pytest.raises(AttributeError, match="torch.compile is not available while grading"):
        _Stub("torch._dynamo").optimize  # noqa: B018
