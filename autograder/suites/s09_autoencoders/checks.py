"""Visible checks of assignment 09 (shipped to students; the self-check runs these).

Conventions: rows are examples; ``mask_noise`` keeps an entry where
``torch.rand(x.shape, generator=generator) >= p`` (one float32 draw per entry) and zeroes it otherwise,
with no rescaling; losses are ``F.mse_loss`` (mean); ``sparse_penalty = lam * mean(|codes|)``; PCA is
fitted on ``x_train`` (its mean and its top-k principal directions).

Exercises that build on another one are checked against the student's own earlier function where they
use it (``MaskNoise`` and ``denoising_step`` against the student's ``mask_noise``, ``sparse_loss``
against the student's ``sparse_penalty``), so one mistake costs one exercise's points. Models and
optimizers for ``denoising_step`` / ``sparse_loss`` are grader-owned (``autograder.fixtures.autoencoders``).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F

from autograder import compare
from autograder.checks import Suite
from autograder.fixtures import autoencoders as fx

suite = Suite(__name__, "Autoencoders")

FIX = "autograder.fixtures.autoencoders"
HIDDEN_DEFAULT = 128
_KEYS = itertools.count()


def gen_ref(seed: int):
    """A seeded generator built in the student's process."""
    return fx_make("generator", seed)


def fx_make(name: str, *args, **kwargs):
    from autograder.wire import Make

    return Make(f"{FIX}:{name}", *args, **kwargs)


def describe_tensor(t) -> str:
    return f"{t.dtype} {list(t.shape)}" if isinstance(t, torch.Tensor) else type(t).__name__


def expect_tensor(ctx, t, shape, dtype, what):
    ctx.expect(isinstance(t, torch.Tensor) and tuple(t.shape) == tuple(shape) and t.dtype == dtype,
               f"{what} should be a {dtype} tensor of shape {list(shape)}; got {describe_tensor(t)}")


def noisy_input(g: torch.Generator, shape, dtype=torch.float32) -> torch.Tensor:
    """Values away from 0 with both signs (a zeroed entry can never be mistaken for a kept one)."""
    mag = torch.rand(shape, generator=g, dtype=torch.float64) * 1.5 + 0.25
    sign = torch.where(torch.rand(shape, generator=g) < 0.5, -1.0, 1.0).to(torch.float64)
    return (mag * sign).to(dtype)


def pixels(g: torch.Generator, n: int, d: int, dtype=torch.float32) -> torch.Tensor:
    """Image-like rows in [0, 1] (a few exact zeros, like background pixels)."""
    x = torch.rand(n, d, generator=g, dtype=torch.float64)
    x[x < 0.15] = 0.0
    return x.to(dtype)


# ---------------------------------------------------------------------------------------------------
# 1. Autoencoder
# ---------------------------------------------------------------------------------------------------
def expected_shapes(in_dim, code_dim, hidden):
    return [[hidden, in_dim], [hidden], [code_dim, hidden], [code_dim],
            [hidden, code_dim], [hidden], [in_dim, hidden], [in_dim]]


def build(ctx, in_dim, code_dim, hidden):
    """``Autoencoder(...)`` with the arguments the case gives (defaults left out when None)."""
    kwargs = {k: v for k, v in (("in_dim", in_dim), ("code_dim", code_dim), ("hidden", hidden)) if v is not None}
    return ctx.call("Autoencoder", **kwargs)


def dims(in_dim, code_dim, hidden):
    return (784 if in_dim is None else in_dim, 32 if code_dim is None else code_dim,
            HIDDEN_DEFAULT if hidden is None else hidden)


def grader_weights(seed, in_dim, code_dim, hidden):
    """One seeded tensor per distinct parameter shape (the two (hidden,) biases share their values, so
    that the weights can be loaded by shape into any naming and registration order)."""
    g = torch.Generator().manual_seed(int(seed))
    W1 = torch.randn(hidden, in_dim, generator=g) * (2.0 / in_dim) ** 0.5
    bh = torch.randn(hidden, generator=g) * 0.3
    W2 = torch.randn(code_dim, hidden, generator=g) * (2.0 / hidden) ** 0.5
    b2 = torch.randn(code_dim, generator=g) * 0.3
    W3 = torch.randn(hidden, code_dim, generator=g) * (2.0 / code_dim) ** 0.5
    W4 = torch.randn(in_dim, hidden, generator=g) * (1.0 / hidden) ** 0.5
    b4 = torch.randn(in_dim, generator=g) * 0.3
    return {"W1": W1, "bh": bh, "W2": W2, "b2": b2, "W3": W3, "W4": W4, "b4": b4}


def by_shape(w):
    return {tuple(t.shape): t for t in w.values()}


def ref_encode(w, x):
    return torch.relu(x @ w["W1"].T + w["bh"]) @ w["W2"].T + w["b2"]


def ref_decode(w, z):
    return torch.sigmoid(torch.relu(z @ w["W3"].T + w["bh"]) @ w["W4"].T + w["b4"])


def parameters_of(ctx, ref):
    return [(name, list(shape), bool(grad)) for name, shape, grad in ctx.describe(ref).get("parameters", [])]


