"""Pooling: ``max_pool1d/2d/3d``, ``avg_pool1d/2d/3d``, ``lp_pool1d/2d``, adaptive pooling and ``max_unpool1d/2d``.

Max pooling finds each window's maximum with ``max_pool_indices`` (never
recorded) and gathers the values with one ``getitem`` of the flattened input,
so the gradient is a ``scatter_add`` to the first maximum of each window
(Note [max pooling as a gather] in ops/pooling.py). Average pooling is a
depthwise convolution with a ones kernel divided by PyTorch's per-window
divisor, and adaptive average pooling one averaging matrix per spatial dim
(the mean over a box is the product of the means along its sides): both are
composed of recorded ops, so every order of derivative comes free.
"""
import math

from ... import _creation as C
from ... import _dtype as D
from ..._type_info import iinfo
from ...ops.conv import conv_op
from ...ops.indexing import getitem_op
from ...ops.pooling import max_pool_indices_op
from ...ops.registry import apply
from ...ops.shape import pad_axis_op
from ._pool_args import batched, check_float, out_size, plane_offsets, pool_args

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "lp_pool1d",
           "lp_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d"]


def _gather(x, idx, nd):
    """The elements of ``x`` (N, C, *S) at per-plane flat indices ``idx`` (N, C, *L): one recorded getitem."""
    gidx = idx + plane_offsets(x, nd)
    return apply(getitem_op, x.reshape(-1), key=(gidx._data,))


def _max_pool(name, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, added = batched(name, input, nd)
    fill = float("-inf")
    if nd > 1 and not x.dtype.is_floating_point and x.dtype != D.bool:     # PyTorch pools integers in 2-D and 3-D
        fill = iinfo(x.dtype).min
    else:
        check_float(name, x)
    k, s, p, d = pool_args(name, nd, kernel_size, stride, padding, dilation)
    out = out_size(x, k, s, p, d, ceil_mode)
    idx = apply(max_pool_indices_op, x, kernel_size=k, stride=s, padding=p, dilation=d, out_size=out, fill=fill)
    vals = _gather(x, idx, nd)
    if added:
        vals, idx = vals.squeeze(0), idx.squeeze(0)
    return (vals, idx) if return_indices else vals


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over ``(N, C, L)`` or ``(C, L)``, as ``torch.nn.functional.max_pool1d``.

    Args:
        input: ``(N, C, L)`` or unbatched ``(C, L)``, floating point.
        kernel_size, stride (default: ``kernel_size``), padding (-inf, at most half the kernel), dilation.
        ceil_mode: round the output size up (the last window must start inside the input or left padding).
        return_indices: also return each maximum's index within its plane (for ``max_unpool1d``).

    Returns:
        The pooled tensor (and the int64 indices); the gradient goes to the first maximum of each window.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.max_pool1d(tapegrad.tensor([[1., 3., 2., 2., 0.]]), 2, ceil_mode=True)
        tensor([[3., 2., 0.]])
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over ``(N, C, H, W)`` or ``(C, H, W)``, as ``torch.nn.functional.max_pool2d``.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``, floating point.
        kernel_size, stride (default: ``kernel_size``), padding, dilation: an int or a pair.
        ceil_mode: round the output size up.
        return_indices: also return the flat index ``h * W + w`` of each maximum in its plane.

    Returns:
        The pooled tensor (and the int64 indices).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.arange(16.).reshape(1, 1, 4, 4)
        >>> tapegrad.nn.functional.max_pool2d(x, 2, return_indices=True)[1]
        tensor([[[[ 5,  7],
                  [13, 15]]]])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``, as ``torch.nn.functional.max_pool3d``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)``, floating point.
        kernel_size, stride (default: ``kernel_size``), padding, dilation: an int or a triple.
        ceil_mode: round the output size up.
        return_indices: also return the flat index of each maximum in its volume.

    Returns:
        The pooled tensor (and the int64 indices).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.max_pool3d(tapegrad.arange(8.).reshape(1, 2, 2, 2), 2)
        tensor([[[[7.]]]])
    """
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _divisor(sp, out, k, s, p, count_include_pad):
    """Per spatial dim, PyTorch's window sizes: the padded window, or only its part inside the input."""
    per_dim = []
    for n, o, ki, si, pi in zip(sp, out, k, s, p):
        sizes = []
        for i in range(o):
            start = i * si - pi
            end = min(start + ki, n + pi)
            sizes.append(end - start if count_include_pad else min(end, n) - max(start, 0))
        per_dim.append(sizes)
    return per_dim


