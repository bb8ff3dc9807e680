"""Realistic wrong implementations for assignment 10, each with the hint that names it.

Instructor-only. Used to record what each mistake returns (so feedback can say "this matches a known
mistake: ...") and, in the test suite, as submissions that must lose points on ``targets``.
``feedback=`` is the text a property check prints instead (asserted by the tests).

The random_search mistakes are self-contained (they draw with the correct samplers below), so each is
charged to random_search alone.
"""

import math

import torch

from autograder.suites.s10_hparam_search.checks import suite

LU = "log_uniform"
MOM = "sample_momentum"
RS = "random_search"


# -- log_uniform ------------------------------------------------------------------------------------------
@suite.mistake(LU, name="uniform_not_log_uniform",
               hint="the samples are uniform in [low, high), not log-uniform: draw the exponent uniformly, "
                    "10 ** (log10(low) + u * (log10(high) - log10(low))).",
               targets=("log_uniform.values", "log_uniform.log_is_uniform"), affects=(MOM, RS))
def log_uniform(low, high, n, generator):
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return low + u * (high - low)


@suite.mistake(LU, name="natural_log_bounds",
               hint="the bounds were taken with the natural log but exponentiated with base 10: "
                    "10 ** log(low) is not low; use math.log10 for the bounds (or exp with math.log).",
               targets=("log_uniform.values", "log_uniform.in_range"), affects=(MOM, RS))
def log_uniform(low, high, n, generator):  # noqa: F811
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    a, b = math.log(low), math.log(high)
    return 10.0 ** (a + u * (b - a))


@suite.mistake(LU, name="mirrored_high_inclusive",
               hint="the draw is mirrored (u = 0 gives high): use log10(low) + u * (log10(high) - log10(low)), so "
                    "low can be drawn and high cannot.",
               targets=("log_uniform.values",), affects=(MOM, RS))
def log_uniform(low, high, n, generator):  # noqa: F811
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    a, b = math.log10(low), math.log10(high)
    return 10.0 ** (b - u * (b - a))


@suite.mistake(LU, name="float32_draw",
               hint="u was drawn in float32 (torch.rand's default dtype), which gives other numbers from the same "
                    "generator: draw torch.rand(n, generator=generator, dtype=torch.float64).",
               targets=("log_uniform.values", "log_uniform.uses_generator"), affects=(MOM, RS))
def log_uniform(low, high, n, generator):  # noqa: F811
    u = torch.rand(n, generator=generator).double()
    a, b = math.log10(low), math.log10(high)
    return 10.0 ** (a + u * (b - a))


@suite.mistake(LU, name="global_rng",
               hint="the samples come from torch's global random number generator: pass generator=generator to "
                    "torch.rand.",
               targets=("log_uniform.values", "log_uniform.uses_generator"), affects=(MOM, RS))
def log_uniform(low, high, n, generator):  # noqa: F811
    u = torch.rand(n, dtype=torch.float64)
    a, b = math.log10(low), math.log10(high)
    return 10.0 ** (a + u * (b - a))


# -- sample_momentum --------------------------------------------------------------------------------------
def _lu(low, high, n, generator):
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    a, b = math.log10(low), math.log10(high)
    return 10.0 ** (a + u * (b - a))


@suite.mistake(MOM, name="momentum_not_one_minus",
               hint="the momentum was sampled as 10**U(-3, -1) (between 0.001 and 0.1: almost no momentum); it is "
                    "1 - 10**U(-3, -1), between 0.9 and 0.999.",
               targets=("sample_momentum.momentum_values", "sample_momentum.momentum_distribution"), affects=(RS,))
def sample_momentum(n, generator):
    return _lu(1e-3, 1e-1, n, generator)


@suite.mistake(MOM, name="momentum_uniform",
               hint="1 - momentum was sampled uniformly in [1e-3, 1e-1); sample it log-uniformly: "
                    "1 - log_uniform(1e-3, 1e-1, n, generator).",
               targets=("sample_momentum.momentum_values", "sample_momentum.momentum_distribution"), affects=(RS,))
def sample_momentum(n, generator):  # noqa: F811
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    return 1.0 - (1e-3 + u * (1e-1 - 1e-3))


@suite.mistake(MOM, name="log_uniform_on_beta",
               hint="the momentum itself was sampled log-uniformly in [0.9, 0.999); the log scale belongs to "
                    "1 - momentum: 1 - log_uniform(1e-3, 1e-1, n, generator).",
               targets=("sample_momentum.momentum_values", "sample_momentum.momentum_distribution"), affects=(RS,))
def sample_momentum(n, generator):  # noqa: F811
    return _lu(0.9, 0.999, n, generator)


