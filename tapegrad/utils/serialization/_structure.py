"""The saved object's structure as JSON, with every tensor and NumPy array replaced by a reference.

The same encoding serves both formats: ``{"dict": [[key, value], ...]}``,
``{"list": [...]}``, ``{"tuple": [...]}``, ``{"float": "nan"}`` for
non-finite floats, ``{"ndarray": ref}`` and ``{"tensor": ref, "dtype": ...,
"device": ..., "requires_grad": ..., "parameter": ...}``. A reference is an
index in version 1 (zip) files and a safetensors tensor name in version 2.
"""
import math
from collections import OrderedDict

import numpy as np

from ... import _dtype as D
from ... import backend as B
from ..._device import device as _device
from ..._tensor import Tensor
from ._source import LIMITS

__all__ = ["Encoder", "Decoder", "STORABLE", "tapegrad_dtype"]

# NumPy dtypes an array may be stored with (safetensors codes); everything else is refused at save.
STORABLE = {np.dtype("<f8"): "F64", np.dtype("<f4"): "F32", np.dtype("<f2"): "F16",
            np.dtype("<i8"): "I64", np.dtype("<i4"): "I32", np.dtype("<i2"): "I16", np.dtype("i1"): "I8",
            np.dtype("<u8"): "U64", np.dtype("<u4"): "U32", np.dtype("<u2"): "U16", np.dtype("u1"): "U8",
            np.dtype("?"): "BOOL"}
STORABLE[D.BFLOAT16_NP] = "BF16"            # ml_dtypes' bfloat16, kind "V" (Note [bfloat16 kind] in _dtype.py)


def tapegrad_dtype(name):
    """The tapegrad dtype called ``name`` exactly (``"float32"``), or None; new dtypes in ``_dtype`` work unchanged."""
    d = getattr(D, name, None) if isinstance(name, str) and not name.startswith("_") else None
    return d if type(d) is D.dtype and d.name == name else None


class Encoder:
    """Turns an object into its JSON structure plus the list of arrays it references."""

    def __init__(self, obj, encode=True):
        self.arrays = []          # little-endian, C-contiguous NumPy arrays, in reference order
        self.names = []           # the safetensors name of each array
        self.memo = {}            # id(tensor or array) -> index, so a shared tensor is stored once
        self.keep = []            # the objects memoized, so their ids stay unique while encoding
        # A flat dict of tensors (a state dict) names each tensor by its key, so that
        # safetensors readers see the state dict itself; anything else gets "0", "1", ...
        flat = (isinstance(obj, dict) and "__metadata__" not in obj and
                all(isinstance(k, str) and isinstance(v, (Tensor, np.ndarray)) for k, v in obj.items()))
        self.preferred = {}
        if flat:
            for k, v in obj.items():
                self.preferred.setdefault(id(v), k)
        self.root = self.encode(obj, 0) if encode else None

    def encode(self, obj, depth):
        if depth > LIMITS["depth"]:
            raise ValueError(f"tapegrad.save: object nested deeper than {LIMITS['depth']} levels")
        if obj is None or type(obj) in (bool, str, int):
            return obj
        if type(obj) is float:
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, Tensor):
            return self._tensor(obj)
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), depth)
        if isinstance(obj, np.ndarray):
            return {"ndarray": self._array(obj, obj)}
        # (subclasses such as Counter or namedtuples would load as their base: they go to a pickle archive)
        if type(obj) in (dict, OrderedDict):
            return {"dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in obj.items()]}
        if type(obj) is list:
            return {"list": [self.encode(v, depth + 1) for v in obj]}
        if type(obj) is tuple:
            return {"tuple": [self.encode(v, depth + 1) for v in obj]}
        raise TypeError(f"tapegrad.save: cannot save an object of type {type(obj).__name__}; supported are "
                        "tensors, NumPy arrays, numbers, strings, bools, None and dicts/lists/tuples of them")

    def _array(self, a, owner):
        idx = self.memo.get(id(owner))
        if idx is not None:
            return self.names[idx]
        le = a.dtype.newbyteorder("<") if a.dtype.byteorder in "<>=" else a.dtype
        if a.dtype.kind not in "biufV" or le not in STORABLE:
            raise TypeError(f"tapegrad.save: cannot save an array of dtype {a.dtype}; storable dtypes are "
                            f"{', '.join(sorted(d.name for d in STORABLE))}")
        # (np.ascontiguousarray would turn a 0-d array into a 1-d one)
        a = np.asarray(a.astype(le, copy=False), order="C")
        idx = self.memo[id(owner)] = len(self.arrays)
        self.keep.append(owner)
        self.arrays.append(a)
        self.names.append(self.preferred.get(id(owner), str(idx)) if self.preferred else str(idx))
        return self.names[idx]

    def _tensor(self, t):
        be = t._backend
        ref = self._array(be.to_numpy(t._data), t)
        from ...nn.parameter import Parameter
        return {"tensor": ref, "dtype": t.dtype.name, "device": be.device_type,
                "requires_grad": bool(t.requires_grad), "parameter": isinstance(t, Parameter)}


class Decoder:
    """Rebuilds the object from its structure; ``array(ref)`` returns the (shared, validated) stored array."""

    def __init__(self, array, fail, map_location):
        self.array = array
        self.fail = fail
        self.map_location = map_location
        self.tensors = {}         # ref -> Tensor: every reference to one stored tensor loads as one tensor

    def decode(self, x, depth=0):
        if depth > LIMITS["depth"] + 1:
            self.fail(f"nesting deeper than {LIMITS['depth']} levels")
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
                a = self.array(x["ndarray"])
                if a.dtype.kind not in "biufV":
                    self.fail(f"array {x['ndarray']!r} has unsupported dtype {a.dtype}")
                return a
            if "tensor" in x:
                return self.tensor(x)
        self.fail(f"unrecognized entry {str(x)[:60]!r} in the structure")

    def tensor(self, x):
        ref = x["tensor"]
        a = self.array(ref)
        dt = tapegrad_dtype(x.get("dtype"))
        if dt is None:
            self.fail(f"tensor {ref!r} has unknown dtype {x.get('dtype')!r} (tapegrad dtypes: {D.SUPPORTED})")
        if a.dtype != dt.np:
            self.fail(f"tensor {ref!r}: the stored array is {a.dtype} but the structure says {dt.name}")
        t = self.tensors.get(ref)
        if t is not None:
            return t
        be = B.get(self._device(str(x.get("device", "cpu"))))
        t = Tensor._make(be.from_numpy(a), None)      # the CPU backend keeps the array itself: no copy
        grad = bool(x.get("requires_grad")) and t.is_floating_point()
        if x.get("parameter"):
            from ...nn.parameter import Parameter
            t = Parameter(t, requires_grad=grad)
        elif grad:
            t._requires_grad = True
        self.tensors[ref] = t
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
        try:
            kind = _device(target).type
        except (TypeError, ValueError, RuntimeError) as e:
            if m is None:
                self.fail(f"a tensor has unknown device {saved!r}", e)
            raise
        if kind == "cuda":
            try:
                B.get("cuda")
            except Exception as e:
                raise RuntimeError(f"tapegrad.load: the checkpoint has tensors on {saved!r} but CUDA is not "
                                   "available; pass map_location='cpu' to load them on the CPU") from e
        return kind
