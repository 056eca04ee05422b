"""Zip archives holding a pickle: tapegrad's format for objects JSON cannot describe, and ``torch.save``'s files.

Both keep the pickle in ``<prefix>/data.pkl`` and every array outside it, as
its own stored (uncompressed) member, referenced from the pickle by a
persistent id, so unpickling never sees array bytes:

- tapegrad (``prefix`` ``tapegrad``): ``("tapegrad", {"tensor": i, "dtype": ...,
  "device": ..., "requires_grad": ..., "parameter": ...})`` or
  ``("tapegrad", {"ndarray": i})``, the array in ``tapegrad/tensors/<i>.npy``
  (the version 1 members, read by the same bounded reader);
- PyTorch: ``("storage", torch.FloatStorage, key, location, numel)``, the
  storage's raw bytes in ``<prefix>/data/<key>`` (byte order from
  ``<prefix>/byteorder``), viewed by ``torch._utils._rebuild_tensor_v2``
  (Note [torch views] in ``_torch_shims.py``).

Bounds (Note [checkpoint limits]): the zip directory and members are checked
as for version 1 files (stored members only, inside the file, no overlap),
``data.pkl`` is at most ``LIMITS["pickle_bytes"]``, a storage's member must
hold exactly ``numel`` elements, and copies made for overlapping views may
not exceed the storages' own bytes. The pickle itself is read by the
weights-only unpickler unless the caller passes ``weights_only=False``
(Note [weights-only unpickling] in ``_unpickler.py``).
"""
import io
import pickle
import zipfile

import numpy as np

from ... import _dtype as D
from ._source import LIMITS, fill_from
from ._structure import Decoder, Encoder
from ._torch_shims import Storage, StorageType, check_view, view
from ._unpickler import RestrictedUnpickler, TrustedUnpickler, WeightsOnlyError
from ._zip_v1 import _ZIP_ERRORS, member_bytes, read_array

__all__ = ["pickle_member", "read", "encode", "write"]

PREFIX = "tapegrad"
PROTOCOL = 4


def pickle_member(names, fail):
    """The ``<prefix>/data.pkl`` member's name, or None for an archive without one."""
    found = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(found) > 1:
        fail(f"the archive holds {len(found)} pickles ({', '.join(sorted(found)[:4])}); expected one")
    return found[0] if found else None


