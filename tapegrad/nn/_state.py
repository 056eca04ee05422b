"""Array-level helpers behind Module: zeroing grads, copying state in, moving tensors in place.

They work on ``tensor._data`` through the tensor's backend and record nothing,
so a module's Parameters keep their identity (an optimizer built earlier
still sees them) while their values, dtype or device change.
"""
from .. import backend as B
from ..tape.capture import effect as _effect


@_effect        # Note [capture hook] in tape/capture.py
def _zero_grad(p, set_to_none):
    """Reset ``p.grad``, for ``Module.zero_grad`` and ``Optimizer.zero_grad`` alike (PyTorch's semantics).

    ``set_to_none`` drops the gradient. Otherwise the gradient tensor stays the
    same object: it is detached in place (no ``grad_fn``, ``requires_grad``
    False, as after ``backward(create_graph=True)`` in PyTorch), then zeroed
    and its version bumped, as ``zero_()`` does. A gradient recorded under
    create_graph, or one whose array is a view (a broadcast gradient), gets a
    fresh array of zeros: its memory may be a saved value of the graph that
    made it or shared with another gradient, so it is not written. Any other
    gradient is zeroed in place, so views of it see the zeros.
    """
    g = p._grad
    if g is None:
        return
    if set_to_none:
        p._grad = None
        return
    a = g._data
    be = B.BY_TYPE[type(a)]
    if g._grad_fn is not None or be.is_view(a):
        g._data = be.zeros(a.shape, a.dtype)
    else:
        be.setitem(a, Ellipsis, 0)
    g._grad_fn = None
    g._requires_grad = False
    g._version[0] += 1


def _copy_into(t, v):
    """``t.copy_(v)`` without recording: cast to t's dtype and device, write t's array in place."""
    dst_be = t._backend
    a = B.move(v._data, dst_be)
    if a.dtype != t._data.dtype:
        a = dst_be.astype(a, t._data.dtype)
    if a is t._data:
        return
    dst_be.setitem(t._data, Ellipsis, a)
    t._version[0] += 1


def _move_in_place(t, dst, dtype, floating_only=True):
    a = t._data
    be = B.BY_TYPE[type(a)]
    if dst is not None:
        a = B.move(a, dst)
        be = dst
    if dtype is not None and (a.dtype.kind in "fV" or not floating_only) and a.dtype != dtype.np:
        a = be.astype(a, dtype.np)
    if a is not t._data:
        t._data = a
