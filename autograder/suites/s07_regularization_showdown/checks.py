"""Visible checks of assignment 07 (shipped to students; the self-check runs these).

The models are checked through their structure (the leaf modules in order, read with ``ctx.describe``),
their parameter counts, and their output compared with a *replay*: the grader recomputes the forward pass
from the student's own ``state_dict`` with ``torch.nn.functional``, layer by layer in the declared order
(so any initialization is accepted). The loops are checked with grader-owned probes
(``autograder/fixtures/showdown.py``): a torch DataLoader whose sampler's generator shows how many passes
were started and finished, a model that records its mode at every forward pass (its BatchNorm's
``num_batches_tracked`` counts the training-mode passes), torch.optim.Adam whose state counts the steps, a
penalty that counts its calls; values are compared with the course's loops run on identical objects in the
grader.

One mistake, one check: the checks of values start from trusted states (the model already in the mode
the loop needs, ``lr=0`` where only the bookkeeping of the loss is checked), so a missing
``model.train()`` / ``model.eval()`` costs only the check about modes.
"""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F

from autograder import compare
from autograder.checks import Suite
from autograder.fixtures import showdown as fx

suite = Suite(__name__, "The regularization showdown")

FX = "autograder.fixtures.showdown"
KINDS = ("baseline", "dropout", "bn", "ln", "l1", "l2")
CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


# ---------------------------------------------------------------------------------------------------
# structure helpers
# ---------------------------------------------------------------------------------------------------
def leaves(info: dict) -> list[tuple[str, str, str]]:
    """The leaf modules ``(name, type, extra_repr)`` in registration order (containers skipped)."""
    mods = [tuple(m) for m in info.get("modules", [])]
    names = [m[0] for m in mods]
    out = []
    for name, typ, extra in mods:
        if name == "" and len(mods) > 1:
            continue
        if any(other.startswith(name + ".") for other in names if other != name):
            continue
        out.append((name, typ, extra))
    return out


def options(extra: str) -> dict:
    """``key=value`` pairs of an ``extra_repr`` (values as strings), plus ``"_first"``: the leading token."""
    kv = dict(re.findall(r"(\w+)=([^,]+)", extra))
    first = re.match(r"\s*(\([^)]*\)|[^,=]+)(,|$)", extra)
    kv["_first"] = first.group(1).strip() if first else ""
    return kv


def seq_text(types: list[str]) -> str:
    return ", ".join(types)


def expected_layout(kind: str, hidden, p: float, in_features: int, num_classes: int) -> list[tuple[str, dict]]:
    """The module sequence make_model(kind, ...) must produce: ``[(type, properties), ...]``."""
    out: list[tuple[str, dict]] = [("Flatten", {})]
    d = in_features
    for h in hidden:
        if kind == "bn":
            out += [("Linear", {"in": d, "out": h, "bias": False}), ("BatchNorm1d", {"n": h}), ("ReLU", {})]
        elif kind == "ln":
            out += [("Linear", {"in": d, "out": h, "bias": True}), ("LayerNorm", {"n": h}), ("ReLU", {})]
        else:
            out += [("Linear", {"in": d, "out": h, "bias": True}), ("ReLU", {})]
            if kind == "dropout":
                out.append(("Dropout", {"p": p}))
        d = h
    out.append(("Linear", {"in": d, "out": num_classes, "bias": True}))
    return out


def layout_params(layout) -> int:
    total = 0
    for typ, props in layout:
        if typ == "Linear":
            total += props["in"] * props["out"] + (props["out"] if props["bias"] else 0)
        elif typ in ("BatchNorm1d", "LayerNorm"):
            total += 2 * props["n"]
    return total


NORM_TYPES = ("BatchNorm1d", "LayerNorm")
NO_SOFTMAX = ("no softmax at the end: the model returns logits, and F.cross_entropy applies the (log-)softmax itself; "
              "a Softmax layer would apply it twice.")


def placement_hint(expected: list[str], got: list[str]) -> str:
    """A hint that names what is wrong with a module sequence, for the common mistakes."""
    if got and got[-1] in ("Softmax", "LogSoftmax"):
        return NO_SOFTMAX
    if not got or got[0] != "Flatten":
        return "start the nn.Sequential with nn.Flatten(), so (N, 1, 28, 28) images become (N, 784) rows."
    if got and got[-1] != "Linear":
        return (f"the output layer is the last module: nothing ({got[-1]}) after the final Linear; the logits must be "
                f"free to take any value.")
    for norm in NORM_TYPES:
        if norm in expected:
            pairs = list(zip(got, got[1:]))
            if ("ReLU", norm) in pairs and (norm, "ReLU") not in pairs:
                return (f"the {norm} sits after the ReLU (after the non-linearity); the text asks for "
                        f"Linear -> {norm} -> ReLU: normalize the pre-activation, before the non-linearity.")
    if "Dropout" in expected:
        pairs = list(zip(got, got[1:]))
        if ("Dropout", "ReLU") in pairs or ("Linear", "Dropout") in pairs:
            return "Dropout goes after each hidden ReLU (Linear -> ReLU -> Dropout), not before the activation."
        if got.count("Dropout") != expected.count("Dropout"):
            return ("one Dropout after every hidden ReLU, and none after the output layer (nor on the input).")
    if expected.count("Linear") != got.count("Linear"):
        return "one Linear per hidden width, plus the output Linear."
    return "build the sequence in the table of section 2 for this kind."


