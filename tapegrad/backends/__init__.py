"""``tapegrad.backends``, as ``torch.backends``: the flags programs set for cuDNN, CUDA matmuls and MPS.

tapegrad uses neither cuDNN nor cuBLAS nor Metal: its CUDA kernels are its own (numba), so these flags are
accepted and remembered, and change nothing. ``mps.is_available()`` is False.

Example:
    >>> import tapegrad
    >>> tapegrad.backends.cudnn.benchmark = True; tapegrad.backends.cudnn.benchmark
    True
    >>> tapegrad.backends.cudnn.benchmark = False
    >>> tapegrad.backends.mps.is_available()
    False
"""
from . import cudnn, cuda, mps  # noqa: F401

__all__ = ["cudnn", "cuda", "mps"]
