"""Visible checks of assignment 08 (shipped to students; the self-check runs these).

Models are built from ``autograder.fixtures.diagnostics`` in the student's process (``ctx.make``) and,
for the reference values and the "as built" state, in the grader's (the factories are deterministic). Side
effects are decided here (``probe()`` below): the student's model is observed through ordinary calls and
attribute reads (``ctx.observe_module``) and compared, exactly, with the grader's copy as built: which
parameters, gradients, buffers, train/eval flags and parameter objects changed, and how many hooks are
registered. No verdict is computed by fixture code in the student's process (docs/SECURITY.md).

Conventions (stated in the notebook): cross-entropy is ``F.cross_entropy`` (mean, natural log); layers of
``activation_stats`` are the outputs of every ``nn.Tanh`` / ``nn.ReLU`` module, keyed by their
``named_modules()`` name; std is torch's default (unbiased) over all entries; a tanh entry is saturated when
``abs(h) > threshold`` (strict), a ReLU entry when ``h == 0``; weights are parameters with ``ndim >= 2``;
parameters without ``.grad`` are skipped; diagnostics change nothing and leave no hook behind.

Statistical tolerances of ``kaiming_init_`` (fan_in mode, normal distribution): every weight matrix has at
least 49 152 entries, so the sampling error of its std is below 0.33 %; the checks accept a std within
**3 %** of ``gain / sqrt(fan_in)`` (about 9 standard errors), a mean within **5 standard errors** of 0
(``5 * std / sqrt(n)``) and an excess kurtosis within **0.15** of 0 (8 standard errors; a uniform
distribution has -1.2). Wrong gains are far outside: 1 vs 5/3 (-40 %), sqrt(2) vs 5/3 (-15 %), fan_out
instead of fan_in (x2 or x1.7 on these layers).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks import Suite
from autograder.fixtures import diagnostics as fx
from autograder.student import StudentCallError

suite = Suite(__name__)


FX = "autograder.fixtures.diagnostics"
STAT_KEYS = ("mean", "std", "saturated")
STD_TOL, MEAN_SE, KURT_TOL = 0.03, 5.0, 0.15
GAINS = {"relu": math.sqrt(2.0), "tanh": 5.0 / 3.0}


def scalar(ctx, value, what: str) -> float:
    """A Python float from a float / int / one-element tensor, or a failed expectation."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) or (
        isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point())
    ctx.expect(ok, f"{what} should be a float or a 0-d float tensor; got "
               + (f"a tensor {value.dtype} of shape {list(value.shape)}" if isinstance(value, torch.Tensor)
                  else type(value).__name__))
    return float(value)


def as64(value: float) -> torch.Tensor:
    return torch.tensor(value, dtype=torch.float64)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return tuple(a.shape) == tuple(b.shape) and a.dtype == b.dtype and bool(torch.equal(a, b))


def local_model(make):
    """The grader's own copy of the model ``make`` builds in the student's process (the factories are
    deterministic; the global RNG that ``init_target`` seeds is restored)."""
    rng = torch.get_rng_state()
    try:
        return getattr(fx, make.factory.partition(":")[2])(*make.args, **make.kwargs)
    finally:
        torch.set_rng_state(rng)


def kept_model(ctx, make):
    """``(ref, originals)``: the model ``make`` describes, built and kept in the student's process, and an identity
    table of its Parameter objects as built (``ctx.identity_table``), to see later whether they were replaced."""
    ref = ctx.probe_kept(make.factory, *make.args, **make.kwargs)
    return ref, ctx.identity_table(ref)


