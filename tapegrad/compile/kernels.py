"""Fused kernels: the source of one numba ``@njit`` loop per fused group, its on-disk cache, and its runner.

The loop body is the scalar code ``symbolic.Builder`` wrote (Note [what may be
fused]); inputs are read at the flat index ``i`` (or 0 for one-element
inputs, once, before the loop, with every line that depends on nothing else:
Note [uniform lines] in compile/symbolic.py), values other groups or steps
read are stored into rows of the group's buffer (Note [memory plan] in
compile/plan.py). The source goes to a file named
by its hash under ``$TAPEGRAD_CACHE_DIR`` (default ``~/.cache/tapegrad/fused``),
so numba's ``cache=True`` keeps the machine code across processes: a kernel is
compiled once per machine, and the file is never rewritten (that would
invalidate numba's cache).
"""
import hashlib
import importlib.util
import os
import sys
import tempfile

import numpy as np

from ._published import Published

__all__ = ["build", "FusedKernel"]

_LOADED = {}            # source hash -> the jitted function

# Note [math in CPU kernels]
# numba types and lowers ``math.exp(x)`` on a scalar in fewer steps than the ufunc ``np.exp(x)`` (no ufunc
# loop lookup), and for float32 and float64 both call the same LLVM intrinsic or libm function with the
# same result type: bit-identical results, about 8% less compile time for a chain of tanh and exp. The
# CPU kernel's lines use ``math`` for these; symbolic.py keeps writing ``np.`` (the CUDA kernels map those
# names to their own device functions). Not ``floor`` (numba's ``math.floor`` returns an int) nor ``sign``.
_MATH = tuple((f"np.{f}(", f"math.{f}(") for f in
              ("exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh"))


def _cpu_line(line):
    if "np." in line:
        for a, b in _MATH:
            line = line.replace(a, b)
    return line


def _cache_dir():
    d = os.environ.get("TAPEGRAD_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "tapegrad")
    d = os.path.join(d, "fused")
    try:
        os.makedirs(d, exist_ok=True)
        return d
    except OSError:
        d = os.path.join(tempfile.gettempdir(), "tapegrad-fused")
        os.makedirs(d, exist_ok=True)
        return d


def _load(src):
    h = hashlib.sha1(src.encode()).hexdigest()[:20]
    fn = _LOADED.get(h)
    if fn is not None:
        return fn
    path = os.path.join(_cache_dir(), f"fused_{h}.py")
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(src)
        os.replace(tmp, path)
    name = f"tapegrad_fused_{h}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    fn = _LOADED[h] = mod.kernel
    return fn


class FusedKernel(Published):
    """One fused group at replay: flattens its inputs, runs the kernel, exposes the rows later steps read."""

    def __init__(self, group, rows, views, where, fresh):
        g, b = group, group.b
        self.shape, self.dtype, self.n = g.shape, g.dtype, b.n
        self.fresh = fresh
        self.nsteps = len(g.steps)
        self.rows = {s: r for r, s in enumerate(rows)}
        arrays, srcs, pre, loop = [], [], [], []      # Note [uniform lines]: pre runs once, loop per index
        for s, sym in g.inputs.items():
            full = sym.shape == g.shape and b.n != 1
            src = where.get(s)
            if src is not None:
                k = src.kernel
                if k not in srcs:
                    srcs.append(k)
                line = f"{sym.name} = B{srcs.index(k)}[{k.rows[s]}, {'i' if full else 0}]"
            else:
                arrays.append(s)
                line = f"{sym.name} = A{len(arrays) - 1}[{'i' if full else 0}]"
            (loop if full else pre).append(line)
        for line, uniform in zip(b.lines, b.uniform):
            (pre if uniform else loop).append(_cpu_line(line))
        self.arrays, self.srcs = tuple(arrays), tuple(srcs)
        self.inputs = tuple(g.inputs)
        params = ", ".join(["n"] + [f"A{j}" for j in range(len(arrays))] + [f"B{j}" for j in range(len(srcs))]
                           + ["OUT"])
        dt = np.dtype(g.dtype).name
        body = [f"    {c} = np.{dt}({v!r})" for v, c in b.consts.items()]
        body += ["    " + ln for ln in pre]
        body.append("    for i in range(n):")
        body += ["        " + ln for ln in loop]
        body += [f"        OUT[{r}, i] = {g.syms[s].name}" for r, s in enumerate(rows)]
        self.source = ("import math\nimport numpy as np\nfrom numba import njit\n\n\n"
                       "@njit(cache=True, nogil=True, error_model=\"numpy\")\n"
                       f"def kernel({params}):\n" + "\n".join(body) + "\n")
        self.fn = None
        self.buf = None if fresh else np.empty((len(rows), b.n), dt)
        self.views = tuple((s, self.rows[s]) for s in views)
        self.fixed_views = None if fresh else tuple((s, self.buf[r].reshape(self.shape)) for s, r in self.views)
        group.kernel = self

    def compile(self):
        """Load (and compile, or read from numba's disk cache) the kernel for C-ordered arrays."""
        fn = _load(self.source)
        dt = self.dtype
        fn(0, *[np.zeros(1, dt) for _ in self.arrays], *[np.zeros((len(k.rows), 1), dt) for k in self.srcs],
           np.zeros((len(self.rows), 1), dt))
        self.fn = fn

    def __call__(self, vals):
        fn = self.fn
        buf = self.buf
        if self.fresh:
            buf = self.buf = np.empty((len(self.rows), self.n), self.dtype)
        fn(self.n, *[vals[s].reshape(-1) for s in self.arrays], *[k.buf for k in self.srcs], buf)
        self._publish(vals, buf)



def build(group, rows, views, where, fresh):
    """The kernel of ``group`` (compiled on its first call): ``@njit`` on the CPU, ``@cuda.jit`` on CUDA."""
    from .. import backend as B
    if group.cls is not B.CPU_BACKEND.array_type:
        from .cuda_kernels import CudaFusedKernel
        return CudaFusedKernel(group, rows, views, where, fresh)
    return FusedKernel(group, rows, views, where, fresh)
