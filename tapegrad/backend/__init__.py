"""Array backends: the narrow array-level interface ops are written against.

``backend_for(array)`` finds the backend that owns an array; ``get(device)``
finds it by device; ``move(array, backend)`` carries an array to another backend. The CUDA backend registers itself when tapegrad.cuda is
first used, so ``import tapegrad`` never imports numba.cuda.
"""
from .base import ArrayBackend
from .numpy_backend import NumpyBackend, CPU_BACKEND

__all__ = ["ArrayBackend", "NumpyBackend", "CPU_BACKEND", "backend_for", "get", "move", "register"]

# array type -> backend. Read on the hot path (ops.registry.apply).
BY_TYPE = dict.fromkeys(CPU_BACKEND.array_types, CPU_BACKEND)
BY_DEVICE = {"cpu": CPU_BACKEND}


def register(backend):
    """Make a backend reachable by its array type(s) and device type."""
    for t in backend.array_types:
        BY_TYPE[t] = backend
    BY_DEVICE[backend.device_type] = backend


def backend_for(array):
    be = BY_TYPE.get(type(array))
    if be is None:
        raise TypeError(f"no tapegrad backend holds arrays of type {type(array).__name__}")
    return be


def get(device_type):
    """Return the backend of a device type ('cpu' or 'cuda'), loading CUDA on first use."""
    be = BY_DEVICE.get(device_type)
    if be is None:
        if device_type == "cuda":
            from ..cuda import _backend_or_raise
            be = _backend_or_raise()
        else:
            raise RuntimeError(f"unsupported device {device_type!r}; supported devices are 'cpu' and 'cuda'")
    return be


def move(array, dst):
    """Return ``array`` as an array of backend ``dst``: itself when ``dst`` already holds it, else a copy.

    The one place arrays cross devices (tensor ``.to``, ``Module.to``/``load_state_dict``, optimizer
    state loading); it moves arrays, never Tensors. A NumPy scalar (a 0-d CPU gradient) counts as a
    CPU array. The copy goes through the host.

    Example:
        >>> import numpy as np
        >>> from tapegrad import backend as B
        >>> a = np.ones(2)
        >>> B.move(a, B.CPU_BACKEND) is a
        True
    """
    src = BY_TYPE.get(type(array), CPU_BACKEND)
    return array if src is dst else dst.from_numpy(src.to_numpy(array))