def check_layout(ctx, info: dict, layout, what: str, extra_hint: str = "") -> list[tuple[str, str, str]]:
    """Expect the leaf modules of ``info`` to follow ``layout``; returns the leaves."""
    ctx.expect(info.get("type") in CONTAINERS or bool(info.get("modules")),
               f"{what} should be an nn.Module (an nn.Sequential); got {info.get('type')}")
    got = leaves(info)
    got_types = [t for _, t, _ in got]
    exp_types = [t for t, _ in layout]
    ctx.expect(got_types == exp_types,
               f"{what}: modules in order are [{seq_text(got_types)}]; expected [{seq_text(exp_types)}]",
               hint=placement_hint(exp_types, got_types) + extra_hint)
    for (name, typ, extra), (_, props) in zip(got, layout):
        kv = options(extra)
        label = f"{what}: module {name!r} ({typ}: {extra})"
        if typ == "Linear":
            ctx.expect(int(kv["in_features"]) == props["in"] and int(kv["out_features"]) == props["out"],
                       f"{label} should map {props['in']} -> {props['out']} features",
                       hint="each Linear maps the previous width to the next one: in_features, hidden[0], "
                            "hidden[1], ..., num_classes.")
            has_bias = kv.get("bias") == "True"
            ctx.expect(has_bias == props["bias"],
                       f"{label} should have bias={props['bias']}",
                       hint=("a Linear right before BN takes bias=False: BN subtracts the batch mean, which removes "
                             "any bias, and BN's beta plays its role." if not props["bias"] else
                             "keep the bias of this Linear (bias=True)."))
        elif typ == "BatchNorm1d":
            ctx.expect(kv["_first"] == str(props["n"]), f"{label} should normalize {props['n']} features")
        elif typ == "LayerNorm":
            ctx.expect(kv["_first"].replace(" ", "") == f"({props['n']},)",
                       f"{label} should normalize over the last dimension of size {props['n']}: LayerNorm({props['n']})")
        elif typ == "Dropout":
            ctx.expect(float(kv.get("p", "nan")) == props["p"],
                       f"{label}: the drop probability should be p={props['p']}",
                       hint="pass make_model's p to every nn.Dropout (nn.Dropout(p)).")
    return got


def expect_default_init(ctx, mods, state: dict, what: str, keras: bool = False) -> None:
    """PyTorch's default initialization: Linear weights and biases uniform in +-1/sqrt(fan_in), weights not
    constant; norm layers' weight ones and bias zeros. With ``keras``, Keras's Dense initialization is
    accepted too (Glorot-uniform weights, any bias within the bound, zeros included)."""
    for name, typ, _extra in mods:
        pre = f"{name}." if name else ""
        if typ == "Linear":
            w, b = state[pre + "weight"], state.get(pre + "bias")
            fan_out, fan_in = w.shape
            torch_bound = bound = 1.0 / math.sqrt(fan_in)
            if keras:
                bound = max(bound, math.sqrt(6.0 / (fan_in + fan_out)))
            spread = float(w.std()) > 0.3 * torch_bound if w.numel() >= 16 else float(w.max()) > float(w.min())
            ok = compare.at_most(w.abs().max(), bound, "op") and spread
            if b is not None and b.numel():
                ok = ok and compare.at_most(b.abs().max(), bound, "op")
                if not keras and b.numel() >= 2:
                    ok = ok and float(b.max()) > float(b.min())
            ctx.expect(ok, f"{what}: the initial values of the Linear {pre[:-1] or 'layer'} do not look like PyTorch's "
                           f"default initialization (uniform in +-1/sqrt(fan_in))",
                       hint="build the layers with nn.Linear(...) and keep PyTorch's default initialization.")
        elif typ in NORM_TYPES:
            for key, value in (("weight", 1.0), ("bias", 0.0)):
                t = state.get(pre + key)
                ctx.expect(t is None or bool((t == value).all()),
                           f"{what}: a new {typ} should start with {key} = {value:g} (PyTorch's default)")


def n_parameters(info: dict) -> int:
    return sum(math.prod(shape) for _, shape, _ in info.get("parameters", []))


def replay(mods, state: dict, x: torch.Tensor, training: bool):
    """The forward pass of the leaf modules ``mods`` with the tensors of ``state``, in order, with
    torch.nn.functional. BN running statistics are updated in (copies of) ``state`` in training mode.
    Returns ``(output, state after)``."""
    state = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in state.items()}
    h = x
    for name, typ, extra in mods:
        kv = options(extra)
        pre = f"{name}." if name else ""
        if typ == "Flatten":
            h = h.flatten(1)
        elif typ == "Linear":
            h = F.linear(h, state[pre + "weight"], state.get(pre + "bias"))
        elif typ == "ReLU":
            h = F.relu(h)
        elif typ == "BatchNorm1d":
            momentum = float(kv.get("momentum", "0.1"))
            h = F.batch_norm(h, state[pre + "running_mean"], state[pre + "running_var"], state.get(pre + "weight"),
                             state.get(pre + "bias"), training=training, momentum=momentum, eps=float(kv["eps"]))
            if training and pre + "num_batches_tracked" in state:
                state[pre + "num_batches_tracked"] = state[pre + "num_batches_tracked"] + 1
        elif typ == "LayerNorm":
            h = F.layer_norm(h, h.shape[-1:], state.get(pre + "weight"), state.get(pre + "bias"), eps=float(kv["eps"]))
        elif typ == "Dropout":
            if training:
                raise ValueError("cannot replay dropout in training mode")
        elif typ == "Softmax":
            h = F.softmax(h, dim=int(kv.get("dim", "-1")) if kv.get("dim", "None") != "None" else -1)
        elif typ == "Identity":
            pass
        else:
            raise ValueError(f"unexpected module type {typ}")
    return h, state


def images(gen: torch.Generator, n: int, in_features: int) -> torch.Tensor:
    """n inputs in [0, 1]: (n, 1, 28, 28) when in_features is 784, else (n, 1, in_features)."""
    shape = (n, 1, 28, 28) if in_features == 784 else (n, 1, in_features)
    return torch.rand(shape, generator=gen)


