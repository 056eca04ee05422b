"""``torch.linalg``'s decompositions and matrix functions: argument checks, PyTorch's names and result tuples.

The differentiable primitives are in ops/linalg_decomp.py; everything here
checks its input (float32/float64, at least 2-D, square where needed, as
PyTorch words it) and then calls a primitive or composes them. Norms and the
smaller helpers (cross, vecdot, multi_dot ...) are in ops/linalg_extra.py.
"""
import collections
import math

from .. import _creation
from .. import _dtype as D
from .registry import apply
from . import linalg_decomp as P
from .linalg_decomp import LinAlgError

__all__ = []

_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                "float16": "Half", "bfloat16": "BFloat16"}

SlogdetResult = collections.namedtuple("slogdet", ["sign", "logabsdet"])
QRResult = collections.namedtuple("qr", ["Q", "R"])
SVDResult = collections.namedtuple("svd", ["U", "S", "Vh"])
EighResult = collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])
InvExResult = collections.namedtuple("inv_ex", ["inverse", "info"])
CholeskyExResult = collections.namedtuple("cholesky_ex", ["L", "info"])


def check(name, A, square=True, arg="A"):
    """PyTorch's checks of a linalg input: a float32/float64 tensor of matrices (square when ``square``)."""
    from .._tensor import Tensor
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type(A).__name__}")
    dt = A.dtype
    if dt in (D.float16,) or dt.name == "bfloat16":
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {_TORCH_NAMES.get(dt.name, dt.name)}")
    if not dt.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_TORCH_NAMES.get(dt.name, dt.name)}")
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _unpack(packed, shapes):
    """Note [packed outputs]: the factors of a packed result, as recorded views."""
    batch = tuple(packed.shape[:-1])
    out, start = [], 0
    for s in shapes:
        n = math.prod(s)
        out.append(packed.narrow(-1, start, n).reshape(batch + tuple(s)))
        start += n
    return out