def probe(ctx, ref, make, originals=None, state=None, need=("params", "grads", "modes", "hooks")) -> dict:
    """What changed since the model ``make`` was built, decided here: the model is observed through ordinary
    calls (``ctx.observe_module``: state_dict, each parameter's grad / requires_grad / is_leaf, each submodule's
    mode and hook dictionaries, torch's global hooks) and compared with the grader's own copy of the model as
    built. ``originals`` (from :func:`kept_model`): the identity table of the Parameter objects as built; a name
    whose parameter is no longer that object was replaced. ``state``: the model's ``state_dict()`` if the
    check already read it after the call (saves reading it twice). ``need``: the observations the check uses
    (``grads`` also gives ``not_leaf``); the others come back empty (each costs round trips). Whether the call
    built a graph is not observed here: :meth:`Context.call_witnessed` (torch's saved-tensors hooks around the call)."""
    local = local_model(make)
    seen = ctx.observe_module(ref, state=state, grads="grads" in need, modes="modes" in need, hooks="hooks" in need)
    snap_state = local.state_dict()
    params = {n: p for n, p in local.named_parameters()}
    buffers = {n for n, _ in local.named_buffers()}
    current = seen["state"]
    training = {n: m.training for n, m in local.named_modules()}
    replaced = []
    if originals is not None:  # each current parameter looked up, by identity, among the objects as built
        names = [p[0] for p in ctx.describe(ref).get("parameters", [])]
        found = ctx.names_in(originals, ctx.kept_list(ref, "parameters"))
        replaced = [n for n, was in zip(names, found) if was != n]
    grads = "grads" in need
    if not grads:  # parameter names from the state_dict (the grader's copy says which entries are buffers)
        seen["params"] = {n: {} for n in current if n not in buffers}
    return {
        "hooks": sum(m.get("hooks", 0) for m in seen["modules"].values()) + seen["global_hooks"],
        "param_names": sorted(seen["params"]),
        "changed_params": sorted(n for n in seen["params"]
                                 if n not in params or not _same(current.get(n), snap_state[n])),
        "changed_grads": sorted(n for n, info in seen["params"].items()
                                if grads and (n not in params or not _same(info["grad"], params[n].grad))),
        "changed_buffers": sorted(n for n in current if n not in params
                                  and (n not in buffers or not _same(current[n], snap_state[n]))),
        "changed_mode": sorted(n for n, m in seen["modules"].items() if training.get(n) != m["training"]),
        "changed_requires_grad": sorted(n for n, info in seen["params"].items()
                                        if grads and (n not in params or params[n].requires_grad != info["requires_grad"])),
        "replaced": sorted(replaced),
        "not_leaf": sorted(n for n, info in seen["params"].items() if grads and not info["is_leaf"]),
    }


# ---------------------------------------------------------------------------------------------------
# 1. initial loss
# ---------------------------------------------------------------------------------------------------
@suite.check("expected_initial_loss", points=1, title="ln(C), the natural log, for C = 10 and C = 3 (both right)",
             cases=[{"classes": [10, 3]}],
             hint="a uniform prediction gives the correct class probability 1/C, and -ln(1/C) = ln(C): "
                  "math.log(num_classes) (natural log).")
def ln_classes(ctx, classes):
    for num_classes in classes:  # one case for all: a constant cannot be right for one C and earn points
        out = ctx.call("expected_initial_loss", num_classes)
        value = scalar(ctx, out, "expected_initial_loss's result")
        ctx.expect_reference(as64(value), f"expected_initial_loss({num_classes})", tier="op")
        ctx.expect_equal(as64(value), as64(math.log(num_classes)), f"expected_initial_loss({num_classes})",
                         tier="op")


def initial_loss_inputs(kind: str, seed: int, n: int, bn: bool, train: bool):
    d_in, classes = (6, 4) if kind == "mlp" else (5, 3)
    kw = {"bn": bn} if kind == "mlp" else {}
    x = fx.batch(seed, n, d_in, scale=2.0)
    y = fx.labels(seed, n, classes)
    local = fx.build(kind, seed, train=train, grads=True, **kw)
    with torch.no_grad():
        expected = F.cross_entropy(local(x), y)
    return ctx_make(kind, seed, train=train, grads=True, **kw), x, y, expected


def ctx_make(kind: str, seed: int, **kw):
    from autograder.wire import Make

    return Make(f"{FX}:build", kind, seed, **kw)


@suite.check("initial_loss", points=1,
             title="mean cross-entropy of the raw logits (models without BN or dropout)",
             cases=[{"kind": "mlp", "seed": 0, "n": 12}],
             hint="loss = F.cross_entropy(model(x), y): cross_entropy takes the raw logits (it applies "
                  "log_softmax itself) and averages over the batch.")
def loss_value(ctx, kind, seed, n):
    model, x, y, expected = initial_loss_inputs(kind, seed, n, bn=False, train=True)
    out = ctx.call("initial_loss", model, x, y)
    value = scalar(ctx, out, "initial_loss's result")
    ctx.expect_reference(as64(value), "the initial loss", tier="composite")
    ctx.expect_equal(as64(value), expected.double(), "the initial loss", tier="composite")


@suite.check("initial_loss", points=1,
             title="a measurement only: no graph; mode (train and eval, with BatchNorm), parameters, .grad and x unchanged",
             cases=[{"kind": "mlp", "seed": 1, "n": 10, "train": False}, {"kind": "mlp", "seed": 2, "n": 10, "train": True}],
             hint="compute the loss in the model's current mode (no model.eval()/model.train()) under "
                  "torch.no_grad(), without backward: the model must come back exactly as it was given.")
