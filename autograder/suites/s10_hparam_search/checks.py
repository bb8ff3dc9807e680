"""Visible checks of assignment 10 (shipped to students; the self-check runs these).

Conventions (documented in the notebook):

- ``log_uniform(low, high, n, generator)``: exactly one draw ``u = torch.rand(n, generator=generator,
  dtype=torch.float64)``, returned as ``10 ** (log10(low) + u * (log10(high) - log10(low)))`` (float64,
  shape (n,), values in [low, high)).
- ``sample_momentum(n, generator)`` = ``1 - log_uniform(1e-3, 1e-1, n, generator)``.
- ``random_search(train_fn, space, n_trials, seed)``: one ``torch.Generator().manual_seed(seed)``; trial by
  trial, one value per hyperparameter in the space's order (log_uniform: ``log_uniform(low, high, 1, g)``;
  uniform: ``low + u * (high - low)`` with one float64 ``torch.rand(1)``; momentum: ``sample_momentum(1, g)``;
  choice: ``options[torch.randint(len(options), (1,), generator=g)]``); ``train_fn(config)`` once per trial;
  the best trial has the smallest ``result["val_loss"]`` (NaN = +inf, ties: the first); returns
  ``(best_config, history)`` with ``history[i] = {"config": ..., "result": ...}``.

Generators and ``train_fn`` are built in the student's process from ``autograder.fixtures.hparam_search``
(a generator has no plain-data form). The scripted ``train_fn`` records every config it receives, so the
selection checks compare ``best_config`` with what was actually trained, independently of the draws.

Statistical checks: a one-sample Kolmogorov-Smirnov statistic of log10 of the samples against the uniform
distribution on [log10 low, log10 high), with n = 4000 samples; it must stay below 1.63 / sqrt(n) ~= 0.0258
(the 1 % critical value). The seeds are fixed, so the result of a correct implementation is deterministic
(its statistic is listed in the tests); a uniform (not log-uniform) sampler gives a statistic above 0.5.
"""

from __future__ import annotations

import math

import torch

from autograder import compare
from autograder.checks import CheckFailed, Suite

suite = Suite(__name__)
FIX = "autograder.fixtures.hparam_search"
KS_N = 4000
KS_CRITICAL = 1.63  # times 1/sqrt(n): the asymptotic 1 % critical value of the one-sample KS statistic


# ---------------------------------------------------------------------------------------------------
# references (grader side)
# ---------------------------------------------------------------------------------------------------
def ref_log_uniform(low: float, high: float, n: int, g: torch.Generator) -> torch.Tensor:
    u = torch.rand(n, generator=g, dtype=torch.float64)
    return torch.pow(10.0, math.log10(low) + u * (math.log10(high) - math.log10(low)))


def ref_momentum(n: int, g: torch.Generator) -> torch.Tensor:
    return 1.0 - ref_log_uniform(1e-3, 1e-1, n, g)


def ref_configs(space: dict, n_trials: int, seed: int) -> list[dict]:
    g = torch.Generator().manual_seed(int(seed))
    configs = []
    for _ in range(n_trials):
        config = {}
        for name, spec in space.items():
            kind = spec[0]
            if kind == "log_uniform":
                config[name] = ref_log_uniform(spec[1], spec[2], 1, g).item()
            elif kind == "uniform":
                u = torch.rand(1, generator=g, dtype=torch.float64)
                config[name] = (spec[1] + u * (spec[2] - spec[1])).item()
            elif kind == "momentum":
                config[name] = ref_momentum(1, g).item()
            else:
                config[name] = spec[1][torch.randint(len(spec[1]), (1,), generator=g).item()]
        configs.append(config)
    return configs


def ks_uniform(x: torch.Tensor, a: float, b: float) -> float:
    """One-sample Kolmogorov-Smirnov statistic of x against the uniform distribution on [a, b)."""
    x = torch.sort(x.to(torch.float64).flatten()).values
    n = x.numel()
    cdf = ((x - a) / (b - a)).clamp(0.0, 1.0)
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return float(torch.maximum(i / n - cdf, cdf - (i - 1) / n).max())


def gen_state(seed: int, n: int) -> torch.Tensor:
    """The state of a generator seeded with ``seed`` after one float64 torch.rand(n)."""
    g = torch.Generator().manual_seed(int(seed))
    torch.rand(n, generator=g, dtype=torch.float64)
    return g.get_state()


