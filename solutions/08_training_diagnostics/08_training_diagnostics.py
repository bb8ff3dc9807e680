# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: regnorm
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
#   regnorm:
#     assignment: 08_training_diagnostics
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 08 · Training diagnostics
#
# A network that "does not train" rarely says why. A handful of cheap measurements, taken **before** and
# **during** training, tell you most of what can go wrong (this notebook follows Karpathy's *makemore part 3*
# and d2l's chapter on numerical stability):
#
# 1. **the loss at initialization** should be $\ln C$ for $C$ classes; a much larger one means a *confidently
#    wrong* softmax, fixed by shrinking the last layer (`expected_initial_loss`, `initial_loss`,
#    `shrink_last_layer_`);
# 2. **activation statistics** per layer: mean, standard deviation and the fraction of saturated `tanh` units
#    (`activation_stats`, with forward hooks);
# 3. **initialization** that keeps those statistics stable with depth: Kaiming / He (`kaiming_init_`), and
#    why products of random matrices explode without it;
# 4. **batch norm** as the other fix: histograms of activations and gradients per layer with and without BN;
# 5. the **update-to-data ratio** of every weight during training, $\log_{10}$ of about $-3$ being healthy
#    (`update_to_data_ratios`), with a learning rate that is too low and one that is too high.
#
# **Conventions used below (the checks rely on them)**
#
# * Cross-entropy is `F.cross_entropy` (mean over the batch, natural log).
# * "Layers" for activation statistics are the **outputs of every `nn.Tanh` and `nn.ReLU` module** of a
#   model, named as in `model.named_modules()`. A `tanh` unit is *saturated* when $|h| > 0.97$ (strictly
#   greater); a ReLU unit is saturated when its output is exactly 0 (its gradient is 0 there).
# * A standard deviation is **torch's default** `tensor.std()` (unbiased, divide by $n-1$) over *all*
#   entries of the tensor.
# * "Weights" are the parameters with `p.ndim >= 2` (Linear weight matrices, conv kernels); biases and
#   normalization parameters are not weights. Parameters whose `.grad` is `None` are **skipped**.
# * Diagnostics **observe** a model: they never change its parameters, their `.grad`, its train/eval mode, or
#   leave a hook behind.
#
# After each exercise, a **self-check** cell runs the visible checks; hidden checks (other models, shapes
# and seeds) run when you submit.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import torch
import torch.nn.functional as F
from torch import nn

from autograder import check

REGNORM_ASSIGNMENT = "08_training_diagnostics"
torch.set_num_threads(1)

# %% [markdown] nbgrader={"grade": false, "grade_id": "data_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Data for the experiments
#
# The experiments use **scikit-learn's `load_digits`** (1797 grey-scale 8×8 images of the digits 0–9,
# shipped with scikit-learn: nothing is downloaded), flattened to 64 features and standardized with the
# training statistics (assignment 01). The graded functions are checked on small seeded tensors and models,
# not on this data.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from tqdm.auto import tqdm

digits = load_digits()
_x = torch.tensor(digits.data, dtype=torch.float32)
_y = torch.tensor(digits.target, dtype=torch.int64)
_perm = torch.randperm(len(_y), generator=torch.Generator().manual_seed(0))
_n_train = int(len(_y) * 0.8)
x_train, y_train = _x[_perm[:_n_train]], _y[_perm[:_n_train]]
x_val, y_val = _x[_perm[_n_train:]], _y[_perm[_n_train:]]
_mu, _sd = x_train.mean(0), x_train.std(0) + 1e-3
x_train, x_val = (x_train - _mu) / _sd, (x_val - _mu) / _sd
NUM_CLASSES = 10
print(f"Data that ran: scikit-learn load_digits, {len(y_train)} training and {len(y_val)} validation images "
      f"(8x8 -> 64 features, 10 classes, seeded split)")


