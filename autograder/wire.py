"""Plain-data codec between the grader and the student process.

Everything that crosses the process boundary is JSON: numbers, strings, booleans, None, lists and
string-keyed dicts as themselves, plus tagged objects for the few richer types we allow:

- ``{"__t__": "tensor", "dtype": "float32", "shape": [2, 3], "data": "<base64 raw bytes>"}``
- ``{"__t__": "ndarray", ...}`` (same fields, for NumPy arrays)
- ``{"__t__": "tuple", "items": [...]}`` and ``{"__t__": "dict", "items": [[k, v], ...]}``
- ``{"__t__": "ref", "id": 7, "type": "BatchNorm1d"}``: an object that stays in the student
  process (a module, an optimizer, ...); the grader can only ask about it through the proxy.
- ``{"__t__": "make", "factory": "pkg.module:function", "args": [...], "kwargs": {...}}``: an
  instruction, sent by the grader only, to build an object from grader-owned fixture code.

Arrays travel as raw little-endian bytes of a whitelisted dtype: nothing is ever unpickled, and
decoding never imports or evaluates anything named by the data (``make`` is honoured only on the
student side, and only for factories under ``autograder.fixtures``).
"""

from __future__ import annotations

import base64
import json
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

ALLOWED_DTYPES = (
    "float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
    "complex64", "complex128",
)
MAX_FRAME_BYTES = 256 * 1024 * 1024


class WireError(ValueError):
    """Raised when data cannot be encoded or a frame is malformed."""


class Ref:
    """A handle on an object that lives in the student process."""

    __slots__ = ("id", "type")

    def __init__(self, id: int, type: str):
        self.id = int(id)
        self.type = str(type)

    def __repr__(self) -> str:
        return f"<student {self.type} #{self.id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ref) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("ref", self.id))


class Make:
    """Grader's instruction to build an object from an ``autograder.fixtures`` factory."""

    __slots__ = ("factory", "args", "kwargs")

    def __init__(self, factory: str, *args: Any, **kwargs: Any):
        if not factory.startswith("autograder.fixtures"):
            raise WireError(f"factory {factory!r} is not under autograder.fixtures")
        self.factory = factory
        self.args = args
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"Make({self.factory!r})"


def _torch():
    import torch

    return torch


def _array_payload(arr: np.ndarray) -> dict:
    dtype = arr.dtype.name
    if dtype not in ALLOWED_DTYPES:
        raise WireError(f"arrays of dtype {dtype} cannot be sent")
    arr = np.ascontiguousarray(arr).reshape(arr.shape)  # ascontiguousarray makes 0-d arrays 1-d
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return {"dtype": dtype, "shape": list(arr.shape), "data": base64.b64encode(arr.tobytes()).decode("ascii")}


