"""``tapegrad.save`` / ``tapegrad.load``: checkpoints in a format that cannot run code.

A checkpoint is a zip archive (stored, not compressed) holding
``tapegrad/manifest.json`` (the object's structure, with every tensor
replaced by a reference) and one ``tapegrad/tensors/<i>.npy`` per tensor,
written and read with ``allow_pickle=False``. Loading parses JSON and raw
array bytes only, so a malicious file can at worst fail to load; files
written by ``pickle``/``torch.save`` are recognized and refused with a clear
message. The zip's CRC-32 of every member catches corruption.

Saving encodes the whole object first (so unsupported values fail before the
file is touched), writes a temporary file in the target's directory, fsyncs
it and renames it over ``path``: an interrupted save leaves either the old
file or the new one, never half of one.
"""
import io
import json
import math
import os
import tempfile
import zipfile

import numpy as np

from .. import _dtype as D
from .. import backend as B
from .._device import device as _device
from .._tensor import Tensor

__all__ = ["save", "load", "CheckpointError"]

_FORMAT = "tapegrad-checkpoint"
_VERSION = 1
_MANIFEST = "tapegrad/manifest.json"
_MAX_DEPTH = 200


class CheckpointError(RuntimeError):
    """A file that is not a valid tapegrad checkpoint (truncated, corrupted, or carrying a pickle)."""


# ----------------------------------------------------------------- encoding
class _Encoder:
    def __init__(self):
        self.arrays = []          # (numpy array) in reference order
        self.memo = {}            # id(tensor) -> index, so shared tensors are stored once

    def encode(self, obj, depth=0):
        if depth > _MAX_DEPTH:
            raise ValueError(f"tapegrad.save: object nested deeper than {_MAX_DEPTH} levels")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            return self._tensor(obj)
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), depth)
        if isinstance(obj, np.ndarray):
            return {"ndarray": self._array(obj, id(obj))}
        if isinstance(obj, dict):
            return {"dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in obj.items()]}
        if isinstance(obj, list):
            return {"list": [self.encode(v, depth + 1) for v in obj]}
        if isinstance(obj, tuple):
            return {"tuple": [self.encode(v, depth + 1) for v in obj]}
        raise TypeError(f"tapegrad.save: cannot save an object of type {type(obj).__name__}; supported are "
                        "tensors, NumPy arrays, numbers, strings, bools, None and dicts/lists/tuples of them")

    def _array(self, a, key):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"tapegrad.save: cannot save an array of dtype {a.dtype}")
        idx = self.memo.get(key)
        if idx is None:
            idx = self.memo[key] = len(self.arrays)
            self.arrays.append(np.asarray(a, order="C"))   # (ascontiguousarray would make 0-d 1-d)
        return idx

    def _tensor(self, t):
        be = B.BY_TYPE[type(t._data)]
        ref = self._array(be.to_numpy(t._data), id(t))
        from ..nn.parameter import Parameter
        return {"tensor": ref, "dtype": t.dtype.name, "device": be.device_type,
                "requires_grad": bool(t.requires_grad), "parameter": isinstance(t, Parameter)}


