"""What ``CudaArray``'s methods and Python operators run: one function per operator, on the kernels.

``array.py`` defines the strided view the kernels work on, so it cannot import
them at its top; it reaches this module lazily, through one function
(``array._ops``, Note [up-calls] in tapegrad/tape/__init__.py), and this module
imports the kernels downward like any other user of them.
"""
from .kernels import elementwise, indexing, movement
from .kernels import matmul as _matmul


def reshape(a, shape):
    return movement.reshape(a, shape)


def astype(a, dtype):
    return elementwise.astype(a, dtype)


def copy(a):
    return elementwise.copy(a)


def getitem(a, key):
    return indexing.getitem(a, key)


def setitem(a, key, value):
    indexing.setitem(a, key, value)


def apply(name, args, out=None):
    """The elementwise kernel ``name`` over ``args`` (NumPy broadcasting), into ``out`` when given."""
    return elementwise.apply(name, args, out=out)


def matmul(a, b):
    return _matmul.matmul(a, b)
