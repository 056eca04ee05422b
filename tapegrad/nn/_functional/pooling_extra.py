"""The 3-D pooling forms the pooling topic lacks (``adaptive_max_pool3d``, ``lp_pool3d``), the
``*_with_indices`` names PyTorch exposes, and ``channel_shuffle``.

Each calls the shared n-d implementation of its 1-D/2-D siblings
(nn/_functional/pooling.py and _adaptive_pool.py) with ``nd = 3``, so values,
indices and gradients follow the same rules (gradient to the first maximum).
"""
from ._adaptive_pool import _adaptive_max
from .pooling import _lp_pool, avg_pool3d, max_pool1d, max_pool2d, max_pool3d, adaptive_max_pool1d, adaptive_max_pool2d

__all__ = ["adaptive_max_pool3d", "lp_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "channel_shuffle"]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """3-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool3d`` (gradient to the first maximum).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.adaptive_max_pool3d(tapegrad.arange(8.).reshape(1, 2, 2, 2), 1).flatten()
        tensor([7.])
    """
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``, as ``torch.nn.functional``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.lp_pool3d(tapegrad.full((1, 2, 2, 2), 2.), 1, 2).flatten()
        tensor([16.])
    """
    return _lp_pool(avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode, 3)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool1d(..., return_indices=True)``: the values and their indices (whatever ``return_indices``).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.max_pool1d_with_indices(tapegrad.tensor([[1., 3., 2., 0.]]), 2)[1]
        tensor([[1, 2]])
    """
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool2d(..., return_indices=True)``: the values and their indices.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.max_pool2d_with_indices(tapegrad.arange(4.).reshape(1, 2, 2), 2)[1]
        tensor([[[3]]])
    """
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool3d(..., return_indices=True)``: the values and their indices.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.max_pool3d_with_indices(tapegrad.arange(8.).reshape(1, 2, 2, 2), 2)[1].flatten()
        tensor([7])
    """
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d(..., return_indices=True)``: the values and their indices.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.adaptive_max_pool1d_with_indices(tapegrad.tensor([[1., 5., 2.]]), 1)[1]
        tensor([[1]])
    """
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d(..., return_indices=True)``: the values and their indices.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.adaptive_max_pool2d_with_indices(tapegrad.arange(4.).reshape(1, 2, 2), 1)[1]
        tensor([[[3]]])
    """
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d(..., return_indices=True)``: the values and their indices.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.adaptive_max_pool3d_with_indices(tapegrad.arange(8.).reshape(1, 2, 2, 2), 1)[1]
        tensor([[[[7]]]])
    """
    return adaptive_max_pool3d(input, output_size, True)


def channel_shuffle(input, groups):
    """Interleave the channels of ``(N, C, *)`` across ``groups`` (ShuffleNet), as ``torch.nn.functional``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.channel_shuffle(tapegrad.arange(4.).reshape(1, 4, 1), 2).flatten()
        tensor([0., 2., 1., 3.])
    """
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if not isinstance(groups, int) or groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)
