"""The broadcasting elementwise template: every unary, binary and ternary op, casts and copies.

On the host: broadcast the operands, drop size-1 dims and merge dims that are
contiguous in every operand (``coalesce``). Most calls then hit the flat
contiguous kernel; the rest get a kernel specialized to the coalesced ndim,
with shapes and strides passed as tuples (an array argument costs launch
time and global loads). Index math is unsigned 32-bit unless a buffer holds
2**31 elements or more. Kernels are generated from one source template,
compiled lazily and cached by (op, compute type, output type, operand kinds,
ndim, index width); the scalar op is an inlined device function
(``scalar_ops``).
"""
import numpy as np

from .. import _nb
from ..array import CudaArray, contiguous_strides
from . import scalar_ops

_KERNELS = {}
_NARROW = 2 ** 31 - 1


def nb_type(dtype):
    from numba import from_dtype
    return from_dtype(np.dtype(dtype))


def broadcast_shapes(*shapes):
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(nd):
        n = 1
        for s in shapes:
            k = i - (nd - len(s))
            if k >= 0 and s[k] != 1:
                if n != 1 and s[k] != n:
                    raise ValueError(f"operands could not be broadcast together with shapes "
                                     f"{' '.join(str(tuple(x)) for x in shapes)}")
                n = s[k]
        out.append(n)
    return tuple(out)


def broadcast_strides(a, shape):
    """Element strides of ``a`` viewed with ``shape`` (stride 0 on broadcast dims)."""
    lead = len(shape) - a.ndim
    return tuple(0 if i < lead or a.shape[i - lead] == 1 else a.st[i - lead] for i in range(len(shape)))


def coalesce(shape, strides):
    """Drop size-1 dims and merge dims contiguous in every operand. Returns (shape, [strides])."""
    keep = [i for i, n in enumerate(shape) if n != 1]
    shp = [shape[i] for i in keep]
    sts = [[s[i] for i in keep] for s in strides]
    if not shp:
        return (), [() for _ in strides]
    out_shape = [shp[0]]
    out_sts = [[s[0]] for s in sts]
    for d in range(1, len(shp)):
        if all(o[-1] == s[d] * shp[d] for o, s in zip(out_sts, sts)):
            out_shape[-1] *= shp[d]
            for o, s in zip(out_sts, sts):
                o[-1] = s[d]
        else:
            out_shape.append(shp[d])
            for o, s in zip(out_sts, sts):
                o.append(s[d])
    return tuple(out_shape), [tuple(s) for s in out_sts]


def _gen_source(nargs, kinds, ndim, out_contig, cast_bool, cond_first):
    """Kernel source. kinds[k] is 'a' (array) or 's' (scalar); ndim -1 means flat contiguous."""
    params = ["n", "shape", "o_buf", "o_off", "o_st"]
    reads = []
    for k in range(nargs):
        if kinds[k] == "a":
            params += [f"x{k}_buf", f"x{k}_off", f"x{k}_st"]
            src = f"x{k}_buf[x{k}_idx]"
        else:
            params.append(f"x{k}_val")
            src = f"x{k}_val"
        reads.append(src if (cond_first and k == 0) or kinds[k] == "s" else f"T({src})")
    lines = [f"def kernel({', '.join(params)}):",
             "    i = I(cuda.blockIdx.x) * I(cuda.blockDim.x) + I(cuda.threadIdx.x)",
             "    step = I(cuda.gridDim.x) * I(cuda.blockDim.x)",
             "    while i < n:"]
    arrays = ["o"] + [f"x{k}" for k in range(nargs) if kinds[k] == "a"]
    if ndim < 0:
        for a in arrays:
            lines.append(f"        {a}_idx = {a}_off + i")
    else:
        for a in arrays:
            lines.append(f"        {a}_idx = {a}_off")
        if ndim:
            lines.append("        r = i")
        for d in reversed(range(ndim)):
            lines.append(f"        c = r % shape[{d}]")
            if d:
                lines.append(f"        r = r // shape[{d}]")
            for a in arrays:
                if a == "o" and out_contig:
                    continue
                lines.append(f"        {a}_idx += c * {a}_st[{d}]")
        if out_contig:
            lines.append("        o_idx = o_off + i")
    val = f"F({', '.join(reads)})"
    lines.append(f"        o_buf[o_idx] = {'(' + val + ') != T(0)' if cast_bool else 'OUT(' + val + ')'}")
    lines.append("        i += step")
    return "\n".join(lines) + "\n"


def get_kernel(name, T, OUT, kinds, ndim, out_contig, wide, cast_bool=False):
    """The (cached, lazily compiled) kernel for one op specialization."""
    key = (name, str(T), str(OUT), kinds, ndim, out_contig, wide, cast_bool)
    k = _KERNELS.get(key)
    if k is None:
        from numba import types
        nargs = scalar_ops.OPS[name][0]
        is_float = isinstance(T, types.Float)
        F = scalar_ops.device_fn(name, T, is_float)
        src = _gen_source(nargs, kinds, ndim, out_contig, cast_bool, name == "where")
        ns = {"cuda": _nb.cuda, "F": F, "T": T, "OUT": OUT, "I": types.int64 if wide else types.uint32}
        exec(compile(src, f"<tapegrad elementwise {name}>", "exec"), ns)
        k = _nb.cuda.jit(ns["kernel"])
        _KERNELS[key] = k
    return k


