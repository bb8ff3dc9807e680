"""Assignment 07 (regularization showdown): alternative correct implementations get full marks, null
submissions score 0 on every check, every known mistake loses points on its own check with its hint
(checked in-process as well, so it does not depend on how the sandbox lets a submission import the
mistakes), the manual answers never reach the student copy, and the grader's structure helpers read
torch's modules correctly."""

from __future__ import annotations

import pytest
import torch
from helpers import assert_full_marks, load_nb, solution_path, student_path, with_cells_after, write_nb
from torch import nn

from autograder import references
from autograder.checks import run_check
from autograder.notebooks import notebook_namespace
from autograder.student import LocalStudent
from autograder.suites import load_suite

ASSIGNMENT = "07_regularization_showdown"
GROUPS = ("make_model", "make_training_setup", "train_epoch", "evaluate", "port_keras_bn_model")

# Variant A: nested blocks with OrderedDict names, in-place ReLU, param groups, a penalty object,
# model.zero_grad, a separate penalty backward, inference_mode, a Keras port with named layers.
ALT_A = {
    "make_model": r'''
from collections import OrderedDict

def make_model(kind, hidden=(256, 128), p=0.3, in_features=784, num_classes=10):
    if kind not in KINDS:
        raise ValueError(kind)
    blocks = [("flatten", nn.Flatten())]
    widths = [in_features, *hidden]
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        if kind == "bn":
            block = [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b), nn.ReLU(inplace=True)]
        elif kind == "ln":
            block = [nn.Linear(a, b), nn.LayerNorm(b), nn.ReLU(inplace=True)]
        elif kind == "dropout":
            block = [nn.Linear(a, b), nn.ReLU(inplace=True), nn.Dropout(p=p)]
        else:
            block = [nn.Linear(a, b), nn.ReLU(inplace=True)]
        blocks.append((f"hidden{i}", nn.Sequential(*block)))
    blocks.append(("head", nn.Linear(widths[-1], num_classes)))
    return nn.Sequential(OrderedDict(blocks))
''',
    "make_training_setup": r'''
class _Penalty:
    def __init__(self, kind, lam):
        self.kind, self.lam = kind, lam

    def __call__(self, m):
        ws = [mod.weight for _, mod in m.named_modules() if type(mod) is nn.Linear]
        if self.kind == "l1":
            return self.lam * torch.stack([w.abs().sum() for w in ws]).sum()
        return 0.5 * self.lam * torch.stack([torch.linalg.vector_norm(w) ** 2 for w in ws]).sum()

def make_training_setup(model, kind, lr=1e-3, lam=1e-4):
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    rest = [p for n, p in model.named_parameters() if not n.endswith("weight")]
    optimizer = torch.optim.Adam([{"params": decay}, {"params": rest}], lr=lr)
    return optimizer, (_Penalty(kind, lam) if kind in ("l1", "l2") else None)
''',
    "train_epoch": r'''
def train_epoch(model, loader, optimizer, penalty=None, progress=False):
    model.train(True)
    total, n_seen = 0.0, 0
    for x, y in tqdm(loader, disable=not progress):
        model.zero_grad(set_to_none=False)
        data_loss = F.cross_entropy(model(x), y, reduction="sum") / len(y)
        data_loss.backward()
        value = data_loss.item()
        if penalty is not None:
            pen = penalty(model)
            pen.backward()
            value += pen.item()
        optimizer.step()
        total += value * y.shape[0]
        n_seen += y.shape[0]
    return total / n_seen
''',
    "evaluate": r'''
def evaluate(model, loader):
    was_training = model.training
    model.train(False)
    losses, hits, count = [], [], 0
    with torch.inference_mode():
        for x, y in loader:
            out = model(x)
            losses.append(F.cross_entropy(out, y, reduction="none"))
            hits.append(out.max(dim=1).indices.eq(y))
            count += y.numel()
    model.train(was_training)
    return torch.cat(losses).mean().item(), torch.cat(hits).float().sum().item() / count
''',
    "port_keras_bn_model": r'''
from collections import OrderedDict

def port_keras_bn_model(bn_before_activation=False):
    layers, d = OrderedDict(), 4
    for i, n in enumerate((64, 128, 128, 64)):
        layers[f"dense{i}"] = nn.Linear(d, n)
        order = ("bn", "relu") if bn_before_activation else ("relu", "bn")
        for part in order:
            layers[f"{part}{i}"] = nn.BatchNorm1d(n, eps=0.001, momentum=1 - 0.99) if part == "bn" else nn.ReLU()
        d = n
    layers["logits"] = nn.Linear(d, 3)
    return nn.Sequential(layers)
''',
}

