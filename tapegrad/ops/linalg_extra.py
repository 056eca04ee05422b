"""``torch.linalg``'s composed functions (pinv, lstsq, matrix_rank, the norms, cross, multi_dot, vecdot,
diagonal) and the ``tapegrad.`` aliases (``inverse``, ``det``, ``logdet``, ``svd`` with ``some=``, ...).

Everything here is composed of the primitives in ops/linalg_decomp.py and
ordinary ops, so gradients come from theirs.
"""
import collections
import math

from .. import _creation
from .. import _dtype as D
from . import linalg_funcs as L
from .linalg_funcs import check
from . import statistics as S

__all__ = ["inverse", "det", "logdet", "slogdet", "cholesky", "svd", "pinverse", "matrix_power", "matrix_exp"]

LstsqResult = collections.namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
TorchSVDResult = collections.namedtuple("svd", ["U", "S", "V"])


def _eps(dtype):
    return 1.1920928955078125e-07 if dtype == D.float32 else 2.220446049250313e-16


def _tolerance(S_max, shape, dtype, atol, rtol):
    """PyTorch's ``max(atol, rtol * S_max)``, with ``rtol = eps * max(m, n)`` when neither is given."""
    from .._tensor import Tensor
    if rtol is None:
        rtol = 0.0 if atol is not None and not (isinstance(atol, Tensor) and atol.numel() == 0) else \
            _eps(dtype) * max(shape[-2:])
    if atol is None:
        atol = 0.0
    tol = S_max * rtol
    return tol.clamp(min=atol) if not isinstance(atol, Tensor) else tol.maximum(atol)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse: singular values at most ``max(atol, rtol * S_max)`` count as zero.

    ``hermitian=True`` asks for a square (symmetric) ``A``; both forms are
    composed of ``svd``, so the gradient needs distinct singular values.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.pinv(tapegrad.tensor([[2.0, 0.0], [0.0, 0.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.0000]])
    """
    check("linalg.pinv", A, square=hermitian)
    # hermitian=True: the singular values of a symmetric matrix are its |eigenvalues|, and the SVD
    # path gives PyTorch's (unsymmetrised) gradient, so both take it.
    U, s, Vh = L.svd(A, full_matrices=False)
    s_max = s.narrow(-1, 0, 1) if s.shape[-1] else s.sum(-1, keepdim=True)
    keep = s > _tolerance(s_max, A.shape, A.dtype, atol, rtol)
    s_inv = (1 / s.where(keep, 1.0)).where(keep, 0.0)
    return (Vh.mT * s_inv.unsqueeze(-2)) @ U.mT


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values above ``max(atol, rtol * S_max)`` (int64; not differentiable).

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.matrix_rank(tapegrad.tensor([[1.0, 2.0], [2.0, 4.0]]))
        tensor(1)
    """
    check("linalg.matrix_rank", A, square=hermitian)
    A = A.detach()
    s = L.eigvalsh(A).abs() if hermitian else L.svdvals(A)
    s_max = s.amax(-1, keepdim=True) if s.shape[-1] else s.sum(-1, keepdim=True)
    return (s > _tolerance(s_max, A.shape, A.dtype, atol, rtol)).sum(-1)


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution ``X`` minimising ``||A X - B||``, via ``pinv(A) @ B``.

    Returns ``(solution, residuals, rank, singular_values)``. As PyTorch's CPU
    default (``driver='gelsy'``): ``rank`` is computed, ``singular_values``
    is empty; ``driver='gelsd'``/``'gelss'`` also give them and, when
    ``m > n`` and every matrix has full rank, the squared residuals.

    Example:
        >>> import tapegrad
        >>> A = tapegrad.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        >>> tapegrad.linalg.lstsq(A, tapegrad.tensor([[1.0], [2.0], [3.0]])).solution
        tensor([[1.],
                [2.]])
    """
    check("linalg.lstsq", A, square=False)
    if driver not in (None, "gelsy", "gelsd", "gelss", "gels"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss), "
                           f"but got {driver}")
    vector = B.ndim == A.ndim - 1
    if B.ndim < 1 or B.dtype != A.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: expected B of dtype {A.dtype} with at least 1 dimension, got "
                           f"{B.dtype} of shape {tuple(B.shape)}")
    Bm = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2:]
    if Bm.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2), got {m} and "
                           f"{Bm.shape[-2]}")
    rtol = rcond if rcond is not None and rcond > 0 else _eps(A.dtype) * max(m, n)
    X = pinv(A, rtol=rtol) @ Bm
    empty = _creation.empty(0, dtype=A.dtype, device=A.device)
    rank = matrix_rank(A, rtol=rtol)
    sv = residuals = empty
    if driver in ("gelsd", "gelss"):
        sv = L.svdvals(A.detach())
        if m > n and bool((rank == n).all()):
            residuals = ((A @ X - Bm) ** 2).sum(-2)
            residuals = residuals.squeeze(-1) if vector else residuals
    if driver == "gels":
        rank = _creation.empty(0, dtype=D.int64, device=A.device)
    return LstsqResult(X.squeeze(-1) if vector else X, residuals, rank, sv)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm over ``dim`` (all elements by default; ``inf``, ``-inf``, 0 and any real).

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.vector_norm(tapegrad.tensor([3.0, -4.0]))
        tensor(5.)
    """
    if not x.dtype.is_floating_point and dtype is None:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {L._TORCH_NAMES.get(x.dtype.name, x.dtype.name)}")
    if isinstance(dim, int):
        dim = (dim,)
    return S.norm(x, p=ord, dim=dim, keepdim=keepdim, dtype=dtype)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """A matrix norm over the two dims ``dim``: ``'fro'``, ``'nuc'``, ``inf``, ``-inf``, 1, -1, 2, -2.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.matrix_norm(tapegrad.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
        tensor(6.)
    """
    if dtype is not None:
        A = A.to(dtype)
    check("linalg.matrix_norm", A, square=False)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {tuple(dim)}")
    d0, d1 = (d % A.ndim for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return S.norm(A, p=2, dim=(d0, d1), keepdim=keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        inner, outer = (d0, d1) if abs(ord) == 1 else (d1, d0)
        col = A.abs().sum(inner, keepdim=True)
        out = col.amax(outer, keepdim=True) if ord > 0 else col.amin(outer, keepdim=True)
    elif ord in ("nuc", 2, -2):
        s = L.svdvals(A.movedim((d0, d1), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        out = out.unsqueeze(-1).unsqueeze(-1).movedim((-2, -1), (d0, d1))
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (``dim`` an int, or 1-D input) or a matrix norm (``dim`` a pair, or 2-D input).

    Without ``ord`` and ``dim`` it is the 2-norm of all elements.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.norm(tapegrad.tensor([[3.0, 0.0], [0.0, 4.0]]))
        tensor(5.)
    """
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (inputs broadcast).

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.cross(tapegrad.tensor([1.0, 0.0, 0.0]), tapegrad.tensor([0.0, 1.0, 0.0]))
        tensor([0., 0., 1.])
    """
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions (got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)})")
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} and "
                           f"{other.shape[dim]}")
    a = [input.narrow(dim, i, 1) for i in range(3)]
    b = [other.narrow(dim, i, 1) for i in range(3)]
    from .joining import cat
    return cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], dim)


