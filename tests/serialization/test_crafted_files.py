"""Crafted checkpoints (each small on disk) are refused with a CheckpointError, in a process capped at 1 GiB.

One child process imports tapegrad, loads a good checkpoint, then caps its own
address space (RLIMIT_AS) at what it uses plus 1 GiB and loads every crafted
file in turn, reporting the outcome of each. A reader that believed a file's
claims (a deflate bomb, a 10^12-element header, a 2^60-byte header) would hit
the cap with a MemoryError; one that recursed would raise RecursionError; one
that opened a FIFO would hang.
"""
import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest

import tapegrad

from .crafted_pickles import pickle_cases
from .v1_writer import write_v1

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux's")

CAP = 1 << 30
_CHILD = r"""
import json, resource, sys
import numpy as np
import tapegrad
ok, cases = sys.argv[1], json.loads(sys.argv[2])
tapegrad.load(ok)
vm = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + CAP, vm + CAP))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def leaves(x, out):
    stack = [x]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, (np.ndarray, tapegrad.Tensor)):
            a = x.detach().numpy() if isinstance(x, tapegrad.Tensor) else x
            out.append(a.__array_interface__["data"][0])
    return out

results = {}
for name, path in cases.items():
    try:
        ptrs = leaves(tapegrad.load(path), [])
        results[name] = ["ok", f"{len(ptrs)} arrays, {len(set(ptrs))} distinct"]
    except Exception as e:
        results[name] = [type(e).__name__, str(e)[:400]]
results["rss"] = [base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]
print(json.dumps(results))
""".replace("CAP", str(CAP))


def _st(path, header, data=b"", length=None):
    """A safetensors file from a header dict (or raw header bytes) and data bytes."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw) if length is None else length) + raw + data)
    return str(path)


def _structure(root):
    return json.dumps({"format": "tapegrad-checkpoint", "version": 2, "root": root})


def _deflate_repeated(prefix, fill, times, chunk=16 << 20):
    """A raw deflate stream of ``prefix + fill * chunk * times`` built from one compressed chunk."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(fill * chunk) + c.flush(zlib.Z_FULL_FLUSH)   # no back-references past a full flush
    return head + block * times + c.flush(), len(prefix) + chunk * times


def _raw_zip(path, members):
    """A zip written by hand: members are (name, stored bytes, method, uncompressed size)."""
    out, cd = bytearray(), bytearray()
    for name, data, method, size in members:
        n, off = name.encode(), len(out)
        crc = zlib.crc32(data) if method == 0 else 0      # (a bomb's CRC would be checked only after inflating)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, len(n), 0) + n + data
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size,
                          len(n), 0, 0, 0, 0, 0, off) + n
    out += cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd), len(out), 0)
    path.write_bytes(bytes(out))
    return str(path)


def _npy_header(descr, shape):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _manifest(root):
    return json.dumps({"format": "tapegrad-checkpoint", "version": 1, "root": root})