# Variant B: plain lists, AdamW(weight_decay=0), lambdas, zero_grad after the step, one pass with sums
# kept as tensors, a Keras port written out layer by layer with Keras's own initialization.
ALT_B = {
    "make_model": r'''
def make_model(kind, hidden=(256, 128), p=0.3, in_features=784, num_classes=10):
    mods = [nn.Flatten()]
    sizes = (in_features,) + tuple(hidden)
    for a, b in zip(sizes[:-1], sizes[1:]):
        mods.append(nn.Linear(a, b, bias=(kind != "bn")))
        if kind == "bn":
            mods.append(nn.BatchNorm1d(b))
        if kind == "ln":
            mods.append(nn.LayerNorm([b]))
        mods.append(nn.ReLU())
        if kind == "dropout":
            mods.append(nn.Dropout(p))
    mods.append(nn.Linear(sizes[-1], num_classes))
    return nn.Sequential(*mods)
''',
    "make_training_setup": r'''
def make_training_setup(model, kind, lr=1e-3, lam=1e-4):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0)
    linears = lambda m: [mod for mod in m.modules() if isinstance(mod, nn.Linear)]
    penalties = {
        "l1": lambda m: lam * sum(torch.sum(torch.abs(l.weight)) for l in linears(m)),
        "l2": lambda m: sum(torch.sum(l.weight * l.weight) for l in linears(m)) * lam / 2,
    }
    return opt, penalties.get(kind)
''',
    "train_epoch": r'''
def train_epoch(model, loader, optimizer, penalty=None, progress=False):
    model.train()
    optimizer.zero_grad()
    weighted, count = torch.zeros(()), 0
    for x, y in loader:
        logits = model(x)
        loss = F.cross_entropy(logits, y) + (penalty(model) if penalty else 0.0)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        weighted = weighted + loss.detach() * len(x)
        count += len(x)
    return (weighted / count).item()
''',
    "evaluate": r'''
def evaluate(model, loader):
    mode = model.training
    model.eval()
    with torch.no_grad():
        sums = torch.zeros(3, dtype=torch.float64)
        for x, y in loader:
            logits = model(x)
            sums += torch.tensor([F.cross_entropy(logits, y, reduction="sum").item(),
                                  (logits.argmax(-1) == y).sum().item(), len(y)], dtype=torch.float64)
    model.train(mode)
    return float(sums[0] / sums[2]), float(sums[1] / sums[2])
''',
    "port_keras_bn_model": r'''
def port_keras_bn_model(bn_before_activation=False):
    def block(d, n):
        bn = nn.BatchNorm1d(n, momentum=0.01, eps=1e-3)
        return [nn.Linear(d, n), bn, nn.ReLU()] if bn_before_activation else [nn.Linear(d, n), nn.ReLU(), bn]
    model = nn.Sequential(*block(4, 64), *block(64, 128), *block(128, 128), *block(128, 64), nn.Linear(64, 3))
    for m in model.modules():  # Keras's Dense initialization: Glorot-uniform weights, zero biases
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model
''',
}


def submission(replacements: dict, path) -> str:
    nb = load_nb(solution_path(ASSIGNMENT))
    for name, src in replacements.items():
        nb = with_cells_after(nb, name, [src])
    return write_nb(nb, path)


