"""Register-blocked shared-memory tiled matmul, batched on blockIdx.z.

Each block computes a ``BM x BN`` tile of C, each thread a ``TM x TN``
sub-tile held in scalar registers: the source is generated with one variable
per accumulator and the inner ``BK`` loop unrolled, which keeps the
accumulators out of local memory (a ``cuda.local.array`` indexed in a loop
spills). Operands are read through arbitrary strides, so A^T B and A B^T (the
backward's NT/TN products) need no transposing copy; batch dims collapse to
one stride each (0 when broadcast). Tile sizes come from ``_nb.MM_TILES``
(tiny under the simulator).
"""
import numpy as np

from .. import _nb
from ..array import CudaArray
from . import elementwise as E
from . import movement as M

_KERNELS = {}


def gen_source(BM, BN, BK, TM, TN):
    NT = (BM // TM) * (BN // TN)
    if (BM * BK) % NT or (BN * BK) % NT:
        raise ValueError(f"matmul tile {BM}x{BN}x{BK} with {TM}x{TN} per thread: tile loads must split evenly")
    L = ["def kernel(M, N, K, nb, a, a_off, a_sb, a_sm, a_sk, b, b_off, b_sb, b_sk, b_sn, c, c_sb):",
         f"    As = cuda.shared.array(({BK}, {BM}), T)",
         f"    Bs = cuda.shared.array(({BK}, {BN}), T)",
         "    tid = cuda.threadIdx.x",
         f"    tx = tid % {BN // TN}",
         f"    ty = tid // {BN // TN}",
         f"    m0 = cuda.blockIdx.y * {BM}",
         f"    n0 = cuda.blockIdx.x * {BN}",
         "    z = cuda.blockIdx.z",
         "    while z < nb:",
         "        ab = a_off + z * a_sb",
         "        bb = b_off + z * b_sb"]
    for i in range(TM):
        for j in range(TN):
            L.append(f"        c{i}_{j} = T(0)")
    L += ["        for k0 in range(0, K, " + str(BK) + "):"]
    for l in range((BM * BK) // NT):
        L += [f"            e = tid + {l * NT}",
              f"            mm = m0 + e // {BK}",
              f"            kk = k0 + e % {BK}",
              f"            As[e % {BK}, e // {BK}] = T(a[ab + mm * a_sm + kk * a_sk]) if mm < M and kk < K else T(0)"]
    for l in range((BN * BK) // NT):
        L += [f"            e = tid + {l * NT}",
              f"            kk = k0 + e // {BN}",
              f"            nn = n0 + e % {BN}",
              f"            Bs[e // {BN}, e % {BN}] = T(b[bb + kk * b_sk + nn * b_sn]) if kk < K and nn < N else T(0)"]
    L.append("            cuda.syncthreads()")
    for kk in range(BK):
        for i in range(TM):
            L.append(f"            a{i} = As[{kk}, ty * {TM} + {i}]")
        for j in range(TN):
            L.append(f"            b{j} = Bs[{kk}, tx * {TN} + {j}]")
        for i in range(TM):
            for j in range(TN):
                L.append(f"            c{i}_{j} += a{i} * b{j}")
    L.append("            cuda.syncthreads()")
    L.append("        cb = z * c_sb")
    for i in range(TM):
        L.append(f"        m = m0 + ty * {TM} + {i}")
        L.append("        if m < M:")
        for j in range(TN):
            L.append(f"            n = n0 + tx * {TN} + {j}")
            L.append("            if n < N:")
            L.append(f"                c[cb + m * N + n] = OUT(c{i}_{j})")
    L.append("        z += cuda.gridDim.z")
    return "\n".join(L) + "\n"


def get_kernel(tile, T, OUT=None):
    """The kernel for operands and result of type ``OUT`` (default ``T``) accumulated in type ``T``."""
    OUT = T if OUT is None else OUT
    key = (tile, str(T), str(OUT))
    k = _KERNELS.get(key)
    if k is None:
        ns = {"cuda": _nb.cuda, "T": T, "OUT": OUT}
        exec(compile(gen_source(*tile), f"<tapegrad matmul {tile}>", "exec"), ns)
        k = _KERNELS[key] = _nb.cuda.jit(ns["kernel"])
    return k


def _batch_stride(x, bshape):
    """One stride over the flattened broadcast batch, copying only when the batch dims don't collapse."""
    nb = len(bshape)
    st = E.broadcast_strides(x._view(x.shape[:-2], x.st[:-2]), bshape) if x.ndim > 2 else (0,) * nb
    cshape, (cst,) = E.coalesce(bshape, [st])
    if len(cshape) <= 1:
        return x, (cst[0] if cst else 0)
    x = E.copy(M.broadcast_to(x, bshape + x.shape[-2:]))
    return x, x.shape[-1] * x.shape[-2]


def matmul(a, b):
    a = a if isinstance(a, CudaArray) else CudaArray.from_numpy(np.asarray(a))
    b = b if isinstance(b, CudaArray) else CudaArray.from_numpy(np.asarray(b))
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    va = M.expand_dims(a, 0) if a.ndim == 1 else a
    vb = M.expand_dims(b, 1) if b.ndim == 1 else b
    if va.shape[-1] != vb.shape[-2]:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0 (size {vb.shape[-2]} "
                         f"is different from {va.shape[-1]}); shapes {a.shape} and {b.shape}")
    dtype = np.result_type(a.dtype, b.dtype)
    va, vb = E.astype(va, dtype), E.astype(vb, dtype)
    bshape = E.broadcast_shapes(va.shape[:-2], vb.shape[:-2])
    Mm, K, N = va.shape[-2], va.shape[-1], vb.shape[-1]
    out = CudaArray.empty(bshape + (Mm, N), dtype)
    nb = out.size // max(Mm * N, 1)
    if out.size:
        if K == 0:
            E.assign(out, 0)
        else:
            va, sa = _batch_stride(va, bshape)
            vb, sb = _batch_stride(vb, bshape)
            tile = _nb.MM_TILES[0]
            for t in _nb.MM_TILES:
                tile = t
                if -(-Mm // t[0]) * -(-N // t[1]) * nb >= 132:
                    break
            # float16 operands accumulate in float32 and round once per output, as cuBLAS/torch do
            k = get_kernel(tile, E.nb_type(E.compute_dtype(dtype)), E.nb_type(dtype))
            BM, BN, _, TM, TN = tile
            grid = (-(-N // BN), -(-Mm // BM), min(nb, 65535))
            k[grid, (BM // TM) * (BN // TN)](Mm, N, K, nb, va.buf, va.off, sa, va.st[-2], va.st[-1],
                                             vb.buf, vb.off, sb, vb.st[-2], vb.st[-1], out.buf, Mm * N)
    shape = out.shape
    if a.ndim == 1:
        shape = shape[:-2] + shape[-1:]
    if b.ndim == 1:
        shape = shape[:-1]
    return M.reshape(out, shape) if shape != out.shape else out