def loss_side_effects(ctx, kind, seed, n, train):
    model, x, y, expected = initial_loss_inputs(kind, seed, n, bn=True, train=train)
    out, args, saved = ctx.call_witnessed("initial_loss", model, x, y)
    value = scalar(ctx, out, "initial_loss's result")
    ctx.expect_equal(as64(value), expected.double(),
                     f"the loss of a model with BatchNorm in {'train' if train else 'eval'} mode", tier="composite")
    report = probe(ctx, args[0], model, need=("grads", "modes"))
    ctx.expect(not report["changed_mode"], f"initial_loss changed the train/eval mode of {report['changed_mode']}")
    ctx.expect(not report["changed_params"] and not report["changed_grads"],
               f"initial_loss changed parameters {report['changed_params']} / gradients {report['changed_grads']}")
    ctx.expect_no_graph(saved, "initial_loss ran the model with autograd on (it built a graph)",
                        hint="a measurement needs no graph: run the forward pass under torch.no_grad().")
    ctx.expect(not train and not report["changed_buffers"] or train,
               f"initial_loss changed the buffers {report['changed_buffers']} of a model in eval mode")
    ctx.expect(torch.equal(args[1], x) and torch.equal(args[2], y), "initial_loss modified x or y")


def shrink_case(kind: str, seed: int):
    local = fx.build(kind, seed)
    last = [name for name, m in local.named_modules() if isinstance(m, nn.Linear)][-1]
    return local, last


def call_shrink(ctx, kind, seed, scale, model=None):
    """The model after ``shrink_last_layer_`` (``model``: a kept model to pass, else one built for the call)."""
    kwargs = {} if scale is None else {"scale": scale}
    _, args = ctx.call_with_args("shrink_last_layer_", ctx_make(kind, seed) if model is None else model, **kwargs)
    return args[0]


@suite.check("shrink_last_layer_", points=1,
             title="the last Linear's weight is multiplied by scale (default 0.01 and scale=0.1), its bias is 0",
             cases=[{"kind": "mlp", "seed": 0, "scale": None}, {"kind": "branchy", "seed": 1, "scale": 0.1}],
             hint="under torch.no_grad(), multiply the last Linear's weight by scale in place (mul_) and set its "
                  "bias to zero (zero_()) — the last nn.Linear in model.modules() order (it may sit inside a "
                  "container).")
def shrink_values(ctx, kind, seed, scale):
    local, last = shrink_case(kind, seed)
    ref = call_shrink(ctx, kind, seed, scale)
    state = ctx.method(ref, "state_dict")
    weight, bias = state[f"{last}.weight"], state[f"{last}.bias"]
    expected = local.state_dict()[f"{last}.weight"] * (0.01 if scale is None else scale)
    ctx.expect_reference(weight, f"the last Linear's weight ({last}.weight)", tier="op")
    ctx.expect_equal(weight, expected, f"the last Linear's weight ({last}.weight)", tier="op")
    ctx.expect_reference(bias, f"the last Linear's bias ({last}.bias)", tier="exact")
    ctx.expect_equal(bias, torch.zeros_like(bias), f"the last Linear's bias ({last}.bias)", tier="exact",
                     hint="set the bias to zero (bias.zero_()), do not scale it: a random bias alone makes some "
                          "class more likely for no reason.")


@suite.check("shrink_last_layer_", points=1, title="only the last Linear's weight and bias change",
             cases=[{"kind": "branchy", "seed": 2, "scale": None}],
             hint="change the last nn.Linear (in model.modules() order) only; every other parameter stays as it was.")
def shrink_only_last(ctx, kind, seed, scale):
    _, last = shrink_case(kind, seed)
    report = probe(ctx, call_shrink(ctx, kind, seed, scale), ctx_make(kind, seed), need=())
    allowed = {f"{last}.bias", f"{last}.weight"}
    ctx.expect(f"{last}.weight" in report["changed_params"], f"the last Linear's weight ({last}.weight) did not change")
    others = [n for n in report["changed_params"] if n not in allowed]
    ctx.expect(not others, f"parameters outside the last Linear ({last}) changed: {others}")


@suite.check("shrink_last_layer_", points=0.5,
             title="in place: the same Parameter objects, still trainable leaves",
             cases=[{"kind": "mlp", "seed": 3, "scale": 0.5}],
             hint="modify the existing tensors in place under torch.no_grad() (weight.mul_(scale), bias.zero_()) "
                  "instead of assigning new nn.Parameter objects: an optimizer created earlier holds the old ones.")
def shrink_in_place(ctx, kind, seed, scale):
    local, last = shrink_case(kind, seed)
    model, originals = kept_model(ctx, ctx_make(kind, seed))
    ref = call_shrink(ctx, kind, seed, scale, model)
    weight = ctx.method(ref, "state_dict")[f"{last}.weight"]
    ctx.expect_equal(weight, local.state_dict()[f"{last}.weight"] * (0.01 if scale is None else scale),
                     "the last Linear's weight (in-place use is judged on a correct result; see the check of the "
                     "values)", tier="op")
    report = probe(ctx, ref, ctx_make(kind, seed), originals, need=("grads",))
    ctx.expect(not report["replaced"], f"the parameters {report['replaced']} were replaced by new objects")
    ctx.expect(not report["not_leaf"] and not report["changed_requires_grad"],
               f"parameters {report['not_leaf'] or report['changed_requires_grad']} are no longer trainable "
               f"leaves (requires_grad changed or they have an autograd history)")