# ---------------------------------------------------------------------------------------------------
# 1. make_model
# ---------------------------------------------------------------------------------------------------
def run_make_model(ctx, kind, hidden=None, p=None, in_features=None, num_classes=None, n=6, seed=0):
    kwargs = {k: v for k, v in (("hidden", tuple(hidden) if hidden is not None else None), ("p", p),
                                ("in_features", in_features), ("num_classes", num_classes)) if v is not None}
    hidden_ = tuple(hidden) if hidden is not None else (256, 128)
    p_ = 0.3 if p is None else p
    d_in = 784 if in_features is None else in_features
    n_out = 10 if num_classes is None else num_classes
    ref = ctx.call("make_model", kind, **kwargs)
    info = ctx.describe(ref)
    layout = expected_layout(kind, hidden_, p_, d_in, n_out)
    mods = check_layout(ctx, info, layout, f"make_model({kind!r})")
    expected_count = layout_params(layout)
    ctx.expect(n_parameters(info) == expected_count,
               f"make_model({kind!r}) has {n_parameters(info)} parameters; expected {expected_count}")
    if kind == "bn":
        buffers = {b[0].rsplit(".", 1)[-1] for b in info.get("buffers", [])}
        ctx.expect({"running_mean", "running_var"} <= buffers, "the BatchNorm1d layers should keep running statistics")
        for _, typ, extra in mods:
            if typ == "BatchNorm1d":
                kv = options(extra)
                ctx.expect(compare.close(1e-5, float(kv["eps"]), "op") and compare.close(0.1, float(kv["momentum"]), "op"),
                           f"BatchNorm1d({extra}): use PyTorch's defaults here, eps=1e-5 and momentum=0.1")
    g = ctx.gen(seed)
    x = images(g, n, d_in)
    # train mode (the mode a new module is in): replay with batch statistics
    state0 = ctx.method(ref, "state_dict")
    expect_default_init(ctx, mods, state0, f"make_model({kind!r})")
    if kind != "dropout":
        out = ctx.method(ref, "__call__", x)
        ctx.expect(isinstance(out, torch.Tensor) and tuple(out.shape) == (n, n_out),
                   f"the model should map a batch of {n} inputs to ({n}, {n_out}) logits; got "
                   + (str(list(out.shape)) if isinstance(out, torch.Tensor) else type(out).__name__))
        expected, _ = replay(mods, state0, x, training=True)
        ctx.expect_equal(out, expected, "train-mode output, recomputed from the model's own parameters",
                         tier="composite", hint="the model must apply its modules in the order they are listed.")
    else:
        a = ctx.method(ref, "__call__", x, global_seed=1)
        b = ctx.method(ref, "__call__", x, global_seed=2)
        ctx.expect(isinstance(a, torch.Tensor) and tuple(a.shape) == (n, n_out),
                   f"the model should map a batch of {n} inputs to ({n}, {n_out}) logits")
        ctx.expect(not torch.equal(a, b), "in train mode two forward passes gave identical outputs: dropout is not active",
                   hint="nn.Dropout(p) after every hidden ReLU; it only drops in training mode.")
    ctx.method(ref, "eval")
    state1 = ctx.method(ref, "state_dict")
    out_eval = ctx.method(ref, "__call__", x, global_seed=3)
    again = ctx.method(ref, "__call__", x, global_seed=4)
    ctx.expect(torch.equal(out_eval, again), "in eval mode two forward passes of the same input differ",
               hint="nothing random may remain in eval mode.")
    expected, _ = replay(mods, state1, x, training=False)
    ctx.expect_equal(out_eval, expected, "eval-mode output, recomputed from the model's own parameters and statistics",
                     tier="composite")


def make_model_check(kind: str, points: float, title: str, cases: list[dict]):
    def run(ctx, **case):
        run_make_model(ctx, kind, **case)

    run.__name__ = kind
    return suite.check("make_model", points=points, name=f"make_model.{kind}", title=title, cases=cases)(run)


make_model_checks = {
    "baseline": make_model_check(
        "baseline", 1.5, "baseline: Flatten, (Linear, ReLU) per hidden width, Linear; counts and output",
        [{}, {"hidden": [12, 7], "in_features": 20, "num_classes": 5, "n": 5, "seed": 1}]),
    "dropout": make_model_check(
        "dropout", 1.5, "dropout: Dropout(p) after every hidden ReLU, none after the output; stochastic only in train mode",
        [{"hidden": [9, 6], "p": 0.6, "in_features": 15, "num_classes": 4, "seed": 2},
         {"hidden": [8], "in_features": 784, "num_classes": 3, "seed": 3}]),
    "bn": make_model_check(
        "bn", 2, "bn: Linear(bias=False) -> BatchNorm1d -> ReLU per hidden width (BN before the activation)",
        [{"hidden": [10, 7], "in_features": 16, "num_classes": 4, "seed": 4},
         {"hidden": [5, 6, 4], "in_features": 784, "num_classes": 10, "n": 8, "seed": 5}]),
    "ln": make_model_check(
        "ln", 1.5, "ln: Linear -> LayerNorm -> ReLU per hidden width (LN before the activation)",
        [{"hidden": [11, 6], "in_features": 18, "num_classes": 5, "seed": 6}]),
    "penalty_kinds": None,
}


@suite.check("make_model", points=1, title="l1 and l2: exactly the baseline architecture (the penalty is not a layer)",
             cases=[{"kind": "l1", "hidden": [9, 5], "in_features": 12, "num_classes": 3, "seed": 7},
                    {"kind": "l2", "hidden": [6], "in_features": 10, "num_classes": 4, "seed": 8}],
             hint="for l1 and l2, make_model returns the baseline's layers; the penalty is added to the loss by "
                  "train_epoch (make_training_setup builds it).")
def penalty_kinds(ctx, kind, hidden, in_features, num_classes, seed):
    run_make_model(ctx, kind, hidden=hidden, in_features=in_features, num_classes=num_classes, seed=seed)


make_model_checks["penalty_kinds"] = penalty_kinds


# ---------------------------------------------------------------------------------------------------
# 2. make_training_setup
# ---------------------------------------------------------------------------------------------------
def call_setup(ctx, seed, kind, **kwargs):
    """(optimizer ref, penalty ref or None, model ref) of make_training_setup on a PenaltyNet."""
    result, args = ctx.call_with_args("make_training_setup", ctx.make(f"{FX}:penalty_net", seed), kind, **kwargs)
    ctx.expect(isinstance(result, (tuple, list)) and len(result) == 2,
               "make_training_setup should return a tuple (optimizer, penalty)")
    return result[0], result[1], args[0]


@suite.check("make_training_setup", points=2,
             title="Adam over all parameters with lr, default betas/eps and weight_decay=0 (for every kind)",
             cases=[{"kind": k, "lr": lr, "lam": lam, "seed": s} for k, lr, lam, s in
                    (("baseline", 0.02, 0.3, 0), ("dropout", 0.005, 0.1, 1), ("bn", 0.03, 0.2, 2),
                     ("ln", 0.007, 0.4, 3), ("l1", 0.011, 0.5, 4), ("l2", 0.013, 0.25, 5))] + [{"kind": "l2", "seed": 6}])
