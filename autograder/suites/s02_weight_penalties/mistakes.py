"""Realistic wrong implementations for assignment 02, each with the hint that names it.

Instructor-only. ``feedback=`` is the text the student sees when a property check (rather than a
comparison with recorded values) is what catches the mistake; the tests assert it.
"""

import torch
import torch.nn as nn

from autograder.suites.s02_weight_penalties.checks import suite

CHECK_HINT_GRAD = "p.grad of parameters"
_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def _weights(model):
    return [m.weight for m in model.modules() if isinstance(m, _LAYERS)]


# -- penalties ---------------------------------------------------------------------------------------

@suite.mistake("l1_penalty", name="biases_penalized",
               hint="biases (and/or norm parameters) were penalized: L1 goes over Linear/Conv weights only.",
               targets=("l1_penalty.value", "l1_penalty.gradient"))
def l1_penalty(model, lam):
    return lam * sum(p.abs().sum() for p in model.parameters())


@suite.mistake("l1_penalty", name="squares_in_l1",
               hint="the L1 penalty squares the weights: it is lam * sum(|w|), not lam * sum(w**2).",
               targets=("l1_penalty.value", "l1_penalty.gradient"))
def l1_penalty(model, lam):  # noqa: F811
    return lam * sum((w ** 2).sum() for w in _weights(model))


@suite.mistake("l2_penalty", name="biases_penalized",
               hint="biases (and/or norm parameters) were penalized: L2 goes over Linear/Conv weights only.",
               targets=("l2_penalty.value", "l2_penalty.sgd_equivalence"))
def l2_penalty(model, lam):
    return lam / 2 * sum((p ** 2).sum() for p in model.parameters())


@suite.mistake("l2_penalty", name="norm_weights_penalized",
               hint="the weights of normalization layers were penalized (every parameter named 'weight'): only "
                    "Linear/Conv weights are.",
               targets=("l2_penalty.value", "l2_penalty.sgd_equivalence"))
def l2_penalty(model, lam):  # noqa: F811
    return lam / 2 * sum((p ** 2).sum() for n, p in model.named_parameters() if n.endswith("weight"))


@suite.mistake("l2_penalty", name="missing_half",
               hint="the 1/2 is missing: with lam * sum(w**2) the gradient is 2*lam*w, twice SGD's weight decay; "
                    "the convention is (lam / 2) * sum(w**2).",
               targets=("l2_penalty.value", "l2_penalty.sgd_equivalence"))
def l2_penalty(model, lam):  # noqa: F811
    return lam * sum((w ** 2).sum() for w in _weights(model))


@suite.mistake("l2_penalty", name="not_differentiable",
               hint="the penalty is cut off from autograd (.item() / torch.tensor(...)), so it adds nothing to the "
                    "gradients.",
               targets=("l2_penalty.sgd_equivalence",),
               feedback="the penalty must stay a differentiable function")
def l2_penalty(model, lam):  # noqa: F811
    return torch.tensor(lam / 2 * sum(float((w.detach() ** 2).sum()) for w in _weights(model)))


# -- sgd_step_weight_decay -----------------------------------------------------------------------------

@suite.mistake("sgd_step_weight_decay", name="sign_flipped",
               hint="the sign of the decay is flipped: p -= lr * (p.grad + weight_decay * p) pulls p towards 0.",
               targets=("sgd_step_weight_decay.matches_torch",))
def sgd_step_weight_decay(params, lr, weight_decay):  # noqa: F811
    with torch.no_grad():
        for p in (q for q in params if q.grad is not None):
            p -= lr * (p.grad - weight_decay * p)


@suite.mistake("sgd_step_weight_decay", name="tracked_by_autograd",
               hint="the in-place update ran with autograd recording; wrap it in torch.no_grad().",
               targets=("sgd_step_weight_decay.matches_torch", "sgd_step_weight_decay.in_place"),
               feedback="wrap it in `with torch.no_grad():`")
def sgd_step_weight_decay(params, lr, weight_decay):  # noqa: F811
    for p in (q for q in params if q.grad is not None):
        p.sub_(lr * (p.grad + weight_decay * p))


@suite.mistake("sgd_step_weight_decay", name="not_in_place",
               hint="the parameters were not updated: `p = p - ...` rebinds a local name; update in place.",
               targets=("sgd_step_weight_decay.matches_torch", "sgd_step_weight_decay.in_place"))
def sgd_step_weight_decay(params, lr, weight_decay):  # noqa: F811
    with torch.no_grad():
        for p in (q for q in params if q.grad is not None):
            p = p - lr * (p.grad + weight_decay * p)  # noqa: PLW2901


@suite.mistake("sgd_step_weight_decay", name="mutates_grad",
               hint="p.grad was modified in place (p.grad.add_(...)).",
               targets=("sgd_step_weight_decay.grad_untouched",), feedback=CHECK_HINT_GRAD)