# ---------------------------------------------------------------------------------------------------
# 2. activation_stats
# ---------------------------------------------------------------------------------------------------
def stats_model(kind: str, seed: int, train: bool = True, bn: bool = False, act: str = "tanh", grads: bool = False):
    """(Make for the student, local model, x) for activation_stats."""
    kw = {"bn": bn, "act": act, "sizes": (6, 24, 24, 24, 4)} if kind == "mlp" else {}
    local = fx.build(kind, seed, train=train, grads=grads, **kw)
    d_in = 6 if kind == "mlp" else 5
    x = fx.batch(seed + 100, 40, d_in, scale=1.5)
    return ctx_make(kind, seed, train=train, grads=grads, **kw), local, x


def reference_stats(local, x, threshold=0.97) -> dict:
    out = {}
    for name, h in fx.trace(local, x):
        sat = (h.abs() > threshold) if isinstance(_module(local, name), nn.Tanh) else (h == 0)
        out[name] = torch.stack([h.mean(), h.std(), sat.float().mean()]).double()
    return out


def _module(model, name):
    return dict(model.named_modules())[name]


def stats_table(ctx, out, names) -> dict:
    """{name: float64 tensor [mean, std, saturated]} from the student's result, checking its form."""
    ctx.expect(isinstance(out, dict), f"activation_stats should return a dict; got {type(out).__name__}")
    missing = [n for n in names if n not in out]
    ctx.expect(not missing, f"the result has no entry for the layers {missing}; it should have one per nn.Tanh "
                            f"and nn.ReLU module, keyed by its name in model.named_modules()")
    table = {}
    for name in names:
        entry = out[name]
        ctx.expect(isinstance(entry, dict) and all(k in entry for k in STAT_KEYS),
                   f"out[{name!r}] should be a dict with the keys {list(STAT_KEYS)}")
        table[name] = torch.tensor([scalar(ctx, entry[k], f"out[{name!r}][{k!r}]") for k in STAT_KEYS],
                                   dtype=torch.float64)
    return table


@suite.check("activation_stats", points=1,
             title="one entry per nn.Tanh / nn.ReLU module (nested, non-sequential model), keyed by its name; means",
             cases=[{"kind": "branchy", "seed": 0}],
             hint="register a forward hook on every module of `layers` (they may be nested and not run in a "
                  "chain) and store stats[name] = {'mean': output.mean(), 'std': ..., 'saturated': ...}.")
def layers_and_means(ctx, kind, seed):
    make, local, x = stats_model(kind, seed)
    expected = reference_stats(local, x)
    out = ctx.call("activation_stats", make, x)
    table = stats_table(ctx, out, list(expected))
    extra = sorted(set(out) - set(expected))
    ctx.expect(not extra, f"the result has entries {extra} that are not nn.Tanh / nn.ReLU modules")
    for name, exp in expected.items():
        ctx.expect_reference(table[name][0], f"the mean of layer {name!r}", tier="composite")
        ctx.expect_equal(table[name][0], exp[0], f"the mean of layer {name!r}", tier="composite")


@suite.check("activation_stats", points=2,
             title="std (torch's default, unbiased, over all entries) of every layer's output",
             cases=[{"kind": "branchy", "seed": 1}],
             hint="one std over all entries of the module's output h (batch and units together): h.std().")
def stds(ctx, kind, seed):
    make, local, x = stats_model(kind, seed)
    expected = reference_stats(local, x)
    table = stats_table(ctx, ctx.call("activation_stats", make, x), list(expected))
    for name, exp in expected.items():
        ctx.expect_reference(table[name][1], f"the std of layer {name!r}", tier="composite")
        ctx.expect_equal(table[name][1], exp[1], f"the std of layer {name!r}", tier="composite")


def threshold_case(seed: int, n: int, d: int, threshold):
    t = 0.97 if threshold is None else threshold
    local = fx.threshold_model(seed, d)
    x = fx.threshold_inputs(seed, n, d, t)
    return ctx_make_threshold(seed, d), local, x, t


def ctx_make_threshold(seed, d):
    from autograder.wire import Make

    return Make(f"{FX}:threshold_model", seed, d)


def call_stats(ctx, make, x, threshold):
    kwargs = {} if threshold is None else {"threshold": threshold}
    return ctx.call("activation_stats", make, x, **kwargs)


