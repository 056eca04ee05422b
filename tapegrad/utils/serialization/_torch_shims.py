"""PyTorch's pickled names, implemented inside tapegrad so that its files load without torch.

A ``torch.save`` pickle names ``torch._utils._rebuild_tensor_v2(storage,
offset, size, stride, requires_grad, hooks)``, ``torch._utils._rebuild_parameter``,
storage classes such as ``torch.FloatStorage`` inside persistent ids, and
sometimes ``torch.float32`` / ``torch.device`` / ``torch.Size``. Each maps to a
shim here: the storage classes to the NumPy dtype of the raw bytes, the
rebuild functions to a view of the storage array that the archive reader
loaded (Note [torch views] below). Nothing here imports torch or runs code from
the file.
"""
import numpy as np

from ... import _dtype as D

__all__ = ["GLOBALS", "StorageType", "Storage", "STORAGE_OF_DTYPE"]


class StorageType:
    """A typed storage class of PyTorch's (``torch.FloatStorage``): the dtype of a storage's elements."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"torch.{self.name}"


STORAGE_OF_DTYPE = {"float64": "DoubleStorage", "float32": "FloatStorage", "float16": "HalfStorage",
                    "int64": "LongStorage", "int32": "IntStorage", "int16": "ShortStorage",
                    "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage"}
STORAGE_OF_DTYPE["bfloat16"] = "BFloat16Storage"
STORAGE_TYPES = {s: StorageType(s, getattr(D, d)) for d, s in STORAGE_OF_DTYPE.items()}


class Storage:
    """A storage read from the archive: a 1-d array, its tapegrad dtype, location, and the reader of its views."""

    def __init__(self, array, dtype, location, reader):
        self.array, self.dtype, self.location, self.reader = array, dtype, location, reader


# Note [torch views]
# A tensor in a torch file is (storage, offset, size, stride). Its bounds are
# checked against the storage before anything else: offset >= 0, sizes and
# strides non-negative, and the last element inside the storage. A view whose
# elements do not overlap is returned as a NumPy view of the storage, so
# tensors that share a storage in the file share memory after loading, as in
# PyTorch, and no view costs memory. Overlapping views (stride 0, expanded
# tensors) are copied; their bytes count against a budget of the storages'
# own size, so a small pickle cannot multiply one storage into many copies.
def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    if not isinstance(storage, Storage):
        raise TypeError(f"_rebuild_tensor_v2: expected a storage from the archive, got {type(storage).__name__}")
    return storage.reader.view(storage, storage_offset, size, stride, requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks=None, state=None):
    from ..._tensor import Tensor
    from ...nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise TypeError(f"_rebuild_parameter: expected a tensor, got {type(data).__name__}")
    return Parameter(data, requires_grad=bool(requires_grad) and data.is_floating_point())


def _device(spec="cpu", index=None):
    from ..._device import device
    return device(spec, index)


def _size(dims=()):
    from ..._tensor import Size
    if not isinstance(dims, (tuple, list)) or not all(type(d) is int for d in dims):
        raise TypeError(f"torch.Size: expected a tuple of ints, got {dims!r}")
    return Size(dims)


GLOBALS = {f"torch.{n}": t for n, t in STORAGE_TYPES.items()}
GLOBALS.update({
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch.device": _device,
    "torch.Size": _size,
})
GLOBALS.update({f"torch.{d}": getattr(D, d) for d in STORAGE_OF_DTYPE})


def check_view(n, offset, size, stride, what):
    """Validate a (offset, size, stride) view of an ``n``-element storage; returns whether its elements overlap."""
    if type(offset) is not int or not isinstance(size, (tuple, list)) or not isinstance(stride, (tuple, list)) \
            or len(size) != len(stride) or len(size) > 64 \
            or not all(type(v) is int for v in (*size, *stride)):
        raise ValueError(f"{what}: malformed view (offset {offset!r}, size {size!r}, stride {stride!r})")
    if offset < 0 or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise ValueError(f"{what}: negative offset, size or stride (offset {offset}, size {tuple(size)}, "
                         f"stride {tuple(stride)})")
    if 0 in size:
        return False
    last = offset + sum((s - 1) * st for s, st in zip(size, stride))
    if last >= n:
        raise ValueError(f"{what}: the view (offset {offset}, size {tuple(size)}, stride {tuple(stride)}) reaches "
                         f"element {last} of a storage of {n} elements")
    extent = 1
    for s, st in sorted(((s, st) for s, st in zip(size, stride) if s > 1), key=lambda p: p[1]):
        if st < extent:
            return True
        extent = st * s
    return False


def view(array, offset, size, stride):
    """The elements of 1-d ``array`` at ``offset`` with ``size``/``stride`` (counted in elements), as a view."""
    item = array.itemsize
    return np.lib.stride_tricks.as_strided(array[offset:], shape=tuple(size),
                                           strides=tuple(st * item for st in stride), writeable=True)

