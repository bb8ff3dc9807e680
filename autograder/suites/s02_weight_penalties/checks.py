"""Visible checks of assignment 02 (shipped to students; the self-check runs these).

Models are built in the student's process from ``autograder.fixtures.penalties`` (seeded; every
parameter is random, so biases and norm parameters are non-zero and each parameter tensor is unique),
and the grader builds the same model itself when it needs a reference computed with torch's own
optimizers.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from autograder.checks import Suite
from autograder.compare import close
from autograder.fixtures import penalties as P
from autograder.student import StudentCallError

suite = Suite(__name__, preload=("torch._dynamo",))  # the references use torch.optim (imports torch._dynamo)
FIX = "autograder.fixtures.penalties"

PENALTY_HINT = ("sum over the weights of Linear and Conv layers only (not biases, not BatchNorm/LayerNorm/GroupNorm "
                "parameters): L1 = lam * sum(|w|), L2 = (lam / 2) * sum(w**2).")


def model_arg(ctx, kind, seed):
    return ctx.make(f"{FIX}:build", kind, seed)


def scalar(ctx, out, fn):
    ctx.expect(isinstance(out, torch.Tensor) and out.numel() == 1,
               f"{fn} should return a scalar (0-dim) tensor; got "
               + (f"a tensor of shape {list(out.shape)}" if isinstance(out, torch.Tensor) else type(out).__name__),
               hint="accumulate with torch operations (e.g. w.abs().sum()) so the result is a differentiable tensor.")
    return float(out.reshape(()).double())


# -- l1_penalty / l2_penalty: values --------------------------------------------------------------

def _penalty_value(ctx, fn, kind, seed, lam):
    out, args = ctx.call_with_args(fn, model_arg(ctx, kind, seed), lam)
    value = scalar(ctx, out, fn)
    ctx.expect_reference(value, f"{fn}(model, lam={lam})", tier="op", hint=PENALTY_HINT)
    after = ctx.method(args[0], "state_dict")
    ctx.expect_unchanged(dict(after), dict(P.build(kind, seed).state_dict()), f"{fn} changed the model's parameters",
                         hint="compute the penalty from the weights without modifying them (w.abs(), not w.abs_()).")


@suite.check("l1_penalty", points=1, title="lam * sum |w| over Linear/Conv weights (no biases, no norm parameters)",
             cases=[{"kind": "mlp", "seed": 0, "lam": 0.01}])
def value(ctx, kind, seed, lam):
    _penalty_value(ctx, "l1_penalty", kind, seed, lam)


@suite.check("l2_penalty", points=1, title="(lam/2) * sum w**2 over Linear/Conv weights (no biases, no norm parameters)",
             cases=[{"kind": "mlp", "seed": 0, "lam": 0.01}], name="l2_penalty.value")
def l2_value(ctx, kind, seed, lam):
    _penalty_value(ctx, "l2_penalty", kind, seed, lam)


# -- gradients, through training ----------------------------------------------------------------

def reference_sgd(kind, seed, x, y, lr, lam, steps, penalty):
    """What SGD on the penalized loss must give, computed in the grader with torch's own SGD.

    ``penalty="l2"``: plain loss + ``torch.optim.SGD`` with ``weight_decay=lam`` on the penalized
    tensors only (the equivalence the notebook derives). ``penalty="l1"``: the L1 term's gradient
    ``lam * sign(w)`` added to the penalized tensors' gradients.
    """
    model = P.build(kind, seed)
    names = set(P.penalized_names(model))
    decay = [p for n, p in model.named_parameters() if n in names]
    rest = [p for n, p in model.named_parameters() if n not in names]
    wd = lam if penalty == "l2" else 0.0
    opt = torch.optim.SGD([{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        if penalty == "l1":
            for p in decay:
                p.grad += lam * torch.sign(p.detach())
        opt.step()
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def _train_with_penalty(ctx, penalty, kind, seed, lam, lr=0.1, steps=4, n=16):
    x, y = P.inputs(kind, n, seed + 100)
    got = ctx.call("sgd_on_penalized_loss", model_arg(ctx, kind, seed), x, y, lr, lam, steps, penalty=penalty)
    ctx.expect(isinstance(got, dict), "sgd_on_penalized_loss should return a dict {name: parameter tensor}")
    return got, reference_sgd(kind, seed, x, y, lr, lam, steps, penalty)


@suite.check("l1_penalty", points=1, title="gradient: SGD on loss + l1_penalty adds lam*sign(w) to the weights' gradients",
             cases=[{"kind": "mlp", "seed": 1, "lam": 0.05}], name="l1_penalty.gradient")
def l1_gradient(ctx, kind, seed, lam):
    got, expected = _train_with_penalty(ctx, "l1", kind, seed, lam)
    ctx.expect_equal(got, expected, "parameters after 4 SGD steps on cross_entropy + l1_penalty", tier="steps",
                     hint="the penalty must stay a differentiable function of the weights (no .item(), no "
                          "torch.tensor(...) around it, no .detach()), with gradient lam * sign(w) on weights only.")


@suite.check("l2_penalty", points=2,
             title="SGD on loss + l2_penalty(model, lam) == SGD(weight_decay=lam) on the penalized tensors",
             cases=[{"kind": "mlp", "seed": 1, "lam": 0.05}], name="l2_penalty.sgd_equivalence")
def l2_equivalence(ctx, kind, seed, lam):
    got, expected = _train_with_penalty(ctx, "l2", kind, seed, lam)
    ctx.expect_equal(got, expected, "parameters after 4 SGD steps on cross_entropy + l2_penalty, compared with "
                     "torch.optim.SGD(weight_decay=lam) on the Linear/Conv weights", tier="steps",
                     hint="the gradient of (lam/2)*sum(w**2) is lam*w, exactly SGD's weight decay term; without "
                          "the 1/2 the gradient is twice the decay, and penalized biases or norm parameters "
                          "are decayed although weight decay would leave them alone; and the penalty must stay "
                          "a differentiable function of the weights (no .item(), no torch.tensor(...)).")


# -- sgd_step_weight_decay -------------------------------------------------------------------------

SHAPES = [[3, 4], [4], [2, 3, 3]]
STEP_HINT = ("each step is p -= lr * (p.grad + weight_decay * p), applied once per parameter: decay pulls p towards 0 "
             "(a + inside the bracket) and is not also applied separately; a parameter whose p.grad is None is "
             "skipped entirely (no decay either), as torch.optim.SGD does.")


def student_step(ctx, params, lr, wd, with_args=False):
    return call_update(ctx, "sgd_step_weight_decay", params, lr, wd, with_args=with_args, what="the update")


def call_update(ctx, function: str, params, lr, coef, with_args: bool, what: str):
    """``function(params, lr, coef)`` (an in-place parameter update), with the arguments after the call if
    ``with_args``; autograd's "a leaf Variable that requires grad is used in an in-place operation" error becomes
    the feedback that names the missing ``torch.no_grad()``."""
    try:
        if with_args:
            return ctx.call_with_args(function, params, lr, coef)
        return ctx.call(function, params, lr, coef)
    except StudentCallError as exc:
        if exc.kind == "exception" and "leaf Variable" in exc.message:
            ctx.fail(f"{function} modified a parameter in place while autograd was recording "
                     f"(RuntimeError: {exc.message.splitlines()[0]})",
                     hint=f"{what} is not part of the graph: wrap it in `with torch.no_grad():`.")
        raise


@suite.check("sgd_step_weight_decay", points=2,
             title="several steps match torch.optim.SGD(lr, weight_decay=wd) (parameters without a gradient untouched)",
             cases=[{"seed": 0, "lr": 0.1, "wd": 0.05, "steps": 5, "frozen": [1]}])
def matches_torch(ctx, seed, lr, wd, steps, shapes=None, frozen=()):
    shapes = shapes or SHAPES
    _, args = student_step(ctx, ctx.make(f"{FIX}:grad_params", seed, shapes, frozen), lr, wd, with_args=True)
    ref = args[0]
    for _ in range(steps - 1):
        ctx.method(ref, "refresh_grads")
        student_step(ctx, ref, lr, wd)
    got = tensors_state(ctx, ref)["values"]
    ctx.expect_reference(got, f"parameters after {steps} steps", tier="steps", hint=STEP_HINT)
    expected = P.grad_params(seed, shapes, frozen)
    opt = torch.optim.SGD(expected, lr=lr, weight_decay=wd)
    for k in range(steps):
        if k:
            expected.refresh_grads()
        opt.step()
    ctx.expect_equal(got, [p.detach() for p in expected],
                     f"parameters after {steps} steps, compared with torch.optim.SGD(lr={lr}, weight_decay={wd})",
                     tier="steps", hint=STEP_HINT)


@suite.check("sgd_step_weight_decay", points=1,
             title="updates each parameter in place, outside autograd (still a leaf, no grad_fn)",
             cases=[{"seed": 1, "lr": 0.1, "wd": 0.1}])
def in_place(ctx, seed, lr, wd, shapes=None):
    shapes = shapes or SHAPES
    before = P.grad_params(seed, shapes)
    _, args = student_step(ctx, ctx.make(f"{FIX}:grad_params", seed, shapes), lr, wd, with_args=True)
    state = tensors_state(ctx, args[0])
    unchanged = [i for i, (a, b) in enumerate(zip(state["values"], before)) if torch.equal(a, b.detach())]
    ctx.expect(not unchanged, f"parameters {unchanged} are unchanged after the step: the update did not reach "
               "the tensors in `params`",
               hint="update in place (p -= ..., p.add_(...), p.copy_(...)); `p = p - ...` only rebinds a local name.")
    ctx.expect(all(state["is_leaf"]) and all(state["requires_grad"]) and not any(state["has_grad_fn"]),
               "after the step some parameters are no longer leaf tensors requiring grad (the update was "
               "recorded by autograd)", hint="do the update under `with torch.no_grad():`.")


@suite.check("sgd_step_weight_decay", points=1, title="leaves p.grad unchanged",
             cases=[{"seed": 2, "lr": 0.1, "wd": 0.1}])
def grad_untouched(ctx, seed, lr, wd, shapes=None):
    shapes = shapes or SHAPES
    before = P.grad_params(seed, shapes)
    _, args = student_step(ctx, ctx.make(f"{FIX}:grad_params", seed, shapes), lr, wd, with_args=True)
    state = tensors_state(ctx, args[0])
    moved = [i for i, (a, b) in enumerate(zip(state["values"], before)) if not torch.equal(a, b.detach())]
    ctx.expect(moved, "no parameter changed, so whether the step keeps p.grad cannot be judged (the in_place "
                      "check says why the update did not reach the parameters)",
               hint="update each parameter in place: p -= lr * (p.grad + weight_decay * p).")
    grads = state["grads"]
    changed = [i for i, (g, p) in enumerate(zip(grads, before)) if g is None or not torch.equal(g, p.grad)]
    ctx.expect(not changed, f"p.grad of parameters {changed} changed during the step",
               hint="do not add the decay into p.grad in place (p.grad.add_(...)); compute "
                    "p.grad + weight_decay * p as a new tensor, or use p.add_(p, alpha=...) separately.")


# -- make_param_groups -----------------------------------------------------------------------------

def _groups(ctx, kind, seed, wd):
    out = ctx.call("make_param_groups", model_arg(ctx, kind, seed), wd)
    ctx.expect(isinstance(out, (list, tuple)) and len(out) == 2 and all(isinstance(g, dict) for g in out),
               f"make_param_groups should return a list of two dicts; got {type(out).__name__}"
               + (f" of {len(out)}" if isinstance(out, (list, tuple)) else ""))
    for i, g in enumerate(out):
        ctx.expect("params" in g and "weight_decay" in g, f"group {i} should have the keys 'params' and 'weight_decay'")
        ctx.expect(isinstance(g["params"], (list, tuple)) and all(isinstance(p, torch.Tensor) for p in g["params"]),
                   f"group {i}['params'] should be a list of parameter tensors",
                   hint="build lists, e.g. decay = [...]; a generator such as model.parameters() is used up once.")
    return out


def tensors_state(ctx, ref) -> dict:
    """Values, gradients and autograd flags of the tensors in the student-side list ``ref`` (a ``grad_params``
    fixture), read through ordinary calls, not through the fixture's own ``state()``."""
    st = ctx.student
    items = [st.method_kept(ref, "__getitem__", i) for i in range(int(st.method(ref, "__len__")))]
    return {"values": [st.method(t, "detach") for t in items],
            "grads": [st.attr(t, "grad") for t in items],
            "is_leaf": [bool(st.attr(t, "is_leaf")) for t in items],
            "requires_grad": [bool(st.attr(t, "requires_grad")) for t in items],
            "has_grad_fn": [st.attr(t, "grad_fn") is not None for t in items]}


