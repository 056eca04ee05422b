"""``tapegrad.amp``: automatic mixed precision, as ``torch.amp``: ``autocast`` regions and ``GradScaler``.

``tapegrad.cuda.amp.autocast()`` and ``tapegrad.cuda.amp.GradScaler()`` are the CUDA-defaulted aliases.

Example:
    >>> import tapegrad
    >>> with tapegrad.amp.autocast("cpu"):
    ...     (tapegrad.ones(1, 2) @ tapegrad.ones(2, 1)).dtype
    tapegrad.bfloat16
"""
import sys
import types

from .autocast_mode import autocast, is_autocast_enabled, get_autocast_dtype
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_enabled", "get_autocast_dtype"]


class _CudaAutocast(autocast):
    """``tapegrad.cuda.amp.autocast(enabled=True, dtype=None, cache_enabled=True)``: ``autocast("cuda")`` (float16).

    Example:
        >>> import tapegrad, warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     tapegrad.cuda.amp.autocast().device
        'cuda'
    """

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class _CudaGradScaler(GradScaler):
    """``tapegrad.cuda.amp.GradScaler(...)``: ``GradScaler("cuda", ...)``.

    Example:
        >>> import tapegrad, warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     isinstance(tapegrad.cuda.amp.GradScaler(), tapegrad.amp.GradScaler)
        True
    """

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


_CudaAutocast.__name__ = _CudaAutocast.__qualname__ = "autocast"
_CudaGradScaler.__name__ = _CudaGradScaler.__qualname__ = "GradScaler"
# tapegrad.cuda.amp: a module object (tapegrad.cuda's own files sit below the Tensor, so it cannot be a file
# there); registered so that ``from tapegrad.cuda.amp import autocast`` works once tapegrad.amp is loaded.
cuda_amp = types.ModuleType("tapegrad.cuda.amp", "tapegrad.cuda.amp: autocast and GradScaler defaulting to CUDA.")
cuda_amp.autocast, cuda_amp.GradScaler = _CudaAutocast, _CudaGradScaler
cuda_amp.__all__ = ["autocast", "GradScaler"]
sys.modules["tapegrad.cuda.amp"] = cuda_amp
