"""autograder.data.load_vision_dataset: real torchvision parsing of IDX files, and the loud offline fallback."""

from __future__ import annotations

import os
import struct

import pytest
import torch

from autograder import data as data_mod
from autograder.data import VisionData, load_vision_dataset


def _write_idx(path, array: torch.Tensor) -> None:
    """Write a uint8 tensor in the IDX (SN3 "Pascal Vincent") format: magic 0x0000 08 <ndim>, big-endian dims."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.dim()) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.to(torch.uint8).contiguous().numpy().tobytes())


def _tiny_split(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.int64).to(torch.uint8)
    images[:, 0, 0] = torch.arange(n, dtype=torch.uint8)  # pixel (0, 0) identifies the example
    labels = torch.arange(n, dtype=torch.int64) % 10
    return images, labels


@pytest.fixture
def idx_root(tmp_path):
    """A data root holding tiny FashionMNIST and MNIST raw IDX files (12 training, 7 test images each)."""
    files = {}
    for folder in ("FashionMNIST", "MNIST"):
        raw = tmp_path / folder / "raw"
        raw.mkdir(parents=True)
        for prefix, n, seed in (("train", 12, 1), ("t10k", 7, 2)):
            images, labels = _tiny_split(n, seed)
            _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
            _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
            files[(folder, prefix)] = (images, labels)
    return tmp_path, files


def _no_network(*args, **kwargs):
    raise AssertionError("the test must not touch the network")


def test_idx_files_parsed_by_torchvision(idx_root, monkeypatch, capsys):
    root, files = idx_root
    import torchvision.datasets as tvd

    monkeypatch.setattr(tvd.FashionMNIST, "download", _no_network)
    data = load_vision_dataset("fashion_mnist", n_train=None, n_test=None, root=str(root), download=False)
    assert isinstance(data, VisionData)
    assert "WARNING" not in capsys.readouterr().out
    assert data.source.startswith("FashionMNIST (torchvision")
    assert "12 of 12 training and 7 of 7 test" in data.source
    assert data.classes[0] == "T-shirt/top" and len(data.classes) == 10
    for x, y, (images, labels) in ((data.x_train, data.y_train, files[("FashionMNIST", "train")]),
                                   (data.x_test, data.y_test, files[("FashionMNIST", "t10k")])):
        assert x.shape == (len(labels), 1, 28, 28) and x.dtype == torch.float32
        assert y.dtype == torch.int64 and y.shape == (len(labels),)
        assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
        # a permutation of the examples: pixel (0, 0) says which example each row is
        order = (x[:, 0, 0, 0] * 255).round().long()
        assert sorted(order.tolist()) == list(range(len(labels)))
        torch.testing.assert_close(x[:, 0], images[order].float() / 255, rtol=0, atol=1e-7)
        assert torch.equal(y, labels[order])


def test_subset_is_seeded_and_sized(idx_root):
    root, _ = idx_root
    a = load_vision_dataset("mnist", n_train=5, n_test=3, root=str(root), download=False, seed=3)
    b = load_vision_dataset("mnist", n_train=5, n_test=3, root=str(root), download=False, seed=3)
    c = load_vision_dataset("mnist", n_train=5, n_test=3, root=str(root), download=False, seed=4)
    assert a.x_train.shape == (5, 1, 28, 28) and a.x_test.shape == (3, 1, 28, 28)
    assert a.source.startswith("MNIST (torchvision") and "5 of 12 training and 3 of 7 test" in a.source
    assert "seed 3" in a.source
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, c.x_train)
    # documented draw order: one generator, the training permutation first, then the test one
    g = torch.Generator().manual_seed(3)
    train_idx = torch.randperm(12, generator=g)[:5]
    test_idx = torch.randperm(7, generator=g)[:3]
    assert torch.equal(a.y_train, torch.arange(12)[train_idx] % 10)
    assert torch.equal(a.y_test, torch.arange(7)[test_idx] % 10)


def test_default_root_from_environment(idx_root, monkeypatch):
    root, _ = idx_root
    monkeypatch.setenv("REGNORM_DATA", str(root))
    data = load_vision_dataset("fashion_mnist", n_train=4, n_test=2, download=False)
    assert data.source.startswith("FashionMNIST (torchvision") and str(root) in data.source


def test_missing_files_fall_back_loudly(tmp_path, capsys):
    data = load_vision_dataset("fashion_mnist", n_train=100, n_test=40, root=str(tmp_path), download=False, seed=1)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("WARNING: FashionMNIST is not available")
    assert data.source.startswith("scikit-learn digits upsampled to 28x28 (offline fallback: FashionMNIST could "
                                  "not be found")
    assert "Dataset not found" in data.source and "100 training and 40 test" in data.source
    assert data.source in out
    assert data.x_train.shape == (100, 1, 28, 28) and data.x_test.shape == (40, 1, 28, 28)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert 0.0 <= float(data.x_train.min()) and float(data.x_train.max()) <= 1.0
    assert float(data.x_train.max()) > 0.9  # real images, not zeros
    assert data.classes == [str(k) for k in range(10)]
    assert set(data.y_train.tolist()) <= set(range(10)) and len(set(data.y_train.tolist())) == 10
    # train and test are disjoint rows of the digits set
    rows_tr = {tuple(r) for r in data.x_train.flatten(1)[:, ::7].tolist()}
    rows_te = {tuple(r) for r in data.x_test.flatten(1)[:, ::7].tolist()}
    assert not rows_tr & rows_te
    again = load_vision_dataset("fashion_mnist", n_train=100, n_test=40, root=str(tmp_path), download=False, seed=1)
    assert torch.equal(data.x_train, again.x_train) and torch.equal(data.y_test, again.y_test)


def test_failed_download_falls_back_and_says_why(tmp_path, monkeypatch, capsys):
    import urllib.error

    import torchvision.datasets as tvd

    def offline(self):
        os.makedirs(self.raw_folder, exist_ok=True)  # as torchvision's download() does before it tries
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://example.invalid/, got:\n"
                           f"{urllib.error.URLError('[Errno -2] Name or service not known')}\n")

    monkeypatch.setattr(tvd.MNIST, "download", offline)  # FashionMNIST inherits it
    data = load_vision_dataset(root=str(tmp_path / "data"))  # the defaults: fashion_mnist, 6000 / 1000, download=True
    out = capsys.readouterr().out
    assert not (tmp_path / "data").exists()  # the empty folders the failed download made are removed
    assert "offline fallback: FashionMNIST could not be downloaded" in data.source
    assert "no network (<urlopen error [Errno -2] Name or service not known>)" in data.source
    assert data.source in out and out.startswith("WARNING:")
    # 6000 + 1000 asked, 1797 digits exist: the requested proportion is kept, nothing overlaps
    assert len(data.y_train) + len(data.y_test) == 1797
    assert len(data.y_test) == round(1797 * 1000 / 7000)
    assert f"{len(data.y_train)} training and {len(data.y_test)} test images of 1797" in data.source


def test_download_restores_socket_timeout(tmp_path, monkeypatch):
    import socket

    import torchvision.datasets as tvd

    seen = []
    monkeypatch.setattr(tvd.MNIST, "download", lambda self: seen.append(socket.getdefaulttimeout()))
    before = socket.getdefaulttimeout()
    load_vision_dataset("mnist", n_train=10, n_test=5, root=str(tmp_path))
    assert seen and seen[0] == data_mod._DOWNLOAD_TIMEOUT_S
    assert socket.getdefaulttimeout() == before


def test_unknown_name_is_an_error():
    with pytest.raises(ValueError, match="fashion_mnist"):
        load_vision_dataset("cifar10", download=False)
