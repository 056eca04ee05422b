"""Dtypes and PyTorch's type-promotion rules.

A ``dtype`` wraps a NumPy dtype; the public names (``tapegrad.float32`` ...) are
module singletons, so ``t.dtype is tapegrad.float32`` holds as in PyTorch. A
tensor's dtype is read from its array, so the label can never differ from the
storage: NumPy dtypes PyTorch lacks are refused on the way in, never relabelled.

Note [bfloat16 kind]: ``bfloat16`` is ``ml_dtypes.bfloat16`` (costs ~5 ms to import, so it is imported
eagerly), a NumPy dtype of kind ``"V"``, not ``"f"``. No other ``"V"`` dtype can be a tensor's (they are
refused on the way in), so code that asks "is this array floating point?" of a tensor's array tests
``dtype.kind in FLOAT_KINDS`` (``"fV"``). NumPy's own ``finfo``, ``promote_types`` with float16 and the
reductions do not know it: ``_type_info`` reads ``ml_dtypes.finfo``, the promotion table below spells the
floating pairs out, and the CPU backend accumulates bfloat16 sums and products in float32, as PyTorch does.
"""
import ml_dtypes
import numpy as np

__all__ = ["dtype", "float16", "bfloat16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64", "bool",
           "half", "float", "double", "short", "int", "long",
           "get_default_dtype", "set_default_dtype", "result_type", "to_dtype", "can_cast"]

_builtin_bool = bool


class dtype:
    """A tensor element type (``tapegrad.float32``, ``tapegrad.int64`` ...)."""
    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_category", "_torch_name")

    def __init__(self, name, np_dtype, category, torch_name):
        self.name = name
        self.np = np.dtype(np_dtype)
        self._category = category          # 0 bool, 1 integer, 2 floating
        self._torch_name = torch_name      # PyTorch's C++ name, used in its error messages ("Long")
        self.is_floating_point = category == 2
        self.is_signed = category != 0 and self.np.kind != "u"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return "tapegrad." + self.name

    def __reduce__(self):
        return (_lookup_name, (self.name,))


float16 = dtype("float16", np.float16, 2, "Half")
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 2, "BFloat16")
float32 = dtype("float32", np.float32, 2, "Float")
float64 = dtype("float64", np.float64, 2, "Double")
uint8 = dtype("uint8", np.uint8, 1, "Byte")
int8 = dtype("int8", np.int8, 1, "Char")
int16 = dtype("int16", np.int16, 1, "Short")
int32 = dtype("int32", np.int32, 1, "Int")
int64 = dtype("int64", np.int64, 1, "Long")
bool = dtype("bool", np.bool_, 0, "Bool")            # noqa: A001  (PyTorch's name)
half = float16
float = float32                             # noqa: A001  torch.float
double = float64
short = int16
int = int32                                 # noqa: A001
long = int64

_ALL = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
FLOAT_KINDS = "fV"                          # Note [bfloat16 kind]
BFLOAT16_NP = bfloat16.np
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)

SUPPORTED = ", ".join(d.name for d in _ALL)

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
        r = _BY_NP.get(npd)
        if r is not None:
            return r
    raise TypeError(f"unsupported dtype {d!r}; supported dtypes are {SUPPORTED}")


import builtins as _b  # noqa: E402
builtins_float = _b.float
builtins_int = _b.int


def from_numpy_dtype(npd):
    """The tapegrad dtype of a NumPy dtype; a TypeError naming it when PyTorch has no such dtype."""
    r = _BY_NP.get(npd)
    if r is None:
        raise TypeError(f"unsupported NumPy dtype {np.dtype(npd).name}; supported dtypes are {SUPPORTED}")
    return r


def scalar_dtype(x):
    """The dtype a Python scalar gets on its own (``tensor(2.5)`` is float32)."""
    t = type(x)
    if t is _builtin_bool:
        return bool
    if t is builtins_int:
        return int64
    return _default[0]


class ScalarOverflowError(RuntimeError, ValueError):
    """A Python int that does not fit a 64-bit scalar. PyTorch raises RuntimeError (older
    releases) or ValueError (2.x) for it, so this is both."""


_I64_MIN, _I64_MAX, _U64_END = -2 ** 63, 2 ** 63 - 1, 2 ** 64


def check_int64(x, where):
    """Raise ``ScalarOverflowError`` naming ``where`` and ``x`` unless the Python int fits in int64."""
    if x < _I64_MIN or x > _I64_MAX:
        raise ScalarOverflowError(f"{where}: Overflow when unpacking long: the Python int {x} does not fit in "
                                  f"int64 (range [{_I64_MIN}, {_I64_MAX}])")


