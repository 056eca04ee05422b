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


def lift(x, like=None, dtype=None):
    """A constant (Python number, backend or NumPy array, NumPy scalar) as a Tensor without history.

    In graph mode a VJP's constants must live where its gradients live: ``like``
    (a Tensor) gives the device, ``dtype`` (NumPy or tapegrad) the dtype; a
    Tensor is returned as it is (cast to ``dtype`` when given). Python numbers
    take ``like``'s dtype when they can, as they do next to a tensor in forward.

    Example:
        >>> import tapegrad
        >>> from tapegrad.ops.graph_math import lift
        >>> g = tapegrad.ones(2, dtype=tapegrad.float64)
        >>> c = lift(0.5, like=g)
        >>> c.dtype, c.device.type, c.requires_grad
        (tapegrad.float64, 'cpu', False)
    """
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(D.to_dtype(dtype))
    be = B.CPU_BACKEND if like is None else B.BY_TYPE[like._data.__class__]
    if dtype is not None:
        np_dtype = D.to_dtype(dtype).np
    elif like is not None and (x.__class__ is float or x.__class__ is int) and like._data.dtype.kind == "f":
        np_dtype = like._data.dtype
    else:
        np_dtype = None
    if x.__class__ in B.BY_TYPE and B.BY_TYPE[x.__class__] is not be:
        x = B.BY_TYPE[x.__class__].to_numpy(x)       # a constant array from another device
    arr = be.asarray(x, np_dtype) if np_dtype is not None else be.asarray(x)
    return Tensor._make(arr, None)


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

    lift = staticmethod(lift)


TENSOR_MATH = _TensorMath()