def batches(n_steps, batch_size=64, seed=0):
    """Random mini-batches of the training set (one generator, drawn in order)."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(n_steps):
        idx = torch.randint(0, len(y_train), (batch_size,), generator=g)
        yield x_train[idx], y_train[idx]


def accuracy(model, x, y):
    was = model.training
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    model.train(was)
    return acc


# %% [markdown] nbgrader={"grade": false, "grade_id": "init_loss_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. The loss at initialization
#
# Before any training the network knows nothing, so the best it can honestly say is "every class is equally
# likely": $p_c = 1/C$. The cross-entropy of that uniform prediction is the same for every example,
#
# $$
# \ell_{\text{init}} = -\ln p_{y} = -\ln\frac1C = \ln C ,
# $$
#
# about $2.303$ for 10 classes and $3.296$ for Karpathy's 27 characters. If the first loss you print is much
# larger (say 20), the softmax is **confidently wrong**: the logits are large, some class gets probability
# close to 1 for no reason, and the first thousand steps are spent squashing the logits (the "hockey stick"
# loss curve) instead of learning.
#
# **The fix**: make the initial logits small, by scaling the last layer's weights down (e.g. by 0.01) and
# setting its bias to zero. Do not set the weights to *exactly* zero: then every hidden unit gets the same
# (zero) gradient through the last layer at the first step and symmetry is harder to break.
#
# Write:
# * `expected_initial_loss(num_classes)`: $\ln C$;
# * `initial_loss(model, x, y)`: the model's mean cross-entropy on a batch — a *measurement*: no graph, no
#   gradients, the model's mode left as it is;
# * `shrink_last_layer_(model, scale=0.01)`: in place, the **last `nn.Linear`** of the model (in
#   `model.modules()` order) gets `weight *= scale` and `bias = 0`.

# %% nbgrader={"grade": false, "grade_id": "expected_initial_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def expected_initial_loss(num_classes):
    """
    The cross-entropy of a uniform prediction over num_classes classes.

    Inputs:
    - num_classes: int C >= 2.

    Returns a float (a 0-d tensor is accepted too): ln(C), the natural logarithm.
    """
    loss = None
    # TODO: the loss of predicting probability 1/C for the correct class.
    ### BEGIN SOLUTION
    loss = math.log(num_classes)
    ### END SOLUTION
    return loss


# %% nbgrader={"grade": true, "grade_id": "check_expected_initial_loss", "locked": true, "points": 1.5, "schema_version": 3, "solution": false, "task": false}
points = check("expected_initial_loss")
### BEGIN HIDDEN TESTS
points += check("expected_initial_loss", hidden=True)
### END HIDDEN TESTS
points


# %% nbgrader={"grade": false, "grade_id": "initial_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def initial_loss(model, x, y):
    """
    Measure a model's mean cross-entropy on one batch, without side effects.

    Inputs:
    - model: an nn.Module mapping x to logits of shape (N, C).
    - x: tensor of inputs, shape (N, ...).
    - y: int64 tensor of class labels, shape (N,).

    Returns a 0-d float tensor: F.cross_entropy(model(x), y) (mean over the batch), computed in the model's
    current mode (do not call model.eval() or model.train()) and without recording a graph (torch.no_grad()):
    the parameters' .grad stay exactly as they were.
    """
    loss = None
    # TODO: one forward pass under torch.no_grad(), then the cross-entropy of the logits (not of probabilities).
    ### BEGIN SOLUTION
    with torch.no_grad():
        loss = F.cross_entropy(model(x), y, reduction="mean")
    ### END SOLUTION
    return loss


# %% nbgrader={"grade": true, "grade_id": "check_initial_loss", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
points = check("initial_loss")
### BEGIN HIDDEN TESTS
points += check("initial_loss", hidden=True)
### END HIDDEN TESTS
points


# %% nbgrader={"grade": false, "grade_id": "shrink_last_layer_", "locked": false, "schema_version": 3, "solution": true, "task": false}
def shrink_last_layer_(model, scale=0.01):
    """
    The fix for a confidently wrong softmax: make the initial logits small.

    Inputs:
    - model: an nn.Module containing at least one nn.Linear (possibly nested in containers).
    - scale: float multiplying the last Linear's weight.

    The last nn.Linear in model.modules() order gets weight <- scale * weight and bias <- 0 (if it has a bias).
    In place, under torch.no_grad(): the parameter objects stay the same (an optimizer built earlier keeps
    working) and stay trainable leaves. Nothing else in the model changes.

    Returns the model itself.
    """
    # TODO 1: find the last nn.Linear among model.modules().
    # TODO 2: scale its weight in place and zero its bias in place (if it has one), without autograd.
    ### BEGIN SOLUTION
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight.mul_(scale)
        if last.bias is not None:
            last.bias.zero_()
    ### END SOLUTION
    return model


# %% nbgrader={"grade": true, "grade_id": "check_shrink_last_layer_", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
points = check("shrink_last_layer_")
### BEGIN HIDDEN TESTS
points += check("shrink_last_layer_", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "init_loss_demo_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Experiment: the hockey stick
#
# Two copies of the same 64 → 128 → 10 tanh MLP on the digits. In the first, the last layer's weights are
# drawn about 30× too large (the accident of `torch.randn` weights without the $1/\sqrt{\text{fan\_in}}$
# factor, times a few) with random biases; the second is the same network after `shrink_last_layer_`. Both
# train with the same Adam settings (lr 0.01, batches of 64). Watch the first tens of steps: the confidently
# wrong network spends them bringing its loss down from about 18 to $\ln 10$ — the "hockey stick" — while the
# fixed one starts learning at once and stays ahead for about a hundred steps. The damage outlives the
# hockey stick: the printed validation loss of the first network stays several times higher (its logits
# remain overconfident), for a similar accuracy. (`initial_loss` measures any loss on any batch: here the
# validation loss after training.)

# %% nbgrader={"grade": false, "grade_id": "init_loss_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
def confident_mlp(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.Tanh(), nn.Linear(128, NUM_CLASSES))
    with torch.no_grad():
        model[2].weight.normal_(0, 30 / math.sqrt(128))  # about 30x the Kaiming-like scale 1/sqrt(fan_in)
        model[2].bias.uniform_(-2, 2)
    return model


def train(model, steps, lr, desc, seed=0, record=None, adam=False):
    """Mini-batch training (SGD, or Adam); record(model, lr, step) runs after backward, before the step."""
    opt = torch.optim.Adam(model.parameters(), lr=lr) if adam else torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for step, (xb, yb) in enumerate(tqdm(batches(steps, seed=seed), total=steps, desc=desc, leave=False)):
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        if record is not None:
            record(model, lr, step)
        opt.step()
        losses.append(loss.item())
    return losses


wrong, fixed = confident_mlp(), shrink_last_layer_(confident_mlp())
print(f"expected initial loss ln(10) = {expected_initial_loss(NUM_CLASSES):.3f}")
print(f"confidently wrong model: initial loss {initial_loss(wrong, x_train, y_train).item():.3f}")
print(f"after shrink_last_layer_: initial loss {initial_loss(fixed, x_train, y_train).item():.3f}")
curves = {name: train(m, 300, 0.01, name, adam=True) for name, m in (("last layer too large", wrong),
                                                                     ("last layer shrunk", fixed))}
for name, m in (("last layer too large", wrong), ("last layer shrunk", fixed)):
    print(f"{name:>20}: after 300 steps, validation loss {initial_loss(m, x_val, y_val).item():.3f}, "
          f"validation accuracy {100 * accuracy(m, x_val, y_val):.1f}%")
fig, ax = plt.subplots(figsize=(7, 3.5))
window = 10
for name, losses in curves.items():
    smooth = torch.tensor(losses).unfold(0, window, 1).mean(1)
    ax.plot(range(window - 1, len(losses)), smooth.numpy(), label=f"{name} (mean of {window} steps)")
ax.axhline(math.log(NUM_CLASSES), color="k", ls="--", lw=1, label="ln 10")
ax.set_xlabel("training step (Adam)")
ax.set_ylabel("training loss (cross-entropy)")
ax.set_yscale("log")
ax.set_title("Initial loss: a confidently wrong softmax wastes the first steps")
ax.legend()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "act_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. Activation statistics with forward hooks
#
# A `tanh` unit whose pre-activation is large sits on a flat part of the curve: $\tanh'(z) = 1 - \tanh^2(z)$,
# so at $|h| = |\tanh z| > 0.97$ less than 6 % of the gradient passes through it. A unit saturated for
# **every** example is *dead*: it never learns. For each `nn.Tanh` / `nn.ReLU` layer $\ell$ with output
# $H^{(\ell)}$ (all entries, batch × units, $n$ of them) we want
#
# $$
# \text{mean} = \frac1n\sum H,\qquad \text{std} = \sqrt{\tfrac1{n-1}\sum (H-\text{mean})^2},\qquad
# \text{saturated} = \begin{cases}\frac1n\,\#\{|H| > t\} & \text{tanh}\\[2pt]
#                                 \frac1n\,\#\{H = 0\} & \text{ReLU}\end{cases}
# $$
#
# with the threshold $t = 0.97$ (strictly greater: a value of exactly $t$ is not saturated — the checks use
# outputs that sit exactly on a threshold such as $0.9375$), applied to the layer's **output**
# $h = \tanh(z)$, not to its input $z$.
#
# **Forward hooks.** `module.register_forward_hook(fn)` makes PyTorch call `fn(module, inputs, output)` right
# after `module` runs, wherever it sits in the model (nested containers, residual branches...). It returns a
# handle; `handle.remove()` takes the hook off again. A diagnostic must remove **every** hook it added — even
# when the forward pass raises (`try` / `finally`) — or the next forward pass still runs it.

# %% nbgrader={"grade": false, "grade_id": "activation_stats", "locked": false, "schema_version": 3, "solution": true, "task": false}
def activation_stats(model, x, threshold=0.97):
    """
    Mean, std and fraction of saturated units of the output of every nn.Tanh and nn.ReLU module of a model.

    Inputs:
    - model: an nn.Module (any structure; its Tanh/ReLU modules may be nested and each runs once per forward).
    - x: a batch of inputs for model.
    - threshold: a tanh output h is saturated when abs(h) > threshold (strictly greater).

    Returns a dict {name: {"mean": m, "std": s, "saturated": f}} with one entry per nn.Tanh / nn.ReLU module
    (name as in model.named_modules()), where, over all entries of that module's output:
    - m: the mean; s: the standard deviation, torch's default tensor.std() (unbiased);
    - f: the fraction of saturated entries, in [0, 1]: abs(h) > threshold for Tanh, h == 0 for ReLU.
    Values are 0-d float tensors (Python floats are accepted).

    One forward pass, in the model's current mode, without building a graph. The model's parameters, their
    .grad and its mode are unchanged afterwards, and no hook is left registered.
    """
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Tanh, nn.ReLU))]
    stats = {}
    # TODO 1: for each (name, module) in layers, register a forward hook that stores the statistics of the
    #         module's *output* in stats[name] (keep the handles). Two branches:
    #         - nn.Tanh: saturated = fraction of entries with abs(output) > threshold;
    #         - nn.ReLU: saturated = fraction of entries equal to 0.
    # TODO 2: run the model once on x under torch.no_grad().
    # TODO 3: remove every hook, also when the forward pass raises (try / finally).
    ### BEGIN SOLUTION
    def make_hook(name):
        def hook(module, inputs, output):
            h = output.detach()
            if isinstance(module, nn.Tanh):
                saturated = (h.abs() > threshold).float().mean()
            else:
                saturated = (h == 0).float().mean()
            stats[name] = {"mean": h.mean(), "std": h.std(), "saturated": saturated}
        return hook

    handles = [m.register_forward_hook(make_hook(name)) for name, m in layers]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    ### END SOLUTION
    return stats


# %% nbgrader={"grade": true, "grade_id": "check_activation_stats", "locked": true, "points": 12, "schema_version": 3, "solution": false, "task": false}
points = check("activation_stats")
### BEGIN HIDDEN TESTS
points += check("activation_stats", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "saturation_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Experiment: a deep tanh MLP saturates
#
# Six tanh layers of 100 units on the digits, with the "naive" initialization $W \sim \mathcal N(0, 1)$ —
# no $1/\sqrt{\text{fan\_in}}$. Every pre-activation is a sum of 100 terms, so its scale grows by about
# $\sqrt{100} = 10$: almost every unit lands on a flat part of `tanh`. The table is your `activation_stats`;
# the image shows, for one batch of 32 examples, which units of each layer are saturated (white,
# $|h| > 0.97$). A **column that is white all the way down is a dead unit**: saturated for every example,
# so no gradient ever reaches its weights.

# %% nbgrader={"grade": false, "grade_id": "saturation_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
def deep_mlp(act=nn.Tanh, width=100, depth=6, bn=False, seed=0, naive=True):
    """64 -> width (x depth) -> 10, Linear [-> BatchNorm1d] -> act; naive: weights N(0, 1), biases 0."""
    torch.manual_seed(seed)
    layers, d = [], 64
    for _ in range(depth):
        layers += [nn.Linear(d, width)] + ([nn.BatchNorm1d(width)] if bn else []) + [act()]
        d = width
    layers.append(nn.Linear(d, NUM_CLASSES))
    model = nn.Sequential(*layers)
    if naive:
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    m.weight.normal_(0, 1)
                    m.bias.zero_()
    return model


def show_stats(stats, title):
    print(title)
    print(f"{'layer':>8} {'mean':>8} {'std':>7} {'saturated':>10}")
    for name, s in stats.items():
        print(f"{name:>8} {float(s['mean']):8.3f} {float(s['std']):7.3f} {100 * float(s['saturated']):9.1f}%")


def layer_outputs(model, x):
    """{name: output} of every Tanh/ReLU (a throwaway hook pass, for the pictures)."""
    outs, handles = {}, []
    for name, m in model.named_modules():
        if isinstance(m, (nn.Tanh, nn.ReLU)):
            handles.append(m.register_forward_hook(lambda mod, i, o, name=name: outs.__setitem__(name, o.detach())))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return outs


naive_tanh = deep_mlp()
show_stats(activation_stats(naive_tanh, x_train[:512]), "deep tanh MLP, W ~ N(0, 1), no BN:")
outs = layer_outputs(naive_tanh, x_train[:32])
fig, axes = plt.subplots(1, len(outs), figsize=(14, 2.8), sharey=True)
for ax, (name, h) in zip(axes, outs.items()):
    ax.imshow((h.abs() > 0.97).numpy(), cmap="gray", interpolation="nearest", aspect="auto", vmin=0, vmax=1)
    dead = int((h.abs() > 0.97).all(0).sum())
    ax.set_title(f"layer {name}: {dead} dead")
    ax.set_xlabel("unit")
axes[0].set_ylabel("example in the batch")
fig.suptitle("Saturated tanh units (white: |h| > 0.97); an all-white column is a dead unit")
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "kaiming_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. Initialization that keeps the scale: Kaiming / He
#
# **Why the scale drifts (d2l).** A deep linear network multiplies its input by one random matrix per
# layer. With entries $\mathcal N(0, 1)$ each $n\times n$ matrix multiplies the length of a vector by about
# $\sqrt n$, so after $L$ layers the scale is $n^{L/2}$: it explodes. With entries $\mathcal N(0, 1/n)$
# the expected squared length is preserved: $\operatorname{Var}[(Wx)_i] = n \cdot \frac1n \cdot
# \operatorname{Var}[x_j]$.
#
# **Kaiming (He) initialization** extends this to non-linear layers: for a Linear layer with `fan_in`
# inputs,
#
# $$
# W_{ij} \sim \mathcal N\!\left(0,\ \sigma^2\right),\qquad \sigma = \frac{\text{gain}}{\sqrt{\text{fan\_in}}},
# \qquad \text{gain} = \begin{cases} \sqrt 2 & \text{ReLU (it zeroes half of its input, halving the
# variance)}\\ 5/3 & \text{tanh (it squashes; } 5/3 \text{ compensates, as } \texttt{nn.init.calculate\_gain}
# \text{)}\end{cases}
# $$
#
# and biases $= 0$. This is `torch.nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity=...)`. For an
# `nn.Linear(in_features, out_features)` the weight has shape `(out_features, in_features)`, so
# `fan_in = weight.shape[1]`; `fan_out` (`weight.shape[0]`) preserves the variance of the *backward* pass
# instead and is not what we want here.
#
# **Randomness.** `kaiming_init_` takes an optional `torch.Generator`. Draw order: the `nn.Linear` modules in
# `model.modules()` order, one normal draw of each weight's shape (e.g. `weight.normal_(0, std,
# generator=generator)`); biases draw nothing. With `generator=None` use torch's global generator.
#
# **How it is checked.** Statistically, on layers of at least 49 152 weights: the std within **3 %** of
# $\text{gain}/\sqrt{\text{fan\_in}}$ (the sampling error of a std over that many draws is below 0.33 %),
# the mean within 5 standard errors of 0, and the excess kurtosis within 0.15 of a normal distribution's 0
# (a uniform one has $-1.2$). With a generator, the weights must equal `torch.nn.init.kaiming_normal_`'s draws
# from the same generator (within float32 rounding).

# %% nbgrader={"grade": false, "grade_id": "kaiming_init_", "locked": false, "schema_version": 3, "solution": true, "task": false}
def kaiming_init_(model, nonlinearity, generator=None):
    """
    Kaiming-normal (fan_in) initialization of every nn.Linear of a model, in place.

    Inputs:
    - model: an nn.Module; only its nn.Linear modules change (norm layers etc. are left alone).
    - nonlinearity: "relu" (gain sqrt(2)) or "tanh" (gain 5/3).
    - generator: optional torch.Generator; draw order: Linear modules in model.modules() order, one normal
      draw of the weight's shape each, nothing for biases. None: torch's global generator.

    For each nn.Linear: weight ~ N(0, std^2) with std = gain / sqrt(fan_in), fan_in = weight.shape[1];
    bias (if any) = 0. In place under torch.no_grad(): the parameter objects stay the same trainable leaves.

    Returns the model itself.
    """
    if nonlinearity not in ("relu", "tanh"):
        raise ValueError(f"nonlinearity must be 'relu' or 'tanh', not {nonlinearity!r}")
    for module in model.modules():
        if not isinstance(module, nn.Linear):
            continue
        # TODO 1: the gain, one branch per nonlinearity ("relu" and "tanh").
        # TODO 2: std from the gain and fan_in; redraw the weight in place (use the generator); zero the bias.
        ### BEGIN SOLUTION
        gain = math.sqrt(2.0) if nonlinearity == "relu" else 5.0 / 3.0
        std = gain / math.sqrt(module.weight.shape[1])
        with torch.no_grad():
            module.weight.normal_(0.0, std, generator=generator)
            if module.bias is not None:
                module.bias.zero_()
        ### END SOLUTION
    return model


# %% nbgrader={"grade": true, "grade_id": "check_kaiming_init_", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
points = check("kaiming_init_")
### BEGIN HIDDEN TESTS
points += check("kaiming_init_", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "exploding_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Experiment: d2l's exploding product, and the fix
#
# d2l multiplies 100 random $4\times4$ matrices with $\mathcal N(0,1)$ entries: the product's entries reach
# $10^{20}$ and more. On the left, the size of a product of $L$ random $n \times n$ matrices for entries
# $\mathcal N(0,1)$ and $\mathcal N(0,1/n)$ (the Kaiming scale for a linear layer); on the right, the std of
# every layer's output in a 20-layer network at initialization, for torch's default init and for your
# `kaiming_init_` (ReLU and tanh).

# %% nbgrader={"grade": false, "grade_id": "exploding_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
g = torch.Generator().manual_seed(0)
M = torch.randn(4, 4, generator=g, dtype=torch.float64)
for _ in range(99):
    M = M @ torch.randn(4, 4, generator=g, dtype=torch.float64)
print("d2l: a product of 100 random 4x4 N(0,1) matrices has entries like", M[0, :2].tolist())

n, depth = 64, 60
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
for label, scale in (("entries N(0, 1)", 1.0), ("entries N(0, 1/n)", 1 / math.sqrt(n))):
    v, norms = torch.randn(n, generator=g, dtype=torch.float64), []
    for _ in range(depth):
        v = (torch.randn(n, n, generator=g, dtype=torch.float64) * scale) @ v
        norms.append(v.norm().item() / math.sqrt(n))
    ax1.plot(range(1, depth + 1), [math.log10(x) for x in norms], label=label)
ax1.set_xlabel("number of matrices multiplied")
ax1.set_ylabel("log10 of the RMS entry of W_L ... W_1 v")
ax1.set_title(f"Products of random {n}x{n} matrices")
ax1.legend()

x_probe = x_train[:512]
for label, act, nl in (("ReLU, torch default", nn.ReLU, None), ("ReLU, kaiming_init_", nn.ReLU, "relu"),
                       ("tanh, torch default", nn.Tanh, None), ("tanh, kaiming_init_", nn.Tanh, "tanh")):
    net = deep_mlp(act=act, depth=20, naive=False, seed=1)
    if nl:
        kaiming_init_(net, nl, generator=torch.Generator().manual_seed(1))
    stats = activation_stats(net, x_probe)
    ax2.plot([float(s["std"]) for s in stats.values()], marker=".", label=label)
ax2.set_yscale("log")
ax2.set_xticks(range(0, 20, 2))
ax2.set_xlabel("layer (index of the activation module)")
ax2.set_ylabel("std of the layer's output")
ax2.set_title("Activation scale with depth at initialization")
ax2.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "bn_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. Batch norm removes the saturation
#
# Kaiming's gains are exact only for linear layers and are approximate for everything else; batch norm
# (assignment 03) does not rely on them: it standardizes every pre-activation over the batch before the
# `tanh`, whatever the scale of the weights. Below, the **same** naive $\mathcal N(0,1)$ weights as in
# section 2, with `Linear -> BatchNorm1d -> Tanh` blocks. Your `activation_stats` measures the saturation
# with and without BN; the histograms show, per layer, the distribution of the activations (forward pass)
# and of their gradients $\partial L/\partial h$ (backward pass, one batch of cross-entropy). Without BN the
# activations pile up at $\pm1$ and the gradient's spread changes by orders of magnitude from one layer to
# the next (see the stds in the legend): every layer would need its own learning rate. With BN the
# activations spread over $(-1, 1)$ and all layers' gradients have about the same scale.

# %% nbgrader={"grade": false, "grade_id": "bn_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
def activations_and_grads(model, x, y):
    """{name: (output, d loss / d output)} for every Tanh/ReLU on one batch (train mode)."""
    outs, handles = {}, []

    def keep(mod, i, o, name):
        o.retain_grad()
        outs[name] = o

    for name, m in model.named_modules():
        if isinstance(m, (nn.Tanh, nn.ReLU)):
            handles.append(m.register_forward_hook(lambda mod, i, o, name=name: keep(mod, i, o, name)))
    try:
        F.cross_entropy(model(x), y).backward()
    finally:
        for h in handles:
            h.remove()
    model.zero_grad()
    return {k: (o.detach(), o.grad.detach()) for k, o in outs.items()}


nets = {"no BN": deep_mlp(bn=False), "with BN": deep_mlp(bn=True)}
for label, net in nets.items():
    stats = activation_stats(net, x_train[:512])
    show_stats(stats, f"\n{label}:")
fig, axes = plt.subplots(2, 2, figsize=(13, 6.5))
for row, (label, net) in enumerate(nets.items()):
    data = activations_and_grads(net, x_train[:256], y_train[:256])
    for name, (h, dh) in data.items():
        sat = 100 * float((h.abs() > 0.97).float().mean())
        hy, hx = torch.histogram(h.flatten(), bins=60, range=(-1.0, 1.0), density=True)
        axes[row, 0].plot(((hx[:-1] + hx[1:]) / 2).numpy(), hy.numpy(), label=f"layer {name} ({sat:.0f}% sat.)")
        lim = float(dh.abs().max()) + 1e-12
        gy, gx = torch.histogram(dh.flatten(), bins=60, range=(-lim, lim), density=True)
        axes[row, 1].plot(((gx[:-1] + gx[1:]) / 2).numpy(), gy.numpy(),
                          label=f"layer {name} (std {float(dh.std()):.1e})")
    axes[row, 0].set_title(f"{label}: activation distribution per tanh layer")
    axes[row, 0].set_xlabel("activation h")
    axes[row, 1].set_title(f"{label}: gradient distribution per tanh layer")
    axes[row, 1].set_xlabel("gradient dL/dh")
    axes[row, 1].set_yscale("log")
    for ax in axes[row]:
        ax.set_ylabel("density")
        ax.legend(fontsize=7)
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "ratio_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 5. The update-to-data ratio
#
# How much does one step change a weight, relative to the weight itself? For plain SGD the update is
# $-\eta\,\nabla W$, and Karpathy's diagnostic is
#
# $$
# r(W) = \log_{10}\frac{\operatorname{std}(\eta\,\nabla W)}{\operatorname{std}(W)} .
# $$
#
# Around $-3$ (the update is a thousandth of the weights' spread) training is usually healthy; far below
# (say $-5$), the learning rate is too low and nothing moves; far above (say $-1$), every step rewrites the
# weights and training is unstable. The **standard deviation** (spread), not the mean, of the update: the
# mean of $\eta\nabla W$ is close to 0 and can be negative. Use torch's default `std()` for both (unbiased;
# the $n/(n-1)$ factors cancel in the ratio anyway) and keep the $\log_{10}$ — it is what the $-3$ refers to.
#
# Only **weights** (`p.ndim >= 2`) are reported: biases and normalization parameters have other scales (a
# zero-initialized bias has std 0). Parameters whose `.grad` is `None` (frozen or unused) are skipped.

# %% nbgrader={"grade": false, "grade_id": "update_to_data_ratios", "locked": false, "schema_version": 3, "solution": true, "task": false}
def update_to_data_ratios(model, lr):
    """
    log10 of the SGD update-to-data ratio of every weight of a model, from the gradients already in .grad.

    Inputs:
    - model: an nn.Module after loss.backward() (and before optimizer.step()).
    - lr: float learning rate (the SGD update of p is -lr * p.grad).

    Returns a dict {name: r} for every parameter (name as in model.named_parameters()) with p.ndim >= 2 and
    p.grad not None, where r = log10(std(lr * p.grad) / std(p)) as a 0-d float tensor (a Python float is
    accepted), std being torch's default (unbiased). Biases/vectors and parameters without a gradient are
    left out. Neither the parameters nor their .grad change (compute on copies: no in-place ops on p.grad).
    Whether the returned tensors carry autograd history does not matter (torch.no_grad() is tidier).
    """
    ratios = {}
    for name, p in model.named_parameters():
        # TODO 1: skip vectors (biases, norm parameters: p.ndim < 2) and parameters without a gradient.
        # TODO 2: ratios[name] = log10 of std(lr * grad) / std(p), without autograd and without changing p.grad.
        ### BEGIN SOLUTION
        if p.ndim < 2 or p.grad is None:
            continue
        with torch.no_grad():
            ratios[name] = torch.log10((lr * p.grad).std() / p.std())
        ### END SOLUTION
    return ratios


# %% nbgrader={"grade": true, "grade_id": "check_update_to_data_ratios", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
points = check("update_to_data_ratios")
### BEGIN HIDDEN TESTS
points += check("update_to_data_ratios", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "ratio_demo_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### Experiment: the ratio over training, for three learning rates
#
# The deep tanh MLP with BN and `kaiming_init_(..., "tanh")`, trained with SGD for 300 steps at three
# learning rates. Top row: your `update_to_data_ratios` at every step, one line per weight matrix, with the
# dashed $-3$ guide. Bottom row: the grad-to-data ratio $\log_{10}(\operatorname{std}\nabla W /
# \operatorname{std} W)$ (the update ratio without $\eta$). The validation accuracy is in each title.
#
# What to look for: at `lr = 1e-4` every ratio sits near $-5$ — each step changes the weights by a
# hundred-thousandth, nothing is learned in 300 steps. At `lr = 0.1` the ratios start near $-2$ and settle
# around the $-3$ line while the network learns. At `lr = 5` they start near $0$ — one step changes a weight
# matrix as much as its whole spread — and the run degenerates (the ratios then swing erratically below
# the plot). The last layer (`18.weight`, no BN after it) runs higher than the others, as in Karpathy's
# plot; a layer far from the pack is one to look at. With BN a wide range of rates trains (0.5 to 2 work
# too); the ratio tells you where in that range you are.

# %% nbgrader={"grade": false, "grade_id": "ratio_demo", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
lrs = {"too low (lr = 1e-4)": 1e-4, "about right (lr = 0.1)": 0.1, "too high (lr = 5)": 5.0}
fig, axes = plt.subplots(2, 3, figsize=(14, 6.5), sharey="row")
for col, (label, lr) in enumerate(lrs.items()):
    net = kaiming_init_(deep_mlp(bn=True, naive=False, seed=2), "tanh", generator=torch.Generator().manual_seed(2))
    history, grad_history = [], []

    def record(model, lr, step):
        history.append({k: float(v) for k, v in update_to_data_ratios(model, lr).items()})
        grad_history.append({k: float(v) - math.log10(lr) for k, v in history[-1].items()})

    losses = train(net, 300, lr, label, seed=3, record=record)
    acc = accuracy(net, x_val, y_val)
    for row, hist in enumerate((history, grad_history)):
        for name in hist[0]:
            axes[row, col].plot([h[name] for h in hist], lw=1, label=name)
        axes[row, col].set_xlabel("SGD step")
    axes[0, col].axhline(-3, color="k", ls="--", lw=1)
    axes[0, col].set_ylim(-7, 0.5)  # a diverging run dips far lower; the interesting range is around -3
    axes[1, col].set_ylim(-6, 1)
    axes[0, col].set_title(f"{label}\nval. accuracy {100 * acc:.0f}%, last loss {losses[-1]:.2f}")
    axes[1, col].set_title("grad:data ratio")
axes[0, 0].set_ylabel("log10 std(lr*grad) / std(W)")
axes[1, 0].set_ylabel("log10 std(grad) / std(W)")
axes[0, 2].legend(fontsize=6, ncol=2)
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "takeaways", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Takeaways
#
# * Print the loss **before the first step**: it should be $\ln C$. Much larger means confidently wrong
#   logits — shrink the last layer (small weights, zero bias), do not zero it.
# * Look at every layer's activations: mean, std, and the share of saturated units ($|\tanh| > 0.97$). A unit
#   saturated for every example is dead. Forward hooks observe any model; remove them afterwards.
# * Scale matters multiplicatively with depth (d2l's exploding product). Kaiming init ($\text{gain}/\sqrt{
#   \text{fan\_in}}$, gain $\sqrt2$ for ReLU and $5/3$ for tanh) keeps activations stable at initialization;
#   batch norm keeps them stable whatever the weights.
# * During training, watch $\log_{10}$ of the update-to-data ratio per weight: about $-3$ is healthy; much
#   lower means the learning rate is too small, much higher that it is too large.
