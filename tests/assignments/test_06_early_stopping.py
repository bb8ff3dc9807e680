"""Assignment 06 (early stopping): alternative correct implementations keep full marks, null submissions score
0 on every check, each known mistake loses its target checks with its own feedback (judged in-process, so the
whole list runs in seconds), the patterns the checks guard against are named, hidden feedback reveals no
sequence, and the grader-owned fixtures behave as the checks claim (the "overfit" task overfits, the sentinel
raises, the epoch model's set_epoch is in place)."""

from __future__ import annotations

import pytest
import torch
from helpers import assert_full_marks, load_nb, solution_path, with_cells_after, write_nb

from autograder import references
from autograder.checks import run_check
from autograder.fixtures import early_stopping as fx
from autograder.notebooks import notebook_namespace
from autograder.student import LocalStudent
from autograder.suites import load_suite

ASSIGNMENT = "06_early_stopping"

# Variant A: sign-normalized comparison, +/-inf start, clone-per-tensor state restored with copy_, fit with
# enumerate/tensor accumulation and a validation pass over the concatenated outputs.
ALT_A = {
    "EarlyStopping": r'''
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        assert mode in ("min", "max")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.sign = 1.0 if mode == "min" else -1.0
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.counter, self.epochs_seen, self.saved = None, 0, 0, None

    def step(self, val_metric, model):
        value = val_metric.item() if torch.is_tensor(val_metric) else float(val_metric)
        epoch = self.epochs_seen
        self.epochs_seen += 1
        if self.sign * (self.best - value) > self.min_delta:
            self.best, self.best_epoch, self.counter = value, epoch, 0
            self.saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return False
        self.counter += 1
        return self.counter >= self.patience

    def restore(self, model):
        with torch.no_grad():
            for k, t in model.state_dict().items():
                t.copy_(self.saved[k])
''',
    "fit": r'''
def fit(model, loaders, max_epochs, stopper, lr=0.05, loss_fn=F.cross_entropy, progress=False,
        optimizer_cls=torch.optim.SGD):
    opt = optimizer_cls(model.parameters(), lr=lr)
    history = {"train_loss": [], "val_loss": []}
    for epoch in range(max_epochs):
        model.train()
        running = torch.zeros(())
        for i, (x, y) in enumerate(loaders["train"]):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            running = running + loss.detach()
        model.eval()
        with torch.no_grad():
            outs, ys = zip(*[(model(x), y) for x, y in loaders["val"]])
            val_loss = loss_fn(torch.cat(outs), torch.cat(ys)).item()
        history["train_loss"].append(float(running / (i + 1)))
        history["val_loss"].append(val_loss)
        if stopper.step(val_loss, model):
            break
    stopper.restore(model)
    return history
''',
}

# Variant B: the whole model deep-copied, best kept as a 0-d float64 tensor, a `wait` counter behind a property,
# operator-based comparison; fit with a while loop, inference_mode, example-weighted losses and a stop flag.
ALT_B = {
    "EarlyStopping": r'''
import operator


class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        self.patience = patience
        self.delta = -abs(min_delta) if mode == "min" else abs(min_delta)
        self.better = operator.lt if mode == "min" else operator.gt
        self.best = None
        self.best_epoch = None
        self.wait = 0
        self.history = []
        self.best_model = None

    @property
    def counter(self):
        return self.wait

    def step(self, val_metric, model):
        self.history.append(torch.as_tensor(val_metric, dtype=torch.float64))
        current = self.history[-1]
        if self.best is None or self.better(current, self.best + self.delta):
            self.best = current.clone()
            self.best_epoch = len(self.history) - 1
            self.best_model = copy.deepcopy(model)
            self.wait = 0
        else:
            self.wait += 1
        return bool(self.wait >= self.patience)

    def restore(self, model):
        model.load_state_dict(self.best_model.state_dict())
        return None
''',
    "fit": r'''
def fit(model, loaders, max_epochs, stopper, lr=0.05, loss_fn=F.cross_entropy, progress=False,
        optimizer_cls=torch.optim.SGD):
    optimizer = optimizer_cls(model.parameters(), lr=lr)
    history = {"train_loss": [], "val_loss": []}
    epoch, stop = 0, False
    bar = tqdm(total=max_epochs, disable=not progress)
    while epoch < max_epochs and not stop:
        model.train(True)
        total, n = 0.0, 0
        for x, y in loaders["train"]:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * x.shape[0]
            n += x.shape[0]
        train_loss = total / n
        model.train(False)
        vtotal, vn = 0.0, 0
        with torch.inference_mode():
            for x, y in loaders["val"]:
                vtotal += float(loss_fn(model(x), y)) * len(y)
                vn += len(y)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(vtotal / vn)
        stop = stopper.step(history["val_loss"][-1], model)
        epoch += 1
        bar.update(1)
    bar.close()
    stopper.restore(model)
    return history
''',
}


