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
import math
import warnings

import numpy as np

from .. import backend as B
from ..tape.capture import ACTIVE as _CAPTURE, host_read as _host_read

_FULL = slice(None)


_TENSOR = []


def _tensor_cls():
    if not _TENSOR:
        from .._tensor import Tensor
        _TENSOR.append(Tensor)
    return _TENSOR[0]


def is_plain(key):
    """True for keys PyTorch and NumPy read alike as basic indexing (the fast path)."""
    t = type(key)
    if t is int:
        return True
    if t is slice:
        return _plain_slice(key)
    if t is not tuple:
        return False
    ellipses = 0
    for k in key:
        t = type(k)
        if k is Ellipsis:
            ellipses += 1
        elif not (t is int or k is None or (t is slice and _plain_slice(k))):
            return False
    return ellipses < 2


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
        if _CAPTURE[0] is not None and (a.ndim == 0 or a.dtype.kind == "b" or a.dtype == np.uint8):
            # Note [capture hook]: a 0-d index is read on the host and a mask's count sets the result's
            # shape: data-dependent Python, which ends a trace
            _host_read(k, "indexing with a 0-d tensor" if a.ndim == 0 else "indexing with a bool mask")
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


def check_index_range(name, index, size, dim, exc=RuntimeError, negative=False):
    """Raise ``exc`` naming the op, the first entry of ``index`` outside ``[0, size)`` (``[-size, size)``
    when ``negative``), the dimension and its size, as PyTorch does.

    Example:
        >>> import tapegrad
        >>> from tapegrad.ops.indexing import check_index_range
        >>> check_index_range("gather", tapegrad.tensor([0, 3]), 3, 0)
        Traceback (most recent call last):
        ...
        RuntimeError: gather(): index 3 is out of bounds for dimension 0 with size 3
    """
    be = index._backend
    bad = first_out_of_range(be, index._data, -size if negative else 0, size)
    if bad is not None:
        tail = " (index out of range in self)" if exc is IndexError else ""
        raise exc(f"{name}(): index {bad} is out of bounds for dimension {dim} with size {size}{tail}")


def _shape_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def parse(x, key):
    """``(basic, adv)``: the NumPy keys for the view stage and the advanced stage (either may be None).

    Raises PyTorch's errors: IndexError for out-of-range indices (naming the
    index, the dimension and its size), masks of the wrong shape, too many
    indices and index tensors of other dtypes; ValueError for slice steps <= 0.
    """
    be = x._backend
    shape = x._data.shape
    ndim = len(shape)
    if ndim == 0 and type(key) in (int, slice):    # PyTorch's messages for a lone int or slice
        if type(key) is slice:
            step = _norm_slice(key).step
            if step is not None and step <= 0:      # PyTorch checks the step first
                raise ValueError("slice step cannot be zero" if step == 0 else "step must be greater than zero")
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                         "in C++ to convert a 0-dim tensor to a number" if key == 0 else
                         f"index {key} is out of bounds for dimension 0 with size 0")
    keys = _as_tuple(key)
    if keys[0] is key and (type(key) is list or isinstance(key, (np.ndarray, _tensor_cls()))):
        kind, v = _item(be, key, x)
        if kind == "adv" and ndim and v.size:  # the common lone index tensor (embedding lookups): one key
            n = shape[0]
            bad = first_out_of_range(be, v, -n, n) if n and math.prod(shape[1:]) else None
            if bad is not None:
                raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {n}")
            if n and math.prod(shape[1:]):
                return None, (v,)
    items = [_item(be, k, x) for k in keys]
    specified = 0
    n_ellipsis = 0
    for kind, v in items:
        if kind in ("int", "slice", "adv"):
            specified += 1
        elif kind == "mask":
            specified += v.ndim
        elif kind == "ellipsis":
            n_ellipsis += 1
    if n_ellipsis > 1:                 # PyTorch: each "..." skips the unspecified dims again
        at = [i for i, (kind, _) in enumerate(items) if kind == "ellipsis"]
        if ndim - specified and any(kind != "ellipsis" for kind, _ in items[at[1]:]):
            raise IndexError("an index can only have a single ellipsis ('...') when indices follow the "
                             "second one")
        items = [it for i, it in enumerate(items) if i not in at[1:]]     # the later ones skip nothing
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, adv = [], []
    rshape = []                        # the shape after the basic stage, as built so far
    d = nadv = 0                       # the dim of x, the advanced dims so far
    two_stage = False
    masks, arrays, entries, covered = [], [], [], []
    for pos, (kind, v) in enumerate(items):
        if kind == "int":
            n = shape[d]
            if not -n <= v < n:        # PyTorch names the entry's position in the key as the dimension
                raise IndexError(f"index {v} is out of bounds for dimension {pos} with size {n}")
            basic.append(v)
            two_stage = True
            d += 1
        elif kind == "slice":
            if v.step is not None and v.step <= 0:
                raise ValueError("slice step cannot be zero" if v.step == 0 else "step must be greater than zero")
            basic.append(v)
            adv.append(_FULL)
            rshape.append(len(range(*v.indices(shape[d]))))
            d += 1
        elif kind == "none":
            basic.append(None)
            adv.append(_FULL)
            rshape.append(1)
            two_stage = True
        elif kind == "bool":
            basic.append(None)
            a = be.zeros((1 if v else 0,), np.int64)
            adv.append(a)
            entries.append(a.shape)
            covered.append(len(rshape))
            rshape.append(1)
            two_stage = True
            nadv += 1
        elif kind == "ellipsis":
            fill = ndim - specified
            basic.extend([_FULL] * fill)
            adv.extend([_FULL] * fill)
            rshape.extend(shape[d:d + fill])
            d += fill
        elif kind == "adv":
            arrays.append((v, shape[d], nadv))
            basic.append(_FULL)
            adv.append(v)
            entries.append(v.shape)
            covered.append(len(rshape))
            rshape.append(shape[d])
            nadv += 1
            d += 1
        else:  # mask over v.ndim dims
            k = v.ndim
            masks.append((v, len(rshape)))
            basic.extend([_FULL] * k)
            adv.append(v)
            entries.append(v)          # its nonzero() count, read only when it meets other indices
            covered.extend(range(len(rshape), len(rshape) + k))
            rshape.extend(shape[d:d + k])
            nadv += k
            d += k
    if not entries:
        return tuple(basic), None
    # PyTorch's order: the basic stage's errors (above), then masks, broadcasting, bounds.
    rshape.extend(shape[d:])
    for v, at in masks:
        for j in range(v.ndim):
            if v.shape[j] != rshape[at + j]:
                raise IndexError(f"The shape of the mask {_shape_str(v.shape)} at index {j} does not match "
                                 f"the shape of the indexed tensor {_shape_str(rshape)} at index {at + j}")
    count = _check_broadcast(be, entries) if len(entries) > 1 else math.prod(entries[0]) if arrays else 0
    # PyTorch refuses indices into a size-0 dim unless they broadcast to nothing; it checks the other
    # bounds as it gathers, so not at all when the result is empty.
    if count and any(rshape[i] == 0 for i in covered):
        raise IndexError("index is out of bounds for dimension with size 0")
    count *= math.prod(s for i, s in enumerate(rshape) if i not in covered)
    if count:
        _check_array_bounds(be, arrays)
    if not count and arrays:           # an empty result: any index values do (NumPy would check them)
        zero = {id(v): be.zeros(v.shape, np.int64) for v, n, _ in arrays if n}
        adv = [zero.get(id(k), k) if type(k) is not slice else k for k in adv]
        items = [(kind, zero.get(id(v), v)) for kind, v in items]
    if not two_stage:                  # no ints, None or bool scalars: one NumPy key is PyTorch's
        return None, tuple(Ellipsis if kind == "ellipsis" else v for kind, v in items)
    if all(k is _FULL for k in basic):
        return None, tuple(adv)
    return tuple(basic), tuple(adv)


