"""Visible checks of assignment 06 (shipped to students; the self-check runs these).

``EarlyStopping`` is driven by scripted validation sequences (plateaus, exact ties, gains within
``min_delta``, late improvements, ``mode="max"``). Its ``step`` gets a grader-owned model
(``autograder.fixtures.early_stopping.epoch_model``: Linear -> BatchNorm1d -> ReLU -> Linear) whose
parameters *and buffers* the check overwrites in place after every step ("the model trains on"), so
``restore`` must hand back a copy of the best epoch's state: a state saved by reference follows the
model, and one saved from ``parameters()`` misses BatchNorm's running statistics.

``fit`` is checked with a grader-owned stand-in stopper (``ProbeStopper``: scripted decisions, records
every call), so its checks do not depend on the student's ``EarlyStopping``; its ``loaders["test"]`` is a
torch DataLoader whose own generator shows how often it was iterated (in one check it also refuses to serve
examples); the "overfit" task's training loss keeps falling while
its validation loss turns up, and the stopper must get the validation loss.
"""

from __future__ import annotations

import torch

from autograder import compare, wire
from autograder.checks import Suite
from autograder.fixtures import early_stopping as fx

suite = Suite(__name__)
FX = "autograder.fixtures.early_stopping"


# ---------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------
def method_with_args(ctx, ref: wire.Ref, name: str, *args):
    """``ref.name(*args)`` on a student object, returning ``(result, args_after)``: objects built from a
    ``ctx.make`` come back as refs, so the check can keep using the very object the student got."""
    return ctx.method_with_args(ref, name, *args)


def tensors_of(ctx, model):
    """The identity table of the model's parameter and buffer objects (``ctx.identity_table``: kept in the
    student's process, keyed by the objects themselves)."""
    return ctx.identity_table(model, buffers=True)


def same_model_in_calls(ctx, stopper, model, calls) -> bool:
    """Whether every recorded stopper call got ``model`` itself: the stopper keeps the model objects it was
    given (``_models``; a call records an index into it); each is looked up, by identity, in a dict keyed by
    ``model`` built in the student's process (``ctx.names_in``: names come back, decided here)."""
    table = ctx.table_of([model], ["model"])
    found = ctx.names_in(table, ctx.student.method_kept(stopper, "__getattribute__", "_models"))
    return all(isinstance(c[2], int) and 0 <= c[2] < len(found) and found[c[2]] == "model" for c in calls)


def module_state(ctx, model, originals) -> dict:
    """Decided here, from what ordinary calls read (no verdict from fixture code): the parameter and buffer
    names, whether each is still the object it was (``originals``: the identity table from :func:`tensors_of`),
    parameters trainable leaves, buffers without autograd history."""
    info = ctx.describe(model)
    params = info.get("parameters", [])
    leaves = ctx.getattrs(ctx.kept_list(model, "parameters"), ["is_leaf"] * len(params))
    names = [n for n, _, _ in params] + [b[0] for b in info.get("buffers", [])]
    found = (ctx.names_in(originals, ctx.kept_list(model, "parameters"))
             + ctx.names_in(originals, ctx.kept_list(model, "buffers")))
    return {"parameter_names": sorted(n for n, _, _ in params),
            "buffer_names": sorted(b[0] for b in info.get("buffers", [])),
            "same_objects": found == names,
            "parameters_ok": all(grad and leaf for (_, _, grad), leaf in zip(params, leaves)),
            "buffers_ok": not any(len(b) > 2 and b[2] for b in info.get("buffers", []))}


def iterations_of_test_loader(ctx, loader, seed: int, most: int = 64):
    """How many times ``loader`` (``task_loaders(..., seed)["test"]``, a torch DataLoader) was iterated: torch
    draws one number from the loader's generator per ``iter()``; the generator's state (``get_state()``, read
    through the protocol) is compared with the grader's own copy after 0, 1, 2, ... such draws. None when it
    matches none of them (another generator, or a state set by hand)."""
    got = ctx.method(ctx.attr(loader, "generator"), "get_state")
    mine = fx.generator_of_test_loader(seed)
    for k in range(most + 1):
        if isinstance(got, torch.Tensor) and torch.equal(got, mine.get_state()):
            return k
        fx.draw_like_an_iteration(mine)
    return None