def sgd_step_weight_decay(params, lr, weight_decay):  # noqa: F811
    with torch.no_grad():
        for p in (q for q in params if q.grad is not None):
            p.grad.add_(p, alpha=weight_decay)
            p.sub_(lr * p.grad)


@suite.mistake("sgd_step_weight_decay", name="decay_twice",
               hint="weight decay was applied twice (a separate p *= 1 - lr*wd and again inside the gradient).",
               targets=("sgd_step_weight_decay.matches_torch",))
def sgd_step_weight_decay(params, lr, weight_decay):  # noqa: F811
    with torch.no_grad():
        for p in (q for q in params if q.grad is not None):
            p.mul_(1 - lr * weight_decay)
            p -= lr * (p.grad + weight_decay * p)


# -- make_param_groups -----------------------------------------------------------------------------

@suite.mistake("make_param_groups", name="in_both_groups",
               hint="every parameter went into the decay group and biases/norm parameters into the no-decay group "
                    "as well.",
               targets=("make_param_groups.partition",), feedback="parameters in both groups")
def make_param_groups(model, weight_decay):  # noqa: F811
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    return [{"params": list(model.parameters()), "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


@suite.mistake("make_param_groups", name="in_no_group",
               hint="norm weights and conv kernels are in no group.",
               targets=("make_param_groups.partition",), feedback="parameters in no group")
def make_param_groups(model, weight_decay):  # noqa: F811
    decay = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@suite.mistake("make_param_groups", name="norm_weights_decayed",
               hint="norm weights are decayed (split by name 'bias' only).",
               targets=("make_param_groups.assignment",), feedback="should not decay but are in the decay group")
def make_param_groups(model, weight_decay):  # noqa: F811
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


# -- ridge_fit ------------------------------------------------------------------------------------------

@suite.mistake("ridge_fit", name="intercept_penalized",
               hint="the intercept was penalized: a ones column was appended to X and lam * I covers it too; the "
                    "intercept's diagonal entry must be 0 (or center X and y).",
               targets=("ridge_fit.reference", "ridge_fit.intercept"))
def ridge_fit(X, y, lam):  # noqa: F811
    a = torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype)], dim=1)
    sol = torch.linalg.solve(a.T @ a + lam * torch.eye(a.shape[1], dtype=X.dtype), a.T @ y)
    return sol[:-1], sol[-1]


@suite.mistake("ridge_fit", name="no_intercept",
               hint="no intercept was fitted (b = 0): the model is X @ w + b with b free.",
               targets=("ridge_fit.reference", "ridge_fit.intercept", "ridge_fit.ols_at_zero"))
def ridge_fit(X, y, lam):  # noqa: F811
    w = torch.linalg.solve(X.T @ X + lam * torch.eye(X.shape[1], dtype=X.dtype), X.T @ y)
    return w, torch.zeros((), dtype=X.dtype)


# -- decay_pull ---------------------------------------------------------------------------------------

@suite.mistake("decay_pull", name="adam_for_both",
               hint="Adam(weight_decay) was used for 'adamw' too: AdamW is torch.optim.AdamW (decoupled decay).",
               targets=("decay_pull.matches", "decay_pull.contrast"))
def decay_pull(optimizer, grad_scale, lr, weight_decay, steps):
    finals = []
    for wd in (0.0, weight_decay):
        w = torch.ones(1, requires_grad=True)
        opt = torch.optim.Adam([w], lr=lr, weight_decay=wd)
        for t in range(steps):
            opt.zero_grad()
            (grad_scale * (-1) ** t * w).sum().backward()
            opt.step()
        finals.append(float(w.detach()))
    return finals[0] - finals[1]


# -- issue 8: state that values do not show, non-default arguments, inputs changed in place -------------

@suite.mistake("sgd_step_weight_decay", name="decays_params_without_grad",
               hint="parameters whose p.grad is None were still decayed; skip them entirely, as torch.optim.SGD does.",
               targets=("sgd_step_weight_decay.matches_torch",))
def sgd_step_weight_decay(params, lr, weight_decay):  # noqa: F811
    with torch.no_grad():
        for p in params:
            grad = p.grad if p.grad is not None else torch.zeros_like(p)
            p -= lr * (grad + weight_decay * p)


@suite.mistake("make_param_groups", name="data_copies",
               hint="the groups hold p.data, tensors without the parameters' gradients: an optimizer built from "
                    "them skips them and never changes the model; put the parameters themselves in the groups.",
               targets=("make_param_groups.partition",),
               feedback="a group holds a tensor that is not one of the model's parameters (a copy with the same values")