def check_fits(x, d, where):
    """PyTorch's check when a Python int becomes an element of an integer tensor (``where``,
    ``masked_fill``, ``fill_``): it must fit, except that an unsigned dtype takes down to
    ``-max`` (``-1`` becomes 255). Arithmetic wraps instead (``scalar_as``)."""
    if d._category == 1 and x.__class__ is builtins_int:
        info = np.iinfo(d.np)
        hi = builtins_int(info.max)
        lo = -hi if d.np.kind == "u" else builtins_int(info.min)
        if x < lo or x > hi:
            raise RuntimeError(f"{where}: value {x} cannot be converted to type {d.name} without overflow")


def scalar_as(x, d, where):
    """The Python number ``x`` as a NumPy scalar of dtype ``d``, as PyTorch converts scalars in ops.

    An int that fits in int64 wraps into a narrower integer dtype (``int8_tensor + 300``
    adds 44, as in PyTorch); one outside int64 raises, naming ``where``. A value too
    large for float16 becomes inf, as in PyTorch.
    """
    if x.__class__ is builtins_int and (x < _I64_MIN or x > _I64_MAX):
        if d._category != 2 or x >= _U64_END or x < _I64_MIN:
            # PyTorch: OverflowError "int too big to convert" past 64 bits; an integer op with a
            # value in [2**63, 2**64) wraps silently there, which we refuse rather than copy.
            check_int64(x, where)
        return d.np.type(builtins_float(x))
    if d._category == 1 and x.__class__ is builtins_int and d is not int64:
        return np.int64(x).astype(d.np)
    if d is float16:
        with np.errstate(over="ignore"):
            return np.float16(x)
    return d.np.type(x)


def _promote_pair(a, b):
    if a._category != b._category:
        return a if a._category > b._category else b
    if bfloat16 in (a, b):                          # Note [bfloat16 kind]: NumPy has no bfloat16 with float16
        o = b if a is bfloat16 else a
        return bfloat16 if o is bfloat16 else float32 if o is float16 else o
    return _BY_NP[np.promote_types(a.np, b.np)]    # same category: NumPy's rule is PyTorch's here


# PyTorch's promotion table over the supported dtypes (c10's promoteTypes): across
# categories the higher category's dtype wins (int64 with float16 is float16, unlike
# NumPy's float64); within one, the wider, with uint8 and int8 meeting at int16 and float16 and bfloat16
# at float32.
_PROMOTE = {(a, b): _promote_pair(a, b) for a in _ALL for b in _ALL}


def promote_types(a, b):
    """PyTorch's ``promote_types``: the dtype two tensors of dtypes ``a`` and ``b`` combine into.

    Example:
        >>> import tapegrad
        >>> tapegrad.promote_types(tapegrad.int64, tapegrad.float16)
        tapegrad.float16
        >>> tapegrad.promote_types(tapegrad.uint8, tapegrad.int8)
        tapegrad.int16
    """
    return _PROMOTE[(to_dtype(a), to_dtype(b))]


def can_cast(from_, to):
    """PyTorch's ``can_cast``: whether an op may write a ``from_`` result into a ``to`` tensor
    (no float into an integer or bool, no integer into bool).

    Example:
        >>> import tapegrad
        >>> tapegrad.can_cast(tapegrad.float32, tapegrad.int64), tapegrad.can_cast(tapegrad.int64, tapegrad.float16)
        (False, True)
    """
    return to_dtype(from_)._category <= to_dtype(to)._category


def result_type(dims, zero_dims, scalars):
    """PyTorch's promotion: dimensioned tensors, then 0-dim tensors, then Python scalars.

    Each argument is a list of dtypes of that priority (for scalars: the dtype
    from ``scalar_dtype``). Within a group dtypes combine by ``promote_types``; a
    lower-priority group only matters when its category (bool < integer <
    floating) is higher than every higher-priority group's, and then its own
    dtype wins (c10's ``combine_categories``).
    """
    result = None
    for group in (dims, zero_dims, scalars):
        if not group:
            continue
        g = group[0]
        for d in group[1:]:
            if d is not g:
                g = _PROMOTE[(g, d)]
        if result is None:
            result = g
        elif g._category > result._category:
            # A Python float with an integer tensor gives the default float dtype.
            result = g
    return result