def _check_array_bounds(be, arrays):
    """PyTorch's IndexError for the first out-of-range entry of the index arrays ``(v, size, dim)``: its
    kernel reads the arrays together, element by element of their broadcast shape (C order), each
    element's indices in key order; so ``x[[0, 5], [9, 0]]`` names the 9 (dim 1), not the later 5."""
    bads = []
    for v, n, at in arrays:
        if v.size and (int(be.to_numpy(be.min(v))) < -n or int(be.to_numpy(be.max(v))) >= n):
            bads.append((v, n, at))
    if not bads:
        return
    if len(bads) > 1:                  # which array fails first depends on the element order
        shape = np.broadcast_shapes(*(v.shape for v, _, _ in arrays))
        flags = [be.reshape(be.broadcast_to(be.logical_or(be.less(v, -n), be.greater_equal(v, n)), shape),
                            (-1,)) for v, n, _ in bads]
        anybad = flags[0]
        for f in flags[1:]:
            anybad = be.logical_or(anybad, f)
        first = int(be.to_numpy(be.getitem(be.nonzero(anybad)[0], (0,))))
        for (v, n, at), f in zip(bads, flags):
            if bool(be.to_numpy(be.getitem(f, (first,)))):
                bad = int(be.to_numpy(be.getitem(be.reshape(be.broadcast_to(v, shape), (-1,)), (first,))))
                raise IndexError(f"index {bad} is out of bounds for dimension {at} with size {n}")
    v, n, at = bads[0]
    raise IndexError(f"index {first_out_of_range(be, v, -n, n)} is out of bounds for dimension {at} with size {n}")


def _check_broadcast(be, entries):
    """The number of indexed elements; PyTorch's error when the index tensors (a mask counts as ndim
    tensors of its nonzero count) do not broadcast."""
    shapes = []
    for e in entries:
        if type(e) is tuple:
            shapes.append(e)
        else:
            shapes.extend([(int(be.to_numpy(be.sum(be.astype(e, np.int64)))),)] * e.ndim)
    try:
        return math.prod(np.broadcast_shapes(*shapes))
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(_shape_str(s) for s in shapes)) from None


def explain_basic(x, key, err):
    """PyTorch's error for a plain key the backend refused (re-parses it), else ``err`` itself."""
    try:
        parse(x, key)
    except (IndexError, ValueError) as e:
        return e
    return err
