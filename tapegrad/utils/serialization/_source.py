"""Reading a checkpoint with bounds: regular files only, the size known before anything is allocated.

Every reader (safetensors, version-1 zip) reads through a ``Source``: it knows
the file's size up front, reads only ranges that lie inside the file, reads
array bytes straight into preallocated arrays, and turns every refusal into a
``CheckpointError`` naming the file and the reason. ``parse_json`` bounds the
size, nesting depth and value count of JSON text before ``json.loads`` sees it.
"""
import json
import os
import re
import stat

import numpy as np

__all__ = ["CheckpointError", "Source", "parse_json", "LIMITS"]

# Note [checkpoint limits]
# Loading allocates nothing a file has not shown it holds: array bytes are
# checked against the file's size first, and the JSON parts (safetensors
# header, structure, v1 manifest) are bounded so that parsing them stays far
# below a GiB. ``save`` checks the same limits, so it never writes a file that
# ``load`` would refuse. A value of JSON costs Python up to ~80 bytes, hence
# the count limit on top of the size limit.
LIMITS = {
    "header_bytes": 64 << 20,       # safetensors header (safetensors itself allows 100 MB)
    "structure_bytes": 16 << 20,    # the object's structure as JSON (v2 metadata, v1 manifest)
    "json_values": 4_000_000,       # values in any one JSON text
    "depth": 200,                   # nesting of the saved object (dicts, lists, tuples)
    "zip_directory_bytes": 16 << 20,
    "pickle_bytes": 64 << 20,       # the pickle of a pickle archive (tapegrad's or torch.save's data.pkl)
}
_CHUNK = 16 << 20                   # largest single read (a transient copy when a file object lacks readinto)


class CheckpointError(RuntimeError):
    """A file that is not a valid tapegrad checkpoint (truncated, corrupted, too large a claim, or a pickle)."""


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _not_regular(mode):
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "not a regular file"


class Source:
    """A checkpoint opened for bounded reading: a path (opened here) or a seekable binary file object."""

    def __init__(self, f):
        self.fh, self.own = None, False
        if hasattr(f, "read"):
            name = getattr(f, "name", None)
            self.what = repr(name) if isinstance(name, (str, bytes, os.PathLike)) else "the file object"
            self._open_file_object(f)
        else:
            path = os.fspath(f)
            self.what = repr(path)
            self._open_path(path)

    def _open_path(self, path):
        # O_NONBLOCK: opening a FIFO for reading must not wait for a writer before we can refuse it.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags)
        except (IsADirectoryError, PermissionError) as e:
            if os.path.isdir(path):                     # Windows cannot open a directory at all
                self.fail("it is a directory, not a regular file", e)
            raise
        try:
            st = os.fstat(fd)
            kind = _not_regular(st.st_mode)
            if kind is not None:
                self.fail(f"it is {kind}, not a regular file")
        except BaseException:
            os.close(fd)
            raise
        self.fh, self.own, self.start, self.size = open(fd, "rb", buffering=0), True, 0, st.st_size

    def _open_file_object(self, f):
        try:
            fd = f.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
        if fd is not None:
            kind = _not_regular(os.fstat(fd).st_mode)
            if kind is not None:
                self.fail(f"it is {kind}, not a regular file")
        seekable = getattr(f, "seekable", None)
        if seekable is None or not seekable():
            self.fail("the file object is not seekable (its size must be known before reading); "
                      "read it into io.BytesIO first")
        self.fh, self.start = f, f.tell()
        self.size = max(f.seek(0, os.SEEK_END) - self.start, 0)
        f.seek(self.start)

    def close(self):
        if self.own and self.fh is not None:
            self.fh.close()

    def fail(self, why, cause=None):
        err = CheckpointError(f"tapegrad.load: {self.what} is not a valid tapegrad checkpoint: {why}")
        raise err from cause

    def read_at(self, offset, n):
        """``n`` bytes at ``offset``; the caller has checked ``n`` against a limit."""
        if offset < 0 or n < 0 or offset + n > self.size:
            self.fail(f"a read of {n} bytes at offset {offset} reaches past the end of the file "
                      f"({self.size} bytes): truncated or corrupted")
        self.fh.seek(self.start + offset)
        parts, got = [], 0
        while got < n:
            part = self.fh.read(min(n - got, _CHUNK))
            if not part or len(part) > n - got:
                self.fail(f"the file ended {n - got} bytes early: truncated or corrupted")
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    def read_into(self, offset, array):
        """Fill the C-contiguous ``array`` with the file's bytes at ``offset``."""
        fill_from(self.fh, array, self.fail, self.start + offset)


def fill_from(fh, array, fail, offset=None):
    """Read ``array.nbytes`` bytes from ``fh`` into ``array`` (no intermediate copy when ``fh`` has readinto)."""
    if array.nbytes == 0:
        return
    if offset is not None:
        fh.seek(offset)
    buf = memoryview(array.reshape(-1).view(np.uint8))
    n, got = len(buf), 0
    readinto = getattr(fh, "readinto", None)
    while got < n:
        want = min(n - got, _CHUNK)
        if readinto is not None:
            k = readinto(buf[got:got + want])
        else:
            part = fh.read(want)
            k = len(part) if len(part) <= want else 0
            buf[got:got + k] = part[:k]
        if not k:
            fail(f"the file ended {n - got} bytes early: truncated or corrupted")
        got += k


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")     # every byte but the brackets


def parse_json(raw, part, fail, max_bytes, max_depth):
    """``json.loads(raw)`` once the text is known to be small, shallow and few-valued enough (no RecursionError)."""
    if len(raw) > max_bytes:
        fail(f"the {part} takes {len(raw)} bytes, more than the limit of {max_bytes}")
    skeleton = _STRING.sub(b"", raw)
    values = skeleton.count(b",") + skeleton.count(b":") + 1
    if values > LIMITS["json_values"]:
        fail(f"the {part} holds about {values} JSON values, more than the limit of {LIMITS['json_values']}")
    brackets = skeleton.translate(None, _BRACKETS)
    if brackets:
        steps = np.frombuffer(brackets, np.uint8)
        opens = (steps == ord("[")) | (steps == ord("{"))
        depth = int(np.cumsum(np.where(opens, 1, -1), dtype=np.int64).max())
        if depth > max_depth:
            fail(f"the {part} is nested {depth} levels deep, more than the limit of {max_depth}")
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        fail(f"the {part} is not valid JSON ({e})", e)