def _cases(tmp):
    cases, expect = {}, {}

    def add(name, path, outcome):
        cases[name], expect[name] = str(path), outcome

    # ---- version 1 (zip) files
    npy, size = _deflate_repeated(_npy_header("<f4", ((96 * (16 << 20)) // 4,)), b"\0", 96)
    add("v1 deflate bomb (1.5 GiB of zeros in ~1.6 MB)", _raw_zip(tmp / "bomb.tg", [
        ("tapegrad/manifest.json", _manifest({"ndarray": 0}).encode(), 0, len(_manifest({"ndarray": 0}))),
        ("tapegrad/tensors/0.npy", npy, 8, size)]), "compressed")
    text, size = _deflate_repeated(b'{"format": "tapegrad-checkpoint", "version": 1, "root": ', b" ", 40)
    add("v1 manifest bomb (a deflated 640 MiB manifest)", _raw_zip(tmp / "mbomb.tg", [
        ("tapegrad/manifest.json", text, 8, size)]), "compressed")
    add("v1 34,000 references to one 32 KiB array",
        write_v1(None, tmp / "refs.tg", {"list": [{"ndarray": 0}] * 34000}, [np.zeros(8192, np.float32)]),
        "ok:34000 arrays, 1 distinct")
    entries = [{"ndarray": 0}] * 150 + [{"tensor": 0, "dtype": "float32", "device": "cpu", "requires_grad": i % 2 == 0,
                                         "parameter": i % 3 == 0} for i in range(150)]
    add("v1 4 MiB array referenced 300 times",
        write_v1(None, tmp / "r300.tg", {"list": entries}, [np.zeros(1 << 20, np.float32)]),
        "ok:300 arrays, 1 distinct")
    with zipfile.ZipFile(tmp / "huge_npy.tg", "w") as z:
        z.writestr("tapegrad/manifest.json", _manifest({"ndarray": 0}))
        z.writestr("tapegrad/tensors/0.npy", _npy_header("<f4", (10 ** 12,)) + bytes(8))
    add("v1 .npy header claiming 10^12 elements", str(tmp / "huge_npy.tg"), "declares shape .*member holds 8 bytes")
    deep = '{"list": [' * 100_000 + "1" + "]}" * 100_000
    with zipfile.ZipFile(tmp / "deep.tg", "w") as z:
        z.writestr("tapegrad/manifest.json", '{"format": "tapegrad-checkpoint", "version": 1, "root": ' + deep + "}")
    add("v1 100,000-level nesting", str(tmp / "deep.tg"), "nested 200001 levels deep")
    good = write_v1({"w": tapegrad.arange(4.0)}, tmp / "good_v1.tg")
    raw = bytearray(open(good, "rb").read())
    end = raw.rindex(b"PK\x05\x06")
    raw[end + 12:end + 16] = struct.pack("<I", 0xFFFFFFF0)
    (tmp / "bigdir.tg").write_bytes(bytes(raw))
    add("v1 zip directory claiming 4 GiB", str(tmp / "bigdir.tg"), "zip directory claims 4294967280 bytes")
    (tmp / "cut_v1.tg").write_bytes(open(good, "rb").read()[:150])
    add("v1 truncated", str(tmp / "cut_v1.tg"), "truncated or corrupted")
    m = _manifest({"ndarray": 0}).encode()
    add("v1 overlapping members", _overlap_zip(tmp / "overlap.tg", m), "overlap")

    # ---- special files
    add("/dev/zero", "/dev/zero", "a character device, not a regular file")
    os.mkfifo(tmp / "fifo")
    add("a FIFO", str(tmp / "fifo"), "a FIFO")
    add("a directory", str(tmp), "a directory, not a regular file")

    # ---- version 2 (safetensors) files
    f32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    add("header claiming 2^60 bytes", _st(tmp / "h60.st", {}, length=1 << 60),
        "header claims 1152921504606846976 bytes, more than the limit")
    add("header longer than the file", _st(tmp / "hlong.st", {"a": f32}, bytes(8), length=5000), "truncated")
    add("offsets past the end of the file",
        _st(tmp / "past.st", {"a": {"dtype": "F32", "shape": [10 ** 9], "data_offsets": [0, 4 * 10 ** 9]}}, bytes(8)),
        "reach past the end of the data")
    add("overlapping offsets", _st(tmp / "ovl.st", {"a": f32, "b": {**f32, "data_offsets": [4, 12]}}, bytes(12)),
        "overlapping")
    add("negative offsets", _st(tmp / "neg.st", {"a": {**f32, "data_offsets": [-8, 0]}}, bytes(8)), "negative")
    add("shape*dtype size mismatch",
        _st(tmp / "mis.st", {"a": {"dtype": "F32", "shape": [10 ** 12], "data_offsets": [0, 8]}}, bytes(8)),
        "span 8 bytes but shape")
    add("unknown safetensors dtype", _st(tmp / "dt.st", {"a": {**f32, "dtype": "F17"}}, bytes(8)), "dtype 'F17'")
    add("non-JSON metadata", _st(tmp / "nj.st", {"__metadata__": {"tapegrad": "{nope"}}), "not valid JSON")
    add("non-JSON header", _st(tmp / "njh.st", b"{nope" + b" " * 3), "not valid JSON")
    add("metadata with 100,000-level nesting",
        _st(tmp / "deep.st", {"__metadata__": {"tapegrad": _structure(0)[:-2] + deep + "}"}}), "nested 200001 levels deep")
    add("header with 100,000-level nesting", _st(tmp / "deeph.st", b"{" + b'"a":[' * 100_000), "nested")
    big = _structure({"list": ["x" * 1000] * (17 << 10)})
    add("metadata over the structure limit", _st(tmp / "bigmeta.st", {"__metadata__": {"tapegrad": big}}),
        "structure takes .* bytes, more than the limit")
    add("metadata with 34,000 references to one array", _st(tmp / "refs.st", {
        "__metadata__": {"tapegrad": _structure({"list": [{"ndarray": "w"}] * 34000})},
        "w": {"dtype": "F32", "shape": [8192], "data_offsets": [0, 32768]}}, bytes(32768)),
        "ok:34000 arrays, 1 distinct")
    entries = [{**e, "tensor": "w"} if "tensor" in e else {"ndarray": "w"} for e in entries]
    add("4 MiB array referenced 300 times", _st(tmp / "r300.st", {
        "__metadata__": {"tapegrad": _structure({"list": entries})},
        "w": {"dtype": "F32", "shape": [1 << 20], "data_offsets": [0, 4 << 20]}}, bytes(4 << 20)),
        "ok:300 arrays, 1 distinct")
    add("structure dtype unknown", _st(tmp / "sdt.st", {
        "__metadata__": {"tapegrad": _structure({"tensor": "a", "dtype": "float99", "device": "cpu"})}, "a": f32},
        bytes(8)), "tensor 'a' has unknown dtype 'float99'")
    add("structure dtype disagrees with the stored array", _st(tmp / "sdm.st", {
        "__metadata__": {"tapegrad": _structure({"tensor": "a", "dtype": "int32", "device": "cpu"})}, "a": f32},
        bytes(8)), "stored array is float32 but the structure says int32")
    buf = io.BytesIO()
    tapegrad.save({"w": tapegrad.arange(1000.0)}, buf)
    (tmp / "cut.st").write_bytes(buf.getvalue()[:len(buf.getvalue()) // 2])
    add("truncated", str(tmp / "cut.st"), "truncated or corrupted")

    # ---- pickle archives (tapegrad's and torch.save's), read weights-only
    pickle_cases(tmp, add)
    return cases, expect


def _overlap_zip(path, manifest):
    """Two directory entries pointing at the same local member."""
    _raw_zip(path, [("tapegrad/manifest.json", manifest, 0, len(manifest))])
    raw = bytearray(path.read_bytes())
    cd = raw.index(b"PK\x01\x02")
    entry = raw[cd:raw.index(b"PK\x05\x06")]
    raw[cd:cd] = entry
    end = raw.index(b"PK\x05\x06")
    raw[end + 8:end + 12] = struct.pack("<HH", 2, 2)
    raw[end + 12:end + 16] = struct.pack("<I", 2 * len(entry))
    path.write_bytes(bytes(raw))
    return str(path)


def test_crafted_files_are_refused_within_a_memory_cap(tmp_path):
    ok = str(tmp_path / "ok.tg")
    tapegrad.save({"w": tapegrad.ones(3)}, ok)
    cases, expect = _cases(tmp_path)
    for p in cases.values():
        assert p.startswith("/dev/") or os.path.isdir(p) or "fifo" in p or os.path.getsize(p) < 20 << 20, p
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, "-c", _CHILD, ok, json.dumps(cases)], cwd=root, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    results = json.loads(r.stdout.strip().splitlines()[-1])
    base, peak = results.pop("rss")
    assert peak - base < CAP, (base, peak)
    failures = []
    for name, want in expect.items():
        kind, msg = results[name]
        if want.startswith("ok:"):
            good = kind == "ok" and msg == want[3:]
        else:
            good = (kind in ("CheckpointError", "WeightsOnlyError") and re.search(want, msg) is not None
                    and repr(cases[name]) in msg)
        if not good:
            failures.append(f"{name}: expected {want!r}, got {kind}: {msg}")
    assert not failures, "\n".join(failures)
    assert not (tmp_path / "pwned").exists()        # no crafted pickle ran its command
