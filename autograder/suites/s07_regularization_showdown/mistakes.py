"""Realistic wrong implementations for assignment 07, each with the hint that names it.

Instructor-only. Used to record what each mistake returns (so feedback can say "this matches a known
mistake: ...") and, in the test suite, as submissions that must lose points on ``targets``.
``feedback=`` is the text a property check prints instead of the hint (asserted by the tests).
"""

import torch
import torch.nn.functional as F
from torch import nn

from autograder.suites.s07_regularization_showdown.checks import suite

KINDS = ("baseline", "dropout", "bn", "ln", "l1", "l2")


# -- make_model ------------------------------------------------------------------------------------------
def _model(kind, hidden=(256, 128), p=0.3, in_features=784, num_classes=10, *, bn_after=False, ln_after=False,
           bn_bias=False, dropout_before=False, dropout_output=False, dropout_default=False, bn_output=False,
           softmax=False, flatten=True, fixed_hidden=False):
    if kind not in KINDS:
        raise ValueError(kind)
    if fixed_hidden:
        hidden = (256, 128)
    layers = [nn.Flatten()] if flatten else []
    d = in_features
    for h in hidden:
        if kind == "bn":
            lin, bn = nn.Linear(d, h, bias=bn_bias), nn.BatchNorm1d(h)
            layers += [lin, nn.ReLU(), bn] if bn_after else [lin, bn, nn.ReLU()]
        elif kind == "ln":
            lin, ln = nn.Linear(d, h), nn.LayerNorm(h)
            layers += [lin, nn.ReLU(), ln] if ln_after else [lin, ln, nn.ReLU()]
        elif kind == "dropout":
            drop = nn.Dropout() if dropout_default else nn.Dropout(p)
            layers += [nn.Linear(d, h), drop, nn.ReLU()] if dropout_before else [nn.Linear(d, h), nn.ReLU(), drop]
        else:
            layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, num_classes))
    if dropout_output and kind == "dropout":
        layers.append(nn.Dropout(p))
    if bn_output and kind == "bn":
        layers.append(nn.BatchNorm1d(num_classes))
    if softmax:
        layers.append(nn.Softmax(dim=1))
    return nn.Sequential(*layers)


def _model_mistake(name, hint, targets, feedback=None, **flags):
    def make_model(kind, hidden=(256, 128), p=0.3, in_features=784, num_classes=10):
        return _model(kind, hidden, p, in_features, num_classes, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("make_model", name=name, hint=hint, targets=targets, **extra)(make_model)


_model_mistake("bn_after_activation", "BN after the non-linearity (Linear -> ReLU -> BN); the text asks for BN before it",
               ("make_model.bn",), feedback="the BatchNorm1d sits after the ReLU (after the non-linearity)", bn_after=True)
_model_mistake("bn_linear_keeps_bias", "the Linear before BN kept its bias", ("make_model.bn",),
               feedback="a Linear right before BN takes bias=False", bn_bias=True)
_model_mistake("bn_after_output", "a BatchNorm1d after the output layer", ("make_model.bn",),
               feedback="nothing (BatchNorm1d) after the final Linear", bn_output=True)
_model_mistake("ln_after_activation", "LayerNorm after the non-linearity", ("make_model.ln",),
               feedback="the LayerNorm sits after the ReLU (after the non-linearity)", ln_after=True)
_model_mistake("dropout_before_relu", "Dropout between the Linear and its ReLU", ("make_model.dropout",),
               feedback="Dropout goes after each hidden ReLU", dropout_before=True)
_model_mistake("dropout_after_output", "Dropout after the output layer", ("make_model.dropout",),
               feedback="nothing (Dropout) after the final Linear", dropout_output=True)
_model_mistake("dropout_p_ignored", "nn.Dropout() with its default p=0.5 instead of make_model's p",
               ("make_model.dropout",), feedback="pass make_model's p to every nn.Dropout", dropout_default=True)
_model_mistake("softmax_output", "a Softmax layer after the output Linear", ("make_model.baseline",),
               feedback="no softmax at the end", softmax=True)
_model_mistake("no_flatten", "no nn.Flatten() at the start", ("make_model.baseline",),
               feedback="start the nn.Sequential with nn.Flatten()", flatten=False)
_model_mistake("hidden_ignored", "hard-coded hidden widths (256, 128) instead of `hidden`", ("make_model.baseline",),
               feedback="each Linear maps the previous width to the next one", fixed_hidden=True)


# -- make_training_setup -----------------------------------------------------------------------------------
def _linear_weights(m):
    return [mod.weight for mod in m.modules() if isinstance(mod, nn.Linear)]


def _setup(model, kind, lr, lam, *, wd_l2=False, adamw=False, no_half=False, all_params=False, swapped=False,
           detached=False, closure=False):
    if adamw:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=lam if (wd_l2 and kind == "l2") else 0.0)
    if kind not in ("l1", "l2"):
        return optimizer, None
    use = {"l1": "l2", "l2": "l1"}[kind] if swapped else kind
    seen = model

    def penalty(m):
        m = seen if closure else m
        tensors = list(m.parameters()) if all_params else _linear_weights(m)
        if use == "l1":
            value = lam * sum(t.abs().sum() for t in tensors)
        else:
            value = (lam if no_half else lam / 2) * sum((t ** 2).sum() for t in tensors)
        return float(value.detach()) if detached else value

    return optimizer, penalty