def plain(value):
    """A config value as plain data: one-element tensors become floats."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.reshape(()).item())
    return value


def plain_config(config):
    return {k: plain(v) for k, v in config.items()} if isinstance(config, dict) else config


def samples_of(ctx, fn: str, out, n: int):
    ctx.expect(isinstance(out, torch.Tensor), f"{fn} should return a tensor; got {type(out).__name__}")
    ctx.expect(tuple(out.shape) == (n,), f"{fn} should return shape [{n}]; got {list(out.shape)}",
               hint="one sample per entry: a 1-d tensor of n values.")
    ctx.expect(out.dtype == torch.float64, f"{fn} should return float64 values; got {out.dtype}",
               hint="draw u with torch.rand(n, generator=generator, dtype=torch.float64).")
    return out


# ---------------------------------------------------------------------------------------------------
# 1. log_uniform
# ---------------------------------------------------------------------------------------------------
LU_DRAW_HINT = ("one draw u = torch.rand(n, generator=generator, dtype=torch.float64), then "
                "10 ** (log10(low) + u * (log10(high) - log10(low))).")


def call_log_uniform(ctx, low, high, n, seed, global_seed=0):
    out = ctx.call("log_uniform", low, high, n, ctx.make(f"{FIX}:generator", seed), global_seed=global_seed)
    return samples_of(ctx, "log_uniform", out, n)


@suite.check("log_uniform", points=2, title="exact values from the generator (float64, non-default low/high/n)",
             cases=[{"low": 1e-4, "high": 1e-1, "n": 6, "seed": 0}, {"low": 0.5, "high": 2000.0, "n": 5, "seed": 1}],
             hint=LU_DRAW_HINT)
def values(ctx, low, high, n, seed):
    out = call_log_uniform(ctx, low, high, n, seed)
    ctx.expect_reference(out, f"log_uniform({low:g}, {high:g}, {n}, generator) values", tier="float64")
    ctx.expect_equal(out, ref_log_uniform(low, high, n, ctx.gen(seed)), "the samples", tier="float64")


@suite.check("log_uniform", points=1, title="2000 samples lie in [low, high) and reach both ends",
             cases=[{"low": 1e-5, "high": 1e-2, "seed": 2}],
             hint="take the bounds in the base you exponentiate: 10 ** log10(low) = low (natural logs of the "
                  "bounds with 10 ** ... land outside [low, high)).")
def in_range(ctx, low, high, seed):
    n = 2000
    out = call_log_uniform(ctx, low, high, n, seed)
    lo, hi = float(out.min()), float(out.max())
    ctx.expect(compare.at_least(lo, low, "float64") and hi < high,
               f"the samples span [{lo:.4g}, {hi:.4g}]; they must lie in [{low:g}, {high:g})")
    step = 10 ** (0.01 * (math.log10(high) - math.log10(low)))
    ctx.expect(lo < low * step and hi > high / step,
               f"the samples span [{lo:.4g}, {hi:.4g}]: with {n} samples the lowest and highest 1 % of the "
               f"log10 range [{math.log10(low):g}, {math.log10(high):g}) should both be reached")


@suite.check("log_uniform", points=2,
             title=f"log10 of {KS_N} samples is uniform (KS statistic < {KS_CRITICAL}/sqrt(n))",
             cases=[{"low": 1e-6, "high": 1.0, "seed": 3}],
             hint="sample the exponent uniformly: 10 ** (log10(low) + u * (log10(high) - log10(low))), not "
                  "low + u * (high - low).")
def log_is_uniform(ctx, low, high, seed):
    out = call_log_uniform(ctx, low, high, KS_N, seed)
    ok = bool(torch.all(out > 0))
    ctx.expect(ok, "some samples are <= 0: log_uniform must return positive values")
    lo, hi = math.log10(low), math.log10(high)
    d = ks_uniform(torch.log10(out), lo, hi)
    crit = KS_CRITICAL / math.sqrt(KS_N)
    ctx.expect(d < crit, f"log10 of the samples is not uniform on [{lo:g}, {hi:g}): Kolmogorov-Smirnov statistic "
                         f"{d:.3f}, must be below {crit:.4f}")


@suite.check("log_uniform", points=1,
             title="randomness only from the generator: one float64 draw of n, none from the global RNG",
             cases=[{"low": 0.01, "high": 10.0, "n": 7, "seed": 4}],
             hint="use the generator you are given (torch.rand(n, generator=generator, dtype=torch.float64)), "
                  "exactly once, and nothing else random.")
def uses_generator(ctx, low, high, n, seed):
    result, args = ctx.call_with_args("log_uniform", low, high, n, ctx.make(f"{FIX}:generator", seed),
                                      global_seed=0)
    first = samples_of(ctx, "log_uniform", result, n)
    second = call_log_uniform(ctx, low, high, n, seed, global_seed=12345)
    ctx.expect(torch.equal(first, second),
               "log_uniform gave different samples for the same generator seed when torch's global seed changed: "
               "it draws from the global random number generator",
               hint="pass generator=generator to torch.rand; never call torch.rand without it.")
    state = ctx.method(args[3], "get_state")
    ctx.expect(isinstance(state, torch.Tensor) and torch.equal(state, gen_state(seed, n)),
               "after the call, the generator is not where one torch.rand(n, generator=generator, "
               "dtype=torch.float64) leaves it: it was used for a different number or kind of draws")


# ---------------------------------------------------------------------------------------------------
# 2. sample_momentum
# ---------------------------------------------------------------------------------------------------
@suite.check("sample_momentum", points=2, title="exact values 1 - 10**U(-3, -1) from the generator (float64)",
             cases=[{"n": 6, "seed": 5}, {"n": 1, "seed": 6}],
             hint="momentum = 1 - log_uniform(1e-3, 1e-1, n, generator).")
def momentum_values(ctx, n, seed):
    out = ctx.call("sample_momentum", n, ctx.make(f"{FIX}:generator", seed))
    out = samples_of(ctx, "sample_momentum", out, n)
    expected = ref_momentum(n, ctx.gen(seed))
    if compare.close(expected, out, "float64"):
        ctx.expect_reference(out, "momentum values", tier="float64")
        return
    if built_on_wrong_log_uniform(ctx, out, n, seed):
        return
    ctx.expect_reference(out, f"sample_momentum({n}, generator) values", tier="float64")
    ctx.expect_equal(out, expected, "momentum values", tier="float64")


def built_on_wrong_log_uniform(ctx, out: torch.Tensor, n: int, seed: int) -> bool:
    """One mistake, one check: True when the student's log_uniform is wrong and ``out`` is exactly
    ``1 - log_uniform(1e-3, 1e-1, n, generator(seed))`` with it (charged to log_uniform's checks)."""
    try:
        lu = ctx.call("log_uniform", 1e-3, 1e-1, n, ctx.make(f"{FIX}:generator", seed))
    except Exception:  # noqa: BLE001 - log_uniform missing or failing: judge sample_momentum on its own
        return False
    right = ref_log_uniform(1e-3, 1e-1, n, ctx.gen(seed))
    return (isinstance(lu, torch.Tensor) and tuple(lu.shape) == (n,) and lu.dtype == torch.float64
            and not compare.close(right, lu, "float64") and compare.close(1.0 - lu, out, "float64"))


@suite.check("sample_momentum", points=1,
             title=f"{KS_N} momenta lie in (0.9, 0.999] and log10(1 - momentum) is uniform on [-3, -1)",
             cases=[{"seed": 7}],
             hint="sample 1 - momentum log-uniformly in [1e-3, 1e-1) and return 1 minus it: "
                  "1 - log_uniform(1e-3, 1e-1, n, generator).")
def momentum_distribution(ctx, seed):
    out = ctx.call("sample_momentum", KS_N, ctx.make(f"{FIX}:generator", seed))
    out = samples_of(ctx, "sample_momentum", out, KS_N)
    if built_on_wrong_log_uniform(ctx, out, KS_N, seed):
        return
    lo, hi = float(out.min()), float(out.max())
    ctx.expect(lo > 0.9 and compare.at_most(hi, 0.999, "float64"),
               f"the momenta span [{lo:.4g}, {hi:.4g}]; 1 - 10**U(-3, -1) lies in (0.9, 0.999]")
    d = ks_uniform(torch.log10(1.0 - out), -3.0, -1.0)
    crit = KS_CRITICAL / math.sqrt(KS_N)
    ctx.expect(d < crit, f"log10(1 - momentum) is not uniform on [-3, -1): Kolmogorov-Smirnov statistic {d:.3f}, "
                         f"must be below {crit:.4f}")


# ---------------------------------------------------------------------------------------------------
# 3. random_search
# ---------------------------------------------------------------------------------------------------
SPACES = {
    "mixed": {"lr": ("log_uniform", 1e-4, 1.0), "momentum": ("momentum",), "hidden": ("choice", [32, 64, 128]),
              "dropout": ("uniform", 0.0, 0.5)},
    "reordered": {"weight_decay": ("log_uniform", 1e-6, 1e-2), "activation": ("choice", ["relu", "tanh", "gelu"]),
                  "lr": ("log_uniform", 3e-3, 3.0), "beta": ("momentum",), "width": ("uniform", 8.0, 512.0)},
    "lr_only": {"lr": ("log_uniform", 1e-5, 10.0)},
    "two": {"momentum": ("momentum",), "weight_decay": ("log_uniform", 1e-5, 1e-1)},
}

#: Scripted losses (trial i's result). Each scenario is built so that a wrong rule picks another trial.
#: hidden.py adds the hidden scenarios to this dict (they are not shipped).
NAN = math.nan
SCRIPTS = {
    # val argmin 3; test argmin 5; train argmin 2; val argmax 0; val+test argmin 5
    "plain": {"val": [0.9, 0.5, 0.7, 0.3, 0.6, 0.8], "test": [0.8, 0.6, 0.6, 0.9, 0.4, 0.1],
              "train": [0.4, 0.3, 0.1, 0.5, 0.6, 0.2], "best": 3},
    # ties at 0.2: first 1, last 4, broken by the test loss 3; test argmin 0, val argmax 2
    "ties": {"val": [0.4, 0.2, 0.6, 0.2, 0.2], "test": [0.05, 0.9, 0.3, 0.1, 0.6],
             "train": [0.1, 0.5, 0.5, 0.5, 0.5], "best": 1},
    # NaN (diverged) trials: torch.argmin returns the first NaN (1), a max() sticks to trial 0, test argmin 4
    "nan": {"val": [0.9, NAN, 0.3, NAN, 0.4], "test": [0.3, 0.5, 0.6, 0.2, 0.1],
            "train": [0.5, NAN, 0.2, NAN, 0.1], "best": 2},
}

SELECT_HINT = ("the best trial is the one with the smallest result['val_loss'] (never the test or training "
               "loss); a NaN validation loss counts as +inf and ties go to the first trial.")


def run_search(ctx, space: dict, n_trials: int, seed: int, train_fn, global_seed: int = 0, raw: bool = False):
    """(best_config, history, log of the configs train_fn received, space after the call[, best_config as
    returned]): with ``raw``, best_config also as the protocol sent it back (types kept), for checks that judge
    the types of the values from what random_search returned."""
    result, args = ctx.call_with_args("random_search", train_fn, space, n_trials, seed, global_seed=global_seed)
    ctx.expect(isinstance(result, (tuple, list)) and len(result) == 2,
               "random_search should return a tuple (best_config, history); got "
               + (f"{type(result).__name__} of {len(result)}" if isinstance(result, (tuple, list))
                  else type(result).__name__))
    best, history = result
    log = ctx.method(args[0], "log")
    if raw:
        return plain_config(best), history, log, args[1], best
    return plain_config(best), history, log, args[1]


def scripted(ctx, script: str):
    s = SCRIPTS[script]
    return ctx.make(f"{FIX}:scripted_train_fn", s["val"], s["test"], s["train"])


def expect_all_trained(ctx, log: list, n_trials: int, space: dict):
    ctx.expect(len(log) == n_trials, f"train_fn was called {len(log)} times for n_trials={n_trials}",
               hint="call train_fn(config) exactly once per trial.")
    for i, config in enumerate(log):
        ctx.expect(set(config) == set(space),
                   f"trial {i}'s config has the keys {sorted(config)}; expected one value per hyperparameter of "
                   f"the space: {sorted(space)}", hint="config = {name: value} with one value for every name in space.")


def expect_config_diff(ctx, got, expected, what: str, hint: str | None = None):
    diff = compare.difference(expected, plain_config(got), "float64", reveal=not ctx.hidden)
    if diff:
        ctx.fail(f"{what}: {diff}", hint)


def make_selection_check(hint: str):
    def run(ctx, space, seed, script):
        s = SCRIPTS[script]
        n = len(s["val"])
        best, _, log, _ = run_search(ctx, SPACES[space], n, seed, scripted(ctx, script))
        expect_all_trained(ctx, log, n, SPACES[space])
        i = s["best"]
        # The selected trial's index among the configs train_fn received (independent of the draws; trial i
        # when its config equals best_config, so identical configs are never charged here).
        same = [j for j, c in enumerate(log) if not _differs(best, c)]
        chosen = i if i in same else (same[0] if same else -1)
        if chosen != i and not ctx.hidden:
            picked = f"the config of trial {chosen}" if same else "not the config of any trial"
            ctx.expect_reference(chosen, f"the selected trial: best_config is {picked}; the scripted validation "
                                         f"losses {_fmt(s['val'])} make trial {i} the best", tier="exact", hint=hint)
        else:
            ctx.expect_reference(chosen, "the selected trial", tier="exact", hint=hint)

    return run


def _differs(a, b) -> bool:
    return compare.difference(b, plain_config(a), "float64") is not None


def _fmt(values) -> str:
    return "[" + ", ".join("nan" if v != v else f"{v:g}" for v in values) + "]"


selects_on_validation = suite.check(
    "random_search", points=2, name="random_search.selects_on_validation",
    title="best_config is the trial with the smallest validation loss (not test, not train, not the largest)",
    cases=[{"space": "mixed", "seed": 0, "script": "plain"}], hint=SELECT_HINT,
)(make_selection_check("select by result['val_loss'] and take the smallest (min / argmin); never look at "
                       "'test_loss' (or 'train_loss') to choose."))

ties_first = suite.check(
    "random_search", points=1, name="random_search.ties_go_to_the_first_trial",
    title="equal validation losses: the first of the tied trials is selected (test loss never breaks ties)",
    cases=[{"space": "two", "seed": 1, "script": "ties"}], hint=SELECT_HINT,
)(make_selection_check("with equal validation losses keep the first trial: compare with a strict < (or use min / "
                       "argmin, which return the first minimum); never break ties with the test loss."))

nan_never_best = suite.check(
    "random_search", points=1, name="random_search.nan_is_never_best",
    title="a NaN validation loss (a diverged run) is never selected over a finite one",
    cases=[{"space": "lr_only", "seed": 2, "script": "nan"}], hint=SELECT_HINT,
)(make_selection_check("a NaN validation loss must count as +inf: min() / torch.argmin pick a NaN that comes "
                       "first; skip NaN losses (math.isnan) or compare with a strict < starting from +inf."))


@suite.check("random_search", points=1,
             title="history: one entry per trial, in order, with the config trained and the result returned",
             cases=[{"space": "mixed", "seed": 3, "script": "plain"}],
             hint="for each trial append {'config': config, 'result': train_fn(config)} to history; build a new "
                  "config dict for every trial.")
def history(ctx, space, seed, script):
    s = SCRIPTS[script]
    n = len(s["val"])
    _, hist, log, _ = run_search(ctx, SPACES[space], n, seed, scripted(ctx, script))
    expect_all_trained(ctx, log, n, SPACES[space])
    ctx.expect(isinstance(hist, list) and len(hist) == n,
               f"history should be a list of {n} entries (one per trial); got "
               + (f"{len(hist)} entries" if isinstance(hist, (list, tuple)) else type(hist).__name__))
    for i, entry in enumerate(hist):
        ctx.expect(isinstance(entry, dict) and {"config", "result"} <= set(entry),
                   f"history[{i}] should be a dict with keys 'config' and 'result'")
        expect_config_diff(ctx, entry["config"], log[i],
                           f"history[{i}]['config'] (the config trial {i} was trained with)")
        expected = {"train_loss": s["train"][i], "val_loss": s["val"][i], "test_loss": s["test"][i]}
        expect_config_diff(ctx, entry["result"], expected, f"history[{i}]['result'] (what train_fn returned)")


@suite.check("random_search", points=2,
             title="the configs follow the documented draws (one seeded generator, trial by trial, space order), "
                   "numbers as Python floats",
             cases=[{"space": "mixed", "seed": 4, "n_trials": 4}, {"space": "reordered", "seed": 11, "n_trials": 3}],
             hint="g = torch.Generator().manual_seed(seed) once; then for each trial, for each name in space (in "
                  "order), draw one value from g as documented.")
def draws(ctx, space, seed, n_trials):
    fn = ctx.make(f"{FIX}:smooth_train_fn", n_trials, seed)
    _, hist, log, _, best = run_search(ctx, SPACES[space], n_trials, seed, fn, raw=True)
    expect_all_trained(ctx, log, n_trials, SPACES[space])
    try:
        ctx.expect_reference(log, "the configs train_fn received", tier="float64")
        ctx.expect_equal(log, ref_configs(SPACES[space], n_trials, seed), "the configs train_fn received",
                         tier="float64")
    except CheckFailed as exc:
        exc.message += _blame_samplers(ctx)
        raise
    # The types are judged here from what random_search returned (plain data sent back by the protocol: a
    # tensor comes back as a tensor, a float as a float), never from a record kept by train_fn in the
    # student's process (docs/SECURITY.md): the configs in history and best_config.
    numeric = {"log_uniform", "uniform", "momentum"}
    returned = [(f"trial {i}'s config", entry["config"]) for i, entry in enumerate(hist if isinstance(hist, list) else [])
                if isinstance(entry, dict) and isinstance(entry.get("config"), dict)]
    returned += [("best_config", best)] if isinstance(best, dict) else []
    for what, config in returned:
        wrong = {k: value_type(v) for k, v in config.items()
                 if k in SPACES[space] and SPACES[space][k][0] in numeric and value_type(v) != "float"}
        ctx.expect(not wrong, f"{what} holds {wrong}; numeric values go into the config as Python floats",
                   hint="take .item() of the one-element tensor you drew.")


def value_type(value) -> str:
    """The type name of a config value as random_search returned it ("float" for a Python float only)."""
    return "float" if type(value) is float else type(value).__name__


def _blame_samplers(ctx) -> str:
    """Name log_uniform / sample_momentum when they are wrong themselves (random_search uses them)."""
    wrong = []
    for fn, args, expected in (("log_uniform", (1e-3, 10.0, 3), ref_log_uniform(1e-3, 10.0, 3, ctx.gen(77))),
                               ("sample_momentum", (3,), ref_momentum(3, ctx.gen(77)))):
        try:
            got = ctx.call(fn, *args, ctx.make(f"{FIX}:generator", 77))
            ok = compare.close(expected, got, "float64")
        except Exception:  # noqa: BLE001
            ok = False
        if not ok:
            wrong.append(fn)
    if not wrong:
        return ""
    return (f" (random_search draws with your {' and '.join(wrong)}, which fail{'s its' if len(wrong) == 1 else ' their'} "
            f"own checks: fix {'it' if len(wrong) == 1 else 'them'} first)")


@suite.check("random_search", points=1,
             title="seeded: the same seed gives the same configs whatever the global seed; another seed, others",
             cases=[{"space": "two", "seed": 5, "n_trials": 4}],
             hint="draw only from your own torch.Generator().manual_seed(seed), never from torch's global random "
                  "number generator (torch.rand without generator=...).")
def seeded(ctx, space, seed, n_trials):
    logs = []
    for s, gs in ((seed, 0), (seed, 777), (seed + 1, 0)):
        _, _, log, _ = run_search(ctx, SPACES[space], n_trials, s, ctx.make(f"{FIX}:smooth_train_fn", n_trials, s),
                                  global_seed=gs)
        expect_all_trained(ctx, log, n_trials, SPACES[space])
        logs.append(log)
    ctx.expect(compare.difference(logs[0], logs[1], "float64") is None,
               f"with seed={seed}, the configs changed when torch's global seed changed: the trials are not seeded "
               f"by `seed`")
    ctx.expect(len({repr(c) for c in logs[0]}) == n_trials,
               f"the {n_trials} trials did not get {n_trials} different configs",
               hint="create the generator once, before the trials, not once per trial.")
    ctx.expect(compare.difference(logs[0], logs[2], "float64") is not None,
               f"seed={seed} and seed={seed + 1} gave the same configs: seed the generator with `seed`")


@suite.check("random_search", points=1, title="the space dict is not modified (after a search of every kind)",
             cases=[{"space": "reordered", "seed": 6, "n_trials": 3}],
             hint="read the space, never change it: no pop, no del, no assignment into it or its option lists.")
def space_unchanged(ctx, space, seed, n_trials):
    given = SPACES[space]
    _, _, log, after = run_search(ctx, given, n_trials, seed, ctx.make(f"{FIX}:smooth_train_fn", n_trials, seed))
    expect_all_trained(ctx, log, n_trials, given)
    ctx.expect_unchanged(after, given, "the space dict changed during random_search")
