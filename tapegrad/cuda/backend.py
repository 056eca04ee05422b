"""``CudaBackend``: the array-level interface of ``backend/numpy_backend.py`` over ``CudaArray``.

Every method runs numba.cuda kernels; nothing goes through the host except
the explicit copies (``from_numpy``/``to_numpy``) and the few reads NumPy's
semantics need (index bounds, ``nonzero``'s count). A method the GPU cannot
run is never run on the CPU instead: reading it raises ``BackendMissing``
(backend/base.py), an ``AttributeError`` for capability probes that is also
the ``NotImplementedError`` an op then raises, naming itself.
"""
import numpy as np

from ..backend.base import ArrayBackend, declared_methods, missing
from .array import CudaArray, DTYPES
from .kernels import creation as C
from .kernels import elementwise as E
from .kernels import indexing as X
from .kernels import matmul as MM
from .kernels import movement as M
from .kernels import optim as O
from .kernels import random as R
from .kernels import reduce as RD
from .kernels import rows as RW
from .kernels import scalar_ops
from .kernels import sort as SO
from .kernels import scan as SC
from .kernels import linalg as LA
from .einsum import einsum as _einsum


_DECLARED = declared_methods()


def _ew(name):
    def f(*args):
        return E.apply(name, args)
    f.__name__ = name
    return staticmethod(f)


def _red(name):
    def f(x, axis=None, keepdims=False):
        return RD.reduce(name, x, axis, keepdims)
    f.__name__ = name
    return staticmethod(f)


