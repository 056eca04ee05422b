"""More of ``torch``'s math, composed of recorded ops (so every order of derivative comes free):
``absolute positive deg2rad rad2deg ldexp dist addr vdot chain_matmul cov corrcoef argwhere isin put``
(``torch.put``) and the real-only forms of the complex helpers (``conj resolve_conj resolve_neg real
is_conj is_neg``: tapegrad has no complex dtypes, so each returns its input or ``False``, as PyTorch does
for real tensors), plus ``detach`` and ``fill``.
"""
import math

from .. import _dtype as D
from .._tensor import Tensor
from . import comparison as C
from . import elementwise as E
from . import reduction as R
from . import unary as U

__all__ = ["absolute", "positive", "deg2rad", "rad2deg", "ldexp", "dist", "addr", "vdot", "chain_matmul", "cov",
           "corrcoef", "argwhere", "isin", "conj", "resolve_conj", "resolve_neg", "real", "is_conj", "is_neg",
           "detach", "fill", "put"]


def absolute(input):
    """The absolute value of each element (``abs`` under NumPy's name).

    Example:
        >>> import tapegrad
        >>> tapegrad.absolute(tapegrad.tensor([-1.5, 2.0]))
        tensor([1.5000, 2.0000])
    """
    return U.abs(input)


def positive(input):
    """The tensor itself (``+input``); bool tensors raise a RuntimeError, as in PyTorch.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([-1.0])
        >>> tapegrad.positive(x) is x
        True
    """
    if input.dtype == D.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported. If you are trying to invert a "
                           "mask, use the `~` or `logical_not()` operator instead.")
    return input


def deg2rad(input):
    """Degrees to radians.

    Example:
        >>> import tapegrad
        >>> tapegrad.deg2rad(tapegrad.tensor([180.0]))
        tensor([3.1416])
    """
    return _float(input) * (math.pi / 180)


def rad2deg(input):
    """Radians to degrees.

    Example:
        >>> import tapegrad
        >>> tapegrad.rad2deg(tapegrad.tensor([3.141592653589793]))
        tensor([180.])
    """
    return _float(input) * (180 / math.pi)


def _float(x):
    return x if x.dtype.is_floating_point else x * 1.0


def ldexp(input, other):
    """``input * 2 ** other``.

    Example:
        >>> import tapegrad
        >>> tapegrad.ldexp(tapegrad.tensor([1.0, 3.0]), tapegrad.tensor([2, -1]))
        tensor([4.0000, 1.5000])
    """
    return _float(input) * E.pow(2.0, other)


def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (broadcast), as a 0-d tensor.

    Example:
        >>> import tapegrad
        >>> tapegrad.dist(tapegrad.tensor([0.0, 0.0]), tapegrad.tensor([3.0, 4.0]))
        tensor(5.)
    """
    from .linalg_extra import vector_norm
    return vector_norm(input - other, p)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)`` (``input`` ignored, nan included, when ``beta`` is 0).

    Example:
        >>> import tapegrad
        >>> tapegrad.addr(tapegrad.zeros(2, 2), tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([1.0, 3.0]))
        tensor([[1., 3.],
                [2., 6.]])
    """
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr: expected 1-D vectors, got vec1 of shape {tuple(vec1.shape)} and vec2 of shape "
                           f"{tuple(vec2.shape)}")
    prod = vec1.unsqueeze(1) * vec2.unsqueeze(0)
    prod = prod if alpha == 1 else prod * alpha
    if beta == 0:               # PyTorch ignores input then (its nan and inf do not propagate)
        return prod
    return prod + (input if beta == 1 else input * beta)


def vdot(input, other):
    """The dot product of two 1-D tensors (no conjugation is needed: tapegrad is real).

    Example:
        >>> import tapegrad
        >>> tapegrad.vdot(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([3.0, 4.0]))
        tensor(11.)
    """
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return R.sum(input * other)


