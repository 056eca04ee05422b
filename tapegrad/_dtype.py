"""Dtypes and PyTorch's type-promotion rules.

A ``dtype`` wraps a NumPy dtype; the public names (``tapegrad.float32`` ...) are
module singletons, so ``t.dtype is tapegrad.float32`` holds as in PyTorch.
"""
import numpy as np

__all__ = ["dtype", "float32", "float64", "int64", "int32", "bool",
           "get_default_dtype", "set_default_dtype", "result_type", "to_dtype"]

_builtin_bool = bool


class dtype:
    """A tensor element type (``tapegrad.float32``, ``tapegrad.int64`` ...)."""
    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_category")

    def __init__(self, name, np_dtype, category):
        self.name = name
        self.np = np.dtype(np_dtype)
        self._category = category          # 0 bool, 1 integer, 2 floating
        self.is_floating_point = category == 2
        self.is_signed = category != 0
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return "tapegrad." + self.name

    def __reduce__(self):
        return (_lookup_name, (self.name,))


float32 = dtype("float32", np.float32, 2)
float64 = dtype("float64", np.float64, 2)
int64 = dtype("int64", np.int64, 1)
int32 = dtype("int32", np.int32, 1)
bool = dtype("bool", np.bool_, 0)            # noqa: A001  (PyTorch's name)
float = float32                             # noqa: A001  torch.float
double = float64
long = int64
int = int32                                 # noqa: A001

_ALL = (float32, float64, int64, int32, bool)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
# Extra NumPy dtypes accepted on the way in, mapped to the nearest supported one.
_COERCE = {np.dtype(np.float16): float32, np.dtype(np.int8): int64, np.dtype(np.int16): int64,
           np.dtype(np.uint8): int64, np.dtype(np.uint16): int64, np.dtype(np.uint32): int64}

SUPPORTED = "float32, float64, int64, int32, bool"

_default = [float32]


def _lookup_name(name):
    return _BY_NAME[name]


def get_default_dtype():
    """Return the default floating dtype (``tapegrad.float32`` unless changed).

    Example:
        >>> import tapegrad
        >>> tapegrad.get_default_dtype()
        tapegrad.float32
    """
    return _default[0]


def set_default_dtype(d):
    """Set the default floating dtype: ``tapegrad.float32`` or ``tapegrad.float64``.

    Example:
        >>> import tapegrad
        >>> tapegrad.set_default_dtype(tapegrad.float64); tapegrad.set_default_dtype(tapegrad.float32)
    """
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating dtypes are supported, got {d}")
    _default[0] = d


def to_dtype(d):
    """Turn a tapegrad dtype, NumPy dtype, Python type or name into a tapegrad dtype."""
    if type(d) is dtype:
        return d
    if d is _builtin_bool:
        return bool
    if d is builtins_float:
        return _default[0]
    if d is builtins_int:
        return int64
    if isinstance(d, str):
        r = _BY_NAME.get(d.replace("torch.", "").replace("tapegrad.", ""))
        if r is not None:
            return r
    try:
        npd = np.dtype(d)
    except TypeError:
        npd = None
    if npd is not None:
        r = _BY_NP.get(npd) or _COERCE.get(npd)
        if r is not None:
            return r
    raise TypeError(f"unsupported dtype {d!r}; supported dtypes are {SUPPORTED}")


import builtins as _b  # noqa: E402
builtins_float = _b.float
builtins_int = _b.int


def from_numpy_dtype(npd):
    r = _BY_NP.get(npd)
    if r is None:
        r = _COERCE.get(npd)
        if r is None:
            raise TypeError(f"unsupported NumPy dtype {npd}; supported dtypes are {SUPPORTED}")
    return r


def scalar_dtype(x):
    """The dtype a Python scalar gets on its own (``tensor(2.5)`` is float32)."""
    t = type(x)
    if t is _builtin_bool:
        return bool
    if t is builtins_int:
        return int64
    return _default[0]


def _promote(a, b):
    if a is b:
        return a
    return _BY_NP[np.promote_types(a.np, b.np)]


def result_type(dims, zero_dims, scalars):
    """PyTorch's promotion: dimensioned tensors, then 0-dim tensors, then Python scalars.

    Each argument is a list of dtypes of that priority (for scalars: the dtype
    from ``scalar_dtype``). A lower-priority group only matters when its category
    (bool < integer < floating) is higher than every higher-priority group's.
    """
    result = None
    for group in (dims, zero_dims, scalars):
        if not group:
            continue
        g = group[0]
        for d in group[1:]:
            g = _promote(g, d)
        if result is None:
            result = g
        elif g._category > result._category:
            # A Python float with an integer tensor gives the default float dtype.
            result = g
    return result
