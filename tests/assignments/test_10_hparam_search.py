"""Assignment 10 (hyperparameter search): alternative correct implementations get full marks, null
submissions get nothing, and each pattern the checks guard against (peeking at the test loss, unseeded or
re-seeded trials, calling train_fn more than once per trial, changing the space, a sampler that ignores its
bounds) loses the points of its check with the feedback that names it. The statistical tolerance is pinned."""

from __future__ import annotations

import math

import pytest
import torch
from helpers import assert_full_marks, load_nb, solution_path, with_cells_after, write_nb

from autograder.suites.s10_hparam_search import checks as C
from autograder.suites.s10_hparam_search import hidden  # noqa: F401 - adds the hidden scripts to C.SCRIPTS

ASSIGNMENT = "10_hparam_search"

# Variant A: natural logs and exp, the momentum written out, torch.argmin over a NaN-free tensor, float().
ALT_A = {
    "log_uniform": r'''
def log_uniform(low, high, n, generator):
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return torch.exp(math.log(low) + u * (math.log(high) - math.log(low)))
''',
    "sample_momentum": r'''
def sample_momentum(n, generator):
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return 1 - 10 ** (-3 + 2 * u)
''',
    "random_search": r'''
def random_search(train_fn, space, n_trials, seed):
    g = torch.Generator()
    g.manual_seed(seed)
    configs, results = [], []
    for _ in range(n_trials):
        config = {}
        for name in space:
            kind, *args = space[name]
            if kind == "log_uniform":
                config[name] = float(log_uniform(args[0], args[1], 1, g)[0])
            elif kind == "uniform":
                config[name] = float(args[0] + (args[1] - args[0]) * torch.rand(1, generator=g, dtype=torch.float64)[0])
            elif kind == "momentum":
                config[name] = float(sample_momentum(1, g)[0])
            else:
                config[name] = args[0][int(torch.randint(0, len(args[0]), (1,), generator=g))]
        configs.append(config)
        results.append(train_fn(dict(config)))
    losses = torch.tensor([float(r["val_loss"]) for r in results], dtype=torch.float64)
    best = int(torch.argmin(torch.nan_to_num(losses, nan=math.inf)))
    return configs[best], [{"config": c, "result": r} for c, r in zip(configs, results)]
''',
}

# Variant B: torch.lerp in log10 space, sample_momentum through log_uniform, a sampler table, a stable sort
# with NaN as +inf, float() of one-element tensors.
ALT_B = {
    "log_uniform": r'''
def log_uniform(low, high, n, generator):
    u = torch.rand((n,), generator=generator, dtype=torch.float64)
    a = torch.full((n,), math.log10(low), dtype=torch.float64)
    b = torch.full((n,), math.log10(high), dtype=torch.float64)
    return torch.pow(10.0, torch.lerp(a, b, u))
''',
    "sample_momentum": r'''
def sample_momentum(n, generator):
    one_minus = log_uniform(0.001, 0.1, n, generator)
    return torch.ones_like(one_minus) - one_minus
''',
    "random_search": r'''
_SAMPLERS = {
    "log_uniform": lambda spec, g: float(log_uniform(spec[1], spec[2], 1, g)),
    "uniform": lambda spec, g: float(spec[1] + torch.rand(1, generator=g, dtype=torch.float64) * (spec[2] - spec[1])),
    "momentum": lambda spec, g: float(sample_momentum(1, g)),
    "choice": lambda spec, g: spec[1][torch.randint(len(spec[1]), (1,), generator=g).item()],
}


def random_search(train_fn, space, n_trials, seed):
    rng = torch.Generator().manual_seed(seed)
    history = []
    for trial in range(n_trials):
        config = {name: _SAMPLERS[spec[0]](spec, rng) for name, spec in space.items()}
        history.append({"config": config, "result": train_fn(config)})

    def key(i):
        v = history[i]["result"]["val_loss"]
        return math.inf if v != v else v

    order = sorted(range(n_trials), key=key)  # stable: the first of tied trials comes first
    return history[order[0]]["config"], history
''',
}

NULL = {
    "log_uniform": r'''
def log_uniform(low, high, n, generator):
    return torch.full((n,), float(low), dtype=torch.float64)
''',
    "sample_momentum": r'''
def sample_momentum(n, generator):
    return torch.full((n,), 0.9, dtype=torch.float64)
''',
    "random_search": r'''
def random_search(train_fn, space, n_trials, seed):
    return {}, []
''',
}

ZEROS = {
    "log_uniform": "def log_uniform(low, high, n, generator):\n    return torch.zeros(n, dtype=torch.float64)\n",
    "sample_momentum": "def sample_momentum(n, generator):\n    return torch.zeros(n, dtype=torch.float64)\n",
    "random_search": "def random_search(train_fn, space, n_trials, seed):\n    return None, None\n",
}


