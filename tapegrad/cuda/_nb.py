"""The one module that imports numba.cuda (GPU.md: keep numba behind one module).

Launch and tile parameters live here too: the simulator runs every thread as a
Python thread (~0.2 ms each), so under ``NUMBA_ENABLE_CUDASIM=1`` blocks and
tiles are tiny, which also exercises the multi-block and grid-stride paths.
"""
import numpy as np
from numba import config, cuda

SIMULATOR = bool(config.ENABLE_CUDASIM)

if SIMULATOR:
    BLOCK = 8              # threads per block, elementwise and per-output reductions
    MAX_GRID = 2           # grid-stride loops cover the rest
    RED_BLOCK = 8          # threads per block in block-per-row reductions (power of two)
    MM_TILES = ((4, 4, 8, 2, 2),)                       # (BM, BN, BK, TM, TN); BK=8: few syncthreads rounds
else:
    BLOCK = 256
    MAX_GRID = 132 * 32
    RED_BLOCK = 256
    # Large tiles for big products, a smaller one when the large grid would under-fill 132 SMs.
    MM_TILES = ((128, 128, 8, 8, 8), (64, 64, 8, 4, 4))

# The pooling External Memory Manager needs a real driver (the simulator has no EMM).
USE_POOL = not SIMULATOR


# Note [simulated shared arrays]
# numba's simulator runs a block's threads as Python threads and gives them one
# shared array per source line: the first thread to reach ``cuda.shared.array``
# makes it, the others look it up (``FakeCUDAShared.array``). The look-up and the
# store are not atomic, so when the interpreter switches threads between them
# two threads of a block get different arrays and a tree reduction in shared
# memory reads memory nobody wrote: rarely, a row's softmax came out as
# -1.2e-35 (an exp divided by a garbage sum) in the compile harness. A GPU has
# no such race. Under the simulator, the same look-up runs under a lock, keyed
# as numba keys it (the caller's file and line), so a block's threads share
# one array as they do on a device.
def _lock_simulated_shared_arrays():
    import sys
    import threading
    from numba.core import types
    from numba.np import numpy_support
    from numba.cuda.simulator import kernelapi

    cls = kernelapi.FakeCUDAShared
    if getattr(cls.array, "_tapegrad_locked", False):
        return
    original, lock = cls.array, threading.Lock()

    def array(self, shape, dtype, alignment=None):
        if alignment is not None or shape == 0:        # errors and dynamic shared memory: numba's own path
            return original(self, shape, dtype, alignment)
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        f = sys._getframe(1)
        caller = (f.f_code.co_filename, f.f_lineno)
        with lock:
            res = self._allocations.get(caller)
            if res is None:
                res = self._allocations[caller] = kernelapi.np.empty(shape, dtype)
        return res
    array._tapegrad_locked = True
    cls.array = array


if SIMULATOR:
    _lock_simulated_shared_arrays()


def available():
    """True when kernels can run here (a GPU, or the simulator)."""
    try:
        return bool(cuda.is_available())
    except Exception:          # a broken driver install must read as "no GPU", not crash
        return False


def device_array(n, dtype):
    return cuda.device_array(n, dtype=dtype)


def to_device(a):
    return cuda.to_device(np.ascontiguousarray(a).reshape(-1))


def data_pointer(buf):
    """The address of a 1-D buffer's first element."""
    if SIMULATOR:
        return buf._ary.ctypes.data
    return buf.__cuda_array_interface__["data"][0]


def wrap_pointer(ptr, n, dtype, owner):
    """A 1-D buffer of ``n`` elements at device address ``ptr``, keeping ``owner`` alive (zero-copy)."""
    desc = {"shape": (n,), "strides": None, "typestr": np.dtype(dtype).str, "data": (ptr, False),
            "version": 3}
    if SIMULATOR:
        import ctypes
        from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray
        raw = (ctypes.c_byte * max(n * np.dtype(dtype).itemsize, 1)).from_address(ptr)
        arr = np.frombuffer(raw, dtype=dtype, count=n)
        buf = FakeCUDAArray(arr)
        buf._tapegrad_owner = owner
        return buf
    return cuda.from_cuda_array_interface(desc, owner=owner, sync=True)


def synchronize():
    cuda.synchronize()


def grid_for(n, block=None):
    block = block or BLOCK
    return max(1, min(MAX_GRID, (n + block - 1) // block)), block


# Note [launch counter]
# Every kernel launch is ``kernel[grid, block](...)``: the ``[grid, block]``
# configures one launch. Rather than touch each launch site, the dispatcher's
# ``__getitem__`` is wrapped once here to add one to ``LAUNCHES[0]`` (a list
# cell: a Python add per launch, always on). ``tapegrad.cuda.launch_count()``
# reads it; tests count a step's launches as a difference of two readings.
# ``SITES`` is None, or a list that ``record_sites`` fills with where each launch came from (a debugging
# aid: one attribute test per launch when off).
LAUNCHES = [0]
SITES = [None]


def _count_launches(cls):
    inner = cls.__getitem__
    if getattr(inner, "_tapegrad_counted", False):
        return

    def __getitem__(self, conf, _inner=inner, _n=LAUNCHES, _sites=SITES):
        _n[0] += 1
        if _sites[0] is not None:
            _sites[0].append(_site(self))
        return _inner(self, conf)
    __getitem__._tapegrad_counted = True
    cls.__getitem__ = __getitem__


class record_sites:
    """``with record_sites() as sites:`` collects ``(kernel, caller)`` for each launch inside the block."""

    def __enter__(self):
        self.prev, SITES[0] = SITES[0], []
        return SITES[0]

    def __exit__(self, *exc):
        SITES[0] = self.prev


def _site(kernel):
    """``(kernel name, the first caller outside tapegrad/cuda as file:line function)`` of a launch."""
    import os
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    f = sys._getframe(2)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(here + os.sep):
        f = f.f_back
    fn = getattr(kernel, "py_func", None) or getattr(kernel, "fn", None)
    name = getattr(fn, "__name__", type(kernel).__name__)
    if f is None:
        return name, "<tapegrad.cuda>"
    code = f.f_code
    return name, f"{os.path.relpath(code.co_filename)}:{f.f_lineno} {code.co_name}"


if SIMULATOR:
    from numba.cuda.simulator.kernel import FakeCUDAKernel as _Kernel
else:
    from numba.cuda.dispatcher import CUDADispatcher as _Kernel
_count_launches(_Kernel)