def vecdot(x, y, *, dim=-1):
    """The dot product of ``x`` and ``y`` along ``dim``, broadcast over the other dims.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.vecdot(tapegrad.tensor([[1.0, 2.0]]), tapegrad.tensor([3.0, 4.0]))
        tensor([11.])
    """
    return (x * y).sum(dim)


def multi_dot(tensors):
    """The product of a list of matrices (the first and last may be vectors), left to right.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.multi_dot([tapegrad.ones(2), tapegrad.ones(2, 3), tapegrad.ones(3)])
        tensor(6.)
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        ok = t.ndim == 2 or (t.ndim == 1 and i in (0, len(tensors) - 1))
        if not ok:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D{' or 1D' if i in (0, len(tensors) - 1) else ''}"
                               f" but got {t.ndim}D")
    out = tensors[0]
    for t in tensors[1:]:
        out = out @ t
    return out


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal ``offset`` of the matrices over dims ``(dim1, dim2)``, as a last dim (a view's values).

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.diagonal(tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([1., 4.])
    """
    A = A.movedim((dim1, dim2), (-2, -1))
    r, c = A.shape[-2:]
    length = max(0, min(r, c - offset) if offset >= 0 else min(r + offset, c))
    start = offset if offset >= 0 else -offset * c
    flat = A.reshape(tuple(A.shape[:-2]) + (r * c,))
    if length == 0:
        return flat.narrow(-1, 0, 0)
    return flat[..., start:start + (length - 1) * (c + 1) + 1:c + 1]