def _names(model, tensors):
    """Map returned tensors to parameter names by value (every fixture parameter is unique)."""
    named = list(model.named_parameters())
    out = []
    for t in tensors:
        hits = [n for n, p in named if p.shape == t.shape and torch.equal(p.detach(), t)]
        out.append(hits[0] if hits else None)
    return out


@suite.check("make_param_groups", points=1, title="two groups: [{params, weight_decay=wd}, {params, weight_decay=0.0}]",
             cases=[{"kind": "mlp", "seed": 0, "wd": 0.01}])
def form(ctx, kind, seed, wd):
    out = _groups(ctx, kind, seed, wd)
    ctx.expect_equal([float(g["weight_decay"]) for g in out], [wd, 0.0], "weight_decay of the two groups",
                     tier="exact", hint="the first group decays (weight_decay=weight_decay), the second does not "
                                        "(weight_decay=0.0).")


@suite.check("make_param_groups", points=1, title="every parameter of the model is in exactly one group",
             cases=[{"kind": "mlp", "seed": 0, "wd": 0.01}])
def partition(ctx, kind, seed, wd):
    _, args = ctx.call_with_args("make_param_groups", model_arg(ctx, kind, seed), wd)
    kept = ctx.call_kept("make_param_groups", args[0], wd)  # the groups stay with the student's model ...
    out = _groups(ctx, kind, seed, wd)
    model = P.build(kind, seed)
    # ... and ordinary calls read which of the model's own tensors (by identity) they hold (decided here).
    names = [group or [] for group in ctx.group_names(kept, args[0])]
    every = names[0] + names[1]
    copies = [n for n in _names(model, [t for g in out for t in g["params"]]) if n]
    ctx.expect(None not in every,
               "a group holds a tensor that is not one of the model's parameters"
               + (" (a copy with the same values: .data, .detach() or .clone() - the optimizer would update the "
                  "copy and the model would never change)" if len(copies) == len(every) else ""),
               hint="put the model's own parameter tensors in the groups (no copies, no .data, no new tensors).")
    both = sorted(set(names[0]) & set(names[1]))
    dupes = sorted({n for n in every if every.count(n) > 1})
    missing = [n for n, _ in model.named_parameters() if n not in every]
    ctx.expect(not both and not dupes, f"parameters in both groups (or twice): {both or dupes}",
               hint="each parameter belongs to exactly one group: decide per parameter, decay OR no decay.")
    ctx.expect(not missing, f"parameters in no group: {missing}",
               hint="every parameter must be in a group, or the optimizer never updates it: loop over "
                    "model.named_parameters() (or model.parameters()) once and put each one somewhere.")