def submission(alts: dict, path) -> str:
    nb = load_nb(solution_path(ASSIGNMENT))
    for grade_id, src in alts.items():
        nb = with_cells_after(nb, grade_id, [src.strip("\n")])
        for cell in nb["cells"]:
            if cell.get("id") == "injected0":
                cell["id"] = f"alt-{grade_id}"
    return write_nb(nb, path)


def by_name(result) -> dict:
    return {c.name: c for c in result.checks}


@pytest.mark.parametrize("variant", ["A", "B"])
def test_alternative_implementations_get_full_marks(variant, grade, tmp_path):
    alts = {"A": ALT_A, "B": ALT_B}[variant]
    assert_full_marks(grade(submission(alts, tmp_path / f"alt_{variant}.ipynb")))


@pytest.mark.parametrize("variant", ["constant", "zeros"])
def test_null_submissions_score_zero_on_every_check(variant, grade, tmp_path):
    alts = {"constant": NULL, "zeros": ZEROS}[variant]
    result = grade(submission(alts, tmp_path / f"null_{variant}.ipynb"))
    assert result.error is None
    scored = [(c.name, c.score) for c in result.checks if c.score > 0]
    assert not scored, scored


def _rs_variant(tmp_path, grade, body: str, name: str):
    return by_name(grade(submission({"random_search": body}, tmp_path / f"{name}.ipynb")))


SEARCH_TEMPLATE = r'''
def _draw(spec, g):
    kind = spec[0]
    if kind == "log_uniform":
        return log_uniform(spec[1], spec[2], 1, g).item()
    if kind == "uniform":
        return (spec[1] + torch.rand(1, generator=g, dtype=torch.float64) * (spec[2] - spec[1])).item()
    if kind == "momentum":
        return sample_momentum(1, g).item()
    return spec[1][torch.randint(len(spec[1]), (1,), generator=g).item()]


def random_search(train_fn, space, n_trials, seed):
    g = torch.Generator().manual_seed(SEED)
    history = []
    for trial in range(n_trials):
        config = {name: _draw(spec, g) for name, spec in space.items()}
        TRAIN
        history.append({"config": config, "result": result})
    SELECT
    return history[best]["config"], history
'''


def _search(seed="seed", train="result = train_fn(config)",
            select="best = min(range(n_trials), key=lambda i: math.inf if math.isnan(history[i]['result']['val_loss']) "
                   "else history[i]['result']['val_loss'])"):
    return SEARCH_TEMPLATE.replace("SEED", seed).replace("TRAIN", train).replace("SELECT", select)


def test_the_template_itself_is_correct(grade, tmp_path):
    assert_full_marks(grade(submission({"random_search": _search()}, tmp_path / "template.ipynb")))


def test_peeking_at_the_test_loss_loses_the_selection_points(grade, tmp_path):
    """Choosing by validation + test (a subtler peek than by test alone) selects another trial."""
    checks = _rs_variant(tmp_path, grade, _search(
        select="best = min(range(n_trials), key=lambda i: history[i]['result']['val_loss'] + "
               "history[i]['result']['test_loss'])"), "peek")
    check = checks["random_search.selects_on_validation"]
    assert check.score == 0
    assert "make trial 3 the best" in check.feedback
    assert "select by result['val_loss']" in check.feedback
    assert checks["random_search.draws"].passed and checks["random_search.history"].passed


def test_a_hard_coded_seed_is_caught(grade, tmp_path):
    checks = _rs_variant(tmp_path, grade, _search(seed="0"), "seed0")
    assert checks["random_search.seeded"].score == 0
    assert "gave the same configs: seed the generator with `seed`" in checks["random_search.seeded"].feedback
    assert checks["random_search.draws"].score == 0
    assert checks["random_search.selects_on_validation"].passed


def test_tensors_in_the_config_are_caught(grade, tmp_path):
    body = _search().replace("return log_uniform(spec[1], spec[2], 1, g).item()", "return log_uniform(spec[1], spec[2], 1, g)")
    checks = _rs_variant(tmp_path, grade, body, "tensors")
    check = checks["random_search.draws"]
    assert check.score == 0
    assert "numeric values go into the config as Python floats" in check.feedback
    assert checks["random_search.selects_on_validation"].passed


def test_training_twice_per_trial_is_caught(grade, tmp_path):
    checks = _rs_variant(tmp_path, grade, _search(train="train_fn(config)\n        result = train_fn(config)"),
                         "twice")
    check = checks["random_search.history"]
    assert check.score == 0
    assert "call it exactly once per trial" in check.feedback


