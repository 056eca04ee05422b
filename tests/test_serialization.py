"""tapegrad.save / tapegrad.load: round trips, and truncated, corrupted or pickle-bearing files."""
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.utils.serialization import CheckpointError


def _obj():
    return {
        "f32": tapegrad.randn(3, 2),
        "f64": tapegrad.randn(2, dtype=tapegrad.float64),
        "i64": tapegrad.tensor([1, -2]),
        "i32": tapegrad.tensor([3], dtype=tapegrad.int32),
        "b": tapegrad.tensor([True, False]),
        "scalar": tapegrad.tensor(2.5),
        "empty": tapegrad.zeros(0, 3),
        "nested": [1, 2.5, "s", None, True, (4, [5.0]), {"k": float("inf"), 7: float("-inf")}],
        "nan": float("nan"),
        "np": np.arange(3, dtype=np.int32),
    }


def _check_equal(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, tapegrad.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True))
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _check_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _check_equal(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_round_trip_keeps_structure_and_dtypes(tmp_path):
    obj = _obj()
    tapegrad.save(obj, tmp_path / "a.tg")
    _check_equal(obj, tapegrad.load(tmp_path / "a.tg"))
    buf = io.BytesIO()
    tapegrad.save(obj, buf)
    buf.seek(0)
    _check_equal(obj, tapegrad.load(buf, map_location="cpu"))


def test_parameters_requires_grad_and_sharing(tmp_path):
    p = nn.Parameter(tapegrad.ones(2))
    t = tapegrad.ones(2, requires_grad=True)
    tapegrad.save({"p": p, "again": p, "t": t, "plain": tapegrad.ones(1)}, tmp_path / "p.tg")
    out = tapegrad.load(str(tmp_path / "p.tg"))
    assert isinstance(out["p"], nn.Parameter) and out["p"].requires_grad
    assert out["again"] is out["p"]
    assert out["t"].requires_grad and not isinstance(out["t"], nn.Parameter)
    assert not out["plain"].requires_grad


def test_model_checkpoint_round_trip(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    tapegrad.save(model.state_dict(), tmp_path / "m.tg")
    fresh = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    fresh.load_state_dict(tapegrad.load(tmp_path / "m.tg"))
    x = tapegrad.randn(5, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), fresh(x).detach().numpy())


def test_unsupported_object_fails_before_touching_the_file(tmp_path):
    path = tmp_path / "x.tg"
    tapegrad.save({"v": 1}, path)
    with pytest.raises((pickle.PicklingError, AttributeError), match="local object"):
        tapegrad.save({"v": lambda: 1}, path)          # (a set would be pickled; a lambda cannot be)
    assert tapegrad.load(path) == {"v": 1}
    assert os.listdir(tmp_path) == ["x.tg"]


def test_interrupted_save_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "x.tg"
    tapegrad.save({"v": tapegrad.ones(2)}, path)

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", boom)          # the new file is written, not yet renamed
    with pytest.raises(KeyboardInterrupt):
        tapegrad.save({"v": tapegrad.zeros(2)}, path)
    monkeypatch.undo()
    assert tapegrad.load(path)["v"].tolist() == [1.0, 1.0]
    assert os.listdir(tmp_path) == ["x.tg"]


def _saved_bytes(obj=None):
    buf = io.BytesIO()
    tapegrad.save(obj if obj is not None else {"w": tapegrad.arange(1000.0)}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_truncated_file_raises(tmp_path, cut):
    data = _saved_bytes()
    path = tmp_path / "t.tg"
    path.write_bytes(data[:int(len(data) * cut)])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        tapegrad.load(path)


def test_corrupted_tensor_bytes_raise(tmp_path):
    data = bytearray(_saved_bytes())
    i = data.index(b"\x00\x00\x80?")        # inside the tensor data (1.0 as float32)
    data[i + 3] ^= 0xFF
    path = tmp_path / "c.tg"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted"):
        tapegrad.load(path)


def test_empty_and_foreign_files_raise(tmp_path):
    (tmp_path / "e").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        tapegrad.load(tmp_path / "e")
    (tmp_path / "z").write_bytes(b"hello world, not a zip")
    with pytest.raises(CheckpointError, match="not a valid tapegrad checkpoint"):
        tapegrad.load(tmp_path / "z")


def test_pickle_files_are_refused_without_unpickling(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    (tmp_path / "p.pkl").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(CheckpointError, match="pickle"):
        tapegrad.load(tmp_path / "p.pkl")
    assert not (tmp_path / "pwned").exists()


def test_pickled_array_inside_archive_is_refused(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    manifest = {"format": "tapegrad-checkpoint", "version": 1, "arrays": 1,
                "root": {"tensor": 0, "dtype": "float32", "device": "cpu"}}
    with zipfile.ZipFile(tmp_path / "o.tg", "w") as z:
        z.writestr("tapegrad/manifest.json", json.dumps(manifest))
        z.writestr("tapegrad/tensors/0.npy", buf.getvalue())
    with pytest.raises(CheckpointError, match="pickle"):
        tapegrad.load(tmp_path / "o.tg")


def test_bad_manifests_raise(tmp_path):
    def write(text):
        with zipfile.ZipFile(tmp_path / "m.tg", "w") as z:
            z.writestr("tapegrad/manifest.json", text)
        return tmp_path / "m.tg"

    with pytest.raises(CheckpointError, match="not valid JSON"):
        tapegrad.load(write("{nope"))
    with pytest.raises(CheckpointError, match="does not describe"):
        tapegrad.load(write(json.dumps({"format": "other", "root": 1})))
    with pytest.raises(CheckpointError, match="unsupported checkpoint version"):
        tapegrad.load(write(json.dumps({"format": "tapegrad-checkpoint", "version": 99, "root": 1})))
    with pytest.raises(CheckpointError, match="member 'tapegrad/tensors/0.npy' is missing"):
        tapegrad.load(write(json.dumps({"format": "tapegrad-checkpoint", "version": 1,
                                        "root": {"tensor": 0, "dtype": "float32"}})))


def test_torch_save_files_load_and_their_modules_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
    assert tapegrad.load(tmp_path / "t.pt")["w"].tolist() == [1.0, 1.0]
    torch.save(torch.nn.Linear(1, 1), tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="PyTorch global torch.nn.modules.linear.Linear, which tapegrad does not"):
        tapegrad.load(tmp_path / "m.pt")
