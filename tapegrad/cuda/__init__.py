"""``tapegrad.cuda``: tensors on an NVIDIA GPU through numba.cuda.

Importing this package does not import numba: the backend loads on first
use (``_backend_or_raise``), so ``import tapegrad`` stays light and works on
machines without a GPU. Under ``NUMBA_ENABLE_CUDASIM=1`` the same code runs
on numba's CPU simulator (how the tests run without a GPU).

Example:
    >>> import tapegrad
    >>> isinstance(tapegrad.cuda.is_available(), bool)
    True
"""
import importlib.util
import os

__all__ = ["is_available", "device_count", "synchronize", "memory_allocated", "max_memory_allocated",
           "reset_peak_memory_stats", "memory_reserved", "empty_cache", "from_dlpack", "current_device"]
__all__ += ["manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state", "set_rng_state",
            "get_rng_state_all", "set_rng_state_all"]
__all__ += ["launch_count"]

_STATE = {"backend": None}


def _simulated():
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


_NOT_INSTALLED = ('CUDA tensors need numba-cuda, which is not installed: pip install "tapegrad[cuda]" '
                  '(the CUDA target bundled with numba itself is deprecated and not used)')


def _numba_cuda_installed():
    """True when the numba-cuda package (the ``cuda`` extra) is installed; nothing is imported."""
    try:
        return importlib.util.find_spec("numba_cuda") is not None
    except (ImportError, ValueError):
        return False


def is_available():
    """True when CUDA tensors can be used (a GPU with a working driver, or numba's simulator).

    Example:
        >>> import tapegrad
        >>> tapegrad.cuda.is_available() in (True, False)
        True
    """
    if _STATE["backend"] is not None:
        return True
    if not _numba_cuda_installed():
        return False
    try:
        from . import _nb
    except Exception:       # numba-cuda broken or blocked
        return False
    return _nb.available()


def device_count():
    """Number of usable GPUs (0 or 1: tapegrad uses device 0 only)."""
    return 1 if is_available() else 0


def current_device():
    return 0


def _backend_or_raise():
    """The registered ``CudaBackend``; raises RuntimeError when there is no GPU (or simulator)."""
    be = _STATE["backend"]
    if be is not None:
        return be
    if not _numba_cuda_installed():
        raise RuntimeError(_NOT_INSTALLED)
    try:
        from . import _nb
    except ImportError as e:
        raise RuntimeError(_NOT_INSTALLED) from e
    if _nb.USE_POOL:
        from . import memory
        memory.install_pool()           # must precede the first CUDA context
    if not _nb.available():
        raise RuntimeError("CUDA is not available: no NVIDIA GPU with a working driver was found "
                           "(set NUMBA_ENABLE_CUDASIM=1 to use numba's CPU simulator)")
    from .backend import CudaBackend
    from .. import backend as B
    be = CudaBackend()
    B.register(be)
    _STATE["backend"] = be
    return be


def synchronize():
    """Wait until every queued kernel has finished (no-op when CUDA was never used)."""
    if _STATE["backend"] is not None:
        from . import _nb
        _nb.synchronize()


def launch_count():
    """How many kernels the CUDA backend has launched in this process (Note [launch counter] in cuda/_nb.py).

    Returns:
        An int that only grows; 0 while CUDA was never used. Count a piece of code as the difference
        of two readings.

    Example:
        >>> import tapegrad
        >>> isinstance(tapegrad.cuda.launch_count(), int)
        True
    """
    if _STATE["backend"] is None:
        return 0
    from . import _nb
    return _nb.LAUNCHES[0]


def memory_allocated():
    """Bytes held by live CUDA tensors."""
    if _STATE["backend"] is None:
        return 0
    from . import memory
    return memory.memory_allocated()


def max_memory_allocated():
    """Peak of ``memory_allocated()`` since start (or ``reset_peak_memory_stats``)."""
    if _STATE["backend"] is None:
        return 0
    from . import memory
    return memory.max_memory_allocated()


def reset_peak_memory_stats():
    if _STATE["backend"] is not None:
        from . import memory
        memory.reset_peak_memory_stats()


def memory_reserved():
    """Bytes obtained from the driver, cached blocks included."""
    if _STATE["backend"] is None:
        return 0
    from . import memory
    return memory.memory_reserved()


def empty_cache():
    """Give cached, unused device blocks back to the driver; live tensors are untouched."""
    if _STATE["backend"] is not None:
        from . import memory
        memory.empty_cache()


