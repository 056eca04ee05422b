"""Reading version 1 checkpoints (tapegrad's earlier format), with bounds.

A version 1 file is a zip archive (members stored, never compressed) holding
``tapegrad/manifest.json`` and one ``tapegrad/tensors/<i>.npy`` per array.
Before anything is allocated (Note [checkpoint limits]): the zip directory's
size is read from the end record and bounded; every member must be stored
uncompressed (so no deflate bomb), lie inside the file and overlap no other
member (so no array is read twice); the manifest is bounded like any JSON
part; an array's ``.npy`` header must declare exactly the bytes its member
holds, and the array is read straight into its own preallocated array, with
the zip's CRC-32 checked at the end of the member.
"""
import io
import struct
import zipfile

import numpy as np

from ._source import LIMITS, fill_from, parse_json

__all__ = ["open_archive", "read", "read_array", "member_bytes", "looks_like", "MANIFEST"]

FORMAT = "tapegrad-checkpoint"
MANIFEST = "tapegrad/manifest.json"
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, ValueError, OSError, struct.error, NotImplementedError,
               KeyError, OverflowError, zipfile.LargeZipFile)


def looks_like(head):
    return head[:4] in (b"PK\x03\x04", b"PK\x05\x06")


class _View(io.RawIOBase):
    """The source as a file for ``zipfile``: positions relative to the checkpoint, reads bounded by its size."""

    def __init__(self, src):
        self.src, self.pos = src, 0

    def seekable(self):
        return True

    def readable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.src.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self.pos = base + offset
        return self.pos

    def read(self, n=-1):
        left = max(self.src.size - self.pos, 0)
        n = left if n is None or n < 0 else min(n, left)
        data = self.src.read_at(self.pos, n) if n else b""
        self.pos += len(data)
        return data

    def readinto(self, buf):
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)


def _directory_size(src):
    """The central directory's size as the end record states it (zip64 aware), before zipfile reads it."""
    tail_at = max(src.size - 22 - 65535, 0)
    tail = src.read_at(tail_at, src.size - tail_at)
    i = tail.rfind(b"PK\x05\x06")
    if i < 0 or len(tail) - i < 22:
        src.fail("the archive has no zip end record: truncated or corrupted")
    entries, size = struct.unpack("<HI", tail[i + 10:i + 16])
    if entries == 0xFFFF or size == 0xFFFFFFFF:
        loc = tail_at + i - 20
        if loc < 0 or src.read_at(loc, 4) != b"PK\x06\x07":
            src.fail("the archive's zip64 locator is missing: truncated or corrupted")
        (rec,) = struct.unpack("<Q", src.read_at(loc + 8, 8))
        if rec + 56 > src.size or src.read_at(rec, 4) != b"PK\x06\x06":
            src.fail("the archive's zip64 end record is missing: truncated or corrupted")
        (size,) = struct.unpack("<Q", src.read_at(rec + 40, 8))
    return size


def open_archive(src):
    """Open the zip with its directory bounded and its members checked; returns (ZipFile, members by name)."""
    fail = src.fail
    size = _directory_size(src)
    if size > LIMITS["zip_directory_bytes"]:
        fail(f"the zip directory claims {size} bytes, more than the limit of {LIMITS['zip_directory_bytes']}")
    try:
        z = zipfile.ZipFile(_View(src))
        infos = z.infolist()
    except _ZIP_ERRORS as e:
        fail(f"the archive is truncated or corrupted ({e})", e)
    _check_members(src, infos)
    return z, {i.filename: i for i in infos}


def read(src, z, names, decoder_for):
    """Read a version-1 checkpoint from its opened archive; ``decoder_for(array)`` makes the structure decoder."""
    fail = src.fail
    info = names.get(MANIFEST)
    if info is None:
        fail(f"it has no {MANIFEST}")
    if info.file_size > LIMITS["structure_bytes"]:
        fail(f"the manifest takes {info.file_size} bytes, more than the limit of {LIMITS['structure_bytes']}")
    manifest = parse_json(member_bytes(z, info, fail), "manifest", fail, LIMITS["structure_bytes"],
                          3 * LIMITS["depth"] + 8)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "root" not in manifest:
        fail("the manifest does not describe a tapegrad checkpoint")
    if manifest.get("version") != 1:
        fail(f"unsupported checkpoint version {manifest.get('version')!r} (this tapegrad reads versions 1 and 2)")
    cache = {}

    def array(idx):
        if type(idx) is not int or idx < 0:
            fail(f"bad tensor reference {idx!r}")
        if idx not in cache:
            cache[idx] = read_array(z, names, idx, fail)
        return cache[idx]
    return decoder_for(array).decode(manifest["root"])


def _check_members(src, infos):
    spans = []
    for i in infos:
        if i.compress_type != zipfile.ZIP_STORED:
            src.fail(f"member {i.filename!r} is compressed (method {i.compress_type}); tapegrad checkpoints "
                     "store members uncompressed, so a compressed member is refused (it could expand without bound)")
        end = i.header_offset + 30 + len(i.filename.encode("utf-8")) + i.compress_size
        if i.compress_size != i.file_size or end > src.size:
            src.fail(f"member {i.filename!r} claims {i.file_size} bytes, which the file does not hold: "
                     "truncated or corrupted")
        spans.append((i.header_offset, end, i.filename))
    spans.sort()
    for (_, end, a), (start, _, b) in zip(spans, spans[1:]):
        if start < end:
            src.fail(f"members {a!r} and {b!r} overlap in the archive")


def member_bytes(z, info, fail):
    try:
        return z.read(info)
    except _ZIP_ERRORS as e:
        fail(f"member {info.filename!r} is corrupted ({e})", e)


def read_array(z, names, idx, fail):
    member = f"tapegrad/tensors/{idx}.npy"
    info = names.get(member)
    if info is None:
        fail(f"member {member!r} is missing")
    try:
        with z.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version not in ((1, 0), (2, 0)):
                fail(f"tensor {idx}: .npy version {version}, which tapegrad's writer never produced")
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = header(fp)
            if dtype.hasobject:
                fail(f"tensor {idx} holds pickled objects; tapegrad.load never unpickles")
            if fortran and len(shape) > 1:
                fail(f"tensor {idx} is stored in Fortran order, which tapegrad's writer never produced")
            nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if fp.tell() + nbytes != info.file_size:
                fail(f"tensor {idx}: the .npy header declares shape {shape} of {dtype} ({nbytes} bytes) but the "
                     f"member holds {info.file_size - fp.tell()} bytes of data")
            a = np.empty(shape, dtype)
            fill_from(fp, a, fail)
            fp.read(1)                      # at the end of the member: zipfile checks the CRC-32
    except _ZIP_ERRORS as e:
        # (object dtypes are refused above; numpy's only "pickle" error here is its oversized-header hint)
        fail(f"tensor {idx} is corrupted ({e})", e)
    if not dtype.isnative:
        a = a.astype(dtype.newbyteorder("="))
    return a
