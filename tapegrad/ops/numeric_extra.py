"""Integration, grids and pairs, composed of recorded ops (every order of derivative comes free):
``trapezoid trapz cumulative_trapezoid vander unravel_index pdist``.
"""
import math

from .. import _dtype as D
from .._tensor import Tensor
from . import comparison as C
from . import elementwise as E
from . import reduction as R

__all__ = ["trapezoid", "trapz", "cumulative_trapezoid", "vander", "unravel_index", "pdist"]


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim``: samples ``y`` at points ``x`` (or spacing ``dx``, default 1).

    Example:
        >>> import tapegrad
        >>> tapegrad.trapezoid(tapegrad.tensor([1.0, 2.0, 3.0]))
        tensor(4.)
        >>> tapegrad.trapezoid(tapegrad.tensor([1.0, 3.0]), dx=0.5)
        tensor(1.)
    """
    n = y.shape[dim] if y.ndim else 0
    if n == 0:
        return R.sum(y, dim) * 0.0
    left, right = y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)
    if x is None:
        return R.sum(left + right, dim) * ((1.0 if dx is None else dx) / 2)
    if not isinstance(x, Tensor):
        raise TypeError(f"trapezoid: x must be a Tensor, got {type(x).__name__}")
    xd = x.diff(dim=-1 if x.ndim == 1 else dim)
    if x.ndim == 1 and y.ndim > 1:
        xd = xd.reshape((-1,) + (1,) * (y.ndim - 1 - (dim % y.ndim))) if dim % y.ndim != y.ndim - 1 else xd
    return R.sum(xd * (left + right), dim) / 2


def trapz(y, x=None, *, dx=None, dim=-1):
    """``trapezoid`` under its older name.

    Example:
        >>> import tapegrad
        >>> tapegrad.trapz(tapegrad.tensor([1.0, 2.0, 3.0]), tapegrad.tensor([0.0, 1.0, 3.0]))
        tensor(6.5000)
    """
    return trapezoid(y, x, dx=dx, dim=dim)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: columns ``x ** (N-1) ... x ** 0`` (reversed when ``increasing``).

    Example:
        >>> import tapegrad
        >>> tapegrad.vander(tapegrad.tensor([1, 2, 3]), N=3)
        tensor([[1, 1, 1],
                [4, 2, 1],
                [9, 3, 1]])
    """
    if x.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor, got shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError(f"N must be non-negative, got {n}")
    from .joining import stack
    from .._creation import ones_like, zeros
    base = x.long() if x.dtype == D.bool else x
    if n == 0:
        return zeros(x.shape[0], 0, dtype=base.dtype, device=x.device)
    cols = [ones_like(base)]
    for _ in range(1, n):
        cols.append(cols[-1] * base)
    return stack(cols if increasing else cols[::-1], 1)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral of ``y`` along ``dim`` (one value fewer than ``y`` has there).

    Example:
        >>> import tapegrad
        >>> tapegrad.cumulative_trapezoid(tapegrad.tensor([1.0, 2.0, 3.0]))
        tensor([1.5000, 4.0000])
    """
    n = y.shape[dim]
    if n == 0:
        return y
    left, right = y.narrow(dim, 0, n - 1), y.narrow(dim, 1, n - 1)
    if x is None:
        return (left + right).cumsum(dim) * ((1.0 if dx is None else dx) / 2)
    xd = x.diff(dim=-1 if x.ndim == 1 else dim)
    if x.ndim == 1 and y.ndim > 1 and dim % y.ndim != y.ndim - 1:
        xd = xd.reshape((-1,) + (1,) * (y.ndim - 1 - (dim % y.ndim)))
    return (xd * (left + right)).cumsum(dim) / 2


def unravel_index(indices, shape):
    """The coordinates, one tensor per dim of ``shape``, of the flat ``indices`` into a C-ordered ``shape``.

    Example:
        >>> import tapegrad
        >>> tapegrad.unravel_index(tapegrad.tensor([5, 7]), (2, 4))
        (tensor([1, 1]), tensor([1, 3]))
    """
    idx = indices if isinstance(indices, Tensor) else Tensor._coerce(indices)
    if idx.dtype.is_floating_point or idx.dtype == D.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {idx.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    size = math.prod(shape)
    if idx.numel() and (bool((idx < -size).any()) or bool((idx >= size).any())):
        raise ValueError(f"'indices' must be in range [{-size}, {size - 1}] for shape {shape}")
    idx = E.where(C.lt(idx, 0), idx + size, idx).long()
    out = []
    for n in reversed(shape):
        out.append(idx % n)
        idx = idx // n
    return tuple(reversed(out))


def pdist(input, p=2):
    """The ``p``-norm distances between the rows of ``(N, M)`` ``input``: the upper triangle of ``cdist``,
    ``N (N - 1) / 2`` values in row order.

    Example:
        >>> import tapegrad
        >>> tapegrad.pdist(tapegrad.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]]))
        tensor([5.0000, 1.0000, 4.4721])
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    from .linalg_extra import vector_norm
    from .._creation import tensor
    n = input.shape[0]
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    i = tensor([a for a, _ in pairs], dtype=D.int64, device=input.device)
    j = tensor([b for _, b in pairs], dtype=D.int64, device=input.device)
    return vector_norm(input[i] - input[j], p, dim=1)
