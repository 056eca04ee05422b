"""PyTorch's rules for ``t[key]`` and ``t[key] = v``, turned into NumPy keys the backends run.

# Note [torch indexing]
PyTorch applies ints (and 0-d integer tensors), slices, None and bool scalars
as *basic* indexing first (select, slice, unsqueeze), and only then indexes
the dims that are left with the index tensors, by NumPy's rule for advanced
indices (adjacent ones keep their place, separated ones go first). NumPy
instead counts an int as an advanced index once an array is present:
``x[0, :, [0, 1]]`` is (2, 3) in NumPy and (3, 2) in PyTorch. So a key is
split in two NumPy keys: ``basic`` (ints, slices, None; ``:`` where an index
tensor stands), run as a view, then ``adv`` over the view's dims (``:`` for
every dim a basic entry left, the index arrays in place, and ``[0]`` or
``[]`` on the new dim of a bool scalar), which holds no ints, so NumPy's rule
on it is PyTorch's. Keys without ints, None or bool scalars stay one key.
Negative slice steps raise ``ValueError`` and out-of-range indices
``IndexError``, with PyTorch's messages.
"""
import warnings

import numpy as np

from .. import backend as B

_FULL = slice(None)


def _tensor_cls():
    from .._tensor import Tensor
    return Tensor


def is_plain(key):
    """True for keys PyTorch and NumPy read alike as basic indexing (the fast path)."""
    t = type(key)
    if t is int:
        return True
    if t is slice:
        return _plain_slice(key)
    if t is not tuple:
        return False
    for k in key:
        t = type(k)
        if not (t is int or k is None or k is Ellipsis or (t is slice and _plain_slice(k))):
            return False
    return True


def _plain_slice(s):
    a, b, c = s.start, s.stop, s.step
    return ((a is None or type(a) is int) and (b is None or type(b) is int)
            and (c is None or (type(c) is int and c > 0)))


def _as_int(v):
    try:
        return v.__index__()
    except (AttributeError, TypeError):
        raise TypeError(f"slice indices must be integers or None or have an __index__ method, got {v!r}") from None


def _norm_slice(s):
    start = None if s.start is None else _as_int(s.start)
    stop = None if s.stop is None else _as_int(s.stop)
    step = None if s.step is None else _as_int(s.step)
    if step is not None and step <= 0:
        raise ValueError("slice step cannot be zero" if step == 0 else "step must be greater than zero")
    return slice(start, stop, step)


def _as_tuple(key):
    """PyTorch's (NumPy's old) rule: a short list holding a sequence, slice, None or ... is a tuple."""
    if type(key) is tuple:
        return key
    if type(key) is list and len(key) < 32:
        Tensor = _tensor_cls()
        for k in key:
            if k is None or k is Ellipsis or isinstance(k, (Tensor, list, tuple, range, np.ndarray, slice)):
                warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; use "
                              "x[tuple(seq)] instead of x[seq]", UserWarning, stacklevel=4)
                return tuple(key)
    return (key,)


def _bad_type(k):
    t = type(k)
    name = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"
    return IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                      f"valid indices (got {name})")


def _array(be, k, x):
    """An index tensor/array/sequence as ("int", i) for 0-d integers, ("bool", b), ("adv", a) or ("mask", a)."""
    Tensor = _tensor_cls()
    if isinstance(k, Tensor):
        a = k._data
        kb = B.BY_TYPE[type(a)]
        if kb is not be:
            if kb.device_type != "cpu":     # as in PyTorch: CPU indices are copied to the tensor's device
                raise RuntimeError(f"indexing: the index is on {k.device} but the tensor is on {x.device}; "
                                   "indices must be on the cpu or on the tensor's device")
            a = be.from_numpy(a)
    else:
        try:
            h = np.asarray(k)
        except ValueError:
            raise IndexError(f"indexing: the sequence {k!r} is ragged; index sequences must be rectangular") from None
        if h.size == 0 and h.dtype.kind == "f":
            h = h.astype(np.int64)          # [] indexes nothing, as in PyTorch
        a = be.from_numpy(h)
    dt = a.dtype
    if dt.kind == "b" or dt == np.uint8:
        if a.ndim == 0:
            return "bool", bool(be.to_numpy(a))
        return "mask", a if dt.kind == "b" else be.astype(a, np.bool_)
    if dt != np.int64 and dt != np.int32:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if a.ndim == 0:
        return "int", int(be.to_numpy(a))   # a 0-d integer index selects (a view), as in PyTorch
    return "adv", be.astype(a, np.int64)