class CudaBackend(ArrayBackend):
    """Backend over ``CudaArray`` (numba device memory); same names and semantics as ``NumpyBackend``."""
    device_type = "cuda"
    array_types = (CudaArray,)
    array_type = CudaArray
    dtypes = DTYPES

    def __init__(self):
        self.rng = R.Philox(0)

    # creation
    @staticmethod
    def asarray(x, dtype=None):
        if isinstance(x, CudaArray):
            return x if dtype is None else E.astype(x, dtype)
        return CudaArray.from_numpy(np.asarray(x, dtype=dtype))

    @staticmethod
    def zeros(shape, dtype=float):
        return C.full(_shape(shape), 0, np.dtype(dtype))

    @staticmethod
    def ones(shape, dtype=float):
        return C.full(_shape(shape), 1, np.dtype(dtype))

    @staticmethod
    def empty(shape, dtype=float):
        return CudaArray.empty(_shape(shape), np.dtype(dtype))

    @staticmethod
    def full(shape, value, dtype):
        return C.full(_shape(shape), value, np.dtype(dtype) if dtype is not None else np.result_type(value))

    arange = staticmethod(C.arange)
    eye = staticmethod(C.eye)

    @staticmethod
    def to_numpy(x):
        return x.get()

    @staticmethod
    def from_numpy(a):
        return CudaArray.from_numpy(a)

    @staticmethod
    def copy(x):
        return E.copy(x)

    @staticmethod
    def astype(x, dtype):
        return E.astype(x, dtype)

    @staticmethod
    def is_view(x):
        return x.base is not None

    @staticmethod
    def is_contiguous(x):
        return x.is_contiguous

    # random
    def seed(self, s):
        self.rng.seed(s)

    def rand(self, shape, dtype):
        if np.dtype(dtype) == np.float16:
            # multiples of 2**-11, as torch's float16 uniforms: a float32 uniform rounded to float16 could be 1.0
            u = self.rng.draw("rand", _shape(shape), np.float32, compute=np.float32)
            return E.astype(E.apply("floor", (u * 2048.0,)) * (1.0 / 2048.0), np.float16)
        return self.rng.draw("rand", _shape(shape), dtype, compute=_fdt(dtype))

    def randn(self, shape, dtype):
        return self.rng.draw("randn", _shape(shape), dtype, compute=_fdt(dtype))

    def randint(self, low, high, shape, dtype):
        return self.rng.draw("randint", _shape(shape), dtype, a=int(high) - int(low), b=int(low),
                             compute=np.float64)

    def bernoulli(self, p, shape, dtype):
        if isinstance(p, CudaArray):
            return E.astype(self.rand(p.shape, p.dtype if p.dtype.kind == "f" else np.float32) < p, dtype)
        return E.astype(self.rng.draw("bernoulli", _shape(shape), np.bool_, a=float(p)), dtype)

    def permutation(self, n):
        return SO.permutation(self.rng, n)

    # elementwise: one method per scalar op the interface declares (identity is the cast/copy kernel; clip has
    # its own method; add, multiply, neg... are kernels for CudaArray's operators, which arithmetic uses)
    for _n in scalar_ops.OPS:
        if _n in _DECLARED and _n != "clip":
            locals()[_n] = _ew(_n)
    del _n

    @staticmethod
    def clip(x, lo=None, hi=None):
        if lo is None and hi is None:
            raise ValueError("clip: one of lo or hi must be given")
        if lo is None:
            return E.apply("minimum", (x, hi))
        if hi is None:
            return E.apply("maximum", (x, lo))
        return E.apply("clip", (x, lo, hi))

    # reductions
    for _n in ("sum", "prod", "max", "min", "argmax", "argmin", "any", "all"):
        locals()[_n] = _red(_n)
    del _n

    # movement
    reshape = staticmethod(M.reshape)
    transpose = staticmethod(M.transpose)
    broadcast_to = staticmethod(M.broadcast_to)
    expand_dims = staticmethod(M.expand_dims)
    squeeze = staticmethod(M.squeeze)
    flip = staticmethod(X.flip)
    tile = staticmethod(M.tile)
    ascontiguousarray = staticmethod(M.ascontiguousarray)
    take_along_axis = staticmethod(X.take_along_axis)
    take = staticmethod(X.take)
    nonzero = staticmethod(X.nonzero)
    concatenate = staticmethod(M.concatenate)
    stack = staticmethod(M.stack)
    getitem = staticmethod(X.getitem)
    setitem = staticmethod(X.setitem)
    scatter_add = staticmethod(X.scatter_add)
    sliding_windows = staticmethod(M.sliding_windows)
    as_strided = staticmethod(M.as_strided)

    # scans and sorting along one axis
    for _n in ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"):
        locals()[_n] = staticmethod(lambda x, axis, _n=_n: SC.scan(_n, x, axis))
    del _n
    argsort = staticmethod(SO.argsort)
    searchsorted = staticmethod(SO.searchsorted)

    # linear algebra
    matmul = staticmethod(MM.matmul)

    einsum = staticmethod(_einsum)
    # dense linear algebra (Note [one thread per matrix] in kernels/linalg.py); the rest raise BackendMissing
    inv = staticmethod(LA.inv)
    solve = staticmethod(LA.solve)
    cholesky = staticmethod(LA.cholesky)

    # fused rows, one launch each (Note [fused rows on CUDA] in kernels/rows.py); other dtypes composed
    def ce_rows(self, x, t, ignore_index):
        if x.dtype.kind != "f" or x.ndim != 2:
            return ArrayBackend.ce_rows(self, x, t, ignore_index)
        return RW.ce_rows(x, t, ignore_index)

    def ce_rows_grad(self, x, t, ignore_index, scale):
        if x.dtype.kind != "f" or x.ndim != 2 or not isinstance(scale, CudaArray) or scale.ndim != 1:
            return ArrayBackend.ce_rows_grad(self, x, t, ignore_index, scale)
        return RW.ce_rows_grad(x, t, ignore_index, scale)

    def softmax_rows(self, x):
        if x.dtype.kind != "f" or x.ndim != 2:
            return ArrayBackend.softmax_rows(self, x)
        return RW.softmax_rows(x)

    # fused optimizer updates (see kernels/optim.py for the signatures)
    sgd_update_ = staticmethod(O.sgd_update_)
    adam_update_ = staticmethod(O.adam_update_)

    def __getattr__(self, name):
        # Only reached for names not found: a method the NumPy backend has and this one lacks.
        if name.startswith("__"):
            raise AttributeError(name)
        raise missing(self, name)


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def _fdt(dtype):
    d = np.dtype(dtype)
    if d == np.float16:                 # float16 draws are made in float32 and rounded (as elementwise ops)
        return np.dtype(np.float32)
    return d if d.kind == "f" else np.dtype(np.float64)