# ----------------------------------------------------------------- the tapegrad. aliases
def inverse(input):
    """``torch.inverse``: the same as ``tapegrad.linalg.inv``.

    Example:
        >>> import tapegrad
        >>> tapegrad.inverse(tapegrad.tensor([[4.0]]))
        tensor([[0.2500]])
    """
    return L.inv(input)


def det(input):
    """``torch.det``: the same as ``tapegrad.linalg.det``.

    Example:
        >>> import tapegrad
        >>> tapegrad.det(tapegrad.eye(3) * 2)
        tensor(8.)
    """
    return L.det(input)


def logdet(input):
    """``torch.logdet``: ``log(det(input))``, nan for a negative determinant and ``-inf`` for zero.

    Example:
        >>> import tapegrad
        >>> tapegrad.logdet(tapegrad.tensor([[2.0, 0.0], [0.0, 3.0]]))
        tensor(1.7918)
    """
    return L.logdet(input)


def slogdet(input):
    """``torch.slogdet``: the same as ``tapegrad.linalg.slogdet``.

    Example:
        >>> import tapegrad
        >>> tapegrad.slogdet(tapegrad.eye(2)).logabsdet
        tensor(0.)
    """
    return L.slogdet(input)


def cholesky(input, upper=False):
    """``torch.cholesky`` (deprecated in PyTorch): ``linalg.cholesky(input, upper=upper)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.cholesky(tapegrad.eye(2) * 4)
        tensor([[2., 0.],
                [0., 2.]])
    """
    return L.cholesky(input, upper=upper)


def svd(input, some=True, compute_uv=True):
    """``torch.svd``: ``(U, S, V)`` with ``V`` (not ``Vh``); ``some=False`` gives full ``U`` and ``V``.

    ``compute_uv=False`` returns zero-filled ``U`` and ``V``, as PyTorch does.

    Example:
        >>> import tapegrad
        >>> U, S, V = tapegrad.svd(tapegrad.tensor([[0.0, 2.0], [1.0, 0.0]]))
        >>> S
        tensor([2., 1.])
    """
    if not compute_uv:
        check("svd", input, square=False)
        m, n = input.shape[-2:]
        s = L.svdvals(input)
        z = lambda k: _creation.zeros(tuple(input.shape[:-2]) + (k, k), dtype=input.dtype, device=input.device)
        return TorchSVDResult(z(m), s, z(n))
    U, S_, Vh = L.svd(input, full_matrices=not some)
    return TorchSVDResult(U, S_, Vh.mT)


def pinverse(input, rcond=1e-15):
    """``torch.pinverse``: ``linalg.pinv(input, rtol=rcond)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.pinverse(tapegrad.tensor([[2.0]]))
        tensor([[0.5000]])
    """
    return pinv(input, rtol=rcond)


def matrix_power(input, n):
    """``torch.matrix_power``: the same as ``tapegrad.linalg.matrix_power``.

    Example:
        >>> import tapegrad
        >>> tapegrad.matrix_power(tapegrad.eye(2) * 2, 2)
        tensor([[4., 0.],
                [0., 4.]])
    """
    return L.matrix_power(input, n)


def matrix_exp(input):
    """``torch.matrix_exp``: the same as ``tapegrad.linalg.matrix_exp``.

    Example:
        >>> import tapegrad
        >>> tapegrad.matrix_exp(tapegrad.zeros(1, 1))
        tensor([[1.]])
    """
    return L.matrix_exp(input)


METHODS = {n: globals()[n] for n in __all__}
