"""Python data, NumPy arrays and fill values into arrays of a tapegrad dtype, with PyTorch's checks.

Tensor creation (``_creation.py``) calls these; they know dtypes and NumPy, never a Tensor.
"""
import numbers

import numpy as np

from . import _dtype as D


def infer_dtype(a):
    """PyTorch's inference: Python floats -> default dtype, ints -> int64, bools -> bool."""
    if a.dtype.kind in D.FLOAT_KINDS:            # Note [bfloat16 kind]
        return D.get_default_dtype() if a.dtype == np.float64 else D.from_numpy_dtype(a.dtype)
    if a.dtype.kind in "iu":
        return D.int64
    if a.dtype.kind == "b":
        return D.bool
    raise TypeError(f"tensor: unsupported data of dtype {a.dtype}; supported dtypes are {D.SUPPORTED}")


def source_dtype(a, dtype, fn):
    """The dtype of a tensor made from NumPy array ``a``: ``dtype`` if given, else ``a``'s own.

    A NumPy dtype PyTorch lacks (uint16, complex, strings ...) is refused, naming ``fn``;
    with an explicit real ``dtype`` it is converted, as asked.
    """
    if dtype is not None and a.dtype.kind in "biuf":
        return D.to_dtype(dtype)
    try:
        d = D.from_numpy_dtype(a.dtype)
    except TypeError as e:
        raise TypeError(f"{fn}: {e}") from None
    return D.to_dtype(dtype) if dtype is not None else d


def check_range(a, d, fn):
    """PyTorch refuses Python data that overflows the requested integer dtype (``tensor([300],
    dtype=uint8)``); an unsigned dtype takes values down to ``-max``, which wrap (``-1`` -> 255)."""
    if d._category != 1 or a.size == 0 or a.dtype.kind not in "iufV":      # V: bfloat16
        return
    info = np.iinfo(d.np)
    lo = -int(info.max) if d.np.kind == "u" else int(info.min)
    bad = ~np.isfinite(a) if a.dtype.kind in D.FLOAT_KINDS else np.zeros(a.shape, bool)
    with np.errstate(invalid="ignore"):
        bad |= (a < lo) | (a > int(info.max))
    if bad.any():
        raise RuntimeError(f"{fn}: value {a[bad].flat[0].item()!r} cannot be converted to type {d.name} without "
                           "overflow")


def from_python(data, fn):
    """A NumPy array of Python data (numbers or nested sequences), refusing ints outside int64."""
    try:
        a = np.array(data)
    except (ValueError, TypeError) as e:
        raise TypeError(f"{fn}: could not build a tensor from {type(data).__name__}: {e}") from None
    except OverflowError:
        a = np.array(data, dtype=object)
    if a.dtype.kind == "u" or a.dtype == object:
        for x in a.flat:          # ints past int64 (uint64 or object arrays): name the first one
            if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
                D.check_int64(int(x), fn)
    if a.dtype == object:
        raise TypeError(f"{fn}: could not build a tensor from {data!r:.60}; expected numbers "
                        "or (nested) sequences of numbers of equal length")
    return a


def cast(a, d):
    """``a`` as dtype ``d`` (values past float16's range become inf, as in PyTorch)."""
    if d is D.float16:
        with np.errstate(over="ignore"):     # PyTorch: values past float16's range become inf
            return a.astype(d.np, copy=False)
    return a.astype(d.np, copy=False)


def fill_value(v, d, fn):
    """A fill value as PyTorch converts it: an int outside the dtype raises (an unsigned dtype
    takes down to ``-max``, wrapping: ``full(1, -1, dtype=uint8)`` is 255); past float16 is inf."""
    if isinstance(v, int) and not isinstance(v, bool) and not -2 ** 63 <= v < 2 ** 64:
        D.check_int64(v, fn)
    if isinstance(v, numbers.Number) and not isinstance(v, (bool, np.bool_)) and d._category != 2:
        check_range(np.asarray(v), d, fn)
        return np.asarray(v).astype(np.int64).astype(d.np)[()] if d._category == 1 else v
    if d is D.float16:
        return cast(np.asarray(v), d)[()]
    return v
