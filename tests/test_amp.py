"""tapegrad.amp: autocast's op lists and casts, and GradScaler's bookkeeping against torch's on the same steps."""
import warnings

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")


_A = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
_B = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
# The op lists of torch's CPU autocast: matmul, linear, conv, attention, einsum, bmm in the lower precision;
# prod, the losses (primitive and composed) and the solvers in float32; everything else in its input's type.
CPU_CASES = {
    "matmul": lambda m, F, x, y: x @ y, "linear": lambda m, F, x, y: F.linear(x, y.T),
    "conv1d": lambda m, F, x, y: F.conv1d(x[None], m.ones(2, 4, 2)), "einsum": lambda m, F, x, y: m.einsum("ij,jk->ik", x, y),
    "bmm": lambda m, F, x, y: m.bmm(x[None], y[None]),
    "sdpa": lambda m, F, x, y: F.scaled_dot_product_attention(x[None], x[None], x[None]),
    "float16_input": lambda m, F, x, y: x.half() @ y, "float64": lambda m, F, x, y: x.double() @ y.double(),
    "sum": lambda m, F, x, y: (x @ y).sum(), "mean": lambda m, F, x, y: (x @ y).mean(),
    "exp": lambda m, F, x, y: (x @ y).exp(), "pow": lambda m, F, x, y: (x @ y) ** 2,
    "softmax": lambda m, F, x, y: F.softmax(x @ y, 1), "log_softmax": lambda m, F, x, y: F.log_softmax(x @ y, 1),
    "logsumexp": lambda m, F, x, y: (x @ y).logsumexp(1), "layer_norm": lambda m, F, x, y: F.layer_norm(x @ y, (4,)),
    "gelu": lambda m, F, x, y: F.gelu(x @ y), "vector_norm": lambda m, F, x, y: m.linalg.vector_norm(x @ y),
    "cumsum": lambda m, F, x, y: (x @ y).cumsum(0), "mixed_add": lambda m, F, x, y: (x @ y) + m.ones(4, 4),
    "prod": lambda m, F, x, y: (x @ y).prod(), "inv": lambda m, F, x, y: m.linalg.inv(x.T @ x + 3 * m.eye(3)),
    "cross_entropy": lambda m, F, x, y: F.cross_entropy(x @ y, m.tensor([0, 1, 2, 3])),
    "nll_loss": lambda m, F, x, y: F.nll_loss(x @ y, m.tensor([0, 1, 2, 3])),
    "mse_loss": lambda m, F, x, y: F.mse_loss(x @ y, m.zeros(4, 4)),
    "l1_loss": lambda m, F, x, y: F.l1_loss(x @ y, m.zeros(4, 4), reduction="none"),
    "smooth_l1_loss": lambda m, F, x, y: F.smooth_l1_loss(x @ y, m.zeros(4, 4)),
    "huber_loss": lambda m, F, x, y: F.huber_loss(x @ y, m.zeros(4, 4)),
    "bce_with_logits": lambda m, F, x, y: F.binary_cross_entropy_with_logits(x @ y, m.ones(4, 4)),
    "kl_div": lambda m, F, x, y: F.kl_div(F.log_softmax(x @ y, 1), m.full((4, 4), 0.25), reduction="batchmean"),
}


@pytest.mark.parametrize("dtype", [None, "bfloat16", "float16"])
def test_cpu_autocast_runs_torchs_cpu_op_lists(dtype):
    import torch.nn.functional as TF
    tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    gkw = {} if dtype is None else {"dtype": getattr(tapegrad, dtype)}
    bad = []
    for name, case in CPU_CASES.items():
        with torch.autocast("cpu", **tkw):
            theirs = case(torch, TF, torch.tensor(_A), torch.tensor(_B))
        with tapegrad.autocast("cpu", **gkw):
            ours = case(tapegrad, F, tapegrad.tensor(_A), tapegrad.tensor(_B))
        if ours.dtype.name != str(theirs.dtype).split(".")[1]:
            bad.append((name, str(theirs.dtype), ours.dtype))
    assert not bad
    assert (tapegrad.tensor(_A) @ tapegrad.tensor(_B)).dtype is tapegrad.float32      # only inside the region


def test_cpu_autocast_defaults_to_bfloat16_and_keeps_float32_gradients():
    assert str(torch.get_autocast_dtype("cpu")) == "torch.bfloat16"
    assert tapegrad.amp.get_autocast_dtype("cpu") is tapegrad.bfloat16
    assert tapegrad.amp.get_autocast_dtype("cuda") is tapegrad.float16
    tw = torch.tensor(_B.T.copy(), requires_grad=True)
    gw = tapegrad.tensor(_B.T.copy(), requires_grad=True)
    with torch.autocast("cpu"):
        tl = torch.nn.functional.mse_loss(torch.nn.functional.linear(torch.tensor(_A), tw), torch.zeros(4, 4))
    with tapegrad.autocast("cpu"):
        assert tapegrad.amp.is_autocast_enabled("cpu") and tapegrad.amp.get_autocast_dtype("cpu") is tapegrad.bfloat16
        gl = F.mse_loss(F.linear(tapegrad.tensor(_A), gw), tapegrad.zeros(4, 4))
        with tapegrad.autocast("cpu", enabled=False):
            assert (tapegrad.tensor(_A) @ gw.T).dtype is tapegrad.float32
    assert gl.dtype is tapegrad.float32 and tl.dtype is torch.float32
    tl.backward()
    gl.backward()
    assert gw.grad.dtype is tapegrad.float32
    # torch squares in float32, tapegrad in bfloat16 (Note [autocast losses]): a bfloat16 rounding apart
    np.testing.assert_allclose(gl.item(), tl.item(), rtol=2e-2)
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=3e-2, atol=3e-2)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_autocast_lower_precision_ops_match_torch_values(dtype):
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    k = np.random.default_rng(1).standard_normal((2, 3, 3, 3)).astype(np.float32)
    cases = [lambda m, fn: fn.linear(m.tensor(a[0, 0]), m.tensor(a[0, 1])),
             lambda m, fn: m.tensor(a) @ m.tensor(a),
             lambda m, fn: fn.conv2d(m.tensor(a), m.tensor(k)),
             lambda m, fn: m.tensor(a[0]).bmm(m.tensor(a[1]))]
    import torch.nn.functional as TF
    for case in cases:
        with tapegrad.autocast("cpu", dtype=getattr(tapegrad, dtype)):
            ours = case(tapegrad, F)
        with torch.autocast("cpu", dtype=getattr(torch, dtype)):
            theirs = case(torch, TF)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1] == dtype
        np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=2e-2, atol=5e-2)


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
    assert f(x).dtype is tapegrad.bfloat16 and (x @ x).dtype is tapegrad.float32
    with pytest.warns(UserWarning, match="CPU Autocast only supports dtypes of .*bfloat16"):
        region = tapegrad.autocast("cpu", dtype=tapegrad.float32)          # torch warns and disables
    with region:
        assert (x @ x).dtype is tapegrad.float32 and not tapegrad.amp.is_autocast_enabled("cpu")
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
