"""Crafted pickle archives for test_crafted_files.py: code execution, global tricks and allocation bombs.

Pickles are assembled from protocol 2 opcodes by hand (``_g`` a global, ``_s``
a string, ``_i`` an int, ``_t`` a tuple), so a case says exactly what the
file holds, including names that do not exist on this machine.
"""
import io
import os
import pickle
import zipfile

import numpy as np


def _g(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _s(text):
    raw = text.encode()
    return b"X" + len(raw).to_bytes(4, "little") + raw


def _i(n):
    return b"I%d\n" % n


def _t(*items):
    return b"(" + b"".join(items) + b"t"


def _pkl(body):
    return b"\x80\x02" + body + b"."


def _storage(key, numel, kind="FloatStorage"):
    return _t(_s("storage"), _g("torch", kind), _s(key), _s("cpu"), _i(numel)) + b"Q"


def _view(storage, offset, size, stride):
    return (_g("torch._utils", "_rebuild_tensor_v2") + _t(storage, _i(offset), _t(*map(_i, size)),
            _t(*map(_i, stride)), b"\x89", _g("collections", "OrderedDict") + b")R") + b"R")


def _archive(path, pkl, storages=(), prefix="archive", byteorder="little"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", pkl)
        z.writestr(f"{prefix}/byteorder", byteorder)
        for key, data in storages:
            z.writestr(f"{prefix}/data/{key}", data)
    return path if hasattr(path, "write") else str(path)


class _Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def pickle_cases(tmp, add):
    """Add (name, path, expected outcome) cases; returns the path a code-running load would create."""
    marker = tmp / "pwned"
    boom = pickle.dumps(_Reduce(os.system, (f"touch {marker}",)), protocol=2)
    add("pickle: os.system via __reduce__", _archive(tmp / "system.pt", boom, prefix="tapegrad"),
        "refuses the global (posix|os).system")
    add("pickle: os.system in a torch archive", _archive(tmp / "system_t.pt", boom), "refuses the global")
    add("pickle: builtins.getattr to reach eval", _archive(tmp / "getattr.pt", _pkl(
        _g("builtins", "getattr") + _t(_g("builtins", "dict"), _s("__init__")) + b"R")),
        "refuses the global builtins.getattr")
    add("pickle: a dotted name through an allowed class", _archive(tmp / "dotted.pt", b"\x80\x04" + _s(
        "collections") + _s("OrderedDict.__init__.__globals__") + b"\x93."),
        r"refuses the global collections.OrderedDict.__init__.__globals__")
    add("pickle: an allowed module's other names", _archive(tmp / "tgmod.pt", _pkl(
        _g("tapegrad._dtype", "np") + _t(_s("x")) + b"R")), "refuses the global tapegrad._dtype.np")
    add("pickle: BUILD renaming the float32 singleton", _archive(tmp / "dtype_build.pt", _pkl(
        _g("tapegrad._dtype", "_lookup_name") + _t(_s("float32")) + b"R}" + _s("name") + _s("evil") + b"sb")),
        "sets the state of a dtype")
    add("pickle: NEWOBJ + BUILD turning the cached cpu device into cuda", _archive(tmp / "device_build.pt", _pkl(
        _g("tapegrad._device", "device") + b")\x81" + _t(b"N}" + _s("type") + _s("cuda") + b"s") + b"b")),
        "sets the state of a device")
    copies = _pkl(b"(" + _s("x" * (1 << 20)) + b"q\x01" + (_g("_codecs", "encode") + _t(b"h\x01", _s("latin1"))
                                                              + b"R") * 30000 + b"l")
    add("pickle: one 1 MiB string latin1-encoded 30,000 times", _archive(tmp / "copies.pt", copies),
        "more than twice the pickle's own size")
    lst = _pkl(_g("builtins", "list") + _t(_t(*[_i(0)] * 100_000)) + b"Rq\x01(" + (
        _g("builtins", "tuple") + _t(b"h\x01") + b"R") * 20000 + b"l")
    add("pickle: tuple() of one 100,000-item list 20,000 times", _archive(tmp / "tuples.pt", lst),
        "more than twice the pickle's own size")
    huge = pickle.dumps(_Reduce(np.ndarray, ((10 ** 12,), np.float64)), protocol=2)
    add("pickle: numpy.ndarray((10**12,)) via __reduce__", _archive(tmp / "ndarray.pt", huge),
        "refuses the global numpy.ndarray")
    add("pickle: numpy's _reconstruct", _archive(tmp / "recon.pt", pickle.dumps(np.zeros(4), protocol=2)),
        r"refuses the global numpy\..*_reconstruct")
    add("pickle: bytearray(10**12)", _archive(tmp / "bytearray.pt", _pkl(
        _g("builtins", "bytearray") + _t(_i(10 ** 12)) + b"R")), "bytearray is allowed only from bytes")
    add("pickle: _codecs.encode with a codec other than latin1", _archive(tmp / "codec.pt", _pkl(
        _g("_codecs", "encode") + _t(_s("x" * 10), _s("zlib")) + b"R")), "allowed only as encode")
    add("pickle: _lookup_name of a non-dtype", _archive(tmp / "lookup.pt", _pkl(
        _g("tapegrad._dtype", "_lookup_name") + _t(_s("__builtins__")) + b"R")), "the pickle is malformed")
    add("torch: storage claiming 10^12 elements", _archive(tmp / "bignumel.pt", _pkl(
        _view(_storage("0", 10 ** 12), 0, (10 ** 12,), (1,))), [("0", bytes(8))]),
        "claims 1000000000000 elements of float32 .* holds 8 bytes")
    add("torch: a view past its storage", _archive(tmp / "past.pt", _pkl(
        _view(_storage("0", 2), 0, (10 ** 6,), (1,))), [("0", bytes(8))]), "reaches element 999999 of a storage of 2")
    add("torch: a negative stride", _archive(tmp / "negstride.pt", _pkl(
        _view(_storage("0", 2), 1, (2,), (-1,))), [("0", bytes(8))]), "negative offset, size or stride")
    add("torch: a 10^12-element stride-0 view of one element", _archive(tmp / "expand.pt", _pkl(
        _view(_storage("0", 1), 0, (10 ** 6, 10 ** 6), (0, 0))), [("0", bytes(4))]),
        r"overlapping view of size \(1000000, 1000000\) would copy")
    many = _pkl(b"(" + _view(_storage("0", 2 ** 18), 0, (2 ** 18,), (1,)) + b"q\x01" + b"h\x01" * 33999 + b"l")
    add("torch: 34,000 references to one 1 MiB storage view", _archive(tmp / "many.pt", many, [("0", bytes(2 ** 20))]),
        "ok:34000 arrays, 1 distinct")
    views = _pkl(b"(" + b"".join(_view(_storage("0", 2 ** 18), 0, (2 ** 18, 64), (1, 0)) for _ in range(300)) + b"l")
    add("torch: 300 overlapping 64 MiB views of one 1 MiB storage", _archive(tmp / "views.pt", views,
        [("0", bytes(2 ** 20))]), "would copy 67108864 bytes, more than the 1048576 bytes")
    add("torch: a storage member missing", _archive(tmp / "nostorage.pt", _pkl(
        _view(_storage("7", 2), 0, (2,), (1,)))), "storage '7' has no member archive/data/7")
    add("torch: a persistent id of another kind", _archive(tmp / "pid.pt", _pkl(
        _t(_s("module"), _s("x")) + b"Q")), "unknown persistent id")
    add("torch: two pickles", _two_pickles(tmp / "two.pt"), "holds 2 pickles")
    buf = io.BytesIO()
    pickle.dump({"a": 1}, buf, protocol=2)
    (tmp / "bare.pkl").write_bytes(buf.getvalue())
    add("a bare pickle", str(tmp / "bare.pkl"), "a bare pickle")
    return marker


def _two_pickles(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a/data.pkl", _pkl(b"N"))
        z.writestr("b/data.pkl", _pkl(b"N"))
    return str(path)