def encode(obj: Any, keep: Callable[[Any], Ref] | None = None) -> Any:
    """Turn ``obj`` into JSON-ready data.

    Inputs:
    - obj: the value to send.
    - keep: called for objects that have no plain-data form; it stores the object and returns a
      :class:`Ref`. Without it such objects raise :class:`WireError`.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int) and type(obj) in (int,):
        return obj
    if isinstance(obj, float) and type(obj) is float:
        return obj if math.isfinite(obj) else {"__t__": "float", "repr": repr(obj)}
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return encode(float(obj))
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return {"__t__": "ndarray", **_array_payload(obj)}
    if isinstance(obj, Ref):
        return {"__t__": "ref", "id": obj.id, "type": obj.type}
    if isinstance(obj, Make):
        return {"__t__": "make", "factory": obj.factory, "args": [encode(a, keep) for a in obj.args],
                "kwargs": {k: encode(v, keep) for k, v in obj.kwargs.items()}}
    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(obj, torch.Tensor):
            # Strip any subclass and autograd state: only the numbers travel.
            t = torch.Tensor.detach(obj)
            t = torch.Tensor.cpu(t)
            if t.dtype == torch.bfloat16:
                raise WireError("bfloat16 tensors cannot be sent")
            payload = _array_payload(torch.Tensor.numpy(t.resolve_conj().resolve_neg()).copy())
            return {"__t__": "tensor", **payload}
        if isinstance(obj, torch.dtype):
            return {"__t__": "dtype", "name": str(obj).replace("torch.", "")}
        if isinstance(obj, torch.Size):
            return {"__t__": "tuple", "items": [int(s) for s in obj]}
    if isinstance(obj, int):  # int subclasses (bool handled above)
        return int(obj)
    if isinstance(obj, float):
        return encode(float(obj))
    if isinstance(obj, tuple):  # named tuples and torch.return_types travel as plain tuples
        return {"__t__": "tuple", "items": [encode(x, keep) for x in obj]}
    if isinstance(obj, list) and type(obj) is list:
        return [encode(x, keep) for x in obj]
    if isinstance(obj, dict) and type(obj).__name__ in ("dict", "OrderedDict"):
        if all(type(k) is str and k != "__t__" for k in obj):
            return {k: encode(v, keep) for k, v in obj.items()}
        return {"__t__": "dict", "items": [[encode(k, keep), encode(v, keep)] for k, v in obj.items()]}
    if keep is not None:
        return encode(keep(obj))
    raise WireError(f"a {type(obj).__name__} has no plain-data form")


def decode(data: Any, resolve: Callable[[dict], Any] | None = None, as_torch: bool = True) -> Any:
    """Inverse of :func:`encode`.

    Inputs:
    - data: parsed JSON.
    - resolve: called with ``ref``/``make`` tags (student side); without it refs decode to
      :class:`Ref` and ``make`` raises.
    - as_torch: decode ``tensor`` tags to ``torch.Tensor`` (else to NumPy arrays).
    """
    if isinstance(data, list):
        return [decode(x, resolve, as_torch) for x in data]
    if not isinstance(data, dict):
        return data
    tag = data.get("__t__")
    if tag is None:
        return {k: decode(v, resolve, as_torch) for k, v in data.items()}
    if tag in ("tensor", "ndarray"):
        dtype = data["dtype"]
        if dtype not in ALLOWED_DTYPES:
            raise WireError(f"dtype {dtype!r} not allowed")
        shape = tuple(int(s) for s in data["shape"])
        raw = base64.b64decode(data["data"], validate=True)
        item = np.dtype(dtype).newbyteorder("<")
        if len(raw) != item.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise WireError("array data does not match its shape")
        arr = np.frombuffer(raw, dtype=item)
        arr = arr.reshape(shape).copy()
        if tag == "tensor" and as_torch:
            return _torch().from_numpy(arr)
        return arr
    if tag == "float":
        return float(data["repr"])
    if tag == "dtype":
        torch = _torch()
        dt = getattr(torch, str(data["name"]), None)
        if not isinstance(dt, torch.dtype):
            raise WireError(f"unknown dtype {data['name']!r}")
        return dt
    if tag == "tuple":
        return tuple(decode(x, resolve, as_torch) for x in data["items"])
    if tag == "dict":
        return {_hashable(decode(k, resolve, as_torch)): decode(v, resolve, as_torch) for k, v in data["items"]}
    if tag in ("ref", "make"):
        if resolve is not None:
            return resolve(data)
        if tag == "ref":
            return Ref(data["id"], data["type"])
        raise WireError("the grader does not accept build instructions")
    raise WireError(f"unknown tag {tag!r}")


def _hashable(key: Any) -> Any:
    if isinstance(key, (list, dict)):
        raise WireError("unhashable dict key")
    return key


def dumps(message: dict) -> bytes:
    return json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")


def loads(raw: bytes) -> dict:
    msg = json.loads(raw.decode("utf-8"))
    if not isinstance(msg, dict):
        raise WireError("a frame must hold a JSON object")
    return msg


def write_frame(fd: int, message: dict) -> None:
    """Write one length-prefixed frame to a file descriptor."""
    import os

    body = dumps(message)
    buf = len(body).to_bytes(8, "big") + body
    view = memoryview(buf)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int) -> bytes:
    import os

    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the other process closed the channel")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> dict:
    size = int.from_bytes(read_exact(fd, 8), "big")
    if size > MAX_FRAME_BYTES:
        raise WireError(f"frame of {size} bytes is over the limit")
    return loads(read_exact(fd, size))