def alternative_submission(alts: dict, path) -> str:
    nb = load_nb(solution_path(ASSIGNMENT))
    for grade_id, src in alts.items():
        nb = with_cells_after(nb, grade_id, [src.strip("\n")])
        for cell in nb["cells"]:
            if cell.get("id") == "injected0":
                cell["id"] = f"alt-{grade_id}"
    return write_nb(nb, path)


@pytest.mark.parametrize("variant", ["A", "B"])
def test_alternative_implementations_get_full_marks(variant, grade, tmp_path):
    alts = {"A": ALT_A, "B": ALT_B}[variant]
    assert_full_marks(grade(alternative_submission(alts, tmp_path / f"alt{variant}.ipynb")))


# -- in-process judging (the same checks through LocalStudent: fast, for many small submissions) -------------
@pytest.fixture(scope="module")
def judge():
    suite = load_suite(ASSIGNMENT, hidden=True)
    refs = references.load(ASSIGNMENT, hidden=True)
    base = notebook_namespace(solution_path(ASSIGNMENT))

    def _judge(group: str | None, source: str = "", impl: dict | None = None) -> dict:
        ns = dict(base)
        exec(source, ns)
        ns.update(impl or {})
        student = LocalStudent(ns)
        return {c.name: run_check(c, student, refs.of(c.name)) for c in suite.select(group)}

    return _judge


@pytest.mark.parametrize("variant", ["A", "B"])
def test_alternative_implementations_in_process(judge, variant):
    alts = {"A": ALT_A, "B": ALT_B}[variant]
    results = judge(None, "\n".join(alts.values()))
    assert all(r.passed for r in results.values()), [(n, r.feedback) for n, r in results.items() if not r.passed]


NULL_STOPPERS = {
    "never_stops": '''
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        self.best, self.best_epoch, self.counter = 0.0, 0, 0
    def step(self, val_metric, model):
        return False
    def restore(self, model):
        pass
''',
    "always_stops": '''
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        self.best, self.best_epoch, self.counter = None, None, 0
    def step(self, val_metric, model):
        self.best = float(val_metric)
        return True
    def restore(self, model):
        return model
''',
    "keeps_everything_by_reference": '''
class EarlyStopping:
    def __init__(self, patience, min_delta=0.0, mode="min"):
        self.best, self.best_epoch, self.counter, self.state = None, None, 0, None
    def step(self, val_metric, model):
        self.state = model.state_dict()
        return False
    def restore(self, model):
        model.load_state_dict(self.state)
''',
}
NULL_FITS = {
    "empty_history": "def fit(model, loaders, max_epochs, stopper, lr=0.05, loss_fn=F.cross_entropy, progress=False, "
                     "optimizer_cls=None):\n"
                     "    return {'train_loss': [], 'val_loss': []}",
    "nothing": "def fit(model, loaders, max_epochs, stopper, lr=0.05, loss_fn=F.cross_entropy, progress=False, "
               "optimizer_cls=None):\n"
               "    return None",
    "zeros_without_training": "def fit(model, loaders, max_epochs, stopper, lr=0.05, loss_fn=F.cross_entropy, "
                              "progress=False, optimizer_cls=None):\n"
                              "    return {'train_loss': [0.0] * max_epochs, 'val_loss': [0.0] * max_epochs}",
}


@pytest.mark.parametrize("name", sorted(NULL_STOPPERS))
def test_null_stoppers_score_zero(judge, name):
    results = judge("EarlyStopping", NULL_STOPPERS[name])
    assert all(r.score == 0 for r in results.values()), [(n, r.score) for n, r in results.items() if r.score]


@pytest.mark.parametrize("name", sorted(NULL_FITS))
def test_null_fits_score_zero(judge, name):
    results = judge("fit", NULL_FITS[name])
    assert all(r.score == 0 for r in results.values()), [(n, r.score) for n, r in results.items() if r.score]


