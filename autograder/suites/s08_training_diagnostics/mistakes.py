"""Realistic wrong implementations for assignment 08, each with the hint that names it.

Instructor-only. Used to record what each mistake returns (so feedback can say "this matches a known
mistake: ...") and, in the test suite, as submissions that must lose points on ``targets``.
``feedback=`` is the text a property check prints instead (asserted by the tests).
"""

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from autograder.suites.s08_training_diagnostics.checks import suite

# -- expected_initial_loss -------------------------------------------------------------------------------
LN = ("expected_initial_loss.ln_classes",)


@suite.mistake("expected_initial_loss", name="log10", targets=LN,
               hint="log10(C) was used; cross-entropy (F.cross_entropy) uses the natural logarithm: math.log(C).")
def expected_initial_loss(num_classes):
    return math.log10(num_classes)


@suite.mistake("expected_initial_loss", name="probability", targets=LN,
               hint="1/C is the probability of the correct class, not the loss: the loss is -ln(1/C) = ln(C).")
def expected_initial_loss(num_classes):  # noqa: F811
    return 1.0 / num_classes


@suite.mistake("expected_initial_loss", name="negative", targets=LN,
               hint="the sign is flipped: the loss is -ln(1/C) = +ln(C), a positive number.")
def expected_initial_loss(num_classes):  # noqa: F811
    return -math.log(num_classes)


# -- initial_loss ------------------------------------------------------------------------------------------
VALUE = ("initial_loss.loss_value",)
LOSS_SIDE = ("initial_loss.loss_side_effects",)


@suite.mistake("initial_loss", name="double_softmax", targets=VALUE,
               hint="softmax was applied before F.cross_entropy, which applies log_softmax itself: pass the raw "
                    "logits (a double softmax squeezes every loss towards ln C and hides the problem).")
def initial_loss(model, x, y):
    with torch.no_grad():
        return F.cross_entropy(torch.softmax(model(x), dim=1), y)


@suite.mistake("initial_loss", name="nll_on_logits", targets=VALUE,
               hint="F.nll_loss expects log-probabilities; on raw logits it is not the cross-entropy. Use "
                    "F.cross_entropy(logits, y) (or nll_loss(log_softmax(logits))).")
def initial_loss(model, x, y):  # noqa: F811
    with torch.no_grad():
        return F.nll_loss(model(x), y)


@suite.mistake("initial_loss", name="summed", targets=VALUE,
               hint="the loss was summed over the batch; ln C refers to the mean per example (the default "
                    "reduction='mean').")
def initial_loss(model, x, y):  # noqa: F811
    with torch.no_grad():
        return F.cross_entropy(model(x), y, reduction="sum")


@suite.mistake("initial_loss", name="graph_built", targets=LOSS_SIDE,
               hint="the forward pass ran with autograd on", feedback="initial_loss ran the model with autograd on")
def initial_loss(model, x, y):  # noqa: F811
    return F.cross_entropy(model(x), y)


@suite.mistake("initial_loss", name="eval_left", targets=LOSS_SIDE,
               hint="the model was put in eval mode and left there: measure in the mode the model is in (or "
                    "restore it).", feedback="compute the loss in the model's current mode")
def initial_loss(model, x, y):  # noqa: F811
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model(x), y)


@suite.mistake("initial_loss", name="train_restored_unconditionally", targets=LOSS_SIDE,
               hint="model.train() was called at the end whatever the mode was before: a model given in eval mode "
                    "comes back in train mode.", feedback="initial_loss changed the train/eval mode")
def initial_loss(model, x, y):  # noqa: F811
    model.eval()
    with torch.no_grad():
        loss = F.cross_entropy(model(x), y)
    model.train()
    return loss


# -- shrink_last_layer_ -------------------------------------------------------------------------------------
SHRINK_VALUES = ("shrink_last_layer_.shrink_values",)


def _last(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)][-1]


@suite.mistake("shrink_last_layer_", name="first_linear",
               hint="the first nn.Linear was scaled; the logits come from the last one.",
               targets=("shrink_last_layer_.shrink_values", "shrink_last_layer_.shrink_only_last"))
def shrink_last_layer_(model, scale=0.01):
    first = [m for m in model.modules() if isinstance(m, nn.Linear)][0]
    with torch.no_grad():
        first.weight.mul_(scale)
        first.bias.zero_()
    return model


@suite.mistake("shrink_last_layer_", name="bias_not_zeroed", targets=SHRINK_VALUES,
               hint="the bias was left as it was: set it to zero (a random bias alone makes some classes more "
                    "likely).")
def shrink_last_layer_(model, scale=0.01):  # noqa: F811
    with torch.no_grad():
        _last(model).weight.mul_(scale)
    return model


