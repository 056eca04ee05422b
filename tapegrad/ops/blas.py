"""BLAS-style combinations composed of ``matmul``: ``mv addmm addmv addbmm baddbmm`` (PyTorch's ``beta``/``alpha``).

With ``beta=0`` the ``input`` term is left out entirely, so nan or inf in
``input`` does not propagate (PyTorch's rule). Gradients come from the
recorded matmul, mul and add ops.
"""
from . import linalg as L
from . import reduction as R

__all__ = ["mv", "addmm", "addmv", "addbmm", "baddbmm"]


def _check(name, t, ndim, what):
    if t.dim() != ndim:
        raise RuntimeError(f"{name}: {what} must be a {ndim}-D tensor, got shape {list(t.shape)}")


def _combine(input, product, beta, alpha):
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        return out
    return out + (input if beta == 1 else input * beta)


def mv(input, vec):
    """Matrix-vector product ``input @ vec`` (``input`` 2-D, ``vec`` 1-D).

    Example:
        >>> import tapegrad
        >>> tapegrad.mv(tapegrad.eye(2) * 2, tapegrad.tensor([1.0, 3.0]))
        tensor([2., 6.])
    """
    _check("mv", input, 2, "input")
    _check("mv", vec, 1, "vec")
    return L.matmul(input, vec)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1``, ``mat2``.

    Example:
        >>> import tapegrad
        >>> tapegrad.addmm(tapegrad.ones(2, 2), tapegrad.eye(2), tapegrad.eye(2), beta=0.5, alpha=2)
        tensor([[2.5000, 0.5000],
                [0.5000, 2.5000]])
    """
    _check("addmm", mat1, 2, "mat1")
    _check("addmm", mat2, 2, "mat2")
    return _combine(input, L.matmul(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``.

    Example:
        >>> import tapegrad
        >>> tapegrad.addmv(tapegrad.ones(2), tapegrad.eye(2), tapegrad.tensor([1.0, 2.0]))
        tensor([2., 3.])
    """
    _check("addmv", mat, 2, "mat")
    _check("addmv", vec, 1, "vec")
    return _combine(input, L.matmul(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)`` for 3-D batches.

    Example:
        >>> import tapegrad
        >>> tapegrad.baddbmm(tapegrad.zeros(1, 2, 2), tapegrad.ones(1, 2, 3), tapegrad.ones(1, 3, 2))
        tensor([[[3., 3.],
                 [3., 3.]]])
    """
    _check("baddbmm", batch1, 3, "batch1")
    _check("baddbmm", batch2, 3, "batch2")
    return _combine(input, L.matmul(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]`` (the batch reduced by a sum).

    Example:
        >>> import tapegrad
        >>> tapegrad.addbmm(tapegrad.zeros(2, 2), tapegrad.ones(3, 2, 1), tapegrad.ones(3, 1, 2))
        tensor([[3., 3.],
                [3., 3.]])
    """
    _check("addbmm", batch1, 3, "batch1")
    _check("addbmm", batch2, 3, "batch2")
    return _combine(input, R.sum(L.matmul(batch1, batch2), 0), beta, alpha)


METHODS = {n: globals()[n] for n in __all__}
