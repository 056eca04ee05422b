"""tapegrad.amp: autocast's op lists and casts, and GradScaler's bookkeeping against torch's on the same steps."""
import warnings

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")


def test_autocast_casts_matmul_linear_and_conv_down_and_reductions_up():
    x = tapegrad.randn(4, 3, generator=tapegrad.Generator().manual_seed(0))
    w = tapegrad.randn(5, 3, generator=tapegrad.Generator().manual_seed(1), requires_grad=True)
    img = tapegrad.randn(1, 2, 5, 5)
    k = tapegrad.randn(3, 2, 3, 3)
    with tapegrad.autocast("cpu"):
        assert tapegrad.is_grad_enabled() and tapegrad.amp.is_autocast_enabled("cpu")
        y = F.linear(x, w)
        assert y.dtype is tapegrad.float16
        assert (x @ w.t()).dtype is tapegrad.float16
        assert F.conv2d(img, k).dtype is tapegrad.float16
        assert F.scaled_dot_product_attention(x[None], x[None], x[None]).dtype is tapegrad.float16
        assert y.sum().dtype is tapegrad.float32                           # reductions in float32
        assert F.softmax(y, dim=1).dtype is tapegrad.float32
        assert F.log_softmax(y, dim=1).dtype is tapegrad.float32
        assert F.cross_entropy(y, tapegrad.tensor([0, 1, 2, 3])).dtype is tapegrad.float32
        assert F.mse_loss(y, tapegrad.zeros(4, 5, dtype=tapegrad.float16)).dtype is tapegrad.float32
        assert (y + 1).dtype is tapegrad.float16                           # other ops keep their input type
        d = tapegrad.ones(2, 2, dtype=tapegrad.float64)
        assert (d @ d).dtype is tapegrad.float64                           # float64 is never cast
        with tapegrad.autocast("cpu", enabled=False):
            assert (x @ w.t()).dtype is tapegrad.float32
        assert (x @ w.t()).dtype is tapegrad.float16
        loss = y.float().pow(2).sum()
    assert (x @ w.t()).dtype is tapegrad.float32
    loss.backward()
    assert w.grad.dtype is tapegrad.float32
    want = 2 * (x.numpy().astype(np.float16) @ w.detach().numpy().astype(np.float16).T).astype(np.float32).T \
        @ x.numpy()
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=2e-2, atol=2e-2)


def test_autocast_lower_precision_ops_match_torch_dtypes():
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    k = np.random.default_rng(1).standard_normal((2, 3, 3, 3)).astype(np.float32)
    cases = [lambda m, fn: fn.linear(m.tensor(a[0, 0]), m.tensor(a[0, 1])),
             lambda m, fn: m.tensor(a) @ m.tensor(a),
             lambda m, fn: fn.conv2d(m.tensor(a), m.tensor(k)),
             lambda m, fn: m.tensor(a[0]).bmm(m.tensor(a[1]))]
    import torch.nn.functional as TF
    for case in cases:
        with tapegrad.autocast("cpu", dtype=tapegrad.float16):
            ours = case(tapegrad, F)
        with torch.autocast("cpu", dtype=torch.float16):
            theirs = case(torch, TF)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1] == "float16"
        np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=1e-2, atol=1e-2)


def test_autocast_region_only_touches_its_device_and_works_as_a_decorator():
    x = tapegrad.ones(2, 2)
    with warnings.catch_warnings(record=True) as rec:   # no CUDA float16 here (no GPU, or the backend lacks it)
        warnings.simplefilter("always")
        region = tapegrad.autocast("cuda")
    assert [str(r.message) for r in rec] and not region._enabled
    with region:
        assert (x @ x).dtype is tapegrad.float32                           # CPU tensors: not this region's
        assert not tapegrad.amp.is_autocast_enabled("cpu")

    @tapegrad.autocast("cpu")
    def f(t):
        return t @ t
    assert f(x).dtype is tapegrad.float16 and (x @ x).dtype is tapegrad.float32
    with pytest.raises(RuntimeError, match="bfloat16|float16"):
        tapegrad.autocast("cpu", dtype=tapegrad.float32)
    with pytest.raises(RuntimeError, match="device_type"):
        tapegrad.autocast("mps")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tapegrad.cuda.amp.autocast().device == "cuda"


def _run(mod, scaler, coeffs, lr=0.1):
    w = mod.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = mod.optim.SGD([w], lr=lr)
    trace = []
    for c in coeffs:
        loss = (w * mod.tensor(c)).sum()
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        unscaled = w.grad.detach().numpy().copy()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
        trace.append((scaler.get_scale(), w.detach().numpy().copy(), unscaled, scaler.state_dict()["_growth_tracker"]))
    return trace, scaler.state_dict()


def test_grad_scaler_bookkeeping_matches_torch():
    inf, nan = float("inf"), float("nan")
    coeffs = [[1.0, 2.0, 3.0], [1.0, inf, 0.0], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [nan, 1.0, 1.0],
              [2.0, 0.0, 1.0], [1.0, 1.0, 1.0], [3.0, 3.0, 3.0], [1.0, 1.0, 1.0], [1e30, 1.0, 1.0]]
    kw = dict(init_scale=2.0 ** 10, growth_factor=4.0, backoff_factor=0.25, growth_interval=3)
    ours, ours_sd = _run(tapegrad, tapegrad.amp.GradScaler("cpu", **kw), coeffs)
    theirs, theirs_sd = _run(torch, torch.amp.GradScaler("cpu", **kw), coeffs)
    for (s1, w1, g1, t1), (s2, w2, g2, t2) in zip(ours, theirs):
        assert s1 == s2 and t1 == t2
        np.testing.assert_array_equal(w1, w2)
        np.testing.assert_array_equal(g1, g2)
    assert ours_sd == theirs_sd


def test_grad_scaler_errors_state_dict_and_disabled():
    w = tapegrad.ones(2, requires_grad=True)
    opt = tapegrad.optim.SGD([w], lr=0.1)
    s = tapegrad.amp.GradScaler("cpu")
    s.scale(w.sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    with pytest.raises(RuntimeError, match="Closure"):
        s.step(opt, closure=lambda: None)
    s.update()
    t = tapegrad.amp.GradScaler("cpu")
    t.load_state_dict(s.state_dict())
    assert t.state_dict() == s.state_dict()
    off = tapegrad.amp.GradScaler("cpu", enabled=False)
    assert off.scale(w) is w and off.state_dict() == {} and off.get_scale() == 1.0
    if not tapegrad.cuda.is_available():
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            g = tapegrad.cuda.amp.GradScaler()
        assert not g.is_enabled() and any("CUDA is not available" in str(r.message) for r in rec)
    with pytest.raises(ValueError, match="FP16"):
        h = tapegrad.ones(2, dtype=tapegrad.float16, requires_grad=True)
        h.grad = tapegrad.ones(2, dtype=tapegrad.float16)
        tapegrad.amp.GradScaler("cpu").unscale_(tapegrad.optim.SGD([h], lr=0.1))


def test_cuda_amp_alias_imports():
    from tapegrad.cuda.amp import GradScaler, autocast
    assert issubclass(GradScaler, tapegrad.amp.GradScaler) and issubclass(autocast, tapegrad.amp.autocast)