def _setup_mistake(name, hint, targets, feedback=None, **flags):
    def make_training_setup(model, kind, lr=1e-3, lam=1e-4):
        return _setup(model, kind, lr, lam, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("make_training_setup", name=name, hint=hint, targets=targets, **extra)(make_training_setup)


_setup_mistake("weight_decay_and_l2_penalty", "optimizer weight decay and the manual L2 penalty both on",
               ("make_training_setup.optimizer",), feedback="the L2 term is applied twice", wd_l2=True)
_setup_mistake("adamw_default_decay", "AdamW with its default weight_decay=0.01", ("make_training_setup.optimizer",),
               feedback="AdamW's default weight_decay is 0.01", adamw=True)
_setup_mistake("l2_without_half", "the L2 penalty lacks the 1/2: use lam / 2 * sum(W**2) (its gradient is then "
               "lam * W)", ("make_training_setup.penalty_values",), no_half=True)
_setup_mistake("penalty_on_all_parameters", "the penalty sums over model.parameters(): biases and norm parameters "
               "are penalized too; only the Linear weights are", ("make_training_setup.penalty_values",),
               all_params=True)
_setup_mistake("l1_l2_swapped", "l1 and l2 are swapped: l1 is lam * sum(|W|), l2 is lam / 2 * sum(W**2)",
               ("make_training_setup.penalty_values",), swapped=True)
_setup_mistake("penalty_detached", "the penalty is a Python number (.item()/float()), so no gradient reaches the "
               "weights", ("make_training_setup.penalty_values",), feedback="autograd can differentiate",
               detached=True)
_setup_mistake("penalty_of_setup_model", "penalty(m) ignores m and penalizes the model make_training_setup saw",
               ("make_training_setup.penalty_values",), feedback="must compute the penalty of the model m it is given",
               closure=True)


# -- train_epoch ----------------------------------------------------------------------------------------------
def _train(model, loader, optimizer, penalty=None, *, set_train=True, zero_grad=True, penalty_times=1,
           report_penalty=True, batch_mean=False, step_at_end=False):
    if set_train:
        model.train()
    total, n, losses = 0.0, 0, []
    if step_at_end:
        optimizer.zero_grad()
    for x, y in loader:
        if zero_grad and not step_at_end:
            optimizer.zero_grad()
        data_loss = F.cross_entropy(model(x), y)
        loss = data_loss
        for _ in range(penalty_times if penalty is not None else 0):
            loss = loss + penalty(model)
        loss.backward()
        if not step_at_end:
            optimizer.step()
        reported = float(loss.detach()) if report_penalty else float(data_loss.detach())
        losses.append(reported)
        total += reported * len(y)
        n += len(y)
    if step_at_end:
        optimizer.step()
    return sum(losses) / len(losses) if batch_mean else total / n


def _train_mistake(name, hint, targets, feedback=None, **flags):
    def train_epoch(model, loader, optimizer, penalty=None, progress=False):
        return _train(model, loader, optimizer, penalty, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("train_epoch", name=name, hint=hint, targets=targets, **extra)(train_epoch)


_train_mistake("no_train_mode", "model left in eval mode for training", ("train_epoch.train_mode",),
               feedback="call model.train() at the start of train_epoch", set_train=False)
_train_mistake("no_zero_grad", "the gradients were never zeroed, so each step used the sum of all gradients so far: "
               "zero them (through the optimizer or the model) before each backward", ("train_epoch.parameters",),
               zero_grad=False)
_train_mistake("penalty_twice", "the penalty was added twice per batch", ("train_epoch.penalty",),
               feedback="the penalty was applied twice per batch", penalty_times=2)
_train_mistake("penalty_ignored", "the penalty was never added", ("train_epoch.penalty",),
               feedback="add penalty(model) to each batch's loss", penalty_times=0)
_train_mistake("returned_loss_without_penalty", "the returned loss leaves the penalty out: return the loss you "
               "backpropagate (cross-entropy + penalty)", ("train_epoch.penalty",), report_penalty=False)
_train_mistake("mean_of_batch_means", "the returned loss is the mean of the batch means; with a smaller last batch "
               "that is not the mean per example: weight each batch by len(y)", ("train_epoch.mean_loss",),
               batch_mean=True)
_train_mistake("step_once_per_epoch", "optimizer.step() once per epoch instead of once per batch",
               ("train_epoch.one_pass",), feedback="call optimizer.step() once per batch", step_at_end=True)


# -- evaluate ---------------------------------------------------------------------------------------------------
def _evaluate(model, loader, *, set_eval=True, no_grad=True, batch_mean=False, count=False, restore=True,
              two_passes=False):
    was_training = model.training
    if set_eval:
        model.eval()
    ctx = torch.no_grad() if no_grad else torch.enable_grad()
    losses, correct, n, total = [], 0, 0, 0.0
    with ctx:
        for x, y in loader:
            logits = model(x)
            losses.append(float(F.cross_entropy(logits, y).detach()))
            total += float(F.cross_entropy(logits, y, reduction="sum").detach())
            if not two_passes:
                correct += int((logits.argmax(1) == y).sum())
            n += len(y)
        if two_passes:
            for x, y in loader:
                correct += int((model(x).argmax(1) == y).sum())
    if restore:
        model.train(was_training)
    loss = sum(losses) / len(losses) if batch_mean else total / n
    return loss, (float(correct) if count else correct / n)


def _eval_mistake(name, hint, targets, feedback=None, **flags):
    def evaluate(model, loader):
        return _evaluate(model, loader, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("evaluate", name=name, hint=hint, targets=targets, **extra)(evaluate)


_eval_mistake("train_mode_evaluation", "model left in train mode for evaluation", ("evaluate.eval_mode",),
              feedback="the model was in training mode during evaluation", set_eval=False)
_eval_mistake("no_no_grad", "evaluation builds an autograd graph", ("evaluate.no_grad",),
              feedback="autograd was on during evaluation", no_grad=False)
_eval_mistake("mean_of_batch_means", "the loss is the mean of the batch means; with a smaller last batch that is "
              "not the mean per example: sum with reduction='sum' and divide by the number of examples",
              ("evaluate.values",), batch_mean=True)
_eval_mistake("accuracy_count", "the accuracy is the number of correct predictions, not the fraction",
              ("evaluate.values",), feedback="is not a fraction in [0, 1]", count=True)
_eval_mistake("mode_not_restored", "the model is left in eval mode after evaluate", ("evaluate.eval_mode",),
              feedback="restore the caller's mode", restore=False)
_eval_mistake("two_passes", "one pass for the loss and another for the accuracy", ("evaluate.eval_one_pass",),
              feedback="the loader was iterated 2 time(s)", two_passes=True)


# -- port_keras_bn_model ----------------------------------------------------------------------------------------------
def _port(bn_before_activation=False, *, ignore_flag=False, invert=False, momentum=0.01, eps=1e-3, softmax=False,
          bias=True):
    before = bool(bn_before_activation)
    if ignore_flag:
        before = False
    if invert:
        before = not before
    layers, d = [], 4
    for n in (64, 128, 128, 64):
        bn = nn.BatchNorm1d(n, eps=eps, momentum=momentum)
        lin = nn.Linear(d, n, bias=bias)
        layers += [lin, bn, nn.ReLU()] if before else [lin, nn.ReLU(), bn]
        d = n
    layers.append(nn.Linear(d, 3, bias=bias))
    if softmax:
        layers.append(nn.Softmax(dim=1))
    return nn.Sequential(*layers)


def _port_mistake(name, hint, targets, feedback=None, **flags):
    def port_keras_bn_model(bn_before_activation=False):
        return _port(bn_before_activation, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("port_keras_bn_model", name=name, hint=hint, targets=targets, **extra)(port_keras_bn_model)


_port_mistake("flag_ignored", "BN after the non-linearity when bn_before_activation=True asks for before",
              ("port_keras_bn_model.bn_before",), feedback="bn_before_activation=True asks for Linear -> BatchNorm1d -> ReLU",
              ignore_flag=True)
_port_mistake("orders_swapped", "the two placements are swapped", ("port_keras_bn_model.keras_order",
                                                                    "port_keras_bn_model.bn_before"),
              feedback="BN after the activation", invert=True)
_port_mistake("keras_momentum_literal", "momentum=0.99 copied from Keras", ("port_keras_bn_model.keras_bn_conventions",),
              feedback="momentum=0.99 is Keras's number in Keras's convention", momentum=0.99)
_port_mistake("torch_bn_defaults", "PyTorch's BN defaults instead of Keras's", ("port_keras_bn_model.keras_bn_conventions",),
              feedback="these are PyTorch's BN defaults", momentum=0.1, eps=1e-5)
_port_mistake("softmax_output", "Keras's softmax ported as a layer", ("port_keras_bn_model.keras_order",
                                                                      "port_keras_bn_model.bn_before"),
              feedback="no softmax at the end", softmax=True)
_port_mistake("dense_without_bias", "the Dense layers lost their bias", ("port_keras_bn_model.keras_order",
                                                                         "port_keras_bn_model.keras_counts_forward"),
              feedback="keep the bias of this Linear (bias=True)", bias=False)
