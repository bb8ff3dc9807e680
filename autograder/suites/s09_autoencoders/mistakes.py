"""Realistic wrong implementations for assignment 09, each with the hint that names it.

Instructor-only. Used to record what each mistake returns (so feedback can say "this matches a
known mistake: ...") and, in the test suite, as submissions that must lose points on ``targets``.
``feedback=`` is the text a property check prints instead (asserted by the tests). Each mistake is
self-contained: where it needs another exercise (``mask_noise``, ``sparse_penalty``) it uses a correct
copy defined here, so that only its own exercise is wrong.
"""

import torch
import torch.nn.functional as F
from torch import nn

from autograder.suites.s09_autoencoders import checks as v
from autograder.suites.s09_autoencoders.checks import suite


def _mask_noise(x, p, generator):
    return x * (torch.rand(x.shape, generator=generator) >= p)


def _sparse_penalty(codes, lam):
    return lam * codes.abs().mean()


# -- Autoencoder ----------------------------------------------------------------------------------------
class _AE(nn.Module):
    code_act = out_act = dec_act = None
    fixed_hidden = None
    as_list = no_grad_encode = False

    def __init__(self, in_dim=784, code_dim=32, hidden=128):
        super().__init__()
        hidden = self.fixed_hidden or hidden
        enc = [nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, code_dim)]
        if self.code_act:
            enc.append(self.code_act())
        dec = [nn.Linear(code_dim, hidden), (self.dec_act or nn.ReLU)(), nn.Linear(hidden, in_dim)]
        if self.out_act is not False:
            dec.append(nn.Sigmoid())
        if self.as_list:
            self.layers = enc + dec  # a plain list: nothing registered
            self.n_enc = len(enc)
        else:
            self.encoder, self.decoder = nn.Sequential(*enc), nn.Sequential(*dec)

    def _run(self, mods, x):
        for m in mods:
            x = m(x)
        return x

    def encode(self, x):
        if self.no_grad_encode:
            with torch.no_grad():
                return self.encoder(x)
        return self._run(self.layers[:self.n_enc], x) if self.as_list else self.encoder(x)

    def decode(self, code):
        return self._run(self.layers[self.n_enc:], code) if self.as_list else self.decoder(code)

    def forward(self, x):
        return self.decode(self.encode(x))


def _ae_mistake(name, hint, targets, affects=(), feedback=None, **attrs):
    cls = type("Autoencoder", (_AE,), attrs)
    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("Autoencoder", name=name, hint=hint, targets=targets, affects=affects, **extra)(cls)


_ae_mistake("relu_on_code", "a ReLU after the code layer: the code is linear (codes may be negative); the encoder "
            "ends with Linear(hidden, code_dim).", ("Autoencoder.encode", "Autoencoder.forward"),
            code_act=nn.ReLU)
_ae_mistake("no_sigmoid", "the decoder has no sigmoid at the end: pixels lie in [0, 1], decode ends with "
            "nn.Sigmoid().", ("Autoencoder.decode", "Autoencoder.forward"), out_act=False)
_ae_mistake("decoder_tanh", "the decoder's hidden activation is not a ReLU: decode is Linear -> ReLU -> Linear -> "
            "sigmoid.", ("Autoencoder.decode", "Autoencoder.forward"), dec_act=nn.Tanh)
_ae_mistake("layers_in_list", "layers kept in a Python list are not registered", ("Autoencoder.structure",),
            affects=(), feedback="keep the layers as attributes (e.g. two nn.Sequential), not in a Python list",
            as_list=True)
_ae_mistake("encode_no_grad", "the encoder ran under torch.no_grad()", ("Autoencoder.gradients",),
            feedback="it was detached from the parameters", no_grad_encode=True)
_ae_mistake("hidden_ignored", "the hidden width is hard-coded", ("Autoencoder.structure",),
            feedback="parameter shapes", fixed_hidden=128)


# -- mask_noise -----------------------------------------------------------------------------------------
@suite.mistake("mask_noise", name="rescaled_like_dropout",
               hint="kept entries were rescaled by 1/(1-p) like inverted dropout; a denoising autoencoder keeps "
                    "them as they are (the target is the clean x).",
               targets=("mask_noise.kept_values", "mask_noise.edge_p"), affects=("MaskNoise",))
def mask_noise(x, p, generator):
    keep = torch.rand(x.shape, generator=generator) >= p
    return x * keep / (1 - p)