def saturation_run(ctx, seed, n, d, threshold, layer, kind):
    """Two models and batches per case (seed and seed + 1000): a constant cannot be right for both."""
    for s in (seed, seed + 1000):
        make, local, x, t = threshold_case(s, n, d, threshold)
        expected = reference_stats(local, x, t)[layer][2]
        table = stats_table(ctx, call_stats(ctx, make, x, threshold), [layer])
        ctx.expect_reference(table[layer][2], f"the saturated fraction of the {kind} layer {layer!r}", tier="op")
        ctx.expect_equal(table[layer][2], expected, f"the saturated fraction of the {kind} layer {layer!r}",
                         tier="op")


@suite.check("activation_stats", points=2,
             title="tanh saturation: fraction of abs(output) > threshold, strictly (default 0.97, and threshold=0.9375 "
                   "with outputs exactly at the threshold)",
             cases=[{"seed": 0, "n": 32, "d": 8, "threshold": None}, {"seed": 1, "n": 32, "d": 8, "threshold": 0.9375}],
             hint="for nn.Tanh: (output.abs() > threshold).float().mean(), on the module's output (not its "
                  "input), with abs, strictly greater, and the threshold argument.")
def tanh_saturation(ctx, seed, n, d, threshold):
    saturation_run(ctx, seed, n, d, threshold, "0", "tanh")


@suite.check("activation_stats", points=1, title="ReLU saturation: the fraction of outputs equal to 0",
             cases=[{"seed": 2, "n": 32, "d": 8, "threshold": None}],
             hint="for nn.ReLU the flat part is 0: saturated = (output == 0).float().mean() (no threshold).")
def relu_saturation(ctx, seed, n, d, threshold):
    saturation_run(ctx, seed, n, d, threshold, "2", "ReLU")


def correct_stats(ctx, out, local, x, threshold=0.97):
    """The whole result must be right before side effects are judged (a do-nothing function fails here)."""
    expected = reference_stats(local, x, threshold)
    table = stats_table(ctx, out, list(expected))
    for name, exp in expected.items():
        ctx.expect_equal(table[name], exp, f"[mean, std, saturated] of layer {name!r} (side effects are judged "
                                           f"on a correct result; see the other activation_stats checks)",
                         tier="composite")


@suite.check("activation_stats", points=1,
             title="every hook is removed afterwards, also when the forward pass raises",
             cases=[{"kind": "branchy", "seed": 3}],
             hint="keep the handles returned by register_forward_hook and call handle.remove() on each in a "
                  "`finally:` block, so they go even when model(x) raises.")
def hooks_removed(ctx, kind, seed):
    make, local, x = stats_model(kind, seed)
    out, args = ctx.call_with_args("activation_stats", make, x)
    correct_stats(ctx, out, local, x)
    report = probe(ctx, args[0], make, need=("hooks",))
    ctx.expect(report["hooks"] == 0, f"{report['hooks']} hook(s) still registered after activation_stats returned",
               hint="remove every hook you registered (handle.remove()) before returning.")
    bad = torch.zeros(3, x.shape[1] + 1)
    try:  # a forward pass that raises in the first Linear, after the hooks are registered
        ctx.call("activation_stats", args[0], bad)
    except StudentCallError as exc:
        if exc.kind != "exception":
            raise
    report = probe(ctx, args[0], make, need=("hooks",))
    ctx.expect(report["hooks"] == 0, f"{report['hooks']} hook(s) left registered after the forward pass raised",
               hint="remove the hooks in a `finally:` block: when model(x) raises, the code after it never runs.")


@suite.check("activation_stats", points=1,
             title="observes only: no graph; train/eval mode (BatchNorm model in both), parameters, .grad and x unchanged",
             cases=[{"kind": "mlp", "seed": 4, "train": False}, {"kind": "mlp", "seed": 5, "train": True}],
             hint="run the model as it is given (no model.eval()/model.train()), under torch.no_grad(), without "
                  "touching parameters or gradients.")
def stats_side_effects(ctx, kind, seed, train):
    make, local, x = stats_model(kind, seed, train=train, bn=True, grads=True)
    out, args, saved = ctx.call_witnessed("activation_stats", make, x)
    correct_stats(ctx, out, local, x)
    report = probe(ctx, args[0], make, need=("grads", "modes"))
    ctx.expect(not report["changed_mode"], f"activation_stats changed the train/eval mode of {report['changed_mode']}")
    ctx.expect(not report["changed_params"] and not report["changed_grads"],
               f"activation_stats changed parameters {report['changed_params']} / gradients {report['changed_grads']}")
    ctx.expect_no_graph(saved, "activation_stats ran the model with autograd on (it built a graph)",
                        hint="run the forward pass under torch.no_grad(): the statistics need no graph.")
    ctx.expect(train or not report["changed_buffers"],
               f"activation_stats changed the buffers {report['changed_buffers']} of a model in eval mode")
    ctx.expect(torch.equal(args[1], x), "activation_stats modified x")


