"""Private leaves of a differentiation level and cutting results loose from them.

Shared by ``autograd.forward_ad`` and ``tapegrad.func`` (Note [transform levels]
in tapegrad/func/_level.py): a level makes fresh leaves of its own, and a result
whose graph reaches no other leaf is detached before it leaves the level.
"""
from ..tape.node import Node

__all__ = ["reaches_outside", "strip"]


def reaches_outside(t, private):
    """Whether ``t``'s graph reaches a leaf whose ``id`` is not in ``private``.

    Example:
        >>> import tapegrad
        >>> a = tapegrad.ones(2, requires_grad=True)
        >>> reaches_outside(a * 2, {id(a)}), reaches_outside(a * 2, set())
        (False, True)
    """
    root = t._grad_fn
    if root is None:
        return t._requires_grad and id(t) not in private
    seen = {id(root)}
    stack = [root]
    while stack:                    # explicit stack: graphs can be deep
        n = stack.pop()
        for e in n.next:
            if e is None:
                continue
            src = e[0]
            if src.__class__ is Node:
                if id(src) not in seen:
                    seen.add(id(src))
                    stack.append(src)
            elif id(src) not in private:
                return True
    return False


def strip(t, private):
    """``t``, detached when it requires grad only through the leaves in ``private``.

    Example:
        >>> import tapegrad
        >>> a = tapegrad.ones(2, requires_grad=True)
        >>> strip(a * 2, {id(a)}).requires_grad
        False
    """
    from .._tensor import Tensor
    if isinstance(t, Tensor) and t._requires_grad and not reaches_outside(t, private):
        return t.detach()
    return t
