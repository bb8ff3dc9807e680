"""Compare a student's plain-data result with the reference, by tolerance tier (DESIGN.md §3).

:func:`difference` returns ``None`` when two values agree and otherwise a short sentence a student
can act on: which part differs, shapes and dtypes, and the largest deviation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: (rtol, atol) per tier.
TIERS: dict[str, tuple[float, float]] = {
    "exact": (0.0, 0.0),
    "op": (1e-5, 1e-6),
    "composite": (1e-4, 1e-5),
    "steps": (1e-3, 1e-4),
    "float64": (1e-7, 1e-8),
}

#: The gradient-check tier: the largest :func:`rel_error` a float64 analytic gradient may have against
#: :func:`numerical_gradient` (whose own error is below 1e-10 on the course's functions).
GRADIENT_TOLERANCE = 1e-7


def _as_array(x: Any) -> np.ndarray | None:
    if isinstance(x, np.ndarray):
        return x
    mod = type(x).__module__ or ""
    if mod.startswith("torch"):
        import torch

        if isinstance(x, torch.Tensor):
            return torch.Tensor.numpy(torch.Tensor.cpu(torch.Tensor.detach(x)))
    return None


def _kind(x: Any) -> str:
    arr = _as_array(x)
    if arr is not None:
        prefix = "tensor" if not isinstance(x, np.ndarray) else "array"
        return f"{prefix} {arr.dtype.name}{list(arr.shape)}"
    return type(x).__name__


def describe_value(x: Any) -> str:
    """Short description of a value for messages: ``tensor float32[4, 3]``, ``dict(train, val)``."""
    if isinstance(x, dict):
        return "dict(" + ", ".join(map(str, list(x)[:6])) + (", ..." if len(x) > 6 else "") + ")"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of {len(x)}"
    if isinstance(x, float):
        return f"{x:.6g}"
    if isinstance(x, (int, str, bool)) or x is None:
        return repr(x)
    return _kind(x)


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _array_difference(exp: np.ndarray, got: np.ndarray, rtol: float, atol: float, where: str,
                      reveal: bool) -> str | None:
    if exp.shape != got.shape:
        return f"{where}shape {list(got.shape)}" + (f", expected {list(exp.shape)}" if reveal else " (wrong shape)")
    if exp.dtype != got.dtype:
        return f"{where}dtype {got.dtype.name}, expected {exp.dtype.name}"
    if exp.size == 0:
        return None
    if exp.dtype == np.bool_ or np.issubdtype(exp.dtype, np.integer) or (rtol == 0 and atol == 0):
        bad = exp != got
        if not bad.any():
            return None
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        n = int(bad.sum())
        if reveal:
            return (f"{where}{n} of {exp.size} entries differ; first at {list(idx)}: "
                    f"got {got[idx]!r}, expected {exp[idx]!r}")
        return f"{where}{n} of {exp.size} entries differ"
    e = exp.astype(np.float64)
    g = got.astype(np.float64)
    nan_mismatch = np.isnan(e) != np.isnan(g)
    with np.errstate(invalid="ignore"):
        close = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    if nan_mismatch.any():
        idx = tuple(int(i) for i in np.argwhere(nan_mismatch)[0])
        n = int(nan_mismatch.sum())
        what = "NaN" if np.isnan(g[idx]) else "a number"
        return f"{where}{n} entries are NaN on one side only; at {list(idx)} got {what}"
    with np.errstate(invalid="ignore"):
        dev = np.where(close, 0.0, np.abs(g - e))
    idx = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(dev)), dev.shape))
    n = int((~close).sum())
    if reveal:
        return (f"{where}{n} of {e.size} values differ; largest deviation {_fmt(dev[idx])} at {list(idx)} "
                f"(got {_fmt(g[idx])}, expected {_fmt(e[idx])}; tolerance rtol={rtol:g}, atol={atol:g})")
    return f"{where}{n} of {e.size} values differ (largest deviation {_fmt(dev[idx])})"


def close(expected: Any, actual: Any, tier: str = "op") -> bool:
    """Whether ``actual`` matches ``expected`` within ``tier`` (:func:`difference` is None)."""
    return difference(expected, actual, tier) is None


#: The smallest absolute difference that counts as "clearly apart" in a property check that needs an effect to
#: show (e.g. batch norm's output depending on the mode, an output that is not constant): ten times the loosest
#: tier's rtol (``steps``, 1e-3), so rounding never passes for an effect, and far below the effects the course
#: looks for (order 0.1 to 1 on its inputs).
DISTINCT = 1e-2


def distinct(a: float, b: float) -> bool:
    """Whether the numbers ``a`` and ``b`` are clearly apart (more than :data:`DISTINCT`)."""
    return abs(float(a) - float(b)) > DISTINCT


def at_most(value: float, bound: float, tier: str = "op") -> bool:
    """``value <= bound``, allowing ``tier``'s tolerance above the bound (a bound computed another way, e.g. a
    uniform initialisation's ``1/sqrt(fan_in)`` in float32, or a range end that floating point may round over)."""
    rtol, atol = TIERS[tier]
    return float(value) <= float(bound) + atol + rtol * abs(float(bound))