# ---------------------------------------------------------------------------------------------------
# 3. update_to_data_ratios
# ---------------------------------------------------------------------------------------------------
def ratio_case(kind: str, seed: int, frozen):
    kw = {"bn": True, "sizes": (6, 16, 16, 4)} if kind == "mlp" else {}
    local = fx.build(kind, seed, grads=True, frozen=tuple(frozen), **kw)
    return ctx_make(kind, seed, grads=True, frozen=tuple(frozen), **kw), local


def reference_ratios(local, lr) -> dict:
    return {name: torch.log10((lr * p.grad).std() / p.std()).double()
            for name, p in local.named_parameters() if p.ndim >= 2 and p.grad is not None}


def ratio_values(ctx, out, names) -> dict:
    ctx.expect(isinstance(out, dict), f"update_to_data_ratios should return a dict; got {type(out).__name__}")
    missing = [n for n in names if n not in out]
    ctx.expect(not missing, f"the result has no entry for the weights {missing}")
    return {n: as64(scalar(ctx, out[n], f"out[{n!r}]")) for n in names}


@suite.check("update_to_data_ratios", points=1,
             title="one entry per weight (ndim >= 2) that has a gradient: no biases, no norm parameters, no frozen weight",
             cases=[{"kind": "branchy", "seed": 0, "lr": 0.1, "frozen": ["stem.0"]}],
             hint="skip parameters with p.ndim < 2 (biases, BatchNorm weight/bias) and those whose p.grad is None.")
def ratio_selection(ctx, kind, seed, lr, frozen):
    make, local = ratio_case(kind, seed, frozen)
    expected = sorted(reference_ratios(local, lr))
    out = ctx.call("update_to_data_ratios", make, lr)
    ctx.expect(isinstance(out, dict), f"update_to_data_ratios should return a dict; got {type(out).__name__}")
    params = dict(local.named_parameters())
    extra = sorted(set(out) - set(expected))
    vectors = [n for n in extra if n in params and params[n].ndim < 2]
    ctx.expect(not vectors, f"the result has entries for the vectors {vectors} (biases / norm parameters)",
               hint="only weights are reported: skip parameters with p.ndim < 2.")
    no_grad = [n for n in extra if n in params and params[n].grad is None]
    ctx.expect(not no_grad, f"the result has entries for {no_grad}, which have no gradient (p.grad is None)",
               hint="skip parameters whose p.grad is None (frozen or unused): they have no update.")
    ctx.expect(sorted(out) == expected, f"the result has entries for {sorted(out)}; expected exactly {expected}")
    reference = reference_ratios(local, lr)
    got = ratio_values(ctx, out, expected)
    for name in expected:
        ctx.expect_equal(got[name], reference[name], f"the ratio of {name} (the entries count with correct values "
                                                     f"only; see the check of the values)", tier="composite")


@suite.check("update_to_data_ratios", points=3,
             title="log10(std(lr * grad) / std(weight)) per weight, for lr = 0.1 and lr = 0.003",
             cases=[{"kind": "mlp", "seed": 1, "lr": 0.1, "frozen": []},
                    {"kind": "branchy", "seed": 2, "lr": 0.003, "frozen": []}],
             hint="r = torch.log10((lr * p.grad).std() / p.std()): the spread (std, not the mean) of the update, "
                  "relative to the spread of the weight, on a log10 scale.")
def ratio_value(ctx, kind, seed, lr, frozen):
    make, local = ratio_case(kind, seed, frozen)
    expected = reference_ratios(local, lr)
    got = ratio_values(ctx, ctx.call("update_to_data_ratios", make, lr), list(expected))
    for name, exp in expected.items():
        ctx.expect_reference(got[name], f"the ratio of {name}", tier="composite")
        ctx.expect_equal(got[name], exp, f"the ratio of {name}", tier="composite")


@suite.check("update_to_data_ratios", points=1,
             title="observes only: parameters, their .grad and the mode unchanged",
             cases=[{"kind": "mlp", "seed": 3, "lr": 0.5, "frozen": ["0"]}],
             hint="compute lr * p.grad out of place (not p.grad.mul_(lr) or p.grad *= lr, which scale the "
                  "gradient the optimizer is about to use) and do not touch the parameters.")
def ratio_side_effects(ctx, kind, seed, lr, frozen):
    make, local = ratio_case(kind, seed, frozen)
    expected = reference_ratios(local, lr)
    out, args = ctx.call_with_args("update_to_data_ratios", make, lr)
    got = ratio_values(ctx, out, list(expected))
    for name, exp in expected.items():
        ctx.expect_equal(got[name], exp, f"the ratio of {name} (side effects are judged on a correct result)",
                         tier="composite")
    report = probe(ctx, args[0], make)
    ctx.expect(not report["changed_grads"], f"update_to_data_ratios changed the gradients {report['changed_grads']}")
    ctx.expect(not report["changed_params"] and not report["changed_mode"] and report["hooks"] == 0,
               f"update_to_data_ratios changed parameters {report['changed_params']} or the mode "
               f"{report['changed_mode']}, or left hooks ({report['hooks']})")


