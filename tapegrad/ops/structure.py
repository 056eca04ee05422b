"""Structure of matrices: ``tril``, ``triu`` (and their in-place forms), composed of ``where``.

Both keep the elements on one side of a diagonal of the last two dims (any
batch dims in front) and zero the rest; the gradient is the same mask applied
to the incoming gradient, which ``where``'s VJP gives at every order.
"""
from .. import _creation
from .. import _dtype as D
from . import elementwise as E
from .inplace import _inplace

__all__ = ["tril", "triu"]


def _keep(name, input, diagonal, lower):
    """The bool mask (rows, cols) of the elements ``tril``/``triu`` keep, on ``input``'s device."""
    if input.dim() < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got shape {list(input.shape)}")
    if not isinstance(diagonal, int) or isinstance(diagonal, bool):
        raise TypeError(f"{name}(): argument 'diagonal' must be int, not {type(diagonal).__name__}")
    rows, cols = input.shape[-2:]
    r = _creation.arange(rows, device=input.device).unsqueeze(1)
    c = _creation.arange(cols, device=input.device)
    return (c - r <= diagonal) if lower else (c - r >= diagonal)


def _zero(input):
    """A zero that keeps ``input``'s dtype under promotion (False for bool)."""
    return False if input.dtype == D.bool else 0


def tril(input, diagonal=0):
    """The lower triangle of the last two dims: elements with ``col - row <= diagonal``; the rest 0.

    Example:
        >>> import tapegrad
        >>> tapegrad.tril(tapegrad.ones(3, 3))
        tensor([[1., 0., 0.],
                [1., 1., 0.],
                [1., 1., 1.]])
        >>> tapegrad.ones(2, 3).tril(diagonal=-1)
        tensor([[0., 0., 0.],
                [1., 0., 0.]])
    """
    return E.where(_keep("tril", input, diagonal, True), input, _zero(input))


def triu(input, diagonal=0):
    """The upper triangle of the last two dims: elements with ``col - row >= diagonal``; the rest 0.

    Example:
        >>> import tapegrad
        >>> tapegrad.triu(tapegrad.ones(3, 3), diagonal=1)
        tensor([[0., 1., 1.],
                [0., 0., 1.],
                [0., 0., 0.]])
    """
    return E.where(_keep("triu", input, diagonal, False), input, _zero(input))


def tril_(self, diagonal=0):
    """In-place ``tril``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2, 2).tril_()
        tensor([[1., 0.],
                [1., 1.]])
    """
    mask = _keep("tril_", self, diagonal, True)
    return _inplace("tril_", self, lambda s: E.where(mask, s, _zero(s)), False)


def triu_(self, diagonal=0):
    """In-place ``triu``; returns self.

    Example:
        >>> import tapegrad
        >>> tapegrad.ones(2, 2).triu_()
        tensor([[1., 1.],
                [0., 1.]])
    """
    mask = _keep("triu_", self, diagonal, False)
    return _inplace("triu_", self, lambda s: E.where(mask, s, _zero(s)), False)


METHODS = {"tril": tril, "triu": triu, "tril_": tril_, "triu_": triu_}