@suite.mistake("mask_noise", name="keep_drop_swapped",
               hint="p is the probability of ZEROING an entry: keep where rand >= p (the mask keeps a fraction "
                    "1 - p), not where rand < p.",
               targets=("mask_noise.draw", "mask_noise.edge_p"))
def mask_noise(x, p, generator):  # noqa: F811
    keep = torch.rand(x.shape, generator=generator) < p
    return x * keep


@suite.mistake("mask_noise", name="global_rng",
               hint="the mask was drawn from the global random generator; pass generator=generator to torch.rand "
                    "so that the corruption is reproducible.",
               targets=("mask_noise.draw", "mask_noise.generator_use"), affects=("denoising_step",))
def mask_noise(x, p, generator):  # noqa: F811
    return x * (torch.rand(x.shape) >= p)


@suite.mistake("mask_noise", name="bernoulli_draw",
               hint="the mask was drawn with torch.bernoulli; the convention is keep = torch.rand(x.shape, "
                    "generator=generator) >= p (the draws differ).",
               targets=("mask_noise.draw",))
def mask_noise(x, p, generator):  # noqa: F811
    return x * torch.bernoulli(torch.full(x.shape, 1 - p), generator=generator).to(x.dtype)


@suite.mistake("mask_noise", name="draw_in_x_dtype",
               hint="the random numbers were drawn in x's dtype (float64); the convention draws float32 numbers: "
                    "torch.rand(x.shape, generator=generator) without dtype=.",
               targets=("mask_noise.draw",))
def mask_noise(x, p, generator):  # noqa: F811
    return x * (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p)


@suite.mistake("mask_noise", name="in_place", hint="mask_noise modified its input x in place",
               targets=("mask_noise.input_unchanged",), feedback="mask_noise modified its input x in place",
               affects=("denoising_step",))
def mask_noise(x, p, generator):  # noqa: F811
    keep = torch.rand(x.shape, generator=generator) >= p
    return x.mul_(keep)


# -- MaskNoise ------------------------------------------------------------------------------------------
class _MaskNoise(nn.Module):
    def __init__(self, p, generator=None):
        super().__init__()
        self.p, self.generator = p, generator


@suite.mistake("MaskNoise", name="noise_at_eval",
               hint="noise was applied at evaluation time: in eval mode MaskNoise must return x unchanged.",
               targets=("MaskNoise.eval_mode",), namespace={"mask_noise": _mask_noise})
class MaskNoise(_MaskNoise):
    def forward(self, x):
        return _mask_noise(x, self.p, self.generator)


@suite.mistake("MaskNoise", name="draws_in_eval",
               hint="in train mode the layer must corrupt with mask_noise(x, self.p, self.generator), and eval "
                    "mode must not draw from the generator.",
               targets=("MaskNoise.eval_mode",), namespace={"mask_noise": _mask_noise})
class MaskNoise(_MaskNoise):  # noqa: F811
    def forward(self, x):
        noisy = _mask_noise(x, self.p, self.generator)
        return noisy if self.training else x


@suite.mistake("MaskNoise", name="dropout_layer",
               hint="the layer corrupts with dropout, which rescales kept entries by 1/(1-p) and ignores the "
                    "generator: call your mask_noise(x, self.p, self.generator).",
               targets=("MaskNoise.train_mode",), affects=(), namespace={"mask_noise": _mask_noise},
               feedback="train-mode output compared with your mask_noise")
class MaskNoise(_MaskNoise):  # noqa: F811
    def forward(self, x):
        return F.dropout(x, self.p, self.training)


@suite.mistake("MaskNoise", name="detached_in_eval",
               hint="return x itself in eval mode (no .detach(), .data or torch.no_grad()): gradients must flow "
                    "through the layer, as through nn.Dropout.",
               targets=("MaskNoise.eval_mode",), namespace={"mask_noise": _mask_noise})
class MaskNoise(_MaskNoise):  # noqa: F811
    def forward(self, x):
        return _mask_noise(x, self.p, self.generator) if self.training else x.detach()


# -- denoising_step -------------------------------------------------------------------------------------
_STEP = {"namespace": {"mask_noise": _mask_noise}}


def _step(model, x, p, optimizer, generator, *, target_noisy=False, noise=True, zero_grad=True, train=True,
          step=True):
    if train:
        model.train()
    x_noisy = _mask_noise(x, p, generator) if noise else x
    if zero_grad:
        optimizer.zero_grad()
    loss = F.mse_loss(model(x_noisy), x_noisy if target_noisy else x)
    loss.backward()
    if step:
        optimizer.step()
    return loss.item()