def loaded(ctx, in_dim, code_dim, hidden, seed):
    """A student Autoencoder with the grader's weights loaded, and those weights."""
    ref = build(ctx, in_dim, code_dim, hidden)
    D, C, H = dims(in_dim, code_dim, hidden)
    w = grader_weights(seed, D, C, H)
    shapes = by_shape(w)
    params = parameters_of(ctx, ref)
    got = sorted(shape for _, shape, _ in params)
    ctx.expect(got == sorted(expected_shapes(D, C, H)),
               f"cannot load the grader's weights: the parameter shapes are {got}, expected "
               f"{sorted(expected_shapes(D, C, H))} (the structure check says more)",
               hint="fix the structure first: four nn.Linear layers with biases, registered as submodules.")
    state = {name: shapes[tuple(shape)].clone() for name, shape, _ in params}
    ctx.method(ref, "load_state_dict", state, strict=False)
    return ref, w


@suite.check("Autoencoder", points=1,
             title="four registered nn.Linear layers D->H->C and C->H->D (parameter shapes, count, trainable)",
             cases=[{"in_dim": None, "code_dim": None, "hidden": None}, {"in_dim": 10, "code_dim": 3, "hidden": 6}],
             hint="encoder: nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, code_dim); decoder: "
                  "nn.Linear(code_dim, hidden), nn.ReLU(), nn.Linear(hidden, in_dim), nn.Sigmoid(); keep the layers "
                  "as attributes (e.g. two nn.Sequential), not in a Python list, so that they are registered.")
def structure(ctx, in_dim, code_dim, hidden):
    D, C, H = dims(in_dim, code_dim, hidden)
    ref = build(ctx, in_dim, code_dim, hidden)
    info = ctx.describe(ref)
    ctx.expect(info.get("training") is not None, f"Autoencoder(...) should be an nn.Module; got {info.get('type')}")
    params = parameters_of(ctx, ref)
    got = sorted(shape for _, shape, _ in params)
    want = sorted(expected_shapes(D, C, H))
    n_params = sum(math.prod(s) for s in got)
    ctx.expect(got == want, f"parameter shapes {got} (total {n_params}); expected {want} "
                            f"(total {sum(math.prod(s) for s in want)}) for in_dim={D}, code_dim={C}, hidden={H}")
    ctx.expect(all(g for _, _, g in params), "every parameter should require gradients")
    # the grader's weights load and come back unchanged (a state_dict round trip)
    w = grader_weights(0, D, C, H)
    shapes = by_shape(w)
    ctx.method(ref, "load_state_dict", {name: shapes[tuple(s)].clone() for name, s, _ in params}, strict=False)
    state = ctx.method(ref, "state_dict")
    for name, shape, _ in params:
        ctx.expect(name in state and torch.equal(state[name], shapes[tuple(shape)]),
                   f"after load_state_dict, state_dict()[{name!r}] is not the loaded tensor")


@suite.check("Autoencoder", points=2,
             title="encode: Linear -> ReLU -> Linear, linear code (grader's weights loaded)",
             cases=[{"in_dim": 12, "code_dim": 4, "hidden": 7, "n": 5, "seed": 0}],
             hint="encode(x) = Linear(hidden, code_dim)(relu(Linear(in_dim, hidden)(x))), with no activation "
                  "after the code layer.")
def encode(ctx, in_dim, code_dim, hidden, n, seed):
    ref, w = loaded(ctx, in_dim, code_dim, hidden, seed)
    D, C, _ = dims(in_dim, code_dim, hidden)
    x = pixels(ctx.gen(seed + 100), n, D)
    code = ctx.method(ref, "encode", x)
    expect_tensor(ctx, code, (n, C), torch.float32, "encode(x)")
    ctx.expect_reference(code, "encode(x)", tier="composite")
    ctx.expect_equal(code, ref_encode(w, x), "encode(x)", tier="composite")


@suite.check("Autoencoder", points=2,
             title="decode: Linear -> ReLU -> Linear -> sigmoid (grader's weights loaded)",
             cases=[{"in_dim": 12, "code_dim": 4, "hidden": 7, "n": 5, "seed": 1}],
             hint="decode(code) = sigmoid(Linear(hidden, in_dim)(relu(Linear(code_dim, hidden)(code)))).")
def decode(ctx, in_dim, code_dim, hidden, n, seed):
    ref, w = loaded(ctx, in_dim, code_dim, hidden, seed)
    D, C, _ = dims(in_dim, code_dim, hidden)
    z = torch.randn(n, C, generator=ctx.gen(seed + 100)) * 1.5
    x_hat = ctx.method(ref, "decode", z)
    expect_tensor(ctx, x_hat, (n, D), torch.float32, "decode(code)")
    ctx.expect_reference(x_hat, "decode(code)", tier="composite")
    ctx.expect_equal(x_hat, ref_decode(w, z), "decode(code)", tier="composite")


@suite.check("Autoencoder", points=1, title="forward(x) = decode(encode(x)) (grader's weights loaded)",
             cases=[{"in_dim": 12, "code_dim": 4, "hidden": 7, "n": 6, "seed": 2}],
             hint="forward(x) returns self.decode(self.encode(x)).")
