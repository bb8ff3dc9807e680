"""Realistic wrong implementations for assignment 05, each with the hint that names it.

Instructor-only. Used to record what each mistake returns (so feedback can say "this matches a known
mistake: ...") and, in the test suite, as submissions that must lose points on ``targets``.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from autograder.suites.s05_dropout.checks import HINTS, suite

BY_HAND = "dropout_by_hand"


# -- by hand ------------------------------------------------------------------------------------------
def _by_hand(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen, *, scale1=None, scale2=None, mean=False,
             eval_masks=False, eval_scale=False, in_place=False, grads_without_masks=False, strict=False):
    leaf = {k: (v if in_place else v.detach().clone()).requires_grad_(True) for k, v in params.items()}
    m1 = rand1 > p1 if strict else rand1 >= p1
    m2 = rand2 >= p2
    s1 = 1 / (1 - p1) if scale1 is None else scale1
    s2 = 1 / (1 - p2) if scale2 is None else scale2

    def forward(A, k1, k2, c1, c2):
        h1 = torch.relu(A @ leaf["W1"].T + leaf["b1"])
        a1 = h1 * k1 * c1
        h2 = torch.relu(a1 @ leaf["W2"].T + leaf["b2"])
        a2 = h2 * k2 * c2
        return h1, a1, h2, a2, a2 @ leaf["W3"].T + leaf["b3"]

    h1, a1, h2, a2, y = forward(X, m1, m2, s1, s2)
    err = (y - Y_target) ** 2
    loss = err.mean() if mean else err.sum()
    dY = 2 * (y - Y_target) / (y.numel() if mean else 1)
    if grads_without_masks:
        y_full = forward(X, 1.0, 1.0, 1.0, 1.0)[-1]
        grads = dict(zip(leaf, torch.autograd.grad(((y_full - Y_target) ** 2).sum(), list(leaf.values()))))
    else:
        grads = dict(zip(leaf, torch.autograd.grad(loss, list(leaf.values()), retain_graph=True)))
    if in_place:
        with torch.no_grad():
            for k, v in params.items():
                v.sub_(lr * grads[k])
        new = {k: v.detach().clone() for k, v in params.items()}
    else:
        new = {k: (params[k] - lr * grads[k]).detach() for k in params}
    k1 = m1[:1].expand(X_unseen.shape[0], -1) if eval_masks else 1.0
    k2 = m2[:1].expand(X_unseen.shape[0], -1) if eval_masks else 1.0
    c1 = s1 if eval_scale or eval_masks else 1.0
    c2 = s2 if eval_scale or eval_masks else 1.0
    u = torch.relu(X_unseen @ new["W1"].T + new["b1"]) * k1 * c1
    u = torch.relu(u @ new["W2"].T + new["b2"]) * k2 * c2
    y_unseen = u @ new["W3"].T + new["b3"]
    d = lambda t: t.detach()  # noqa: E731
    return {"mask1": m1, "mask2": m2, "h1": d(h1), "a1": d(a1), "h2": d(h2), "a2": d(a2), "y": d(y), "loss": d(loss),
            "dY": d(dY), "grads": {k: d(v) for k, v in grads.items()}, "new_params": new, "y_unseen": d(y_unseen)}


def _by_hand_mistake(name, hint, targets, **flags):
    def impl(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen):
        return _by_hand(X, Y_target, params, rand1, rand2, p1, p2, lr, X_unseen, **flags)

    suite.mistake(BY_HAND, name=name, hint=hint, targets=targets)(impl)


_by_hand_mistake("by_hand_no_scaling", "the kept activations were not scaled by 1/(1-p): a1 is h1 * mask1 / (1 - p1).",
                 ("dropout_by_hand.a1", "dropout_by_hand.a2"), scale1=1.0, scale2=1.0)
_by_hand_mistake("by_hand_rounded_scale", "the scale of layer 2 was rounded to 1.5 as on the worksheet; use the exact "
                 "1/(1-p2) = 1/0.67.", ("dropout_by_hand.a2",), scale2=1.5)
_by_hand_mistake("by_hand_mean_loss", "the loss was averaged; this exercise uses the SUMMED squared error, whose "
                 "gradient is exactly 2 * (y - Y_target).", ("dropout_by_hand.loss", "dropout_by_hand.dY",
                                                              "dropout_by_hand.grads"), mean=True)
_by_hand_mistake("by_hand_grads_without_masks", "the gradients were computed without the dropout masks; backpropagate "
                 "the loss of the dropped-out forward pass, so dropped units get zero gradient.",
                 ("dropout_by_hand.grads",), grads_without_masks=True)
_by_hand_mistake("by_hand_masks_at_inference", "dropout masks (and their scale) were applied at inference; at test "
                 "time every unit is kept and nothing is rescaled.", ("dropout_by_hand.y_unseen",), eval_masks=True)
_by_hand_mistake("by_hand_scaled_at_inference", "activations were rescaled by 1/(1-p) at inference; inverted dropout "
                 "rescales during training only.", ("dropout_by_hand.y_unseen",), eval_scale=True)
_by_hand_mistake("by_hand_in_place_step", "the SGD step modified the caller's parameters in place",
                 ("dropout_by_hand.by_hand_inputs_unchanged",), in_place=True)
suite.mistakes[-1].feedback = "argument params was modified by the call"


# -- dropout_forward ----------------------------------------------------------------------------------------
def _forward(x, p=0.5, train=True, generator=None, *, scale="inv", keep="ge", eval_active=False, in_place=False,
             draw_dtype=None, ignore_generator=False, float_mask=False, eval_ones_mask=False):
    if not train and not eval_active:
        return x, (torch.ones_like(x, dtype=torch.bool) if eval_ones_mask else None)
    gen = None if ignore_generator else generator
    r = torch.rand(x.shape, generator=gen, dtype=draw_dtype or torch.float32)
    mask = {"ge": r >= p, "gt": r > p, "swapped": r < p, "lt_keep": r < 1 - p}[keep]
    if scale == "inv":
        factor = 0.0 if p >= 1 else 1.0 / (1.0 - p)
        out = torch.where(mask, x * factor, torch.zeros_like(x))
    elif scale == "none":
        out = x * mask
    elif scale == "inv_p":
        out = x * mask / p
    elif scale == "nan":
        out = x * mask / (1 - p)
    if in_place:
        x.copy_(out)
        out = x
    if float_mask:
        mask = mask.to(x.dtype) / (1 - p)
    return out, mask


def _forward_mistake(name, hint, targets, feedback=None, **flags):
    def impl(x, p=0.5, train=True, generator=None):
        return _forward(x, p, train, generator, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("dropout_forward", name=name, hint=hint, targets=targets, **extra)(impl)


_forward_mistake("no_scaling", HINTS["no_scaling"], ("dropout_forward.train_values", "dropout_forward.expectation"),
                 scale="none")
_forward_mistake("scale_one_over_p", HINTS["inv_p"], ("dropout_forward.train_values", "dropout_forward.expectation"),
                 scale="inv_p")
_forward_mistake("keep_drop_swapped", HINTS["swapped"], ("dropout_forward.mask_convention",
                                                         "dropout_forward.expectation"), keep="swapped")
_forward_mistake("active_in_eval", HINTS["eval_active"], ("dropout_forward.eval_identity",), eval_active=True)
_forward_mistake("p1_nan", HINTS["p1_nan"], ("dropout_forward.edge_p",), scale="nan")
_forward_mistake("input_in_place", HINTS["in_place"], ("dropout_forward.input_unchanged",), in_place=True)
_forward_mistake("strict_greater", "a unit is kept where rand >= p (torch's convention); '>' drops the units whose "
                 "number equals p.", ("dropout_forward.mask_convention",), keep="gt")
_forward_mistake("keep_rand_below_1_minus_p", "the mask was drawn as rand < 1 - p: same distribution, but not the "
                 "course's mask; use mask = rand >= p so that results are reproducible from the generator.",
                 ("dropout_forward.mask_convention",), keep="lt_keep")
_forward_mistake("generator_ignored", "the generator argument was ignored (the draw came from the global generator); "
                 "pass generator=generator to torch.rand.", ("dropout_forward.mask_convention",), ignore_generator=True)
_forward_mistake("draw_in_x_dtype", "the random numbers were drawn in x's dtype; draw them in the default float32 "
                 "(torch.rand(x.shape, generator=generator)) even when x is float64.",
                 ("dropout_forward.mask_convention",), draw_dtype=torch.float64)
suite.mistakes[-1].impl = lambda x, p=0.5, train=True, generator=None: _forward(x, p, train, generator,
                                                                                  draw_dtype=x.dtype)
_forward_mistake("float_mask", "the mask was returned as a float tensor", ("dropout_forward.mask_convention",),
                 feedback="in train mode the mask should be a bool tensor", float_mask=True)
_forward_mistake("eval_mask_ones", "eval mode returned a mask of ones", ("dropout_forward.eval_identity",),
                 feedback="in eval mode the mask should be None", eval_ones_mask=True)


# -- dropout_backward ----------------------------------------------------------------------------------------
def _backward(dout, mask, p, *, how="ok"):
    if mask is None:
        return dout * 0 if how == "eval_zero" else dout
    if how == "new_mask":
        mask = torch.rand(dout.shape) >= p
    if how == "no_scale":
        return dout * mask
    if how == "inv_p":
        return dout * mask / p
    if how == "nan":
        return dout * mask / (1 - p)
    factor = 0.0 if p >= 1 else 1.0 / (1.0 - p)
    return torch.where(mask, dout * factor, torch.zeros_like(dout))


def _backward_mistake(name, hint, targets, feedback=None, how="ok"):
    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("dropout_backward", name=name, hint=hint, targets=targets, **extra)(
        lambda dout, mask, p: _backward(dout, mask, p, how=how))


_backward_mistake("mask_not_reused", HINTS["mask_not_reused"], ("dropout_backward.train_grad",), how="new_mask")
_backward_mistake("backward_no_scaling", "the gradient was not scaled by 1/(1-p); the forward pass multiplied the "
                  "kept units by 1/(1-p), so their gradient gets the same factor.", ("dropout_backward.train_grad",),
                  how="no_scale")
_backward_mistake("backward_one_over_p", "the gradient was scaled by 1/p; p is the drop probability, the scale is "
                  "1/(1-p).", ("dropout_backward.train_grad",), how="inv_p")
_backward_mistake("backward_p1_nan", HINTS["p1_nan"], ("dropout_backward.edge_grad",), how="nan")
_backward_mistake("backward_eval_zero", "eval mode returned zeros", ("dropout_backward.eval_grad",),
                  feedback="dx with mask None (eval mode)", how="eval_zero")


# -- build_model_do ---------------------------------------------------------------------------------------------
def _mlp(input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5, *, kind="ok"):
    layers = [nn.Flatten()]
    if kind == "input_dropout":
        layers.append(nn.Dropout(p))
    width = math.prod(input_shape)
    for i, h in enumerate(hidden):
        layers += [nn.Linear(width, h), nn.ReLU()]
        if kind == "input_dropout" or (kind == "first_only" and i > 0):
            pass
        else:
            layers.append(nn.Dropout(0.5 if kind == "fixed_p" else p))
        width = h
    layers.append(nn.Linear(width, num_classes))
    if kind == "after_output":
        layers.append(nn.Dropout(p))
    if kind == "softmax":
        layers.append(nn.Softmax(dim=1))
    return nn.Sequential(*layers)


def _mlp_mistake(name, hint, targets, feedback=None, kind="ok"):
    def impl(input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5):
        return _mlp(input_shape, num_classes, hidden, p, kind=kind)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("build_model_do", name=name, hint=hint, targets=targets, **extra)(impl)


_mlp_mistake("mlp_dropout_after_output", HINTS["after_output"], ("build_model_do.mlp_structure",
                                                                 "build_model_do.mlp_probe"), kind="after_output")
_mlp_mistake("mlp_p_hard_coded", "every Dropout uses p=0.5 whatever p was passed", ("build_model_do.mlp_structure",
                                                                                    "build_model_do.mlp_probe"),
             feedback="use the p you were given", kind="fixed_p")
_mlp_mistake("mlp_dropout_on_input", "dropout on the input pixels instead of after the hidden activations",
             ("build_model_do.mlp_structure", "build_model_do.mlp_probe"),
             feedback="no dropout on the input", kind="input_dropout")
_mlp_mistake("mlp_first_hidden_only", "dropout after the first hidden layer only", ("build_model_do.mlp_structure",
                                                                                    "build_model_do.mlp_probe"),
             feedback="no activation is dropped in train mode", kind="first_only")
_mlp_mistake("mlp_softmax_output", "a softmax after the output layer", ("build_model_do.mlp_structure",
                                                                        "build_model_do.mlp_probe"),
             feedback="nn.CrossEntropyLoss takes logits", kind="softmax")


# -- CNNWithBNDropout ---------------------------------------------------------------------------------------------
class _CNN(nn.Module):
    kind = "ok"

    def __init__(self, p1=0.5, p2=0.5):
        super().__init__()
        self.p1, self.p2 = p1, p2
        self.conv = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 14 * 14, 128)
        self.fc2 = nn.Linear(128, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        k, t = self.kind, self.training
        c = self.conv(x)
        h = F.max_pool2d(F.relu(self.bn(c.detach() if k == "conv_detached" else c)), 2)
        if k == "conv_dropout":
            h = F.dropout(h, self.p1, training=t)
        h = F.dropout(F.relu(self.fc1(h.flatten(1))), self.p1, training=t)
        h = F.relu(self.fc2(h))
        if k != "no_extra":
            h = F.dropout(h, self.p1 if k == "same_p" else self.p2, training=t or k == "eval_active")
        out = self.fc3(h)
        if k in ("after_output", "no_extra_after_output"):
            out = F.dropout(out, self.p2, training=t)
        if k == "detached":
            out = out.detach()
        return out


def _cnn_mistake(name, hint, targets, feedback=None, kind="ok"):
    cls = type("CNNWithBNDropout", (_CNN,), {"kind": kind})
    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("CNNWithBNDropout", name=name, hint=hint, targets=targets, **extra)(cls)


_cnn_mistake("cnn_dropout_after_output", HINTS["after_output"], ("CNNWithBNDropout.cnn_probe",), kind="after_output")
_cnn_mistake("cnn_extra_dropout_on_logits", "the extra dropout was put after the output layer instead of after FC2's "
             "ReLU", ("CNNWithBNDropout.cnn_probe",), feedback=HINTS["after_output"], kind="no_extra_after_output")
_cnn_mistake("cnn_same_p", "p1 was used for both dropouts", ("CNNWithBNDropout.cnn_probe",),
             feedback="use the p you were given (here 0.6) for this dropout layer", kind="same_p")
_cnn_mistake("cnn_missing_extra_dropout", "the exercise's extra dropout after FC2 is missing",
             ("CNNWithBNDropout.cnn_probe",), feedback="no activation is dropped in train mode", kind="no_extra")
_cnn_mistake("cnn_dropout_on_conv_features", "dropout on the convolutional features",
             ("CNNWithBNDropout.cnn_probe",), feedback="no dropout on the convolutional features", kind="conv_dropout")
_cnn_mistake("cnn_dropout_in_eval", "the second dropout stays active in eval mode",
             ("CNNWithBNDropout.cnn_probe", "CNNWithBNDropout.cnn_modes"), feedback="model.eval() must switch dropout off",
             kind="eval_active")

_cnn_mistake("cnn_output_detached", "the output was detached (or forward ran under torch.no_grad()): no loss "
             "computed from it can train the model", ("CNNWithBNDropout.cnn_modes",),
             feedback="the train-mode output carries no autograd history", kind="detached")
_cnn_mistake("cnn_conv_output_detached", "the conv output was detached before BatchNorm2d: the conv layer never learns",
             ("CNNWithBNDropout.cnn_modes",), feedback="the parameters ['conv.weight', 'conv.bias'] have no (finite) "
             "gradient", kind="conv_detached")


# -- mutation benchmark (benchmarks/mutation_score.py) ----------------------------------------------------------
MUTATION_ACCEPTED = {  # survivors judged equivalent under the contract (still counted by the benchmark)
    "dropout_backward": {
        "`dout` detached": "eval mode returns dout itself; the mutant returns dout.detach(), a view with the same "
                           "values and storage. The contract (dx = dout in eval mode) does not say whether dx may "
                           "be dout itself, and no caller can tell the two apart except by tensor identity.",
    },
    "dropout_by_hand": {
        "`2 * (y - Y_target)` detached": "dY is returned as a value; whether it still carries autograd history "
                                         "(requires_grad) is not part of the contract (the other returned tensors "
                                         "keep theirs too).",
    },
}