# ---------------------------------------------------------------------------------------------------
# 4. kaiming_init_
# ---------------------------------------------------------------------------------------------------
def init_make(seed, sizes, act, bn=False, bias=True):
    from autograder.wire import Make

    return Make(f"{FX}:init_target", seed, sizes=tuple(sizes), act=act, bn=bn, bias=bias)


def linear_names(sizes, act, bn=False, bias=True):
    local = fx.init_target(0, tuple(sizes), act, bn=bn, bias=bias)
    return [(name, m.bias is not None) for name, m in local.named_modules() if isinstance(m, nn.Linear)], local


def call_init(ctx, seed, sizes, act, nonlinearity, generator_seed=None, bn=False, bias=True, model=None):
    """The model after ``kaiming_init_`` (``model``: a kept model to pass, else one built for the call)."""
    kwargs = {} if generator_seed is None else {"generator": ctx.make(f"{FX}:generator", generator_seed)}
    target = init_make(seed, sizes, act, bn, bias) if model is None else model
    _, args = ctx.call_with_args("kaiming_init_", target, nonlinearity, **kwargs)
    return args[0]


def weight_stats(w: torch.Tensor):
    w = w.double().flatten()
    mean, std = w.mean(), w.std()
    kurt = (((w - mean) / std) ** 4).mean() - 3.0
    return float(mean), float(std), float(kurt), w.numel()


def check_std(ctx, ref, sizes, act, gain):
    names, _ = linear_names(sizes, act)
    state = ctx.method(ref, "state_dict")
    for name, _ in names:
        w = state[f"{name}.weight"]
        mean, std, _, n = weight_stats(w)
        target = gain / math.sqrt(w.shape[1])
        ctx.expect(abs(std / target - 1) <= STD_TOL,
                   f"{name}.weight (shape {list(w.shape)}) has std {std:.5f}; expected {target:.5f} = gain / "
                   f"sqrt(fan_in) within {100 * STD_TOL:g} %")
        ctx.expect(abs(mean) <= MEAN_SE * target / math.sqrt(n),
                   f"{name}.weight has mean {mean:.2e}; a N(0, std^2) draw of {n} entries has |mean| below "
                   f"{MEAN_SE * target / math.sqrt(n):.1e}")
    return state


@suite.check("kaiming_init_", points=1, title="ReLU: std sqrt(2 / fan_in) (square 256x256 layers, global RNG)",
             cases=[{"seed": 0, "sizes": [256, 256, 256]}],
             hint="for ReLU the gain is sqrt(2): std = sqrt(2) / sqrt(fan_in), weights drawn from a normal "
                  "distribution with mean 0.")
def relu_gain(ctx, seed, sizes):
    check_std(ctx, call_init(ctx, seed, sizes, "relu", "relu"), sizes, "relu", GAINS["relu"])


@suite.check("kaiming_init_", points=1, title="tanh: std (5/3) / sqrt(fan_in) (square 256x256 layers)",
             cases=[{"seed": 1, "sizes": [256, 256, 256]}],
             hint="for tanh the gain is 5/3 (torch.nn.init.calculate_gain('tanh')), not 1 and not sqrt(2): "
                  "std = (5/3) / sqrt(fan_in).")
def tanh_gain(ctx, seed, sizes):
    check_std(ctx, call_init(ctx, seed, sizes, "tanh", "tanh"), sizes, "tanh", GAINS["tanh"])


@suite.check("kaiming_init_", points=1,
             title="fan_in = in_features = weight.shape[1] (non-square 512 -> 128 -> 384 layers)",
             cases=[{"seed": 2, "sizes": [512, 128, 384], "nonlinearity": "relu"}],
             hint="an nn.Linear(in_features, out_features) stores weight with shape (out_features, in_features); "
                  "fan_in is weight.shape[1] (the inputs each output unit sums over), not weight.shape[0].")
def fan_in_mode(ctx, seed, sizes, nonlinearity):
    check_std(ctx, call_init(ctx, seed, sizes, nonlinearity, nonlinearity), sizes, nonlinearity,
              GAINS[nonlinearity])


@suite.check("kaiming_init_", points=0.5, title="normal, not uniform: excess kurtosis near 0",
             cases=[{"seed": 3, "sizes": [256, 256, 256], "nonlinearity": "tanh"}],
             hint="Kaiming-normal draws from a normal distribution (weight.normal_(0, std)), not a uniform one "
                  "(kaiming_uniform_ has the same std but another shape).")