def forward(ctx, in_dim, code_dim, hidden, n, seed):
    ref, w = loaded(ctx, in_dim, code_dim, hidden, seed)
    D, _, _ = dims(in_dim, code_dim, hidden)
    x = pixels(ctx.gen(seed + 100), n, D)
    x_hat = ctx.method(ref, "__call__", x)
    expect_tensor(ctx, x_hat, (n, D), torch.float32, "model(x)")
    ctx.expect_equal(x_hat, ref_decode(w, ref_encode(w, x)), "model(x)", tier="composite")


def ref_grads(w, x, weights_out, method):
    """Gradients of sum(out * weights_out) with respect to the grader's weights, per shape (the two (H,)
    biases listed separately: encoder first, decoder second)."""
    p = {k: t.clone().requires_grad_(True) for k, t in w.items()}
    bh_dec = w["bh"].clone().requires_grad_(True)
    enc = lambda t: torch.relu(t @ p["W1"].T + p["bh"]) @ p["W2"].T + p["b2"]  # noqa: E731
    dec = lambda z: torch.sigmoid(torch.relu(z @ p["W3"].T + bh_dec) @ p["W4"].T + p["b4"])  # noqa: E731
    out = {"encode": enc, "decode": dec, "__call__": lambda t: dec(enc(t))}[method](x)
    (out * weights_out).sum().backward()
    grads: dict = {}
    for t in (*p.values(), bh_dec):
        grads.setdefault(tuple(t.shape), []).append(torch.zeros_like(t) if t.grad is None else t.grad)
    return grads


@suite.check("Autoencoder", points=1,
             title="encode, decode and forward keep the autograd graph; backward through model(x) reaches every "
                   "parameter (checked with autograd)",
             cases=[{"in_dim": 9, "code_dim": 3, "hidden": 5, "n": 4, "seed": 3}],
             hint="keep the computation differentiable: no .detach(), torch.no_grad() or .data inside the module; "
                  "every layer's parameters must receive gradients.")
def gradients(ctx, in_dim, code_dim, hidden, n, seed):
    D, C, H = dims(in_dim, code_dim, hidden)
    g = ctx.gen(seed + 100)
    ref, w = loaded(ctx, in_dim, code_dim, hidden, seed)
    inputs = {"encode": pixels(g, n, D), "decode": torch.randn(n, C, generator=g), "__call__": pixels(g, n, D)}
    for method, x in inputs.items():
        out = ctx.method_kept(ref, method, x)
        what = "model(x)" if method == "__call__" else f"{method}(...)"
        ctx.expect(ctx.attr(out, "requires_grad") is True,
                   f"the result of {what} does not require gradients: it was detached from the parameters")
    # backward through model(x): every parameter's gradient, compared with autograd on the grader's copy
    x = inputs["__call__"]
    weights_out = torch.randn(n, D, generator=g)
    ctx.method(ctx.method_kept(ctx.method_kept(out, "mul", weights_out), "sum"), "backward")
    expected = ref_grads(w, x, weights_out, "__call__")
    for name, shape, _ in parameters_of(ctx, ref):
        grad = ctx.attr(ctx.method_kept(ref, "get_parameter", name), "grad")
        ok = grad is not None and any(compare.close(want, grad, "composite") for want in expected[tuple(shape)])
        ctx.expect(ok, f"after backward through model(x), the gradient of parameter {name!r} is "
                       f"{'missing' if grad is None else 'not the one autograd computes'}")


# ---------------------------------------------------------------------------------------------------
# 2. mask_noise
# ---------------------------------------------------------------------------------------------------
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def call_mask(ctx, x, p, seed, global_seed=0):
    """(out, x after the call, the generator as a ref)."""
    out, args = ctx.call_with_args("mask_noise", x, p, gen_ref(seed), global_seed=global_seed)
    expect_tensor(ctx, out, x.shape, x.dtype, "mask_noise(x, p, generator)")
    return out, args[0], args[2]


def expected_keep(shape, p, seed):
    return torch.rand(tuple(shape), generator=fx.generator(seed)) >= p


@suite.check("mask_noise", points=2,
             title="the zeroed entries are exactly those with torch.rand(x.shape, generator=generator) < p",
             cases=[{"shape": [6, 9], "p": 0.3, "seed": 0, "dtype": "float32"},
                    {"shape": [2, 1, 5, 5], "p": 0.75, "seed": 1, "dtype": "float64"}],
             hint="keep = torch.rand(x.shape, generator=generator) >= p (one float32 draw with the generator that is "
                  "passed in); zero the entries where keep is False.")
def draw(ctx, shape, p, seed, dtype):
    x = noisy_input(ctx.gen(seed + 50), shape, DTYPES[dtype])
    out, _, _ = call_mask(ctx, x, p, seed)
    ctx.expect_reference(out != 0, f"which entries survive (p={p})", tier="exact")
    ctx.expect_equal(out != 0, expected_keep(shape, p, seed), f"which entries survive (p={p})", tier="exact")


@suite.check("mask_noise", points=1.5, title="kept entries are x's values unchanged (no 1/(1-p) rescaling)",
             cases=[{"shape": [8, 10], "p": 0.4, "seed": 2}],
             hint="multiply by the 0/1 keep mask only; unlike inverted dropout there is no division by 1 - p.")
