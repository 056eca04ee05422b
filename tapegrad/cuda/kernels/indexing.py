"""Indexing: basic slicing as views; integer/bool array indexing as gather; deterministic scatter-add.

Advanced indexing is reduced to one layout: the result is ``(pre, Q, post)``
where ``Q`` is the broadcast shape of the index arrays; the index arrays
collapse (by elementwise kernels) into one int64 array of element offsets
``adv[q]``. Gather runs a thread per output element. Scatter-add (the
backward of gather) runs a thread per ``(pre, post)`` position that walks
``q`` in order: two positions never write the same element, so the sums are
deterministic without float atomics.
"""
import numpy as np

from .. import _nb
from ..array import CudaArray
from . import elementwise as E
from . import movement as M

_KERNELS = {}


def _index_array(k):
    if isinstance(k, CudaArray):
        return k
    a = np.asarray(k)
    if a.dtype == object or (a.dtype.kind not in "iub"):
        raise IndexError("only integers, slices, None, Ellipsis and integer or boolean arrays are valid indices")
    return a


def _expand(x, key):
    """Normalize ``key`` to a list with one entry per dim of x (None entries add dims)."""
    if not isinstance(key, tuple):
        key = (key,)
    items = []
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, slice):
            items.append(k)
        elif isinstance(k, (bool, np.bool_)):
            raise IndexError("boolean scalar indices are not supported on the CUDA backend")
        elif isinstance(k, (int, np.integer)):
            items.append(int(k))
        else:
            a = _index_array(k)
            if a.dtype.kind == "b":
                nz = nonzero(a) if isinstance(a, CudaArray) else [CudaArray.from_numpy(i) for i in np.nonzero(a)]
                items.extend(nz)
            else:
                items.append(a if isinstance(a, CudaArray) else CudaArray.from_numpy(a.astype(np.int64)))
    used = sum(1 for k in items if k is not None and k is not Ellipsis)
    if sum(1 for k in items if k is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if used > x.ndim:
        raise IndexError(f"too many indices for array: array is {x.ndim}-dimensional, but {used} were indexed")
    if Ellipsis in [k for k in items if not isinstance(k, CudaArray)]:
        i = next(j for j, k in enumerate(items) if k is Ellipsis and not isinstance(k, CudaArray))
        items[i:i + 1] = [slice(None)] * (x.ndim - used)
    else:
        items += [slice(None)] * (x.ndim - used)
    return items


def _basic(x, items):
    shape, st, off, d = [], [], x.off, 0
    for k in items:
        if k is None:
            shape.append(1)
            st.append(0)
            continue
        n = x.shape[d]
        if isinstance(k, int):
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis {d} with size {n}")
            off += (k % n) * x.st[d]
        else:
            start, stop, step = k.indices(n)
            m = len(range(start, stop, step))
            if m:
                off += start * x.st[d]
            shape.append(m)
            st.append(x.st[d] * step)
        d += 1
    return CudaArray(x.buf, tuple(shape), tuple(st), off, x._root(), x.dtype)


def _split_flips(v):
    """A view with a negative stride (a negative slice step) as (view with positive strides, axes to flip).

    CudaArray strides are never negative (the module docstring); only the gather/scatter kernels, whose
    index math is signed, read the raw view directly.
    """
    axes = tuple(d for d, s in enumerate(v.st) if s < 0)
    if not axes:
        return v, ()
    off = v.off
    st = list(v.st)
    for d in axes:
        off += (v.shape[d] - 1) * st[d] if v.shape[d] else 0
        st[d] = -st[d]
    return CudaArray(v.buf, v.shape, tuple(st), off, v.base, v.dtype), axes


def _new_axes_as_dims(x, items):
    """Advanced keys with ``None``: the new size-1 dims become real (stride 0) dims indexed by ``:``."""
    if not any(k is None for k in items):
        return x, items
    shape, st, out, d = [], [], [], 0
    for k in items:
        if k is None:
            shape.append(1)
            st.append(0)
            out.append(slice(None))
        else:
            shape.append(x.shape[d])
            st.append(x.st[d])
            out.append(k)
            d += 1
    return CudaArray(x.buf, tuple(shape), tuple(st), x.off, x._root(), x.dtype), out


def _wrap_check(idx, n, axis):
    """Negative indices wrapped; raises IndexError (one host read) when any index is out of range."""
    idx = E.astype(idx, np.int64)
    if idx.size:
        bad = reduce_any((idx < -n) | (idx >= n))
        if bad:
            raise IndexError(f"index out of range for axis {axis} with size {n}")
    return E.apply("where", [idx < 0, idx + n, idx]) if idx.size else idx


def reduce_any(mask):
    from . import reduce
    return bool(reduce.reduce("any", mask, None, False).get())


def _advanced_layout(x, items):
    """(view y, out shape, rest shape, rest strides in y, nq, inner, adv offsets array)."""
    x, items = _new_axes_as_dims(x, items)
    adv_pos = [d for d, k in enumerate(items) if not isinstance(k, slice)]
    arrays = [k if isinstance(k, CudaArray) else CudaArray.from_numpy(np.asarray(k, np.int64)) for k in
              (items[d] for d in adv_pos)]
    y = _basic(x, [slice(None) if d in adv_pos else k for d, k in enumerate(items)])
    q_shape = E.broadcast_shapes(*[a.shape for a in arrays])
    adv = None
    for d, a in zip(adv_pos, arrays):
        term = _wrap_check(a, y.shape[d], d) * int(y.st[d])
        adv = term if adv is None else adv + term
    adv = M.ascontiguousarray(M.broadcast_to(adv, q_shape))
    adjacent = adv_pos == list(range(adv_pos[0], adv_pos[-1] + 1))
    rest = [d for d in range(y.ndim) if d not in adv_pos]
    pre = [d for d in rest if adjacent and d < adv_pos[0]]
    post = [d for d in rest if d not in pre]
    out_shape = tuple(y.shape[d] for d in pre) + q_shape + tuple(y.shape[d] for d in post)
    inner = 1
    for d in post:
        inner *= y.shape[d]
    nq = adv.size
    return y, out_shape, tuple(y.shape[d] for d in pre + post), tuple(y.st[d] for d in pre + post), nq, inner, adv


def _rest_source(nrest):
    """Offset of rest position ``r`` in the strided source/destination (8-space indented)."""
    lines = ["        s_idx = s_off", "        r2 = r"]
    for d in reversed(range(nrest)):
        lines.append(f"        s_idx += (r2 % rshape[{d}]) * rst[{d}]")
        lines.append(f"        r2 = r2 // rshape[{d}]")
    return "\n".join(lines)


def _kernel(kind, nrest):
    key = (kind, nrest)
    k = _KERNELS.get(key)
    if k is None:
        if kind == "gather":
            src = f"""
def kernel(n, out, s_buf, s_off, rshape, rst, adv, nq, inner):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        ii = i % inner
        t = i // inner
        q = t % nq
        r = (t // nq) * inner + ii
{_rest_source(nrest)}
        out[i] = s_buf[s_idx + adv[q]]
        i += step
"""
        else:
            op = "+=" if kind == "scatter" else "="     # "assign": the last of repeated indices wins, as in NumPy
            src = f"""
def kernel(n, d_buf, s_off, rshape, rst, vals, adv, nq, inner):
    r = cuda.grid(1)
    step = cuda.gridsize(1)
    while r < n:
{_rest_source(nrest)}
        v = (r // inner) * nq * inner + r % inner
        for q in range(nq):
            d_buf[s_idx + adv[q]] {op} vals[v + q * inner]
        r += step
"""
        ns = {"cuda": _nb.cuda}
        exec(compile(src, f"<tapegrad {kind}>", "exec"), ns)
        k = _nb.cuda.jit(ns["kernel"])
        _KERNELS[key] = k
    return k


def getitem(x, key):
    items = _expand(x, key)
    if all(k is None or isinstance(k, (int, slice)) for k in items):
        v, axes = _split_flips(_basic(x, items))
        return flip(v, axes) if axes else v       # a negative step copies, as flip does
    y, out_shape, rshape, rst, nq, inner, adv = _advanced_layout(x, items)
    out = CudaArray.empty(out_shape, x.dtype)
    if out.size:
        k = _kernel("gather", len(rshape))
        grid, block = _nb.grid_for(out.size)
        k[grid, block](out.size, out.buf, y.buf, y.off, rshape, rst, adv.buf, nq, inner)
    return out


def scatter_add(shape, key, values, dtype):
    """``zeros(shape)`` with ``values`` added at ``key``; repeated indices accumulate, deterministically."""
    out = CudaArray.empty(shape, dtype)
    E.assign(out, 0)
    items = _expand(out, key)
    if all(k is None or isinstance(k, (int, slice)) for k in items):
        view, axes = _split_flips(_basic(out, items))
        E.apply("add", [view, _flipped(values, view.shape, axes)], out=view)
        return out
    _scatter("scatter", out, items, values)
    return out


def _flipped(value, shape, axes):
    """``value`` broadcast to ``shape`` and flipped along ``axes`` (what a negative-step view reads)."""
    if not axes or not isinstance(value, CudaArray):
        return value
    return flip(M.broadcast_to(value, E.broadcast_shapes(value.shape, shape)), axes)


def _scatter(kind, dst, items, values):
    """Write (``assign``) or add (``scatter``) ``values`` at the advanced key ``items`` of ``dst``."""
    if kind == "scatter" and dst.dtype == np.float16:
        # float16 sums accumulate in float32 and round once (Note [float16 computes in float32])
        wide = E.astype(dst, np.float32)
        vals = values if isinstance(values, CudaArray) else CudaArray.from_numpy(np.asarray(values))
        _scatter(kind, wide, items, E.astype(vals, np.float32))
        E.assign(dst, wide)
        return
    y, out_shape, rshape, rst, nq, inner, adv = _advanced_layout(dst, items)
    vals = values if isinstance(values, CudaArray) else CudaArray.from_numpy(np.asarray(values))
    vals = E.copy(M.broadcast_to(E.astype(vals, dst.dtype), out_shape))
    nrest = vals.size // max(nq, 1)
    if vals.size:
        k = _kernel(kind, len(rshape))
        grid, block = _nb.grid_for(nrest)
        k[grid, block](nrest, dst.buf, y.off, rshape, rst, vals.buf, adv.buf, nq, inner)


def setitem(x, key, value):
    """``x[key] = value`` in place; repeated array indices keep the last value, as in NumPy."""
    items = _expand(x, key)
    if all(k is None or isinstance(k, (int, slice)) for k in items):
        view, axes = _split_flips(_basic(x, items))
        E.assign(view, _flipped(value, view.shape, axes))
        return
    _scatter("assign", x, items, value)


def _along_axis_key(indices, axis, ndim):
    axis = axis % ndim
    key = []
    for d in range(ndim):
        if d == axis:
            key.append(indices)
        else:
            shp = [1] * ndim
            shp[d] = indices.shape[d]
            key.append(M.reshape(arange(indices.shape[d]), shp))
    return tuple(key)


def take_along_axis(x, indices, axis):
    if indices.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices ({indices.ndim}-d) and array ({x.ndim}-d) must have "
                         "the same number of dimensions")
    shape = tuple(x.shape[d] if d == axis % x.ndim else indices.shape[d] for d in range(x.ndim))
    return getitem(M.broadcast_to(x, E.broadcast_shapes(x.shape, shape)) if shape != x.shape else x,
                   _along_axis_key(indices, axis, x.ndim))


