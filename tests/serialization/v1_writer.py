"""The version 1 writer of earlier tapegrad releases (a zip of manifest.json + .npy members), kept to test the reader."""
import io
import json
import math
import zipfile

import numpy as np

import tapegrad
from tapegrad import backend as B


def encode(obj, arrays, memo):
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"float": repr(obj)}
    if isinstance(obj, tapegrad.Tensor):
        be = B.BY_TYPE[type(obj._data)]
        return {"tensor": _array(be.to_numpy(obj._data), id(obj), arrays, memo), "dtype": obj.dtype.name,
                "device": be.device_type, "requires_grad": bool(obj.requires_grad),
                "parameter": isinstance(obj, tapegrad.nn.Parameter)}
    if isinstance(obj, np.ndarray):
        return {"ndarray": _array(obj, id(obj), arrays, memo)}
    if isinstance(obj, dict):
        return {"dict": [[encode(k, arrays, memo), encode(v, arrays, memo)] for k, v in obj.items()]}
    if isinstance(obj, list):
        return {"list": [encode(v, arrays, memo) for v in obj]}
    return {"tuple": [encode(v, arrays, memo) for v in obj]}


def _array(a, key, arrays, memo):
    if key not in memo:
        memo[key] = len(arrays)
        arrays.append(np.asarray(a, order="C"))
    return memo[key]


def write_v1(obj, path, root=None, arrays=()):
    """Write ``obj`` as the old writer did; or a hand-made ``root`` (manifest structure) over ``arrays``."""
    arrays = list(arrays)
    if root is None:
        root = encode(obj, arrays, {})
    manifest = {"format": "tapegrad-checkpoint", "version": 1, "root": root, "arrays": len(arrays)}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("tapegrad/manifest.json", json.dumps(manifest, allow_nan=False).encode("utf-8"))
        for i, a in enumerate(arrays):
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            z.writestr(f"tapegrad/tensors/{i}.npy", buf.getvalue())
    return path