@suite.check("make_param_groups", points=1,
             title="Linear/Conv weights decay; biases and norm parameters do not",
             cases=[{"kind": "mlp", "seed": 0, "wd": 0.01}])
def assignment(ctx, kind, seed, wd):
    out = _groups(ctx, kind, seed, wd)
    model = P.build(kind, seed)
    decay = sorted(n for n in _names(model, out[0]["params"]) if n)
    expected = sorted(P.penalized_names(model))
    wrong_in = sorted(set(decay) - set(expected))
    wrong_out = sorted(set(expected) - set(decay))
    ctx.expect(not wrong_in, f"these should not decay but are in the decay group: {wrong_in}",
               hint="biases and the weight/bias of normalization layers (BatchNorm, LayerNorm, GroupNorm) go in "
                    "the no-decay group; only weight matrices and conv kernels decay.")
    ctx.expect(not wrong_out, f"these weights should decay but are not in the decay group: {wrong_out}",
               hint="the weights of every Linear and Conv layer go in the decay group.")


# -- ridge_fit -------------------------------------------------------------------------------------

def ridge_data(n, d, seed):
    g = torch.Generator().manual_seed(int(seed))
    x = torch.randn(n, d, generator=g, dtype=torch.float64) * 2 + 1.5
    w = torch.randn(d, generator=g, dtype=torch.float64)
    y = x @ w + 4.0 + 0.3 * torch.randn(n, generator=g, dtype=torch.float64)
    return x, y


