"""Assignment 09 (autoencoders): alternative correct implementations get full marks, null submissions get
nothing, the mistakes the curriculum names lose points with their own feedback (and only on their own
exercise), and the grader-owned fixtures behave as documented."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import assert_full_marks, load_nb, solution_path, with_cells_after, write_nb

from autograder.fixtures import autoencoders as fx
from autograder.suites.s09_autoencoders import checks as v

ASSIGNMENT = "09_autoencoders"
GROUPS = ("Autoencoder", "mask_noise", "MaskNoise", "denoising_step", "sparse_penalty", "sparse_loss",
          "pca_reconstruct")

# Variant A: separate layer attributes registered decoder-first, functional activations, a float mask,
# an early return in eval, set_to_none and a hand-written mean, torch.mean/abs, an exact SVD.
ALT_A = {
    "Autoencoder": r'''
class Autoencoder(nn.Module):
    def __init__(self, in_dim=784, code_dim=32, hidden=128):
        super().__init__()
        self.dec_out = nn.Linear(hidden, in_dim)
        self.dec_hidden = nn.Linear(code_dim, hidden)
        self.enc_code = nn.Linear(hidden, code_dim)
        self.enc_hidden = nn.Linear(in_dim, hidden)

    def encode(self, x):
        return self.enc_code(F.relu(self.enc_hidden(x)))

    def decode(self, code):
        return torch.sigmoid(self.dec_out(F.relu(self.dec_hidden(code))))

    def forward(self, x):
        code = self.encode(x)
        return self.decode(code)
''',
    "mask_noise": r'''
def mask_noise(x, p, generator):
    keep = (torch.rand(x.shape, generator=generator) >= p).to(x.dtype)
    return x * keep
''',
    "MaskNoise": r'''
class MaskNoise(nn.Module):
    def __init__(self, p, generator=None):
        super().__init__()
        self.p = p
        self.generator = generator

    def forward(self, x):
        if not self.training:
            return x
        return mask_noise(x, self.p, self.generator)
''',
    "denoising_step": r'''
def denoising_step(model, x, p, optimizer, generator):
    model.train(True)
    corrupted = mask_noise(x, p, generator)
    optimizer.zero_grad(set_to_none=True)
    loss = ((model(corrupted) - x) ** 2).mean()
    loss.backward()
    optimizer.step()
    return float(loss)
''',
    "sparse_penalty": r'''
def sparse_penalty(codes, lam):
    return lam * torch.mean(torch.abs(codes))
''',
    "sparse_loss": r'''
def sparse_loss(model, x, lam):
    h = model.encode(x)
    return F.mse_loss(model.decode(h), x, reduction="mean") + sparse_penalty(h, lam)
''',
    "pca_reconstruct": r'''
def pca_reconstruct(x_train, x, k):
    mean = x_train.mean(dim=0, keepdim=True)
    _, _, Vh = torch.linalg.svd(x_train - mean, full_matrices=False)
    V = Vh[:k].T
    return (x - mean) @ V @ V.T + mean
''',
}

# Variant B: hand-made nn.Parameter weights with F.linear (other names), masked_fill, a cloned eval output,
# model.zero_grad() and .detach().item(), sum / numel, model(x) plus a second encode, pca_lowrank with q=k
# and an eigendecomposition fallback for k = D.
ALT_B = {
    "Autoencoder": r'''
class Autoencoder(nn.Module):
    def __init__(self, in_dim=784, code_dim=32, hidden=128):
        super().__init__()
        def layer(n_in, n_out):
            w = nn.Parameter(torch.randn(n_out, n_in) / n_in ** 0.5)
            b = nn.Parameter(torch.zeros(n_out))
            return w, b
        self.W1, self.b1 = layer(in_dim, hidden)
        self.W2, self.b2 = layer(hidden, code_dim)
        self.W3, self.b3 = layer(code_dim, hidden)
        self.W4, self.b4 = layer(hidden, in_dim)

    def encode(self, x):
        return F.linear(torch.clamp(F.linear(x, self.W1, self.b1), min=0), self.W2, self.b2)

    def decode(self, code):
        h = torch.relu(F.linear(code, self.W3, self.b3))
        return 1 / (1 + torch.exp(-F.linear(h, self.W4, self.b4)))

    def forward(self, x):
        return self.decode(self.encode(x))
''',
    "mask_noise": r'''
def mask_noise(x, p, generator):
    drop = torch.rand(x.shape, generator=generator) < p
    return x.masked_fill(drop, 0.0)
''',
    "MaskNoise": r'''
class MaskNoise(nn.Module):
    def __init__(self, p, generator=None):
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, x):
        return mask_noise(x, self.p, self.generator) if self.training else x.clone()
''',
    "denoising_step": r'''
def denoising_step(model, x, p, optimizer, generator):
    x_in = mask_noise(x, p, generator)
    model.train()
    model.zero_grad()
    loss = F.mse_loss(model(x_in), x)
    loss.backward()
    optimizer.step()
    return loss.detach().item()
''',
    "sparse_penalty": r'''
def sparse_penalty(codes, lam):
    return (lam * codes.abs()).sum() / codes.numel()
''',
    "sparse_loss": r'''
def sparse_loss(model, x, lam):
    return F.mse_loss(model(x), x) + sparse_penalty(model.encode(x), lam)
''',
    "pca_reconstruct": r'''
def pca_reconstruct(x_train, x, k):
    mean = x_train.mean(0)
    if k < min(x_train.shape):
        _, _, V = torch.pca_lowrank(x_train, q=k, center=True)
    else:
        evals, evecs = torch.linalg.eigh((x_train - mean).T.double() @ (x_train - mean).double())
        V = evecs[:, -k:].to(x_train.dtype)
    return mean + ((x - mean) @ V) @ V.T
''',
}


def submission(cells: dict, path) -> str:
    """The solution notebook with each source in ``cells`` injected right after the cell of that grade_id."""
    nb = load_nb(solution_path(ASSIGNMENT))
    for grade_id, src in cells.items():
        nb = with_cells_after(nb, grade_id, [src.strip("\n")])
        for cell in nb["cells"]:
            if cell.get("id") == "injected0":
                cell["id"] = f"alt-{grade_id}"
    return write_nb(nb, path)


def by_group(result) -> dict:
    out: dict = {}
    for c in result.checks:
        out.setdefault(c.exercise, []).append(c)
    return out


@pytest.mark.parametrize("variant", ["A", "B"])
def test_alternative_implementations_get_full_marks(variant, grade, tmp_path):
    alts = {"A": ALT_A, "B": ALT_B}[variant]
    assert_full_marks(grade(submission(alts, tmp_path / f"alt_{variant}.ipynb")))


# Null submissions (DESIGN.md §7): the input unchanged, zeros, a constant of the right shape, doing nothing.
NULLS = {
    "identity": {
        "mask_noise": "def mask_noise(x, p, generator):\n    return x.clone()",
        "MaskNoise": "class MaskNoise(nn.Module):\n    def __init__(self, p, generator=None):\n        super().__init__()\n"
                     "        self.p, self.generator = p, generator\n    def forward(self, x):\n        return x",
        "denoising_step": "def denoising_step(model, x, p, optimizer, generator):\n    return 0.0",
        "sparse_penalty": "def sparse_penalty(codes, lam):\n    return codes.sum() * 0",
        "sparse_loss": "def sparse_loss(model, x, lam):\n    return torch.zeros(())",
        "pca_reconstruct": "def pca_reconstruct(x_train, x, k):\n    return x.clone()",
    },
    "zeros": {
        "mask_noise": "def mask_noise(x, p, generator):\n    return torch.zeros_like(x)",
        "MaskNoise": "class MaskNoise(nn.Module):\n    def __init__(self, p, generator=None):\n        super().__init__()\n"
                     "        self.p, self.generator = p, generator\n    def forward(self, x):\n        return x * 0",
        "denoising_step": "def denoising_step(model, x, p, optimizer, generator):\n    optimizer.zero_grad()\n"
                          "    return 0.0",
        "sparse_penalty": "def sparse_penalty(codes, lam):\n    return torch.tensor(lam, dtype=codes.dtype)",
        "sparse_loss": "def sparse_loss(model, x, lam):\n    return F.mse_loss(x, x)",
        "pca_reconstruct": "def pca_reconstruct(x_train, x, k):\n    return torch.zeros_like(x)",
    },
    "constant": {
        "mask_noise": "def mask_noise(x, p, generator):\n    return torch.full_like(x, 0.5)",
        "MaskNoise": "class MaskNoise(nn.Module):\n    def __init__(self, p, generator=None):\n        super().__init__()\n"
                     "        self.p, self.generator = p, generator\n    def forward(self, x):\n"
                     "        return torch.full_like(x, 0.5)",
        "denoising_step": "def denoising_step(model, x, p, optimizer, generator):\n    model.train()\n"
                          "    optimizer.step()\n    return 1.0",
        "sparse_penalty": "def sparse_penalty(codes, lam):\n    return torch.ones((), dtype=codes.dtype)",
        "sparse_loss": "def sparse_loss(model, x, lam):\n    return torch.ones(())",
        "pca_reconstruct": "def pca_reconstruct(x_train, x, k):\n    return x_train.mean(0).expand(x.shape).clone()",
    },
}


@pytest.mark.parametrize("kind", sorted(NULLS))
def test_null_submissions_score_zero_on_every_check(kind, grade, tmp_path):
    result = grade(submission(NULLS[kind], tmp_path / f"null_{kind}.ipynb"))
    assert result.error is None and not result.cell_errors, (result.error, result.cell_errors)
    groups = by_group(result)
    for group in NULLS[kind]:
        earned = [(c.name, c.score) for c in groups[group] if c.score > 0]
        assert not earned, f"null submission ({kind}) earned points on {earned}"
    # the Autoencoder was left correct: it keeps its points
    assert all(c.passed for c in groups["Autoencoder"])


# The curriculum's mistakes, each injected next to correct code for everything else: the exercise loses
# points with its own feedback, every other exercise keeps full marks (one mistake, one exercise).
WRONG_1 = {
    "Autoencoder": ALT_A["Autoencoder"].replace("return self.enc_code(F.relu(self.enc_hidden(x)))",
                                                "return F.relu(self.enc_code(F.relu(self.enc_hidden(x))))"),
    "MaskNoise": "class MaskNoise(nn.Module):\n    def __init__(self, p, generator=None):\n        super().__init__()\n"
                 "        self.p, self.generator = p, generator\n    def forward(self, x):\n"
                 "        return mask_noise(x, self.p, self.generator)",
    "denoising_step": ALT_A["denoising_step"].replace("loss = ((model(corrupted) - x) ** 2).mean()",
                                                      "loss = F.mse_loss(model(corrupted), corrupted)"),
    "sparse_loss": "def sparse_loss(model, x, lam):\n"
                   "    weights = [w for w in model.parameters() if w.dim() == 2]\n"
                   "    return F.mse_loss(model(x), x) + sum(sparse_penalty(w, lam) for w in weights)",
    "pca_reconstruct": "def pca_reconstruct(x_train, x, k):\n    _, _, V = torch.pca_lowrank(x_train, q=k, center=True)\n"
                       "    return x.mean(0) + (x - x.mean(0)) @ V @ V.T",
}
WRONG_2 = {
    "mask_noise": "def mask_noise(x, p, generator):\n"
                  "    keep = torch.rand(x.shape, generator=generator) >= p\n    return x * keep / (1 - p)",
    "sparse_penalty": "def sparse_penalty(codes, lam):\n    return lam * (codes ** 2).mean()",
    "denoising_step": "def denoising_step(model, x, p, optimizer, generator):\n    model.train()\n"
                      "    optimizer.zero_grad()\n    loss = F.mse_loss(model(mask_noise(x, p, generator)), x)\n"
                      "    loss.backward()\n    optimizer.step()\n    model.eval()\n    return loss.item()",
}
EXPECTED_1 = {
    "Autoencoder": ("Autoencoder.encode", "a ReLU after the code layer"),
    "MaskNoise": ("MaskNoise.eval_mode", "noise was applied at evaluation time"),
    "denoising_step": ("denoising_step.update", "the target of a denoising autoencoder is the CLEAN x"),
    "sparse_loss": ("sparse_loss.loss_value", "a sparse autoencoder penalizes the ACTIVATIONS"),
    "pca_reconstruct": ("pca_reconstruct.pca_values", "x was centred with its own mean"),
}
EXPECTED_2 = {
    "mask_noise": ("mask_noise.kept_values", "rescaled by 1/(1-p) like inverted dropout"),
    "sparse_penalty": ("sparse_penalty.penalty_value", "the codes were squared"),
}


@pytest.mark.parametrize("wrong,expected", [(WRONG_1, EXPECTED_1), (WRONG_2, EXPECTED_2)], ids=["1", "2"])
def test_curriculum_mistakes_lose_points_with_their_feedback(wrong, expected, grade, tmp_path):
    result = grade(submission(wrong, tmp_path / "wrong.ipynb"))
    assert result.error is None and not result.cell_errors, (result.error, result.cell_errors)
    checks = {c.name: c for c in result.checks}
    for check_name, text in expected.values():
        assert checks[check_name].score < checks[check_name].points, check_name
        assert text in checks[check_name].feedback, (check_name, checks[check_name].feedback)
    # every other exercise keeps all its points (MaskNoise and denoising_step are checked against the
    # student's own mask_noise, sparse_loss against the student's own sparse_penalty)
    wrong_groups = set(expected)
    others = [(c.name, c.feedback) for c in result.checks if c.exercise not in wrong_groups and not c.passed]
    assert not others, others
    if wrong is WRONG_2:  # leaving the model in eval mode after the step is allowed (the next step calls train())
        assert all(c.passed for c in result.checks if c.exercise == "denoising_step")


def test_plain_sgd_fixture_matches_torch_sgd_and_steps_the_models_own_parameters():
    model_a = fx.probe(5, 2, seed=3)
    model_b = fx.probe(5, 2, seed=3)
    x = torch.rand(4, 5, generator=torch.Generator().manual_seed(0))
    ours = fx.PlainSGD(model_a.parameters(), lr=0.3)
    ref = torch.optim.SGD(model_b.parameters(), lr=0.3)
    for _ in range(2):
        for model, opt in ((model_a, ours), (model_b, ref)):
            opt.zero_grad()
            F.mse_loss(model(x), x).backward()
            opt.step()
    for a, b in zip(model_a.parameters(), model_b.parameters()):
        torch.testing.assert_close(a, b)
    # probe_model / probe_optimizer: the optimizer holds exactly the model's parameter objects
    model = fx.probe_model("k", 5, 2, seed=1)
    opt = fx.probe_optimizer("k", 0.1)
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(p) for p in model.parameters()]
    assert all(p.grad is not None for p in model.parameters())  # stale gradients to be cleared
    assert not model.training  # starts in eval mode: the step must switch it


def test_probe_records_modes_and_grader_reference_matches_a_fresh_solution_step():
    d, c, seed, lr, p = 6, 2, 4, 0.2, 0.5
    x = torch.rand(3, d, generator=torch.Generator().manual_seed(1))
    noisy = fx.corrupt(x, p, seed=9)
    losses, states = v.reference_steps(d, c, seed, lr, [(noisy, x)])
    loss, state = fx.sgd_reference(d, c, seed, noisy, x, lr)
    assert losses[0] == pytest.approx(loss)
    for k in state:
        torch.testing.assert_close(states[0][k], state[k])


def test_pca_check_data_make_every_correct_method_agree():
    """The check's data have a large spectral gap after k: pca_lowrank with q=k, with oversampling, and
    the exact SVD give the same reconstruction within the check's tier."""
    from autograder import compare

    for seed, n, d, k, m in ((0, 60, 10, 3, 7), (61, 40, 7, 1, 3), (62, 100, 16, 5, 12), (1, 50, 8, 2, 9)):
        x_train, x = v.pca_data(seed, n, d, k, m)
        exact = v.exact_pca(x_train, x, k)
        mean = x_train.mean(0)
        for q, niter in ((k, 2), (min(k + 10, n, d), 4)):
            torch.manual_seed(seed)
            _, _, V = torch.pca_lowrank(x_train, q=q, center=True, niter=niter)
            V = V[:, :k]
            assert compare.close(exact, mean + (x - mean) @ V @ V.T, "steps"), (seed, q)
