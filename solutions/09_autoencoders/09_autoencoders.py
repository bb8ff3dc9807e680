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
#     assignment: 09_autoencoders
# ---

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # 09 · Autoencoders: bottleneck, noise, sparsity — and PCA
#
# An autoencoder is trained to output its own input: an **encoder** $f$ maps $x\in\mathbb R^D$ to a code
# $h = f(x)\in\mathbb R^C$ and a **decoder** $g$ maps the code back, $\hat x = g(h)$, minimizing the
# reconstruction error
#
# $$
# L(x) = \frac{1}{D}\,\lVert x - g(f(x)) \rVert_2^2 .
# $$
#
# Copying the input is useless on its own; an autoencoder learns something only when copying is made
# **hard**. Three ways to make it hard, one per part of this assignment:
#
# 1. a **bottleneck** ($C \ll D$): the code cannot hold everything, so the network must keep the directions
#    that explain most of the data. With linear layers and the squared error this is exactly **PCA** — you
#    will compare the two with the same number of components and show that a linear autoencoder recovers
#    the PCA subspace;
# 2. **noise** (a *denoising* autoencoder): corrupt the input, ask for the *clean* input back. The identity
#    map no longer works, so the network must learn how pixels depend on each other. This is input-noise
#    regularization — dropout (assignment 05) applied to the input, with a different target;
# 3. **sparsity**: an L1 penalty on the **codes** (activations), not on the weights as in assignment 02,
#    so that each input is described by few active units.
#
# **Conventions (fixed for this assignment)**
#
# * Images are flattened to rows: `x` has shape `(N, D)` with `D = 784` for 28×28 images, values in `[0, 1]`.
# * `p` is the **corruption (drop) probability**, as in dropout: an entry is **kept** when
#   `torch.rand(x.shape, generator=generator) >= p` (one draw per entry, float32, in `x`'s row-major order)
#   and set to 0 otherwise. Kept entries are **not** rescaled: there is no `1/(1-p)` here (see part 3).
# * Reconstruction losses are `F.mse_loss(x_hat, x)` (mean over every entry).
# * The sparse penalty is `lam * mean(|codes|)` over every entry of the batch of codes.
#
# After each exercise, a **self-check** cell runs the visible checks; hidden checks (other shapes and
# seeds) run when you submit. Training cells are skipped when grading; with their default settings the
# whole notebook runs in about a minute on a laptop CPU.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch
import torch.nn.functional as F
from torch import nn

from autograder import check

REGNORM_ASSIGNMENT = "09_autoencoders"
torch.set_num_threads(1)

# %% [markdown] nbgrader={"grade": false, "grade_id": "data_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 0. Data
#
# MNIST through `torchvision` (downloaded to `data/` the first time). Without a network the loader says so
# loudly and falls back to scikit-learn's 8×8 digits upsampled to 28×28; the line printed below always
# names the data set that actually ran. We keep a **validation** set apart from the training images: every
# comparison below (code sizes, PCA against the autoencoder, noise) is made on validation data.

# %% nbgrader={"grade": false, "grade_id": "data_load", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
import matplotlib.pyplot as plt
from tqdm.auto import tqdm

from autograder.data import load_vision_dataset