def kept_values(ctx, shape, p, seed):
    x = noisy_input(ctx.gen(seed + 50), shape)
    out, _, _ = call_mask(ctx, x, p, seed)
    zero = out == 0
    frac = zero.float().mean().item()
    ctx.expect(0 < frac < 1, f"{frac:.0%} of the entries are zero with p={p}; mask_noise should zero some "
                             "entries and keep the others")
    ratio = (out[~zero] / x[~zero])
    if compare.close(torch.full_like(ratio, 1 / (1 - p)), ratio, "composite"):
        ctx.fail("the kept entries are x / (1 - p)",
                 hint="kept entries were rescaled by 1/(1-p) like inverted dropout; a denoising autoencoder keeps "
                      "them as they are (the target is the clean x).")
    ctx.expect_equal(out[~zero], x[~zero], "the entries that were not zeroed", tier="exact")


@suite.check("mask_noise", points=1, title="x is not modified (a new tensor is returned)",
             cases=[{"shape": [5, 7], "p": 0.5, "seed": 3}],
             hint="build a new tensor (x * keep, torch.where(keep, x, 0), x.masked_fill(~keep, 0)); do not use "
                  "in-place operations on x (x.mul_, x[...] = 0): x is the clean target.")
def input_unchanged(ctx, shape, p, seed):
    x = noisy_input(ctx.gen(seed + 50), shape)
    out, x_after, _ = call_mask(ctx, x, p, seed)
    zero = (out == 0).float().mean().item()
    ctx.expect(0 < zero < 1, f"{zero:.0%} of the entries are zero with p={p}; mask_noise should zero some "
                             "entries and keep the others")
    ctx.expect_unchanged(x_after, x, "mask_noise modified its input x in place")


@suite.check("mask_noise", points=1, title="p=0 returns x's values, p=1 returns zeros (no NaN)",
             cases=[{"shape": [4, 6], "seed": 4}],
             hint="keep = rand >= p keeps everything for p=0 and nothing for p=1; without a division by 1 - p "
                  "there is no NaN at p=1.")
def edge_p(ctx, shape, seed):
    x = noisy_input(ctx.gen(seed + 50), shape)
    out0, _, _ = call_mask(ctx, x, 0.0, seed)
    ctx.expect_equal(out0, x, "mask_noise(x, p=0.0)", tier="exact")
    out1, _, _ = call_mask(ctx, x, 1.0, seed)
    ctx.expect_equal(out1, torch.zeros_like(x), "mask_noise(x, p=1.0)", tier="exact")


@suite.check("mask_noise", points=1,
             title="uses only the generator passed in: one torch.rand(x.shape) draw, global RNG untouched",
             cases=[{"shape": [3, 11], "p": 0.5, "seed": 5}],
             hint="draw with torch.rand(x.shape, generator=generator), exactly once; not with the global RNG "
                  "(torch.rand without generator=, torch.bernoulli, torch.randperm ...).")
def generator_use(ctx, shape, p, seed):
    x = noisy_input(ctx.gen(seed + 50), shape)
    out_a, _, g_after = call_mask(ctx, x, p, seed, global_seed=0)
    out_b, _, _ = call_mask(ctx, x, p, seed, global_seed=1)
    ctx.expect(torch.equal(out_a, out_b), "with the same generator but another global seed the output changed: "
                                          "the draw does not come (only) from the generator")
    fresh = fx.generator(seed)
    torch.rand(tuple(shape), generator=fresh)
    state = ctx.method(g_after, "get_state")
    ctx.expect(torch.equal(state, fresh.get_state()),
               "after the call the generator is not where one torch.rand(x.shape, generator=generator) leaves it "
               "(nothing drawn, drawn twice, or another kind of draw)")


# ---------------------------------------------------------------------------------------------------
# 3. MaskNoise
# ---------------------------------------------------------------------------------------------------
def students_mask(ctx, x, p, seed):
    """The student's own mask_noise on a fresh generator (MaskNoise is checked against it)."""
    return ctx.call("mask_noise", x, p, None if seed is None else gen_ref(seed))


@suite.check("MaskNoise", points=1.5,
             title="train mode (the default): the output is mask_noise(x, p, generator)",
             cases=[{"n": 10, "d": 20, "p": 0.3, "seed": 0}, {"n": 10, "d": 20, "p": 0.6, "seed": None}],
             hint="in train mode (self.training is True) return mask_noise(x, self.p, self.generator).")
def train_mode(ctx, n, d, p, seed):
    x = noisy_input(ctx.gen(7 if seed is None else seed + 50), (n, d))
    kwargs = {} if seed is None else {"generator": gen_ref(seed)}
    layer = ctx.call("MaskNoise", p, **kwargs)
    out = ctx.method(layer, "__call__", x)
    expect_tensor(ctx, out, x.shape, x.dtype, "MaskNoise(p)(x)")
    frac = (out == 0).float().mean().item()
    ctx.expect(0 < frac < 1, f"in train mode {frac:.0%} of the entries are zero with p={p}",
               hint="in train mode the layer corrupts its input: call mask_noise(x, self.p, self.generator).")
    ctx.expect_equal(out, students_mask(ctx, x, p, seed),
                     "train-mode output compared with your mask_noise(x, p, generator) on the same generator",
                     tier="exact")


