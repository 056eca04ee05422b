"""The graph-mode math namespace ``TENSOR_MATH`` (Note [two-mode VJPs] in registry.py).

Under ``create_graph=True`` the engine hands VJPs this namespace as ``F``:
the backend's names, implemented by recorded ops on Tensors, so the VJP
itself lands on the tape. It lives in ``ops/`` and is imported downward by the
engine (Note [the tape floor] in tape/__init__.py).
"""
from .. import _dtype as D
from .. import backend as B
from .._tensor import Tensor
from .._creation import tensor as _tensor
from .registry import REGISTRY, apply

__all__ = ["TENSOR_MATH", "lift", "backend_array"]


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
    elif ref is not None and (x.__class__ is float or x.__class__ is int) and ref.dtype.kind in "fV":
        np_dtype = ref.dtype
    else:
        np_dtype = None
    other = B.BY_TYPE.get(x.__class__)
    if other is not None and other is not be:
        x = other.to_numpy(x)                 # a constant array from another device
    arr = be.asarray(x) if np_dtype is None else be.asarray(x, np_dtype)
    return Tensor._make(arr, None) if graph else arr


_BY_MATH_NAME = {}


def _index_math():
    for d in REGISTRY.values():
        if d.math is not None:
            _BY_MATH_NAME[d.math] = d


def _make(d, name):
    """The graph-mode function for op ``d``, binding its arguments from the declaration."""
    if d.bind is not None:
        bind = d.bind

        def f(*args, **kw):
            tensors, params = bind(*args, **kw)
            return apply(d, *tensors, **params)
    elif d.tensors == "*":
        def f(*args, **params):
            return apply(d, *args, **params)
    else:
        k = d.tensors
        names = d.params

        def f(*args, **params):
            if len(args) > k:
                extra = args[k:]
                if len(extra) > len(names):
                    raise TypeError(f"{name}() takes at most {k + len(names)} positional arguments "
                                    f"({len(args)} given)")
                for p, a in zip(names, extra):
                    if p in params:
                        raise TypeError(f"{name}() got multiple values for argument {p!r}")
                    params[p] = a
                args = args[:k]
            return apply(d, *args, **params)
    f.__name__ = name
    f.__qualname__ = "TENSOR_MATH." + name
    return f


def backend_array(x):
    """``(backend, array)`` behind a VJP value: a Tensor's under ``create_graph``, an array's otherwise.

    For VJPs that compute a constant (a mask, a one-hot target) with backend
    calls on raw arrays and then ``lift`` it into ``F``'s mode (Note [constants
    in VJPs]): no VJP asks which mode it is in.

    Example:
        >>> import tapegrad
        >>> from tapegrad.ops.graph_math import backend_array
        >>> t = tapegrad.ones(2)
        >>> be, a = backend_array(t)
        >>> be.device_type, a is t._data, backend_array(a)[1] is a
        ('cpu', True, True)
    """
    a = x._data if isinstance(x, Tensor) else x
    return B.BY_TYPE.get(a.__class__, B.CPU_BACKEND), a     # a 0-d NumPy result may be a NumPy scalar


class _TensorMath:
    """Note [two-mode VJPs]: the backend's names, implemented by recorded ops on Tensors.

    Generated from the op declarations (Note [tensor inputs] in registry.py):
    ``TENSOR_MATH.<name>`` exists for every op whose ``math`` name is ``<name>``
    and binds its arguments as the backend method of that name does, the
    declared tensors positionally and the rest as the op's params.
    """
    def __getattr__(self, name):
        d = _BY_MATH_NAME.get(name)
        if d is None:
            _index_math()
            d = _BY_MATH_NAME.get(name)
        if d is None:
            raise AttributeError(f"no op stands for the backend's {name!r} in the graph-mode namespace "
                                 "(needed by a VJP under create_graph)")
        f = _make(d, name)
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
