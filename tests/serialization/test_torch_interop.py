"""PyTorch files both ways: ``torch.save`` to ``tapegrad.load``, ``tapegrad.save(_use_torch_format=True)`` to torch.

A small model trains a few steps in one framework, is saved, loads in the
other, and keeps training: the numbers equal those of continuing in the first
(float64). tapegrad never imports torch; the tests do.
"""
import collections
import io
import struct
import zipfile

import numpy as np
import pytest

import tapegrad
from tapegrad.utils.serialization import CheckpointError, save_torch_compatible

torch = pytest.importorskip("torch")


def _nets():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)).double()
    g = tapegrad.nn.Sequential(tapegrad.nn.Linear(3, 5), tapegrad.nn.Tanh(), tapegrad.nn.Linear(5, 2)).double()
    return t, g


def _data(lib, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    return lib.tensor(x, dtype=lib.float64), lib.tensor(y, dtype=lib.float64)


def _train(lib, model, opt, steps, seed):
    x, y = _data(lib, seed)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _numpy(sd):
    return {k: v.detach().numpy() for k, v in sd.items()}


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_train_in_torch_continue_in_tapegrad(opt):
    tnet, gnet = _nets()
    make = {"sgd": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9),
            "adam": lambda lib, p: lib.optim.Adam(p, lr=0.01)}[opt]
    topt = make(torch, tnet.parameters())
    _train(torch, tnet, topt, 3, seed=1)
    buf = io.BytesIO()
    torch.save({"model": tnet.state_dict(), "optim": topt.state_dict(), "epoch": 3}, buf)
    buf.seek(0)
    ck = tapegrad.load(buf)
    assert ck["epoch"] == 3 and isinstance(ck["model"], collections.OrderedDict)
    gnet.load_state_dict(ck["model"])
    gopt = make(tapegrad, gnet.parameters())
    gopt.load_state_dict(ck["optim"])
    want = _train(torch, tnet, topt, 4, seed=2)
    got = _train(tapegrad, gnet, gopt, 4, seed=2)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    for k, v in _numpy(tnet.state_dict()).items():
        np.testing.assert_allclose(_numpy(gnet.state_dict())[k], v, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("writer", ["flag", "function"])
def test_train_in_tapegrad_continue_in_torch(writer):
    tnet, gnet = _nets()
    gopt = tapegrad.optim.SGD(gnet.parameters(), lr=0.1, momentum=0.9)
    _train(tapegrad, gnet, gopt, 3, seed=1)
    buf = io.BytesIO()
    ck = {"model": gnet.state_dict(), "optim": gopt.state_dict(), "epoch": 3}
    if writer == "flag":
        tapegrad.save(ck, buf, _use_torch_format=True)
    else:
        save_torch_compatible(ck, buf)
    buf.seek(0)
    back = torch.load(buf, weights_only=True)
    assert back["epoch"] == 3
    tnet.load_state_dict(back["model"])
    topt = torch.optim.SGD(tnet.parameters(), lr=0.1, momentum=0.9)
    topt.load_state_dict(back["optim"])
    want = _train(tapegrad, gnet, gopt, 4, seed=2)
    got = _train(torch, tnet, topt, 4, seed=2)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_torch_loads_tapegrad_tensors_parameters_and_shared_tensors(tmp_path):
    p = tapegrad.nn.Parameter(tapegrad.arange(4.0))
    frozen = tapegrad.nn.Parameter(tapegrad.ones(2), requires_grad=False)
    t = tapegrad.arange(6, dtype=tapegrad.int16).reshape(2, 3)
    obj = {"p": p, "frozen": frozen, "t": t, "t2": t, "b": tapegrad.tensor([True, False]),
           "h": tapegrad.ones(3, dtype=tapegrad.float16), "s": tapegrad.tensor(2.5), "e": tapegrad.zeros(0, 3),
           "l": [1, "a", None, (2.0,)]}
    tapegrad.save(obj, tmp_path / "x.pt", _use_torch_format=True)
    raw = (tmp_path / "x.pt").read_bytes()
    with zipfile.ZipFile(tmp_path / "x.pt") as z:           # torch's layout, storages 64-byte aligned
        for i in z.infolist():
            if "/data/" in i.filename:
                name_len, extra_len = struct.unpack("<HH", raw[i.header_offset + 26:i.header_offset + 30])
                assert (i.header_offset + 30 + name_len + extra_len) % 64 == 0, i.filename
        assert {"archive/data.pkl", "archive/byteorder", "archive/version"} <= set(z.namelist())
    got = torch.load(tmp_path / "x.pt", weights_only=True)
    assert isinstance(got["p"], torch.nn.Parameter) and got["p"].requires_grad
    assert isinstance(got["frozen"], torch.nn.Parameter) and not got["frozen"].requires_grad
    assert got["t"].dtype == torch.int16 and got["t"].untyped_storage().data_ptr() == \
        got["t2"].untyped_storage().data_ptr()
    assert got["h"].dtype == torch.float16 and got["s"].shape == () and got["e"].shape == (0, 3)
    assert got["l"] == [1, "a", None, (2.0,)]
    for k in ("p", "frozen", "t", "b", "h", "s"):
        np.testing.assert_array_equal(got[k].detach().numpy(), obj[k].detach().numpy())
    again = tapegrad.load(tmp_path / "x.pt")
    assert again["t"] is again["t2"] and isinstance(again["p"], tapegrad.nn.Parameter)


def test_tapegrad_loads_torch_views_dtypes_and_parameters():
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    obj = {"base": base, "t": base.t(), "row": base[1], "col": base[:, 2], "exp": torch.ones(3).expand(4, 3),
           "p": torch.nn.Parameter(torch.ones(2, dtype=torch.float64)), "i8": torch.tensor([-1, 2], dtype=torch.int8),
           "u8": torch.tensor([255], dtype=torch.uint8), "b": torch.tensor([True, False]), "h": torch.ones(2).half(),
           "l64": torch.tensor([2 ** 40]), "s": torch.tensor(3), "size": torch.Size([2, 3]),
           "dtype": torch.float32, "dev": torch.device("cpu")}
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    got = tapegrad.load(buf)
    for k, v in obj.items():
        if isinstance(v, torch.Tensor):
            assert got[k].dtype.name == str(v.dtype).split(".")[1], k
            np.testing.assert_array_equal(got[k].detach().numpy(), v.detach().numpy(), err_msg=k)
    assert isinstance(got["p"], tapegrad.nn.Parameter) and got["p"].requires_grad
    assert got["size"] == (2, 3) and got["dtype"] is tapegrad.float32 and got["dev"] == tapegrad.device("cpu")
    with tapegrad.no_grad():                  # views of one storage share memory, as in torch
        got["base"][1, 2] = -7.0
    assert got["row"][2].item() == -7.0 and got["t"][2, 1].item() == -7.0 and got["col"][1].item() == -7.0


def test_torch_files_saved_to_a_path_and_map_location(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pth")          # the archive's folder is "model"
    got = tapegrad.load(tmp_path / "model.pth", map_location={"cpu": "cpu"})
    np.testing.assert_array_equal(got["w"].numpy(), np.ones(2, np.float32))


def test_torch_types_tapegrad_lacks_are_named():
    buf = io.BytesIO()
    torch.save({"w": torch.ones(2, dtype=torch.complex64)}, buf)      # (bfloat16 storages load: tests/test_bfloat16.py)
    buf.seek(0)
    with pytest.raises(CheckpointError, match="names the PyTorch global torch.ComplexFloatStorage"):
        tapegrad.load(buf)
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buf)
    buf.seek(0)
    with pytest.raises(CheckpointError, match="PyTorch global torch.nn.modules.linear.Linear, which tapegrad does not"):
        tapegrad.load(buf)


def test_safetensors_files_go_both_ways(tmp_path):
    from safetensors.torch import load_file, save_file
    tnet, gnet = _nets()
    save_file(tnet.state_dict(), tmp_path / "t.safetensors")
    gnet.load_state_dict(tapegrad.load(tmp_path / "t.safetensors"))
    tapegrad.save(gnet.state_dict(), tmp_path / "g.safetensors")
    back = load_file(tmp_path / "g.safetensors")
    for k, v in tnet.state_dict().items():
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())