@suite.check("MaskNoise", points=1.5, title="eval mode: x unchanged and nothing drawn; train mode again afterwards",
             cases=[{"n": 6, "d": 15, "p": 0.5, "seed": 1}],
             hint="in eval mode (after .eval(), self.training is False) return x itself: no noise at evaluation, "
                  "and no draw from the generator.")
def eval_mode(ctx, n, d, p, seed):
    x = noisy_input(ctx.gen(seed + 50), (n, d))
    layer = ctx.call("MaskNoise", p, generator=gen_ref(seed))
    ctx.method(layer, "eval")
    kept = ctx.method_kept(layer, "__call__", fx_make("leaf", x))
    out = ctx.method(kept, "detach")
    ctx.expect_equal(out, x, "eval-mode output (should be x)", tier="exact",
                     hint="noise was applied at evaluation time: in eval mode MaskNoise must return x unchanged.")
    ctx.expect(ctx.attr(kept, "requires_grad") is True,
               "the eval-mode output does not require gradients although x does: it was detached",
               hint="return x itself in eval mode (no .detach(), .data or torch.no_grad()): gradients must flow "
                    "through the layer, as through nn.Dropout.")
    ctx.method(layer, "train")
    again = ctx.method(layer, "__call__", x)
    frac = (again == 0).float().mean().item()
    ctx.expect(0 < frac < 1, f"back in train mode, {frac:.0%} of the entries are zero with p={p}",
               hint="in train mode the layer corrupts its input: call mask_noise(x, self.p, self.generator).")
    ctx.expect_equal(again, students_mask(ctx, x, p, seed),
                     "the first train-mode output after eval compared with your mask_noise on a fresh generator",
                     tier="exact",
                     hint="in train mode the layer must corrupt with mask_noise(x, self.p, self.generator), and eval "
                          "mode must not draw from the generator.")


# ---------------------------------------------------------------------------------------------------
# 4. denoising_step
# ---------------------------------------------------------------------------------------------------
def reference_steps(d, c, seed, lr, batches, zero_grad=True):
    """SGD on a fresh probe (with stale gradients) over ``batches`` of ``(input, target)``:
    the losses and the state_dict after each step."""
    model = fx.probe(d, c, seed, stale=True)
    model.train()
    opt = fx.PlainSGD(model.parameters(), lr=lr)
    losses, states = [], []
    for x_in, target in batches:
        if zero_grad:
            opt.zero_grad()
        loss = F.mse_loss(model(x_in), target)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        states.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    return losses, states


def student_steps(ctx, n, d, c, p, lr, seed, steps):
    """Call denoising_step ``steps`` times on one probe model / optimizer / generator.
    Returns (clean inputs, the student's own corrupted inputs, losses, states, model ref, generator ref)."""
    key = f"step-{next(_KEYS)}"
    g = ctx.gen(seed + 50)
    xs = [pixels(g, n, d) for _ in range(steps)]
    # the student's own mask_noise on the same generator stream: a trusted input for this exercise
    first, args = ctx.call_with_args("mask_noise", xs[0], p, gen_ref(seed + 100))
    ctx.expect_unchanged(args[0], xs[0], "your mask_noise modifies x in place (see the mask_noise checks); "
                         "denoising_step needs the clean x as its target")
    own, g_ref = [first], args[2]
    for x in xs[1:]:
        own.append(ctx.call("mask_noise", x, p, g_ref))
    model, opt = fx_make("probe_model", key, d, c, seed, stale=True), fx_make("probe_optimizer", key, lr)
    gen = gen_ref(seed + 100)
    losses, states = [], []
    for x in xs:
        result, args = ctx.call_with_args("denoising_step", model, x, p, opt, gen)
        model, opt, gen = args[0], args[3], args[4]
        ctx.expect(isinstance(result, (float, int)) or (isinstance(result, torch.Tensor) and result.numel() == 1),
                   f"denoising_step should return the loss as a Python float; got {describe_tensor(result)}",
                   hint="return loss.item().")
        losses.append(float(result))
        states.append(ctx.method(model, "state_dict"))
    return xs, own, losses, states, model, gen


VARIANTS = {
    "target_noisy": "the loss compares the reconstruction with the corrupted input; the target of a denoising "
                    "autoencoder is the CLEAN x: F.mse_loss(model(x_noisy), x).",
    "no_noise": "the model was given the clean x: feed it the corrupted input (one call of your mask_noise "
                "with p and the generator); the target stays the clean x.",
    "no_zero_grad": "the gradients left from the previous step were added to this step's: clear the "
                    "optimizer's gradients before the backward pass.",
}


def step_variants(d, c, seed, lr, xs, own):
    return {
        "target_noisy": reference_steps(d, c, seed, lr, [(o, o) for o in own]),
        "no_noise": reference_steps(d, c, seed, lr, [(x, x) for x in xs]),
        "no_zero_grad": reference_steps(d, c, seed, lr, list(zip(own, xs)), zero_grad=False),
    }