def test_shuffling_the_options_in_place_is_caught(grade, tmp_path):
    body = _search(train="result = train_fn(config)\n        "
                         "[spec[1].reverse() for spec in space.values() if spec[0] == 'choice']")
    checks = _rs_variant(tmp_path, grade, body, "shuffle")
    check = checks["random_search.space_unchanged"]
    assert check.score == 0
    assert "the space dict changed during random_search" in check.feedback


def test_a_sampler_that_ignores_its_bounds_is_caught(grade, tmp_path):
    body = r'''
def log_uniform(low, high, n, generator):
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return 10.0 ** (-4 + 4 * u)
'''
    checks = by_name(grade(submission({"log_uniform": body}, tmp_path / "bounds.ipynb")))
    for name in ("log_uniform.values", "log_uniform.in_range", "log_uniform.log_is_uniform"):
        assert checks[name].score == 0, name
    assert "they must lie in [1e-05, 0.01)" in checks["log_uniform.in_range"].feedback


def test_a_wrong_log_uniform_is_charged_to_log_uniform_only(grade, tmp_path):
    """sample_momentum = 1 - log_uniform(...) on top of a uniform (not log-uniform) sampler keeps its points;
    random_search's draws fail and name log_uniform (and sample_momentum, which inherits it) as the cause."""
    body = r'''
def log_uniform(low, high, n, generator):
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return low + u * (high - low)
'''
    result = grade(submission({"log_uniform": body}, tmp_path / "uniform.ipynb"))
    checks = by_name(result)
    assert all(c.passed for c in result.checks if c.exercise == "sample_momentum")
    assert "random_search draws with your log_uniform" in checks["random_search.draws"].feedback
    assert checks["random_search.selects_on_validation"].passed


def test_sampling_from_the_global_rng_is_caught_in_log_uniform(grade, tmp_path):
    body = r'''
def log_uniform(low, high, n, generator):
    u = torch.rand(n, dtype=torch.float64)
    return 10.0 ** (math.log10(low) + u * (math.log10(high) - math.log10(low)))
'''
    checks = by_name(grade(submission({"log_uniform": body}, tmp_path / "global.ipynb")))
    assert checks["log_uniform.uses_generator"].score == 0
    assert "it draws from the global random number generator" in checks["log_uniform.uses_generator"].feedback


def test_ks_tolerance_holds_for_the_reference_and_rejects_uniform_sampling():
    """The documented tolerance: KS statistic of log10(samples) < 1.63/sqrt(4000) ~= 0.0258 for the check's
    cases, with room to spare for the reference draws, while a uniform sampler is 15x above it or more."""
    crit = C.KS_CRITICAL / math.sqrt(C.KS_N)
    for low, high, seed in ((1e-6, 1.0, 3), (0.001, 0.1, 24), (7.0, 7e4, 28)):
        x = C.ref_log_uniform(low, high, C.KS_N, torch.Generator().manual_seed(seed))
        assert C.ks_uniform(torch.log10(x), math.log10(low), math.log10(high)) < 0.8 * crit
        u = torch.rand(C.KS_N, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        assert C.ks_uniform(torch.log10(low + u * (high - low)), math.log10(low), math.log10(high)) > 0.4
    for seed in (7, 33, 34):
        m = C.ref_momentum(C.KS_N, torch.Generator().manual_seed(seed))
        assert C.ks_uniform(torch.log10(1 - m), -3.0, -1.0) < 0.8 * crit


def test_scripts_separate_every_wrong_selection_rule():
    """In each scripted scenario the contract's trial differs from what the wrong rules pick."""
    def pick(vals):
        return min(range(len(vals)), key=vals.__getitem__)

    for name in ("plain", "plain2", "plain3"):
        s = C.SCRIPTS[name]
        assert s["best"] == pick(s["val"])
        for wrong in (s["test"], s["train"], [-v for v in s["val"]], [v + t for v, t in zip(s["val"], s["test"])]):
            assert pick(wrong) != s["best"], name
    for name in ("ties", "ties3"):
        s = C.SCRIPTS[name]
        tied = [i for i, v in enumerate(s["val"]) if v == min(s["val"])]
        assert s["best"] == tied[0] and len(tied) > 1
        assert min(tied, key=s["test"].__getitem__) != s["best"]
    for name in ("nan", "nan2", "nan3"):
        s = C.SCRIPTS[name]
        assert int(torch.argmin(torch.tensor(s["val"]))) != s["best"] or math.isnan(s["val"][0])
        finite = [v if v == v else math.inf for v in s["val"]]
        assert s["best"] == pick(finite)
