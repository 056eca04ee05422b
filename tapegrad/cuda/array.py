"""``CudaArray``: an n-d strided view over a flat numba device buffer.

Every view (reshape of contiguous data, transpose, broadcast with stride 0,
basic slicing) is metadata only: ``(buf, offset, shape, strides)`` in
elements, with ``base`` naming the array that owns the memory. Kernels take
the flat buffer plus offset and strides, so views never copy. Strides are
never negative (flip copies, as ``torch.flip`` does), which lets index math
stay unsigned.
"""
import numpy as np

from . import _nb
from . import memory


# The kernels are written and tested for these dtypes; others (bfloat16, complex) are refused by name
# rather than computed with a wrong type. float16 is stored as such and computed in float32 inside every
# kernel, rounded once on the store (Note [float16 computes in float32] in kernels/elementwise.py).
DTYPES = frozenset(np.dtype(d) for d in (np.float32, np.float64, np.float16, np.int64, np.int32, np.int16,
                                         np.int8, np.uint8, np.bool_))


def unsupported_dtype(dtype):
    names = ", ".join(sorted(d.name for d in DTYPES))
    return NotImplementedError(f"dtype {np.dtype(dtype).name} is not supported on the CUDA device yet (supported "
                               f"there: {names}); keep such tensors on the CPU")


def contiguous_strides(shape):
    st = []
    s = 1
    for n in reversed(shape):
        st.append(s)
        s *= max(n, 1)
    return tuple(reversed(st))


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class CudaArray:
    """A strided n-d array on the GPU with NumPy operator semantics."""
    __slots__ = ("buf", "off", "shape", "st", "dtype", "base", "size", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None       # NumPy scalars on the left defer to our reflected operators
    __hash__ = None

    def __init__(self, buf, shape, st, off=0, base=None, dtype=None):
        self.buf = buf
        self.shape = tuple(shape)
        self.st = tuple(st)
        self.off = off
        self.dtype = np.dtype(dtype if dtype is not None else buf.dtype)
        self.base = base
        self.size = _prod(self.shape)

    @classmethod
    def empty(cls, shape, dtype):
        shape = tuple(int(s) for s in shape)
        dtype = np.dtype(dtype)
        if dtype not in DTYPES:
            raise unsupported_dtype(dtype)
        n = _prod(shape)
        return cls(memory.alloc(n, dtype), shape, contiguous_strides(shape), 0, None, dtype)

    @classmethod
    def from_numpy(cls, a):
        a = np.asarray(a)
        out = cls.empty(a.shape, a.dtype)
        if a.size:
            out.buf.copy_to_device(np.ascontiguousarray(a).reshape(-1))
        return out

    # ----------------------------------------------------------------- metadata
    @property
    def ndim(self):
        return len(self.shape)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def strides(self):
        """Strides in bytes, as NumPy reports them."""
        return tuple(s * self.dtype.itemsize for s in self.st)

    @property
    def is_contiguous(self):
        return self.size <= 1 or all(s == c for s, c, n in zip(self.st, contiguous_strides(self.shape), self.shape)
                                      if n != 1)

    def _root(self):
        return self if self.base is None else self.base

    def _view(self, shape, st, off=None):
        return CudaArray(self.buf, shape, st, self.off if off is None else off, self._root(), self.dtype)

    @property
    def T(self):
        return self.transpose()

    def transpose(self, axes=None):
        if axes is None:
            axes = tuple(range(self.ndim))[::-1]
        return self._view(tuple(self.shape[a] for a in axes), tuple(self.st[a] for a in axes))

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _ops().reshape(self, shape)

    def astype(self, dtype, copy=True):
        return _ops().astype(self, dtype)

    def copy(self):
        return _ops().copy(self)

    def get(self):
        """The values as a new NumPy array (a device-to-host copy)."""
        c = self if self.is_contiguous else _ops().copy(self)
        out = np.empty(self.shape, self.dtype)
        if self.size:
            flat = c.buf[c.off:c.off + self.size] if (c.off or c.buf.size != self.size) else c.buf
            out.reshape(-1)[:] = flat.copy_to_host()
        return out

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __repr__(self):
        return f"CudaArray({self.get()!r})"

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a CudaArray cannot be converted to NumPy implicitly; call .get() "
                        "(or Tensor.cpu()) to copy it to the host")

    def __bool__(self):
        if self.size != 1:
            raise ValueError(f"the truth value of an array with {self.size} elements is ambiguous")
        return bool(self.get().reshape(()))

    def __float__(self):
        return float(self.get().reshape(()))

    def __int__(self):
        return int(self.get().reshape(()))

    @property
    def __cuda_array_interface__(self):
        isz = self.dtype.itemsize
        ptr = _nb.data_pointer(self.buf) + self.off * isz if self.size else 0
        return {"shape": self.shape, "strides": None if self.is_contiguous else self.strides,
                "typestr": self.dtype.str, "data": (ptr, False), "version": 3}

    # ----------------------------------------------------------------- operators
    def __getitem__(self, key):
        return _ops().getitem(self, key)

    def __setitem__(self, key, value):
        _ops().setitem(self, key, value)


def _ops():
    """The module that runs the array's methods and operators on kernels (Note [up-calls]).

    The one lazy import of this file: the kernels work on CudaArrays, so they sit
    a floor above the array, and the array's NumPy-style operators reach up to them.
    """
    from . import operators
    return operators


def _binop(name, reflected=False, inplace=False):
    def f(self, other):
        if inplace:
            return _ops().apply(name, (self, other), out=self)
        return _ops().apply(name, (other, self) if reflected else (self, other))
    f.__name__ = name
    return f


def _unop(name):
    def f(self):
        return _ops().apply(name, (self,))
    return f


for _py, _name in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "divide"),
                   ("pow", "power"), ("floordiv", "floor_divide"), ("mod", "remainder"),
                   ("and", "logical_and"), ("or", "logical_or"), ("xor", "logical_xor")]:
    setattr(CudaArray, f"__{_py}__", _binop(_name))
    setattr(CudaArray, f"__r{_py}__", _binop(_name, reflected=True))
    setattr(CudaArray, f"__i{_py}__", _binop(_name, inplace=True))
for _py, _name in [("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
                   ("gt", "greater"), ("ge", "greater_equal")]:
    setattr(CudaArray, f"__{_py}__", _binop(_name))
CudaArray.__neg__ = _unop("neg")
CudaArray.__abs__ = _unop("abs")
CudaArray.__invert__ = _unop("logical_not")
CudaArray.__pos__ = lambda self: self


def _matmul(self, other):
    return _ops().matmul(self, other)


CudaArray.__matmul__ = _matmul
CudaArray.__rmatmul__ = lambda self, other: _matmul(other, self)
