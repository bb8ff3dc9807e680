"""Assignment 02 (weight penalties): alternative correct implementations get full marks, and the
solution's SGD step and L2 penalty agree with torch.optim.SGD (the conventions the notebook states)."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers import assert_full_marks, load_nb, solution_path, with_cells_after, write_nb

from autograder.fixtures import penalties as P
from autograder.notebooks import notebook_namespace

A = "02_weight_penalties"

# Two (or more) alternative correct implementations per stub; each set is graded as one submission.
ALTERNATIVES = {
    "by_name": {
        "l1_penalty": '''
def l1_penalty(model, lam):
    # filter named_parameters by name and dimension instead of by module type
    return lam * sum(p.abs().sum() for n, p in model.named_parameters() if n.endswith("weight") and p.ndim > 1)
''',
        "l2_penalty": '''
def l2_penalty(model, lam):
    return 0.5 * lam * sum(p.pow(2).sum() for p in model.parameters() if p.dim() >= 2)
''',
        "sgd_step_weight_decay": '''
def sgd_step_weight_decay(params, lr, weight_decay):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p.add_(p.grad + weight_decay * p, alpha=-lr)
''',
        "make_param_groups": '''
def make_param_groups(model, weight_decay):
    # matrices and kernels decay; every 1-d parameter (biases, norm scales and shifts) does not
    params = list(model.parameters())
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
''',
        "ridge_fit": '''
def ridge_fit(X, y, lam):
    # ones column, penalty matrix diag(1, ..., 1, 0): the intercept is not penalized
    A = torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype)], dim=1)
    D = torch.eye(A.shape[1], dtype=X.dtype)
    D[-1, -1] = 0.0
    sol = torch.linalg.solve(A.T @ A + lam * D, A.T @ y)
    return sol[:-1], sol[-1]
''',
        "decay_pull": '''
def decay_pull(optimizer, grad_scale, lr, weight_decay, steps):
    # Adam and AdamW written out by hand (default betas and eps), in float64
    b1, b2, eps = 0.9, 0.999, 1e-8

    def run(wd):
        w, m, v = torch.tensor(1.0, dtype=torch.float64), 0.0, 0.0
        for t in range(1, steps + 1):
            g = grad_scale * (-1) ** (t - 1)
            if optimizer == "adamw":
                w = w * (1 - lr * wd)
            else:
                g = g + wd * w
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            w = w - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)) ** 0.5 + eps)
        return float(w)

    return run(0.0) - run(weight_decay)
''',
    },
    "by_module": {
        "l1_penalty": '''
def l1_penalty(model, lam):
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.modules.conv._ConvNd))]
    return lam * torch.stack([m.weight.norm(p=1) for m in layers]).sum()
''',
        "l2_penalty": '''
def l2_penalty(model, lam):
    kinds = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    return lam / 2 * sum(torch.linalg.vector_norm(m.weight) ** 2 for m in model.modules() if isinstance(m, kinds))
''',
        "sgd_step_weight_decay": '''
def sgd_step_weight_decay(params, lr, weight_decay):
    # decay first, then the gradient step: (1 - lr*wd) * p - lr * grad
    with torch.no_grad():
        for p in (q for q in params if q.grad is not None):
            p.mul_(1 - lr * weight_decay).add_(p.grad, alpha=-lr)
''',
        "make_param_groups": '''
def make_param_groups(model, weight_decay):
    decay, no_decay = [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if name == "weight" and isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                decay.append(p)
            else:
                no_decay.append(p)
    return [dict(params=decay, weight_decay=weight_decay), dict(params=no_decay, weight_decay=0.0)]
''',
        "ridge_fit": '''
def ridge_fit(X, y, lam):
    # least squares on the centred data stacked over sqrt(lam) * I
    xm, ym = X.mean(0), y.mean()
    d = X.shape[1]
    A = torch.cat([X - xm, lam ** 0.5 * torch.eye(d, dtype=X.dtype)])
    rhs = torch.cat([y - ym, torch.zeros(d, dtype=X.dtype)])
    w = torch.linalg.lstsq(A, rhs.unsqueeze(1)).solution.squeeze(1)
    return w, ym - xm @ w
''',
        "decay_pull": '''
def decay_pull(optimizer, grad_scale, lr, weight_decay, steps):
    Opt = torch.optim.AdamW if optimizer == "adamw" else torch.optim.Adam
    out = []
    for wd in [0.0, weight_decay]:
        w = torch.tensor(1.0, requires_grad=True)
        opt = Opt([w], lr=lr, weight_decay=wd)
        for t in range(steps):
            opt.zero_grad()
            loss = grad_scale * w if t % 2 == 0 else -grad_scale * w
            loss.backward()
            opt.step()
        out.append(w.detach())
    return out[0] - out[1]   # a 0-dim tensor
''',
    },
    "old_style": {
        "sgd_step_weight_decay": '''
def sgd_step_weight_decay(params, lr, weight_decay):
    # the pre-no_grad idiom: update .data (not recorded by autograd)
    for p in params:
        if p.grad is not None:
            p.data -= lr * (p.grad.data + weight_decay * p.data)
''',
        "make_param_groups": '''
def make_param_groups(model, weight_decay):
    no_decay_types = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm)
    skip = set()
    for m in model.modules():
        if isinstance(m, no_decay_types):
            skip.update(id(p) for p in m.parameters(recurse=False))
    decay = [p for n, p in model.named_parameters() if id(p) not in skip and not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if id(p) in skip or n.endswith("bias")]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
''',
    },
}


def alternative_submission(name: str, tmp_path) -> str:
    nb = load_nb(solution_path(A))
    for grade_id, src in ALTERNATIVES[name].items():
        nb = with_cells_after(nb, grade_id, [src.strip("\n")])
    return write_nb(nb, tmp_path / f"{A}-{name}.ipynb")


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_alternative_implementations_get_full_marks(name, grade, tmp_path):
    result = grade(alternative_submission(name, tmp_path))
    assert_full_marks(result)
    assert result.max_score == 40  # 30 + ridge_inputs_unchanged (issue 8) + prox_l1_step 8 (issue 13)


@pytest.fixture(scope="module")
def solution_ns():
    """The solution notebook's functions, in this process (graded cells only)."""
    return notebook_namespace(solution_path(A))


