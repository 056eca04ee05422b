"""``tapegrad.finfo`` and ``tapegrad.iinfo``: the numeric limits of a dtype, as PyTorch's.

The values come from NumPy's ``finfo``/``iinfo`` of the dtype's NumPy type (``ml_dtypes.finfo`` for
bfloat16, which NumPy's does not know: Note [bfloat16 kind]); attribute names, the ``dtype`` string and
the errors are PyTorch's. ``result_type`` is here too: PyTorch's promotion of tensors and numbers.
"""
import ml_dtypes
import numpy as np

from . import _dtype as D

__all__ = ["finfo", "iinfo", "result_type"]


def _g(x):
    return f"{x:g}"


class finfo:
    """Limits of a floating-point dtype (default: the default dtype).

    Attributes: ``bits``, ``eps``, ``max``, ``min``, ``tiny`` (= ``smallest_normal``),
    ``resolution``, ``dtype`` (its name, a str).

    Example:
        >>> import tapegrad
        >>> tapegrad.finfo(tapegrad.float32).eps
        1.1920928955078125e-07
        >>> tapegrad.finfo(tapegrad.float16).max
        65504.0
        >>> tapegrad.finfo(tapegrad.bfloat16).eps
        0.0078125
    """

    def __init__(self, type=None):           # noqa: A002  (PyTorch's parameter name)
        d = D.get_default_dtype() if type is None else _check(type, "finfo")
        if not d.is_floating_point:
            raise TypeError("tapegrad.finfo() requires a floating point input type. Use tapegrad.iinfo to handle "
                            f"'tapegrad.finfo' (got {d})")
        f = ml_dtypes.finfo(d.np) if d is D.bfloat16 else np.finfo(d.np)
        self.bits = int(f.bits)
        self.eps = float(f.eps)
        self.max = float(f.max)
        self.min = float(f.min)
        self.tiny = self.smallest_normal = float(f.smallest_normal)
        self.resolution = 10.0 ** -int(f.precision)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, max={_g(self.max)}, "
                f"eps={_g(self.eps)}, smallest_normal={_g(self.smallest_normal)}, tiny={_g(self.tiny)}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: ``bits``, ``max``, ``min``, ``dtype`` (its name, a str).

    Example:
        >>> import tapegrad
        >>> tapegrad.iinfo(tapegrad.int8).min, tapegrad.iinfo(tapegrad.uint8).max
        (-128, 255)
    """

    def __init__(self, type):                # noqa: A002
        d = _check(type, "iinfo")
        if d is D.bool:
            raise TypeError("tapegrad.bool is not supported by tapegrad.iinfo")
        if d.np.kind not in "iu":
            raise TypeError("tapegrad.iinfo() requires an integer input type. Use tapegrad.finfo to handle "
                            f"'tapegrad.iinfo' (got {d})")
        i = np.iinfo(d.np)
        self.bits = int(i.bits)
        self.max = int(i.max)
        self.min = int(i.min)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={_g(self.min)}, max={_g(self.max)}, dtype={self.dtype})"


def _check(t, fn):
    if not isinstance(t, D.dtype):
        raise TypeError(f"{fn}(): argument 'type' (position 1) must be tapegrad.dtype, not {type(t).__name__}")
    return t


def result_type(tensor, other):
    """PyTorch's ``result_type``: the dtype an arithmetic op on ``tensor`` and ``other`` gives.

    Each argument is a tensor or a Python bool/int/float. Dimensioned tensors outrank 0-d tensors,
    which outrank Python numbers; a lower rank only decides the dtype when its category (bool,
    integer, floating) is higher, and then with its own dtype (a Python float gives the default dtype).

    Args:
        tensor: a tensor or a Python number.
        other: a tensor or a Python number.

    Returns:
        a ``tapegrad.dtype``.

    Example:
        >>> import tapegrad
        >>> tapegrad.result_type(tapegrad.tensor([1, 2], dtype=tapegrad.uint8), tapegrad.tensor(1, dtype=tapegrad.int8))
        tapegrad.uint8
        >>> tapegrad.result_type(tapegrad.tensor([1, 2]), 2.5)
        tapegrad.float32
    """
    groups = ([], [], [])
    for i, a in enumerate((tensor, other)):
        d = getattr(a, "dtype", None)
        if type(d) is D.dtype and hasattr(a, "ndim"):      # a tensor (this floor sits below the Tensor class)
            groups[0 if a.ndim else 1].append(d)
        elif isinstance(a, (bool, int, float)):
            groups[2].append(D.scalar_dtype(a))
        else:
            raise TypeError(f"result_type(): argument '{('tensor', 'other')[i]}' (position {i + 1}) must be "
                            f"Tensor or Number, not {type(a).__name__}")
    return D.result_type(*groups)