@suite.mistake("shrink_last_layer_", name="bias_scaled", targets=SHRINK_VALUES,
               hint="the bias was multiplied by scale; it should be set to zero.")
def shrink_last_layer_(model, scale=0.01):  # noqa: F811
    last = _last(model)
    with torch.no_grad():
        last.weight.mul_(scale)
        last.bias.mul_(scale)
    return model


@suite.mistake("shrink_last_layer_", name="weight_zeroed", targets=SHRINK_VALUES,
               hint="the weight was set to exactly zero; scale it down instead (zero weights give every hidden unit "
                    "the same zero gradient at the first step).")
def shrink_last_layer_(model, scale=0.01):  # noqa: F811
    last = _last(model)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
    return model


@suite.mistake("shrink_last_layer_", name="scale_ignored", targets=SHRINK_VALUES,
               hint="the scale argument was ignored (0.01 hard-coded): multiply by `scale`.")
def shrink_last_layer_(model, scale=0.01):  # noqa: F811
    last = _last(model)
    with torch.no_grad():
        last.weight.mul_(0.01)
        last.bias.zero_()
    return model


@suite.mistake("shrink_last_layer_", name="new_parameters", targets=("shrink_last_layer_.shrink_in_place",),
               hint="new nn.Parameter objects were assigned", feedback="were replaced by new objects")
def shrink_last_layer_(model, scale=0.01):  # noqa: F811
    last = _last(model)
    last.weight = nn.Parameter(last.weight.detach() * scale)
    last.bias = nn.Parameter(torch.zeros_like(last.bias))
    return model


# -- activation_stats ---------------------------------------------------------------------------------------
def _stats(model, x, threshold=0.97, *, sat=None, relu_sat=None, std=None, remove=True, use_finally=True,
           preact=False, set_eval=False, key=None, no_grad=True):
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Tanh, nn.ReLU))]
    stats = {}

    def make_hook(name):
        def hook(module, inputs, output):
            h = output.detach()
            if isinstance(module, nn.Tanh):
                src = inputs[0].detach() if preact else h
                s = sat(src, threshold) if sat else (src.abs() > threshold).float().mean()
            else:
                s = relu_sat(h, threshold) if relu_sat else (h == 0).float().mean()
            stats[key(name, module) if key else name] = {"mean": h.mean(), "std": std(h) if std else h.std(),
                                                         "saturated": s}
        return hook

    if set_eval:
        model.eval()
    handles = [m.register_forward_hook(make_hook(name)) for name, m in layers]
    if use_finally:
        try:
            with torch.no_grad() if no_grad else contextlib.nullcontext():
                model(x)
        finally:
            if remove:
                for h in handles:
                    h.remove()
    else:
        with torch.no_grad():
            model(x)
        for h in handles:
            h.remove()
    return stats