def save(obj, f):
    """Save ``obj`` (nested dicts/lists/tuples of tensors, numbers, strings, bools, None) to ``f``.

    Args:
        obj: e.g. ``{"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}``.
        f: a path, or a writable binary file object.

    Example:
        >>> import os, tempfile, tapegrad
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.tg")
        >>> tapegrad.save({"w": tapegrad.ones(2), "step": 3}, path)
        >>> tapegrad.load(path)
        {'w': tensor([1., 1.]), 'step': 3}
    """
    enc = _Encoder()
    manifest = {"format": _FORMAT, "version": _VERSION, "root": enc.encode(obj),
                "arrays": len(enc.arrays)}
    text = json.dumps(manifest, allow_nan=False).encode("utf-8")
    if hasattr(f, "write"):
        _write(f, text, enc.arrays)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write(fh, text, enc.arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write(fh, manifest, arrays):
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(_MANIFEST, manifest)
        for i, a in enumerate(arrays):
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            z.writestr(f"tapegrad/tensors/{i}.npy", buf.getvalue())


# ----------------------------------------------------------------- decoding
def load(f, map_location=None, weights_only=True):
    """Load an object saved by ``tapegrad.save``; never executes code from the file.

    Args:
        f: a path, or a readable binary file object.
        map_location: where tensors go: None (where they were saved), a device
            or device string (``"cpu"``), or a dict like ``{"cuda": "cpu"}``.
        weights_only: accepted for PyTorch compatibility; loading is always weights-only.

    Returns:
        the saved object, with tensors restored with their dtype (Parameters
        as Parameters, ``requires_grad`` as saved).

    Raises:
        CheckpointError: the file is truncated, corrupted, not a tapegrad
            checkpoint, or carries a pickle.

    Example:
        >>> import io, tapegrad
        >>> buf = io.BytesIO(); tapegrad.save([tapegrad.tensor([1, 2]), (1.5, None)], buf)
        >>> _ = buf.seek(0); tapegrad.load(buf, map_location="cpu")
        [tensor([1, 2]), (1.5, None)]
    """
    name = getattr(f, "name", None) if hasattr(f, "read") else os.fspath(f)
    what = repr(name) if name is not None else "the file object"
    if hasattr(f, "read"):
        data = f.read()
    else:
        with open(f, "rb") as fh:
            data = fh.read()
    return _Decoder(data, what, map_location).run()


class _Decoder:
    def __init__(self, data, what, map_location):
        self.data = data
        self.what = what
        self.map_location = map_location
        self.cache = {}

    def fail(self, why, cause=None):
        err = CheckpointError(f"tapegrad.load: {self.what} is not a valid tapegrad checkpoint: {why}")
        if cause is not None:
            raise err from cause
        raise err

    def run(self):
        data = self.data
        if data[:1] == b"\x80" or data[:2] in (b"(d", b"(l", b"}q"):
            self.fail("it is a pickle (e.g. written by pickle or torch.save); tapegrad.load never unpickles, "
                      "because unpickling can run arbitrary code")
        if not data:
            self.fail("the file is empty")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            names = self.zip.namelist()
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
            self.fail(f"the archive is truncated or corrupted ({e})", e)
        if any(n.endswith(".pkl") or n.endswith("/data.pkl") for n in names):
            self.fail("it contains a pickle (a torch.save archive?); tapegrad.load never unpickles, "
                      "because unpickling can run arbitrary code")
        if _MANIFEST not in names:
            self.fail(f"it has no {_MANIFEST}")
        try:
            manifest = json.loads(self._read(_MANIFEST).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            self.fail(f"the manifest is not valid JSON ({e})", e)
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT or "root" not in manifest:
            self.fail("the manifest does not describe a tapegrad checkpoint")
        if manifest.get("version") != _VERSION:
            self.fail(f"unsupported checkpoint version {manifest.get('version')!r} (this tapegrad reads "
                      f"version {_VERSION})")
        return self.decode(manifest["root"], 0)

    def _read(self, member):
        try:
            return self.zip.read(member)
        except KeyError as e:
            self.fail(f"member {member!r} is missing", e)
        except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError) as e:
            self.fail(f"member {member!r} is corrupted ({e})", e)

    def array(self, idx):
        if not isinstance(idx, int) or isinstance(idx, bool) or idx < 0:
            self.fail(f"bad tensor reference {idx!r}")
        if idx not in self.cache:
            raw = self._read(f"tapegrad/tensors/{idx}.npy")
            try:
                a = np.load(io.BytesIO(raw), allow_pickle=False)
            except ValueError as e:
                if "pickle" in str(e).lower():
                    self.fail(f"tensor {idx} holds pickled objects; tapegrad.load never unpickles", e)
                self.fail(f"tensor {idx} is corrupted ({e})", e)
            except (OSError, EOFError) as e:
                self.fail(f"tensor {idx} is corrupted ({e})", e)
            if not isinstance(a, np.ndarray) or a.dtype.kind not in "biuf":
                self.fail(f"tensor {idx} has unsupported dtype {getattr(a, 'dtype', type(a).__name__)}")
            self.cache[idx] = a
        return self.cache[idx]

    def decode(self, x, depth):
        if depth > _MAX_DEPTH:
            self.fail(f"nesting deeper than {_MAX_DEPTH} levels")
        if x is None or isinstance(x, (bool, int, float, str)):
            return x
        if isinstance(x, dict) and len(x) >= 1:
            if "dict" in x:
                items = x["dict"]
                if not isinstance(items, list) or not all(isinstance(p, list) and len(p) == 2 for p in items):
                    self.fail("a dict entry is malformed")
                out = {}
                for k, v in items:
                    k = self.decode(k, depth + 1)
                    try:
                        out[k] = self.decode(v, depth + 1)
                    except TypeError as e:
                        self.fail(f"a dict key of type {type(k).__name__} is not hashable", e)
                return out
            if "list" in x and isinstance(x["list"], list):
                return [self.decode(v, depth + 1) for v in x["list"]]
            if "tuple" in x and isinstance(x["tuple"], list):
                return tuple(self.decode(v, depth + 1) for v in x["tuple"])
            if "float" in x and x["float"] in ("nan", "inf", "-inf"):
                return float(x["float"])
            if "ndarray" in x:
                return self.array(x["ndarray"]).copy()
            if "tensor" in x:
                return self.tensor(x)
        self.fail(f"unrecognized entry {str(x)[:60]!r} in the manifest")

    def tensor(self, x):
        key = ("t", x["tensor"])
        if key in self.cache:
            return self.cache[key]
        a = self.array(x["tensor"])
        try:
            dt = D.to_dtype(getattr(D, str(x.get("dtype"))))
        except (AttributeError, TypeError) as e:
            self.fail(f"tensor {x['tensor']} has unknown dtype {x.get('dtype')!r}", e)
        if a.dtype != dt.np:
            self.fail(f"tensor {x['tensor']}: stored array is {a.dtype} but the manifest says {dt.name}")
        dev = self._device(str(x.get("device", "cpu")))
        be = B.get(dev)
        t = Tensor._make(be.from_numpy(a.copy()), None)
        if x.get("parameter"):
            from ..nn.parameter import Parameter
            t = Parameter(t, requires_grad=bool(x.get("requires_grad")))
        elif x.get("requires_grad") and t.is_floating_point():
            t._requires_grad = True
        self.cache[key] = t
        return t

    def _device(self, saved):
        m = self.map_location
        if m is None:
            target = saved
        elif isinstance(m, dict):
            target = str(m.get(saved, saved))
        elif isinstance(m, (str, _device)):
            target = str(m)
        else:
            raise TypeError(f"tapegrad.load: map_location must be None, a device, a device string or a dict, "
                            f"got {type(m).__name__}")
        kind = _device(target).type
        if kind == "cuda":
            try:
                B.get("cuda")
            except Exception as e:
                raise RuntimeError(f"tapegrad.load: the checkpoint has tensors on {saved!r} but CUDA is not "
                                   "available; pass map_location='cpu' to load them on the CPU") from e
        return kind
