"""softmax / log_softmax / cross_entropy / nll_loss beyond the harness: stability, errors, torch parity."""
import itertools

import numpy as np
import pytest

import tapegrad
from tapegrad.ops import nn as N


def test_softmax_is_stable_for_huge_logits():
    x = tapegrad.tensor([[1e4, 0.0, -1e4], [-1e30, 0.0, 1e30]], requires_grad=True)
    y = tapegrad.log_softmax(x, dim=1)
    assert np.isfinite(y.detach().numpy()).all()
    assert tapegrad.softmax(x, 1).detach().numpy().sum(1).tolist() == [1.0, 1.0]
    loss = N.cross_entropy(x, tapegrad.tensor([0, 2]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()


def test_float32_stays_float32():
    x = tapegrad.randn(3, 4, requires_grad=True)
    loss = N.cross_entropy(x, tapegrad.tensor([0, 1, 3]), label_smoothing=0.1)
    assert loss.dtype is tapegrad.float32 and x.softmax(1).dtype is tapegrad.float32
    loss.backward()
    assert x.grad.dtype is tapegrad.float32


@pytest.mark.parametrize("kwargs,target,match,err", [
    ({}, [0, 3], "Target 3 is out of bounds", IndexError),
    ({}, [0.5, 1.0], "probability", RuntimeError),
    ({}, [[0, 1]], "expected target of shape", RuntimeError),
    ({"reduction": "avg"}, [0, 1], "not a valid value for reduction", ValueError),
    ({"label_smoothing": 1.5}, [0, 1], "label_smoothing", ValueError),
    ({"weight": tapegrad.ones(2)}, [0, 1], "weight must be a 1-D tensor of size 3", RuntimeError),
])
def test_cross_entropy_errors(kwargs, target, match, err):
    with pytest.raises(err, match=match):
        N.cross_entropy(tapegrad.zeros(2, 3), tapegrad.tensor(target), **kwargs)


def test_other_errors():
    with pytest.raises(RuntimeError, match="floating point"):
        tapegrad.softmax(tapegrad.tensor([1, 2]), 0)
    assert tapegrad.softmax(tapegrad.tensor([1, 2]), 0, dtype=tapegrad.float64).dtype is tapegrad.float64
    with pytest.raises(IndexError, match="nll_loss: Target -2"):
        N.nll_loss(tapegrad.zeros(2, 3), tapegrad.tensor([0, -2]))
    with pytest.raises(RuntimeError, match="int64"):
        N.nll_loss(tapegrad.zeros(2, 3), tapegrad.tensor([True, False]))


def test_weight_is_not_differentiated():
    w = tapegrad.ones(3, requires_grad=True)
    loss = N.cross_entropy(tapegrad.zeros(2, 3), tapegrad.tensor([0, 1]), weight=w)
    with pytest.raises(NotImplementedError, match="weight"):
        loss.backward()


GRID = list(itertools.product([(5, 4), (4,), (3, 4, 2, 2)], ["none", "mean", "sum"], [0.0, 0.3], [False, True],
                              [-100, 1]))


@pytest.mark.parametrize("shape,reduction,smoothing,weighted,ignore", GRID)
def test_cross_entropy_and_nll_match_torch(shape, reduction, smoothing, weighted, ignore):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape)
    c = shape[0] if len(shape) == 1 else shape[1]
    t = rng.integers(0, c, () if len(shape) == 1 else (shape[0],) + shape[2:])
    w = rng.uniform(0.5, 2.0, c) if weighted else None
    kw = dict(ignore_index=ignore, reduction=reduction)
    xt, xr = tapegrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = N.cross_entropy(xt, tapegrad.tensor(t), weight=None if w is None else tapegrad.tensor(w),
                          label_smoothing=smoothing, **kw)
    ref = TF.cross_entropy(xr, torch.tensor(t), weight=None if w is None else torch.tensor(w),
                           label_smoothing=smoothing, **kw)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = rng.standard_normal(tuple(ref.shape))
    g, = tapegrad.autograd.grad((out * tapegrad.tensor(v)).sum(), [xt], create_graph=True)
    gr, = torch.autograd.grad((ref * torch.tensor(v)).sum(), [xr], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), gr.detach().numpy(), rtol=1e-10, atol=1e-12)
    h, = tapegrad.autograd.grad((g * g).sum(), [xt])
    hr, = torch.autograd.grad((gr * gr).sum(), [xr])
    np.testing.assert_allclose(h.numpy(), hr.numpy(), rtol=1e-9, atol=1e-12)
    lp = torch.log_softmax(torch.tensor(x), dim=0 if len(shape) == 1 else 1)
    nll = N.nll_loss(tapegrad.tensor(lp.numpy()), tapegrad.tensor(t),
                     weight=None if w is None else tapegrad.tensor(w), **kw)
    nref = TF.nll_loss(lp, torch.tensor(t), weight=None if w is None else torch.tensor(w), **kw)
    np.testing.assert_allclose(nll.numpy(), nref.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_probability_targets_match_torch(reduction):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, p = rng.standard_normal((4, 3)), rng.dirichlet(np.ones(3), 4)
    out = N.cross_entropy(tapegrad.tensor(x), tapegrad.tensor(p), weight=tapegrad.tensor([1.0, 2.0, 3.0]),
                          reduction=reduction, label_smoothing=0.1)
    ref = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(p), weight=torch.tensor([1.0, 2.0, 3.0]),
                                            reduction=reduction, label_smoothing=0.1)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
