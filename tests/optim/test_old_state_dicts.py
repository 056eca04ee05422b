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