class _Reader:
    def __init__(self, src, z, names, member, map_location):
        self.src, self.z, self.names, self.fail = src, z, names, src.fail
        self.prefix = member[:-len("/data.pkl")]
        self.decoder = Decoder(self._array, src.fail, map_location)
        self.arrays = {}            # npy index -> array
        self.storages = {}          # torch storage key -> Storage
        self.budget = 0             # bytes of storages read: what overlapping views may copy in all
        self.serial = 0
        order = names.get(f"{self.prefix}/byteorder")
        self.big = order is not None and member_bytes(z, order, self.fail)[:3] == b"big"

    def _array(self, ref):
        if isinstance(ref, str) and ref.startswith("view:"):
            return self._view_arrays[ref]
        if type(ref) is not int or ref < 0:
            self.fail(f"bad tensor reference {ref!r}")
        if ref not in self.arrays:
            self.arrays[ref] = read_array(self.z, self.names, ref, self.fail)
        return self.arrays[ref]

    def persistent_load(self, pid):
        if isinstance(pid, tuple) and len(pid) == 2 and pid[0] == "tapegrad" and isinstance(pid[1], dict):
            return self.decoder.decode(pid[1])
        if isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage":
            return self._storage(*pid[1:])
        raise pickle.UnpicklingError(f"unknown persistent id {str(pid)[:80]}")

    def _storage(self, kind, key, location, numel):
        if not isinstance(kind, StorageType) or not isinstance(key, str) or not isinstance(location, str) \
                or type(numel) is not int or numel < 0:
            raise pickle.UnpicklingError(f"malformed storage id ({kind!r}, {key!r}, {location!r}, {numel!r})")
        got = self.storages.get(key)
        if got is not None:
            return got
        info = self.names.get(f"{self.prefix}/data/{key}")
        if info is None:
            self.fail(f"storage {key!r} has no member {self.prefix}/data/{key}")
        dtype = kind.dtype.np.newbyteorder(">") if self.big else kind.dtype.np
        if self.big and kind.dtype is D.bfloat16:
            dtype = np.dtype(">u2")         # ml_dtypes' bfloat16 has no big-endian form: swap its bits as uint16
        if info.file_size != numel * dtype.itemsize:
            self.fail(f"storage {key!r} claims {numel} elements of {kind.dtype.name} ({numel * dtype.itemsize} "
                      f"bytes) but its member holds {info.file_size} bytes")
        a = np.empty(numel, dtype)
        try:
            with self.z.open(info) as fp:
                fill_from(fp, a, self.fail)
                fp.read(1)                  # at the end of the member: zipfile checks the CRC-32
        except _ZIP_ERRORS as e:
            self.fail(f"storage {key!r} is corrupted ({e})", e)
        if self.big:
            a = a.astype(kind.dtype.np) if kind.dtype is not D.bfloat16 else a.astype("<u2").view(kind.dtype.np)
        if kind.dtype.np.kind == "b" and a.size and a.view(np.uint8).max() > 1:
            self.fail(f"bool storage {key!r} holds bytes other than 0 and 1")
        self.budget += a.nbytes
        s = self.storages[key] = Storage(a, kind.dtype, location, self)
        return s

    def view(self, storage, offset, size, stride, requires_grad):
        """A tensor for ``torch._utils._rebuild_tensor_v2`` (Note [torch views])."""
        a = storage.array
        try:
            overlap = check_view(a.size, offset, size, stride, "a tensor in the file")
        except ValueError as e:
            self.fail(str(e), e)
        v = view(a, offset, size, stride)
        if overlap:
            if v.nbytes > self.budget:
                self.fail(f"an overlapping view of size {tuple(size)} would copy {v.nbytes} bytes, more than the "
                          f"{self.budget} bytes the file's storages hold")
            self.budget -= v.nbytes
            v = v.copy()
        ref = f"view:{self.serial}"
        self.serial += 1
        self._view_arrays = {ref: v}
        dt = storage.dtype
        return self.decoder.tensor({"tensor": ref, "dtype": dt.name, "device": storage.location.split(":")[0],
                                    "requires_grad": bool(requires_grad) and dt.is_floating_point})

    def load(self, member, weights_only):
        info = self.names[member]
        if info.file_size > LIMITS["pickle_bytes"]:
            self.fail(f"the pickle takes {info.file_size} bytes, more than the limit of {LIMITS['pickle_bytes']}")
        data = member_bytes(self.z, info, self.fail)
        try:
            if weights_only:
                return RestrictedUnpickler(io.BytesIO(data), self.persistent_load, len(data)).load()
            return TrustedUnpickler(io.BytesIO(data), self.persistent_load).load()
        except WeightsOnlyError as e:
            raise WeightsOnlyError(f"tapegrad.load: {self.src.what}: {e}") from None
        except (pickle.UnpicklingError, ValueError, TypeError, EOFError, AttributeError, IndexError, KeyError,
                RecursionError, OverflowError) as e:
            self.fail(f"the pickle is malformed ({type(e).__name__}: {str(e)[:200]})", e)


def read(src, z, names, member, map_location, weights_only):
    """Unpickle ``member`` of the opened archive, resolving tensors from the archive's members."""
    return _Reader(src, z, names, member, map_location).load(member, weights_only)


class _Pickler(pickle.Pickler):
    def __init__(self, file, enc):
        super().__init__(file, protocol=PROTOCOL)
        self.enc = enc

    def persistent_id(self, obj):
        from ..._tensor import Tensor
        if isinstance(obj, Tensor):
            x = self.enc._tensor(obj)
            x["tensor"] = int(x["tensor"])
        elif isinstance(obj, np.ndarray):
            x = {"ndarray": int(self.enc._array(obj, obj))}
        else:
            return None
        return ("tapegrad", x)


def encode(obj):
    """Pickle ``obj``, tensors and arrays as persistent ids: (pickle bytes, arrays); fails before touching a file."""
    enc = Encoder(None, encode=False)
    buf = io.BytesIO()
    _Pickler(buf, enc).dump(obj)
    return buf.getvalue(), enc.arrays


def write(fh, encoded):
    """Write an ``encode``d object as a tapegrad pickle archive to the binary file ``fh``; arrays as .npy members."""
    data, arrays = encoded
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr(f"{PREFIX}/data.pkl", data)
        for i, a in enumerate(arrays):
            with z.open(f"{PREFIX}/tensors/{i}.npy", "w", force_zip64=a.nbytes > (1 << 30)) as m:
                np.lib.format.write_array(m, a, allow_pickle=False)
        z.writestr(f"{PREFIX}/format", "tapegrad-checkpoint-pickle\n1\n")