def optimizer(ctx, kind, seed, lr=None, lam=None):
    kwargs = {k: v for k, v in (("lr", lr), ("lam", lam)) if v is not None}
    opt, _, model = call_setup(ctx, seed, kind, **kwargs)
    info = ctx.describe(opt)
    ctx.expect(info.get("type") in ("Adam", "AdamW"), f"the optimizer is a {info.get('type')}; expected torch.optim.Adam",
               hint="torch.optim.Adam(model.parameters(), lr=lr).")
    groups = ctx.attr(opt, "param_groups")
    lr_ = 1e-3 if lr is None else lr
    lam_ = 1e-4 if lam is None else lam
    for group in groups:
        wd = float(group.get("weight_decay", 0.0))
        if kind == "l2" and wd != 0 and wd == lam_:
            hint = ("the L2 term is applied twice: once as the penalty in the loss and again as the optimizer's "
                    "weight_decay. Keep weight_decay=0; the penalty is the only L2 term.")
        elif info.get("type") == "AdamW":
            hint = "torch.optim.AdamW's default weight_decay is 0.01, not 0: use Adam (or pass weight_decay=0)."
        else:
            hint = "the optimizer's weight_decay must be 0 for every kind: the only weight penalty is the penalty term."
        ctx.expect(wd == 0, f"make_training_setup(kind={kind!r}, lam={lam_}): the optimizer has weight_decay={wd}",
                   hint=hint)
        ctx.expect(float(group.get("lr", float("nan"))) == lr_,
                   f"the optimizer's learning rate is {group.get('lr')}; expected lr={lr_}",
                   hint="pass make_training_setup's lr to the optimizer.")
        ctx.expect(tuple(group.get("betas", ())) == (0.9, 0.999) and group.get("eps") == 1e-8,
                   f"Adam's betas/eps are {group.get('betas')}/{group.get('eps')}; keep the defaults (0.9, 0.999)/1e-8")
    expect_optimizes_model(ctx, model, opt)


def param_grads(ctx, model) -> dict:
    """``{name: .grad or None}`` of a student-side model, read through ordinary calls (not a fixture method)."""
    st = ctx.student
    return {name: st.attr(st.method_kept(model, "get_parameter", name), "grad")
            for name, _, _ in ctx.describe(model).get("parameters", [])}


def optimizer_coverage(ctx, model, opt) -> dict:
    """How the optimizer's parameters relate to the model's, by tensor identity, read through ordinary calls
    (``ctx.group_names``: which model parameter each optimizer tensor is, or None) and counted here: ``covered``,
    ``missing``, ``foreign`` (tensors that are not the model's), ``repeated``."""
    mine = {p[0] for p in ctx.describe(model).get("parameters", [])}
    groups = ctx.student.method_kept(opt, "__getattribute__", "param_groups")
    seen = [n for group in ctx.group_names(groups, model) for n in (group or [])]
    named = [n for n in seen if n is not None]
    return {"covered": len(mine & set(named)), "missing": len(mine - set(named)),
            "foreign": len(seen) - len(named), "repeated": len(named) - len(set(named))}


def expect_optimizes_model(ctx, model, opt):
    """The optimizer updates exactly the parameters of the model it was given (the same tensors, each once)."""
    cover = optimizer_coverage(ctx, model, opt)
    ctx.expect(cover["missing"] == 0 and cover["foreign"] == 0 and cover["repeated"] == 0,
               f"the optimizer does not update exactly the model's parameters ({cover['covered']} of them covered, "
               f"{cover['missing']} missing, {cover['foreign']} other tensors, {cover['repeated']} repeated)",
               hint="torch.optim.Adam(model.parameters(), lr=lr): all the parameters of the model you were given, "
                    "once each (not a copy's, not a new model's).")


def penalty_reference(model, kind: str, lam: float) -> torch.Tensor:
    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if kind == "l1":
        return lam * sum(w.abs().sum() for w in weights)
    return lam / 2 * sum((w ** 2).sum() for w in weights)


PENALTY_HINTS = {
    "l1": "l1: lam * (sum of |W| over the weight of every nn.Linear); no square, no 1/2, no biases or norm parameters.",
    "l2": "l2: lam / 2 * (sum of W**2 over the weight of every nn.Linear); the 1/2 makes its gradient lam * W; no "
          "biases or norm parameters.",
}


@suite.check("make_training_setup", points=3,
             title="l1 / l2 penalty(m): value and gradient on the Linear weights only, of the model passed; None otherwise",
             cases=[{"kind": "l1", "lam": 0.3, "seed": 10}, {"kind": "l2", "lam": 0.7, "seed": 11},
                    {"kind": "l2", "seed": 12}])