def result_dtype(name, operands):
    """NumPy's result dtype of op ``name`` (Python scalars are weak, as in NumPy 2)."""
    kind = scalar_ops.OPS[name][1]
    vals = operands[1:] if name == "where" else operands
    if name == "where" and any(isinstance(v, bool) for v in vals):
        vals = [np.bool_(v) if isinstance(v, bool) else v for v in vals]
    ct = np.result_type(*[v.dtype if isinstance(v, CudaArray) else v for v in vals])
    if kind == "bool":
        return ct, np.dtype(np.bool_)
    if kind == "float" and ct.kind != "f":
        ct = np.dtype(np.float64)
    return ct, ct


def _as_operand(x):
    if isinstance(x, CudaArray):
        return x
    if isinstance(x, (bool, int, float, np.generic)):
        return x
    if isinstance(x, np.ndarray):
        return x[()] if x.ndim == 0 else CudaArray.from_numpy(x)
    raise TypeError(f"unsupported operand of type {type(x).__name__} for a CUDA elementwise op")


def apply(name, operands, out=None, out_dtype=None, compute_dtype=None):
    """Run op ``name`` elementwise with NumPy broadcasting; ``out`` makes it in place."""
    operands = [_as_operand(x) for x in operands]
    ct, ot = result_dtype(name, operands)
    if compute_dtype is not None:
        ct = np.dtype(compute_dtype)
    if out_dtype is not None:
        ot = np.dtype(out_dtype)
    shape = broadcast_shapes(*[x.shape for x in operands if isinstance(x, CudaArray)])
    if out is None:
        out = CudaArray.empty(shape, ot)
    else:
        if broadcast_shapes(shape, out.shape) != out.shape:
            raise ValueError(f"{name}: result of shape {shape} cannot be written in place into shape {out.shape}")
        if not np.can_cast(ct if scalar_ops.OPS[name][1] != "bool" else np.bool_, out.dtype, "same_kind"):
            raise TypeError(f"{name}: cannot write a {ct} result in place into a {out.dtype} array")
        shape = out.shape
    if out.size == 0:
        return out
    _launch(name, operands, out, shape, ct)
    return out


# Note [float16 computes in float32]: float16 operands are widened to float32 in the kernel and the
# result rounded once on the store, as PyTorch's CUDA kernels (its "opmath" type); the narrow integers
# compute in int32 and wrap on the store, which gives the same bits as int8/int16/uint8 arithmetic.
_COMPUTE = {np.dtype(np.float16): np.dtype(np.float32), np.dtype(np.int8): np.dtype(np.int32),
            np.dtype(np.int16): np.dtype(np.int32), np.dtype(np.uint8): np.dtype(np.int32)}


def compute_dtype(dtype):
    """The dtype a kernel computes in for values of ``dtype`` (Note [float16 computes in float32])."""
    dtype = np.dtype(dtype)
    return _COMPUTE.get(dtype, dtype)


def _launch(name, operands, out, shape, ct):
    ct = compute_dtype(ct)
    T = nb_type(ct)
    OUT = nb_type(out.dtype)
    arrays = [x for x in operands if isinstance(x, CudaArray)]
    strides = [broadcast_strides(out, shape)] + [broadcast_strides(x, shape) for x in arrays]
    cshape, csts = coalesce(shape, strides)
    wide = out.size > _NARROW or any(x.buf.size > _NARROW for x in arrays) or out.buf.size > _NARROW
    I = np.int64 if wide else np.uint32
    out_contig = csts[0] == contiguous_strides(cshape)
    flat = all(s == contiguous_strides(cshape) for s in csts) and len(cshape) <= 1
    ndim = -1 if flat else len(cshape)
    kinds = "".join("a" if isinstance(x, CudaArray) else "s" for x in operands)
    cast_bool = out.dtype == np.bool_ and ct != np.bool_ and scalar_ops.OPS[name][1] != "bool"
    k = get_kernel(name, T, OUT, kinds, ndim, out_contig, wide, cast_bool)
    n = I(out.size)
    tup = tuple(I(s) for s in cshape)
    args = [n, tup, out.buf, I(out.off), tuple(I(s) for s in csts[0])]
    j = 1
    for x, kd in zip(operands, kinds):
        if kd == "a":
            args += [x.buf, I(x.off), tuple(I(s) for s in csts[j])]
            j += 1
        elif name == "where" and x is operands[0]:
            args.append(np.bool_(x))
        else:
            args.append(ct.type(x))
    grid, block = _nb.grid_for(out.size)
    k[grid, block](*args)


def astype(x, dtype):
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    out = CudaArray.empty(x.shape, dtype)
    if x.size:
        _launch("identity", [x], out, x.shape, x.dtype)
    return out


def copy(x):
    """A contiguous copy of ``x``."""
    out = CudaArray.empty(x.shape, x.dtype)
    if x.size:
        _launch("identity", [x], out, x.shape, x.dtype)
    return out


def assign(dst, src):
    """``dst[...] = src`` with broadcasting and casting (``dst`` may be a strided view)."""
    src = _as_operand(src)
    ct = src.dtype if isinstance(src, CudaArray) else dst.dtype
    if dst.size:
        if not isinstance(src, CudaArray):
            src = dst.dtype.type(src)
        broadcast_shapes(dst.shape, getattr(src, "shape", ()))
        _launch("identity", [src], dst, dst.shape, np.dtype(ct))
