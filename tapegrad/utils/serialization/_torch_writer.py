"""Writing files that PyTorch's ``torch.load(f, weights_only=True)`` reads, without importing torch.

The layout is ``torch.save``'s: a zip of stored members ``archive/data.pkl``
(pickle protocol 2), ``archive/data/<key>`` (each storage's raw little-endian
bytes, aligned to 64 bytes in the file as PyTorch aligns them),
``archive/byteorder``, ``archive/version``, ``archive/.format_version`` and
``archive/.storage_alignment``. Tensors pickle as
``torch._utils._rebuild_tensor_v2(("storage", torch.FloatStorage, key, "cpu",
numel), 0, size, stride, requires_grad, OrderedDict())`` and Parameters as
``torch._utils._rebuild_parameter(tensor, requires_grad, OrderedDict())``: the
globals are written by name (the pickler never looks them up), all of them on
PyTorch's weights-only allow-list.
"""
import collections
import io
import pickle
import struct
import zipfile

import numpy as np

from ._structure import Encoder
from ._torch_shims import STORAGE_OF_DTYPE

__all__ = ["encode", "write"]

PREFIX = "archive"
_ALIGN = 64


class _Global:
    """A global written as ``GLOBAL module name`` without importing ``module``."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):          # (pickle's save_reduce requires a callable; this one is only written)
        raise TypeError(f"{self.module}.{self.name} is a name written into PyTorch files, not callable in tapegrad")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_STORAGE = {d: _Global("torch", s) for d, s in STORAGE_OF_DTYPE.items()}


class _Plain:
    """A Parameter's data, pickled as a plain tensor inside ``_rebuild_parameter``."""

    def __init__(self, t):
        self.t = t


class _StorageRef:
    def __init__(self, dtype, key, numel):
        self.dtype, self.key, self.numel = dtype, key, numel


class _Pickler(pickle._Pickler):
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, enc):
        super().__init__(file, protocol=2)
        self.enc = enc
        self.storages = {}          # id(tensor) -> _StorageRef

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            return ("storage", _STORAGE[obj.dtype], obj.key, "cpu", obj.numel)
        return None

    def reducer_override(self, obj):
        from ..._tensor import Tensor
        from ...nn.parameter import Parameter
        if isinstance(obj, Parameter):
            return (_REBUILD_PARAMETER, (_Plain(obj), bool(obj.requires_grad), collections.OrderedDict()))
        if isinstance(obj, (Tensor, _Plain)):
            t = obj.t if isinstance(obj, _Plain) else obj
            ref = self.storages.get(id(t))
            if ref is None:
                key = self.enc._array(t._backend.to_numpy(t._data), t)
                ref = self.storages[id(t)] = _StorageRef(t.dtype.name, key, t.numel())
            shape = tuple(t.shape)
            stride, step = [], 1
            for s in reversed(shape):
                stride.insert(0, step)
                step *= max(s, 1)
            grad = bool(t.requires_grad) and t.is_floating_point()
            return (_REBUILD_TENSOR, (ref, 0, shape, tuple(stride), grad, collections.OrderedDict()))
        return NotImplemented

    def _save_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("ascii"))
        self.memoize(obj)

    dispatch[_Global] = _save_global


def _check(obj, depth=0):
    from ..._tensor import Tensor
    if depth > 200:
        raise ValueError("tapegrad.save: object nested deeper than 200 levels")
    if obj is None or isinstance(obj, (bool, int, float, str, Tensor)):
        return
    if type(obj) in (dict, collections.OrderedDict, list, tuple):
        for v in (obj.items() if isinstance(obj, dict) else obj):
            _check(v, depth + 1)
        if isinstance(obj, collections.OrderedDict) and getattr(obj, "_metadata", None) is not None:
            _check(obj._metadata, depth + 1)
        return
    raise TypeError(f"tapegrad.save(_use_torch_format=True): cannot write an object of type "
                    f"{type(obj).__name__} for PyTorch; supported are tensors, numbers, strings, bools, None "
                    "and dicts/OrderedDicts/lists/tuples of them")


def encode(obj):
    """Pickle ``obj`` (nested containers of tensors) as torch does: (pickle bytes, storage keys, arrays)."""
    _check(obj)
    enc = Encoder(None, encode=False)
    buf = io.BytesIO()
    _Pickler(buf, enc).dump(obj)
    return buf.getvalue(), enc.names, enc.arrays


def write(fh, encoded):
    """Write an ``encode``d object in ``torch.save``'s format to the binary file ``fh``."""
    data, names, arrays = encoded
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        _member(z, fh, "data.pkl", data)
        _member(z, fh, ".format_version", b"1")
        _member(z, fh, ".storage_alignment", b"64")
        _member(z, fh, "byteorder", b"little")
        for key, a in zip(names, arrays):
            _member(z, fh, f"data/{key}", memoryview(a.reshape(-1).view(np.uint8)))
        _member(z, fh, "version", b"3\n")


def _member(z, fh, name, data):
    name = f"{PREFIX}/{name}"
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    big = len(data) >= (1 << 31)
    if not big:                         # pad the local header so the data starts 64-byte aligned
        start = z.start_dir + 30 + len(name.encode("utf-8")) + 4
        pad = -start % _ALIGN
        info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad       # "FB", PyTorch's padding field
    with z.open(info, "w", force_zip64=big) as m:
        m.write(data)