def at_least(value: float, bound: float, tier: str = "op") -> bool:
    """``value >= bound``, allowing ``tier``'s tolerance below the bound (see :func:`at_most`)."""
    rtol, atol = TIERS[tier]
    return float(value) >= float(bound) - atol - rtol * abs(float(bound))


def rel_error(a, b) -> float:
    """Relative error of two tensors (or arrays): ``||a - b|| / (||a|| + ||b||)`` (0 when both are 0)."""
    a, b = _as_array(a), _as_array(b)
    a, b = a.astype(np.float64), b.astype(np.float64)
    denom = float(np.linalg.norm(a) + np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / denom if denom > 0 else 0.0


def vjp(f, inputs, dout) -> tuple:
    """Autograd's gradients of ``sum(f(*inputs) * dout)`` with respect to each of ``inputs`` (copies), i.e. the
    backward pass of ``f`` for the upstream gradient ``dout`` — the reference for a student's backward.

    Through a scalar on purpose: ``torch.autograd.grad(out, inputs, dout)`` with a non-scalar ``out``
    imports ``torch.fx.experimental.symbolic_shapes`` on first use (about a second), the scalar does not;
    the gradients are the same numbers.
    """
    import torch

    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    return torch.autograd.grad((f(*leaves) * dout).sum(), leaves)


def numerical_gradient(f, x, h: float = 1e-3):
    """Gradient of the scalar ``f()`` with respect to every entry of the tensor ``x``, by the fourth-order
    centred difference ``(-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h``.

    ``x`` (float64, contiguous) is changed in place while estimating and restored entry by entry, so
    ``f`` must read ``x`` itself (a closure), not a copy of it.
    """
    grad = x.new_zeros(x.shape)
    flat, gflat = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = float(flat[i])
        values = []
        for step in (2 * h, h, -h, -2 * h):
            flat[i] = old + step
            values.append(float(f()))
        flat[i] = old
        gflat[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return grad


def difference(expected: Any, actual: Any, tier: str = "op", where: str = "", reveal: bool = True) -> str | None:
    """Return None if ``actual`` matches ``expected`` within ``tier``, else a description.

    Inputs:
    - expected, actual: plain data (numbers, strings, tensors, arrays, lists, tuples, dicts).
    - tier: a key of :data:`TIERS`; shapes, dtypes and integer/bool data are always exact.
    - where: prefix naming the part being compared (e.g. ``"['train'][0]: "``).
    - reveal: include expected values (False for hidden checks).
    """
    rtol, atol = TIERS[tier]
    e_arr, a_arr = _as_array(expected), _as_array(actual)
    if e_arr is not None:
        if a_arr is None:
            return f"{where}got {describe_value(actual)}, expected {_kind(expected)}"
        if isinstance(expected, np.ndarray) != isinstance(actual, np.ndarray):
            return f"{where}got {_kind(actual)}, expected {_kind(expected)}"
        return _array_difference(e_arr, a_arr, rtol, atol, where, reveal)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}got {describe_value(actual)}, expected a dict with keys {sorted(map(str, expected))}"
        if set(expected) != set(actual):
            missing = sorted(map(str, set(expected) - set(actual)))
            extra = sorted(map(str, set(actual) - set(expected)))
            parts = [f"missing keys {missing}"] if missing else []
            parts += [f"unexpected keys {extra}"] if extra else []
            return f"{where}" + "; ".join(parts)
        for k in expected:
            d = difference(expected[k], actual[k], tier, f"{where}[{k!r}] ", reveal)
            if d:
                return d
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)):
            size = f" of {len(expected)}" if reveal else ""
            return f"{where}got {describe_value(actual)}, expected a {type(expected).__name__}{size}"
        if len(expected) != len(actual):
            return f"{where}got {len(actual)} items" + (f", expected {len(expected)}" if reveal else " (wrong length)")
        for i, (e, a) in enumerate(zip(expected, actual)):
            d = difference(e, a, tier, f"{where}[{i}] ", reveal)
            if d:
                return d
        return None
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if type(actual) is type(expected) and actual == expected:
            return None
        shown = f", expected {expected!r}" if reveal else ""
        return f"{where}got {describe_value(actual)}{shown}"
    if isinstance(expected, (int, float)):
        if isinstance(actual, bool) or not isinstance(actual, (int, float)):
            return f"{where}got {describe_value(actual)}, expected a number"
        if isinstance(expected, int) and isinstance(actual, int):
            if actual == expected:
                return None
            return f"{where}got {actual}" + (f", expected {expected}" if reveal else "")
        if math.isnan(expected) and math.isnan(actual):
            return None
        if abs(actual - expected) <= atol + rtol * abs(expected):
            return None
        shown = f", expected {_fmt(expected)}" if reveal else ""
        return f"{where}got {_fmt(actual)}{shown} (tolerance rtol={rtol:g}, atol={atol:g})"
    return f"{where}cannot compare a {type(expected).__name__}"