def _ridge(ctx, n, d, lam, seed):
    x, y = ridge_data(n, d, seed)
    out = ctx.call("ridge_fit", x, y, lam)
    ctx.expect(isinstance(out, (tuple, list)) and len(out) == 2, "ridge_fit should return a tuple (w, b)",
               hint="return a tuple (w, b).")
    w, b = out
    ctx.expect(isinstance(w, torch.Tensor) and w.shape == (d,), f"w should be a tensor of shape ({d},)",
               hint="w has shape (D,) for every D, also D = 1 (do not squeeze it to a 0-dim tensor).")
    ctx.expect(isinstance(b, torch.Tensor) and b.numel() == 1, "b should be a scalar tensor",
               hint="b is a 0-dim tensor (e.g. y.mean() - x_mean @ w).")
    return x, y, w, b.reshape(())


@suite.check("ridge_fit", points=2, title="matches the closed-form ridge solution (intercept not penalized)",
             cases=[{"n": 12, "d": 3, "lam": 0.5, "seed": 0}])
def reference(ctx, n, d, lam, seed):
    _, _, w, b = _ridge(ctx, n, d, lam, seed)
    ctx.expect_reference(w, "w", tier="composite",
                         hint="minimize sum((X @ w + b - y)**2) + lam * sum(w**2): center X and y, solve "
                              "(Xc.T @ Xc + lam * I) w = Xc.T @ yc, then b = mean(y) - mean(X) @ w.")
    # reshape(1): the wire turns 0-dim tensors into shape [1] (np.ascontiguousarray), so compare as [1].
    ctx.expect_reference(b.double().reshape(1), "b", tier="composite")


