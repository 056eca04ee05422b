"""Version 2 checkpoints: a safetensors file whose ``__metadata__["tapegrad"]`` holds the structure as JSON.

Writing goes through the ``safetensors`` library (``serialize_file`` streams
each array from its own memory, no copy). Reading is bounded by the file (see
Note [checkpoint limits]): the header length is checked against the limit and
the file's size, every tensor's dtype, shape and ``data_offsets`` are checked
(inside the data, the size its dtype and shape need, no overlap, no gap,
exactly covering the data, as the safetensors library requires) before
anything is allocated; then each tensor is read straight into its own
preallocated, writable array. A CRC-32 per tensor (in the structure) catches
corrupted bytes, as the version 1 zip's CRCs did.
"""
import json
import os
import shutil
import tempfile
import zlib

import numpy as np

from ._source import LIMITS, parse_json
from ._structure import STORABLE

__all__ = ["write", "read", "KEY", "looks_like"]

KEY = "tapegrad"                    # the __metadata__ entry holding the structure
FORMAT = "tapegrad-checkpoint"
VERSION = 2
_DTYPE_OF_CODE = {code: d for d, code in STORABLE.items()}


def looks_like(head, size):
    """Whether the file's first bytes are a safetensors header (a u64 length, then a JSON object)."""
    return size >= 9 and head[8:9] == b"{"


def structure_text(root, arrays, names):
    meta = {"format": FORMAT, "version": VERSION, "root": root,
            "crc32": {n: zlib.crc32(memoryview(a.reshape(-1).view(np.uint8))) for n, a in zip(names, arrays)}}
    text = json.dumps(meta, allow_nan=False, separators=(",", ":"))

    def refuse(why, cause=None):
        raise ValueError(f"tapegrad.save: the object's structure is too large for a checkpoint: {why}; "
                         "store large data in tensors or NumPy arrays") from cause
    parse_json(text.encode("utf-8"), "structure", refuse, LIMITS["structure_bytes"], 3 * LIMITS["depth"] + 8)
    return text


def write(path_or_file, root, arrays, names):
    """Write a version-2 checkpoint to a path (safetensors' own writer) or a binary file object."""
    from safetensors import TensorSpec, serialize_file
    metadata = {KEY: structure_text(root, arrays, names)}
    specs = {n: TensorSpec(dtype=a.dtype.name, shape=a.shape, data_ptr=a.ctypes.data, data_len=a.nbytes)
             for n, a in zip(names, arrays)}
    if not hasattr(path_or_file, "write"):
        serialize_file(specs, path_or_file, metadata=metadata)     # the arrays stay alive in ``arrays``
        return
    # serialize() would build the whole file in memory (twice); a temporary file keeps saving at one copy.
    fd, tmp = tempfile.mkstemp(prefix="tapegrad-save-", suffix=".safetensors")
    os.close(fd)
    try:
        serialize_file(specs, tmp, metadata=metadata)
        with open(tmp, "rb") as fh:
            shutil.copyfileobj(fh, path_or_file, 16 << 20)
    finally:
        os.unlink(tmp)


