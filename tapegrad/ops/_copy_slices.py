"""In-place ops on views of tensors with history: PyTorch's CopySlices.

# Note [copy slices]
A view (``y[:, 0]``, ``narrow``, ``transpose``, ``view``/``reshape`` when it
does not copy, and views of views) remembers the tensor it was first made from
in ``_base`` (``registry.set_base``; a view of a view keeps the first base).
An in-place op on such a view changes the base's values, so it must change the
base's history too. We find where the view's elements sit in the base (the
*positions*: for each view element, its C-order index in the base, worked out
from the two arrays' addresses and strides, so every kind of view is covered
the same way; ``pos`` below is the advanced key made of them), and record, on
a snapshot of the base's old history,

    vals = base_old[pos]          (getitem with an advanced key: a copy)
    new  = op(vals, ...)          (the in-place op's out-of-place form)
    base_new = setitem(base_old, new, pos)     (one recorded op, Note in _setitem.py)

The base's ``grad_fn`` becomes ``base_new``'s node: its VJP passes the gradient
unchanged outside the view and through ``op``'s VJP inside it. The view's own
``grad_fn`` becomes ``base_new[pos]``, a view of the new history. Every step is
an ordinary recorded op, so double backward works. The memory write itself,
the version bump (one shared counter, so nodes that saved the old base or view
still raise at backward naming both ops) and every check happen as in
Note [in-place] (ops/inplace.py): nothing is changed when a check fails.
Index bookkeeping (positions) is host metadata math, built once per write.

Other live views of the base (``y[0]`` while ``y[:, 1]`` is written, or any
view when the base itself is written in place) would keep the old history;
PyTorch regenerates their ``grad_fn`` lazily, we do it at the write
(``refresh_views``), for the views ``set_base`` listed (weakly) on bases that
can get a history. As in PyTorch, the outputs of split/chunk/unbind (and views
of them) refuse in-place writes while recording, a view of a leaf that requires
grad refuses them, and so does a view made under no_grad of a base that
requires grad. A reshape that copied is not a view: its ``positions`` are None.
"""
import numpy as np

from . import registry as _reg

__all__ = []

_LEAF_VIEW = "a view of a leaf Variable that requires grad is being used in an in-place operation."
_NO_GRAD_VIEW = ("A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
                 "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your "
                 "code by moving both the view and the inplace either both inside the no_grad block (if you "
                 "don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).")


def _pointer(a):
    face = getattr(a, "__cuda_array_interface__", None) or a.__array_interface__
    return face["data"][0]


def _addresses(shape, strides, start):
    """Element offsets (in items) of an array with ``strides`` (in items) starting at ``start``."""
    out = np.full(shape, start, dtype=np.int64)
    for axis, (n, s) in enumerate(zip(shape, strides)):
        idx = [1] * len(shape)
        idx[axis] = n
        out = out + (np.arange(n, dtype=np.int64) * s).reshape(idx)
    return out


def _c_contiguous(shape, strides, isz):
    want = isz
    for n, st in zip(reversed(shape), reversed(strides)):
        if n != 1 and st != want:
            return False
        want *= n
    return True


