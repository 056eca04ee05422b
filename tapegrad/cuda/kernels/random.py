"""Counter-based device RNG: Philox4x32-10 (Salmon et al., 2011).

Element ``i`` of a draw is a pure function of (seed, draw offset, i), so every
thread generates its own values with no state in memory and a seed gives the
same stream on any grid. The host only advances the offset after each draw.
Uniforms use the top 24 (float32) or 53 (float64) bits; normals Box-Muller.
"""
import math

import numpy as np

from .. import _nb
from ..array import CudaArray

_KERNELS = {}
_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85


def _device_fns():
    fns = _KERNELS.get("fns")
    if fns is None:
        from numba import uint32, uint64, float32, float64
        global cuda  # a module global: the simulator swaps in its fake module by scanning globals
        cuda = _nb.cuda

        @cuda.jit(device=True, inline="always")
        def mulhilo(a, b):
            p = uint64(a) * uint64(b)
            return uint32(p >> uint64(32)), uint32(p & uint64(0xFFFFFFFF))

        @cuda.jit(device=True, inline="always")
        def philox(c0, c1, c2, c3, k0, k1):
            for _ in range(10):
                hi0, lo0 = mulhilo(uint32(_M0), c0)
                hi1, lo1 = mulhilo(uint32(_M1), c2)
                c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
                k0 = uint32((uint64(k0) + uint64(_W0)) & uint64(0xFFFFFFFF))
                k1 = uint32((uint64(k1) + uint64(_W1)) & uint64(0xFFFFFFFF))
            return c0, c1, c2, c3

        @cuda.jit(device=True, inline="always")
        def uniform32(x):
            # 24 random bits in [0, 1), float32 math only
            return float32(x >> uint32(8)) * float32(5.9604644775390625e-08)

        @cuda.jit(device=True, inline="always")
        def uniform64(x, y):
            # 53 random bits in [0, 1)
            return float64((uint64(x) >> uint64(5)) * uint64(67108864) + (uint64(y) >> uint64(6))) * \
                float64(1.1102230246251565e-16)

        fns = _KERNELS["fns"] = (philox, uniform32, uniform64)
    return fns


def _kernel(kind, T):
    """The draw kernel of ``kind`` computing in ``T`` (float32 or float64, a numba type)."""
    key = (kind, str(T))
    k = _KERNELS.get(key)
    if k is None:
        from numba import uint32, uint64, float64, int64
        global cuda  # a module global: the simulator swaps in its fake module by scanning globals
        cuda = _nb.cuda
        philox, uniform32, uniform64 = _device_fns()

        def draw(n, k0, k1, ctr, a, b, out):
            i = cuda.grid(1)
            step = cuda.gridsize(1)
            while i < n:
                c = uint64(ctr) + uint64(i)
                r0, r1, r2, r3 = philox(uint32(c & uint64(0xFFFFFFFF)), uint32(c >> uint64(32)),
                                        uint32(0), uint32(0), k0, k1)
                u = UNIFORM
                KIND
                i += step
        body = {
            "rand": "out[i] = u * T(a) + T(b)",
            "randn": "out[i] = math.sqrt(T(-2) * math.log(T(1) - u)) * math.cos(T(6.283185307179586) * U2)",
            # 64 random bits modulo the range: the bias is below 2**-32 for any int64 range in use
            "randint": "out[i] = int64(b) + int64(((uint64(r0) << uint64(32)) | uint64(r1)) % uint64(a))",
            "bernoulli": "out[i] = u < T(a)",
        }[kind]
        f32 = str(T) == "float32"
        body = body.replace("U2", "uniform32(r2)" if f32 else "uniform64(r2, r3)")
        import inspect
        src = inspect.getsource(draw).replace("KIND", body).replace(
            "UNIFORM", "uniform32(r0)" if f32 else "uniform64(r0, r1)")
        src = "\n".join(line[8:] for line in src.splitlines()) + "\n"
        ns = {"cuda": cuda, "philox": philox, "uniform32": uniform32, "uniform64": uniform64, "T": T, "uint32": uint32, "uint64": uint64,
              "float64": float64, "int64": int64, "math": math}
        exec(compile(src, f"<tapegrad random {kind}>", "exec"), ns)
        k = _KERNELS[key] = cuda.jit(ns["draw"])
    return k


class Philox:
    """The device generator: a key (from the seed) and a counter offset advanced per draw."""

    def __init__(self, seed=0):
        self.seed(seed)

    def seed(self, s):
        s = int(s) & 0xFFFFFFFFFFFFFFFF
        self.k0, self.k1 = np.uint32(s & 0xFFFFFFFF), np.uint32(s >> 32)
        self.offset = 0

    def draw(self, kind, shape, dtype, a=1.0, b=0.0, compute=np.float32):
        """Fill a new array of ``dtype``; ``compute`` is the float type the uniforms are made in."""
        from .elementwise import nb_type
        out = CudaArray.empty(shape, dtype)
        n = out.size
        if n:
            # Scalars in the compute type: a float64 argument would put f64 converts into float32 kernels.
            a, b = (np.int64(a), np.int64(b)) if kind == "randint" else (np.dtype(compute).type(a),
                                                                         np.dtype(compute).type(b))
            grid, block = _nb.grid_for(n)
            _kernel(kind, nb_type(compute))[grid, block](n, self.k0, self.k1, np.uint64(self.offset), a, b, out.buf)
            self.offset += n
        return out
