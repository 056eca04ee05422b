"""Adaptive pooling and max unpooling (part of nn/_functional/pooling.py, which re-exports these).

Adaptive window ``i`` of a dim of size ``n`` pooled to ``o`` covers
``[floor(i n / o), ceil((i + 1) n / o))``, as in PyTorch.
"""
import math

from ... import _creation as C
from ... import _dtype as D
from ...ops.indexing import getitem_op
from ...ops.pooling import adaptive_max_pool_indices_op
from ...ops.registry import apply
from ._pool_args import adaptive_size, check_float, ntuple, plane_offsets

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "max_unpool1d", "max_unpool2d"]


def _adaptive_batched(name, input, nd):
    if input.ndim not in (nd + 1, nd + 2) or not all(input.shape[-nd:]):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor with non-zero sizes for the pooled "
                           f"dims, but got {list(input.shape)}")
    return (input.unsqueeze(0), True) if input.ndim == nd + 1 else (input, False)


def _averaging(n, o, like):
    """``(o, n)``: row ``i`` averages adaptive window ``i``."""
    rows = []
    for i in range(o):
        s, e = i * n // o, -(-(i + 1) * n // o)
        rows.append([1.0 / (e - s) if s <= j < e else 0.0 for j in range(n)])
    return C.tensor(rows, dtype=like.dtype, device=like.device).reshape(o, n)


def _adaptive_avg(name, nd, input, output_size):
    x, added = _adaptive_batched(name, input, nd)
    check_float(name, x)
    out = adaptive_size(name, x, output_size, nd)
    y = x
    for d in reversed(range(nd)):
        ax, sp = 2 + d, tuple(y.shape)
        if sp[ax] == out[d] and out[d] > 0:
            continue                                   # windows of one element: nothing to average
        if out[d] == 1:
            y = y.mean(ax, keepdim=True)               # one window: the mean
            continue
        a = _averaging(sp[ax], out[d], x)
        # one 2-D matmul: the dim moved last (a batched matmul of many small blocks is far slower)
        moved = y if ax == y.ndim - 1 else y.movedim(ax, -1)
        z = moved.reshape(-1, sp[ax]) @ a.t()
        z = z.reshape(tuple(moved.shape[:-1]) + (out[d],))
        y = z if ax == y.ndim - 1 else z.movedim(-1, ax)
    return y.squeeze(0) if added else y


def adaptive_avg_pool1d(input, output_size):
    """1-D adaptive average pooling to ``output_size`` positions, as ``torch.nn.functional.adaptive_avg_pool1d``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.adaptive_avg_pool1d(tapegrad.tensor([[1., 2., 3., 4., 5.]]), 2)
        tensor([[2., 4.]])
    """
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """2-D adaptive average pooling to ``output_size`` (an int, a pair; None keeps a dim), as ``torch.nn.functional``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.adaptive_avg_pool2d(tapegrad.arange(16.).reshape(1, 4, 4), 1)
        tensor([[[7.5000]]])
    """
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """3-D adaptive average pooling to ``output_size`` (an int or a triple), as ``torch.nn.functional``.

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.adaptive_avg_pool3d(tapegrad.ones(2, 3, 4, 5), (1, 2, None)).shape
        tapegrad.Size([2, 1, 2, 5])
    """
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(name, nd, input, output_size, return_indices):
    x, added = _adaptive_batched(name, input, nd)
    check_float(name, x)
    out = adaptive_size(name, x, output_size, nd)
    if not all(out):
        raise RuntimeError(f"{name}(): output_size must be positive, got {out} for input {list(input.shape)}")
    idx = apply(adaptive_max_pool_indices_op, x, out_size=out)
    vals = apply(getitem_op, x.reshape(-1), key=((idx + plane_offsets(x, nd))._data,))
    if added:
        vals, idx = vals.squeeze(0), idx.squeeze(0)
    return (vals, idx) if return_indices else vals


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool1d`` (gradient to the first maximum).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.adaptive_max_pool1d(tapegrad.tensor([[1., 5., 3., 4., 2.]]), 2)
        tensor([[5., 4.]])
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """2-D adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool2d`` (gradient to the first maximum).

    Example:
        >>> import tapegrad
        >>> tapegrad.nn.functional.adaptive_max_pool2d(tapegrad.arange(9.).reshape(1, 3, 3), 2)
        tensor([[[4., 5.],
                 [7., 8.]]])
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def _unpool(name, nd, input, indices, kernel_size, stride, padding, output_size):
    k = ntuple(kernel_size, nd, "kernel_size", name)
    s = k if stride is None else ntuple(stride, nd, "stride", name)
    p = ntuple(padding, nd, "padding", name)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: expected a {nd + 1}D or {nd + 2}D input, but got {list(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape) or indices.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{name}: expected integer indices of the input's shape {list(input.shape)}, got "
                           f"{indices.dtype} of shape {list(indices.shape)}")
    default = [(input.shape[-nd + d] - 1) * s[d] + k[d] - 2 * p[d] for d in range(nd)]
    if output_size is None:
        size = default
    else:
        size = list(output_size)
        if len(size) == nd + 2:
            size = size[2:]
        if len(size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                             f"length of '{len(size)}'")
        for d in range(nd):
            lo, hi = default[d] - s[d], default[d] + s[d]
            if not lo < size[d] < hi:
                raise ValueError(f'invalid output_size "{list(output_size)}" (dim {d} must be between {lo} and {hi})')
    size = tuple(int(v) for v in size)
    added = input.ndim == nd + 1
    x, idx = (input.unsqueeze(0), indices.unsqueeze(0)) if added else (input, indices)
    plane = math.prod(size)
    idx = idx.to(D.int64)
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= plane):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size {'x'.join(map(str, size))})")
    n, c = x.shape[:2]
    flat = C.zeros(n * c * plane, dtype=x.dtype, device=x.device)
    gidx = (idx + C.arange(0, n * c * plane, plane, device=x.device).reshape((n, c) + (1,) * nd)).reshape(-1)
    flat[gidx] = x.reshape(-1)
    out = flat.reshape((n, c) + size)
    return out.squeeze(0) if added else out


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool1d``: zeros with ``input`` put at ``indices``, as ``torch.nn.functional``.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> v, i = F.max_pool1d(tapegrad.tensor([[1., 3., 2., 0.]]), 2, return_indices=True)
        >>> F.max_unpool1d(v, i, 2)
        tensor([[0., 3., 2., 0.]])
    """
    return _unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: zeros with ``input`` put at ``indices`` (flat per plane).

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> v, i = F.max_pool2d(tapegrad.arange(4.).reshape(1, 2, 2), 2, return_indices=True)
        >>> F.max_unpool2d(v, i, 2)
        tensor([[[0., 0.],
                 [0., 3.]]])
    """
    return _unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)