@pytest.mark.parametrize("variant", ["A", "B"])
def test_alternative_implementations_get_full_marks(variant, grade, tmp_path):
    alts = {"A": ALT_A, "B": ALT_B}[variant]
    assert_full_marks(grade(submission(alts, tmp_path / f"alt{variant}.ipynb")))


NULLS = {
    "make_model": [
        "def make_model(kind, hidden=(256, 128), p=0.3, in_features=784, num_classes=10):\n    return None\n",
        "def make_model(kind, hidden=(256, 128), p=0.3, in_features=784, num_classes=10):\n"
        "    return nn.Sequential()\n",
        "def make_model(kind, hidden=(256, 128), p=0.3, in_features=784, num_classes=10):\n"
        "    return nn.Sequential(nn.Flatten())\n",
    ],
    "make_training_setup": [
        "def make_training_setup(model, kind, lr=1e-3, lam=1e-4):\n    return None, None\n",
        "def make_training_setup(model, kind, lr=1e-3, lam=1e-4):\n    return None\n",
    ],
    "train_epoch": [
        "def train_epoch(model, loader, optimizer, penalty=None, progress=False):\n    return 0.0\n",
        "def train_epoch(model, loader, optimizer, penalty=None, progress=False):\n    return 1.0\n",
        "def train_epoch(model, loader, optimizer, penalty=None, progress=False):\n    pass\n",
    ],
    "evaluate": [
        "def evaluate(model, loader):\n    return 0.0, 0.0\n",
        "def evaluate(model, loader):\n    return 0.5, 0.5\n",
        "def evaluate(model, loader):\n    pass\n",
    ],
    "port_keras_bn_model": [
        "def port_keras_bn_model(bn_before_activation=False):\n    return nn.Sequential()\n",
        "def port_keras_bn_model(bn_before_activation=False):\n    return None\n",
    ],
}


@pytest.mark.parametrize("index", [0, 1, 2])
def test_null_submissions_score_zero_on_every_check(index, grade, tmp_path):
    """Do-nothing, empty and constant submissions of every stub at once: 0 on every check."""
    replacements = {name: subs[index] for name, subs in NULLS.items() if index < len(subs)}
    result = grade(submission(replacements, tmp_path / f"null{index}.ipynb"))
    assert result.error is None, result.error
    for c in result.checks:
        if c.exercise in replacements:
            assert c.score == 0, (c.name, replacements[c.exercise], c.feedback)


@pytest.fixture(scope="module")
def solution_ns():
    return notebook_namespace(solution_path(ASSIGNMENT))


@pytest.fixture(scope="module")
def suite_and_refs():
    suite = load_suite(ASSIGNMENT, hidden=True, mistakes=True)
    refs = references.load(ASSIGNMENT)
    return suite, refs


MISTAKES = [m for m in load_suite(ASSIGNMENT, hidden=True, mistakes=True).mistakes]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[f"{m.exercise}:{m.name}" for m in MISTAKES])
def test_mistake_loses_points_on_its_own_checks_in_process(mistake, solution_ns, suite_and_refs):
    suite, refs = suite_and_refs
    ns = dict(solution_ns)
    ns[mistake.exercise] = mistake.impl
    student = LocalStudent(ns)
    results = {c.name: run_check(c, student, refs.of(c.name)) for c in suite.checks
               if c.exercise == mistake.exercise}
    for target in mistake.targets:
        r = results[target]
        assert r.score < r.points, f"{mistake.name} did not lose points on {target}"
    feedback = "\n".join(results[t].feedback for t in mistake.targets)
    assert (mistake.feedback or mistake.hint) in feedback, feedback
    # hidden feedback never quotes the hidden inputs, but the hint that names the mistake is there too
    for r in results.values():
        if r.hidden and not r.passed and "Hint:" in r.feedback:
            assert "called" not in r.feedback