data = load_vision_dataset("mnist", n_train=6000, n_test=1000, seed=0)
print("data set:", data.source)
x_all = data.x_train.flatten(1)                     # (N, 784) in [0, 1]
n_val = max(len(x_all) // 6, 1)
x_train, x_val = x_all[:-n_val], x_all[-n_val:]
print(f"train {tuple(x_train.shape)}, validation {tuple(x_val.shape)} (the test split is not used here)")

# %% [markdown] nbgrader={"grade": false, "grade_id": "ae_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 1. `Autoencoder`: a bottleneck
#
# The architecture is fixed so that the grader can load its own weights into your module:
#
# $$
# \underbrace{x \xrightarrow{\text{Linear}(D,H)} \text{ReLU} \xrightarrow{\text{Linear}(H,C)} h}_{\texttt{encode}}
# \qquad
# \underbrace{h \xrightarrow{\text{Linear}(C,H)} \text{ReLU} \xrightarrow{\text{Linear}(H,D)} \text{sigmoid} \to \hat x}_{\texttt{decode}}
# $$
#
# with $D$ = `in_dim` (784), $C$ = `code_dim` (32) and $H$ = `hidden` (128). The code layer is **linear** (no
# activation: codes may be negative); the output goes through a **sigmoid** because pixels lie in
# $[0, 1]$. Four `nn.Linear` layers with biases: $DH + H + HC + C + CH + H + HD + D$ parameters
# ($209\,968$ with the defaults), all registered, so that `model.parameters()` hands all of them to an
# optimizer.

# %% nbgrader={"grade": false, "grade_id": "Autoencoder", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Autoencoder(nn.Module):
    """
    A fully connected autoencoder with a bottleneck of size code_dim.

    encode: Linear(in_dim, hidden) -> ReLU -> Linear(hidden, code_dim)            (linear code)
    decode: Linear(code_dim, hidden) -> ReLU -> Linear(hidden, in_dim) -> sigmoid

    Inputs (constructor):
    - in_dim: D, the number of input features (784 for flattened 28x28 images).
    - code_dim: C, the size of the code (the bottleneck).
    - hidden: H, the width of the hidden layer on both sides.

    Every layer is an nn.Linear with a bias, registered as a submodule (for instance inside two
    nn.Sequential called encoder and decoder), so that all parameters appear in self.parameters().
    """

    def __init__(self, in_dim=784, code_dim=32, hidden=128):
        super().__init__()
        # TODO: build the encoder and the decoder layers (registered submodules).
        ### BEGIN SOLUTION
        self.encoder = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, code_dim))
        self.decoder = nn.Sequential(nn.Linear(code_dim, hidden), nn.ReLU(), nn.Linear(hidden, in_dim),
                                     nn.Sigmoid())
        ### END SOLUTION

    def encode(self, x):
        """
        Inputs:
        - x: tensor of shape (N, in_dim).
        Returns:
        - code: tensor of shape (N, code_dim) (no activation on the code layer).
        """
        code = None
        # TODO: run the encoder.
        ### BEGIN SOLUTION
        code = self.encoder(x)
        ### END SOLUTION
        return code

    def decode(self, code):
        """
        Inputs:
        - code: tensor of shape (N, code_dim).
        Returns:
        - x_hat: tensor of shape (N, in_dim), values in (0, 1).
        """
        x_hat = None
        # TODO: run the decoder (ending with a sigmoid).
        ### BEGIN SOLUTION
        x_hat = self.decoder(code)
        ### END SOLUTION
        return x_hat

    def forward(self, x):
        """Reconstruction decode(encode(x)), shape (N, in_dim)."""
        x_hat = None
        # TODO: encode, then decode.
        ### BEGIN SOLUTION
        x_hat = self.decode(self.encode(x))
        ### END SOLUTION
        return x_hat