@suite.check("ridge_fit", points=1, title="the intercept is not penalized: b = mean(y) - mean(X) @ w",
             cases=[{"n": 15, "d": 2, "lam": 1000.0, "seed": 1}])
def intercept(ctx, n, d, lam, seed):
    x, y, w, b = _ridge(ctx, n, d, lam, seed)
    expected = y.mean() - x.mean(0) @ w.double()
    ctx.expect_equal(b.double(), expected, "b compared with mean(y) - mean(X) @ w", tier="composite",
                     hint="the intercept was penalized (shrunk towards 0): leave b out of the penalty, e.g. by "
                          "centering X and y, or by a zero in the penalty matrix's entry for the ones column.")


@suite.check("ridge_fit", points=1, title="lam = 0 gives ordinary least squares with an intercept",
             cases=[{"n": 20, "d": 4, "lam": 0.0, "seed": 2}])
def ols_at_zero(ctx, n, d, lam, seed):
    x, y, w, b = _ridge(ctx, n, d, lam, seed)
    a = torch.cat([x, torch.ones(n, 1, dtype=x.dtype)], dim=1)
    sol = torch.linalg.lstsq(a, y.unsqueeze(1)).solution.squeeze(1)
    ctx.expect_equal(torch.cat([w.double(), b.double().reshape(1)]), sol, "(w, b) with lam=0 compared with "
                     "torch.linalg.lstsq", tier="composite",
                     hint="with lam=0 ridge is ordinary least squares: check the sum of squared residuals.")


def closed_form_ridge(x, y, lam):
    """The grader's own ridge solution (float64), from the augmented least-squares system."""
    n, d = x.shape
    a = torch.cat([x, torch.ones(n, 1, dtype=x.dtype)], dim=1)
    penalty = torch.diag(torch.cat([torch.full((d,), float(lam), dtype=x.dtype), torch.zeros(1, dtype=x.dtype)]))
    sol = torch.linalg.solve(a.T @ a + penalty, a.T @ y)
    return sol[:d], sol[d]


@suite.check("ridge_fit", points=1, title="X and y are not modified (centering makes new tensors), result right",
             cases=[{"n": 10, "d": 3, "lam": 0.7, "seed": 3}])
def ridge_inputs_unchanged(ctx, n, d, lam, seed):
    x, y = ridge_data(n, d, seed)
    out = ctx.call_unchanged("ridge_fit", x, y, lam,
                             hint="center into new tensors (xc = X - X.mean(0)); X -= ... or X.sub_(...) changes "
                                  "the caller's data.")
    w_ref, b_ref = closed_form_ridge(x, y, lam)
    ok = (isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(t, torch.Tensor) for t in out)
          and out[0].numel() == d and out[1].numel() == 1
          and close(torch.cat([out[0].double().reshape(-1), out[1].double().reshape(1)]),
                    torch.cat([w_ref, b_ref.reshape(1)]), "composite"))
    ctx.expect(ok, "the inputs were kept, but (w, b) is not the ridge solution, so this check cannot give its point "
                   "(the reference check says what differs)")