def test_curriculum_mistakes_are_known():
    names = {(m.exercise, m.name) for m in MISTAKES}
    assert ("make_model", "bn_after_activation") in names
    assert ("evaluate", "train_mode_evaluation") in names
    assert ("make_training_setup", "weight_decay_and_l2_penalty") in names
    assert ("port_keras_bn_model", "flag_ignored") in names


def test_manual_answers_are_graded_by_hand_and_not_released():
    sol = load_nb(solution_path(ASSIGNMENT))
    stu = load_nb(student_path(ASSIGNMENT))
    manual = {"answer_where_bn", "answer_bn_every_layer", "answer_bn_vs_dropout"}
    for nb, released in ((sol, False), (stu, True)):
        cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
                 if c["metadata"].get("nbgrader", {}).get("grade_id") in manual}
        assert set(cells) == manual
        for c in cells.values():
            meta = c["metadata"]["nbgrader"]
            assert c["cell_type"] == "markdown" and meta["grade"] and meta["solution"] and meta["points"] == 2
            text = "".join(c["source"])
            assert ("Model answer" in text) != released, text[:80]
    student_text = "\n".join("".join(c["source"]) for c in stu["cells"])
    assert "Model answer" not in student_text
    assert "### BEGIN SOLUTION" not in student_text


def test_notebook_says_which_data_set_ran_and_skips_training_when_grading():
    nb = load_nb(solution_path(ASSIGNMENT))
    by_id = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}
    load = "".join(by_id["data_load"]["source"])
    assert "download=True" in load and "data.source" in load and "print(" in load
    assert "offline" in "".join(by_id["data_md"]["source"]).lower()
    for gid in ("data_load", "data_show", "models_show", "showdown_run", "showdown_plot", "showdown_table",
                "lr_run", "keras_conventions", "iris_run"):
        assert "skip-when-grading" in by_id[gid]["metadata"].get("tags", []), gid
    for gid in ("showdown_run", "lr_run", "iris_run"):
        assert "tqdm(" in "".join(by_id[gid]["source"]), gid
    assert "SEEDS = (0, 1, 2)" in "".join(by_id["showdown_run"]["source"])


def test_structure_helpers_read_torch_modules():
    from autograder.sandbox.worker import describe
    from autograder.suites.s07_regularization_showdown import checks as v

    model = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(6, 5, bias=False), nn.BatchNorm1d(5, eps=1e-3,
                                                                                                 momentum=0.01)),
                          nn.ReLU(), nn.Linear(5, 4), nn.LayerNorm(4), nn.ReLU(), nn.Linear(4, 2))
    leaves = v.leaves(describe(model))
    assert [t for _, t, _ in leaves] == ["Flatten", "Linear", "BatchNorm1d", "ReLU", "Linear", "LayerNorm", "ReLU",
                                         "Linear"]
    opts = {t: v.options(e) for _, t, e in leaves}
    assert opts["BatchNorm1d"]["_first"] == "5" and float(opts["BatchNorm1d"]["momentum"]) == 0.01
    assert opts["LayerNorm"]["_first"] == "(4,)"
    assert float(v.options(nn.Dropout(0.25).extra_repr())["p"]) == 0.25
    assert opts["Linear"]["bias"] == "True"
    x = torch.randn(7, 2, 3)
    state = {k: val.clone() for k, val in model.state_dict().items()}
    out, after = v.replay(leaves, state, x, training=True)
    expected = model(x)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(after["1.1.running_mean"], model[1][1].running_mean)
    model.eval()
    out_eval, _ = v.replay(leaves, model.state_dict(), x, training=False)
    torch.testing.assert_close(out_eval, model(x))


def test_keras_port_counts_match_keras_summary(solution_ns):
    for before in (False, True):
        model = solution_ns["port_keras_bn_model"](bn_before_activation=before)
        trainable = sum(p.numel() for p in model.parameters())
        moving = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
        assert (trainable, moving, trainable + moving) == (34371, 768, 35139)
