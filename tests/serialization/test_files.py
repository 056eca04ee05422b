"""Where checkpoints are written and read from: permission bits, missing directories, special files, file objects."""
import io
import json
import os
import stat
import struct
import sys

import pytest

import tapegrad
from tapegrad.utils.serialization import CheckpointError

posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits and umask")


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@posix
def test_new_checkpoint_gets_the_umask_default(tmp_path):
    old = os.umask(0o027)
    try:
        tapegrad.save({"w": tapegrad.ones(2)}, tmp_path / "a.tg")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.tg") == 0o640


@posix
@pytest.mark.parametrize("mode", [0o644, 0o600, 0o664, 0o444])
def test_resaving_keeps_the_existing_files_mode(tmp_path, mode):
    path = tmp_path / "a.tg"
    tapegrad.save({"w": tapegrad.ones(2)}, path)
    os.chmod(path, mode)
    tapegrad.save({"w": tapegrad.zeros(2)}, path)
    assert _mode(path) == mode
    assert tapegrad.load(path)["w"].tolist() == [0.0, 0.0]
    assert os.listdir(tmp_path) == ["a.tg"]


def test_saving_into_a_missing_directory_names_the_target(tmp_path):
    target = tmp_path / "no" / "such" / "ckpt.tg"
    with pytest.raises(FileNotFoundError) as info:
        tapegrad.save({"w": tapegrad.ones(2)}, target)
    assert info.value.filename == str(target)
    assert repr(str(target)) in str(info.value) and ".tmp" not in str(info.value)
    assert "does not exist" in str(info.value)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        tapegrad.load(tmp_path / "missing.tg")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_file_objects_on_devices_are_refused():
    with open("/dev/zero", "rb") as f:
        with pytest.raises(CheckpointError, match="'/dev/zero' is not a valid .*a character device"):
            tapegrad.load(f)


def test_non_seekable_file_objects_are_refused():
    class Stream(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            b[:1] = b"\0"
            return 1

    with pytest.raises(CheckpointError, match="not seekable.*io.BytesIO"):
        tapegrad.load(Stream())


def test_file_object_left_at_the_end_of_a_checkpoint_reads_the_next_one():
    buf = io.BytesIO()
    tapegrad.save({"a": tapegrad.ones(1)}, buf)
    end = buf.tell()
    buf.seek(0)
    assert tapegrad.load(buf)["a"].tolist() == [1.0]
    assert end == len(buf.getvalue())


def test_trailing_bytes_after_the_tensors_are_refused(tmp_path):
    tapegrad.save({"a": tapegrad.ones(1)}, tmp_path / "a.tg")
    with open(tmp_path / "a.tg", "ab") as f:
        f.write(b"extra")
    with pytest.raises(CheckpointError, match="cover 4 bytes but the data after the header has 9"):
        tapegrad.load(tmp_path / "a.tg")


def test_bool_bytes_other_than_zero_and_one_are_refused(tmp_path):
    header = json.dumps({"b": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}).encode()
    (tmp_path / "b.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\x07\x00")
    with pytest.raises(CheckpointError, match="bool tensor 'b' holds bytes other than 0 and 1"):
        tapegrad.load(tmp_path / "b.safetensors")


def test_unknown_device_and_impossible_shape_are_checkpoint_errors(tmp_path):
    tapegrad.save({"a": tapegrad.ones(1)}, tmp_path / "a.tg")
    data = (tmp_path / "a.tg").read_bytes().replace(b'\\"device\\":\\"cpu\\"', b'\\"device\\":\\"tpu\\"')
    (tmp_path / "d.tg").write_bytes(data)
    with pytest.raises(CheckpointError, match="unknown device 'tpu'"):
        tapegrad.load(tmp_path / "d.tg")
    header = json.dumps({"e": {"dtype": "F32", "shape": [0, 2 ** 61, 2 ** 61], "data_offsets": [0, 0]}}).encode()
    (tmp_path / "s.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(CheckpointError, match="impossible shape"):
        tapegrad.load(tmp_path / "s.safetensors")


def test_json_value_count_is_bounded_before_parsing(tmp_path, monkeypatch):
    from tapegrad.utils.serialization import LIMITS
    tapegrad.save({"xs": list(range(300))}, tmp_path / "x.tg")
    monkeypatch.setitem(LIMITS, "json_values", 200)
    with pytest.raises(CheckpointError, match="structure holds about 3.. JSON values, more than the limit of 200"):
        tapegrad.load(tmp_path / "x.tg")
    with pytest.raises(ValueError, match="structure is too large for a checkpoint"):
        tapegrad.save({"xs": list(range(300))}, tmp_path / "y.tg")
