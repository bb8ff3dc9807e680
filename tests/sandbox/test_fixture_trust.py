"""Fixture trust (issue 11, item 6): grader-owned code that runs in the student's process decides nothing.

Each attack is a solution notebook with one appended cell that (1) makes one exercise wrong in the way a
check exists to catch, and (2) patches, in the student's own process, the grader-owned probe, fixture method
or torch function that check used to read its verdict from, so that it lies. The lie must gain nothing: the
check still loses its points, with the specific feedback of the real mistake (docs/SECURITY.md, "Trust in
fixture code"). Graded in the sandbox, like any submission (fixture ``grade``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from helpers import load_nb, solution_path, with_cell_appended, write_nb


@dataclass(frozen=True)
class Lie:
    name: str
    assignment: str
    source: str
    check: str  # the check that must lose points
    feedback: str  # text its feedback must contain



# A build_model_do whose Dropout layers (right name, right p) drop nothing: the wrong model of the 05 lies.
NO_DROP_MLP = '''
class Dropout(nn.Dropout):  # a Dropout layer by name and p, that drops nothing
    def forward(self, x):
        return x
def build_model_do(input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), p=0.5):
    layers, width = [nn.Flatten()], 1
    for s in input_shape:
        width *= s
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(), Dropout(p)]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, num_classes))
'''
LIES = [
    # -- 02: parameter groups and stepped parameters ------------------------------------------------------
    Lie("param_groups_of_copies", "02_weight_penalties", '''
import autograder.fixtures.penalties as _P
_Solution = make_param_groups
def make_param_groups(model, weight_decay):  # copies of the parameters: the optimizer would update copies
    return [{**g, "params": [p.detach().clone().requires_grad_() for p in g["params"]]}
            for g in _Solution(model, weight_decay)]
def _lie(self, groups):
    names = [n for n, _ in self.named_parameters()]
    return {"names": [names[: len(groups[0]["params"])], names[len(groups[0]["params"]):]]}
_P.GroupProbe.group_report = _lie
''', "make_param_groups.partition", "not one of the model's parameters"),
    Lie("step_recorded_by_autograd", "02_weight_penalties", '''
import autograder.fixtures.penalties as _P
def sgd_step_weight_decay(params, lr, weight_decay):  # new non-leaf tensors put in the list
    for i, p in enumerate(params):
        if p.grad is not None:
            params[i] = p - lr * (p.grad + weight_decay * p)
_P.GradParams.state = lambda self: {
    "values": [p.detach().clone() for p in self], "grads": [None if p.grad is None else p.grad.clone() for p in self],
    "is_leaf": [True] * len(self), "requires_grad": [True] * len(self), "has_grad_fn": [False] * len(self)}
''', "sgd_step_weight_decay.in_place", "no longer leaf tensors requiring grad"),
    # -- 03/04: the autograd probe (ctx.probe "probes:module_autograd") -------------------------------------
    Lie("module_autograd_made_up_report", "03_batch_norm", '''
import torch
import autograder.fixtures.probes as _p
_Solution = BatchNorm1d
class BatchNorm1d(_Solution):  # the output carries no gradient
    def forward(self, x):
        return super().forward(x).detach()
def _lie(module, x, seed=0):
    d = module.weight.shape[0]
    return {"requires_grad": True, "output": None, "grads": {"weight": torch.ones(d), "bias": torch.ones(d)},
            "buffers_with_history": [], "deepcopy": True, "input_changed": False}
_p.module_autograd = _lie
''', "BatchNorm1d.module_autograd", "weight.grad and bias.grad after a backward pass"),
    Lie("probe_hides_input_change", "03_batch_norm", '''
import autograder.fixtures.probes as _p
_Solution = FixedBatchNorm
class FixedBatchNorm(_Solution):  # modifies its input in place
    def forward(self, x):
        out = super().forward(x)
        x.mul_(2.0)
        return out
_real = _p.module_autograd
def _lie(module, x, seed=0):  # the old probe's own verdict, made to say "unchanged"
    before = x.clone()
    report = _real(module, x, seed)
    x.copy_(before)
    report["input_changed"] = False
    return report
_p.module_autograd = _lie
''', "FixedBatchNorm.module_autograd", "modified its input x in place"),
    Lie("deep_copy_returns_the_original", "04_layer_norm", '''
import copy, torch
import autograder.fixtures.probes as _p
_Solution = LayerNorm
class LayerNorm(_Solution):  # holds a tensor with autograd history: copy.deepcopy raises
    def __init__(self, d, eps=1e-5):
        super().__init__(d, eps)
        self.scale_cache = self.weight * 1.0
_p.deep_copy = lambda module: module
_p.module_autograd.__globals__["copy"].deepcopy = lambda obj, memo=None: obj
''', "LayerNorm.module_autograd", "output of a deepcopy of LayerNorm"),
    # -- 06: the early-stopping model's own report -------------------------------------------------------
    Lie("replaced_tensors_reported_as_same", "06_early_stopping", '''
import torch
import autograder.fixtures.early_stopping as _fx
_Solution = EarlyStopping
class EarlyStopping(_Solution):  # restores the right values into new Parameter objects
    def restore(self, model):
        super().restore(model)
        for mod in model.modules():
            for name, p in list(mod._parameters.items()):
                if p is not None:
                    mod._parameters[name] = torch.nn.Parameter(p.detach().clone())
_fx.ProbeModel.probe = lambda self: {"parameter_names": sorted(n for n, _ in self.named_parameters()),
                                     "buffer_names": sorted(n for n, _ in self.named_buffers()),
                                     "same_objects": True, "parameters_ok": True, "buffers_ok": True,
                                     "training": self.training}
''', "EarlyStopping.restore", "other parameter/buffer objects than before"),
    # -- 08: side effects of the diagnostics (hooks, modes, replaced parameters) ------------------------
    Lie("hook_count_zeroed", "08_training_diagnostics", '''
import torch
import autograder.fixtures.diagnostics as _fx
_Solution = activation_stats
def activation_stats(model, x, threshold=0.97):  # leaves a hook behind
    model.register_forward_hook(lambda *a: None)
    return _Solution(model, x, threshold)
_fx._hook_count = lambda model: 0
_fx.Probed.probe = lambda self: {"hooks": 0, "param_names": [], "changed_params": [], "changed_grads": [],
                                 "changed_buffers": [], "changed_mode": [], "changed_requires_grad": [],
                                 "replaced": [], "not_leaf": [], "forwards_with_grad": 0}
''', "activation_stats.hooks_removed", "hook(s) still registered"),
    Lie("global_hook_hidden", "08_training_diagnostics", '''
import torch
import autograder.fixtures.diagnostics as _fx
_Solution = activation_stats
def activation_stats(model, x, threshold=0.97):  # leaves a global module hook behind
    torch.nn.modules.module.register_module_forward_hook(lambda *a: None)
    return _Solution(model, x, threshold)
_real = torch.nn.Module.register_forward_hook
def register_forward_hook(self, hook, *args, **kwargs):  # a torch method replaced from the notebook
    return _real(self, hook, *args, **kwargs)
torch.nn.Module.register_forward_hook = register_forward_hook
_fx._hook_count = lambda model: 0
''', "activation_stats.hooks_removed", "hook(s) still registered"),
    Lie("mode_change_hidden", "08_training_diagnostics", '''
import autograder.fixtures.diagnostics as _fx
_Solution = initial_loss
def initial_loss(model, x, y):  # the right loss, then the model is left in eval mode
    loss = _Solution(model, x, y)
    model.eval()
    return loss
_fx.Probed.probe = lambda self: {"hooks": 0, "param_names": [], "changed_params": [], "changed_grads": [],
                                 "changed_buffers": [], "changed_mode": [], "changed_requires_grad": [],
                                 "replaced": [], "not_leaf": [], "forwards_with_grad": 0}
''', "initial_loss.loss_side_effects", "changed the train/eval mode"),
    Lie("replaced_parameters_hidden", "08_training_diagnostics", '''
import torch
from torch import nn
import autograder.fixtures.diagnostics as _fx
def shrink_last_layer_(model, scale=0.01):  # new Parameter objects instead of in-place updates
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    last.weight = nn.Parameter(last.weight.detach() * scale)
    if last.bias is not None:
        last.bias = nn.Parameter(torch.zeros_like(last.bias))
    return model
_fx.Probed.probe = lambda self: {"hooks": 0, "param_names": [], "changed_params": [], "changed_grads": [],
                                 "changed_buffers": [], "changed_mode": [], "changed_requires_grad": [],
                                 "replaced": [], "not_leaf": [], "forwards_with_grad": 0}
''', "shrink_last_layer_.shrink_in_place", "replaced by new objects"),
    # -- 05: the forward-hook trace -----------------------------------------------------------------------
    Lie("trace_with_made_up_dropout", "05_dropout", '''
import torch
import torch.nn.functional as F
from torch import nn
import autograder.fixtures.dropout as _d
''' + NO_DROP_MLP + '''def _hook(self, module, inputs, output):  # records inputs of the later Linear layers as if dropped
    first = inputs[0].detach()
    if isinstance(module, nn.Linear) and self.calls:
        p = [m.p for m in self.root.modules() if isinstance(m, nn.Dropout)][0]
        first = F.dropout(first, p, training=True)
    self.calls.append([type(module).__name__, first.clone(), output.detach().clone()])
_d.Probe._hook = _hook
''', "build_model_do.mlp_probe", "Linear call"),
    Lie("trace_output_made_stochastic", "05_dropout", '''
import torch
from torch import nn
import autograder.fixtures.dropout as _d
''' + NO_DROP_MLP + '''_real = _d.Probe.trace
def _trace(self, x, train, hooks=True):  # train-mode outputs that differ from run to run
    out = _real(self, x, train, hooks)
    if train:
        out["output"] = out["output"] + 0.01 * torch.randn(out["output"].shape)
    return out
_d.Probe.trace = _trace
''', "build_model_do.mlp_modes", "dropout is not active in train mode"),  # the modes check reads no trace
    Lie("trace_consistent_but_not_the_model", "05_dropout", '''
import torch
import torch.nn.functional as F
from torch import nn
import autograder.fixtures.dropout as _d
''' + NO_DROP_MLP + '''_real = _d.Probe.trace
def _trace(self, x, train, hooks=True):  # a train-mode trace made up to be self-consistent, with dropout
    out = _real(self, x, train, hooks)
    if train:
        lins = [m for m in self.root.modules() if isinstance(m, nn.Linear)]
        calls = [c for c in out["calls"] if c[0] == "Linear"]
        p = [m.p for m in self.root.modules() if isinstance(m, nn.Dropout)][0]
        with torch.no_grad():
            for k in range(1, len(calls)):
                calls[k][1] = F.dropout(F.relu(calls[k - 1][2]), p, training=True)
                calls[k][2] = lins[k](calls[k][1])
        out["output"] = calls[-1][2]
    return out
_d.Probe.trace = _trace
''', "build_model_do.mlp_probe", "traced output vs the model's own forward pass"),
    Lie("constant_weights_hidden", "05_dropout", '''
import torch
from torch import nn
import autograder.fixtures.dropout as _d
_Solution = build_model_do
def build_model_do(*args, **kwargs):  # every weight matrix constant
    model = _Solution(*args, **kwargs)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.01)
    return model
_d.Probe.parameter_spread = lambda self: [[n, p.dim(), 0.0, 1.0] for n, p in self.root.named_parameters()]
''', "build_model_do.mlp_params", "are constant"),
    # -- 07: loops observed through fixture objects ------------------------------------------------------
    Lie("optimizer_coverage_faked", "07_regularization_showdown", '''
import copy
import autograder.fixtures.showdown as _s
_Solution = make_training_setup
def make_training_setup(model, kind, lr=1e-3, lam=1e-4):  # the optimizer updates a copy's parameters
    return _Solution(copy.deepcopy(model), kind, lr=lr, lam=lam)
_s.PenaltyNet.optimizer_coverage = lambda self, opt: {"covered": 10, "missing": 0, "foreign": 0, "repeated": 0}
''', "make_training_setup.optimizer", "does not update exactly the model's parameters"),
    Lie("mode_records_faked", "07_regularization_showdown", '''
import autograder.fixtures.showdown as _s
_Solution = train_epoch
def train_epoch(model, loader, optimizer, penalty=None, progress=False):  # trains in whatever mode it got
    model.train = lambda mode=True: model
    return _Solution(model, loader, optimizer, penalty, progress)
_s.ProbeNet.mode_records = lambda self: [True] * 20
''', "train_epoch.train_mode", "BatchNorm counted"),
    Lie("evaluate_state_faked", "07_regularization_showdown", '''
import autograder.fixtures.showdown as _s
_Solution = evaluate
def evaluate(model, loader):  # evaluates in train mode: BN statistics change
    model.eval = lambda: model
    return _Solution(model, loader)
_s.ProbeNet.mode_records = lambda self: [False] * 5
_init = _s.ProbeNet.__init__
def _remembering_init(self, *args, **kwargs):  # the state as built, replayed by state()
    _init(self, *args, **kwargs)
    object.__setattr__(self, "_as_built", {k: v.detach().clone() for k, v in self.state_dict().items()})
_s.ProbeNet.__init__ = _remembering_init
_s.ProbeNet.state = lambda self: {k: v.clone() for k, v in self._as_built.items()}
''', "evaluate.eval_mode", "evaluate changed the model's parameters or BN running statistics"),
    # -- records kept by fixture code with nothing to tie them to (now: torch-owned state, value consequences)
    Lie("test_loader_count_hidden", "06_early_stopping", '''
import torch
import autograder.fixtures.early_stopping as _fx
_Solution = fit
def fit(model, loaders, max_epochs, stopper, *args, **kwargs):  # looks at the test set before training
    try:
        [len(x) for x, _ in loaders["test"]]
    except RuntimeError:
        pass
    return _Solution(model, loaders, max_epochs, stopper, *args, **kwargs)
for _name in ("SentinelLoader", "CountingLoader"):  # the loaders' own counters say "never iterated"
    if hasattr(_fx, _name):
        getattr(_fx, _name).touches = lambda self: 0
if hasattr(_fx, "RefusingData"):  # the sentinel serves data instead of raising
    _fx.RefusingData.__getitem__ = lambda self, i: (torch.zeros(5), torch.tensor(0))
''', "fit.never_touches_test", "fit iterated loaders['test'] 1 times"),
    Lie("restored_state_faked", "06_early_stopping", '''
import torch
import torch.nn.functional as F
import autograder.fixtures.early_stopping as _fx
_Solution = fit
def fit(model, loaders, max_epochs, stopper, *args, **kwargs):  # trains one more epoch after restore
    history = _Solution(model, loaders, max_epochs, stopper, *args, **kwargs)
    model.train()
    for x, y in loaders["train"]:
        grads = torch.autograd.grad(F.cross_entropy(model(x), y), list(model.parameters()))
        with torch.no_grad():
            for p, g in zip(model.parameters(), grads):
                p.sub_(0.05 * g)
    return history
_log = _fx.ProbeStopper.log
def _lying_log(self):  # "restored" = whatever the model holds now
    out = _log(self)
    out["restored"] = {n: t.detach().clone() for n, t in self._models[0].state_dict().items()}
    return out
_fx.ProbeStopper.log = _lying_log
''', "fit.restores_at_end", "the model changed after stopper.restore(model)"),
    Lie("loader_passes_faked", "07_regularization_showdown", '''
import autograder.fixtures.showdown as _s
_Solution = train_epoch
def train_epoch(model, loader, optimizer, penalty=None, progress=False):  # an extra pass to count the batches
    sum(1 for _ in loader)
    return _Solution(model, loader, optimizer, penalty, progress)
if hasattr(_s, "ProbeLoader"):  # the loader's own counters say "one pass"
    _s.ProbeLoader.iterations = property(lambda self: 1, lambda self, value: None)
    _s.ProbeLoader.batches_served = property(lambda self: len(self), lambda self, value: None)
''', "train_epoch.one_pass", "the loader was iterated 2 time(s)"),
    Lie("optimizer_steps_faked", "07_regularization_showdown", '''
import torch.nn.functional as F
def train_epoch(model, loader, optimizer, penalty=None, progress=False):  # one optimizer step per epoch
    model.train()
    optimizer.zero_grad()
    total, n = 0.0, 0
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        if penalty is not None:
            loss = loss + penalty(model)
        loss.backward()
        total += float(loss.detach()) * len(y)
        n += len(y)
    optimizer.step()
    optimizer.steps = len(loader)  # the counting optimizer's record now says: one step per batch
    return total / n
''', "train_epoch.one_pass", "optimizer.step() was called 1 times"),
    # -- a graph built and freed during a measurement: torch's saved-tensors hooks witness it ----------------
    Lie("grad_records_faked", "07_regularization_showdown", '''
import torch.nn.functional as F
import autograder.fixtures.showdown as _s
def evaluate(model, loader):  # autograd on: a graph is built (and freed) at every batch
    was = model.training
    model.eval()
    total, correct, n = 0.0, 0, 0
    for x, y in loader:
        logits = model(x)
        total += float(F.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
        n += len(y)
    model.train(was)
    return total / n, correct / n
def _forward(self, x):  # the mode probe records nothing that could say "autograd on"
    self.records.append(bool(self.training))
    return x
_s.ModeProbe.forward = _forward
''', "evaluate.no_grad", "autograd was on during evaluation"),
    Lie("graph_count_faked", "08_training_diagnostics", '''
import torch.nn.functional as F
import autograder.fixtures.diagnostics as _fx
def initial_loss(model, x, y):  # no torch.no_grad(): a graph is built and freed
    return F.cross_entropy(model(x), y).detach()
if hasattr(_fx.Probed, "note_forward"):  # the model's own count of forward passes with autograd says 0
    _fx.Probed.note_forward = lambda self: None
''', "initial_loss.loss_side_effects", "initial_loss ran the model with autograd on"),
    Lie("graph_hidden_by_own_hooks", "08_training_diagnostics", '''
import torch
import torch.nn.functional as F
def initial_loss(model, x, y):  # covers the grader's saved-tensors hooks with its own, then builds a graph
    torch._C._autograd._push_saved_tensors_default_hooks(lambda t: t, lambda t: t)
    return F.cross_entropy(model(x), y).detach()
''', "initial_loss.loss_side_effects", "hooks the grader set around the call were removed or covered"),
    Lie("train_mode_record_faked", "09_autoencoders", '''
import autograder.fixtures.autoencoders as _a
_Solution = denoising_step
def denoising_step(model, x, p, optimizer, generator):  # the step runs in whatever mode the model is in
    model.train = lambda mode=True: model
    return _Solution(model, x, p, optimizer, generator)
_a.ProbeAutoencoder.modes_seen = property(lambda self: [True], lambda self, value: None)  # "always train mode"
''', "denoising_step.train_mode_step", "the model ran in eval mode during the step"),
    Lie("config_types_faked", "10_hparam_search", '''
import torch
import autograder.fixtures.hparam_search as _h
_Solution = random_search
def random_search(train_fn, space, n_trials, seed):  # one-element tensors instead of Python floats
    t = lambda c: {k: torch.tensor([v]) if isinstance(v, float) else v for k, v in c.items()}
    best, history = _Solution(lambda c: train_fn(t(c)), space, n_trials, seed)
    return t(best), [{"config": t(h["config"]), "result": h["result"]} for h in history]
_h.ScriptedTrainFn.value_types = lambda self: [{k: "float" for k in c} for c in self.configs]
''', "random_search.draws", "numeric values go into the config as Python floats"),
]


@pytest.mark.parametrize("lie", LIES, ids=[lie.name for lie in LIES])
def test_a_lying_fixture_gains_nothing(lie, grade, tmp_path):
    nb = with_cell_appended(load_nb(solution_path(lie.assignment)), lie.source.strip("\n") + "\n")
    result = grade(write_nb(nb, tmp_path / f"{lie.assignment}-{lie.name}.ipynb"))
    assert result.error is None, result.error
    by_name = {c.name: c for c in result.checks}
    check = by_name[lie.check]
    assert check.score < check.points, f"{lie.check} kept its points despite the lie"
    assert lie.feedback in check.feedback, check.feedback
