"""``tapegrad.autocast`` / ``tapegrad.amp.autocast``: mixed precision by op lists, as ``torch.autocast``.

Inside an enabled region, the ops of the lower-precision list (``matmul``, ``linear``, ``conv``,
``conv_transpose``, ``einsum``: every matmul, linear layer, convolution and attention product) cast their
floating inputs (float32, float16, bfloat16; never float64) on the region's device to the region's dtype; the
ops of the device's float32 list cast float16/bfloat16 inputs to float32. Other ops run in their inputs'
promoted type. The casts are recorded, so gradients reach float32 parameters in float32. The lists are
torch's (Note [dispatch hook] in ops/registry.py), mapped onto tapegrad's primitives:

- ``"cpu"`` (default dtype bfloat16, also float16): torch's CPU list casts to float32 only ``prod``, the
  losses and the linear-algebra solvers (``inv``, ``cholesky``, ``qr``, ``svd``, ``eigh``, ``solve``);
  ``sum``, ``softmax``, ``exp``, ``layer_norm``... run in their input's type, as in torch.
- ``"cuda"`` (default dtype float16): torch's CUDA list also runs ``exp``, ``log``, ``pow``, ``sum``,
  ``softmax``, ``log_softmax``, ``logsumexp``, ``layer_norm``, ``vector_norm``, ``cumsum``, ``cumprod`` and
  the losses in float32.

The losses composed of other ops (``mse_loss``, ``l1_loss``, ``nll_loss``, ``kl_div``...) cast the elementwise
loss to float32 before reducing it (Note [autocast losses] in nn/_functional/_reduction.py), so their result
is float32 as torch's; torch computes the elementwise part in float32 too, so values can differ in the
last bits of the lower precision.

Differences from torch: casts of the same weight are not cached across ops (``cache_enabled`` is accepted);
``binary_cross_entropy`` is cast to float32 rather than refused. tapegrad's CUDA backend has float16 (its
kernels compute in float32 and round once, and matmuls accumulate in float32, as torch's) but no bfloat16, so
``autocast("cuda", dtype=bfloat16)`` warns and disables itself there.
"""
import functools
import warnings

from .. import _dtype as D
from ..ops import registry as _reg

__all__ = ["autocast", "is_autocast_enabled", "get_autocast_dtype"]

LOWER = frozenset({"matmul", "linear", "conv", "conv_transpose", "einsum"})
_LOSSES = frozenset({"cross_entropy", "binary_cross_entropy", "ctc_loss", "loss"})   # "loss": composed ones
FLOAT32 = {
    "cuda": frozenset({"acos", "asin", "cosh", "sinh", "tan", "erfinv", "exp", "expm1", "log", "log10", "log1p",
                       "log2", "power", "reciprocal", "rsqrt", "sum", "prod", "softmax", "log_softmax", "logsumexp",
                       "layer_norm", "vector_norm", "cumsum", "cumprod"}) | _LOSSES,
    "cpu": frozenset({"prod", "linalg_inv", "linalg_cholesky", "linalg_qr", "linalg_svd", "linalg_eigh",
                      "linalg_solve"}) | _LOSSES,
}
DEFAULT_DTYPE = {"cpu": D.bfloat16, "cuda": D.float16}
_LOW = (D.float16, D.bfloat16)
_STATE = []          # the enabled regions, innermost last: (device type, dtype)


def _cast_args(op, args):
    device, dtype = _STATE[-1]
    name = op.name
    if name in LOWER:
        want = dtype
    elif name in FLOAT32[device]:
        want = D.float32
    else:
        return args
    Tensor = _reg.Tensor
    out = []
    for a in args:
        if isinstance(a, Tensor) and a.device.type == device:
            d = a.dtype
            if d is not want and d.is_floating_point and d is not D.float64 and (want is not D.float32 or d in _LOW):
                a = a.to(want)
        out.append(a)
    return tuple(out)


def _sync():
    _reg.ARGS_HOOK[0] = _cast_args if _STATE and _STATE[-1] is not None else None


class autocast:
    """A region (``with`` block or decorator) in which ops run in mixed precision (see the module's note).

    Args:
        device_type: ``"cuda"`` or ``"cpu"``: the tensors the region casts.
        dtype: the lower precision, ``tapegrad.bfloat16`` or ``tapegrad.float16`` (default: bfloat16 on the
            CPU, float16 on CUDA, as torch); another dtype warns and disables the region, as torch.
        enabled: False makes a region that turns autocast off inside an enabled one.
        cache_enabled: accepted for torch's API (casts are not cached).

    Example:
        >>> import tapegrad
        >>> a, b = tapegrad.ones(2, 2), tapegrad.ones(2, 2)
        >>> with tapegrad.autocast("cpu"):
        ...     (a @ b).dtype, (a @ b).prod().dtype
        (tapegrad.bfloat16, tapegrad.float32)
        >>> (a @ b).dtype
        tapegrad.float32
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in ("cuda", "cpu"):
            raise RuntimeError(f"autocast: device_type {device_type!r} is not supported; tapegrad has 'cuda' and "
                               "'cpu'")
        dtype = DEFAULT_DTYPE[device_type] if dtype is None else D.to_dtype(dtype)
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled) and _dtype_supported(device_type, dtype) and _device_supports(device_type, dtype)

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


def _dtype_supported(device_type, dtype):
    """False, with torch's warning, for a dtype autocast cannot lower to (torch disables the region)."""
    if dtype in _LOW:
        return True
    dev = "CPU" if device_type == "cpu" else "CUDA"
    supported = "tapegrad.bfloat16, tapegrad.float16" if device_type == "cpu" else \
        "tapegrad.float16 and tapegrad.bfloat16"
    warnings.warn(f"In {dev} autocast, but the target dtype is not supported. Disabling autocast.\n"
                  f"{dev} Autocast only supports dtypes of {supported} currently.")
    return False


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
        warnings.warn(f"autocast('cuda'): tapegrad's CUDA backend has no {dtype.name} tensors yet; the region runs "
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
    """The lower-precision dtype of ``device_type``'s autocast: the innermost enabled region's, else the
    default (bfloat16 on the CPU, float16 on CUDA, as torch).

    Example:
        >>> import tapegrad
        >>> tapegrad.amp.get_autocast_dtype("cpu"), tapegrad.amp.get_autocast_dtype("cuda")
        (tapegrad.bfloat16, tapegrad.float16)
        >>> with tapegrad.autocast("cpu", dtype=tapegrad.float16):
        ...     tapegrad.amp.get_autocast_dtype("cpu")
        tapegrad.float16
    """
    for region in reversed(_STATE):
        if region is not None and region[0] == device_type:
            return region[1]
    return DEFAULT_DTYPE.get(device_type, D.float16)
