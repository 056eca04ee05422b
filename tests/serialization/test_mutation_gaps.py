"""Edges of the checkpoint reader and writer that the round-trip tests do not reach: the temporary file a
save to a file object goes through, zip64 end records in version 1 files, and the .npy format version."""
import io
import os
import struct
import zipfile

import numpy as np
import pytest

import tapegrad
from tapegrad.utils.serialization import CheckpointError

from .v1_writer import write_v1


# ----------------------------------------------------------------- saving to a file object

@pytest.fixture
def tmpdir_for_saves(tmp_path, monkeypatch):
    """tempfile's directory, pointed at an empty folder of the test's own."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(d))
    return d


def test_saving_to_a_file_object_leaves_no_temporary_file(tmpdir_for_saves, tmp_path):
    obj = {"w": tapegrad.arange(6.0).reshape(2, 3), "step": 3}
    buf = io.BytesIO()
    tapegrad.save(obj, buf)
    assert os.listdir(tmpdir_for_saves) == []
    tapegrad.save(obj, tmp_path / "direct.tg")
    assert buf.getvalue() == (tmp_path / "direct.tg").read_bytes()      # the same bytes as a save to a path
    buf.seek(0)
    back = tapegrad.load(buf)
    assert back["step"] == 3 and back["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_saving_to_a_file_object_closes_the_temporary_file(tmpdir_for_saves, monkeypatch):
    import tempfile
    made = []
    mkstemp = tempfile.mkstemp

    def recording_mkstemp(*a, **k):
        made.append(mkstemp(*a, **k))
        return made[-1]
    monkeypatch.setattr(tempfile, "mkstemp", recording_mkstemp)
    tapegrad.save({"w": tapegrad.ones(3)}, io.BytesIO())
    assert len(made) == 1
    fd, name = made[0]
    assert not os.path.exists(name)
    with pytest.raises(OSError):        # closed by save (a later open may reuse the number, and closes it too)
        os.fstat(fd)


class _FailingWriter(io.RawIOBase):
    def writable(self):
        return True

    def write(self, b):
        raise OSError("disk full")


def test_a_failed_save_to_a_file_object_leaves_no_temporary_file(tmpdir_for_saves):
    with pytest.raises(OSError, match="disk full"):
        tapegrad.save({"w": tapegrad.ones(3)}, _FailingWriter())
    assert os.listdir(tmpdir_for_saves) == []


# ----------------------------------------------------------------- zip64 end records (version 1)

def _as_zip64(raw, entries=True, size=True):
    """The same archive with a zip64 end record and locator; the plain end record defers its entry counts
    (``entries``), its directory size and offset (``size``), or both, to the zip64 record."""
    end = raw.rindex(b"PK\x05\x06")
    _, _, _, n_disk, n_total, cd_size, cd_off, _ = struct.unpack("<IHHHHIIH", raw[end:end + 22])
    rec = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n_disk, n_total, cd_size, cd_off)
    loc = struct.pack("<IIQI", 0x07064B50, 0, end, 1)
    n = 0xFFFF if entries else n_total
    tail = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, *((0xFFFFFFFF,) * 2 if size else (cd_size, cd_off)), 0)
    return raw[:end] + rec + loc + tail


@pytest.mark.parametrize("entries, size", [(True, True), (True, False), (False, True)])
def test_a_version_1_file_with_a_zip64_end_record_loads(tmp_path, entries, size):
    raw = write_v1({"w": tapegrad.arange(5.0), "n": 7}, tmp_path / "a.tg").read_bytes()
    path = tmp_path / "z64.tg"
    path.write_bytes(_as_zip64(raw, entries, size))
    with zipfile.ZipFile(path) as z:                # the crafted file is a valid zip64 archive
        assert len(z.infolist()) == 2
    back = tapegrad.load(path)
    assert back["n"] == 7 and back["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def _zip64_pointing_at(rec_at):
    """A 70-byte file: a local header signature, a zip64 end record signature at ``rec_at``, a locator
    pointing there and an end record asking for zip64 (whose bytes the 56-byte zip64 record overlaps)."""
    body = bytearray(b"PK\x03\x04" + bytes(24))
    body[rec_at:rec_at + 4] = b"PK\x06\x06"
    loc = struct.pack("<IIQI", 0x07064B50, 0, rec_at, 1)
    tail = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0, 0, 0)
    return bytes(body) + loc + tail


@pytest.mark.parametrize("rec_at, outcome", [
    (14, "zip directory claims \\d+ bytes, more than the limit"),   # its 56 bytes end exactly at the file's end
    (15, "zip64 end record is missing"),                            # one byte past the end
    (16, "zip64 end record is missing"),
])
def test_the_zip64_end_record_must_fit_in_the_file(tmp_path, rec_at, outcome):
    data = _zip64_pointing_at(rec_at)
    assert len(data) == 70
    path = tmp_path / "c.tg"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match=outcome):
        tapegrad.load(path)


def test_a_zip64_locator_that_is_missing_is_refused(tmp_path):
    raw = bytearray(_as_zip64(write_v1({"w": tapegrad.ones(2)}, tmp_path / "a.tg").read_bytes()))
    at = raw.rindex(b"PK\x06\x07")
    raw[at:at + 4] = b"XXXX"
    (tmp_path / "b.tg").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="zip64 locator is missing"):
        tapegrad.load(tmp_path / "b.tg")


# ----------------------------------------------------------------- .npy format versions (version 1)

def _v1_with_npy(tmp_path, npy):
    path = tmp_path / "v.tg"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("tapegrad/manifest.json", '{"format": "tapegrad-checkpoint", "version": 1, "root": {"ndarray": 0}}')
        z.writestr("tapegrad/tensors/0.npy", npy)
    return path


def _npy(a, version):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version=version, allow_pickle=False)
    return buf.getvalue()


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_npy_versions_1_and_2_load(tmp_path, version):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    npy = _npy(a, version)
    assert npy[6:8] == bytes(version)
    back = tapegrad.load(_v1_with_npy(tmp_path, npy))
    np.testing.assert_array_equal(back, a)
    assert back.dtype == a.dtype


@pytest.mark.parametrize("version", [(3, 0), (1, 1)])
def test_other_npy_versions_are_refused(tmp_path, version):
    # numpy can read a (3, 0) header (utf-8 text, as 2.0 is laid out); tapegrad's writer never made one
    npy = bytearray(_npy(np.arange(4, dtype=np.float32), (2, 0)))
    npy[6:8] = bytes(version)
    with pytest.raises(CheckpointError, match=rf"tensor 0: \.npy version \({version[0]}, {version[1]}\), "
                                              "which tapegrad's writer never produced"):
        tapegrad.load(_v1_with_npy(tmp_path, bytes(npy)))


@pytest.mark.parametrize("what", ["directory signature", "directory entry count"])
def test_a_corrupted_zip_directory_is_refused(tmp_path, what):
    raw = bytearray(write_v1({"w": tapegrad.ones(2)}, tmp_path / "a.tg").read_bytes())
    if what == "directory signature":
        at = raw.index(b"PK\x01\x02")
        raw[at:at + 4] = b"XXXX"
    else:                                   # the end record claims a directory larger than the one there
        end = raw.rindex(b"PK\x05\x06")
        (cd_size,) = struct.unpack("<I", raw[end + 12:end + 16])
        raw[end + 12:end + 16] = struct.pack("<I", cd_size + 46)
    (tmp_path / "b.tg").write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"the archive is truncated or corrupted \(.+\)"):
        tapegrad.load(tmp_path / "b.tg")


def test_saving_to_a_path_closes_the_descriptor_it_syncs(tmp_path, monkeypatch):
    opened = []
    real_open = os.open

    def recording_open(path, flags, *a, **k):
        opened.append(real_open(path, flags, *a, **k))
        return opened[-1]
    monkeypatch.setattr(os, "open", recording_open)
    tapegrad.save({"w": tapegrad.ones(3)}, tmp_path / "a.tg")
    monkeypatch.undo()
    assert opened
    for fd in opened:
        with pytest.raises(OSError):    # closed (the number may be reused by a later open, which closes it too)
            os.fstat(fd)
    assert tapegrad.load(tmp_path / "a.tg")["w"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("descr", ["|O", [("a", "<f4"), ("b", "|O")]])
def test_an_object_npy_member_is_refused_as_pickled(tmp_path, descr):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": (2,)})
    with pytest.raises(CheckpointError) as e:
        tapegrad.load(_v1_with_npy(tmp_path, buf.getvalue() + bytes(16)))
    assert "tensor 0 holds pickled objects; tapegrad.load never unpickles" in str(e.value)
    assert "corrupted" not in str(e.value)


def test_an_oversized_npy_header_is_reported_as_corrupted_not_as_a_pickle(tmp_path):
    # numpy refuses a header past 10,000 characters with a hint about allow_pickle; the array is no pickle
    text = repr({"descr": "<f4", "fortran_order": False, "shape": (2,)}) + " " * 20000 + "\n"
    npy = b"\x93NUMPY\x02\x00" + struct.pack("<I", len(text)) + text.encode("latin1") + bytes(8)
    with pytest.raises(CheckpointError, match=r"tensor 0 is corrupted \(Header info length") as e:
        tapegrad.load(_v1_with_npy(tmp_path, npy))
    assert "pickled objects" not in str(e.value)