def _foreign_array(data):
    """The backend array sharing memory with ``data``: a ``CudaArray`` for an object exposing
    ``__cuda_array_interface__``, a NumPy array for a CPU ``__dlpack__`` one.

    A backend never builds a Tensor (Note [the tape floor] in tapegrad/tape/__init__.py):
    ``_creation.from_dlpack`` wraps what this returns.
    """
    from .. import _dtype as D
    import numpy as np
    if not hasattr(data, "__cuda_array_interface__"):
        if hasattr(data, "__dlpack__"):
            dev = data.__dlpack_device__()[0] if hasattr(data, "__dlpack_device__") else 1
            if dev == 1:                                          # kDLCPU
                a = np.from_dlpack(data)
                D.from_numpy_dtype(a.dtype)                       # refuse dtypes PyTorch lacks
                return a
        raise TypeError(f"cannot share memory with {type(data).__name__}: it exposes neither "
                        "__cuda_array_interface__ nor a CPU __dlpack__")
    _backend_or_raise()
    from .array import CudaArray
    from . import _nb
    desc = data.__cuda_array_interface__
    dt = np.dtype(desc["typestr"])
    D.from_numpy_dtype(dt)
    from .array import DTYPES, unsupported_dtype
    if dt not in DTYPES:
        raise unsupported_dtype(dt)
    shape = tuple(desc["shape"])
    isz = dt.itemsize
    strides = desc.get("strides")
    st = tuple(s // isz for s in strides) if strides else None
    if st is not None and any(s < 0 or s % 1 for s in st):
        raise TypeError("from_dlpack: arrays with negative strides are not supported")
    from .array import contiguous_strides
    st = st if st is not None else contiguous_strides(shape)
    span = 1 + sum((n - 1) * s for n, s in zip(shape, st)) if all(shape) else 0
    buf = _nb.wrap_pointer(desc["data"][0], span, dt, data)
    return CudaArray(buf, shape, st, 0, None, dt)


def from_dlpack(data):
    """A tensor sharing memory with a CUDA array from another library (PyTorch, CuPy, numba) or a CPU array.

    Example:
        >>> import numpy as np, tapegrad
        >>> tapegrad.cuda.from_dlpack(np.arange(3.0)).tolist()
        [0.0, 1.0, 2.0]
    """
    from .._creation import from_dlpack as _from_dlpack    # the public face sits above creation
    return _from_dlpack(data)


# ---------------------------------------------------------------- the CUDA random stream (as torch.cuda.random)
def _cuda_generator(fn):
    """The default generator of the CUDA backend, or None when CUDA is not available (torch then does nothing)."""
    if not is_available():
        return None
    from .. import _generator as G
    return G.default_for(_backend_or_raise())


def manual_seed(seed):
    """Seed the CUDA stream (device 0); silently does nothing when CUDA is not available, as torch.

    Example:
        >>> import tapegrad
        >>> tapegrad.cuda.manual_seed(0)
    """
    from .._generator import _check_seed
    seed = _check_seed(int(seed), "manual_seed")
    g = _cuda_generator("manual_seed")
    if g is not None:
        g.manual_seed(seed)


manual_seed_all = manual_seed       # tapegrad has one GPU


def seed():
    """Seed the CUDA stream from a fresh random number (no-op without CUDA).

    Example:
        >>> import tapegrad
        >>> tapegrad.cuda.seed()
    """
    g = _cuda_generator("seed")
    if g is not None:
        g.seed()


seed_all = seed


def initial_seed():
    """The seed the CUDA stream was last reset with; raises when CUDA is not available.

    Example:
        >>> import tapegrad
        >>> tapegrad.cuda.initial_seed() if tapegrad.cuda.is_available() else 0
        0
    """
    g = _cuda_generator("initial_seed")
    if g is None:
        _backend_or_raise()
    return g.initial_seed()


def get_rng_state(device="cuda"):
    """The CUDA stream's state as a uint8 tensor (on the CPU, as torch); raises when CUDA is not available.

    Example:
        >>> import tapegrad
        >>> callable(tapegrad.cuda.get_rng_state)
        True
    """
    _backend_or_raise()
    return _cuda_generator("get_rng_state").get_state()


def set_rng_state(new_state, device="cuda"):
    """Restore the CUDA stream from ``get_rng_state``; raises when CUDA is not available.

    Example:
        >>> import tapegrad
        >>> callable(tapegrad.cuda.set_rng_state)
        True
    """
    _backend_or_raise()
    _cuda_generator("set_rng_state").set_state(new_state)


def get_rng_state_all():
    """``[get_rng_state()]``: one state per GPU, and tapegrad has one.

    Example:
        >>> import tapegrad
        >>> callable(tapegrad.cuda.get_rng_state_all)
        True
    """
    return [get_rng_state()]


def set_rng_state_all(new_states):
    """Restore the states of ``get_rng_state_all``.

    Example:
        >>> import tapegrad
        >>> callable(tapegrad.cuda.set_rng_state_all)
        True
    """
    for s in new_states:
        set_rng_state(s)


def __getattr__(name):
    # tapegrad.cuda.amp: the CUDA aliases of tapegrad.amp (made there, above this floor)
    if name == "amp":
        from .. import amp
        return amp.cuda_amp
    raise AttributeError(f"module 'tapegrad.cuda' has no attribute {name!r}")