def read_header(src):
    """Validate the header against the file; returns (metadata dict, [(name, dtype, shape, begin, end)], base)."""
    fail = src.fail
    n = int.from_bytes(src.read_at(0, 8), "little")
    if n > LIMITS["header_bytes"]:
        fail(f"the safetensors header claims {n} bytes, more than the limit of {LIMITS['header_bytes']}")
    if 8 + n > src.size:
        fail(f"the safetensors header claims {n} bytes but the file holds only {src.size - 8} after its "
             "length field: truncated or corrupted")
    header = parse_json(src.read_at(8, n), "safetensors header", fail, LIMITS["header_bytes"], 3)
    if not isinstance(header, dict):
        fail("the safetensors header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        fail("the safetensors __metadata__ is not a mapping of strings to strings")
    data = src.size - 8 - n
    entries = []
    for name, e in header.items():
        if not isinstance(e, dict) or not {"dtype", "shape", "data_offsets"} <= set(e):
            fail(f"tensor {name!r}: a header entry needs dtype, shape and data_offsets")
        code, shape, offsets = e["dtype"], e["shape"], e["data_offsets"]
        dtype = _DTYPE_OF_CODE.get(code) if isinstance(code, str) else None
        if dtype is None:
            fail(f"tensor {name!r} has dtype {code!r}, which tapegrad cannot read "
                 f"(readable: {', '.join(sorted(_DTYPE_OF_CODE))})")
        if not _ints(shape) or len(shape) > 64 or any(s < 0 or s >= 1 << 62 for s in shape):
            fail(f"tensor {name!r} has a malformed shape {shape!r}")
        if not _ints(offsets) or len(offsets) != 2:
            fail(f"tensor {name!r} has malformed data_offsets {offsets!r}")
        begin, end = offsets
        if begin < 0 or end < begin:
            fail(f"tensor {name!r} has data_offsets {offsets!r}: negative or reversed")
        need = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if end - begin != need:
            fail(f"tensor {name!r}: data_offsets {offsets!r} span {end - begin} bytes but shape {shape} of "
                 f"{code} needs {need}")
        if end > data:
            fail(f"tensor {name!r}: data_offsets {offsets!r} reach past the end of the data ({data} bytes): "
                 "truncated or corrupted")
        entries.append((name, dtype, tuple(shape), begin, end))
    entries.sort(key=lambda t: (t[3], t[4]))
    at = 0
    for name, _, _, begin, end in entries:
        if begin != at:
            fail(f"tensor {name!r} starts at byte {begin} of the data but the previous tensor ends at {at} "
                 f"({'overlapping' if begin < at else 'a gap between'} tensors)")
        at = end
    if at != data:
        fail(f"the tensors cover {at} bytes but the data after the header has {data}")
    return meta, entries, 8 + n


def _ints(x):
    return isinstance(x, list) and all(type(v) is int for v in x)


def read(src):
    """Read a safetensors checkpoint: returns (structure dict, arrays by name)."""
    fail = src.fail
    meta, entries, base = read_header(src)
    text = meta.get(KEY)
    if text is None:                         # a plain safetensors file: its tensors as a flat dict
        structure = None
    else:
        structure = parse_json(text.encode("utf-8"), "structure", fail, LIMITS["structure_bytes"],
                               3 * LIMITS["depth"] + 8)
        if not isinstance(structure, dict) or structure.get("format") != FORMAT or "root" not in structure:
            fail(f"the {KEY!r} metadata does not describe a tapegrad checkpoint")
        if structure.get("version") != VERSION:
            fail(f"unsupported checkpoint version {structure.get('version')!r} (this tapegrad reads "
                 f"versions 1 and {VERSION})")
    crcs = structure.get("crc32", {}) if structure is not None else {}
    if not isinstance(crcs, dict):
        fail("the crc32 table is malformed")
    arrays = {}
    for name, dtype, shape, begin, _ in entries:        # in file order: one sequential pass
        try:
            a = np.empty(shape, dtype)
        except ValueError as e:                          # e.g. shape [0, 2**61, 2**61]
            fail(f"tensor {name!r} has an impossible shape {list(shape)} ({e})", e)
        src.read_into(base + begin, a)
        crc = crcs.get(name)
        if crc is not None and zlib.crc32(memoryview(a.reshape(-1).view(np.uint8))) != crc:
            fail(f"tensor {name!r} is corrupted (CRC-32 mismatch)")
        if dtype.kind == "b" and a.size and a.reshape(-1).view(np.uint8).max() > 1:
            fail(f"bool tensor {name!r} holds bytes other than 0 and 1")
        if not dtype.isnative:
            a = a.astype(dtype.newbyteorder("="))
        arrays[name] = a
    return structure, arrays
