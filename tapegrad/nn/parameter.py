"""``nn.Parameter``: a leaf tensor that a Module registers as one of its parameters."""
from .._tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it to a Module attribute registers it.

    It shares storage (and the version counter) with ``data`` and requires grad
    by default.

    Args:
        data: the initial values (a Tensor); an empty float32 tensor when omitted.
        requires_grad: whether the parameter requires a gradient (default True).

    Example:
        >>> import tapegrad
        >>> p = tapegrad.nn.Parameter(tapegrad.zeros(2))
        >>> p.requires_grad, p.is_leaf
        (True, True)
    """
    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .._creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: data must be a Tensor, got {type(data).__name__}")
        p = Tensor._make(data._data, None, None, data._version)
        p.__class__ = cls
        p._requires_grad = False
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass                     # everything happens in __new__ (Tensor.__init__ would copy)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