# -- random_search ----------------------------------------------------------------------------------------
def _draw(spec, g, *, global_rng=False):
    kind = spec[0]
    gen = {} if global_rng else {"generator": g}
    if kind in ("log_uniform", "momentum"):
        low, high = (spec[1], spec[2]) if kind == "log_uniform" else (1e-3, 1e-1)
        u = torch.rand(1, dtype=torch.float64, **gen)
        value = 10.0 ** (math.log10(low) + u * (math.log10(high) - math.log10(low)))
        return (value if kind == "log_uniform" else 1.0 - value).item()
    if kind == "uniform":
        u = torch.rand(1, dtype=torch.float64, **gen)
        return (spec[1] + u * (spec[2] - spec[1])).item()
    return spec[1][torch.randint(len(spec[1]), (1,), **gen).item()]


def _search(train_fn, space, n_trials, seed, *, select="val", global_rng=False, per_trial_gen=False,
            column_order=False, shared_config=False):
    g = torch.Generator().manual_seed(seed)
    if column_order:
        values = {name: [_draw(spec, g) for _ in range(n_trials)] for name, spec in space.items()}
    history, config = [], {}
    for trial in range(n_trials):
        if per_trial_gen:
            g = torch.Generator().manual_seed(seed)
        if not shared_config:
            config = {}
        for name, spec in space.items():
            config[name] = values[name][trial] if column_order else _draw(spec, g, global_rng=global_rng)
        history.append({"config": config, "result": train_fn(config)})

    def key(i):
        r = history[i]["result"]
        v = r["val_loss"]
        if select == "test":
            return r["test_loss"]
        if select == "max":
            return -v
        if select == "tie_test":
            return (math.inf if math.isnan(v) else v, r["test_loss"])
        return math.inf if math.isnan(v) else v

    if select == "nan_naive":  # torch.argmin propagates NaN: it returns the first NaN's index
        best = int(torch.argmin(torch.tensor([float(h["result"]["val_loss"]) for h in history])))
    elif select == "last_of_ties":
        best = max((i for i in range(n_trials)), key=lambda i: (-key(i), i))
    else:
        best = min(range(n_trials), key=key)
    return history[best]["config"], history


def _rs_mistake(name, hint, targets, feedback=None, **flags):
    def impl(train_fn, space, n_trials, seed):
        return _search(train_fn, space, n_trials, seed, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake(RS, name=name, hint=hint, targets=targets, **extra)(impl)


# Registration order matters where two wrong rules pick the same trial (the first registered mistake is named):
# NaN first, then the tie rules, then the plain ones.
_rs_mistake("nan_selected", "a diverged trial (NaN validation loss) was selected: torch.argmin returns a NaN's "
            "index, and min() keeps a NaN that comes first (NaN compares False with everything); count NaN as +inf.",
            ("random_search.nan_is_never_best",), select="nan_naive")
_rs_mistake("ties_broken_by_test", "ties in the validation loss were broken by the test loss: that is selecting on "
            "test; the first of the tied trials wins.", ("random_search.ties_go_to_the_first_trial",),
            select="tie_test")
_rs_mistake("last_of_ties", "ties in the validation loss went to the last trial (<= instead of <): the first of the "
            "tied trials wins.", ("random_search.ties_go_to_the_first_trial",), select="last_of_ties")
_rs_mistake("select_on_test", "the trial was selected by its test loss: select by result['val_loss'] only; the "
            "test set is used once, at the end, never to choose.", ("random_search.selects_on_validation",),
            select="test")
_rs_mistake("argmax_not_argmin", "the trial with the largest validation loss was selected: the best trial has the "
            "smallest result['val_loss'] (argmin, not argmax).", ("random_search.selects_on_validation",),
            select="max")
_rs_mistake("unseeded_trials", "the trials are drawn from torch's global random number generator: create "
            "g = torch.Generator().manual_seed(seed) and pass generator=g to every draw.",
            ("random_search.draws", "random_search.seeded"), global_rng=True)
_rs_mistake("generator_per_trial", "a new generator seeded with `seed` was created for every trial, so every trial "
            "gets the same config: create it once, before the trials.",
            ("random_search.draws", "random_search.seeded"), per_trial_gen=True)
_rs_mistake("column_order", "each hyperparameter was drawn for all trials first (column by column): draw trial by "
            "trial, one value per hyperparameter in the space's order.", ("random_search.draws",), column_order=True)
_rs_mistake("shared_config_dict", "one config dict reused for every trial", ("random_search.history",),
            feedback="build a new config dict for every trial", shared_config=True)


@suite.mistake(RS, name="space_popped",
               hint="the space dict was modified (entries popped while reading it)",
               feedback="the space dict changed during random_search", targets=("random_search.space_unchanged",))
def random_search(train_fn, space, n_trials, seed):
    best_config, history = _search(train_fn, space, n_trials, seed)
    for name in list(space):
        if space[name][0] == "choice":
            space.pop(name)
    return best_config, history