def test_every_known_mistake_loses_its_targets_with_its_feedback(judge):
    """The generic test (tests/assignments/test_assignments.py) grades each mistake in the sandbox; this runs the same
    assertions in-process, on the mistake's own group only, in a few seconds."""
    suite = load_suite(ASSIGNMENT, hidden=True, mistakes=True)
    assert len(suite.mistakes) >= 20
    for m in suite.mistakes:
        results = judge(m.exercise, impl={m.exercise: m.impl})
        for target in m.targets:
            assert results[target].score < results[target].points, (m.name, target)
        feedback = "\n".join(results[t].feedback for t in m.targets)
        assert m.expected_feedback in feedback, (m.name, feedback)


def test_each_curriculum_mistake_is_known():
    names = {m.name for m in load_suite(ASSIGNMENT, hidden=True, mistakes=True).mistakes}
    assert {"patience_off_by_one_late", "state_by_reference", "restores_last_epoch", "stops_on_training_loss",
            "touches_test_loader", "min_delta_sign", "mode_max_ignored", "tie_is_improvement", "counter_not_reset",
            "parameters_only"} <= names


def test_step_that_changes_the_model_is_named(judge):
    src = ALT_A["EarlyStopping"].replace(
        "        self.epochs_seen += 1\n",
        "        self.epochs_seen += 1\n        model.zero_grad()\n        model.bn.reset_running_stats()\n")
    results = judge("EarlyStopping", src)
    assert results["EarlyStopping.restore"].score == 0
    assert "step must not change the model" in results["EarlyStopping.restore"].feedback
    assert results["EarlyStopping.plateau"].passed


def test_restore_that_replaces_parameters_is_named(judge):
    src = ALT_A["EarlyStopping"].replace(
        "        with torch.no_grad():\n            for k, t in model.state_dict().items():\n"
        "                t.copy_(self.saved[k])\n",
        "        for name, module in model.named_modules():\n"
        "            for p in list(module._parameters):\n"
        "                key = f'{name}.{p}' if name else p\n"
        "                module._parameters[p] = nn.Parameter(self.saved[key].clone())\n"
        "            for b in list(module._buffers):\n"
        "                key = f'{name}.{b}' if name else b\n"
        "                module._buffers[b] = self.saved[key].clone()\n")
    results = judge("EarlyStopping", src)
    assert results["EarlyStopping.restore"].score == 0
    assert "not replace its parameters" in results["EarlyStopping.restore"].feedback


def test_fit_that_changes_the_data_in_place_is_named(judge):
    src = ALT_A["fit"].replace("    stopper.restore(model)\n",
                               "    stopper.restore(model)\n    loaders['val'].dataset.tensors[0].mul_(0.5)\n")
    results = judge("fit", src)
    assert results["fit.history_values"].score == 0
    assert "fit changed the data of loaders['val'] in place" in results["fit.history_values"].feedback


def test_fit_returning_a_copy_of_its_model_is_caught(judge):
    src = ALT_A["fit"].replace("    opt = optimizer_cls(model.parameters(), lr=lr)\n",
                               "    model = copy.deepcopy(model)\n    opt = optimizer_cls(model.parameters(), lr=lr)\n")
    results = judge("fit", src)
    assert results["fit.restores_at_end"].score == 0
    assert "another model than the one passed in" in results["fit.restores_at_end"].feedback
    assert results["fit.history_values"].passed and results["fit.feeds_validation_loss"].passed


def test_fit_that_adds_parameters_to_the_model_is_caught(judge):
    src = ALT_A["fit"].replace("    stopper.restore(model)\n",
                               "    stopper.restore(model)\n    model.extra = nn.Linear(1, 1)\n")
    results = judge("fit", src)
    assert results["fit.restores_at_end"].score == 0
    assert "the model changed after stopper.restore(model)" in results["fit.restores_at_end"].feedback


def test_bool_tensor_decisions_are_accepted(judge):
    stopper = ALT_A["EarlyStopping"].replace("return self.counter >= self.patience",
                                             "return torch.tensor(self.counter >= self.patience)")
    results = judge("EarlyStopping", stopper)
    assert all(r.passed for r in results.values()), [(n, r.feedback) for n, r in results.items() if not r.passed]


def test_history_of_loss_tensors_is_named(judge):
    """history holds Python floats (loss.item()); loss tensors would keep their autograd graphs alive."""
    fit = ALT_A["fit"].replace('history["val_loss"].append(val_loss)',
                               'history["val_loss"].append(torch.tensor(val_loss))')
    results = judge("fit", fit)
    assert all(r.score == 0 for r in results.values())
    assert "append loss.item() (a float), not the loss tensor" in results["fit.history_values"].feedback


