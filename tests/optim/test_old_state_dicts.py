"""Loading a state_dict from before ``decoupled_weight_decay`` existed: AdamW keeps decoupling its weight decay
and Adam keeps coupling it, as in PyTorch (the oracle)."""
import importlib

import numpy as np
import pytest


def _lib(name):
    return pytest.importorskip("torch") if name == "torch" else importlib.import_module(name)


def _trajectory(lib, opt_name, drop_key):
    p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64))
    kw = {"lr": 0.1, "weight_decay": 0.5}
    opt = getattr(lib.optim, opt_name)([p], **kw)
    sd = opt.state_dict()
    if drop_key:
        for g in sd["param_groups"]:
            del g["decoupled_weight_decay"]
    opt = getattr(lib.optim, opt_name)([p], **kw)
    opt.load_state_dict(sd)
    out = []
    for k in range(3):
        p.grad = lib.tensor([0.5, 0.25, -1.0], dtype=lib.float64) * (k + 1)
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


@pytest.mark.parametrize("opt_name", ["AdamW", "Adam"])
@pytest.mark.parametrize("drop_key", [True, False])
def test_a_state_dict_without_decoupled_weight_decay_matches_torch(opt_name, drop_key):
    torch = _lib("torch")
    got = _trajectory(_lib("tapegrad"), opt_name, drop_key)
    want = _trajectory(torch, opt_name, drop_key)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # the two rules really differ here: AdamW's trajectory is not Adam's
    other = _trajectory(torch, "Adam" if opt_name == "AdamW" else "AdamW", drop_key)
    assert np.abs(other - want).max() > 1e-3


def _after_loading_strided_state(lib, opt_name, kwargs, keys):
    p = lib.nn.Parameter(lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64))
    opt = getattr(lib.optim, opt_name)([p], lr=0.1, **kwargs)
    p.grad = lib.ones(2, 3, dtype=lib.float64)
    opt.step()
    sd = opt.state_dict()
    for k in keys:                      # the same values in a column-major (non-contiguous) layout
        sd["state"][0][k] = sd["state"][0][k].t().contiguous().t()
    opt = getattr(lib.optim, opt_name)([p], lr=0.1, **kwargs)
    opt.load_state_dict(sd)
    out = []
    for i in range(3):
        p.grad = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=lib.float64) * (i + 1)
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


@pytest.mark.parametrize("opt_name, kwargs, keys", [
    ("SGD", {"momentum": 0.9}, ["momentum_buffer"]),
    ("SGD", {"momentum": 0.9, "nesterov": True}, ["momentum_buffer"]),
    ("Adam", {}, ["exp_avg", "exp_avg_sq"]),
    ("Adam", {}, ["exp_avg"]),
])
def test_loaded_non_contiguous_state_keeps_being_updated_in_place(opt_name, kwargs, keys):
    # a strided state tensor must not go to the fused kernels (which would update a flattened copy)
    torch = _lib("torch")
    got = _after_loading_strided_state(_lib("tapegrad"), opt_name, kwargs, keys)
    want = _after_loading_strided_state(torch, opt_name, kwargs, keys)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