def _avg_pool(name, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, added = batched(name, input, nd)
    check_float(name, x)
    k, s, p, _ = pool_args(name, nd, kernel_size, stride, padding, 1)
    if divisor_override is not None and (not isinstance(divisor_override, int) or divisor_override == 0):
        raise RuntimeError(f"{name}: divisor must be not zero, got divisor_override={divisor_override!r}")
    out = out_size(x, k, s, p, (1,) * nd, ceil_mode)
    n, c = x.shape[:2]
    sp = tuple(x.shape[2:])
    y = x.reshape((n * c, 1) + sp)
    for i, (o, ni, ki, si, pi) in enumerate(zip(out, sp, k, s, p)):
        extra = (o - 1) * si + ki - (ni + 2 * pi)          # ceil_mode's last window reaches past the padding
        if extra > 0:
            y = apply(pad_axis_op, y, axis=2 + i, before=0, after=extra)
    w = C.ones((1, 1) + k, dtype=x.dtype, device=x.device)
    y = apply(conv_op, y, w, stride=s, padding=p, dilation=(1,) * nd, groups=1)
    y = y[(slice(None), slice(None)) + tuple(slice(0, o) for o in out)].reshape((n, c) + out)
    if divisor_override is not None:
        y = y / divisor_override
    else:
        div = None
        for i, sizes in enumerate(_divisor(sp, out, k, s, p, count_include_pad)):
            v = C.tensor(sizes, dtype=x.dtype, device=x.device).reshape(tuple(-1 if j == i else 1 for j in range(nd)))
            div = v if div is None else div * v
        y = y / div
    return y.squeeze(0) if added else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over ``(N, C, L)`` or ``(C, L)``, as ``torch.nn.functional.avg_pool1d``.

    Args:
        input: ``(N, C, L)`` or unbatched ``(C, L)``.
        kernel_size, stride (default: ``kernel_size``), padding (zeros, at most half the kernel).
        ceil_mode: round the output size up.
        count_include_pad: divide by the padded window's size (else by the elements inside the input).

    Returns:
        The pooled tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.avg_pool1d(tapegrad.tensor([[1., 3., 2., 4.]]), 2)
        tensor([[2., 3.]])
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over ``(N, C, H, W)`` or ``(C, H, W)``, as ``torch.nn.functional.avg_pool2d``.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size, stride (default: ``kernel_size``), padding: an int or a pair.
        ceil_mode, count_include_pad: as ``avg_pool1d``.
        divisor_override: divide every window's sum by this instead.

    Returns:
        The pooled tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.avg_pool2d(tapegrad.ones(1, 3, 3), 2, padding=1, count_include_pad=False)
        tensor([[[1., 1.],
                 [1., 1.]]])
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-D average pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)``, as ``torch.nn.functional.avg_pool3d``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)``.
        kernel_size, stride (default: ``kernel_size``), padding: an int or a triple.
        ceil_mode, count_include_pad, divisor_override: as ``avg_pool2d``.

    Returns:
        The pooled tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.avg_pool3d(tapegrad.arange(8.).reshape(1, 2, 2, 2), 2)
        tensor([[[[3.5000]]]])
    """
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _lp_pool(pool, input, norm_type, kernel_size, stride, ceil_mode, nd):
    if norm_type == float("inf"):
        return globals()[f"max_pool{nd}d"](input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -globals()[f"max_pool{nd}d"](-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    kk = math.prod((kernel_size,) * nd if isinstance(kernel_size, int) else kernel_size)
    return (out.sign() * out.abs().relu()).mul(kk).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``, as ``torch.nn.functional``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.lp_pool1d(tapegrad.tensor([[3., 4.]]), 2, 2)
        tensor([[5.]])
    """
    return _lp_pool(avg_pool1d, input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``, as ``torch.nn.functional``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.lp_pool2d(tapegrad.full((1, 2, 2), 2.), 1, 2)
        tensor([[[8.]]])
    """
    return _lp_pool(avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode, 2)


from ._adaptive_pool import *  # noqa: F401,F403,E402