def inv(A):
    """The inverse of each square matrix of ``A`` (..., n, n).

    Raises ``LinAlgError`` (a RuntimeError) for a singular matrix.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.inv(tapegrad.tensor([[2.0, 0.0], [0.0, 4.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.2500]])
    """
    check("linalg.inv", A)
    return apply(P.inv_op, A)


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``: ``info`` is 0 for an invertible matrix and positive for a singular one.

    The inverse of a singular matrix is filled with nan (PyTorch leaves
    whatever its LU produced); ``info`` is ``n`` there, not the index of the
    zero pivot.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.inv_ex(tapegrad.eye(2)).info
        tensor(0, dtype=tapegrad.int32)
    """
    check("linalg.inv_ex", A)
    try:
        return InvExResult(inv(A), _creation.zeros(A.shape[:-2], dtype=D.int32, device=A.device))
    except LinAlgError:
        if check_errors:
            raise
    d = det(A.detach())
    bad = d == 0
    n = A.shape[-1]
    eye = _creation.eye(n, dtype=A.dtype, device=A.device)
    good = inv(A.where(~bad[..., None, None], eye))
    out = good.where(~bad[..., None, None], float("nan"))
    return InvExResult(out, bad.to(D.int32) * n)


def det(A):
    """The determinant of each square matrix of ``A`` (..., n, n).

    Its gradient is ``det(A) A^-T``, and 0 where ``det(A) == 0`` (as PyTorch's).

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.det(tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor(-2.)
    """
    check("linalg.det", A)
    return apply(P.det_op, A)


def slogdet(A):
    """``(sign, logabsdet)`` of each square matrix: ``det(A) == sign * exp(logabsdet)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.slogdet(tapegrad.tensor([[-2.0, 0.0], [0.0, 1.0]]))
        slogdet(sign=tensor(-1.), logabsdet=tensor(0.6931))
    """
    check("linalg.slogdet", A)
    sign, logabs = _unpack(apply(P.slogdet_op, A), [(), ()])
    return SlogdetResult(sign.detach(), logabs)


def logdet(input):
    """``log(det(input))``: nan for a negative determinant, ``-inf`` for zero.

    Example:
        >>> import tapegrad
        >>> tapegrad.logdet(tapegrad.tensor([[2.0, 0.0], [0.0, 3.0]]))
        tensor(1.7918)
    """
    check("logdet", input)
    sign, logabs = slogdet(input)
    return logabs.where(sign >= 0, float("nan"))


def solve(A, B, *, left=True):
    """The solution ``X`` of ``A @ X = B`` (``X @ A = B`` when ``left=False``), batched and broadcast.

    ``B`` is a batch of vectors when it is 1-D or has the shape ``A.shape[:-1]``.

    Example:
        >>> import tapegrad
        >>> A = tapegrad.tensor([[2.0, 0.0], [0.0, 4.0]])
        >>> tapegrad.linalg.solve(A, tapegrad.tensor([2.0, 2.0]))
        tensor([1.0000, 0.5000])
    """
    check("linalg.solve", A)
    from .._tensor import Tensor
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve(): argument 'B' must be Tensor, not {type(B).__name__}")
    check("linalg.solve", B, square=False, arg="B") if B.ndim >= 2 else check_dtype("linalg.solve", B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_TORCH_NAMES.get(A.dtype.name, A.dtype.name)} and B of type "
                           f"{_TORCH_NAMES.get(B.dtype.name, B.dtype.name)} instead")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        B = B.unsqueeze(-1)
    n = A.shape[-1]
    if B.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if left:
        X = apply(P.solve_op, A, B)
    else:
        X = apply(P.solve_op, A.mT, B.mT).mT
    return X.squeeze(-1) if vector else X


def check_dtype(name, t):
    if not t.dtype.is_floating_point or t.dtype == D.float16:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_TORCH_NAMES.get(t.dtype.name, t.dtype.name)}")


def cholesky(A, *, upper=False):
    """The Cholesky factor of each symmetric positive-definite matrix: lower ``L`` with ``A = L L^T``.

    Only the lower triangle of ``A`` is read. ``upper=True`` returns ``L^T``.
    Raises ``LinAlgError`` when a matrix is not positive-definite.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.cholesky(tapegrad.tensor([[4.0, 2.0], [2.0, 2.0]]))
        tensor([[2., 0.],
                [1., 1.]])
    """
    check("linalg.cholesky", A)
    L = apply(P.cholesky_op, A)
    return L.mT if upper else L


def _minor_order(A):
    """The order of the first leading minor that is not positive-definite (0 when all are), per matrix."""
    n = A.shape[-1]
    flat = A.detach().reshape((-1, n, n))
    out = []
    for a in flat:
        k = 0
        for m in range(1, n + 1):
            try:
                apply(P.cholesky_op, a[:m, :m])
            except LinAlgError:
                k = m
                break
        out.append(k)
    return _creation.tensor(out, dtype=D.int32, device=A.device).reshape(A.shape[:-2])


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: ``info`` is 0, or the order of the first leading minor that is not positive-definite.

    Where ``info > 0``, ``L`` is filled with nan (PyTorch leaves a partial factor).

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.cholesky_ex(-tapegrad.eye(2)).info
        tensor(1, dtype=tapegrad.int32)
    """
    check("linalg.cholesky_ex", A)
    try:
        L = cholesky(A, upper=upper)
        return CholeskyExResult(L, _creation.zeros(A.shape[:-2], dtype=D.int32, device=A.device))
    except LinAlgError:
        if check_errors:
            raise
    info = _minor_order(A)
    bad = (info > 0)[..., None, None]
    n = A.shape[-1]
    L = cholesky(A.where(~bad, _creation.eye(n, dtype=A.dtype, device=A.device)), upper=upper)
    return CholeskyExResult(L.where(~bad, float("nan")), info)


def qr(A, mode="reduced"):
    """The QR decomposition ``A = Q R`` (``mode``: ``'reduced'``, ``'complete'`` or ``'r'``).

    As in PyTorch, ``'r'`` returns an empty ``Q`` and is not differentiable, and
    ``'complete'`` is not differentiable when ``m > n``.

    Example:
        >>> import tapegrad
        >>> A = tapegrad.tensor([[3.0, 1.0], [4.0, 2.0]])
        >>> Q, R = tapegrad.linalg.qr(A)
        >>> bool((Q @ R - A).abs().max() < 1e-5), R.shape
        (True, tapegrad.Size([2, 2]))
    """
    check("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    m, n = A.shape[-2:]
    out = apply(P.qr_op, A, mode=mode)
    if mode == "r":
        return QRResult(_creation.empty(0, dtype=A.dtype, device=A.device), out)
    q, r = _unpack(out, P.qr_shapes(m, n, mode))
    return QRResult(q, r)


def svd(A, full_matrices=True):
    """The singular value decomposition ``A = U diag(S) Vh``, singular values descending.

    Gradients are those of gauge-invariant functions (PyTorch's formula);
    with ``full_matrices=True`` the singular vectors past ``min(m, n)`` get none.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.svd(tapegrad.tensor([[3.0, 0.0], [0.0, -4.0]])).S
        tensor([4., 3.])
    """
    check("linalg.svd", A, square=False)
    m, n = A.shape[-2:]
    u, s, vh = _unpack(apply(P.svd_op, A, full_matrices=bool(full_matrices)),
                       P.svd_shapes(m, n, bool(full_matrices)))
    return SVDResult(u, s, vh)


def svdvals(A):
    """The singular values of each matrix, in descending order.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.svdvals(tapegrad.tensor([[0.0, 2.0], [1.0, 0.0]]))
        tensor([2., 1.])
    """
    check("linalg.svdvals", A, square=False)
    return svd(A, full_matrices=False).S


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix.

    Only the ``UPLO`` (``'L'`` or ``'U'``) triangle of ``A`` is read.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.eigh(tapegrad.tensor([[2.0, 0.0], [0.0, 1.0]])).eigenvalues
        tensor([1., 2.])
    """
    check("linalg.eigh", A)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    n = A.shape[-1]
    lam, q = _unpack(apply(P.eigh_op, A, UPLO=UPLO), [(n,), (n, n)])
    return EighResult(lam, q)


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of each symmetric matrix, ascending.

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.eigvalsh(tapegrad.tensor([[2.0, 1.0], [1.0, 2.0]]))
        tensor([1., 3.])
    """
    check("linalg.eigvalsh", A)
    return eigh(A, UPLO).eigenvalues


def matrix_exp(A):
    """The matrix exponential of each square matrix (scaling and squaring, Note [matrix_exp]).

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.matrix_exp(tapegrad.zeros(2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    check("linalg.matrix_exp", A)
    return apply(P.matrix_exp_op, A)


def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (the identity for 0, powers of the inverse for ``n < 0``).

    Example:
        >>> import tapegrad
        >>> tapegrad.linalg.matrix_power(tapegrad.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
        tensor([[1., 3.],
                [0., 1.]])
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if A.dtype.is_floating_point or n < 0:
        check("linalg.matrix_power", A)
    elif A.ndim < 2 or A.shape[-1] != A.shape[-2]:      # integer matrices multiply exactly, as in PyTorch
        check("linalg.matrix_power", A.float())
    if n == 0:
        k = A.shape[-1]
        return _creation.eye(k, dtype=A.dtype, device=A.device).expand(A.shape) + A * 0
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result
