"""The optional per-feature ``weight`` (ones) and ``bias`` (zeros) of the normalization layers.

Example:
    >>> import tapegrad
    >>> tapegrad.nn.GroupNorm(1, 2, affine=False).weight is None, tapegrad.nn.LayerNorm(2, bias=False).bias
    (True, None)
"""
from ... import _creation as C
from .. import init
from ..parameter import Parameter

__all__ = []


def register_affine(module, enabled, bias, shape, dtype, device):
    """Register ``weight`` (and ``bias`` unless ``bias`` is False) of ``shape`` when ``enabled``, else both as None."""
    module.register_parameter("weight", Parameter(C.empty(*shape, dtype=dtype, device=device)) if enabled else None)
    module.register_parameter("bias", Parameter(C.empty(*shape, dtype=dtype, device=device))
                              if enabled and bias else None)


def reset_affine(module):
    """Weight to ones, bias to zeros (the ones that exist)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)
