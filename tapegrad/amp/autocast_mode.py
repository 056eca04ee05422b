"""``tapegrad.autocast`` / ``tapegrad.amp.autocast``: mixed precision by op lists, as ``torch.autocast``.

Inside an enabled region, the ops of the lower-precision list (``matmul``, ``linear``, ``conv``,
``conv_transpose``, ``einsum``: every matmul, linear layer, convolution and attention product) cast their
float32 inputs on the region's device to the region's dtype; the ops of the float32 list (``exp``, ``log``,
``pow``, ``sum``, ``prod``, ``softmax``, ``log_softmax``, ``logsumexp``, ``layer_norm``, ``vector_norm``, the
losses ``cross_entropy``, ``binary_cross_entropy``, ``ctc_loss``...) cast float16 inputs to float32, so
reductions and losses (composed of these: ``mse_loss`` is ``pow`` and ``sum``) run in float32. Other ops run
in their inputs' promoted type. float64 inputs are never cast. The casts are recorded, so gradients reach
float32 parameters in float32. The lists follow torch's CUDA autocast lists mapped onto tapegrad's primitives
(Note [dispatch hook] in ops/registry.py).

Differences from torch: the only lower-precision dtype is float16 (tapegrad has no bfloat16), also on the CPU,
where torch defaults to bfloat16; casts of the same weight are not cached across ops (``cache_enabled`` is
accepted); ``binary_cross_entropy`` is cast to float32 rather than refused. tapegrad's CUDA backend has no
float16 tensors yet, so ``autocast("cuda")`` warns and disables itself there (as torch does without CUDA).
"""
import functools
import warnings

from .. import _dtype as D
from ..ops import registry as _reg

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype"]

LOWER = frozenset({"matmul", "linear", "conv", "conv_transpose", "einsum"})
FLOAT32 = frozenset({"acos", "asin", "cosh", "sinh", "tan", "erfinv", "exp", "expm1", "log", "log10", "log1p",
                     "log2", "power", "reciprocal", "rsqrt", "sum", "prod", "softmax", "log_softmax", "logsumexp",
                     "layer_norm", "vector_norm", "cross_entropy", "binary_cross_entropy", "ctc_loss"})
_STATE = []          # the enabled regions, innermost last: (device type, dtype)


def _cast_args(op, args):
    name = op.name
    if name in LOWER:
        want, eligible = None, (D.float32,)
    elif name in FLOAT32:
        want, eligible = D.float32, (D.float16,)
    else:
        return args
    device, dtype = _STATE[-1]
    want = want or dtype
    Tensor = _reg.Tensor
    out = []
    for a in args:
        if isinstance(a, Tensor) and a.dtype in eligible and a.device.type == device and a.dtype is not want:
            a = a.to(want)
        out.append(a)
    return tuple(out)


def _sync():
    _reg.ARGS_HOOK[0] = _cast_args if _STATE and _STATE[-1] is not None else None


class autocast:
    """A region (``with`` block or decorator) in which ops run in mixed precision (see the module's note).

    Args:
        device_type: ``"cuda"`` or ``"cpu"``: the tensors the region casts.
        dtype: the lower precision, ``tapegrad.float16`` (the default; tapegrad has no bfloat16).
        enabled: False makes a region that turns autocast off inside an enabled one.
        cache_enabled: accepted for torch's API (casts are not cached).

    Example:
        >>> import tapegrad
        >>> a, b = tapegrad.ones(2, 2), tapegrad.ones(2, 2)
        >>> with tapegrad.autocast("cpu"):
        ...     (a @ b).dtype, (a @ b).sum().dtype
        (tapegrad.float16, tapegrad.float32)
        >>> (a @ b).dtype
        tapegrad.float32
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in ("cuda", "cpu"):
            raise RuntimeError(f"autocast: device_type {device_type!r} is not supported; tapegrad has 'cuda' and "
                               "'cpu'")
        dtype = D.float16 if dtype is None else D.to_dtype(dtype)
        if dtype is not D.float16:
            raise RuntimeError(f"autocast: dtype {dtype} is not supported: tapegrad's only lower-precision float "
                               "is float16 (no bfloat16)")
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled) and _device_supports(device_type, dtype)

    def __enter__(self):
        _STATE.append((self.device, self.fast_dtype) if self._enabled else None)
        _sync()
        return self

    def __exit__(self, *exc):
        _STATE.pop()
        _sync()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)
        return wrapped


def _device_supports(device_type, dtype):
    """False, with torch's kind of warning, when ``device_type`` cannot hold ``dtype`` tensors here."""
    if device_type == "cpu":
        return True
    from .. import backend as B
    try:
        be = B.get("cuda")
    except RuntimeError:
        warnings.warn("User provided device_type of 'cuda', but CUDA is not available. Disabling")
        return False
    if be.dtypes is not None and dtype.np not in be.dtypes:
        warnings.warn(f"autocast('cuda'): tapegrad's CUDA backend has no {dtype} tensors yet; the region runs "
                      "in the inputs' own precision (autocast disabled)")
        return False
    return True


def is_autocast_enabled(device_type=None):
    """Whether an enabled autocast region is active (for ``device_type`` when given).

    Example:
        >>> import tapegrad
        >>> with tapegrad.autocast("cpu"):
        ...     tapegrad.amp.is_autocast_enabled("cpu"), tapegrad.amp.is_autocast_enabled("cuda")
        (True, False)
    """
    top = _STATE[-1] if _STATE else None
    return top is not None and (device_type is None or top[0] == device_type)


def get_autocast_dtype(device_type):
    """The lower-precision dtype of autocast regions (float16).

    Example:
        >>> import tapegrad
        >>> tapegrad.amp.get_autocast_dtype("cuda")
        tapegrad.float16
    """
    return D.float16
