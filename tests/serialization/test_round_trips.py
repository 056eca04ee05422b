"""Version 2 (safetensors) checkpoints: every dtype and layout round trips, storage is shared, other readers agree."""
import io

import numpy as np
import pytest

import tapegrad
from tapegrad import _dtype as D
from tapegrad import nn
from tapegrad.utils.serialization import CheckpointError

from test_serialization import _check_equal, _obj

TAPEGRAD_DTYPES = sorted({d.name: d for d in vars(D).values() if type(d) is D.dtype}.values(), key=lambda d: d.name)
NUMPY_DTYPES = ["float64", "float32", "float16", "int64", "int32", "int16", "int8",
                "uint64", "uint32", "uint16", "uint8", "bool"]


def _round_trip(obj, tmp_path, **load_kw):
    path = tmp_path / "rt.tg"
    tapegrad.save(obj, path)
    return tapegrad.load(path, **load_kw)


@pytest.mark.parametrize("dt", TAPEGRAD_DTYPES, ids=lambda d: d.name)
def test_every_tapegrad_dtype_round_trips(tmp_path, dt):
    values = np.array([[0, 1, 5], [2, 3, 7]]).astype(dt.np)
    t = tapegrad.tensor(values, dtype=dt)
    out = _round_trip({"t": t, "0d": t[1, 2], "empty": t[:0]}, tmp_path)
    for k in out:
        assert out[k].dtype is dt
    np.testing.assert_array_equal(out["t"].double().numpy(), values.astype(np.float64))   # no bfloat16 numpy()
    assert out["0d"].shape == () and out["0d"].item() == values[1, 2]
    assert out["empty"].shape == (0, 3)


@pytest.mark.parametrize("name", NUMPY_DTYPES)
def test_every_storable_numpy_dtype_round_trips(tmp_path, name):
    a = (np.arange(6) % 2 if name == "bool" else np.arange(6)).astype(name).reshape(2, 3)
    out = _round_trip({"a": a, "be": a.astype(a.dtype.newbyteorder(">")), "0d": a[1, 1]}, tmp_path)
    assert out["a"].dtype == a.dtype and out["be"].dtype == a.dtype and out["be"].dtype.isnative
    np.testing.assert_array_equal(out["a"], a)
    np.testing.assert_array_equal(out["be"], a)
    assert out["0d"] == a[1, 1].item() and type(out["0d"]) is type(a[1, 1].item())


def test_non_contiguous_zero_d_and_size_zero_tensors(tmp_path):
    w = tapegrad.randn(4, 6)
    views = {"T": w.T, "step": w[:, ::2], "flip": tapegrad.flip(w, [0]), "row": w[2],
             "broadcast": tapegrad.ones(3, 1).expand(3, 4), "0d": tapegrad.tensor(2.5),
             "empty": tapegrad.zeros(0, 3), "empty0": tapegrad.zeros(2, 0, 5, dtype=tapegrad.int64)}
    out = _round_trip(views, tmp_path)
    for k, v in views.items():
        assert out[k].shape == v.shape and out[k].dtype == v.dtype
        np.testing.assert_array_equal(out[k].numpy(), v.numpy())
        out[k].numpy()[...] = 0                  # loaded arrays are writable
    assert out["0d"].dim() == 0


def test_all_object_kinds_round_trip_through_paths_and_file_objects(tmp_path):
    obj = _obj()
    obj["deep"] = [[[[{"k": (1, [2.5, None])}]]]]
    _check_equal(obj, _round_trip(obj, tmp_path))
    buf = io.BytesIO(b"junk")
    buf.seek(4)                                          # a checkpoint may start mid-stream
    tapegrad.save(obj, buf)
    buf.seek(4)
    _check_equal(obj, tapegrad.load(buf))


def test_references_to_one_tensor_load_as_one_tensor_sharing_storage(tmp_path):
    p = nn.Parameter(tapegrad.randn(3))
    a = np.arange(4.0)
    out = _round_trip({"p": p, "again": [p, {"p": p}], "a": a, "a2": a}, tmp_path)
    assert out["again"][0] is out["p"] and out["again"][1]["p"] is out["p"]
    assert out["a2"] is out["a"]
    out["p"].data.mul_(0)
    assert out["again"][0].detach().numpy().tolist() == [0.0, 0.0, 0.0]


def test_state_dict_reads_as_itself_with_safetensors_numpy(tmp_path):
    from safetensors.numpy import load_file
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    sd = model.state_dict()
    tapegrad.save(sd, tmp_path / "m.tg")
    plain = load_file(tmp_path / "m.tg")
    assert sorted(plain) == sorted(sd)
    for k, v in sd.items():
        np.testing.assert_array_equal(plain[k], v.numpy())
    nested = {"model": sd, "epoch": 3}
    tapegrad.save(nested, tmp_path / "n.tg")
    assert sorted(load_file(tmp_path / "n.tg")) == [str(i) for i in range(len(sd))]


def test_state_dict_reads_with_safetensors_torch(tmp_path):
    pytest.importorskip("torch")
    from safetensors.torch import load_file
    sd = nn.Linear(3, 2).state_dict()
    tapegrad.save(sd, tmp_path / "m.tg")
    loaded = load_file(tmp_path / "m.tg")
    for k, v in sd.items():
        np.testing.assert_array_equal(loaded[k].numpy(), v.numpy())


def test_plain_safetensors_files_load_as_a_dict_of_tensors(tmp_path):
    from safetensors.numpy import save_file
    save_file({"w": np.ones((2, 3), np.float32), "i": np.arange(3)}, tmp_path / "p.safetensors")
    out = tapegrad.load(tmp_path / "p.safetensors")
    assert set(out) == {"w", "i"} and out["w"].dtype is tapegrad.float32 and out["i"].dtype is tapegrad.int64
    np.testing.assert_array_equal(out["w"].numpy(), np.ones((2, 3)))
    save_file({"u": np.arange(3, dtype=np.uint16)}, tmp_path / "u.safetensors")
    if getattr(D, "uint16", None) is None:          # (until tapegrad has uint16)
        with pytest.raises(CheckpointError, match="tensor 'u' has dtype uint16, which tapegrad tensors do not"):
            tapegrad.load(tmp_path / "u.safetensors")
    else:
        assert tapegrad.load(tmp_path / "u.safetensors")["u"].dtype is D.uint16


def test_corrupted_tensor_bytes_are_caught_by_crc(tmp_path):
    tapegrad.save({"w": tapegrad.arange(100.0)}, tmp_path / "c.tg")
    data = bytearray((tmp_path / "c.tg").read_bytes())
    data[-10] ^= 0xFF
    (tmp_path / "c.tg").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="tensor 'w' is corrupted"):
        tapegrad.load(tmp_path / "c.tg")


def test_structure_over_the_load_limit_is_refused_at_save(tmp_path):
    with pytest.raises(ValueError, match="structure is too large for a checkpoint: the structure takes"):
        tapegrad.save({"log": "x" * (17 << 20)}, tmp_path / "x.tg")
    assert list(tmp_path.iterdir()) == []