def _step_mistake(name, hint, targets, affects=(), feedback=None, **flags):
    def denoising_step(model, x, p, optimizer, generator):
        return _step(model, x, p, optimizer, generator, **flags)

    extra = {"feedback": feedback} if feedback else {}
    suite.mistake("denoising_step", name=name, hint=hint, targets=targets, affects=affects, **_STEP,
                  **extra)(denoising_step)


_step_mistake("target_noisy", v.VARIANTS["target_noisy"], ("denoising_step.update",), target_noisy=True)
_step_mistake("no_noise", v.VARIANTS["no_noise"], ("denoising_step.update", "denoising_step.step_generator"),
              feedback=v.VARIANTS["no_noise"], noise=False)
_step_mistake("no_zero_grad", v.VARIANTS["no_zero_grad"], ("denoising_step.update",), zero_grad=False)
_step_mistake("no_train_mode", "the model ran in eval mode during the step", ("denoising_step.train_mode_step",),
              feedback="the model ran in eval mode during the step", train=False)
_step_mistake("no_optimizer_step", "call optimizer.step() after loss.backward()",
              ("denoising_step.update", "denoising_step.step_input_unchanged"),
              feedback="call optimizer.step() after loss.backward()", step=False)


@suite.mistake("denoising_step", name="new_optimizer",
               hint="the step used a new optimizer instead of the one passed in (its learning rate and state)",
               targets=("denoising_step.update",), feedback="the model's parameters after step 1", **_STEP)
def denoising_step(model, x, p, optimizer, generator):
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x_noisy = _mask_noise(x, p, generator)
    opt.zero_grad()
    loss = F.mse_loss(model(x_noisy), x)
    loss.backward()
    opt.step()
    return loss.item()


@suite.mistake("denoising_step", name="corrupts_x_in_place",
               hint="denoising_step modified x (the clean target) in place",
               targets=("denoising_step.step_input_unchanged", "denoising_step.update"),
               feedback="denoising_step modified x (the clean target) in place", **_STEP)
def denoising_step(model, x, p, optimizer, generator):  # noqa: F811
    model.train()
    keep = torch.rand(x.shape, generator=generator) >= p
    x[~keep] = 0
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), x)
    loss.backward()
    optimizer.step()
    return loss.item()


# -- sparse_penalty -------------------------------------------------------------------------------------
@suite.mistake("sparse_penalty", name="squared",
               hint="the codes were squared (an L2 penalty): sparsity needs the absolute value, lam * mean(|codes|).",
               targets=("sparse_penalty.penalty_value",), affects=("sparse_loss",))
def sparse_penalty(codes, lam):
    return lam * (codes ** 2).mean()


@suite.mistake("sparse_penalty", name="no_abs",
               hint="the absolute value is missing: positive and negative codes cancel; use codes.abs().",
               targets=("sparse_penalty.penalty_value",), affects=("sparse_loss",))
def sparse_penalty(codes, lam):  # noqa: F811
    return lam * codes.mean()


@suite.mistake("sparse_penalty", name="summed",
               hint="the absolute values were summed; the penalty is their MEAN over every entry (it must not grow "
                    "with the batch size or the code size).",
               targets=("sparse_penalty.penalty_value",), affects=("sparse_loss",))
def sparse_penalty(codes, lam):  # noqa: F811
    return lam * codes.abs().sum()


@suite.mistake("sparse_penalty", name="sum_per_example",
               hint="the L1 norm of each code was averaged over the batch (a sum over code units); the convention "
                    "is the mean over every entry: lam * codes.abs().mean().",
               targets=("sparse_penalty.penalty_value",), affects=("sparse_loss",))
def sparse_penalty(codes, lam):  # noqa: F811
    return lam * codes.abs().sum(dim=1).mean()


@suite.mistake("sparse_penalty", name="item",
               hint="return lam * codes.abs().mean() without .item() or float().",
               targets=("sparse_penalty.penalty_value",), affects=("sparse_loss",))
def sparse_penalty(codes, lam):  # noqa: F811
    return float(lam * codes.detach().abs().mean())


@suite.mistake("sparse_penalty", name="in_place_abs",
               hint="codes.abs() returns a new tensor; codes.abs_() overwrites the codes.",
               targets=("sparse_penalty.penalty_value",), feedback="sparse_penalty modified codes in place")
def sparse_penalty(codes, lam):  # noqa: F811
    return lam * codes.abs_().mean()


# -- sparse_loss ----------------------------------------------------------------------------------------
_LOSS = {"namespace": {"sparse_penalty": _sparse_penalty}}


