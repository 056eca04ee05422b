"""Small ``torch.*`` names programs carry: the constants ``pi e inf nan newaxis``, ``typename``,
``is_storage``, ``asarray``, ``logspace``, ``tril_indices``/``triu_indices``,
``set_float32_matmul_precision``/``get_float32_matmul_precision`` (accepted and remembered: every float32
matmul in tapegrad is already full precision) and ``is_anomaly_enabled``/``set_anomaly_enabled``.
"""
import math

from . import _creation as C
from . import _dtype as D
from ._tensor import Tensor
from .tape import anomaly as _anomaly

__all__ = ["pi", "e", "inf", "nan", "newaxis", "typename", "is_storage", "asarray", "logspace",
           "tril_indices", "triu_indices", "set_float32_matmul_precision", "get_float32_matmul_precision",
           "is_anomaly_enabled", "set_anomaly_enabled"]

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
newaxis = None

_MATMUL_PRECISION = ["highest"]


def typename(obj):
    """The type name PyTorch prints for ``obj``: ``'torch.FloatTensor'`` for a float32 CPU tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.typename(tapegrad.ones(1)), tapegrad.typename(1.5)
        ('torch.FloatTensor', 'float')
    """
    if isinstance(obj, Tensor):
        return obj.type()
    t = obj if isinstance(obj, type) else type(obj)
    return t.__name__ if t.__module__ in ("builtins", "__builtin__") else f"{t.__module__}.{t.__qualname__}"


def is_storage(obj):
    """``False``: tapegrad tensors own arrays, not ``Storage`` objects.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_storage(tapegrad.ones(1))
        False
    """
    return False


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """A tensor of ``obj`` (a tensor, array or nested sequence), sharing memory where possible unless ``copy``.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> tapegrad.asarray(x) is x, tapegrad.asarray([1, 2]).dtype
        (True, tapegrad.int64)
    """
    if copy:
        out = C.tensor(obj.detach() if isinstance(obj, Tensor) else obj, dtype=dtype, device=device)
    else:
        out = C.as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``steps`` values ``base ** t`` for ``t`` evenly spaced from ``start`` to ``end``.

    Example:
        >>> import tapegrad
        >>> tapegrad.logspace(0, 2, 3)
        tensor([  1.,  10., 100.])
    """
    exps = C.linspace(start, end, steps, dtype=D.float64, device=device)
    out = (base ** exps).to(dtype if dtype is not None else D.get_default_dtype())
    return out.requires_grad_(True) if requires_grad else out


def _tri_indices(name, row, col, offset, dtype, device, lower):
    if row < 0 or col < 0:
        raise RuntimeError(f"{name}: row and col must be non-negative, got row={row}, col={col}")
    rows, cols = [], []
    for i in range(row):
        for j in range(col):
            if (j - i <= offset) if lower else (j - i >= offset):
                rows.append(i)
                cols.append(j)
    return C.tensor([rows, cols], dtype=dtype, device=device).reshape(2, len(rows))


def tril_indices(row, col, offset=0, *, dtype=D.int64, device="cpu", layout=None):
    """The ``(2, n)`` row and column indices of the lower triangle of a ``row x col`` matrix.

    Example:
        >>> import tapegrad
        >>> tapegrad.tril_indices(2, 2)
        tensor([[0, 1, 1],
                [0, 0, 1]])
    """
    return _tri_indices("tril_indices", row, col, offset, dtype, device, True)


def triu_indices(row, col, offset=0, *, dtype=D.int64, device="cpu", layout=None):
    """The ``(2, n)`` row and column indices of the upper triangle of a ``row x col`` matrix.

    Example:
        >>> import tapegrad
        >>> tapegrad.triu_indices(2, 2)
        tensor([[0, 0, 1],
                [0, 1, 1]])
    """
    return _tri_indices("triu_indices", row, col, offset, dtype, device, False)


def set_float32_matmul_precision(precision):
    """Accepted and remembered (``"highest"``, ``"high"`` or ``"medium"``); tapegrad's float32 matmuls are
    always full precision (no TF32), so it changes nothing.

    Example:
        >>> import tapegrad
        >>> tapegrad.set_float32_matmul_precision("high"); tapegrad.get_float32_matmul_precision()
        'high'
        >>> tapegrad.set_float32_matmul_precision("highest")
    """
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"set_float32_matmul_precision: invalid precision {precision!r}; expected 'highest', "
                           f"'high' or 'medium'")
    _MATMUL_PRECISION[0] = precision


def get_float32_matmul_precision():
    """The precision last set by ``set_float32_matmul_precision`` (``"highest"`` by default).

    Example:
        >>> import tapegrad
        >>> tapegrad.get_float32_matmul_precision()
        'highest'
    """
    return _MATMUL_PRECISION[0]


def is_anomaly_enabled():
    """Whether anomaly detection is on (``autograd.detect_anomaly`` / ``set_anomaly_enabled``).

    Example:
        >>> import tapegrad
        >>> tapegrad.is_anomaly_enabled()
        False
    """
    return _anomaly.is_anomaly_enabled()


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly detection on or off for the process (``autograd.set_detect_anomaly``).

    Example:
        >>> import tapegrad
        >>> tapegrad.set_anomaly_enabled(True); tapegrad.is_anomaly_enabled()
        True
        >>> tapegrad.set_anomaly_enabled(False)
    """
    _anomaly.set_detect_anomaly(enabled)
