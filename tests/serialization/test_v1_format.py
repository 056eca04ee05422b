"""Version 1 checkpoints (zip + manifest.json + .npy, written by earlier tapegrad releases) still load."""
import io
import json
import zipfile

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.utils.serialization import CheckpointError

from test_serialization import _check_equal, _obj
from .v1_writer import write_v1


def test_files_from_the_old_writer_load_unchanged(tmp_path):
    obj = _obj()
    p = nn.Parameter(tapegrad.randn(2))
    obj["params"] = [p, p, tapegrad.ones(2, requires_grad=True)]
    obj["T"] = tapegrad.randn(3, 2).T
    write_v1(obj, tmp_path / "old.tg")
    out = tapegrad.load(tmp_path / "old.tg")
    _check_equal(obj, out)
    assert isinstance(out["params"][0], nn.Parameter) and out["params"][1] is out["params"][0]
    assert out["params"][2].requires_grad and not isinstance(out["params"][2], nn.Parameter)
    with open(tmp_path / "old.tg", "rb") as f:
        _check_equal(obj, tapegrad.load(io.BytesIO(f.read()), map_location="cpu"))


def test_old_model_checkpoint_loads_into_a_model(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    write_v1(model.state_dict(), tmp_path / "m.tg")
    fresh = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    fresh.load_state_dict(tapegrad.load(tmp_path / "m.tg"))
    x = tapegrad.randn(5, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), fresh(x).detach().numpy())


@pytest.mark.parametrize("dtype, why", [
    ("int32", "stored array is float32 but the structure says int32"),
    ("float99", "unknown dtype 'float99'"),
    ("_COERCE", "unknown dtype '_COERCE'"),
    (None, "unknown dtype None"),
])
def test_bad_or_disagreeing_manifest_dtype(tmp_path, dtype, why):
    root = {"tensor": 0, "dtype": dtype, "device": "cpu"}
    path = write_v1(None, tmp_path / "d.tg", root, [np.zeros(2, np.float32)])
    with pytest.raises(CheckpointError, match=f"{str(path)!r} is not a valid tapegrad checkpoint: .*{why}"):
        tapegrad.load(path)


def test_fortran_ordered_arrays_are_refused(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.asfortranarray(np.ones((2, 3), np.float32)))
    with zipfile.ZipFile(tmp_path / "f.tg", "w") as z:
        z.writestr("tapegrad/manifest.json", json.dumps({"format": "tapegrad-checkpoint", "version": 1,
                                                         "root": {"ndarray": 0}}))
        z.writestr("tapegrad/tensors/0.npy", buf.getvalue())
    with pytest.raises(CheckpointError, match="Fortran order"):
        tapegrad.load(tmp_path / "f.tg")


def test_corrupted_array_bytes_fail_the_zip_crc(tmp_path):
    path = write_v1({"w": tapegrad.arange(100.0)}, tmp_path / "c.tg")
    data = bytearray(path.read_bytes())
    i = data.index(np.float32(50.0).tobytes())
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="tensor 0 is corrupted .*CRC"):
        tapegrad.load(path)
