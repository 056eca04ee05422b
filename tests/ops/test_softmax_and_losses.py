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


_CE_TARGETS = [0, -100, 2, 1, -100, 3]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kind", ["fused", "weight", "smoothing", "weight_smoothing", "3d", "probs", "all_ignored",
                                  "all_ignored_weight"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_matches_torch_with_ignored_targets(kind, reduction, dtype):
    """Values and gradients vs torch: the fused (numba) path (2-D, no weight, no smoothing) and the general one."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)).astype(dtype)
    t = np.array([-100] * 6 if kind.startswith("all_ignored") else _CE_TARGETS, dtype=np.int64)
    kw = {"reduction": reduction}
    if "weight" in kind:
        kw["weight"] = rng.uniform(0.5, 2.0, 4).astype(dtype)
    if "smoothing" in kind:
        kw["label_smoothing"] = 0.2
    if kind == "3d":
        x, t = x.reshape(2, 3, 4).transpose(0, 2, 1).copy(), t.reshape(2, 3)
    if kind == "probs":
        t = rng.dirichlet(np.ones(4), 6).astype(dtype)
    gout = rng.uniform(0.5, 1.5, t.shape[:1] + (t.shape[1:] if kind == "3d" else ())).astype(dtype)

    def run(lib):
        xt = lib.tensor(x, requires_grad=True)
        extra = {k: (lib.tensor(v) if k == "weight" else v) for k, v in kw.items()}
        loss = lib.nn.functional.cross_entropy(xt, lib.tensor(t), **extra)
        loss.backward(lib.tensor(gout) if reduction == "none" else None)
        return loss.detach().numpy(), xt.grad.numpy()

    (lt, gt), (lw, gw) = run(tapegrad), run(torch)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lt, lw, equal_nan=True, err_msg="loss", **tol)
    np.testing.assert_allclose(gt, gw, err_msg="gradient", **tol)
    assert lt.dtype == lw.dtype and gt.dtype == gw.dtype


def _ce_second_derivatives(device):
    """Grad-of-grad of cross_entropy (general path: weights, smoothing, ignored targets) on ``device``."""
    rng = np.random.default_rng(5)
    x0 = rng.standard_normal((4, 3))
    out = []
    for t, kw in (([0, -100, 2, 1], {}), ([-100] * 4, {}), ([0, -100, 2, 1], {"label_smoothing": 0.1}),
                  ([0, -100, 2, 1], {"weight": [0.5, 1.0, 2.0]}), ([-100] * 4, {"weight": [0.5, 1.0, 2.0]})):
        x = tapegrad.tensor(x0, device=device, requires_grad=True)
        kw = {k: tapegrad.tensor(v, dtype=tapegrad.float64, device=device) if k == "weight" else v
              for k, v in kw.items()}
        loss = N.cross_entropy(x, tapegrad.tensor(t, device=device), **kw)
        g, = tapegrad.autograd.grad(loss, [x], create_graph=True)
        h, = tapegrad.autograd.grad((g * g).sum(), [x])
        out.append([loss.item(), g.detach().cpu().numpy().tolist(), h.cpu().numpy().tolist()])
    return out


def test_cross_entropy_grad_of_grad_on_cuda_matches_the_cpu():
    """Under create_graph the mean's divisor stays on the input's device (numba's CUDA simulator here)."""
    from simulated import json_from_simulated_cuda
    got = json_from_simulated_cuda("_ce_second_derivatives('cuda')",
                                   "from test_softmax_and_losses import _ce_second_derivatives")
    for g, w in zip(got, _ce_second_derivatives("cpu")):
        for a, b in zip(g, w):
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12,
                                       atol=1e-14, equal_nan=True)
