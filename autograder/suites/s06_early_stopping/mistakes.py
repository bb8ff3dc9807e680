"""Realistic wrong implementations for assignment 06, each with the hint that names it.

Instructor-only. Used to record what each mistake returns (so feedback can say "this matches a
known mistake: ...") and, in the test suite, as submissions that must lose points on ``targets``.
``feedback=`` is the text a property check prints instead (asserted by the tests).
"""

import copy

import torch
import torch.nn.functional as F

from autograder.suites.s06_early_stopping.checks import suite


# -- EarlyStopping ----------------------------------------------------------------------------------------
class _Stopper:
    """EarlyStopping with switchable bugs (class attributes)."""

    late = early = by_reference = restores_last = sign = ignore_mode = ge = no_reset = params_only = False
    ignore_delta = vs_previous = rebinds = False

    def __init__(self, patience, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = None
        self.best_epoch = None
        self.counter = 0
        self.best_state = None
        self.epoch = -1

    def _improved(self, v):
        if self.best is None:
            return True
        d = 0.0 if self.ignore_delta else (-self.min_delta if self.sign else self.min_delta)
        if self.mode == "max" and not self.ignore_mode:
            return v >= self.best + d if self.ge else v > self.best + d
        return v <= self.best - d if self.ge else v < self.best - d

    def _save(self, model):
        if self.by_reference:
            self.best_state = model.state_dict()
        elif self.params_only:
            self.best_state = {n: p.detach().clone() for n, p in model.named_parameters()}
        elif self.rebinds:
            self.best_state = copy.deepcopy(model)
        else:
            self.best_state = copy.deepcopy(model.state_dict())

    def step(self, val_metric, model):
        v = float(val_metric)
        self.epoch += 1
        if self._improved(v):
            self.best, self.best_epoch = v, self.epoch
            if not self.no_reset:
                self.counter = 0
            if not self.restores_last:
                self._save(model)
        else:
            self.counter += 1
        if self.vs_previous:
            self.best = v
        if self.restores_last:
            self._save(model)
        if self.late:
            return self.counter > self.patience
        if self.early:
            return self.counter >= self.patience - 1
        return self.counter >= self.patience

    def restore(self, model):
        if self.params_only:
            with torch.no_grad():
                for n, p in model.named_parameters():
                    p.copy_(self.best_state[n])
        elif self.rebinds:
            model = self.best_state  # noqa: F841 - rebinding the local name restores nothing
        else:
            model.load_state_dict(self.best_state)


def _stopper_mistake(name, hint, targets, feedback=None, **flags):
    cls = type("EarlyStopping", (_Stopper,), flags)
    suite.mistake("EarlyStopping", name=name, hint=hint, targets=targets,
                  **({"feedback": feedback} if feedback else {}))(cls)


_stopper_mistake("patience_off_by_one_late", "step returns True one epoch too late (counter > patience): it must "
                 "stop on the patience-th epoch without improvement (counter >= patience).",
                 ("EarlyStopping.plateau",), late=True)
_stopper_mistake("patience_off_by_one_early", "step returns True one epoch too early (counter >= patience - 1): "
                 "patience epochs without improvement are tolerated before stopping.",
                 ("EarlyStopping.plateau",), early=True)
_stopper_mistake("tie_is_improvement", "a tie (or a gain of exactly min_delta) was counted as an improvement "
                 "(<= instead of <): an epoch improves only if it beats the best by MORE than min_delta.",
                 ("EarlyStopping.plateau",), ge=True)
_stopper_mistake("counter_not_reset", "the counter was not reset to 0 on an improvement: patience counts "
                 "CONSECUTIVE epochs without improvement.", ("EarlyStopping.late_improvement",), no_reset=True)
_stopper_mistake("compares_with_previous", "each epoch was compared with the previous epoch instead of the best "
                 "epoch so far: best must only change on an improvement.",
                 ("EarlyStopping.plateau", "EarlyStopping.attributes"), vs_previous=True)
_stopper_mistake("min_delta_sign", "min_delta has the wrong sign (metric < best + min_delta): a slightly WORSE "
                 "epoch counted as an improvement; with mode='min' improve means metric < best - min_delta.",
                 ("EarlyStopping.min_delta",), sign=True)
_stopper_mistake("min_delta_ignored", "min_delta was ignored: a gain smaller than min_delta must not count as an "
                 "improvement.", ("EarlyStopping.min_delta",), ignore_delta=True)
_stopper_mistake("mode_max_ignored", "mode='max' was ignored (lower treated as better): with mode='max' an "
                 "epoch improves if metric > best + min_delta.", ("EarlyStopping.mode_max",), ignore_mode=True)
_stopper_mistake("state_by_reference", "the best state was kept as model.state_dict() without a copy: its tensors "
                 "are the live ones, so restore brings back the current values; keep copy.deepcopy(...).",
                 ("EarlyStopping.restore",), feedback="saved by reference", by_reference=True)
_stopper_mistake("restores_last_epoch", "the state was saved after every step, so restore brings back the last "
                 "epoch instead of the best one; save only on an improvement.", ("EarlyStopping.restore",),
                 feedback="the state of the LAST step, not of the best epoch", restores_last=True)
_stopper_mistake("parameters_only", "only parameters() were saved and restored: BatchNorm's buffers keep the last "
                 "epoch's running statistics; save and load the whole state_dict().", ("EarlyStopping.restore",),
                 feedback="the buffers (BatchNorm's running_mean", params_only=True)
_stopper_mistake("restore_rebinds_name", "restore assigned the saved copy to its local name `model`, which changes "
                 "nothing for the caller; load the values into it with model.load_state_dict(...).",
                 ("EarlyStopping.restore",), feedback="or restore changed nothing", rebinds=True)


# -- fit ----------------------------------------------------------------------------------------------------
def _fit(model, loaders, max_epochs, stopper, lr=0.05, loss_fn=F.cross_entropy, progress=False,
         optimizer_cls=torch.optim.SGD, *,
         on_train=False, touch_test=False, no_restore=False, ignore_stop=False, val_train_mode=False,
         no_train_mode=False, no_zero_grad=False, sum_losses=False, break_before_record=False, train_copy=False,
         restore_every_epoch=False, train_loss_after=False):
    if train_copy:
        model = copy.deepcopy(model)
    optimizer = optimizer_cls(model.parameters(), lr=lr)
    history = {"train_loss": [], "val_loss": []}
    if touch_test:
        history["test_loss"] = []
    for epoch in range(max_epochs):
        if not no_train_mode or epoch == 0:
            model.train()
        losses = []
        for x, y in loaders["train"]:
            if not no_zero_grad:
                optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        train_loss = sum(losses) if sum_losses else sum(losses) / len(losses)
        if not val_train_mode:
            model.eval()
        if train_loss_after:  # the training loss re-evaluated after the epoch, in eval mode
            with torch.no_grad():
                train_loss = sum(loss_fn(model(x), y).item() for x, y in loaders["train"]) / len(losses)
        total, count = 0.0, 0
        with torch.no_grad():
            for x, y in loaders["val"]:
                total += loss_fn(model(x), y).item() * len(x)
                count += len(x)
        val_loss = total / count
        if touch_test:
            with torch.no_grad():
                history["test_loss"].append(sum(loss_fn(model(x), y).item() for x, y in loaders["test"]))
        if break_before_record:
            if stopper.step(val_loss, model):
                break
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        if not break_before_record:
            stop = stopper.step(train_loss if on_train else val_loss, model)
            if restore_every_epoch:
                stopper.restore(model)
            if stop and not ignore_stop:
                break
    if not no_restore and not restore_every_epoch:
        stopper.restore(model)
    return history


def _fit_mistake(name, hint, targets, feedback=None, **flags):
    def fit(model, loaders, max_epochs, stopper, lr=0.05, loss_fn=F.cross_entropy, progress=False,
            optimizer_cls=torch.optim.SGD):
        return _fit(model, loaders, max_epochs, stopper, lr, loss_fn, progress, optimizer_cls, **flags)

    suite.mistake("fit", name=name, hint=hint, targets=targets, **({"feedback": feedback} if feedback else {}))(fit)


_fit_mistake("stops_on_training_loss", "the stopper got the training loss, which keeps falling while the model "
             "overfits, so it never stops in time; pass the validation loss.", ("fit.feeds_validation_loss",),
             feedback="the stopper got the training loss", on_train=True)
_fit_mistake("touches_test_loader", "fit evaluated the test set every epoch; the test set is looked at once, "
             "after training and model selection.", ("fit.never_touches_test",),
             feedback="loaders['test'] was iterated inside fit", touch_test=True)
_fit_mistake("no_restore", "fit never called stopper.restore(model), so the model keeps its last epoch's "
             "state instead of the best one.", ("fit.restores_at_end",),
             feedback="fit never called stopper.restore(model)", no_restore=True)
_fit_mistake("restore_every_epoch", "stopper.restore(model) was called inside the epoch loop, which undoes "
             "training after every epoch; call it once, after the loop.", ("fit.restores_at_end",),
             feedback="stopper.restore should be called once, after the last step", restore_every_epoch=True)
_fit_mistake("trains_a_copy", "fit trained a deep copy of the model, so the caller's model never changes; "
             "train and restore the model that was passed in.", ("fit.restores_at_end",),
             feedback="fit trained or restored another model than the one passed in", train_copy=True)
_fit_mistake("ignores_stop", "the value returned by stopper.step was ignored: training ran all max_epochs.",
             ("fit.stops_when_told",),
             feedback="so stopper.step should be called", ignore_stop=True)
_fit_mistake("stopping_epoch_not_recorded", "the epoch that triggered the stop is missing from history",
             ("fit.stops_when_told",), feedback="so history should hold", break_before_record=True)
_fit_mistake("validation_in_train_mode", "the validation loss was computed in train mode (model.eval() missing): "
             "BatchNorm used the batch statistics and updated its running statistics with validation data.",
             ("fit.history_values",), val_train_mode=True)
_fit_mistake("train_mode_not_restored", "model.train() is called only once, before the first epoch: after the "
             "first validation pass the model stays in eval mode and trains with BatchNorm's running statistics; "
             "call model.train() at the start of every epoch.", ("fit.history_values",), no_train_mode=True)
_fit_mistake("no_zero_grad", "the gradients were never zeroed between batches (no zero_grad call): the gradients of "
             "all earlier batches accumulate into every step.", ("fit.history_values",), no_zero_grad=True)
_fit_mistake("summed_batch_losses", "the training loss was the SUM of the batch losses; history['train_loss'] "
             "holds their mean.", ("fit.history_values",), sum_losses=True)
_fit_mistake("train_loss_after_epoch", "history['train_loss'] was re-evaluated after the epoch in eval mode; it "
             "is the mean of the batch losses seen during the epoch (each taken before its optimizer step).",
             ("fit.history_values",), train_loss_after=True)