def penalty_values(ctx, kind, seed, lam=None):
    kwargs = {"lam": lam} if lam is not None else {}
    lam_ = 1e-4 if lam is None else lam
    opt, penalty, model = call_setup(ctx, seed, kind, lr=0.01, **kwargs)
    expect_optimizes_model(ctx, model, opt)
    ctx.expect(penalty is not None, f"make_training_setup(kind={kind!r}) returned penalty=None",
               hint="l1 and l2 return a function penalty(model) -> 0-dim tensor.")
    fresh = fx.PenaltyNet(seed)
    ctx.expect_unchanged(ctx.method(model, "state_dict"), fresh.state(), "make_training_setup changed the model's parameters",
                         hint="build the optimizer; do not touch the model.")
    res = ctx.method(model, "penalty_gradients", penalty)
    ctx.expect(isinstance(res, dict) and res.get("differentiable"),
               "penalty(model) should return a tensor that autograd can differentiate w.r.t. the weights",
               hint="compute the penalty with torch operations on the weights themselves (no .item(), .detach() "
                    "or torch.no_grad()).")
    value = res["value"]
    ctx.expect(isinstance(value, torch.Tensor) and value.dim() == 0, "penalty(model) should return a 0-dim tensor")
    ctx.expect_reference(value, f"penalty(model) for kind {kind!r}", tier="composite", hint=PENALTY_HINTS[kind])
    with torch.no_grad():
        ctx.expect_equal(value, penalty_reference(fresh, kind, lam_), f"penalty(model) for kind {kind!r}",
                         tier="composite", hint=PENALTY_HINTS[kind])
    grads = res["grads"]
    for name, p in fresh.named_parameters():
        module = fresh.get_submodule(name.rsplit(".", 1)[0])
        penalized = isinstance(module, torch.nn.Linear) and name.endswith("weight")
        got = grads.get(name)
        if penalized:
            expected = lam_ * (p.detach().sign() if kind == "l1" else p.detach())
            ctx.expect(got is not None, f"the penalty has no gradient for {name}", hint=PENALTY_HINTS[kind])
            ctx.expect_equal(got, expected, f"gradient of the penalty w.r.t. {name}", tier="composite",
                             hint=PENALTY_HINTS[kind])
        else:
            ctx.expect(got is None or not bool(got.abs().max() > 0),
                       f"the penalty has a non-zero gradient for {name}, which must not be penalized",
                       hint="penalize only the weight of each nn.Linear: not the biases, not the BatchNorm/LayerNorm "
                            "parameters (iterate over model.modules() and pick nn.Linear).")
    # the penalty uses the model it is given (not the one make_training_setup saw)
    other = fx.PenaltyNet(seed + 100)
    value2 = ctx.method(penalty, "__call__", ctx.make(f"{FX}:penalty_net", seed + 100))
    with torch.no_grad():
        ctx.expect_equal(value2, penalty_reference(other, kind, lam_), "penalty(other_model) for another model",
                         tier="composite",
                         hint="penalty(m) must compute the penalty of the model m it is given, not of the model "
                              "make_training_setup received.")
    for other_kind in ("baseline", "dropout", "bn", "ln"):
        _, none, _ = call_setup(ctx, seed, other_kind, lr=0.01, lam=0.5)
        ctx.expect(none is None, f"make_training_setup(kind={other_kind!r}) should return penalty=None",
                   hint="only l1 and l2 have a penalty; the other kinds return None.")


# ---------------------------------------------------------------------------------------------------
# 3. train_epoch
# ---------------------------------------------------------------------------------------------------
def train_objects(ctx, seed, n, batch, lr, momentum=0.0, train=True, lam=None, adam=False):
    """Args for train_epoch, built in the student's process: a probe model, a probe loader, an SGD over that
    model's parameters (``adam``: a real torch.optim.Adam, whose state_dict counts the steps) and a counting L2
    penalty."""
    key = f"m{seed}"
    opt = ctx.make(f"{FX}:adam", lr, key=key) if adam else ctx.make(f"{FX}:counting_sgd", lr, momentum, key=key)
    args = [ctx.make(f"{FX}:probe_net", seed, train=train, key=key), ctx.make(f"{FX}:probe_loader", n, batch, seed),
            opt]
    if lam is not None:
        args.append(ctx.make(f"{FX}:l2_probe", lam))
    return args


