"""Loss functions and modules: values against NumPy, gradients in float64, stability and errors."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.nn import functional as F
from tapegrad.testing import check_grad

f64 = tapegrad.float64


def _np(t):
    return t.detach().numpy()


def _reduce(x, reduction):
    return {"mean": x.mean(), "sum": x.sum(), "none": x}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(reduction):
    x, y = tapegrad.randn(4, 3), tapegrad.randn(4, 3)
    d = _np(x) - _np(y)
    np.testing.assert_allclose(_np(F.mse_loss(x, y, reduction=reduction)), _reduce(d * d, reduction), rtol=1e-5)
    np.testing.assert_allclose(_np(nn.L1Loss(reduction=reduction)(x, y)), _reduce(np.abs(d), reduction), rtol=1e-5)
    assert F.mse_loss(x, y).dtype == tapegrad.float32


def _bce_ref(p, t, w=None):
    out = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100))
    return out if w is None else out * w


def _bcel_ref(x, t, w=None, pw=None):
    lw = 1 if pw is None else (pw - 1) * t + 1
    out = (1 - t) * x + lw * (np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0))
    return out if w is None else out * w


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_losses(reduction):
    p = tapegrad.rand(5, 3, dtype=f64) * 0.98 + 0.01
    t = tapegrad.rand(5, 3, dtype=f64)
    w = tapegrad.rand(3, dtype=f64)
    np.testing.assert_allclose(_np(nn.BCELoss(weight=w, reduction=reduction)(p, t)),
                               _reduce(_bce_ref(_np(p), _np(t), _np(w)), reduction), rtol=1e-12)
    x = tapegrad.randn(5, 3, dtype=f64) * 3
    pw = tapegrad.rand(3, dtype=f64) * 3
    np.testing.assert_allclose(_np(nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)(x, t)),
                               _reduce(_bcel_ref(_np(x), _np(t), _np(w), _np(pw)), reduction), rtol=1e-12)
    np.testing.assert_allclose(_np(F.binary_cross_entropy_with_logits(x, t, reduction=reduction)),
                               _reduce(_bcel_ref(_np(x), _np(t)), reduction), rtol=1e-12)


def test_bce_with_logits_is_stable_and_matches_bce():
    x = tapegrad.tensor([-1e4, -50.0, 0.0, 50.0, 1e4], requires_grad=True)
    t = tapegrad.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(_np(loss), [1e4, 0.0, np.log(2), 0.0, 1e4], rtol=1e-6, atol=1e-6)
    loss.sum().backward()
    assert np.all(np.isfinite(_np(x.grad)))
    np.testing.assert_allclose(_np(x.grad), [-1, 0, -0.5, 0, 1], atol=1e-6)
    z = tapegrad.randn(6, dtype=f64)
    tt = tapegrad.rand(6, dtype=f64)
    np.testing.assert_allclose(_np(F.binary_cross_entropy(z.sigmoid(), tt)),
                               _np(F.binary_cross_entropy_with_logits(z, tt)), rtol=1e-10)


def test_bce_clamps_log_at_minus_100():
    p = tapegrad.tensor([0.0, 1.0])
    t = tapegrad.tensor([1.0, 0.0])
    np.testing.assert_allclose(_np(F.binary_cross_entropy(p, t, reduction="none")), [100.0, 100.0], rtol=1e-3)


def test_loss_gradients_float64():
    x = tapegrad.randn(4, 3, dtype=f64)
    y = tapegrad.randn(4, 3, dtype=f64)
    check_grad(lambda a, b: F.mse_loss(a, b), x, y)
    check_grad(lambda a, b: F.l1_loss(a, b, reduction="sum"), x, y + 0.1 * (x - y).sign())
    p = tapegrad.rand(4, 3, dtype=f64) * 0.8 + 0.1
    t = tapegrad.rand(4, 3, dtype=f64)
    check_grad(lambda a, b: F.binary_cross_entropy(a, b), p, t)
    pw = tapegrad.rand(3, dtype=f64) + 0.5
    check_grad(lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw), x, t)
    target = tapegrad.tensor([0, 2, 1, 2])
    w = tapegrad.rand(3, dtype=f64) + 0.5
    check_grad(lambda a: F.cross_entropy(a, target, weight=w, label_smoothing=0.1), x)
    check_grad(lambda a: F.nll_loss(F.log_softmax(a, dim=1), target), x)


def _ce_ref(x, t, w=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    n, c = x.shape
    w = np.ones(c) if w is None else w
    keep = t != ignore_index
    tt = np.where(keep, t, 0)
    nll = -logp[np.arange(n), tt] * w[tt] * keep
    smooth = -(logp * w).sum(1) * keep / c
    loss = (1 - smoothing) * nll + smoothing * smooth
    if reduction == "mean":
        return loss.sum() / (w[tt] * keep).sum()
    return _reduce(loss, reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_reference(reduction, smoothing):
    x = tapegrad.randn(6, 4, dtype=f64)
    t = tapegrad.tensor([0, 3, -100, 1, 2, 3])
    w = tapegrad.rand(4, dtype=f64) + 0.5
    ours = nn.CrossEntropyLoss(weight=w, reduction=reduction, label_smoothing=smoothing)(x, t)
    np.testing.assert_allclose(_np(ours), _ce_ref(_np(x), _np(t), _np(w), -100, reduction, smoothing), rtol=1e-10)


def test_cross_entropy_equals_log_softmax_then_nll_and_ignore_index():
    x = tapegrad.randn(5, 3, requires_grad=True)
    t = tapegrad.tensor([0, 1, 2, 1, 1])
    a = F.cross_entropy(x, t, ignore_index=1)
    b = nn.NLLLoss(ignore_index=1)(F.log_softmax(x, dim=1), t)
    np.testing.assert_allclose(_np(a), _np(b), rtol=1e-6)
    a.backward()
    g = _np(x.grad)
    assert np.all(g[[1, 3, 4]] == 0)                      # ignored rows get no gradient
    np.testing.assert_allclose(g.sum(1), 0, atol=1e-6)
    assert np.isfinite(F.cross_entropy(tapegrad.tensor([[1e4, -1e4]]), tapegrad.tensor([1])).item())


def test_loss_errors():
    x = tapegrad.rand(3)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.L1Loss(reduction="avg")
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(x, tapegrad.rand(2))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(x + 1, x)
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, tapegrad.rand(3, 1))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=2.0)
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(tapegrad.rand(3, 1), tapegrad.rand(3))


def test_loss_module_weights_are_buffers_and_repr():
    loss = nn.CrossEntropyLoss(weight=tapegrad.ones(3), reduction="sum")
    assert [n for n, _ in loss.named_buffers()] == ["weight"]
    assert repr(loss) == "CrossEntropyLoss()"      # PyTorch's loss modules show no arguments
    assert repr(nn.MSELoss()) == "MSELoss()"
    loss.double()
    assert loss.weight.dtype == f64


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.randn(6, 4)
    t = np.array([0, 3, 1, 1, 2, 0])
    p = 1 / (1 + np.exp(-x))
    y = (np.random.rand(6, 4) > 0.5).astype(np.float64)
    T, X = tapegrad.tensor, torch.from_numpy
    pairs = [
        (F.cross_entropy(T(x), T(t), label_smoothing=0.1),
         torch.nn.functional.cross_entropy(X(x), X(t), label_smoothing=0.1)),
        (F.binary_cross_entropy(T(p), T(y)), torch.nn.functional.binary_cross_entropy(X(p), X(y))),
        (F.binary_cross_entropy_with_logits(T(x), T(y), pos_weight=T(np.arange(4.0))),
         torch.nn.functional.binary_cross_entropy_with_logits(X(x), X(y), pos_weight=X(np.arange(4.0)))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_second_derivative_matches_torch(reduction):
    """Inside (0, 1), grad-of-grad of BCE (through our VJP) agrees with PyTorch's hand-written double backward."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x0, t0, w0 = rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3)), rng.uniform(0.5, 2, 3)
    u, v = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))

    def run(lib):
        x = lib.tensor(x0, requires_grad=True)
        t = lib.tensor(t0, requires_grad=True)
        loss = lib.nn.functional.binary_cross_entropy(x, t, weight=lib.tensor(w0), reduction=reduction)
        gx, gt = lib.autograd.grad(loss.sum(), [x, t], create_graph=True)
        h = lib.autograd.grad((gx * lib.tensor(u)).sum() + (gt * lib.tensor(v)).sum(), [x, t])
        return [_np(a.detach()) for a in (loss, gx, gt) + tuple(h)]

    for got, want in zip(run(tapegrad), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
