"""Array-level helpers behind Module: zeroing grads, copying state in, moving tensors in place.

They work on ``tensor._data`` through the tensor's backend and record nothing,
so a module's Parameters keep their identity (an optimizer built earlier
still sees them) while their values, dtype or device change.
"""
from .. import backend as B


def _zero_grad(p, set_to_none):
    g = p._grad
    if g is None:
        return
    if set_to_none:
        p._grad = None
    else:
        be = B.BY_TYPE[type(g._data)]
        g._data = be.zeros(g._data.shape, g._data.dtype) if g._grad_fn is not None else _fill0(be, g._data)
        g._grad_fn = None


def _fill0(be, a):
    be.setitem(a, Ellipsis, 0)
    return a


def _copy_into(t, v):
    """``t.copy_(v)`` without recording: cast to t's dtype and device, write t's array in place."""
    src_be = B.BY_TYPE[type(v._data)]
    dst_be = B.BY_TYPE[type(t._data)]
    a = v._data
    if src_be is not dst_be:
        a = dst_be.from_numpy(src_be.to_numpy(a))
    if a.dtype != t._data.dtype:
        a = dst_be.astype(a, t._data.dtype)
    if a is t._data:
        return
    dst_be.setitem(t._data, Ellipsis, a)
    t._version[0] += 1


def _move_in_place(t, dst, dtype):
    a = t._data
    be = B.BY_TYPE[type(a)]
    if dst is not None and dst is not be:
        a = dst.from_numpy(be.to_numpy(a))
        be = dst
    if dtype is not None and a.dtype.kind == "f" and a.dtype != dtype.np:
        a = be.astype(a, dtype.np)
    if a is not t._data:
        t._data = a