def _item(be, k, x):
    if k is None:
        return "none", None
    if k is Ellipsis:
        return "ellipsis", None
    t = type(k)
    if t is slice:
        return "slice", _norm_slice(k)
    if t is bool:
        return "bool", k
    if t is int or isinstance(k, np.integer):
        return "int", int(k)
    if isinstance(k, (np.bool_, float, np.floating, complex, str)):
        raise _bad_type(k)
    if isinstance(k, (_tensor_cls(), np.ndarray, list, tuple, range)):
        return _array(be, k, x)
    raise _bad_type(k)


def first_out_of_range(be, a, low, high):
    """The first entry (C order) of the integer array ``a`` outside ``[low, high)``, or None (host reads)."""
    if a.size == 0:
        return None
    if int(be.to_numpy(be.min(a))) >= low and int(be.to_numpy(be.max(a))) < high:
        return None
    flat = be.reshape(a, (-1,))
    bad = be.logical_or(be.less(flat, low), be.greater_equal(flat, high))
    first = int(be.to_numpy(be.getitem(be.nonzero(bad)[0], (0,))))
    return int(be.to_numpy(be.getitem(flat, (first,))))


def _shape_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def parse(x, key):
    """``(basic, adv)``: the NumPy keys for the view stage and the advanced stage (either may be None).

    Raises PyTorch's errors: IndexError for out-of-range indices (naming the
    index, the dimension and its size), masks of the wrong shape, too many
    indices and index tensors of other dtypes; ValueError for slice steps <= 0.
    """
    be = B.BY_TYPE[type(x._data)]
    shape = x._data.shape
    ndim = len(shape)
    items = [_item(be, k, x) for k in _as_tuple(key)]
    specified = 0
    n_ellipsis = 0
    for kind, v in items:
        if kind in ("int", "slice", "adv"):
            specified += 1
        elif kind == "mask":
            specified += v.ndim
        elif kind == "ellipsis":
            n_ellipsis += 1
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, adv = [], []
    d = rd = nadv = 0                  # dim of x, PyTorch's reported dim, advanced dims so far
    two_stage = has_adv = False
    adv_shapes = []
    for kind, v in items:
        if kind == "int":
            n = shape[d]
            if not -n <= v < n:
                raise IndexError(f"index {v} is out of bounds for dimension {rd} with size {n}")
            basic.append(v)
            two_stage = True
            d += 1
        elif kind == "slice":
            basic.append(v)
            adv.append(_FULL)
            d += 1
        elif kind == "none":
            basic.append(None)
            adv.append(_FULL)
            two_stage = True
        elif kind == "bool":
            basic.append(None)
            a = be.zeros((1 if v else 0,), np.int64)
            adv.append(a)
            adv_shapes.append(a.shape)
            two_stage = has_adv = True
            nadv += 1
        elif kind == "ellipsis":
            fill = ndim - specified
            basic.extend([_FULL] * fill)
            adv.extend([_FULL] * fill)
            d += fill
            rd += fill
            continue
        elif kind == "adv":
            n = shape[d]
            bad = first_out_of_range(be, v, -n, n)
            if bad is not None:
                raise IndexError(f"index {bad} is out of bounds for dimension {nadv} with size {n}")
            basic.append(_FULL)
            adv.append(v)
            adv_shapes.append(v.shape)
            has_adv = True
            nadv += 1
            d += 1
        else:  # mask over v.ndim dims
            k = v.ndim
            for j in range(k):
                if v.shape[j] != shape[d + j]:
                    raise IndexError(f"The shape of the mask {_shape_str(v.shape)} at index {j} does not match "
                                     f"the shape of the indexed tensor {_shape_str(shape)} at index {d + j}")
            basic.extend([_FULL] * k)
            adv.append(v)
            has_adv = True
            nadv += k
            d += k
            rd += k - 1
        rd += 1
    if not has_adv:
        return tuple(basic), None
    try:
        np.broadcast_shapes(*adv_shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(_shape_str(s) for s in adv_shapes)) from None
    if not two_stage:                  # no ints, None or bool scalars: one NumPy key is PyTorch's
        return None, tuple(Ellipsis if kind == "ellipsis" else v for kind, v in items)
    if all(k is _FULL for k in basic):
        return None, tuple(adv)
    return tuple(basic), tuple(adv)


def explain_basic(x, key, err):
    """PyTorch's error for a plain key the backend refused (re-parses it), else ``err`` itself."""
    try:
        parse(x, key)
    except (IndexError, ValueError) as e:
        return e
    return err