# %% nbgrader={"grade": true, "grade_id": "check_Autoencoder", "locked": true, "points": 11, "schema_version": 3, "solution": false, "task": false}
points = check("Autoencoder")
### BEGIN HIDDEN TESTS
points += check("Autoencoder", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "mask_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 2. `mask_noise`: masking corruption
#
# The denoising autoencoder of Vincent et al. (2008) corrupts its input by **zeroing a random fraction
# $p$ of the entries** and leaving the others untouched:
#
# $$
# m_{ij} = \mathbb 1\left[u_{ij} \ge p\right],\quad u_{ij}\sim U[0,1),\qquad \tilde x_{ij} = m_{ij}\, x_{ij}.
# $$
#
# The draw is part of the contract, so that the grader can reproduce it exactly:
# `keep = torch.rand(x.shape, generator=generator) >= p` — one call, float32 numbers, nothing else drawn
# from `generator`. Return a **new** tensor of `x`'s shape and dtype; do not modify `x` (the clean input is
# the training target!). Any shape is allowed (`(N, D)`, `(N, 1, 28, 28)`, ...).
#
# Unlike inverted dropout, kept values are **not** divided by $1-p$: the network must output the clean
# pixel values, and a rescaled input would ask it to undo the scaling too.

# %% nbgrader={"grade": false, "grade_id": "mask_noise", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mask_noise(x, p, generator):
    """
    Zero-masking corruption: each entry of x is set to 0 with probability p.

    Inputs:
    - x: tensor of any shape (float32 or float64).
    - p: corruption probability in [0, 1]; p=0 returns a copy of x, p=1 returns zeros.
    - generator: torch.Generator; draw exactly torch.rand(x.shape, generator=generator) (float32)
      and keep the entries where that number is >= p.

    Returns:
    - x_noisy: new tensor, same shape and dtype as x: x where kept, 0 elsewhere (no rescaling).
      x itself is not modified.
    """
    x_noisy = None
    # TODO: draw the keep mask with the generator, then zero the dropped entries of a new tensor.
    ### BEGIN SOLUTION
    keep = torch.rand(x.shape, generator=generator) >= p
    x_noisy = torch.where(keep, x, torch.zeros((), dtype=x.dtype))
    ### END SOLUTION
    return x_noisy


# %% nbgrader={"grade": true, "grade_id": "check_mask_noise", "locked": true, "points": 9.5, "schema_version": 3, "solution": false, "task": false}
points = check("mask_noise")
### BEGIN HIDDEN TESTS
points += check("mask_noise", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "masknoise_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 3. `MaskNoise`: noise during training only
#
# Like `nn.Dropout`, corruption is a **training** device: at evaluation time we want the reconstruction of
# the real input. `MaskNoise(p, generator=None)` is a layer you could put in front of an encoder: in train
# mode it returns `mask_noise(x, p, self.generator)`, in eval mode it returns `x` unchanged (no noise, no
# draw). Store the arguments as `self.p` and `self.generator` (`None` means the global random generator).
#
# Compare with inverted dropout from assignment 05, $\tilde x = m \odot x / (1-p)$: dropout rescales so
# that the **next layer** sees the same expected input at train and test time. A denoising autoencoder asks
# for the clean $x$ as **output**, so there is nothing to keep unbiased and no rescaling.

# %% nbgrader={"grade": false, "grade_id": "MaskNoise", "locked": false, "schema_version": 3, "solution": true, "task": false}
class MaskNoise(nn.Module):
    """
    Masking corruption as a layer: mask_noise(x, p, generator) in train mode, the identity in eval mode.

    Inputs (constructor):
    - p: corruption probability.
    - generator: torch.Generator used for the masks (None: the global generator); kept as self.generator.

    In eval mode return x unchanged, without .detach(): like nn.Dropout, the layer lets gradients through in
    both modes.
    """

    def __init__(self, p, generator=None):
        super().__init__()
        self.p = p
        self.generator = generator

    def forward(self, x):
        out = None
        if self.training:
            # TODO: corrupt x with your mask_noise, using self.p and self.generator.
            ### BEGIN SOLUTION
            out = mask_noise(x, self.p, self.generator)
            ### END SOLUTION
        else:
            # TODO: evaluation mode: no corruption at all.
            ### BEGIN SOLUTION
            out = x
            ### END SOLUTION
        return out


# %% nbgrader={"grade": true, "grade_id": "check_MaskNoise", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
points = check("MaskNoise")
### BEGIN HIDDEN TESTS
points += check("MaskNoise", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "step_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 4. `denoising_step`: one training step of a denoising autoencoder
#
# $$
# \tilde x = \text{mask\_noise}(x, p),\qquad
# L = \frac{1}{ND}\sum_{i,j}\left(g(f(\tilde x))_{ij} - x_{ij}\right)^2 ,
# $$
#
# the loss compares the reconstruction of the **corrupted** input with the **clean** input. In order:
# put the model in train mode; corrupt `x` with **one** call `mask_noise(x, p, generator)` (the only draw
# from `generator`); clear the old gradients; forward; `F.mse_loss(x_hat, x)`; backward; `optimizer.step()`.
# Return the loss as a Python float (`loss.item()`, the value *before* the step). The optimizer was built on
# `model.parameters()`; do not build another one.

# %% nbgrader={"grade": false, "grade_id": "denoising_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def denoising_step(model, x, p, optimizer, generator):
    """
    One optimizer step of a denoising autoencoder.

    Inputs:
    - model: nn.Module mapping (N, D) -> (N, D).
    - x: clean batch, tensor of shape (N, D); not modified.
    - p: corruption probability for mask_noise.
    - optimizer: an optimizer over model.parameters() (e.g. torch.optim.SGD; only its zero_grad() and
      step() are used).
    - generator: torch.Generator; used once, by mask_noise(x, p, generator), before the forward pass.

    Returns:
    - loss: Python float, F.mse_loss(model(x_noisy), x) before the update.
    """
    x_noisy = None
    # TODO: put the model in train mode, then corrupt the input (one mask_noise call).
    ### BEGIN SOLUTION
    model.train()
    x_noisy = mask_noise(x, p, generator)
    ### END SOLUTION
    loss = None
    # TODO: zero the gradients, reconstruct x_noisy, compare with the CLEAN x, backward, step.
    ### BEGIN SOLUTION
    optimizer.zero_grad()
    x_hat = model(x_noisy)
    loss = F.mse_loss(x_hat, x)
    loss.backward()
    optimizer.step()
    ### END SOLUTION
    return loss.item()


# %% nbgrader={"grade": true, "grade_id": "check_denoising_step", "locked": true, "points": 8.5, "schema_version": 3, "solution": false, "task": false}
points = check("denoising_step")
### BEGIN HIDDEN TESTS
points += check("denoising_step", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "sparse_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 5. `sparse_penalty` and `sparse_loss`: L1 on the activations
#
# A sparse autoencoder adds an L1 penalty on the **codes** $h = f(x)$:
#
# $$
# \Omega(h) = \lambda\,\frac{1}{NC}\sum_{i=1}^N\sum_{k=1}^C |h_{ik}|,
# \qquad
# L_{\text{sparse}} = \text{mse}(g(f(x)), x) + \Omega(f(x)).
# $$
#
# Compare with assignment 02: there `l1_penalty(model, lam)` $=\lambda\sum|w|$ penalized the **weights**
# (the same for every input: it prunes connections). Here the penalty depends on the input: it pushes the
# **activations** of each example towards 0, so each image is described by a few active code units, while
# the weights stay free. Same $|\cdot|$, different tensor. (The square $h^2$ would shrink codes without
# making them sparse, as L2 on weights does.)
#
# `sparse_penalty` returns a 0-d tensor (so that it can be added to a loss and back-propagated), with the
# dtype of `codes`. `sparse_loss(model, x, lam)` uses `model.encode` / `model.decode` and your
# `sparse_penalty`.

# %% nbgrader={"grade": false, "grade_id": "sparse_penalty", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sparse_penalty(codes, lam):
    """
    L1 sparsity penalty on a batch of codes (activations).

    Inputs:
    - codes: tensor of shape (N, C).
    - lam: penalty strength (float, >= 0).

    Returns:
    - penalty: 0-d tensor (dtype of codes, differentiable), lam * mean of |codes| over all N*C entries.
    """
    penalty = None
    # TODO: one line; keep it a tensor (no .item()).
    ### BEGIN SOLUTION
    penalty = lam * codes.abs().mean()
    ### END SOLUTION
    return penalty


# %% nbgrader={"grade": true, "grade_id": "check_sparse_penalty", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
points = check("sparse_penalty")
### BEGIN HIDDEN TESTS
points += check("sparse_penalty", hidden=True)
### END HIDDEN TESTS
points

# %% nbgrader={"grade": false, "grade_id": "sparse_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sparse_loss(model, x, lam):
    """
    Reconstruction error plus the sparsity penalty on the codes of x.

    Inputs:
    - model: an autoencoder with encode(x) -> codes (N, C) and decode(codes) -> x_hat (N, D).
    - x: tensor of shape (N, D); not modified.
    - lam: sparsity strength, passed to sparse_penalty.

    Returns:
    - loss: 0-d tensor, F.mse_loss(decode(codes), x) + sparse_penalty(codes, lam) with codes = encode(x).
    """
    codes = None
    # TODO: encode x once.
    ### BEGIN SOLUTION
    codes = model.encode(x)
    ### END SOLUTION
    loss = None
    # TODO: reconstruction error of decode(codes) against x, plus the penalty on the codes.
    ### BEGIN SOLUTION
    loss = F.mse_loss(model.decode(codes), x) + sparse_penalty(codes, lam)
    ### END SOLUTION
    return loss


# %% nbgrader={"grade": true, "grade_id": "check_sparse_loss", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
points = check("sparse_loss")
### BEGIN HIDDEN TESTS
points += check("sparse_loss", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "pca_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 6. `pca_reconstruct`: the linear baseline
#
# PCA with $k$ components keeps the $k$ directions of largest variance of the **training** data. With the
# training mean $\mu$ and the top-$k$ principal directions $V_k\in\mathbb R^{D\times k}$ (orthonormal
# columns), a row $x$ is encoded as $z = (x-\mu)V_k$ and reconstructed as
#
# $$
# \hat x = \mu + (x-\mu)\,V_k V_k^\top .
# $$
#
# Everything is fitted on `x_train` only — the mean too: `x` may be validation data whose own mean differs.
# Use `torch.pca_lowrank(x_train, q=..., center=True)` (it returns `U, S, V` with `V` of shape `(D, q)`).
# It is a *randomized* method: with `q` exactly `k` and few iterations its subspace is only approximate on
# data whose spectrum decays slowly (like images), so ask for a few more columns than you keep
# (`q = min(k + 10, N, D)`, `niter=4`) and keep the first `k`. Any exact method (`torch.linalg.svd` of the
# centred data) is accepted too. By the Eckart–Young theorem, no rank-$k$ linear map reconstructs the
# training data with a smaller squared error: this is the bar the autoencoder is measured against.

# %% nbgrader={"grade": false, "grade_id": "pca_reconstruct", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pca_reconstruct(x_train, x, k):
    """
    Project x onto the top-k principal subspace of x_train and map it back.

    Inputs:
    - x_train: tensor of shape (N, D), the data PCA is fitted on (mean and directions).
    - x: tensor of shape (M, D), the rows to reconstruct (e.g. validation data).
    - k: number of components, 1 <= k <= min(N, D).

    Returns:
    - x_hat: tensor of shape (M, D): mean + (x - mean) @ V_k @ V_k.T, with mean = x_train.mean(0) and
      V_k (D, k) the top-k principal directions of x_train. Neither input is modified.
    """
    mean = x_train.mean(dim=0)
    V_k = None
    # TODO: the top-k principal directions of x_train, shape (D, k).
    ### BEGIN SOLUTION
    q = min(k + 10, *x_train.shape)
    _, _, V = torch.pca_lowrank(x_train, q=q, center=True, niter=4)
    V_k = V[:, :k]
    ### END SOLUTION
    x_hat = None
    # TODO: centre x with the TRAINING mean, project, map back, add the mean.
    ### BEGIN SOLUTION
    x_hat = mean + (x - mean) @ V_k @ V_k.T
    ### END SOLUTION
    return x_hat


# %% nbgrader={"grade": true, "grade_id": "check_pca_reconstruct", "locked": true, "points": 4.5, "schema_version": 3, "solution": false, "task": false}
points = check("pca_reconstruct")
### BEGIN HIDDEN TESTS
points += check("pca_reconstruct", hidden=True)
### END HIDDEN TESTS
points

# %% [markdown] nbgrader={"grade": false, "grade_id": "train_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## 7. Experiments
#
# The helpers below train with **your** functions: `denoising_step` when `p > 0`, `sparse_loss` when
# `lam > 0`. Adam, mini-batches, a fixed number of optimizer **steps** (so a run costs the same on MNIST and
# on the small offline data set), a tqdm bar per run. `recon_error` is the validation metric: the mean
# squared error per pixel against the clean images, in eval mode.

# %% nbgrader={"grade": false, "grade_id": "train_helpers", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
def fit(model, x, *, steps=400, lr=2e-3, batch_size=128, p=0.0, lam=0.0, weight_l1=0.0, seed=0,
        desc="training", history=None, x_val=None, log_every=50):
    """Train `model` to reconstruct the rows of `x` for `steps` optimizer steps; returns it in eval mode.
    p > 0: denoising (your denoising_step); lam > 0: your sparse_loss; weight_l1 > 0: weight_l1 * sum|W| over
    the weight matrices (assignment 02's L1). `history` (a list) receives (step, train error, val error)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    step = 0
    with tqdm(total=steps, desc=desc, leave=False) as bar:
        while step < steps:
            perm = torch.randperm(len(x), generator=g)
            for i in range(0, len(x), batch_size):
                if step == steps:
                    break
                xb = x[perm[i:i + batch_size]]
                if p > 0:
                    loss = denoising_step(model, xb, p, opt, g)
                else:
                    model.train()
                    opt.zero_grad()
                    total = sparse_loss(model, xb, lam) if lam > 0 else F.mse_loss(model(xb), xb)
                    if weight_l1 > 0:
                        total = total + weight_l1 * sum(w.abs().sum() for w in weights)
                    total.backward()
                    opt.step()
                    loss = total.item()
                step += 1
                bar.update()
                bar.set_postfix(loss=f"{loss:.4f}")
                if history is not None and step % log_every == 0:
                    history.append((step, recon_error(model, x), recon_error(model, x_val)))
    return model.eval()


@torch.no_grad()
def recon_error(model, x, p=0.0, seed=123):
    """Mean squared error per pixel between model(x) (or model(mask_noise(x, p)) if p > 0) and the clean x."""
    was_training = model.training
    model.eval()
    inp = mask_noise(x, p, torch.Generator().manual_seed(seed)) if p > 0 else x
    err = F.mse_loss(model(inp), x).item()
    model.train(was_training)
    return err


def show_rows(rows, titles, n=8, suptitle=""):
    fig, axes = plt.subplots(len(rows), n, figsize=(1.2 * n, 1.3 * len(rows)))
    for r, (imgs, title) in enumerate(zip(rows, titles)):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(imgs[c].reshape(28, 28).detach(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(suptitle)
    plt.tight_layout()
    plt.show()


# %% [markdown] nbgrader={"grade": false, "grade_id": "denoise_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 7.1 Inputs, noisy inputs, reconstructions
#
# Two autoencoders with the same 32-dimensional code and the same budget: one trained on clean inputs, one
# trained to denoise (`p = 0.5`: half of the pixels zeroed). Both are shown **validation** digits with half
# of their pixels masked. The plain autoencoder has never seen holes and reproduces part of them; the
# denoising one fills the strokes in. The printed errors tell the other half of the story: on *clean*
# inputs the plain autoencoder is the better one — each model is best at the task it was trained for.

# %% nbgrader={"grade": false, "grade_id": "denoise_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
P_NOISE = 0.5
plain_ae = fit(Autoencoder(), x_train, seed=0, desc="plain AE")
denoising_ae = fit(Autoencoder(), x_train, p=P_NOISE, seed=0, desc=f"denoising AE (p={P_NOISE})")
x_show = x_val[:8]
x_noisy_show = mask_noise(x_show, P_NOISE, torch.Generator().manual_seed(7))
with torch.no_grad():
    show_rows([x_show, x_noisy_show, plain_ae(x_noisy_show), denoising_ae(x_noisy_show)],
              ["input", f"noisy (p={P_NOISE})", "plain AE", "denoising AE"],
              suptitle="Validation digits: input, masked input, and both reconstructions of the masked input")
for name, model in (("plain", plain_ae), ("denoising", denoising_ae)):
    print(f"{name:>9} AE: validation error on clean inputs {recon_error(model, x_val):.4f}, "
          f"on masked inputs (p={P_NOISE}) {recon_error(model, x_val, p=P_NOISE):.4f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "codesize_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 7.2 Reconstruction error against code size: PCA and the autoencoder
#
# Validation error of PCA (your `pca_reconstruct`, fitted on the training images) and of an autoencoder
# with the same number of components $k$ (300 steps each). PCA is the best *linear* rank-$k$ reconstruction
# of the training set; the non-linear autoencoder beats it for small codes, where a curved low-dimensional
# description of the digits pays off. As $k$ grows, PCA keeps improving while this briefly trained
# autoencoder flattens out: its error is limited by optimization, not by the bottleneck. (On the offline
# fallback, 8×8 digits upsampled to 28×28, the images span at most 64 dimensions, so PCA reaches 0 at
# $k = 64$.)

# %% nbgrader={"grade": false, "grade_id": "codesize_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
CODE_SIZES = [2, 4, 8, 16, 32, 64]
pca_err, ae_err = [], []
for k in CODE_SIZES:
    pca_err.append(F.mse_loss(pca_reconstruct(x_train, x_val, k), x_val).item())
    model = fit(Autoencoder(code_dim=k), x_train, steps=300, batch_size=64, seed=k, desc=f"AE, code size {k}")
    ae_err.append(recon_error(model, x_val))
plt.figure(figsize=(5.5, 3.8))
plt.plot(CODE_SIZES, [max(e, 1e-6) for e in pca_err], "o-", label="PCA (pca_reconstruct; an error of 0 is drawn at 1e-6)")
plt.plot(CODE_SIZES, ae_err, "s-", label="autoencoder (300 steps)")
plt.xscale("log", base=2)
plt.yscale("log")
plt.xlabel("code size k (number of components)")
plt.ylabel("validation MSE per pixel")
plt.title("Reconstruction error against code size (validation)")
plt.legend()
plt.grid(alpha=0.3)
plt.show()
for k, a, b in zip(CODE_SIZES, pca_err, ae_err):
    print(f"k={k:>3}: PCA {a:.4f}   autoencoder {b:.4f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "linear_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 7.3 A linear autoencoder finds the PCA subspace
#
# Remove the non-linearities: $\hat x = \mu + (x-\mu) W_e^\top W_d^\top$ with $W_e\in\mathbb R^{k\times D}$,
# $W_d\in\mathbb R^{D\times k}$, trained on the squared error. Its global minima span **the same subspace**
# as the top-$k$ principal directions (Baldi & Hornik, 1989), although $W_d$ need not have orthonormal
# columns nor be ordered by variance: the basis is arbitrary, the subspace is not. We compare subspaces by
# their **principal angles**: with orthonormal bases $Q_1, Q_2$, the cosines of the angles are the singular
# values of $Q_1^\top Q_2$ (1 = aligned). The top directions converge first, the last ones (small variance,
# small gradient) slowest. A random subspace of the same size is shown for scale.

# %% nbgrader={"grade": false, "grade_id": "linear_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
K_LIN = 8
x_lin = x_train[:2000]
mu = x_lin.mean(0)
xc = x_lin - mu
torch.manual_seed(0)
linear_ae = nn.Sequential(nn.Linear(784, K_LIN, bias=False), nn.Linear(K_LIN, 784, bias=False))
opt = torch.optim.Adam(linear_ae.parameters(), lr=3e-3)
for _ in tqdm(range(600), desc="linear AE (full batch)", leave=False):
    opt.zero_grad()
    loss = F.mse_loss(linear_ae(xc), xc)
    loss.backward()
    opt.step()
_, _, Vh = torch.linalg.svd(xc, full_matrices=False)
Q_pca = Vh[:K_LIN].T                                      # (784, k): the exact principal directions
Q_ae, _ = torch.linalg.qr(linear_ae[1].weight.detach())   # an orthonormal basis of the decoder's columns
Q_rand, _ = torch.linalg.qr(torch.randn(784, K_LIN, generator=torch.Generator().manual_seed(0)))
cosines = torch.linalg.svdvals(Q_pca.T @ Q_ae)
plt.figure(figsize=(5.5, 3.5))
plt.bar(torch.arange(K_LIN) - 0.2, cosines, width=0.4, label="linear autoencoder vs PCA")
plt.bar(torch.arange(K_LIN) + 0.2, torch.linalg.svdvals(Q_pca.T @ Q_rand), width=0.4, label="random subspace vs PCA")
plt.xlabel("principal angle (largest cosine first)")
plt.ylabel("cos(principal angle)")
plt.title(f"Subspace of a linear autoencoder (k={K_LIN}) vs PCA")
plt.ylim(0, 1.05)
plt.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8)
plt.tight_layout()
plt.show()
print("cosines of the principal angles:", [round(float(c), 3) for c in cosines])
print(f"training error: linear AE {loss.item():.5f}, PCA {F.mse_loss(pca_reconstruct(x_lin, x_lin, K_LIN), x_lin).item():.5f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "reg_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 7.4 Denoising is input-noise regularization
#
# Masking noise is dropout applied to the **input** layer (assignment 05), with two differences: no
# $1/(1-p)$ (the target is the clean $x$, not a quantity the next layer must see unbiased) and a target that
# differs from the input. Like dropout, it is a regularizer: every step sees a different corrupted copy of
# each image, so memorizing pixels does not pay off and the network has to use the dependencies between
# them. (For small Gaussian input noise and the squared error, Bishop (1995) showed that training with noise
# is equivalent to a Tikhonov penalty on the network's derivatives — the family of assignment 02's L2
# penalty.)
#
# Below: only 200 training images and a wide 128-dimensional code, with $p \in \{0, 0.25, 0.5\}$; errors on
# clean images. Like dropout, the noise costs training fit and shrinks the **ratio** of validation to
# training error (the generalization gap); at this small budget the clean validation error itself is still
# lowest without noise — masking half of the pixels is a strong corruption. The last line measures what the
# noise buys: fed images of pure uniform noise, the plain autoencoder copies them best (it has learned
# something close to the identity); the denoising ones map them towards digits and copy them worst.

# %% nbgrader={"grade": false, "grade_id": "reg_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
x_small = x_train[:200]
noise_images = torch.rand(200, 784, generator=torch.Generator().manual_seed(5))
curves, copy_noise = {}, {}
for p in (0.0, 0.25, 0.5):
    hist = []
    model = fit(Autoencoder(code_dim=128), x_small, steps=400, batch_size=50, p=p, seed=1, history=hist,
                x_val=x_val, desc=f"200 images, p={p}")
    curves[p] = hist
    copy_noise[p] = recon_error(model, noise_images)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for p, hist in curves.items():
    steps_, tr, va = zip(*hist)
    line, = ax1.plot(steps_, va, label=f"validation, p={p}")
    ax1.plot(steps_, tr, "--", color=line.get_color(), label=f"train, p={p}")
ax1.set_yscale("log")
ax1.set_xlabel("optimizer step")
ax1.set_ylabel("MSE per pixel (clean images)")
ax1.set_title("200 training images: train (dashed) and validation")
ax1.legend(fontsize=7)
ps = list(curves)
ax2.bar([str(p) for p in ps], [curves[p][-1][2] / curves[p][-1][1] for p in ps])
ax2.set_xlabel("masking probability p")
ax2.set_ylabel("validation error / training error")
ax2.set_title("Generalization gap after 400 steps")
plt.tight_layout()
plt.show()
for p in ps:
    _, tr, va = curves[p][-1]
    print(f"p={p}: train {tr:.4f}, validation {va:.4f}, ratio {va / tr:.2f}; "
          f"error when copying uniform-noise images {copy_noise[p]:.4f}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "l1_md", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ### 7.5 L1 on the activations vs L1 on the weights
#
# Three autoencoders with a 64-dimensional code: no penalty, your `sparse_loss` (L1 on the **codes**), and
# assignment 02's L1 on the **weights**. Left: how many code units are active per validation image
# ($|h| > 0.1$). Right: the distribution of the encoder's first-layer weights. The penalty on activations
# makes the *codes* sparse — each image is described by a few units — and leaves the weights dense; the
# penalty on weights drives most *weights* to zero, and the codes stay dense.

# %% nbgrader={"grade": false, "grade_id": "l1_run", "locked": true, "schema_version": 3, "solution": false, "task": false} tags=["skip-when-grading"]
runs = {"no penalty": {}, "L1 on codes (lam=0.03)": {"lam": 0.03}, "L1 on weights (02, 3e-6)": {"weight_l1": 3e-6}}
trained = {name: fit(Autoencoder(code_dim=64), x_train, steps=400, seed=2, desc=name, **kw) for name, kw in runs.items()}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
for name, model in trained.items():
    with torch.no_grad():
        codes = model.encode(x_val)
    active = (codes.abs() > 0.1).float().sum(1)
    ax1.hist(active.numpy(), bins=32, range=(0, 64), alpha=0.5, label=name)
    w = model.encoder[0].weight.detach().flatten()
    ax2.hist(w.numpy(), bins=80, range=(-0.15, 0.15), alpha=0.5, label=name)
    print(f"{name:>24}: validation error {recon_error(model, x_val):.4f}, active code units per image "
          f"{active.mean():5.1f}/64, weights with |w| < 1e-3: {(w.abs() < 1e-3).float().mean():.1%}")
ax1.set_xlabel("active code units per image (|h| > 0.1)")
ax1.set_ylabel("validation images")
ax1.set_title("Sparsity of the codes")
ax1.legend(fontsize=8)
ax2.set_xlabel("first-layer encoder weight")
ax2.set_ylabel("count")
ax2.set_title("Distribution of the weights")
ax2.set_yscale("log")
plt.tight_layout()
plt.show()

# %% [markdown] nbgrader={"grade": false, "grade_id": "outro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## What to take away
#
# * A bottleneck, input noise and an activity penalty are three ways to stop an autoencoder from learning
#   the identity; each forces it to model the structure of the data.
# * With linear layers and the squared error, the bottleneck *is* PCA (same subspace); non-linear layers
#   beat PCA at small codes.
# * Denoising = noise on the input, clean target, noise at training time only, no `1/(1-p)`: dropout's
#   relative, used as a regularizer.
# * L1 on **activations** (sparse codes, input-dependent) is not L1 on **weights** (sparse connections).