def chain_matmul(*matrices):
    """The product of the given matrices, left to right (deprecated in PyTorch for ``linalg.multi_dot``).

    Example:
        >>> import tapegrad
        >>> tapegrad.chain_matmul(tapegrad.eye(2), tapegrad.ones(2, 3), tapegrad.ones(3, 1)).tolist()
        [[3.0], [3.0]]
    """
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    out = matrices[0]
    for m in matrices[1:]:
        out = out @ m
    return out


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in the columns).

    Args:
        input: ``(V, N)`` or ``(N,)``.
        correction: subtracted from the (weighted) number of observations: 1 is Bessel's correction.
        fweights, aweights: integer frequency and real observation weights, ``(N,)`` each.

    Example:
        >>> import tapegrad
        >>> tapegrad.cov(tapegrad.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
    """
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    x = _float(input)
    x = x.reshape(1, -1) if x.ndim < 2 else x
    w = None
    for wt in (fweights, aweights):
        if wt is not None:
            w = wt * 1.0 if w is None else w * wt
    if w is None:
        n = x.shape[1]
        avg = R.mean(x, 1, keepdim=True)
        norm = n - correction
    else:
        wsum = R.sum(w)
        avg = R.sum(x * w, 1, keepdim=True) / wsum
        if correction == 0:
            norm = wsum
        elif aweights is None:
            norm = wsum - correction
        else:
            norm = wsum - correction * R.sum(w * aweights) / wsum
    xc = x - avg
    xw = xc if w is None else xc * w
    norm = E.clamp(norm, 0) if isinstance(norm, Tensor) else max(norm, 0)     # as PyTorch: 0, then inf/nan
    out = (xw @ xc.transpose(0, 1)) / norm
    return out.reshape(()) if x.shape[0] == 1 else out


def corrcoef(input):
    """Pearson's correlation coefficients of the variables in the rows of ``input``, clipped to [-1, 1].

    Example:
        >>> import tapegrad
        >>> tapegrad.corrcoef(tapegrad.tensor([[0.0, 1.0, 2.0], [4.0, 2.0, 0.0]]))
        tensor([[ 1., -1.],
                [-1.,  1.]])
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = U.sqrt(c.diagonal())
    return E.clamp(c / d.unsqueeze(1) / d.unsqueeze(0), -1, 1)


def argwhere(input):
    """The indices of the nonzero elements, one row each: ``(nnz, input.ndim)`` int64.

    Example:
        >>> import tapegrad
        >>> tapegrad.argwhere(tapegrad.tensor([[1, 0], [0, 3]]))
        tensor([[0, 0],
                [1, 1]])
    """
    from .indexing import nonzero
    return nonzero(input)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` is among ``test_elements`` (``~`` of that with ``invert``).

    Example:
        >>> import tapegrad
        >>> tapegrad.isin(tapegrad.tensor([1, 2, 3]), tapegrad.tensor([2, 5]))
        tensor([False,  True, False])
    """
    el = elements if isinstance(elements, Tensor) else Tensor._coerce(elements)
    te = test_elements if isinstance(test_elements, Tensor) else Tensor._coerce(test_elements)
    if te.numel() == 0:
        hit = C.ne(el, el) if not invert else C.eq(el, el) | C.ne(el, el)
        return hit
    hit = R.any(C.eq(el.unsqueeze(-1), te.reshape(-1)), -1)
    return C.logical_not(hit) if invert else hit


def conj(input):
    """The complex conjugate: the tensor itself, as tapegrad's dtypes are all real.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> tapegrad.conj(x) is x
        True
    """
    return input


def resolve_conj(input):
    """The tensor with any lazy conjugation applied: the tensor itself (no complex dtypes).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> tapegrad.resolve_conj(x) is x
        True
    """
    return input


def resolve_neg(input):
    """The tensor with any lazy negation applied: the tensor itself (tapegrad never negates lazily).

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> tapegrad.resolve_neg(x) is x
        True
    """
    return input


def real(input):
    """The real part: the tensor itself, as in PyTorch for real tensors.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.ones(2)
        >>> tapegrad.real(x) is x
        True
    """
    return input


def is_conj(input):
    """``False``: no tapegrad tensor carries a lazy conjugation.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_conj(tapegrad.ones(1))
        False
    """
    return False


def is_neg(input):
    """``False``: no tapegrad tensor carries a lazy negation.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_neg(tapegrad.ones(1))
        False
    """
    return False


def detach(input):
    """``input.detach()``: the same data with no history.

    Example:
        >>> import tapegrad
        >>> tapegrad.detach(tapegrad.ones(1, requires_grad=True)).requires_grad
        False
    """
    return input.detach()


def fill(input, value):
    """A new tensor of ``input``'s shape, dtype and device filled with ``value`` (out of place ``fill_``).

    Example:
        >>> import tapegrad
        >>> tapegrad.fill(tapegrad.zeros(2), 3.0)
        tensor([3., 3.])
    """
    return input * 0 + value if input.dtype.is_floating_point else E.where(C.eq(input, input), value, input).to(
        input.dtype)


def put(input, index, source, accumulate=False):
    """``put_`` out of place: a copy of ``input`` with ``source`` written at the flat ``index`` positions.

    Example:
        >>> import tapegrad
        >>> tapegrad.put(tapegrad.zeros(2, 2), tapegrad.tensor([0, 3]), tapegrad.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
    """
    return input.clone().put_(index, source, accumulate)


METHODS = {"absolute": absolute, "positive": positive, "deg2rad": deg2rad, "rad2deg": rad2deg, "ldexp": ldexp,
           "dist": dist, "addr": addr, "vdot": vdot, "cov": cov, "corrcoef": corrcoef, "argwhere": argwhere,
           "conj": conj, "resolve_conj": resolve_conj, "resolve_neg": resolve_neg, "is_conj": is_conj,
           "is_neg": is_neg}