@suite.mistake("sparse_loss", name="l1_on_weights", hint=v.LOSS_VARIANTS["weights"],
               targets=("sparse_loss.loss_value",), **_LOSS)
def sparse_loss(model, x, lam):
    weights = [p for p in model.parameters() if p.dim() > 1]
    return F.mse_loss(model(x), x) + sum(_sparse_penalty(w, lam) for w in weights)


@suite.mistake("sparse_loss", name="penalty_on_output", hint=v.LOSS_VARIANTS["output"],
               targets=("sparse_loss.loss_value",), **_LOSS)
def sparse_loss(model, x, lam):  # noqa: F811
    x_hat = model(x)
    return F.mse_loss(x_hat, x) + _sparse_penalty(x_hat, lam)


@suite.mistake("sparse_loss", name="no_penalty", hint=v.LOSS_VARIANTS["no_penalty"],
               targets=("sparse_loss.loss_value",), **_LOSS)
def sparse_loss(model, x, lam):  # noqa: F811
    return F.mse_loss(model(x), x)


@suite.mistake("sparse_loss", name="summed_mse", hint=v.LOSS_VARIANTS["sum_mse"],
               targets=("sparse_loss.loss_value",), **_LOSS)
def sparse_loss(model, x, lam):  # noqa: F811
    codes = model.encode(x)
    return F.mse_loss(model.decode(codes), x, reduction="sum") + _sparse_penalty(codes, lam)


# -- pca_reconstruct ------------------------------------------------------------------------------------
def _top_k(x_train, k, center=True):
    q = min(k + 10, *x_train.shape)
    _, _, V = torch.pca_lowrank(x_train, q=q, center=center, niter=4)
    return V[:, :k]


@suite.mistake("pca_reconstruct", name="own_mean",
               hint="x was centred with its own mean; PCA is fitted on the training data: centre x with "
                    "x_train.mean(0) and add that mean back.",
               targets=("pca_reconstruct.pca_values", "pca_reconstruct.pca_subspace"))
def pca_reconstruct(x_train, x, k):
    V = _top_k(x_train, k)
    mean = x.mean(0)
    return mean + (x - mean) @ V @ V.T


@suite.mistake("pca_reconstruct", name="not_centred",
               hint="the data were not centred: PCA's directions are those of x_train - mean, and x_hat = mean + "
                    "(x - mean) V_k V_k^T.",
               targets=("pca_reconstruct.pca_values", "pca_reconstruct.pca_subspace"))
def pca_reconstruct(x_train, x, k):  # noqa: F811
    V = _top_k(x_train, k, center=False)
    return x @ V @ V.T


@suite.mistake("pca_reconstruct", name="mean_not_added_back",
               hint="the training mean was subtracted but not added back: x_hat = mean + (x - mean) V_k V_k^T.",
               targets=("pca_reconstruct.pca_values", "pca_reconstruct.pca_subspace"))
def pca_reconstruct(x_train, x, k):  # noqa: F811
    V = _top_k(x_train, k)
    return (x - x_train.mean(0)) @ V @ V.T


@suite.mistake("pca_reconstruct", name="default_q",
               hint="torch.pca_lowrank(x_train) without q= returns min(6, N, D) directions: pass q >= k",
               targets=("pca_reconstruct.pca_values",), feedback="all components: x itself")
def pca_reconstruct(x_train, x, k):  # noqa: F811
    _, _, V = torch.pca_lowrank(x_train, center=True)
    V = V[:, :k]
    mean = x_train.mean(0)
    return mean + (x - mean) @ V @ V.T


@suite.mistake("sparse_loss", name="detached_loss",
               hint="return the loss tensor as computed (no .detach(), .item(), torch.no_grad()).",
               targets=("sparse_loss.loss_value",), **_LOSS)
def sparse_loss(model, x, lam):  # noqa: F811
    codes = model.encode(x)
    return (F.mse_loss(model.decode(codes), x) + _sparse_penalty(codes, lam)).detach()



# -- mutation benchmark (benchmarks/mutation_score.py) ----------------------------------------------------------
MUTATION_ACCEPTED = {  # survivors judged equivalent under the contract (still counted by the benchmark)
    "pca_reconstruct": {
        "`k + 10` -> `k`": "torch.pca_lowrank without oversampling (q = k) is still a correct randomized PCA: the "
                           "checks' data have a clear variance gap after k components so that every correct method "
                           "finds the same subspace; the probe moves k away from that gap, where any randomized "
                           "method is approximate.",
    },
}