def close(actual, expected, tier="steps"):
    return compare.close(expected, actual, tier)


WITNESS = "mode_witness."


def without_witness(state):
    """A probe's state_dict without the mode witness's buffers (the mode is train_mode_step's business)."""
    return {k: v for k, v in state.items() if not k.startswith(WITNESS)} if isinstance(state, dict) else state


@suite.check("denoising_step", points=3,
             title="two steps: the returned losses and the parameters after each step (SGD on mse(model(x_noisy), x))",
             cases=[{"n": 5, "d": 7, "c": 3, "p": 0.4, "lr": 0.5, "seed": 0}],
             hint="in train mode: corrupt x once with your mask_noise, clear the old gradients, take the MSE of the "
                  "reconstruction of the corrupted input against the CLEAN x, back-propagate, step, and return the "
                  "loss as a Python float.")
def update(ctx, n, d, c, p, lr, seed):
    xs, own, losses, states, _, _ = student_steps(ctx, n, d, c, p, lr, seed, steps=2)
    ref_losses, ref_states = reference_steps(d, c, seed, lr, list(zip(own, xs)))
    states, ref_states = [without_witness(s) for s in states], [without_witness(s) for s in ref_states]
    ok = all(close(a, b, "composite") for a, b in zip(losses, ref_losses)) and \
        all(close(s, r) for s, r in zip(states, ref_states))
    if not ok:
        for name, (v_losses, v_states) in step_variants(d, c, seed, lr, xs, own).items():
            if all(close(a, b, "composite") for a, b in zip(losses, v_losses)) and \
                    all(close(s, without_witness(r)) for s, r in zip(states, v_states)):
                ctx.fail("the losses and parameters match a known mistake", hint=VARIANTS[name])
        if all(close(s, r) for s, r in zip(states, [without_witness(fx.probe(d, c, seed).state_dict())] * 2)):
            ctx.fail("the model's parameters did not change",
                     hint="call optimizer.step() after loss.backward() (the optimizer holds model.parameters()).")
    for i in range(2):
        ctx.expect_equal(losses[i], ref_losses[i], f"the loss returned by step {i + 1}", tier="composite")
        ctx.expect_equal(states[i], ref_states[i], f"the model's parameters after step {i + 1}", tier="steps")


@suite.check("denoising_step", points=1, title="the model is in train mode during the step (it starts in eval mode)",
             cases=[{"n": 4, "d": 6, "c": 2, "p": 0.3, "lr": 0.1, "seed": 1}],
             hint="call model.train() at the start of the step: a model left in eval mode after an evaluation "
                  "would train with its evaluation behaviour (dropout off, MaskNoise off, BN running stats).")
def train_mode_step(ctx, n, d, c, p, lr, seed):
    # The mode is read from torch's own state, not from a record of ours: the probe's forward runs a
    # BatchNorm witness, whose num_batches_tracked torch advances only in train mode (state_dict, already read).
    _, _, _, states, _, _ = student_steps(ctx, n, d, c, p, lr, seed, steps=1)
    tracked = states[0].get(WITNESS + "num_batches_tracked") if isinstance(states[0], dict) else None
    tracked = int(tracked) if isinstance(tracked, torch.Tensor) and tracked.numel() == 1 else 0
    ctx.expect(tracked >= 1, "the model ran in eval mode during the step (torch's own count of the model's "
                             "training-mode forward passes, kept by a BatchNorm inside it, is 0)")


@suite.check("denoising_step", points=1,
             title="x is not modified, and the step did run the model and update the parameters",
             cases=[{"n": 6, "d": 5, "c": 2, "p": 0.5, "lr": 0.3, "seed": 2}],
             hint="corrupt a copy (mask_noise returns a new tensor); x itself is the clean target.")
def step_input_unchanged(ctx, n, d, c, p, lr, seed):
    key = f"step-{next(_KEYS)}"
    x = pixels(ctx.gen(seed + 50), n, d)
    model, opt = fx_make("probe_model", key, d, c, seed, stale=True), fx_make("probe_optimizer", key, lr)
    _, args = ctx.call_with_args("denoising_step", model, x, p, opt, gen_ref(seed + 100))
    before = without_witness(fx.probe(d, c, seed).state_dict())
    after = without_witness(ctx.method(args[0], "state_dict"))
    # a step that never ran the model moves the parameters by the stale gradients only (computed here: no
    # record of the model's calls is read)
    stale = fx.probe(d, c, seed, stale=True)
    stale_only = {n: (q - lr * q.grad).detach() for n, q in stale.named_parameters()}
    ctx.expect(not close(after, stale_only), "denoising_step never called the model: the parameters moved by the "
                                             "gradients left from the previous step only")
    ctx.expect(any(not torch.equal(after[k], before[k]) for k in before),
               "the model's parameters did not change during denoising_step",
               hint="call optimizer.step() after loss.backward().")
    ctx.expect_unchanged(args[1], x, "denoising_step modified x (the clean target) in place")


