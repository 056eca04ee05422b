"""``Variable``: PyTorch's legacy wrapper, kept so old programs run (``torch.autograd.Variable``).

Since PyTorch 0.4 a Variable is a Tensor: ``Variable(t)`` returns a new leaf
tensor sharing ``t``'s storage (detached from its history), with
``requires_grad`` as given, and ``isinstance(x, Variable)`` holds for every
tensor. ``volatile`` is accepted with PyTorch's warning and has no effect.
"""
import warnings

from .._tensor import Tensor
from . import engine as _engine

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)


class _ExecutionEngine:
    """``Variable._execution_engine``: PyTorch's handle on the autograd engine, for ``queue_callback``."""

    @staticmethod
    def queue_callback(callback):
        """Queue ``callback()`` to run at the end of the current backward pass (see ``engine.queue_callback``).

        Example:
            >>> import tapegrad
            >>> from tapegrad.autograd import Variable
            >>> x = tapegrad.ones(2, requires_grad=True)
            >>> h = x.register_hook(lambda g: Variable._execution_engine.queue_callback(lambda: print("done")))
            >>> x.sum().backward()
            done
        """
        _engine.queue_callback(callback)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False, volatile=False)``: a new leaf tensor sharing ``data``'s storage.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd import Variable
        >>> v = Variable(tapegrad.ones(2), requires_grad=True)
        >>> v.requires_grad, v.is_leaf, isinstance(v, Variable)
        (True, True, True)
    """

    _execution_engine = _ExecutionEngine()

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with tapegrad.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            from .._creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out