def _stats_mistake(name, hint, targets, feedback=None, **flags):
    def impl(model, x, threshold=0.97):
        return _stats(model, x, threshold, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("activation_stats", name=name, hint=hint, targets=targets, **extra)(impl)


TANH_SAT = ("activation_stats.tanh_saturation",)
_stats_mistake("sat_no_abs", "abs() was forgotten: tanh saturates at both ends, so count abs(h) > threshold "
               "(h > threshold misses the units stuck at -1).", TANH_SAT,
               sat=lambda h, t: (h > t).float().mean())
_stats_mistake("sat_ge", "the threshold was applied with >=; saturated means strictly greater: abs(h) > threshold "
               "(a value of exactly the threshold is not saturated).", TANH_SAT,
               sat=lambda h, t: (h.abs() >= t).float().mean())
_stats_mistake("sat_ge_09", "the saturation test was abs(h) >= 0.9; use abs(h) > threshold (0.97 by default, "
               "strictly greater).", TANH_SAT, sat=lambda h, t: (h.abs() >= 0.9).float().mean())
_stats_mistake("sat_threshold_ignored", "the threshold argument was ignored (0.97 hard-coded): use `threshold`.",
               TANH_SAT, sat=lambda h, t: (h.abs() > 0.97).float().mean())
_stats_mistake("sat_preactivation", "saturation was measured on the tanh's input (pre-activation z) instead of its "
               "output h = tanh(z): use the hook's `output`, abs(output) > threshold.", TANH_SAT, preact=True)
_stats_mistake("sat_percent", "the saturated share was given in percent (x100); it is a fraction in [0, 1].",
               ("activation_stats.tanh_saturation", "activation_stats.relu_saturation"),
               sat=lambda h, t: 100 * (h.abs() > t).float().mean(), relu_sat=lambda h, t: 100 * (h == 0).float().mean())
_stats_mistake("relu_tanh_rule", "the tanh rule abs(h) > threshold was applied to a ReLU; a ReLU's flat part is 0: "
               "the fraction of outputs equal to 0.", ("activation_stats.relu_saturation",),
               relu_sat=lambda h, t: (h.abs() > t).float().mean())
_stats_mistake("std_biased", "the std was the biased one (divide by n); use torch's default h.std() (unbiased, "
               "n - 1), as documented.", ("activation_stats.stds",), std=lambda h: h.std(unbiased=False))
_stats_mistake("std_per_unit", "the std was taken per unit over the batch and then averaged; the convention is "
               "one std over all entries of the output: h.std().", ("activation_stats.stds",),
               std=lambda h: h.std(0).mean())
_stats_mistake("keyed_by_type", "entries were keyed by the module's class name, so layers of the same type "
               "overwrite each other; key them by the name from model.named_modules().",
               ("activation_stats.layers_and_means",), key=lambda name, m: type(m).__name__,
               feedback="keyed by its name in model.named_modules()")
_stats_mistake("hooks_left", "hooks still registered", ("activation_stats.hooks_removed",), remove=False,
               feedback="hook(s) still registered after activation_stats returned")
_stats_mistake("hooks_no_finally", "hooks left when the forward raises", ("activation_stats.hooks_removed",),
               use_finally=False, feedback="hook(s) left registered after the forward pass raised")
_stats_mistake("graph_built", "the forward pass ran with autograd on", ("activation_stats.stats_side_effects",),
               no_grad=False, feedback="activation_stats ran the model with autograd on")
_stats_mistake("eval_left", "model switched to eval mode", ("activation_stats.stats_side_effects",), set_eval=True,
               feedback="run the model as it is given (no model.eval()/model.train())")


# -- update_to_data_ratios ------------------------------------------------------------------------------------
def _ratios(model, lr, *, formula=None, select=None, in_place=False):
    ratios = {}
    for name, p in model.named_parameters():
        if select is not None:
            if not select(p):
                continue
            if p.grad is None:
                ratios[name] = torch.tensor(float("nan"))
                continue
        elif p.ndim < 2 or p.grad is None:
            continue
        with torch.no_grad():
            if in_place:
                update = p.grad.mul_(lr)
                ratios[name] = torch.log10(update.std() / p.std())
            elif formula is not None:
                ratios[name] = formula(p, p.grad, lr)
            else:
                ratios[name] = torch.log10((lr * p.grad).std() / p.std())
    return ratios


def _ratio_mistake(name, hint, targets, feedback=None, **flags):
    def impl(model, lr):
        return _ratios(model, lr, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("update_to_data_ratios", name=name, hint=hint, targets=targets, **extra)(impl)


RATIO = ("update_to_data_ratios.ratio_value",)
_ratio_mistake("no_log", "the ratio was returned without log10: the -3 guide line refers to log10(std(lr * grad) / "
               "std(p)).", RATIO, formula=lambda p, g, lr: (lr * g).std() / p.std())
_ratio_mistake("update_mean", "the mean of the update was used instead of its std: the mean of lr * grad is near 0 "
               "(often negative); the ratio compares spreads, std(lr * grad) / std(p).", RATIO,
               formula=lambda p, g, lr: torch.log10((lr * g).mean() / p.std()))
_ratio_mistake("natural_log", "the natural log was used; the ratio is on a log10 scale (torch.log10).", RATIO,
               formula=lambda p, g, lr: torch.log((lr * g).std() / p.std()))
_ratio_mistake("no_lr", "the learning rate is missing: that is the grad-to-data ratio; the update is lr * grad.",
               RATIO, formula=lambda p, g, lr: torch.log10(g.std() / p.std()))
_ratio_mistake("inverted", "the ratio is inverted: update over data, std(lr * grad) / std(p).", RATIO,
               formula=lambda p, g, lr: torch.log10(p.std() / (lr * g).std()))
_ratio_mistake("biases_included", "biases / vectors were included; only weights (p.ndim >= 2) are reported.",
               ("update_to_data_ratios.ratio_selection",), select=lambda p: p.ndim >= 1,
               feedback="skip parameters with p.ndim < 2")
_ratio_mistake("no_grad_as_nan", "parameters without a gradient were reported (as NaN); skip them "
               "(p.grad is None).", ("update_to_data_ratios.ratio_selection",), select=lambda p: p.ndim >= 2,
               feedback="skip parameters whose p.grad is None")
_ratio_mistake("grad_scaled_in_place", "p.grad was scaled in place", ("update_to_data_ratios.ratio_side_effects",),
               in_place=True, feedback="update_to_data_ratios changed the gradients")


# -- kaiming_init_ -----------------------------------------------------------------------------------------------
def _init(model, nonlinearity, generator=None, *, gains=None, fan="in", uniform=False, zero_bias=True,
          std_fn=None, every_param=False, use_generator=True, new_params=False):
    gains = gains or {"relu": math.sqrt(2.0), "tanh": 5.0 / 3.0}
    g = generator if use_generator else None
    if every_param:
        with torch.no_grad():
            for p in model.parameters():
                if p.ndim >= 2:
                    p.normal_(0.0, gains[nonlinearity] / math.sqrt(p.shape[1]), generator=g)
                else:
                    p.zero_()
        return model
    for m in model.modules():
        if not isinstance(m, nn.Linear):
            continue
        fan_value = m.weight.shape[1] if fan == "in" else m.weight.shape[0]
        std = std_fn(gains[nonlinearity], fan_value) if std_fn else gains[nonlinearity] / math.sqrt(fan_value)
        if new_params:
            m.weight = nn.Parameter(torch.randn(m.weight.shape, generator=g) * std)
            if m.bias is not None:
                m.bias = nn.Parameter(torch.zeros_like(m.bias))
            continue
        with torch.no_grad():
            if uniform:
                bound = math.sqrt(3.0) * std
                m.weight.uniform_(-bound, bound, generator=g)
            else:
                m.weight.normal_(0.0, std, generator=g)
            if zero_bias and m.bias is not None:
                m.bias.zero_()
    return model


def _init_mistake(name, hint, targets, feedback=None, **flags):
    def impl(model, nonlinearity, generator=None):
        return _init(model, nonlinearity, generator, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("kaiming_init_", name=name, hint=hint, targets=targets, **extra)(impl)


_init_mistake("tanh_gain_1", "gain 1 used for tanh", ("kaiming_init_.tanh_gain",),
              gains={"relu": math.sqrt(2.0), "tanh": 1.0},
              feedback="for tanh the gain is 5/3")
_init_mistake("tanh_gain_sqrt2", "gain sqrt(2) used for tanh", ("kaiming_init_.tanh_gain",),
              gains={"relu": math.sqrt(2.0), "tanh": math.sqrt(2.0)},
              feedback="for tanh the gain is 5/3")
_init_mistake("relu_gain_1", "gain 1 used for ReLU", ("kaiming_init_.relu_gain",),
              gains={"relu": 1.0, "tanh": 5.0 / 3.0}, feedback="for ReLU the gain is sqrt(2)")
_init_mistake("fan_out", "fan_out used instead of fan_in", ("kaiming_init_.fan_in_mode",), fan="out",
              feedback="fan_in is weight.shape[1]")
_init_mistake("no_sqrt", "std = gain / fan_in (square root missing)",
              ("kaiming_init_.relu_gain", "kaiming_init_.tanh_gain", "kaiming_init_.fan_in_mode"),
              std_fn=lambda gain, fan: gain / fan, feedback="std = sqrt(2) / sqrt(fan_in)")
_init_mistake("variance_as_std", "the variance gain^2 / fan_in was used as the std",
              ("kaiming_init_.relu_gain", "kaiming_init_.tanh_gain"),
              std_fn=lambda gain, fan: gain ** 2 / fan, feedback="std = sqrt(2) / sqrt(fan_in)")
_init_mistake("uniform", "uniform distribution", ("kaiming_init_.normal_shape",), uniform=True,
              feedback="a normal distribution has 0")
_init_mistake("biases_kept", "biases not zeroed", ("kaiming_init_.biases_and_others",), zero_bias=False,
              feedback="Kaiming initialization sets the biases to 0")
_init_mistake("every_parameter", "every parameter initialised", ("kaiming_init_.biases_and_others",),
              every_param=True, feedback="only nn.Linear modules are initialized")
_init_mistake("generator_ignored", "the generator argument was ignored (global RNG used): pass generator=generator "
              "to the draw.", ("kaiming_init_.generator_draws",), use_generator=False)
_init_mistake("new_parameters", "new nn.Parameter objects assigned", ("kaiming_init_.init_in_place",),
              new_params=True, feedback="were replaced by new objects")


# -- mutation benchmark (benchmarks/mutation_score.py) ----------------------------------------------------------
MUTATION_ACCEPTED = {  # survivors judged equivalent under the contract (still counted by the benchmark)
    "update_to_data_ratios": {
        "`with torch.no_grad():` removed": "the ratios are returned as values, and the docstring says whether the "
                                           "returned tensors carry autograd history does not matter "
                                           "(torch.no_grad() is tidier); parameters and gradients stay unchanged.",
    },
}