@suite.check("denoising_step", points=1,
             title="the generator is used once, by mask_noise, before the forward pass (draw order)",
             cases=[{"n": 3, "d": 8, "c": 2, "p": 0.25, "lr": 0.2, "seed": 3}],
             hint="call mask_noise(x, p, generator) exactly once per step with the generator passed in, and do not "
                  "draw anything else from it.")
def step_generator(ctx, n, d, c, p, lr, seed):
    xs, _, _, _, _, gen = student_steps(ctx, n, d, c, p, lr, seed, steps=1)
    _, args = ctx.call_with_args("mask_noise", xs[0], p, gen_ref(seed + 100))
    own_state = ctx.method(args[2], "get_state")
    ctx.expect(not torch.equal(own_state, fx.generator(seed + 100).get_state()),
               "your mask_noise does not draw from the generator it is given (see the mask_noise checks)")
    state = ctx.method(gen, "get_state")
    ctx.expect(torch.equal(state, own_state),
               "after denoising_step the generator is not where one call of your mask_noise leaves it")


# ---------------------------------------------------------------------------------------------------
# 5. sparse_penalty
# ---------------------------------------------------------------------------------------------------
@suite.check("sparse_penalty", points=2, title="lam * mean(|codes|) as a 0-d tensor of codes' dtype; codes unchanged",
             cases=[{"n": 6, "c": 4, "lam": 0.3, "seed": 0, "dtype": "float32"},
                    {"n": 3, "c": 9, "lam": 2.0, "seed": 1, "dtype": "float64"}],
             hint="lam times the mean absolute value of the ACTIVATIONS (averaged over every entry), kept as a "
                  "tensor (no .item()).")
def penalty_value(ctx, n, c, lam, seed, dtype):
    codes = noisy_input(ctx.gen(seed), (n, c), DTYPES[dtype])
    out, args = ctx.call_with_args("sparse_penalty", codes, lam)
    ctx.expect(isinstance(out, torch.Tensor),
               f"sparse_penalty should return a tensor (to be added to the loss and back-propagated); got "
               f"{type(out).__name__}", hint="return lam * codes.abs().mean() without .item() or float().")
    expect_tensor(ctx, out, (), DTYPES[dtype], "sparse_penalty(codes, lam)")
    ctx.expect_reference(out, f"sparse_penalty(codes, lam={lam})", tier="op")
    ctx.expect_equal(out, lam * codes.abs().mean(), f"sparse_penalty(codes, lam={lam})", tier="op")
    ctx.expect_unchanged(args[0], codes, "sparse_penalty modified codes in place",
                         hint="codes.abs() returns a new tensor; codes.abs_() overwrites the codes.")


# ---------------------------------------------------------------------------------------------------
# 6. sparse_loss
# ---------------------------------------------------------------------------------------------------
LOSS_VARIANTS = {
    "weights": "the penalty was applied to the model's weights; a sparse autoencoder penalizes the ACTIVATIONS: "
               "sparse_penalty(model.encode(x), lam).",
    "output": "the penalty was applied to the reconstruction; penalize the codes model.encode(x).",
    "no_penalty": "the sparsity penalty is missing: add sparse_penalty(codes, lam).",
    "sum_mse": "the reconstruction error was summed; use F.mse_loss (the mean over every entry).",
}


@suite.check("sparse_loss", points=2,
             title="mse(decode(encode(x)), x) + your sparse_penalty(encode(x), lam) on a grader-owned model",
             cases=[{"n": 5, "d": 6, "c": 3, "lam": 0.7, "seed": 0}],
             hint="encode x once, and add your sparse_penalty of those codes to the MSE between their decoding "
                  "and x.")
def loss_value(ctx, n, d, c, lam, seed):
    x = pixels(ctx.gen(seed + 50), n, d)
    out, args = ctx.call_with_args("sparse_loss", fx_make("probe", d, c, seed), x, lam)
    ctx.expect(isinstance(out, torch.Tensor), f"sparse_loss should return a tensor; got {type(out).__name__}",
               hint="return the loss tensor itself (no .item()), so that it can be back-propagated.")
    expect_tensor(ctx, out, (), torch.float32, "sparse_loss(model, x, lam)")
    model = fx.probe(d, c, seed)
    with torch.no_grad():
        z = model.encode(x)
        x_hat = model.decode(z)
    codes = z
    pen = ctx.call("sparse_penalty", codes, lam)  # the student's own penalty (checked on its own)
    ctx.expect(isinstance(pen, torch.Tensor) and pen.numel() == 1,
               "your sparse_penalty does not return a one-element tensor (see its own check)")
    pen = pen.reshape(()).to(torch.float32)
    expected = F.mse_loss(x_hat, x) + pen
    if not close(out, expected, "composite"):
        l1 = lambda t: lam * t.abs().mean()  # noqa: E731 - the variants use the documented penalty
        mse = F.mse_loss(x_hat, x)
        variants = {
            "weights": [mse + sum(l1(w) for w in model.weight_matrices()),
                        mse + sum(l1(p) for p in model.parameters())] + [mse + l1(w) for w in model.weight_matrices()],
            "output": [mse + l1(x_hat)],
            "no_penalty": [mse],
            "sum_mse": [F.mse_loss(x_hat, x, reduction="sum") + pen],
        }
        for name, values in variants.items():
            if any(close(out, v.detach(), "composite") for v in values):
                ctx.fail("the loss matches a known mistake", hint=LOSS_VARIANTS[name])
    ctx.expect_equal(out, expected, "sparse_loss(model, x, lam)", tier="composite")
    ctx.expect_unchanged(args[1], x, "sparse_loss modified x in place")
    kept = ctx.call_kept("sparse_loss", fx_make("probe", d, c, seed), x, lam)
    ctx.expect(ctx.attr(kept, "requires_grad") is True,
               "the loss returned by sparse_loss does not require gradients: it cannot train the model",
               hint="return the loss tensor as computed (no .detach(), .item(), torch.no_grad()).")


