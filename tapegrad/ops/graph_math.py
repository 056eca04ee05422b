"""The graph-mode math namespace ``TENSOR_MATH`` (Note [two-mode VJPs] in registry.py).

Under ``create_graph=True`` the engine hands VJPs this namespace as ``F``:
the backend's names, implemented by recorded ops on Tensors, so the VJP
itself lands on the tape. It lives in ``ops/`` and is imported downward by the
engine (Note [the tape floor] in tape/__init__.py).
"""
import inspect

from .. import _dtype as D
from .. import backend as B
from .._tensor import Tensor
from .._creation import tensor as _tensor
from .registry import REGISTRY, apply

__all__ = ["TENSOR_MATH", "lift"]


def lift(F, x, like=None, dtype=None):
    """A constant (Python number, NumPy or backend array, NumPy scalar) in ``F``'s mode, on ``like``'s device.

    Note [constants in VJPs]: a VJP's constants must live where its gradients
    live. In an ordinary backward (``F`` a backend) the result is an array of
    that backend; under ``create_graph`` (``F`` is ``TENSOR_MATH``) it is a
    Tensor without history on the device of ``like`` (a Tensor; the CPU when
    None). A Python number takes ``like``'s dtype when ``like`` is floating
    point, as it does next to a tensor in forward; ``dtype`` (NumPy or
    tapegrad) overrides. A Tensor is returned as it is (cast to ``dtype``).

    Example:
        >>> import tapegrad
        >>> from tapegrad.backend import CPU_BACKEND
        >>> from tapegrad.ops.graph_math import TENSOR_MATH, lift
        >>> g = tapegrad.ones(2, dtype=tapegrad.float64)
        >>> c = lift(TENSOR_MATH, 0.5, like=g)
        >>> c.dtype, c.device.type, c.requires_grad
        (tapegrad.float64, 'cpu', False)
        >>> lift(CPU_BACKEND, 0.5, like=g._data).dtype
        dtype('float64')
    """
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(D.to_dtype(dtype))
    graph = F is TENSOR_MATH
    ref = (like._data if graph else like) if like is not None else None
    if graph:
        be = B.CPU_BACKEND if ref is None else B.BY_TYPE.get(ref.__class__, B.CPU_BACKEND)
    else:
        be = F
    if dtype is not None:
        np_dtype = D.to_dtype(dtype).np
    elif ref is not None and (x.__class__ is float or x.__class__ is int) and ref.dtype.kind == "f":
        np_dtype = ref.dtype
    else:
        np_dtype = None
    other = B.BY_TYPE.get(x.__class__)
    if other is not None and other is not be:
        x = other.to_numpy(x)                 # a constant array from another device
    arr = be.asarray(x) if np_dtype is None else be.asarray(x, np_dtype)
    return Tensor._make(arr, None) if graph else arr


class _TensorMath:
    """Note [two-mode VJPs]: the backend's names, implemented by recorded ops on Tensors.

    An attribute is looked up in the registry by name on first use, so every op
    whose forward mirrors a backend method is reachable as ``TENSOR_MATH.<name>``.
    """
    def __getattr__(self, name):
        d = REGISTRY.get(name)
        if d is None:
            raise AttributeError(f"no op named {name!r} is registered (needed by a VJP under create_graph)")

        # The backend takes shapes/axes/dtypes positionally (``reshape(g, shape)``) but
        # an op needs them as keyword params (recorded in the node, passed to its VJP):
        # trailing positional arguments that are not tensors, arrays or numbers, or
        # that fill forward parameters with defaults, become keywords.
        sig = [p for p in inspect.signature(d.forward).parameters.values()
               if p.kind == p.POSITIONAL_OR_KEYWORD][1:]

        def is_param(i, a):
            return sig[i].default is not inspect.Parameter.empty or not (
                isinstance(a, (Tensor, int, float)) or type(a) in B.BY_TYPE)

        def f(*args, **params):
            n = len(args)
            while n > 1 and n - 1 < len(sig) and is_param(n - 1, args[n - 1]):
                n -= 1
                params[sig[n].name] = args[n]
            return apply(d, *args[:n], **params)
        f.__name__ = name
        setattr(self, name, f)
        return f

    @staticmethod
    def asarray(x, dtype=None):
        if dtype is None:
            return Tensor._coerce(x)
        # Honour dtype: a float32 constant would silently downcast a float64 gradient.
        if isinstance(x, Tensor):
            return x.to(D.to_dtype(dtype))
        return _tensor(x, dtype=D.to_dtype(dtype))

    @staticmethod
    def lift(x, like=None, dtype=None):
        """``lift(TENSOR_MATH, x, like, dtype)`` (Note [constants in VJPs])."""
        return lift(TENSOR_MATH, x, like, dtype)


TENSOR_MATH = _TensorMath()