# -- decay_pull (Adam vs AdamW) --------------------------------------------------------------------

@suite.check("decay_pull", points=2, title="w without decay - w with decay, for torch.optim.Adam and AdamW",
             cases=[{"optimizer": "adam", "grad_scale": 10.0, "lr": 0.01, "weight_decay": 0.1, "steps": 100},
                    {"optimizer": "adamw", "grad_scale": 10.0, "lr": 0.01, "weight_decay": 0.1, "steps": 100}])
def matches(ctx, optimizer, grad_scale, lr, weight_decay, steps):
    out = ctx.call("decay_pull", optimizer, grad_scale, lr, weight_decay, steps)
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        out = out.item()
    ctx.expect(isinstance(out, (int, float)), f"decay_pull should return a float; got {type(out).__name__}")
    ctx.expect_reference(float(out), f"decay_pull({optimizer!r}, grad_scale={grad_scale})", tier="steps",
                         hint="run torch.optim.Adam / torch.optim.AdamW (default betas and eps) twice from w = 1.0, "
                              "once with weight_decay=0.0 and once with weight_decay, with the loss "
                              "grad_scale * (-1)**t * w at step t; return w_without - w_with.")


@suite.check("decay_pull", points=1, title="AdamW's pull does not depend on the gradient scale; Adam's does",
             cases=[{"lr": 0.01, "weight_decay": 0.1, "steps": 100}])
def contrast(ctx, lr, weight_decay, steps):
    pulls = {}
    for opt in ("adam", "adamw"):
        for scale in (0.1, 100.0):
            out = ctx.call("decay_pull", opt, scale, lr, weight_decay, steps)
            pulls[opt, scale] = float(out.item() if isinstance(out, torch.Tensor) else out)
    w_small, w_big = pulls["adamw", 0.1], pulls["adamw", 100.0]
    ctx.expect(w_small > 0 and abs(w_big - w_small) <= 0.1 * w_small,
               f"with AdamW the pull should be about the same at grad_scale 0.1 and 100; got {w_small:.4g} and "
               f"{w_big:.4g}", hint="AdamW decays w directly (w -= lr * weight_decay * w), outside the adaptive scaling.")
    a_small, a_big = pulls["adam", 0.1], pulls["adam", 100.0]
    ctx.expect(a_small > 0 and a_big < 0.1 * a_small,
               f"with Adam(weight_decay) the pull should shrink when gradients are large; got {a_small:.4g} at "
               f"grad_scale 0.1 and {a_big:.4g} at 100",
               hint="Adam adds weight_decay * w to the gradient, which is then divided by sqrt(v): use "
                    "torch.optim.Adam for 'adam' and torch.optim.AdamW for 'adamw'.")


# -- prox_l1_step (issue 13) -----------------------------------------------------------------------
PROX_HINT = ("soft-thresholding with threshold t = lr * lam: p = sign(p) * max(|p| - t, 0), applied to every entry "
             "of every tensor in params (entries with |p| <= t become exactly 0, the others move t towards 0).")


def soft_threshold(t: torch.Tensor, thr: float) -> torch.Tensor:
    return torch.sign(t) * torch.clamp(t.abs() - thr, min=0)


def prox_tensors(gen: torch.Generator, shapes, dtype: str) -> list[torch.Tensor]:
    """Plain tensors with entries on both sides of 0, some tiny (below any threshold), some large."""
    out = []
    for s in shapes:
        t = torch.randn(tuple(s), generator=gen) * 0.6
        t.view(-1)[::4] *= 0.05        # a quarter of the entries close to 0
        out.append(t.to(getattr(torch, dtype)))
    return out


def student_prox(ctx, params, lr, lam):
    return call_update(ctx, "prox_l1_step", params, lr, lam, with_args=True, what="the proximal step")


@suite.check("prox_l1_step", points=3, title="soft-thresholds every entry by lr * lam, in place (float32 and float64)",
             cases=[{"seed": 0, "lr": 0.1, "lam": 2.0, "shapes": [[4, 5], [6]], "dtype": "float32"},
                    {"seed": 1, "lr": 0.5, "lam": 0.3, "shapes": [[3, 2, 2], [5, 1]], "dtype": "float64"}])