# ---------------------------------------------------------------------------------------------------
# 7. pca_reconstruct
# ---------------------------------------------------------------------------------------------------
def pca_data(seed, n, d, k, m, dtype=torch.float32):
    """Training rows whose variance has a clear gap after k components (so that every correct method, a
    randomized one included, finds the same subspace), a mean far from 0, and rows x with another mean."""
    g = torch.Generator().manual_seed(int(seed))
    basis, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    scales = torch.cat([torch.linspace(6.0, 3.0, k, dtype=torch.float64),
                        torch.linspace(0.05, 0.01, d - k, dtype=torch.float64)])
    mean = torch.randn(d, generator=g, dtype=torch.float64) * 2 + 1
    x_train = (torch.randn(n, d, generator=g, dtype=torch.float64) * scales) @ basis.T + mean
    x = (torch.randn(m, d, generator=g, dtype=torch.float64) * scales * 1.5) @ basis.T + mean + \
        torch.randn(d, generator=g, dtype=torch.float64) * 1.5
    return x_train.to(dtype), x.to(dtype)


def exact_pca(x_train, x, k):
    xt, xx = x_train.double(), x.double()
    mean = xt.mean(0)
    _, _, vh = torch.linalg.svd(xt - mean, full_matrices=False)
    v = vh[:k].T
    return (mean + (xx - mean) @ v @ v.T).to(x.dtype)


@suite.check("pca_reconstruct", points=2,
             title="mean + (x - mean) V_k V_k^T with x_train's mean and top-k directions (k < D and k = D)",
             cases=[{"n": 60, "d": 10, "k": 3, "m": 7, "seed": 0}],
             hint="centre with the TRAINING mean, project onto the first k principal directions of x_train "
                  "(torch.pca_lowrank with center=True) and map back, adding the training mean again.")
def pca_values(ctx, n, d, k, m, seed, dtype="float32"):
    x_train, x = pca_data(seed, n, d, k, m, DTYPES[dtype])
    out, args = ctx.call_with_args("pca_reconstruct", x_train, x, k)
    expect_tensor(ctx, out, (m, d), DTYPES[dtype], f"pca_reconstruct(x_train, x, k={k})")
    ctx.expect_reference(out, f"pca_reconstruct(x_train, x, k={k})", tier="steps")
    ctx.expect_equal(out, exact_pca(x_train, x, k), f"pca_reconstruct(x_train, x, k={k})", tier="steps")
    ctx.expect_unchanged(args[0], x_train, "pca_reconstruct modified x_train in place")
    ctx.expect_unchanged(args[1], x, "pca_reconstruct modified x in place")
    full = ctx.call("pca_reconstruct", x_train, x, d)
    ctx.expect_equal(full, x, f"pca_reconstruct(x_train, x, k=D={d}) (all components: x itself)", tier="steps",
                     hint="with k = D the projection V_k V_k^T is the identity and x_hat = x.")


@suite.check("pca_reconstruct", points=1,
             title="x_hat is the orthogonal projection of x onto a k-dimensional subspace through the training mean",
             cases=[{"n": 50, "d": 8, "k": 2, "m": 9, "seed": 1}],
             hint="subtract x_train's mean before projecting and add the same mean back afterwards.")
def pca_subspace(ctx, n, d, k, m, seed):
    x_train, x = pca_data(seed, n, d, k, m)
    out = ctx.call("pca_reconstruct", x_train, x, k)
    expect_tensor(ctx, out, (m, d), torch.float32, f"pca_reconstruct(x_train, x, k={k})")
    centred = (out - x_train.mean(0)).double()
    s = torch.linalg.svdvals(centred)
    ratios = s / s[0]
    ctx.expect(compare.close(ratios[k:], torch.zeros_like(ratios[k:]), "steps") and
               not compare.close(ratios[k - 1:k], torch.zeros(1, dtype=ratios.dtype), "steps"),
               f"the rows of x_hat - x_train.mean(0) span {int((ratios > compare.TIERS['steps'][1]).sum())} dimensions; "
               f"expected {k}")
    residual = x.double() - out.double()
    cosines = (residual * centred).sum(1) / (residual.norm(dim=1) * centred.norm(dim=1) + 1e-30)
    ctx.expect(compare.close(cosines, torch.zeros_like(cosines), "steps"),
               "x - x_hat is not orthogonal to x_hat - x_train.mean(0): x_hat is not an orthogonal projection of x "
               "onto a subspace through the training mean")