def final_val_losses(task: str, seed: int, state: dict) -> list[float]:
    """The validation loss of a task model holding ``state`` (the model after fit, read by state_dict), as fit
    computes it: in eval mode (the course's loop) and, for a loop that validates in train mode (a mistake of
    fit.history_values, not charged here), with batch statistics per validation batch."""
    model = fx.task_model(seed, d_out=3 if task == "classify" else 1)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, KeyError, AttributeError):
        return [float("nan")]
    x, y = fx.task_data(task, seed)["val"]
    loss_fn = torch.nn.functional.cross_entropy if task == "classify" else torch.nn.functional.mse_loss
    out = []
    with torch.no_grad():
        model.eval()
        out.append(float(loss_fn(model(x), y)))
        model.train()
        out.append(sum(float(loss_fn(model(x[i:i + 8]), y[i:i + 8])) for i in range(0, len(y), 8)) / (len(y) // 8))
    return out


def as_bool(value):
    """A decision as a Python bool (bools, NumPy bools and one-element bool tensors); other values as is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype == torch.bool:
        return bool(value.reshape(()).item())
    return value


def as_number(value):
    """A metric as a Python float (numbers and one-element tensors); other values (None, ...) as is."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.reshape(()).item())
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def as_int(value):
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        return int(value.reshape(()).item())
    return value


def new_stopper(ctx, patience, min_delta=None, mode=None):
    """``EarlyStopping(patience, ...)``, passing min_delta/mode only when the case sets them (defaults)."""
    kwargs = {}
    if min_delta is not None:
        kwargs["min_delta"] = min_delta
    if mode is not None:
        kwargs["mode"] = mode
    return ctx.call("EarlyStopping", patience, **kwargs)


def settings(patience, min_delta, mode) -> str:
    parts = [f"patience={patience}"]
    parts += [f"min_delta={min_delta}"] if min_delta is not None else []
    parts += [f"mode={mode!r}"] if mode is not None else []
    return ", ".join(parts)


def run_sequence(ctx, values, patience, min_delta=None, mode=None, seed=0, as_tensor=False, read_attrs=False):
    """Feed ``values`` to a new stopper, one ``step`` per epoch, "training" the model between steps.

    Every value is fed (also after a True), so the decisions are a list of len(values). Returns
    ``(decisions, attributes)`` with attributes ``{"best": [...], "best_epoch": [...], "counter": [...]}``
    read after each step (only if ``read_attrs``)."""
    stopper = new_stopper(ctx, patience, min_delta, mode)
    model = ctx.make(f"{FX}:epoch_model", seed)
    decisions, attrs = [], {"best": [], "best_epoch": [], "counter": []}
    for k, v in enumerate(values):
        metric = torch.tensor(v, dtype=torch.float64) if as_tensor else v
        decision, args = method_with_args(ctx, stopper, "step", metric, model)
        model = args[1]
        decisions.append(as_bool(decision))
        if read_attrs:
            attrs["best"].append(as_number(ctx.attr(stopper, "best")))
            attrs["best_epoch"].append(as_int(ctx.attr(stopper, "best_epoch")))
            attrs["counter"].append(as_int(ctx.attr(stopper, "counter")))
        ctx.method(model, "set_epoch", k + 1)
    return decisions, attrs


DECISION_HINT = ("an epoch improves only if its metric beats the best so far by MORE than min_delta (mode='min': "
                 "metric < best - min_delta; mode='max': metric > best + min_delta); every other epoch adds 1 to "
                 "the counter, an improvement resets it to 0, and step returns True as soon as counter >= patience.")


def expect_decisions(ctx, decisions, values, patience, min_delta, mode):
    what = ("step's return values, epoch by epoch" if ctx.hidden else
            f"step's return values for the metrics {values} ({settings(patience, min_delta, mode)}), epoch by epoch")
    ctx.expect(all(isinstance(d, bool) for d in decisions),
               f"step should return a bool (True = stop now); got {[compare.describe_value(d) for d in decisions]}")
    ctx.expect_reference(decisions, what, tier="exact")


# ---------------------------------------------------------------------------------------------------
# 1. EarlyStopping: decisions
# ---------------------------------------------------------------------------------------------------
def make_decision_check(name: str):
    def run(ctx, values, patience, min_delta=None, mode=None, seed=0, as_tensor=False):
        decisions, _ = run_sequence(ctx, values, patience, min_delta, mode, seed, as_tensor)
        expect_decisions(ctx, decisions, values, patience, min_delta, mode)

    run.__name__ = name
    return run


plateau = suite.check(
    "EarlyStopping", points=2, title="plateaus and exact ties (defaults min_delta=0.0, mode='min'): stop on the "
    "patience-th epoch without improvement",
    cases=[{"values": [1.0, 0.9, 0.9, 0.9, 0.95, 0.93, 0.97], "patience": 3},
           {"values": [0.5, 0.4, 0.4], "patience": 1}],
    hint="a tie (the same value as the best) is not an improvement; step returns True on the patience-th "
         "consecutive epoch without improvement (counter >= patience), not one epoch later or earlier.",
)(make_decision_check("plateau"))

late_improvement = suite.check(
    "EarlyStopping", points=1, title="a late improvement resets the counter (patience=3)",
    cases=[{"values": [1.0, 1.05, 1.1, 0.9, 0.95, 0.97, 0.99], "patience": 3}],
    hint="an improvement resets the counter to 0: the patience counts CONSECUTIVE epochs without improvement.",
)(make_decision_check("late_improvement"))

min_delta = suite.check(
    "EarlyStopping", points=2, title="min_delta=0.25: gains of 0.2 and of exactly 0.25 are not improvements",
    cases=[{"values": [2.0, 1.8, 1.75, 1.5, 1.6, 1.4, 1.3, 1.26, 1.3, 1.35, 1.4], "patience": 3, "min_delta": 0.25}],
    hint="with mode='min' an epoch improves only if metric < best - min_delta (a gain larger than min_delta); "
         "a smaller gain counts as no improvement.",
)(make_decision_check("min_delta"))

mode_max = suite.check(
    "EarlyStopping", points=2, title="mode='max' (an accuracy): higher is better, min_delta=0.01, patience=2",
    cases=[{"values": [0.5, 0.6, 0.65, 0.655, 0.7, 0.68, 0.695, 0.67], "patience": 2, "min_delta": 0.01,
            "mode": "max"}],
    hint="with mode='max' higher is better: an epoch improves only if metric > best + min_delta.",
)(make_decision_check("mode_max"))


# ---------------------------------------------------------------------------------------------------
# 2. EarlyStopping: attributes
# ---------------------------------------------------------------------------------------------------
@suite.check("EarlyStopping", points=1, title="best, best_epoch (0-based) and counter after every step",
             cases=[{"values": [2.0, 1.8, 1.75, 1.5, 1.4, 1.3, 1.26], "patience": 5, "min_delta": 0.25}],
             hint="after each step: best = the metric of the last improving epoch (a float), best_epoch = its "
                  "0-based index (the k-th call of step is epoch k), counter = epochs since then without "
                  "improvement.")
def attributes(ctx, values, patience, min_delta=None, mode=None, seed=0):
    _, attrs = run_sequence(ctx, values, patience, min_delta, mode, seed, read_attrs=True)
    tail = "" if ctx.hidden else f" after each step, for the metrics {values} ({settings(patience, min_delta, mode)})"
    ctx.expect(all(isinstance(b, float) for b in attrs["best"]),
               f"stopper.best should be a number after every step; got {attrs['best']}")
    ctx.expect_reference(attrs["best_epoch"], "stopper.best_epoch" + tail, tier="exact")
    ctx.expect_reference(attrs["best"], "stopper.best" + tail, tier="op")
    ctx.expect_reference(attrs["counter"], "stopper.counter" + tail, tier="exact")


# ---------------------------------------------------------------------------------------------------
# 3. EarlyStopping: restore
# ---------------------------------------------------------------------------------------------------
BY_REFERENCE = ("the state was saved by reference (or restore changed nothing): after restore the model holds its "
                "current values, because model.state_dict() returns the live tensors that training keeps updating "
                "in place; save a copy, e.g. copy.deepcopy(model.state_dict())")
RESTORES_LAST = ("restore loaded the state of the LAST step, not of the best epoch: save the state only when an "
                 "epoch improves")
NOT_BUFFERS = ("the buffers (BatchNorm's running_mean, running_var, num_batches_tracked) were not restored: save "
               "and load the whole state_dict(), not only parameters()")
NOT_IN_PLACE = ("restore must load the values into the model's own tensors (model.load_state_dict(...)), "
                "not replace its parameters or add new ones")


def _which_epoch(got: dict, names, states: dict):
    """The first epoch whose state matches ``got`` on ``names`` exactly (None if none does)."""
    for epoch, state in states.items():
        if all(n in got and compare.difference(state[n], got[n], "exact") is None for n in names):
            return epoch
    return None


@suite.check("EarlyStopping", points=3,
             title="restore gives the best epoch's parameters AND buffers after the model trained on; step leaves "
                   "the model alone",
             cases=[{"values": [1.0, 0.6, 0.5, 0.55, 0.58, 0.7], "patience": 3, "seed": 0}],
             hint="on every improvement keep a deep copy of model.state_dict() (parameters and buffers); restore "
                  "loads that copy into the model with model.load_state_dict(...).")
def restore(ctx, values, patience, seed, mode=None):
    stopper = new_stopper(ctx, patience, None, mode)
    reference = fx.epoch_model(seed)
    param_names = [n for n, _ in reference.named_parameters()]
    buffer_names = [n for n, _ in reference.named_buffers()]
    model = ctx.make(f"{FX}:epoch_model", seed)
    originals = None
    for k, v in enumerate(values):
        _, args = method_with_args(ctx, stopper, "step", v, model)
        model = args[1]
        if originals is None:  # the tensor objects the model was built with (step must not replace them)
            originals = tensors_of(ctx, model)
        after = ctx.method(model, "state_dict")
        ctx.expect_equal(after, reference.epoch_state(k), f"the model's state after step at epoch {k}",
                         hint="step must not change the model: read its state_dict and copy it, nothing else.")
        ctx.method(model, "set_epoch", k + 1)  # the model trains on: every tensor is updated in place
    last = len(values)
    ctx.method(model, "set_epoch", last + 1)  # one more epoch after the last step
    best = (min if mode != "max" else max)(range(last), key=values.__getitem__)
    result = ctx.method(stopper, "restore", model)
    ctx.expect(result is None or isinstance(result, wire.Ref),
               f"restore should load the state into the model and return None; got {compare.describe_value(result)}")
    got = ctx.method(model, "state_dict")
    ctx.expect(isinstance(got, dict) and set(got) == set(reference.state_dict()),
               "after restore, model.state_dict() has other keys than before", hint=NOT_IN_PLACE)
    states = {e: reference.epoch_state(e) for e in (best, last - 1, last + 1)}
    where = "" if ctx.hidden else f" (best epoch {best}, last step at epoch {last - 1})"
    if _which_epoch(got, param_names, {best: states[best]}) is None:
        seen = _which_epoch(got, param_names, states)
        if seen == last + 1:
            ctx.fail("after restore the parameters are the model's current values, not the best epoch's" + where,
                     BY_REFERENCE)
        if seen == last - 1:
            ctx.fail("after restore the parameters are those of the last step, not of the best epoch" + where,
                     RESTORES_LAST)
        ctx.fail("after restore the parameters are not the best epoch's" + where)
    if _which_epoch(got, buffer_names, {best: states[best]}) is None:
        ctx.fail("after restore the parameters are the best epoch's but the buffers are not" + where, NOT_BUFFERS)
    probe = module_state(ctx, model, originals)
    ctx.expect(probe["same_objects"] and probe["parameter_names"] == sorted(param_names)
               and probe["buffer_names"] == sorted(buffer_names),
               "after restore the model holds other parameter/buffer objects than before", NOT_IN_PLACE)
    ctx.expect(probe["parameters_ok"] and probe["buffers_ok"],
               "after restore a parameter is no longer a trainable leaf, or a buffer carries autograd history",
               NOT_IN_PLACE)


# ---------------------------------------------------------------------------------------------------
# 4. fit
# ---------------------------------------------------------------------------------------------------
def call_fit(ctx, task, seed, max_epochs, stopper: dict, lr=None, loss=None, test="counting", originals=None):
    """``fit(model, loaders, max_epochs, stopper[, lr][, loss_fn], optimizer_cls=PlainSGD)`` on grader-owned
    objects (PlainSGD = torch.optim.SGD without momentum, minus the seconds its construction costs).

    Returns ``(history, model_ref, loaders_after, stopper_ref)``."""
    kw = {"optimizer_cls": ctx.make(f"{FX}:plain_sgd")}
    if lr is not None:
        kw["lr"] = lr
    if loss == "mse":
        kw["loss_fn"] = ctx.make(f"{FX}:mse_loss")
    d_out = 3 if task == "classify" else 1
    model = ctx.make(f"{FX}:task_model", seed, d_out=d_out)
    if originals is not None:  # built first and kept, to see afterwards whether fit replaced its tensors
        model = ctx.probe_kept(model.factory, *model.args, **model.kwargs)
        originals.append(tensors_of(ctx, model))
    loaders = ctx.make(f"{FX}:task_loaders", task, seed, test=test)
    probe = ctx.make(f"{FX}:probe_stopper", **stopper)
    history, args = ctx.call_with_args("fit", model, loaders, max_epochs, probe, **kw)
    return history, args[0], args[1], args[3]


def expect_history(ctx, history) -> dict:
    """history is a dict with lists "train_loss" and "val_loss" of numbers; returns them as floats."""
    ctx.expect(isinstance(history, dict) and {"train_loss", "val_loss"} <= set(history),
               f"fit should return a dict with the lists 'train_loss' and 'val_loss'; got "
               f"{compare.describe_value(history)}")
    out = {}
    for key in ("train_loss", "val_loss"):
        values = history[key]
        ctx.expect(isinstance(values, (list, tuple)), f"history[{key!r}] should be a list; got "
                                                      f"{compare.describe_value(values)}")
        ctx.expect(all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values),
                   f"history[{key!r}] should hold one Python float per epoch; got "
                   f"{[compare.describe_value(v) for v in values][:4]}",
                   hint="append loss.item() (a float), not the loss tensor: a tensor that requires grad keeps "
                        "its whole autograd graph alive.")
        out[key] = [float(v) for v in values]
    ctx.expect(len(out["train_loss"]) == len(out["val_loss"]),
               f"history has {len(out['train_loss'])} training losses but {len(out['val_loss'])} validation losses")
    return out


@suite.check("fit", points=2,
             title="the training loop: per-epoch mean training loss and validation loss (eval mode), defaults "
                   "lr and loss_fn, and lr=0.02 with an MSE loss",
             cases=[{"task": "classify", "seed": 0, "max_epochs": 3},
                    {"task": "overfit", "seed": 1, "max_epochs": 4, "lr": 0.02, "loss": "mse"}],
             hint="per epoch: model.train(); for each training batch zero_grad, loss_fn(model(x), y), backward, "
                  "optimizer.step(), and train_loss = the mean of the batch losses; then model.eval() and, under "
                  "torch.no_grad(), val_loss = the mean loss over the validation examples.")
def history_values(ctx, task, seed, max_epochs, lr=None, loss=None):
    history, _, loaders, _ = call_fit(ctx, task, seed, max_epochs, {}, lr, loss)
    hist = expect_history(ctx, history)
    ctx.expect(len(hist["val_loss"]) == max_epochs,
               f"with a stopper that never says stop, fit should run max_epochs={max_epochs} epochs; history has "
               f"{len(hist['val_loss'])}", hint="run `for epoch in range(max_epochs)` and leave only when "
                                                "stopper.step(...) returns True.")
    ctx.expect_reference(hist["train_loss"], "history['train_loss']", tier="steps")
    ctx.expect_reference(hist["val_loss"], "history['val_loss']", tier="steps")
    data = fx.task_data(task, seed)
    for split in ("train", "val"):
        tensors = ctx.attr(ctx.attr(loaders[split], "dataset"), "tensors")
        ctx.expect(compare.difference(list(data[split]), list(tensors), "exact") is None,
                   f"fit changed the data of loaders[{split!r}] in place",
                   hint="never modify the batches (or the data set) in place: compute new tensors.")


@suite.check("fit", points=1,
             title="fit stops right after the epoch on which stopper.step returned True, and runs max_epochs "
                   "otherwise",
             cases=[{"task": "classify", "seed": 2, "max_epochs": 6, "stop_at": 2},
                    {"task": "classify", "seed": 3, "max_epochs": 2, "stop_at": None}],
             hint="record the epoch's losses in history, then `if stopper.step(val_loss, model): break`; the epoch "
                  "that triggered the stop is in history, and no epoch runs after it.")
def stops_when_told(ctx, task, seed, max_epochs, stop_at):
    history, _, _, stopper = call_fit(ctx, task, seed, max_epochs, {"stop_at": stop_at})
    hist = expect_history(ctx, history)
    log = ctx.method(stopper, "log")
    steps = len(log["metrics"])
    expected = max_epochs if stop_at is None else stop_at + 1
    told = ("the stopper never says stop" if stop_at is None else
            f"the stopper returns True at epoch {stop_at}")
    ctx.expect(steps == expected,
               f"{told} and max_epochs={max_epochs}, so stopper.step should be called {expected} times; it was "
               f"called {steps} times")
    ctx.expect(len(hist["val_loss"]) == expected,
               f"{told}, so history should hold {expected} epochs; it holds {len(hist['val_loss'])}")


@suite.check("fit", points=2,
             title="the stopper gets the validation loss (the 'overfit' task: training loss falls, validation "
                   "loss turns up)",
             cases=[{"task": "overfit", "seed": 0, "max_epochs": 12, "lr": 0.02}],
             hint="call stopper.step(val_loss, model) with this epoch's validation loss: early stopping watches "
                  "held-out data, never the training loss (which keeps falling while the model overfits).")
def feeds_validation_loss(ctx, task, seed, max_epochs, lr):
    history, _, _, stopper = call_fit(ctx, task, seed, max_epochs, {"stop_on_rise": True}, lr, "mse")
    hist = expect_history(ctx, history)
    log = ctx.method(stopper, "log")
    fed = log["metrics"]
    n = min(len(fed), len(hist["val_loss"]))
    ctx.expect(n > 0, f"stopper.step was called {len(fed)} times for {len(hist['val_loss'])} epochs in history",
               hint="call stopper.step exactly once per epoch, after the validation pass.")
    fed, val, train = fed[:n], hist["val_loss"][:n], hist["train_loss"][:n]
    if not compare.close(val, fed, "op") and compare.close(train, fed, "op"):
        ctx.fail("the stopper got the training loss of every epoch, not the validation loss",
                 "early stopping on the training loss never stops while the model overfits: pass the validation "
                 "loss to stopper.step")
    ctx.expect(compare.close(val, fed, "op"),
               "the values passed to stopper.step are not history['val_loss'] "
               f"({compare.difference(val, fed, 'op', reveal=not ctx.hidden)})")


@suite.check("fit", points=2,
             title="after the loop, stopper.restore(model) is called once, on the model passed in, and nothing "
                   "changes the model after it",
             cases=[{"task": "classify", "seed": 4, "max_epochs": 6, "stop_at": 3, "restore_epoch": 1}],
             hint="after the loop (stopped or not) call stopper.restore(model) once, on fit's own model, and return "
                  "history; do not train a copy of the model or touch it after restoring.")
def restores_at_end(ctx, task, seed, max_epochs, stop_at, restore_epoch):
    originals: list = []
    history, model, _, stopper = call_fit(ctx, task, seed, max_epochs,
                                          {"stop_at": stop_at, "restore_epoch": restore_epoch}, originals=originals)
    hist = expect_history(ctx, history)
    log = ctx.method(stopper, "log")
    calls = log["calls"]
    restores = [c for c in calls if c[0] == "restore"]
    ctx.expect(restores, "fit never called stopper.restore(model): the model is left at its last epoch",
               hint="after the loop, call stopper.restore(model) to get the best epoch's state back.")
    ctx.expect(len(restores) == 1 and calls[-1][0] == "restore",
               f"stopper.restore should be called once, after the last step; the calls were "
               f"{[c[0] for c in calls]}")
    ctx.expect(same_model_in_calls(ctx, stopper, model, calls),
               "fit trained or restored another model than the one passed in (a copy?): the caller's model must be "
               "the one that ends with the best state")
    got = ctx.method(model, "state_dict")
    # What the model holds after fit, judged from its own state_dict (no record of ours): the stand-in stopper
    # restores the state the model had at step(restore_epoch), the state whose validation loss fit recorded as
    # history['val_loss'][restore_epoch]. The grader computes the final model's validation loss itself.
    ctx.expect(len(hist["val_loss"]) > restore_epoch,
               f"history holds {len(hist['val_loss'])} epochs; the stopper restores epoch {restore_epoch}")
    recorded = hist["val_loss"][restore_epoch]
    final = final_val_losses(task, seed, got)
    ctx.expect(any(compare.close(recorded, v, "steps") for v in final),
               "the model changed after stopper.restore(model): restore must be the last thing fit does to it "
               + ("" if ctx.hidden else
                  f"(the final model's validation loss is {final[0]:.6g}; history['val_loss'][{restore_epoch}], the "
                  f"epoch the stopper restores, is {recorded:.6g})"))
    probe = module_state(ctx, model, originals[0])
    reference = fx.task_model(seed, d_out=3)
    ctx.expect(probe["same_objects"] and probe["parameter_names"] == sorted(n for n, _ in reference.named_parameters())
               and probe["buffer_names"] == sorted(n for n, _ in reference.named_buffers()),
               "after fit the model holds other (or more) parameters or buffers than the model passed in")


@suite.check("fit", points=2,
             title="fit never touches loaders['test'] (a sentinel loader that raises when iterated)",
             cases=[{"task": "classify", "seed": 5, "max_epochs": 5, "stop_at": 2}],
             hint="fit uses loaders['train'] and loaders['val'] only; the test set is evaluated once, outside fit, "
                  "after training and model selection are done.")
def never_touches_test(ctx, task, seed, max_epochs, stop_at):
    history, _, loaders, stopper = call_fit(ctx, task, seed, max_epochs, {"stop_at": stop_at}, test="sentinel")
    touches = iterations_of_test_loader(ctx, loaders["test"], seed)
    ctx.expect(touches == 0, "fit iterated loaders['test'] "
                             + ("(its generator was replaced or reset)" if touches is None else f"{touches} times"))
    hist = expect_history(ctx, history)
    steps = len(ctx.method(stopper, "log")["metrics"])
    ctx.expect(steps > 0 and hist["val_loss"],
               f"fit should train and validate: it ran {len(hist['val_loss'])} epochs and called stopper.step "
               f"{steps} times")
