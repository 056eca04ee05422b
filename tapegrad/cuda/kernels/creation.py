"""Filled arrays built on the device: full, arange, eye."""
import numpy as np

from .. import _nb
from ..array import CudaArray
from . import elementwise as E

_KERNELS = {}


def full(shape, value, dtype):
    out = CudaArray.empty(shape, dtype)
    if out.size:
        E.assign(out, value)
    return out


def _affine_kernel():
    k = _KERNELS.get("affine")
    if k is None:
        global cuda  # a module global: the simulator swaps in its fake module by scanning globals
        cuda = _nb.cuda

        def affine(n, start, step, out):
            # out[i] = start + i * step, computed in float64 then cast (NumPy's arange).
            i = cuda.grid(1)
            s = cuda.gridsize(1)
            while i < n:
                out[i] = start + i * step
                i += s
        k = _KERNELS["affine"] = cuda.jit(affine)
    return k


def arange(start, stop, step, dtype):
    n = max(0, int(np.ceil((stop - start) / step)))
    dtype = np.dtype(dtype) if dtype is not None else np.result_type(start, stop, step)
    out = CudaArray.empty((n,), dtype)
    if n:
        grid, block = _nb.grid_for(n)
        _affine_kernel()[grid, block](n, float(start), float(step), out.buf)
    return out


def eye(n, m, dtype):
    m = n if m is None else m
    out = full((n, m), 0, dtype)
    k = min(n, m)
    if k:
        diag = CudaArray(out.buf, (k,), (m + 1,), 0, out, out.dtype)
        E.assign(diag, 1)
    return out