def make_param_groups(model, weight_decay):  # noqa: F811
    decay_ids = {id(m.weight) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))}
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if id(p) in decay_ids else no_decay).append(p.data)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@suite.mistake("ridge_fit", name="centers_in_place",
               hint="X and y were centered in place (X -= X.mean(0)), changing the caller's data; build new tensors.",
               targets=("ridge_fit.ridge_inputs_unchanged",), feedback="ridge_fit changed its argument #1 in place")
def ridge_fit(X, y, lam):  # noqa: F811
    x_mean, y_mean = X.mean(dim=0), y.mean()
    X -= x_mean
    y -= y_mean
    w = torch.linalg.solve(X.T @ X + lam * torch.eye(X.shape[1], dtype=X.dtype), X.T @ y)
    return w, y_mean - x_mean @ w


#: Survivors of benchmarks/mutation_score.py judged acceptable (docs/MUTATION.md).
MUTATION_ACCEPTED = {
    "decay_pull": {"`w.item()` -> `w`": "a 1-element tensor instead of a float: the checks accept both (the "
                                        "number is the same); only the documented return type differs"},
}


# -- prox_l1_step (issue 13) -----------------------------------------------------------------------
@suite.mistake("prox_l1_step", name="threshold_lam_only",
               hint="the threshold is lam; the proximal step of lr * lam * |w| thresholds at lr * lam.",
               targets=("prox_l1_step.prox_values",))
def prox_l1_step(params, lr, lam):
    with torch.no_grad():
        for p in params:
            p.copy_(torch.sign(p) * torch.clamp(p.abs() - lam, min=0))


@suite.mistake("prox_l1_step", name="subgradient_step",
               hint="this is a subgradient step, p -= lr * lam * sign(p): small weights jump over 0 instead of "
                    "stopping on it; clamp |p| - lr * lam at 0.",
               targets=("prox_l1_step.prox_values", "prox_l1_step.prox_exact_zeros"))
def prox_l1_step(params, lr, lam):  # noqa: F811
    with torch.no_grad():
        for p in params:
            p -= lr * lam * torch.sign(p)


@suite.mistake("prox_l1_step", name="hard_threshold",
               hint="entries below the threshold were zeroed but the others were not shrunk: soft-thresholding also "
                    "moves every other entry lr * lam towards 0.",
               targets=("prox_l1_step.prox_values",))
def prox_l1_step(params, lr, lam):  # noqa: F811
    with torch.no_grad():
        for p in params:
            p[p.abs() <= lr * lam] = 0.0


@suite.mistake("prox_l1_step", name="sign_dropped",
               hint="max(p - t, 0) drops the sign: negative weights all become 0; use sign(p) * max(|p| - t, 0).",
               targets=("prox_l1_step.prox_values", "prox_l1_step.prox_exact_zeros"))
def prox_l1_step(params, lr, lam):  # noqa: F811
    with torch.no_grad():
        for p in params:
            p.copy_(torch.clamp(p - lr * lam, min=0))


@suite.mistake("prox_l1_step", name="rebinds_name",
               hint="`p = ...` rebinds a local name and leaves the tensor in params unchanged: update in place "
                    "(p.copy_(...)).",
               targets=("prox_l1_step.prox_values", "prox_l1_step.prox_on_parameters"),
               feedback="no tensor in params changed")
def prox_l1_step(params, lr, lam):  # noqa: F811
    with torch.no_grad():
        for p in params:
            p = torch.sign(p) * torch.clamp(p.abs() - lr * lam, min=0)  # noqa: F841


@suite.mistake("prox_l1_step", name="no_no_grad",
               hint="the in-place update ran while autograd was recording: wrap it in `with torch.no_grad():`.",
               targets=("prox_l1_step.prox_on_parameters",), feedback="while autograd was recording")
def prox_l1_step(params, lr, lam):  # noqa: F811
    for p in params:
        p.copy_(torch.sign(p) * torch.clamp(p.abs() - lr * lam, min=0))


@suite.mistake("prox_l1_step", name="grad_zeroed",
               hint="p.grad was changed (zeroed) by the proximal step; it only changes p.",
               targets=("prox_l1_step.prox_on_parameters",), feedback="changed during the proximal step")
def prox_l1_step(params, lr, lam):  # noqa: F811
    with torch.no_grad():
        for p in params:
            p.copy_(torch.sign(p) * torch.clamp(p.abs() - lr * lam, min=0))
            if p.grad is not None:
                p.grad.zero_()


@suite.mistake("prox_l1_step", name="first_tensor_only",
               hint="only the first tensor of params was updated (a `return` inside the loop?): threshold every "
                    "tensor.",
               targets=("prox_l1_step.prox_values",))
def prox_l1_step(params, lr, lam):  # noqa: F811
    with torch.no_grad():
        for p in params:
            p.copy_(torch.sign(p) * torch.clamp(p.abs() - lr * lam, min=0))
            return
