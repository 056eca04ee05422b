"""Cholesky factor, triangular solve and diagonal for the distributions, composed of recorded tensor ops.

# Note [composed cholesky]
tapegrad has no ``linalg`` yet (it is being added separately), so ``MultivariateNormal`` gets the two
pieces it needs here, composed of existing differentiable ops (slicing, matmul, sqrt, division, where,
stack): gradients come from the tape with no hand-written VJP. Each works column by column (row by row
for the solve), so it records O(n) ops per call for an n x n matrix, batched over leading dims: cheap for
the event sizes distributions use, not meant for large matrices. When ``tapegrad.linalg`` lands, these
can call its ``cholesky`` and ``solve_triangular`` instead.

Example:
    >>> import tapegrad as torch
    >>> cholesky(torch.tensor([[4.0, 2.0], [2.0, 2.0]]))
    tensor([[2., 0.],
            [1., 1.]])
"""
import tapegrad

__all__ = ["cholesky", "cholesky_info", "diagonal", "solve_lower"]


def diagonal(a):
    """The diagonal of the last two dims, ``a[..., i, i]``.

    Example:
        >>> import tapegrad as torch
        >>> diagonal(torch.eye(2) * 3)
        tensor([3., 3.])
    """
    idx = list(range(a.shape[-1]))
    return a[..., idx, idx]


def _factor(a):
    """Cholesky columns of ``a`` and, per batch entry, the order of the first non-positive leading minor (0: none)."""
    if a.dim() < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"cholesky: expected a batch of square matrices, got shape {tuple(a.shape)}")
    n = a.shape[-1]
    rows = tapegrad.arange(n, device=a.device)
    info = tapegrad.zeros(tuple(a.shape[:-2]), dtype=tapegrad.long, device=a.device)
    cols = []
    for j in range(n):
        s = a[..., :, j]
        if j:
            prev = tapegrad.stack(cols, -1)                              # (..., n, j)
            s = s - (prev @ prev[..., j, :].unsqueeze(-1)).squeeze(-1)
        pivot = s[..., j]
        bad = ~(pivot > 0)
        info = tapegrad.where(bad & (info == 0), tapegrad.full_like(info, j + 1), info)
        d = tapegrad.where(bad, tapegrad.ones_like(pivot), pivot).sqrt()  # keep going past a bad pivot
        col = tapegrad.where(rows > j, s / d.unsqueeze(-1), tapegrad.zeros_like(s))
        cols.append(tapegrad.where(rows == j, d.unsqueeze(-1), col))
    return tapegrad.stack(cols, -1), info


def cholesky(a):
    """The lower Cholesky factor ``L`` of symmetric positive-definite ``a`` (``a = L @ L.mT``), batched.

    Raises RuntimeError if a matrix is not positive-definite.

    Example:
        >>> import tapegrad as torch
        >>> cholesky(torch.eye(2) * 4)
        tensor([[2., 0.],
                [0., 2.]])
    """
    # PyTorch reads only the lower triangle but returns a symmetric gradient: use the lower triangle
    # mirrored in the forward and the symmetric part for the gradient.
    lower = a.tril() + a.tril(-1).mT
    sym = 0.5 * (a + a.mT)
    factor, info = _factor(sym + (lower - sym).detach())
    if bool((info > 0).any()):
        order = int(info[info > 0].min())
        raise RuntimeError("linalg.cholesky: The factorization could not be completed because the input is not "
                           f"positive-definite (the leading minor of order {order} is not positive-definite).")
    return factor


def cholesky_info(a):
    """Per matrix, 0 if ``a`` is positive-definite, else the order of its first non-positive leading minor.

    Example:
        >>> import tapegrad as torch
        >>> cholesky_info(torch.tensor([[1.0, 2.0], [2.0, 1.0]]))
        tensor(2)
    """
    with tapegrad.no_grad():
        return _factor(a)[1]


def solve_lower(l, b):
    """Solve ``l @ x = b`` for lower-triangular ``l`` (..., n, n) and ``b`` (..., n, k) by forward substitution.

    Example:
        >>> import tapegrad as torch
        >>> solve_lower(torch.tensor([[2.0, 0.0], [1.0, 1.0]]), torch.tensor([[2.0], [3.0]]))
        tensor([[1.],
                [2.]])
    """
    n = l.shape[-1]
    if l.dim() < 2 or l.shape[-2] != n or b.dim() < 2 or b.shape[-2] != n:
        raise ValueError(f"solve_lower: expected l of shape (..., n, n) and b of shape (..., n, k), got "
                         f"{tuple(l.shape)} and {tuple(b.shape)}")
    xs = []
    for i in range(n):
        r = b[..., i, :]
        if i:
            r = r - (l[..., i:i + 1, :i] @ tapegrad.stack(xs, -2)).squeeze(-2)
        xs.append(r / l[..., i, i].unsqueeze(-1))
    return tapegrad.stack(xs, -2)
