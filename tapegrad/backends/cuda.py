"""``tapegrad.backends.cuda``: torch's CUDA matmul flags, accepted and remembered with no effect (tapegrad's
CUDA matmul is its own tiled kernel in the tensor's dtype: no TF32, no reduced-precision reductions).

Example:
    >>> import tapegrad
    >>> tapegrad.backends.cuda.matmul.allow_tf32
    False
    >>> tapegrad.backends.cuda.is_built()
    True
"""

__all__ = ["matmul", "is_built", "preferred_linalg_library"]


class _MatmulFlags:
    """``backends.cuda.matmul``: the flags of torch's cuBLAS matmuls (no effect in tapegrad)."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    def __repr__(self):
        return f"<tapegrad.backends.cuda.matmul allow_tf32={self.allow_tf32}>"


matmul = _MatmulFlags()


def is_built():
    """True: tapegrad can run on CUDA (through numba-cuda, when installed and a GPU is present).

    Example:
        >>> import tapegrad
        >>> tapegrad.backends.cuda.is_built()
        True
    """
    return True


def preferred_linalg_library(backend=None):
    """Accepted for torch's API; tapegrad has one linear-algebra path. Returns ``"default"``.

    Example:
        >>> import tapegrad
        >>> tapegrad.backends.cuda.preferred_linalg_library()
        'default'
    """
    return "default"
