"""Sparse gradients given to optimizers: PyTorch's error where it has no sparse update, its update where it has."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

REFUSE = ["Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]


def _emb_pair(lib, w):
    emb = lib.nn.Embedding(5, 3, sparse=True)
    with lib.no_grad():
        emb.weight.copy_(lib.tensor(w))
    return emb


def _step(lib, name, w, idx, steps=1, **kw):
    emb = _emb_pair(lib, w)
    opt = getattr(lib.optim, name)(emb.parameters(), lr=0.1, **kw)
    for _ in range(steps):
        opt.zero_grad()
        (emb(lib.tensor(idx)) ** 2).sum().backward()
        if name == "LBFGS":
            opt.step(lambda: (emb(lib.tensor(idx)) ** 2).sum())
        else:
            opt.step()
    return emb, opt


@pytest.mark.parametrize("name", REFUSE)
def test_sparse_grad_error_matches_torch(name):
    w = np.arange(15, dtype=np.float32).reshape(5, 3) / 10
    with pytest.raises(RuntimeError) as want:
        _step(torch, name, w, [1, 3, 1])
    with pytest.raises(RuntimeError) as got:
        _step(tapegrad, name, w, [1, 3, 1])
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("name", REFUSE)
def test_sparse_grad_error_leaves_everything_unchanged(name):
    w = np.arange(15, dtype=np.float32).reshape(5, 3) / 10
    dense = tapegrad.nn.Parameter(tapegrad.ones(2))
    emb = _emb_pair(tapegrad, w)
    opt = getattr(tapegrad.optim, name)([{"params": [dense]}, {"params": emb.parameters()}], lr=0.1)
    dense.grad = tapegrad.ones(2)
    emb(tapegrad.tensor([0, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="does not support sparse gradients"):
        opt.step()
    np.testing.assert_array_equal(dense.detach().numpy(), np.ones(2, np.float32))
    np.testing.assert_array_equal(emb.weight.detach().numpy(), w)
    assert len(opt.state) == 0


@pytest.mark.parametrize("name,kw", [("Adagrad", {}), ("Adagrad", {"lr_decay": 0.5, "eps": 1e-3}),
                                     ("Adagrad", {"maximize": True, "initial_accumulator_value": 0.2}),
                                     ("LBFGS", {"max_iter": 3})])
def test_sparse_grad_updates_match_torch(name, kw):
    w = np.arange(15, dtype=np.float32).reshape(5, 3) / 10 - 0.7
    t_emb, t_opt = _step(torch, name, w, [1, 3, 1, 4], steps=3, **kw)
    g_emb, g_opt = _step(tapegrad, name, w, [1, 3, 1, 4], steps=3, **kw)
    np.testing.assert_allclose(g_emb.weight.detach().numpy(), t_emb.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    if name == "Adagrad":
        st_t, st_g = t_opt.state[t_emb.weight], g_opt.state[g_emb.weight]
        np.testing.assert_allclose(st_g["sum"].numpy(), st_t["sum"].numpy(), rtol=1e-5, atol=1e-6)


def test_sparse_adagrad_weight_decay_error_matches_torch():
    w = np.zeros((5, 3), np.float32)
    with pytest.raises(RuntimeError) as want:
        _step(torch, "Adagrad", w, [1], weight_decay=0.1)
    with pytest.raises(RuntimeError) as got:
        _step(tapegrad, "Adagrad", w, [1], weight_decay=0.1)
    assert str(got.value) == str(want.value)
