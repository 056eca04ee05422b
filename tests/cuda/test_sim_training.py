"""Training on device='cuda' end to end: optimizers, Module.to, state dicts, DataLoader, dropout, the example."""
import importlib.util
import os

import numpy as np
import pytest

import tapegrad
from tapegrad import nn, optim
from tapegrad.utils.data import DataLoader, TensorDataset

OPTIMIZERS = {
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd_nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.01),
    "adam_amsgrad": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, maximize=True),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
}


def _mlp():
    return nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3))


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(7, 5)).astype(np.float32), rng.integers(0, 3, 7)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_match_cpu(name):
    x, y = _data()
    cpu = _mlp()
    gpu = _mlp()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    runs = {}
    for model, dev in ((cpu, "cpu"), (gpu, "cuda")):
        opt = OPTIMIZERS[name](model.parameters())
        xb, yb = tapegrad.tensor(x, device=dev), tapegrad.tensor(y, device=dev)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        runs[dev] = losses, [p.detach().cpu().numpy() for p in model.parameters()], opt
    np.testing.assert_allclose(runs["cuda"][0], runs["cpu"][0], rtol=1e-5, atol=1e-6)
    for g, c in zip(runs["cuda"][1], runs["cpu"][1]):
        np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-6)
    assert all(p.is_cuda for p in gpu.parameters())
    for st in runs["cuda"][2].state.values():
        assert all(v.is_cuda for v in st.values() if isinstance(v, tapegrad.Tensor))


def test_module_to_keeps_parameter_identity_and_grads():
    m = _mlp()
    params = list(m.parameters())
    m(tapegrad.ones(2, 5)).sum().backward()
    assert m.to("cuda") is m
    assert all(a is b for a, b in zip(params, m.parameters()))
    assert all(p.is_cuda and p.grad.is_cuda and isinstance(p, nn.Parameter) for p in m.parameters())
    m.cpu()
    assert all(a is b and not b.is_cuda for a, b in zip(params, m.parameters()))


def test_state_dict_save_load_across_devices(tmp_path):
    x, y = _data()
    m = _mlp().to("cuda")
    opt = optim.Adam(m.parameters(), lr=0.01)
    nn.functional.cross_entropy(m(tapegrad.tensor(x, device="cuda")), tapegrad.tensor(y, device="cuda")).backward()
    opt.step()
    path = tmp_path / "ckpt.tg"
    tapegrad.save({"model": m.state_dict(), "opt": opt.state_dict()}, path)
    want = [p.detach().cpu().numpy() for p in m.parameters()]
    for loc, dev in ((None, "cuda"), ("cpu", "cpu"), ("cuda", "cuda")):
        ck = tapegrad.load(path, map_location=loc)
        assert all(t.device.type == dev for t in ck["model"].values())
        fresh = _mlp().to(dev)
        fresh.load_state_dict(ck["model"])
        for p, w in zip(fresh.parameters(), want):
            assert p.device.type == dev
            np.testing.assert_array_equal(p.detach().cpu().numpy(), w)
        opt2 = optim.Adam(fresh.parameters(), lr=0.01)
        opt2.load_state_dict(ck["opt"])
        assert all(v.device.type == dev for st in opt2.state.values() for v in st.values()
                   if isinstance(v, tapegrad.Tensor))
    cpu_model = _mlp()
    cpu_model.load_state_dict(m.state_dict())          # cuda tensors into a CPU model: copied over
    np.testing.assert_array_equal(cpu_model[0].weight.detach().numpy(), want[0])


def test_dataloader_over_cuda_tensors_matches_cpu():
    x, y = _data()
    batches = {}
    for dev in ("cpu", "cuda"):
        ds = TensorDataset(tapegrad.tensor(x, device=dev), tapegrad.tensor(y, device=dev))
        batches[dev] = list(DataLoader(ds, batch_size=3, shuffle=True, seed=5))
    assert len(batches["cuda"]) == len(batches["cpu"]) == 3
    for (gx, gy), (cx, cy) in zip(batches["cuda"], batches["cpu"]):
        assert gx.is_cuda and gy.is_cuda
        np.testing.assert_array_equal(gx.cpu().numpy(), cx.numpy())
        np.testing.assert_array_equal(gy.cpu().numpy(), cy.numpy())


def test_dropout_on_cuda():
    x = tapegrad.ones(400, device="cuda", requires_grad=True)
    drop = nn.Dropout(0.25)
    y = drop(x)
    assert y.is_cuda
    v = y.detach().cpu().numpy()
    assert set(np.unique(v)) <= {0.0, np.float32(1 / 0.75)} and 0.15 < (v == 0).mean() < 0.35
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), v)     # the gradient reuses the same mask
    drop.eval()
    assert drop(x) is x


def test_randperm_and_random_on_cuda():
    tapegrad.manual_seed(3)
    p = tapegrad.randperm(37, device="cuda")
    assert p.is_cuda and p.dtype == tapegrad.int64 and sorted(p.tolist()) == list(range(37))
    assert tapegrad.randperm(0, device="cuda").shape == (0,)
    assert tapegrad.randperm(1, device="cuda").tolist() == [0]
    assert tapegrad.rand(3, device="cuda").is_cuda and tapegrad.randn(2, 2, device="cuda").is_cuda


def _example(name):
    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"example_{name}_cuda", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_rnn_example_runs_on_cuda(capsys):
    res = _example("rnn_adding").main(["--device", "cuda", "--steps", "2", "--batch-size", "3", "--hidden", "4",
                                       "--min-len", "2", "--max-len", "3", "--eval-size", "3"])
    assert "on cuda" in capsys.readouterr().out and np.isfinite(res["test_mse"])


def test_mlp_example_runs_on_cuda(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    res = _example("mlp").main(["--device", "cuda", "--epochs", "1", "--subset", "48", "--hidden", "8", "--batch-size", "16",
                    "--out", str(tmp_path), "--no-progress"])
    out = capsys.readouterr().out
    assert "on cuda" in out and "reloaded checkpoint" in out
    assert 0.0 <= res["test_acc"] <= 1.0 and res["reloaded_acc"] == res["test_acc"]
