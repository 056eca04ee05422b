"""Fused kernels on CUDA: one ``@cuda.jit`` grid-stride loop per fused group (Note [fused kernels on CUDA]).

# Note [fused kernels on CUDA]
The loop body is the same scalar code ``symbolic.Builder`` wrote for the CPU
kernel (Note [what may be fused]): only the loop differs. One thread per
element, a grid-stride loop over the group's ``n`` elements (launch sizes from
``cuda/_nb.grid_for``). Every array is passed as its flat device buffer and
its offset in elements; an input is read at ``off + i`` (or ``off`` for a
one-element input), so inputs must be C-contiguous: a strided input (rare: a
traced step made a view) is copied to a contiguous one first, which costs a
launch but never a wrong value. The rows a group hands on live in one
``(rows, n)`` device buffer per group, allocated once per program (Note
[memory plan] in compile/plan.py), and later groups read them at
``row * n + i``. The kernel is built from source with ``exec`` (no disk cache:
numba.cuda compiles on the first launch, in the replaying thread).
"""
import math

import numpy as np

from ._published import Published

__all__ = ["CudaFusedKernel"]

# The scalar functions of the loop body run as the CUDA backend's own device functions
# (cuda/kernels/scalar_ops.py): the same domain rules as an eager launch (NaN outside the domain,
# where Python's ``math`` would raise under the simulator).
_FUNCS = ("exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "sign", "floor")


def _cuda_line(line):
    for f in _FUNCS:
        line = line.replace(f"np.{f}(", f"f_{f}(")
    return line.replace("math.erf(", "f_erf(")


class CudaFusedKernel(Published):
    """One fused group at replay on CUDA: launches its kernel on the inputs' device buffers."""
    LABEL = "cuda_fused"

    def __init__(self, group, rows, views, where, fresh):
        g, b = group, group.b
        self.shape, self.dtype, self.n = g.shape, np.dtype(g.dtype), b.n
        self.fresh = fresh
        self.nsteps = len(g.steps)
        self.rows = {s: r for r, s in enumerate(rows)}
        arrays, srcs, loads = [], [], []
        for s, sym in g.inputs.items():
            full = sym.shape == g.shape and b.n != 1
            src = where.get(s)
            if src is not None:
                k = src.kernel
                if k not in srcs:
                    srcs.append(k)
                j = srcs.index(k)
                loads.append(f"{sym.name} = B{j}[{k.rows[s]} * {k.n} + {'i' if full else 0}]")
            else:
                arrays.append(s)
                j = len(arrays) - 1
                loads.append(f"{sym.name} = A{j}[a{j} + {'i' if full else 0}]")
        self.arrays, self.srcs = tuple(arrays), tuple(srcs)
        self.inputs = tuple(g.inputs)
        params = ", ".join(["n"] + [f"A{j}, a{j}" for j in range(len(arrays))]
                           + [f"B{j}" for j in range(len(srcs))] + ["OUT"])
        dt = self.dtype.name
        body = [f"    {c} = np.{dt}({v!r})" for v, c in b.consts.items()]
        body += ["    i = cuda.grid(1)", "    step = cuda.gridsize(1)", "    while i < n:"]
        body += ["        " + _cuda_line(ln) for ln in loads + b.lines]
        body += [f"        OUT[{r} * n + i] = {g.syms[s].name}" for r, s in enumerate(rows)]
        body.append("        i += step")
        self.source = f"def kernel({params}):\n" + "\n".join(body) + "\n"
        self.fn = None
        self.buf = None if fresh else self._alloc()
        self.views = tuple((s, self.rows[s]) for s in views)
        self.fixed_views = None if fresh else tuple((s, self.buf[r].reshape(self.shape)) for s, r in self.views)
        group.kernel = self

    def _alloc(self):
        from ..cuda.array import CudaArray
        return CudaArray.empty((max(len(self.rows), 1), self.n), self.dtype)

    def compile(self):
        """Build the ``@cuda.jit`` dispatcher (numba.cuda compiles it on the first launch)."""
        from ..cuda import _nb
        from numba import from_dtype, types
        from ..cuda.kernels import scalar_ops
        T = from_dtype(self.dtype)
        ns = {"cuda": _nb.cuda, "math": math, "np": np}
        ns.update({f"f_{f}": scalar_ops.device_fn(f, T, True) for f in _FUNCS + ("erf",)})
        exec(compile(self.source, "<tapegrad fused cuda kernel>", "exec"), ns)
        # an explicit signature compiles now, in the compiling thread: a kernel numba rejects leaves
        # the program unfused (Note [background compile]) instead of failing a replay
        vec = types.Array(T, 1, "A")
        sig = types.void(types.int64, *[t for _ in self.arrays for t in (vec, types.int64)],
                         *[vec for _ in self.srcs], vec)
        self.fn = _nb.cuda.jit(sig)(ns["kernel"])

    def __call__(self, vals):
        from ..cuda import _nb
        buf = self.buf
        if self.fresh:
            buf = self.buf = self._alloc()
        args = [self.n]         # the signature's int64s: Python ints
        for s in self.arrays:
            a = vals[s]
            if not a.is_contiguous:
                a = a.copy()
            args += (a.buf, a.off)
        args += [k.buf.buf for k in self.srcs]
        args.append(buf.buf)
        grid, block = _nb.grid_for(self.n)
        self.fn[grid, block](*args)
        self._publish(vals, buf)

