"""Movement on CudaArray: reshape, broadcast, squeeze/expand, transpose, concatenate, tile...

Views are metadata only (``CudaArray._view``); anything that cannot be a view
(reshape of strided data, concatenate, tile) is one strided copy kernel.
"""
import numpy as np

from ...backend.base import window_view_layout
from ..array import CudaArray, contiguous_strides
from . import elementwise as E


def _norm_axis(axis, ndim, name):
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % max(ndim, 1)


def resolve_shape(shape, size):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = [int(s) for s in shape]
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in shape:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {tuple(shape)}")
        shape[shape.index(-1)] = size // known
    n = 1
    for s in shape:
        n *= s
    if n != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {tuple(shape)}")
    return tuple(shape)


def reshape(x, shape):
    shape = resolve_shape(shape, x.size)
    if not x.is_contiguous:
        x = E.copy(x)
        return CudaArray(x.buf, shape, contiguous_strides(shape), x.off, x, x.dtype)
    return x._view(shape, contiguous_strides(shape))


def broadcast_to(x, shape):
    shape = tuple(int(s) for s in shape)
    if len(shape) < x.ndim or E.broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"operands could not be broadcast together with remapped shapes "
                         f"[original->remapped]: {x.shape} and requested shape {shape}")
    return x._view(shape, E.broadcast_strides(x, shape))


def transpose(x, axes=None):
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    axes = tuple(_norm_axis(a, x.ndim, "transpose") for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"axes {axes} don't match array of dimension {x.ndim}")
    return x.transpose(axes)


def expand_dims(x, axis):
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    nd = x.ndim + len(axes)
    axes = sorted(_norm_axis(a, nd, "expand_dims") for a in axes)
    shape, st = list(x.shape), list(x.st)
    for a in axes:
        shape.insert(a, 1)
        st.insert(a, 0)
    return x._view(tuple(shape), tuple(st))


def squeeze(x, axis=None):
    if axis is None:
        axes = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        axes = [_norm_axis(a, x.ndim, "squeeze") for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)]
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    keep = [i for i in range(x.ndim) if i not in axes]
    return x._view(tuple(x.shape[i] for i in keep), tuple(x.st[i] for i in keep))


def concatenate(arrays, axis=0):
    arrays = [a if isinstance(a, CudaArray) else CudaArray.from_numpy(np.asarray(a)) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    nd = arrays[0].ndim
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    axis = _norm_axis(axis, nd, "concatenate")
    for a in arrays:
        if a.ndim != nd or any(a.shape[i] != arrays[0].shape[i] for i in range(nd) if i != axis):
            raise ValueError(f"concatenate: all input array dimensions except for the concatenation axis "
                             f"must match exactly, got shapes {[x.shape for x in arrays]}")
    dtype = np.result_type(*[a.dtype for a in arrays])
    shape = list(arrays[0].shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    out = CudaArray.empty(shape, dtype)
    start = 0
    for a in arrays:
        n = a.shape[axis]
        if n:
            key = (slice(None),) * axis + (slice(start, start + n),)
            E.assign(out[key], a)
        start += n
    return out


def stack(arrays, axis=0):
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        raise ValueError(f"all input arrays must have the same shape, got {[a.shape for a in arrays]}")
    axis = _norm_axis(axis, len(shape) + 1, "stack")
    return concatenate([expand_dims(a, axis) for a in arrays], axis)


def tile(x, reps):
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    nd = max(x.ndim, len(reps))
    reps = (1,) * (nd - len(reps)) + reps
    x = reshape(x, (1,) * (nd - x.ndim) + x.shape)
    inter, final = [], []
    for r, n in zip(reps, x.shape):
        inter += [r, n]
        final.append(r * n)
    v = x._view(tuple(x.shape), x.st)
    shp, st = [], []
    for r, n, s in zip(reps, v.shape, v.st):
        shp += [r, n]
        st += [0, s]
    return reshape(E.copy(v._view(tuple(shp), tuple(st))), final)


def ascontiguousarray(x):
    return x if x.is_contiguous else E.copy(x)


def sliding_windows(x, axes, window, stride, dilation):
    """Note [sliding windows] (backend/base.py): a view with new element strides, no kernel."""
    shape, st = window_view_layout(x.shape, x.st, axes, window, stride, dilation)
    return x._view(shape, st)


def as_strided(x, shape, strides, offset):
    """A view with the given element strides and offset from ``x``'s first element, no kernel."""
    return x._view(tuple(int(s) for s in shape), tuple(int(s) for s in strides), x.off + int(offset))
