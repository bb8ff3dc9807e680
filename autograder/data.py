"""Data helpers for notebooks: the course's small source data files and the real data sets.

``source_data/`` (at the repository root) holds the numbers of the lecture's by-hand worksheets as
JSON; notebooks load them with :func:`load_source_data` so no expected value is typed twice.
:func:`load_vision_dataset` loads FashionMNIST / MNIST through torchvision, with a loud offline fallback.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported lazily: the source-data helper must stay cheap
    import torch

from autograder.paths import REPO_ROOT, source_data_dir


def load_source_data(name: str) -> dict:
    """Load ``source_data/<name>.json`` (e.g. ``load_source_data("batchnorm_by_hand")``)."""
    path = os.path.join(source_data_dir(), f"{name}.json")
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


# --------------------------------------------------------------------------------------------------
# Real image data sets (FashionMNIST / MNIST) with an honest offline fallback (docs: DATA_API contract)
# --------------------------------------------------------------------------------------------------

_TORCHVISION_NAMES = {"fashion_mnist": "FashionMNIST", "mnist": "MNIST"}
_DIGITS_CLASSES = [str(k) for k in range(10)]
_DOWNLOAD_TIMEOUT_S = 30.0


@dataclass
class VisionData:
    """A seeded subset of a 28x28 grey-scale image data set, as tensors.

    ``x_*``: float32 of shape (N, 1, 28, 28) with values in [0, 1]; ``y_*``: int64 of shape (N,);
    ``classes``: the class names, indexed by label; ``source``: one line saying which data set actually
    ran (notebooks print it right after loading).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list = field(default_factory=list)
    source: str = ""


def vision_data_root() -> str:
    """``$REGNORM_DATA`` if set, else ``<repo>/data``."""
    return os.environ.get("REGNORM_DATA") or os.path.join(REPO_ROOT, "data")


def _short_reason(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    network = re.search(r"<urlopen error [^>]*>", text)
    if network:  # torchvision's download error lists every mirror; the network error is what matters
        return f"no network ({network.group(0)})"
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _subset(x, y, n, generator):
    import torch

    if n is None or n >= len(y):
        idx = torch.randperm(len(y), generator=generator)
    else:
        idx = torch.randperm(len(y), generator=generator)[:n]
    return x[idx], y[idx]


def _load_torchvision(name: str, root: str, download: bool, n_train, n_test, seed: int) -> VisionData:
    import torch
    from torchvision import datasets

    cls = getattr(datasets, _TORCHVISION_NAMES[name])
    old_timeout = socket.getdefaulttimeout()
    if download and old_timeout is None:
        socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)  # a dead network fails in seconds, not minutes
    try:
        train = cls(root, train=True, download=download)
        test = cls(root, train=False, download=download)
    finally:
        socket.setdefaulttimeout(old_timeout)
    gen = torch.Generator().manual_seed(seed)
    parts = []
    for ds, n in ((train, n_train), (test, n_test)):  # draw order: the train permutation, then the test one
        x = ds.data.to(torch.float32).div_(255.0).unsqueeze(1)
        y = ds.targets.to(torch.int64)
        parts.extend(_subset(x, y, n, gen))
    x_tr, y_tr, x_te, y_te = parts
    source = (f"{cls.__name__} (torchvision, {os.path.join(root, cls.__name__)}): {len(y_tr)} of {len(train)} "
              f"training and {len(y_te)} of {len(test)} test images (seeded subset, seed {seed})")
    return VisionData(x_tr, y_tr, x_te, y_te, list(ds.classes), source)


def _load_digits_fallback(n_train, n_test, seed: int, why: str) -> VisionData:
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    digits = load_digits()  # ships with scikit-learn: 1797 images of 8x8, values 0..16
    images = torch.as_tensor(digits.images, dtype=torch.float32).div_(16.0).unsqueeze(1)
    x = F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False).clamp_(0.0, 1.0)
    y = torch.as_tensor(digits.target, dtype=torch.int64)
    total = len(y)
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(total, generator=gen)  # one permutation: test first, train from the rest
    n_te = total // 6 if n_test is None else n_test
    n_tr = total - n_te if n_train is None else n_train
    if n_tr + n_te > total:  # asked for more than the 1797 digits: keep the requested train/test proportion
        n_te = max(1, round(total * n_te / (n_tr + n_te)))
        n_tr = total - n_te
    te, tr = perm[:n_te], perm[n_te:n_te + n_tr]
    source = (f"scikit-learn digits upsampled to 28x28 (offline fallback: {why}): {n_tr} training and {n_te} test "
              f"images of {total} (seeded split, seed {seed})")
    return VisionData(x[tr], y[tr], x[te], y[te], list(_DIGITS_CLASSES), source)


def load_vision_dataset(name: str = "fashion_mnist", *, n_train: int | None = 6000, n_test: int | None = 1000,
                        root: str | None = None, download: bool = True, seed: int = 0) -> VisionData:
    """Load a seeded subset of FashionMNIST or MNIST through torchvision, or say loudly that it could not.

    - ``name``: ``"fashion_mnist"`` or ``"mnist"``; read with ``torchvision.datasets.FashionMNIST/MNIST(root,
      train=..., download=download)`` from ``root`` (default ``$REGNORM_DATA`` or ``<repo>/data``).
    - ``n_train`` / ``n_test``: size of the random subset of the training / test split (``None``: all of it).
      The subsets come from one ``torch.Generator`` seeded with ``seed``: first the training permutation,
      then the test one.
    - When the data cannot be downloaded or read (no network, no files), nothing is substituted silently: it
      prints a one-line warning and returns scikit-learn's ``load_digits`` (8x8 digits, bilinearly upsampled
      to 28x28, 10 classes), and ``source`` says so, with the short reason.

    Returns a :class:`VisionData`; ``x_*`` float32 (N, 1, 28, 28) in [0, 1], ``y_*`` int64 (N,).
    """
    if name not in _TORCHVISION_NAMES:
        raise ValueError(f"name must be one of {sorted(_TORCHVISION_NAMES)}, not {name!r}")
    root = root or vision_data_root()
    folder = os.path.join(root, _TORCHVISION_NAMES[name])
    made_by_a_failed_download = [d for d in (os.path.join(folder, "raw"), folder, root) if not os.path.exists(d)]
    try:
        return _load_torchvision(name, root, download, n_train, n_test, seed)
    except Exception as exc:  # noqa: BLE001 - any failure to get the real data is reported, then the fallback runs
        what = "downloaded" if download else "found"
        why = f"{_TORCHVISION_NAMES[name]} could not be {what} in {root}: {_short_reason(exc)}"
    for d in made_by_a_failed_download:  # torchvision makes <root>/<Name>/raw before it tries the network
        with contextlib.suppress(OSError):  # not empty (a partial file stays for the next try), or gone
            os.rmdir(d)
    data = _load_digits_fallback(n_train, n_test, seed, why)
    print(f"WARNING: {_TORCHVISION_NAMES[name]} is not available, using the offline fallback: {data.source}")
    return data