def loader_passes(ctx, loader, n: int, batch: int, seed: int, most: int = 16):
    """How many passes over ``loader`` (``probe_loader(n, batch, seed)``, a torch DataLoader with a RandomSampler)
    were made, in halves: its sampler draws a permutation when a pass starts and another when it runs out (for
    one batch: one draw per pass; ``fx.draws_per_pass``), so 1.0 = exactly one complete pass. The
    sampler generator's state (``get_state()`` through the protocol) is matched with the grader's own copy after
    0, 1, 2, ... draws; None when it matches none (a generator replaced or set by hand). No counter of ours is
    read (docs/SECURITY.md)."""
    got = ctx.method(ctx.attr(ctx.attr(loader, "sampler"), "generator"), "get_state")
    mine, n_batches = fx.sampler_generator(seed), -(-n // batch)
    for k in range(most + 1):
        if isinstance(got, torch.Tensor) and torch.equal(got, mine.get_state()):
            return k / fx.draws_per_pass(n_batches)
        fx.draw_like_a_sampler(mine, n_batches)
    return None


def passes_text(passes) -> str:
    if passes is None:
        return "an unknown number of times (its sampler's generator was replaced or reset)"
    return f"{int(passes)} time(s)" + (" and one more pass was started and left unfinished" if passes % 1 else "")


def loader_data(ctx, loader):
    """The tensors of a probe loader's data set, as they are now."""
    return ctx.attr(ctx.attr(loader, "dataset"), "tensors")


def optimizer_steps(ctx, opt, n_params: int):
    """The ``step()`` calls torch.optim.Adam counted, per parameter (``state_dict()["state"][i]["step"]``; a
    parameter never stepped has no state: 0)."""
    state = ctx.method(opt, "state_dict").get("state", {})
    return [int(state[i]["step"]) if isinstance(state.get(i), dict) and "step" in state[i] else 0
            for i in range(n_params)]


def call_train(ctx, args, progress=None):
    kwargs = {} if progress is None else {"progress": progress}
    result, after = ctx.call_with_args("train_epoch", *args, **kwargs)
    return result, after


@suite.check("train_epoch", points=2,
             title="one pass over the loader, one optimizer step per batch, inputs unchanged, a float returned",
             cases=[{"n": 10, "batch": 4, "seed": 0}, {"n": 9, "batch": 3, "seed": 1, "progress": True}])
def one_pass(ctx, n, batch, seed, progress=None):
    # Counted by torch, not by us: passes over the loader by its generator, optimizer steps by Adam's own state,
    # training-mode forward passes by BatchNorm's num_batches_tracked (docs/SECURITY.md).
    args = train_objects(ctx, seed, n, batch, lr=0.05, adam=True)
    result, (model, loader, opt) = call_train(ctx, args, progress)
    n_batches = -(-n // batch)
    passes = loader_passes(ctx, loader, n, batch, seed)
    ctx.expect(passes == 1, f"the loader was iterated {passes_text(passes)}; expected one pass over its {n_batches} "
                            "batches", hint="one epoch is exactly one `for x, y in loader` loop.")
    steps = optimizer_steps(ctx, opt, sum(1 for _ in fx.ProbeNet(seed).parameters()))
    ctx.expect(all(s == n_batches for s in steps),
               f"optimizer.step() was called {max(steps)} times for {n_batches} batches"
               + ("" if len(set(steps)) == 1 else f" (per parameter: {steps})"),
               hint="call optimizer.step() once per batch, right after loss.backward().")
    tracked = int(ctx.student.method(model, "state_dict")["net.1.num_batches_tracked"])
    ctx.expect(tracked == n_batches, f"the model's BatchNorm saw {tracked} training batches (torch's own count); "
                                     f"expected one pass over the loader's {n_batches} batches",
               hint="one epoch is exactly one `for x, y in loader` loop, one forward pass per batch.")
    ctx.expect_unchanged(loader_data(ctx, loader), fx.ProbeBatches(n, batch, seed).tensors,
                         "the loader's tensors changed during train_epoch", hint="do not modify the batches in place.")
    ctx.expect(isinstance(result, float) and not isinstance(result, bool),
               f"train_epoch should return the mean loss as a Python float; got {type(result).__name__}",
               hint="return a float (e.g. float(tensor) or tensor.item()).")


@suite.check("train_epoch", points=3,
             title="parameters and BN statistics after one epoch match the course's loop (SGD, with and without momentum)",
             cases=[{"n": 10, "batch": 4, "seed": 2, "lr": 0.1}, {"n": 12, "batch": 5, "seed": 3, "lr": 0.05,
                                                                  "momentum": 0.9}],
             hint="per batch, in this order: zero the gradients, compute the mean cross-entropy of the batch, "
                  "backpropagate it, take one optimizer step.")
def parameters(ctx, n, batch, seed, lr, momentum=0.0):
    args = train_objects(ctx, seed, n, batch, lr, momentum, train=True)
    _, (model, _, _) = call_train(ctx, args)
    state = ctx.method(model, "state_dict")
    ctx.expect_reference(state, "parameters and buffers after the epoch", tier="steps")


@suite.check("train_epoch", points=1.5,
             title="a model handed over in eval mode is trained in train mode, with autograd on",
             cases=[{"n": 10, "batch": 4, "seed": 4}, {"n": 6, "batch": 6, "seed": 5}])
def train_mode(ctx, n, batch, seed):
    args = train_objects(ctx, seed, n, batch, lr=0.05, train=False)
    _, (model, _, _), saved = ctx.call_witnessed("train_epoch", *args)
    records = ctx.method(model, "mode_records")
    n_batches = -(-n // batch)
    ctx.expect(len(records) >= n_batches, f"the model ran {len(records)} forward passes for {n_batches} batches")
    ctx.expect(all(records),
               "the model was in eval mode during training (it was handed over in eval mode, e.g. after evaluate)",
               hint="call model.train() at the start of train_epoch: dropout and BN behave differently in training.")
    tracked = int(ctx.student.method(model, "state_dict")["net.1.num_batches_tracked"])
    ctx.expect(tracked >= n_batches, f"the model's BatchNorm counted {tracked} training-mode batches (torch's own "
                                     f"count) for {n_batches} batches: it was not in train mode",
               hint="call model.train() at the start of train_epoch: dropout and BN behave differently in training.")
    ctx.expect(saved is not None and saved >= n_batches,  # torch's own count of tensors saved for backward
               "the training forward passes ran without autograd (torch.no_grad): autograd saved "
               + ("?" if saved is None else str(saved)) + f" tensors for backward over {n_batches} batches",
               hint="the training forward pass needs autograd; use torch.no_grad() only in evaluate.")
    ctx.expect(ctx.describe(model).get("training") is True, "after train_epoch the model is not in training mode")


@suite.check("train_epoch", points=2,
             title="penalty(model) is added once per batch: calls, parameters and the returned loss",
             cases=[{"n": 10, "batch": 4, "seed": 6, "lam": 0.5}, {"n": 7, "batch": 7, "seed": 7, "lam": 2.0}],
             hint="loss = F.cross_entropy(model(x), y) + penalty(model), once per batch, when penalty is not None.")
def penalty(ctx, n, batch, seed, lam):
    args = train_objects(ctx, seed, n, batch, lr=0.1, train=True, lam=lam)
    result, after = call_train(ctx, args)
    model, pen = after[0], after[3]
    n_batches = -(-n // batch)
    calls = ctx.attr(pen, "calls")
    ctx.expect(calls == n_batches, f"penalty(model) was called {calls} times for {n_batches} batches",
               hint=("the penalty was applied twice per batch: add penalty(model) to the loss once."
                     if calls == 2 * n_batches else
                     "add penalty(model) to each batch's loss (once) when a penalty is given."))
    state = ctx.method(model, "state_dict")
    ctx.expect_reference(state, "parameters after an epoch with the penalty", tier="steps")
    ctx.expect_reference(result, "the returned mean loss (it includes the penalty)", tier="steps",
                         hint="the returned loss is the loss you backpropagate: cross-entropy + penalty.")


@suite.check("train_epoch", points=1.5,
             title="the returned loss is the mean per example (uneven last batch), checked with lr=0",
             cases=[{"n": 10, "batch": 4, "seed": 8}, {"n": 11, "batch": 3, "seed": 9}],
             hint="sum len(y) * loss over the batches and divide by the number of examples (the last batch is "
                  "smaller, so the mean of the batch means is not the mean per example).")
def mean_loss(ctx, n, batch, seed):
    args = train_objects(ctx, seed, n, batch, lr=0.0, train=True)
    result, (model, loader, _) = call_train(ctx, args)
    ctx.expect(loader_passes(ctx, loader, n, batch, seed) != 0 and len(ctx.method(model, "mode_records")) >= 1,
               "train_epoch returned a loss without running the model it was given on the loader it was given")
    ctx.expect(isinstance(result, (float, int)) and not isinstance(result, bool),
               f"train_epoch should return a float; got {type(result).__name__}")
    ctx.expect_reference(result, "the returned mean loss", tier="composite")


# ---------------------------------------------------------------------------------------------------
# 4. evaluate
# ---------------------------------------------------------------------------------------------------
def eval_objects(ctx, seed, n, batch, train):
    """Args for evaluate, built in the student's process: a probe model with dropout 0.5 and trained BN
    statistics (so train mode changes the numbers a lot), and a probe loader."""
    return [ctx.make(f"{FX}:probe_net", seed, dropout=0.5, trained_bn=True, train=train, key=f"e{seed}"),
            ctx.make(f"{FX}:probe_loader", n, batch, seed)]


def call_evaluate(ctx, args):
    result, after = ctx.call_with_args("evaluate", *args)
    ctx.expect(isinstance(result, (tuple, list)) and len(result) == 2,
               "evaluate should return a tuple (loss, accuracy)")
    return result, after


@suite.check("evaluate", points=2.5,
             title="mean loss per example and accuracy over the whole loader (uneven last batch)",
             cases=[{"n": 10, "batch": 4, "seed": 0}, {"n": 13, "batch": 5, "seed": 1}])
def values(ctx, n, batch, seed):
    args = eval_objects(ctx, seed, n, batch, train=False)
    (loss, acc), (student_model, student_loader) = call_evaluate(ctx, args)
    ctx.expect(loader_passes(ctx, student_loader, n, batch, seed) != 0
               and len(ctx.method(student_model, "mode_records")) >= 1,
               "evaluate returned numbers without running the model it was given on the loader it was given")
    for name, v in (("loss", loss), ("accuracy", acc)):
        ctx.expect(isinstance(v, (float, int)) and not isinstance(v, bool),
                   f"evaluate's {name} should be a Python float; got {type(v).__name__}")
    ctx.expect(0.0 <= acc <= 1.0, f"the accuracy {acc} is not a fraction in [0, 1]",
               hint="accuracy = number correct / number of examples.")
    ctx.expect_reference(loss, "the mean loss per example", tier="composite",
                         hint="sum the cross-entropy over all examples (reduction='sum') and divide by their number.")
    ctx.expect_reference(acc, "the accuracy", tier="op",
                         hint="accuracy = number of examples whose largest logit is the true class / number of "
                              "examples, over all batches.")


@suite.check("evaluate", points=2.5,
             title="eval mode during evaluation (dropout off, BN running statistics unchanged), the mode restored",
             cases=[{"n": 10, "batch": 4, "seed": 2, "train": True}, {"n": 8, "batch": 3, "seed": 3, "train": False}])
def eval_mode(ctx, n, batch, seed, train):
    args = eval_objects(ctx, seed, n, batch, train=train)
    (loss, acc), (student_model, _) = call_evaluate(ctx, args)
    records = ctx.method(student_model, "mode_records")
    ctx.expect(len(records) >= 1, "evaluate never ran the model")
    ctx.expect(not any(records), "the model was in training mode during evaluation",
               hint="call model.eval() before evaluating: in training mode dropout drops units and BN uses (and "
                    "updates) batch statistics, so the numbers are not the deployed model's.")
    before = fx.probe_net(seed, dropout=0.5, trained_bn=True, train=train, key="grader").state()
    ctx.expect_unchanged(ctx.method(student_model, "state_dict"), before,
                         "evaluate changed the model's parameters or BN running statistics",
                         hint="in eval mode BN uses its running statistics and does not update them; call model.eval().")
    ctx.expect(ctx.describe(student_model).get("training") is train,
               f"the model was in {'train' if train else 'eval'} mode before evaluate and in "
               f"{'eval' if train else 'train'} mode after it",
               hint="restore the caller's mode at the end: model.train(was_training).")
    ctx.expect_reference(loss, "the mean loss (eval mode)", tier="composite")


@suite.check("evaluate", points=1.5,
             title="no autograd graph: every forward pass under torch.no_grad(), no gradients left",
             cases=[{"n": 9, "batch": 4, "seed": 4}, {"n": 5, "batch": 5, "seed": 5}],
             hint="wrap the loop in `with torch.no_grad():`.")
def no_grad(ctx, n, batch, seed):
    args = eval_objects(ctx, seed, n, batch, train=False)
    result, (student_model, _), saved = ctx.call_witnessed("evaluate", *args)
    ctx.expect(isinstance(result, (tuple, list)) and len(result) == 2, "evaluate should return a tuple (loss, accuracy)")
    records = ctx.method(student_model, "mode_records")
    ctx.expect(len(records) >= 1, "evaluate never ran the model")
    # torch's own witness (ctx.call_witnessed), not the probe's grad_enabled records
    ctx.expect_no_graph(saved, "autograd was on during evaluation (a graph was built for nothing)")
    grads = param_grads(ctx, student_model)
    ctx.expect(all(g is None for g in grads.values()), "evaluate left gradients in the parameters",
               hint="evaluate must not call backward().")


@suite.check("evaluate", points=1, title="one pass over the loader; the loader's tensors unchanged",
             cases=[{"n": 10, "batch": 3, "seed": 6}, {"n": 4, "batch": 8, "seed": 7}],
             hint="one `for x, y in loader` loop; do not modify the batches.")
def eval_one_pass(ctx, n, batch, seed):
    args = eval_objects(ctx, seed, n, batch, train=False)
    _, (_, loader) = call_evaluate(ctx, args)
    passes = loader_passes(ctx, loader, n, batch, seed)
    n_batches = -(-n // batch)
    ctx.expect(passes == 1, f"the loader was iterated {passes_text(passes)}; expected one pass over its {n_batches} "
                            "batches")
    ctx.expect_unchanged(loader_data(ctx, loader), fx.ProbeBatches(n, batch, seed).tensors,
                         "the loader's tensors changed during evaluate",
                         hint="do not modify the batches in place.")


# ---------------------------------------------------------------------------------------------------
# 5. port_keras_bn_model
# ---------------------------------------------------------------------------------------------------
KERAS_WIDTHS = (64, 128, 128, 64)
KERAS_TRAINABLE = 34371
KERAS_MOVING = 768


def keras_layout(before: bool) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    d = 4
    for n in KERAS_WIDTHS:
        lin, bn, relu = ("Linear", {"in": d, "out": n, "bias": True}), ("BatchNorm1d", {"n": n}), ("ReLU", {})
        out += [lin, bn, relu] if before else [lin, relu, bn]
        d = n
    out.append(("Linear", {"in": d, "out": 3, "bias": True}))
    return out


def keras_placement_hint(before: bool, expected: list[str], got: list[str]) -> str:
    if got and got[-1] in ("Softmax", "LogSoftmax"):
        return NO_SOFTMAX
    pairs = list(zip(got, got[1:]))
    if before and ("ReLU", "BatchNorm1d") in pairs:
        return ("bn_before_activation=True asks for Linear -> BatchNorm1d -> ReLU: BN before the non-linearity, "
                "but BN sits after the ReLU.")
    if not before and ("BatchNorm1d", "ReLU") in pairs:
        return ("the Keras model (bn_before_activation=False) has Dense(n, activation='relu') then "
                "BatchNormalization: Linear -> ReLU -> BatchNorm1d, BN after the activation.")
    return "Dense(n, activation='relu') is nn.Linear(d, n) followed by nn.ReLU(); widths 4 -> 64 -> 128 -> 128 -> 64 -> 3."


def port_maps_to_logits(ctx, before, n, seed) -> None:
    """The ported model (its structure judged by :func:`run_port`) maps (N, 4) inputs to (N, 3) logits."""
    ref, _, _, g, what = run_port(ctx, before, n, seed)
    out = ctx.method(ref, "__call__", torch.randn(n, 4, generator=g))
    ctx.expect(isinstance(out, torch.Tensor) and tuple(out.shape) == (n, 3), f"{what} should map (N, 4) to (N, 3) logits")


def run_port(ctx, before, n, seed):
    kwargs = {} if before is None else {"bn_before_activation": before}
    ref = ctx.call("port_keras_bn_model", **kwargs)
    info = ctx.describe(ref)
    layout = keras_layout(bool(before))
    exp_types = [t for t, _ in layout]
    got_types = [t for _, t, _ in leaves(info)]
    what = f"port_keras_bn_model({'' if before is None else f'bn_before_activation={before}'})"
    ctx.expect(got_types == exp_types, f"{what}: modules in order are [{seq_text(got_types)}]; expected "
               f"[{seq_text(exp_types)}]", hint=keras_placement_hint(bool(before), exp_types, got_types))
    mods = check_layout(ctx, info, layout, what)
    expect_default_init(ctx, mods, ctx.method(ref, "state_dict"), what, keras=True)
    return ref, info, mods, ctx.gen(seed), what


@suite.check("port_keras_bn_model", points=2,
             title="Keras order (default): Linear -> ReLU -> BN per layer, widths 4-64-128-128-64-3, logits out",
             cases=[{"before": None, "n": 6, "seed": 0}, {"before": False, "n": 9, "seed": 1}])
def keras_order(ctx, before, n, seed):
    port_maps_to_logits(ctx, before, n, seed)


@suite.check("port_keras_bn_model", points=1.5,
             title="bn_before_activation=True: Linear -> BN -> ReLU per layer, the same parameters",
             cases=[{"before": True, "n": 7, "seed": 2}])
def bn_before(ctx, before, n, seed):
    port_maps_to_logits(ctx, before, n, seed)


@suite.check("port_keras_bn_model", points=1.5,
             title="BN ports Keras's defaults: eps=1e-3 and momentum 0.99 in Keras = momentum=0.01 in PyTorch",
             cases=[{"before": False}, {"before": True}])
def keras_bn_conventions(ctx, before):
    ref = ctx.call("port_keras_bn_model", bn_before_activation=before)
    mods = leaves(ctx.describe(ref))
    expect_default_init(ctx, mods, ctx.method(ref, "state_dict"), "port_keras_bn_model", keras=True)
    bns = [options(extra) for _, typ, extra in mods if typ == "BatchNorm1d"]
    ctx.expect(len(bns) == 4, f"the model has {len(bns)} BatchNorm1d layers; expected 4")
    for kv in bns:
        momentum = float(kv.get("momentum", "nan")) if kv.get("momentum") not in (None, "None") else float("nan")
        eps = float(kv.get("eps", "nan"))
        if compare.close(0.99, momentum, "op"):
            hint = ("momentum=0.99 is Keras's number in Keras's convention (moving = 0.99 * moving + 0.01 * batch); "
                    "PyTorch's momentum weighs the new value, so the same update is momentum=0.01.")
        elif compare.close(0.1, momentum, "op") and compare.close(1e-5, eps, "op"):
            hint = ("these are PyTorch's BN defaults; port Keras's: nn.BatchNorm1d(n, eps=1e-3, momentum=0.01).")
        else:
            hint = "nn.BatchNorm1d(n, eps=1e-3, momentum=0.01) ports Keras's BatchNormalization() defaults."
        ctx.expect(compare.close(0.01, momentum, "op") and compare.close(1e-3, eps, "op"),
                   f"a BatchNorm1d has eps={kv.get('eps')}, momentum={kv.get('momentum')}; expected eps=0.001, "
                   f"momentum=0.01", hint=hint)


@suite.check("port_keras_bn_model", points=1.5,
             title="34,371 trainable parameters and 768 BN moving statistics (Keras's summary); forward and BN update",
             cases=[{"before": False, "n": 8, "seed": 3}, {"before": True, "n": 5, "seed": 4}])
def keras_counts_forward(ctx, before, n, seed):
    ref = ctx.call("port_keras_bn_model", bn_before_activation=before)
    info = ctx.describe(ref)
    count = n_parameters(info)
    ctx.expect(count == KERAS_TRAINABLE,
               f"the port has {count} trainable parameters; Keras's summary says 34,371 (35,139 total)",
               hint="every Dense has a bias (Linear with bias=True); each BN has weight and bias (gamma, beta).")
    moving = sum(math.prod(b[1]) for b in info.get("buffers", [])
                 if b[0].endswith("running_mean") or b[0].endswith("running_var"))
    ctx.expect(moving == KERAS_MOVING, f"the BN layers hold {moving} running statistics; expected 768 "
               "(moving mean and variance of 64 + 128 + 128 + 64 features)")
    mods = leaves(info)
    g = ctx.gen(seed)
    x = torch.randn(n, 4, generator=g) * 2 + 0.5
    state0 = ctx.method(ref, "state_dict")
    expect_default_init(ctx, mods, state0, "port_keras_bn_model", keras=True)
    out = ctx.method(ref, "__call__", x)
    expected, state_after = replay(mods, state0, x, training=True)
    ctx.expect_equal(out, expected, "train-mode output, recomputed from the model's own parameters", tier="composite",
                     hint="apply the modules in the order they are listed in the nn.Sequential.")
    state1 = ctx.method(ref, "state_dict")
    for k, v in state_after.items():
        if k.endswith("running_mean") or k.endswith("running_var"):
            ctx.expect_equal(state1[k], v, f"{k} after one train-mode batch", tier="composite")