@pytest.mark.parametrize("wd,lr,steps", [(0.05, 0.1, 6), (0.3, 0.02, 10)])
def test_sgd_step_matches_torch_sgd_over_several_steps(solution_ns, wd, lr, steps):
    mine, ref = P.grad_params(0, [[3, 4], [5], [2, 2, 3]]), P.grad_params(0, [[3, 4], [5], [2, 2, 3]])
    opt = torch.optim.SGD(ref, lr=lr, weight_decay=wd)
    for _ in range(steps):
        grads_before = [p.grad.clone() for p in mine]
        solution_ns["sgd_step_weight_decay"](mine, lr, wd)
        assert all(torch.equal(g, p.grad) for g, p in zip(grads_before, mine))  # p.grad untouched
        assert all(p.is_leaf and p.requires_grad and p.grad_fn is None for p in mine)
        opt.step()
        mine.refresh_grads()
        ref.refresh_grads()
    for a, b in zip(mine, ref):
        torch.testing.assert_close(a.detach(), b.detach(), rtol=1e-3, atol=1e-4)  # "steps" tier
    assert not torch.equal(mine[0].detach(), P.grad_params(0, [[3, 4], [5], [2, 2, 3]])[0].detach())


@pytest.mark.parametrize("kind,seed,lam", [("mlp", 0, 0.1), ("convnet", 1, 0.05)])
def test_sgd_on_l2_penalty_equals_weight_decay(solution_ns, kind, seed, lam):
    """SGD on loss + l2_penalty(model, lam) == SGD(weight_decay=lam) on the penalized tensors only."""
    x, y = P.inputs(kind, 16, seed)
    lr, steps = 0.1, 5

    penalized = P.build(kind, seed)
    opt = torch.optim.SGD(penalized.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (F.cross_entropy(penalized(x), y) + solution_ns["l2_penalty"](penalized, lam)).backward()
        opt.step()

    decayed = P.build(kind, seed)
    groups = solution_ns["make_param_groups"](decayed, lam)
    opt = torch.optim.SGD(groups, lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(decayed(x), y).backward()
        opt.step()

    for (name, a), (_, b) in zip(penalized.named_parameters(), decayed.named_parameters()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4, msg=name)

    # ...and weight decay on *every* parameter (biases, norm parameters) is a different update.
    everything = P.build(kind, seed)
    opt = torch.optim.SGD(everything.parameters(), lr=lr, weight_decay=lam)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(everything(x), y).backward()
        opt.step()
    bias_name = [n for n, _ in everything.named_parameters() if n.endswith("bias")][0]
    assert not torch.allclose(dict(everything.named_parameters())[bias_name],
                              dict(penalized.named_parameters())[bias_name], rtol=1e-3, atol=1e-4)


def test_penalties_skip_biases_and_norm_parameters(solution_ns):
    model = P.build("convnet", 2)
    weights = [model.conv1.weight, model.conv2.weight, model.head.weight]
    torch.testing.assert_close(solution_ns["l2_penalty"](model, 0.3), 0.15 * sum((w ** 2).sum() for w in weights))
    torch.testing.assert_close(solution_ns["l1_penalty"](model, 0.3), 0.3 * sum(w.abs().sum() for w in weights))
    groups = solution_ns["make_param_groups"](model, 0.1)
    assert [id(p) for p in groups[0]["params"]] == [id(w) for w in weights]
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == len(list(model.parameters()))
    torch.optim.SGD(groups, lr=0.1)  # PyTorch accepts the groups (it rejects a parameter in two groups)


def test_ridge_intercept_unpenalized_and_adamw_differs(solution_ns):
    x = torch.randn(20, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = x @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) + 7.0
    w, b = solution_ns["ridge_fit"](x, y, 1e9)
    assert w.abs().max() < 1e-6 and abs(float(b) - float(y.mean())) < 1e-6
    pull = solution_ns["decay_pull"]
    assert pull("adamw", 100.0, 0.01, 0.1, 100) == pytest.approx(pull("adamw", 0.1, 0.01, 0.1, 100), rel=0.1)
    assert pull("adam", 100.0, 0.01, 0.1, 100) < 0.1 * pull("adam", 0.1, 0.01, 0.1, 100)


def test_fixture_parameters_are_unique_and_nonzero():
    for model in (P.build("mlp", 0), P.build("convnet", 3)):
        params = list(model.parameters())
        assert all(p.abs().min() > 0 for p in params)
        assert all(not torch.equal(a, b) for i, a in enumerate(params) for b in params[i + 1:] if a.shape == b.shape)
        assert isinstance(model, nn.Module)