def positions(base, view):
    """The flat (C-order) index in ``base`` of each element of ``view``, or None if ``view`` is not in it.

    Both are backend arrays of one dtype; ``view`` shares memory with ``base``.
    """
    isz = base.dtype.itemsize
    if view.dtype != base.dtype or view.size == 0 or base.size == 0:
        return None
    delta = _pointer(view) - _pointer(base)
    if delta % isz or any(s % isz for s in base.strides + view.strides):
        return None
    av = _addresses(view.shape, [s // isz for s in view.strides], delta // isz)
    if _c_contiguous(base.shape, base.strides, isz):      # the usual base: addresses are the positions
        if int(av.min()) < 0 or int(av.max()) >= base.size:
            return None
        return av
    ab = _addresses(base.shape, [s // isz for s in base.strides], 0).ravel()
    lo, hi = int(ab.min()), int(ab.max())
    if int(av.min()) < lo or int(av.max()) > hi:
        return None
    table = np.full(hi - lo + 1, -1, dtype=np.int64)
    table[ab - lo] = np.arange(ab.size, dtype=np.int64)
    pos = table[av - lo]
    if (pos < 0).any():
        return None
    return pos


def multi_output(views, fn):
    """Mark the recorded outputs of ``split``/``chunk``/``unbind`` (``fn``: torch's node name): PyTorch
    refuses in-place writes into them while recording. Returns ``views`` as a tuple."""
    for i, v in enumerate(views):
        if v._requires_grad:
            v._multi_view = (fn, i)
    return tuple(views)


def view_target(name, t):
    """``(base, flat positions)`` when an in-place op on ``t`` must rebase ``t``'s base, else None.

    Raises PyTorch's errors for a view of a leaf that requires grad and for a
    view made under no_grad of a base that requires grad.
    """
    base = t._base
    if base is None:
        return None
    pos = positions(base._data, t._data)
    if pos is None:                 # a reshape that copied: not a view after all
        return None
    multi = t._multi_view
    if multi is not None:
        raise RuntimeError(f"{name}: Output {multi[1]} of {multi[0]} is a view and is being modified "
                           "inplace. This view is the output of a function that returns multiple views. Such "
                           "functions do not allow the output views to be modified inplace. You should replace "
                           "the inplace operation by an out-of-place one.")
    if base._grad_fn is None and base._requires_grad:
        raise RuntimeError(f"{name}: {_LEAF_VIEW} (view of shape {tuple(t.shape)} of a leaf of shape "
                           f"{tuple(base.shape)}) Wrap the update in tapegrad.no_grad(), or operate on a clone.")
    if base._requires_grad and not t._requires_grad:
        raise RuntimeError(f"{name}: {_NO_GRAD_VIEW}")
    return base, pos


def _key(be, base_shape, pos):
    """An advanced key (one 1-d int array per dim of the base, or of its 1-element reshape when 0-d)
    selecting the flat positions ``pos`` in C order."""
    pos = pos.ravel()
    if not base_shape:
        return (be.from_numpy(np.zeros(pos.shape, dtype=np.int64)),)
    return tuple(be.from_numpy(np.ascontiguousarray(a)) for a in np.unravel_index(pos, base_shape))


def _flat(x):
    """``x`` itself, or its 1-element reshape when 0-d (so a 1-d key can index it)."""
    return _reg.apply(_ops()[2], x, shape=(1,)) if not x._data.shape else x


def _pick(src, key, shape):
    """``src[key]`` (recorded) in the view's ``shape``."""
    getitem_op, _, reshape_op = _ops()
    return _reg.apply(reshape_op, _reg.apply(getitem_op, _flat(src), key=key), shape=shape)


def rebase(base, pos, t, compute, shape_check):
    """Record ``base_new = setitem(base_old, compute(base_old[pos]), pos)`` (Note [copy slices]).

    ``compute(vals)`` returns the in-place op's result for the view's old values;
    ``shape_check(out)`` raises (before anything changed) or returns ``out``
    cast to the view's dtype. Returns that result; the caller writes it into the
    view's memory and bumps the version. On return ``base`` and ``t`` have their
    new histories.
    """
    Tensor = _reg.Tensor
    apply = _reg.apply
    _, setitem_op, reshape_op = _ops()
    be = base._backend
    old = Tensor._make(be.copy(base._data), base._grad_fn, be)
    old._output_nr = base._output_nr
    old._requires_grad = base._requires_grad
    lvl = _reg.FWD_HOOK[0]
    if lvl is not None and base._grad_fn is None:   # Note [forward views]: the snapshot keeps a leaf's tangent
        lvl.set(old, lvl.get(base))
    shape = tuple(base._data.shape)
    key = _key(be, shape, pos)
    view_shape = tuple(t._data.shape)
    out = shape_check(compute(_pick(old, key, view_shape)))
    new = apply(setitem_op, _flat(old), apply(reshape_op, out, shape=(int(pos.size),)), basic=None, adv=key)
    if not shape:
        new = apply(reshape_op, new, shape=())
    if new._grad_fn is not None:
        base._grad_fn = new._grad_fn
        base._output_nr = 0
        base._requires_grad = True
        _view_of(base, t, key)
        refresh_views(base, t)
    return out


def _ops():
    # By name: this file sits below the op families that declare them (it is imported by inplace.py).
    r = _reg.REGISTRY
    return r["getitem"], r["setitem"], r["reshape"]


def _view_of(base, t, key):
    """Give view ``t`` the history ``base[key]`` (``key`` from ``_key``)."""
    nv = _pick(base, key, tuple(t._data.shape))
    if nv._grad_fn is not None:
        t._grad_fn = nv._grad_fn
        t._output_nr = 0
        t._requires_grad = True


def refresh_views(base, skip=None):
    """After ``base`` got a new history in place, make its other live views views of it (Note [copy slices]).

    PyTorch regenerates a view's ``grad_fn`` lazily when its base changed; we do it
    at the write, for the views ``registry.set_base`` listed on the base.
    """
    views = base._views
    if not views or base._grad_fn is None:
        return
    for r in list(views):
        v = r()
        if v is None or v is skip or v._base is not base:
            continue
        pos = positions(base._data, v._data)
        if pos is not None:
            _view_of(base, v, _key(base._backend, tuple(base._data.shape), pos))