def test_hidden_feedback_reveals_no_sequence(judge):
    suite = load_suite(ASSIGNMENT, hidden=True, mistakes=True)
    late = [m for m in suite.mistakes if m.name == "patience_off_by_one_late"][0]
    results = judge("EarlyStopping", impl={"EarlyStopping": late.impl})
    for name, r in results.items():
        if r.hidden and not r.passed:
            for case in next(c for c in suite.checks if c.name == name).cases:
                assert str(case["values"][:3])[1:-1] not in r.feedback, (name, r.feedback)
            assert "expected" not in r.feedback


# -- the fixtures behave as the checks say -------------------------------------------------------------------
def test_overfit_task_training_loss_falls_while_validation_turns_up():
    ns = notebook_namespace(solution_path(ASSIGNMENT))
    for seed in (0, 1, 5):  # the seeds of fit.feeds_validation_loss (visible and hidden)
        stopper = fx.probe_stopper()
        h = ns["fit"](fx.task_model(seed), fx.task_loaders("overfit", seed), 12, stopper, lr=0.02,
                      loss_fn=fx.mse_loss(), optimizer_cls=fx.plain_sgd())
        train, val = h["train_loss"], h["val_loss"]
        assert all(b < a for a, b in zip(train, train[1:])), seed
        low = min(range(len(val)), key=val.__getitem__)
        assert 2 <= low <= 8 and val[-1] > val[low] * 1.3, (seed, val)


def test_plain_sgd_equals_torch_sgd_and_imports_no_compiler():
    import subprocess
    import sys

    ns = notebook_namespace(solution_path(ASSIGNMENT))
    histories = []
    for cls in (fx.plain_sgd(), torch.optim.SGD):
        model = fx.task_model(3, d_out=3)
        histories.append((ns["fit"](model, fx.task_loaders("classify", 3), 4, fx.probe_stopper(), lr=0.2,
                                    optimizer_cls=cls), model.snapshot()))
    assert histories[0][0] == histories[1][0]
    assert all(torch.equal(a, histories[1][1][k]) for k, a in histories[0][1].items())
    code = ("import sys, torch; from autograder.fixtures import early_stopping as fx; "
            "m = fx.task_model(0, d_out=3); o = fx.plain_sgd()(m.parameters(), lr=0.1); "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=solution_path(ASSIGNMENT).rsplit("/solutions/", 1)[0])
    assert out.stdout.strip() == "False"


def test_sentinel_raises_and_torch_counts_its_iterations():
    """The test loader's own generator advances once per iteration (torch's draw, replayed by the grader)."""
    loaders = fx.task_loaders("classify", 0, test="sentinel")
    states = [fx.generator_of_test_loader(0)]
    for _ in range(2):
        g = torch.Generator()
        g.set_state(states[-1].get_state())
        fx.draw_like_an_iteration(g)
        states.append(g)
    assert torch.equal(loaders["test"].generator.get_state(), states[0].get_state())
    with pytest.raises(RuntimeError, match="loaders\\['test'\\] was iterated inside fit"):
        next(iter(loaders["test"]))
    assert torch.equal(loaders["test"].generator.get_state(), states[1].get_state())
    counting = fx.task_loaders("classify", 0)["test"]
    for _ in range(2):
        assert len(list(counting)) == 2
    assert torch.equal(counting.generator.get_state(), states[2].get_state())


def test_set_epoch_is_in_place_and_reaches_buffers():
    model = fx.epoch_model(3)
    by_reference = model.state_dict()
    objects = [id(t) for t in model.state_dict(keep_vars=True).values()]
    model.set_epoch(4)
    expected = model.epoch_state(4)
    for k, v in by_reference.items():
        assert torch.equal(v, expected[k]), k
    assert int(model.bn.num_batches_tracked) == 43
    assert [id(t) for t in model.state_dict(keep_vars=True).values()] == objects


def test_solution_stopper_on_the_lecture_example():
    """The notebook's worked table: patience=2, min_delta=0.1."""
    ns = notebook_namespace(solution_path(ASSIGNMENT))
    stopper = ns["EarlyStopping"](patience=2, min_delta=0.1)
    model = fx.epoch_model(0)
    rows = [(stopper.step(m, model), stopper.best, stopper.best_epoch, stopper.counter)
            for m in (1.00, 0.80, 0.75, 0.60, 0.65, 0.62)]
    assert rows == [(False, 1.0, 0, 0), (False, 0.8, 1, 0), (False, 0.8, 1, 1), (False, 0.6, 3, 0),
                    (False, 0.6, 3, 1), (True, 0.6, 3, 2)]
    with pytest.raises(ValueError):
        ns["EarlyStopping"](3, mode="maximum")
