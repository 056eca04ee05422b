"""``max_unpool3d``: the 3-D partial inverse of ``max_pool3d`` (the 1-D and 2-D forms live in _adaptive_pool.py).

All three share ``_unpool``: zeros of the output size, with the input's values
put at their flat per-plane indices by one recorded index assignment, so the
gradient is a gather and every order of derivative comes free.
"""
from ._adaptive_pool import _unpool

__all__ = ["max_unpool3d"]


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``: zeros with ``input`` put at ``indices``, as ``torch.nn.functional``.

    Args:
        input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, the pooled values.
        indices: their flat positions in each ``D_out * H_out * W_out`` plane
            (``max_pool3d(..., return_indices=True)``).
        kernel_size, stride, padding: those of the pooling (``stride`` defaults to ``kernel_size``).
        output_size: the spatial size to restore (``(D, H, W)`` or with the batch and channel dims); by default
            ``(in - 1) * stride + kernel_size - 2 * padding`` per dim.

    Returns:
        ``(N, C, D_out, H_out, W_out)`` (no batch dim when ``input`` had none).

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> v, i = F.max_pool3d(tapegrad.arange(8.).reshape(1, 2, 2, 2), 2, return_indices=True)
        >>> F.max_unpool3d(v, i, 2)
        tensor([[[[0., 0.],
                  [0., 0.]],
        <BLANKLINE>
                 [[0., 0.],
                  [0., 7.]]]])
    """
    return _unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