def prox_values(ctx, seed, lr, lam, shapes, dtype):
    params = prox_tensors(ctx.gen(seed), shapes, dtype)
    _, args = student_prox(ctx, params, lr, lam)
    after = list(args[0])
    ctx.expect(len(after) == len(params) and all(a.shape == p.shape and a.dtype == p.dtype
                                                  for a, p in zip(after, params)),
               "prox_l1_step changed the number, shapes or dtypes of the tensors in params")
    ctx.expect(any(not torch.equal(a, p) for a, p in zip(after, params)),
               "no tensor in params changed: the step must update them in place",
               hint="write into each tensor (p.copy_(...), p.mul_(...), p[...] = ...); `p = ...` only rebinds a name.")
    ctx.expect_reference(after, "the tensors after the step", tier="op", hint=PROX_HINT)
    ctx.expect_equal(after, [soft_threshold(p, lr * lam) for p in params],
                     f"the tensors after the step, compared with soft-thresholding at lr * lam = {lr * lam:g}",
                     tier="op", hint=PROX_HINT)


@suite.check("prox_l1_step", points=1,
             title="entries with |p| <= lr * lam become exactly 0; the others keep their sign and stay non-zero",
             cases=[{"seed": 2, "lr": 0.2, "lam": 1.5, "shapes": [[8, 6]], "dtype": "float32"}])
def prox_exact_zeros(ctx, seed, lr, lam, shapes, dtype):
    params = prox_tensors(ctx.gen(seed), shapes, dtype)
    _, args = student_prox(ctx, params, lr, lam)
    thr = lr * lam
    for a, p in zip(args[0], params):
        small = p.abs() <= thr
        ctx.expect(bool((a[small] == 0).all()),
                   f"{int((a[small] != 0).sum())} of the {int(small.sum())} entries with |p| <= lr * lam are not "
                   f"exactly 0 after the step",
                   hint="clamp |p| - lr * lam at 0 (torch.clamp(..., min=0)): a subgradient step p -= t * sign(p) "
                        "jumps over 0 instead of stopping on it.")
        big = ~small
        ctx.expect(bool((torch.sign(a[big]) == torch.sign(p[big])).all()),
                   f"{int((torch.sign(a[big]) != torch.sign(p[big])).sum())} of the {int(big.sum())} entries with "
                   f"|p| > lr * lam lost their sign or became 0",
                   hint="keep the sign: sign(p) * max(|p| - t, 0), for negative entries too.")


@suite.check("prox_l1_step", points=1,
             title="on parameters: in place under no_grad (still leaves requiring grad), p.grad untouched",
             cases=[{"seed": 3, "lr": 0.3, "lam": 0.5}])
def prox_on_parameters(ctx, seed, lr, lam, shapes=None):
    shapes = shapes or SHAPES
    before = P.grad_params(seed, shapes)
    _, args = student_prox(ctx, ctx.make(f"{FIX}:grad_params", seed, shapes), lr, lam)
    state = tensors_state(ctx, args[0])
    thr = lr * lam
    kept_sign = all(bool((torch.sign(a[b.detach().abs() > thr]) == torch.sign(b.detach()[b.detach().abs() > thr])).all())
                    for a, b in zip(state["values"], before))
    moved = any(not torch.equal(a, b.detach()) for a, b in zip(state["values"], before))
    ctx.expect(moved and kept_sign,
               "the parameters were not soft-thresholded in place (unchanged, or entries above the threshold lost "
               "their sign), so this check cannot judge the rest (prox_values says what differs)",
               hint="update each parameter in place: shrink |p| towards 0 by lr * lam, stop at exactly 0 (never cross "
                    "it), and keep the sign.")
    ctx.expect(all(state["is_leaf"]) and all(state["requires_grad"]) and not any(state["has_grad_fn"]),
               "after the step some parameters are no longer leaf tensors requiring grad (the update was recorded "
               "by autograd)", hint="do the update under `with torch.no_grad():`.")
    changed = [i for i, (g, p) in enumerate(zip(state["grads"], before)) if g is None or not torch.equal(g, p.grad)]
    ctx.expect(not changed, f"p.grad of parameters {changed} changed during the proximal step",
               hint="the proximal step only changes p; leave p.grad as it is.")