def normal_shape(ctx, seed, sizes, nonlinearity):
    names, _ = linear_names(sizes, nonlinearity)
    state = ctx.method(call_init(ctx, seed, sizes, nonlinearity, nonlinearity), "state_dict")
    for name, _ in names:
        w = state[f"{name}.weight"]
        _, std, kurt, _ = weight_stats(w)
        ctx.expect(std > 0, f"{name}.weight is constant")
        ctx.expect(abs(kurt) <= KURT_TOL,
                   f"{name}.weight has excess kurtosis {kurt:.3f}; a normal distribution has 0 (within {KURT_TOL})")


@suite.check("kaiming_init_", points=1,
             title="biases zero (also with a bias-free Linear); BatchNorm / LayerNorm parameters untouched",
             cases=[{"seed": 4, "sizes": [64, 48, 32, 16], "nonlinearity": "relu", "bias": False}],
             hint="set every Linear bias to 0 (bias.zero_(), skipping Linear(bias=False)) and leave modules "
                  "other than nn.Linear alone.")
def biases_and_others(ctx, seed, sizes, nonlinearity, bias):
    names, local = linear_names(sizes, nonlinearity, bn=True, bias=bias)
    ref = call_init(ctx, seed, sizes, nonlinearity, nonlinearity, bn=True, bias=bias)
    state = ctx.method(ref, "state_dict")
    report = probe(ctx, ref, init_make(seed, sizes, nonlinearity, True, bias), state=state, need=())
    weights = sorted(f"{n}.weight" for n, _ in names)
    ctx.expect(all(w in report["changed_params"] for w in weights),
               f"the Linear weights {[w for w in weights if w not in report['changed_params']]} were not re-drawn")
    for name, has_bias in names:
        if has_bias:
            b = state[f"{name}.bias"]
            ctx.expect(torch.equal(b, torch.zeros_like(b)), f"{name}.bias is not zero after kaiming_init_",
                       hint="Kaiming initialization sets the biases to 0: bias.zero_().")
    allowed = set(weights) | {f"{n}.bias" for n, has in names if has}
    others = [n for n in report["changed_params"] if n not in allowed]
    ctx.expect(not others, f"kaiming_init_ changed {others}, which are not Linear weights or biases",
               hint="only nn.Linear modules are initialized: BatchNorm1d / LayerNorm weights and biases keep their "
                    "values (do not loop over model.parameters()).")


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


@suite.check("kaiming_init_", points=1,
             title="with a generator: exactly torch.nn.init.kaiming_normal_'s draws (Linear modules in order)",
             cases=[{"seed": 5, "sizes": [40, 30, 20, 10], "nonlinearity": "tanh", "gen_seed": 7}],
             hint="draw each weight with weight.normal_(0, std, generator=generator) (or torch.randn(..., "
                  "generator=generator) * std), Linear modules in model.modules() order, and nothing for biases.")
def generator_draws(ctx, seed, sizes, nonlinearity, gen_seed):
    names, local = linear_names(sizes, nonlinearity, bn=True)
    state = ctx.method(call_init(ctx, seed, sizes, nonlinearity, nonlinearity, generator_seed=gen_seed, bn=True),
                       "state_dict")
    g = generator(gen_seed)
    for name, _ in names:
        w = torch.empty_like(local.state_dict()[f"{name}.weight"])
        nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity=nonlinearity, generator=g)
        ctx.expect_reference(state[f"{name}.weight"], f"{name}.weight", tier="op")
        ctx.expect_equal(state[f"{name}.weight"], w, f"{name}.weight vs torch.nn.init.kaiming_normal_ with the same "
                                                     f"generator", tier="op")


@suite.check("kaiming_init_", points=0.5, title="in place: the same Parameter objects, still trainable leaves",
             cases=[{"seed": 6, "sizes": [256, 256], "nonlinearity": "relu"}],
             hint="re-draw the existing tensors in place under torch.no_grad() (weight.normal_(...), bias.zero_()) "
                  "instead of assigning new nn.Parameter objects.")
def init_in_place(ctx, seed, sizes, nonlinearity):
    names, _ = linear_names(sizes, nonlinearity)
    make = init_make(seed, sizes, nonlinearity)
    model, originals = kept_model(ctx, make)
    ref = call_init(ctx, seed, sizes, nonlinearity, nonlinearity, model=model)
    state = check_std(ctx, ref, sizes, nonlinearity, GAINS[nonlinearity])  # in-place use judged on a correct draw only
    report = probe(ctx, ref, make, originals, state=state, need=("grads",))
    weights = [f"{n}.weight" for n, _ in names]
    ctx.expect(all(w in report["changed_params"] for w in weights), "the Linear weights were not re-drawn")
    ctx.expect(not report["replaced"], f"the parameters {report['replaced']} were replaced by new objects")
    ctx.expect(not report["not_leaf"] and not report["changed_requires_grad"],
               f"parameters {report['not_leaf'] or report['changed_requires_grad']} are no longer trainable leaves")