def arange(n):
    from . import creation
    return creation.arange(0, n, 1, np.int64)


def take(x, indices, axis=None):
    if axis is None:
        return getitem(M.reshape(x, (-1,)), (indices,))
    axis = axis % x.ndim
    return getitem(x, (slice(None),) * axis + (indices,))


def flip(x, axis=None):
    axes = range(x.ndim) if axis is None else ([axis] if isinstance(axis, (int, np.integer)) else axis)
    key = [slice(None)] * x.ndim
    out = x
    for a in axes:
        a = a % x.ndim
        n = x.shape[a]
        from . import creation
        k = list(key)
        k[a] = creation.arange(n - 1, -1, -1, np.int64)
        out = getitem(out, tuple(k))
    return out if out is not x else E.copy(x)


def nonzero(x):
    """Index arrays of the nonzero elements, in C order (one host read: the count)."""
    from . import reduce
    flat = M.reshape(x, (-1,))
    mask = E.astype(flat != 0, np.int64)
    pos = reduce.cumsum_flat(mask)                 # inclusive running count
    count = int(pos[flat.size - 1].get()) if flat.size else 0
    out = CudaArray.empty((count,), np.int64)
    if count:
        k = _compact_kernel()
        grid, block = _nb.grid_for(flat.size)
        k[grid, block](flat.size, mask.buf, pos.buf, out.buf)
    res = []
    rem = out
    for d in reversed(range(x.ndim)):
        res.append(rem % x.shape[d])
        rem = rem // x.shape[d]
    return tuple(reversed(res)) if x.ndim else (out,)


def _compact_kernel():
    k = _KERNELS.get("compact")
    if k is None:
        global cuda  # a module global: the simulator swaps in its fake module by scanning globals
        cuda = _nb.cuda

        def compact(n, mask, pos, out):
            i = cuda.grid(1)
            step = cuda.gridsize(1)
            while i < n:
                if mask[i]:
                    out[pos[i] - 1] = i
                i += step
        k = _KERNELS["compact"] = cuda.jit(compact)
    return k
