"""``tapegrad.bfloat16`` (ml_dtypes' bfloat16 on the CPU) against PyTorch's: limits, creation and casts,
values of the common ops, gradients, repr, host conversion and files."""
import io

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = (RNG.standard_normal((3, 4)) * 3).astype(np.float32)
Y = RNG.standard_normal((3, 4)).astype(np.float32)
W = RNG.standard_normal((5, 4)).astype(np.float32)


def _pair(v, requires_grad=False):
    return (torch.tensor(v, dtype=torch.bfloat16, requires_grad=requires_grad),
            tapegrad.tensor(v, dtype=tapegrad.bfloat16, requires_grad=requires_grad))


def _values(t):
    """A result's values as float64 NumPy (a bfloat16 tensor has no numpy(), as in torch)."""
    return t.detach().double().numpy()


def _same(r, s, ulps=0):
    assert str(s.dtype).split(".")[-1] == str(r.dtype).split(".")[-1]
    assert tuple(s.shape) == tuple(r.shape)
    a, b = _values(r), _values(s)
    if ulps == 0:
        np.testing.assert_array_equal(b, a)
    else:                           # bfloat16 keeps 8 significant bits: an ulp is 2**-7 relative
        np.testing.assert_allclose(b, a, rtol=ulps * 2.0 ** -7, atol=ulps * 2.0 ** -7 * np.abs(a).max())


def test_finfo_is_torchs():
    f, g = torch.finfo(torch.bfloat16), tapegrad.finfo(tapegrad.bfloat16)
    for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(g, k) == getattr(f, k), k
    assert g.eps == 0.0078125 and g.dtype == "bfloat16"
    assert repr(g) == repr(f)
    assert tapegrad.bfloat16.is_floating_point and tapegrad.bfloat16.is_signed and tapegrad.bfloat16.itemsize == 2


# Single ops: PyTorch's CPU kernels compute bfloat16 in float32 and round once (sums accumulate in
# float32), and so do NumPy's bfloat16 ufuncs and tapegrad's backend, so the values are equal.
EXACT = {
    "add": lambda m, x, y: x + y, "sub": lambda m, x, y: x - y, "mul": lambda m, x, y: x * y,
    "div": lambda m, x, y: x / y, "scalar": lambda m, x, y: x * 2.5 + 1, "int_scalar": lambda m, x, y: x + 3,
    "pow": lambda m, x, y: x ** 2, "neg": lambda m, x, y: -x, "abs": lambda m, x, y: x.abs(),
    "exp": lambda m, x, y: m.exp(x), "log": lambda m, x, y: m.log(x.abs()), "sqrt": lambda m, x, y: x.abs().sqrt(),
    "rsqrt": lambda m, x, y: x.abs().rsqrt(), "tanh": lambda m, x, y: m.tanh(x), "sin": lambda m, x, y: m.sin(x),
    "sigmoid": lambda m, x, y: m.sigmoid(x), "erf": lambda m, x, y: m.erf(x), "relu": lambda m, x, y: m.relu(x),
    "floor": lambda m, x, y: x.floor(), "round": lambda m, x, y: x.round(), "clamp": lambda m, x, y: x.clamp(-1, 1),
    "minimum": lambda m, x, y: m.minimum(x, y), "where": lambda m, x, y: m.where(x > 0, x, y),
    "sum": lambda m, x, y: x.sum(), "sum_dim": lambda m, x, y: x.sum(1), "mean": lambda m, x, y: x.mean(0),
    "prod": lambda m, x, y: x.prod(1), "max": lambda m, x, y: x.max(1)[0], "norm": lambda m, x, y: x.norm(),
    "cumsum": lambda m, x, y: x.cumsum(1), "sort": lambda m, x, y: x.sort(1)[0], "argmax": lambda m, x, y: x.argmax(1),
    "lt": lambda m, x, y: x < y, "cat": lambda m, x, y: m.cat([x, y]),
    "matmul": lambda m, x, y: x @ y.T, "dot": lambda m, x, y: x[0] @ y[0], "linear": lambda m, x, y: m.nn.functional.linear(x, y),
    "einsum": lambda m, x, y: m.einsum("ij,kj->ik", x, y),
    "with_int64": lambda m, x, y: x + m.ones(4, dtype=m.int64), "with_float16": lambda m, x, y: x + m.ones(4, dtype=m.float16),
    "with_float32": lambda m, x, y: x + m.ones(4, dtype=m.float32),
}


@pytest.mark.parametrize("name", list(EXACT))
def test_single_ops_equal_torchs(name):
    (tx, gx), (ty, gy) = _pair(X), _pair(Y)
    _same(EXACT[name](torch, tx, ty), EXACT[name](tapegrad, gx, gy))


def test_long_sums_accumulate_in_float32_as_torch():
    v = np.linspace(0.0, 300.0, 600).astype(np.float32)    # a bfloat16 accumulator would drift by hundreds
    tx, gx = _pair(v)
    for f in (lambda x: x.sum(), lambda x: x.cumsum(0), lambda x: x.mean(), lambda x: x.reshape(20, 30).sum(1)):
        _same(f(tx), f(gx))


# Composed ops round between their steps (torch's fused CPU kernels round once): a couple of ulps apart.
COMPOSED = {
    "softmax": lambda m, x: m.softmax(x, 1), "log_softmax": lambda m, x: m.log_softmax(x, 1),
    "layer_norm": lambda m, x: m.nn.functional.layer_norm(x, (4,)), "gelu": lambda m, x: m.nn.functional.gelu(x),
    "var": lambda m, x: x.var(1), "addmm": lambda m, x: m.addmm(x[:, :3], x, x.T[:, :3]),
}


@pytest.mark.parametrize("name", list(COMPOSED))
def test_composed_ops_are_within_bfloat16_rounding_of_torchs(name):
    tx, gx = _pair(X)
    _same(COMPOSED[name](torch, tx), COMPOSED[name](tapegrad, gx), ulps=4)


def test_creation_and_casts_match_torch():
    for make in (lambda m: m.zeros(2, 3, dtype=m.bfloat16), lambda m: m.ones(2, dtype=m.bfloat16),
                 lambda m: m.full((2,), 3.3, dtype=m.bfloat16), lambda m: m.arange(5, dtype=m.bfloat16),
                 lambda m: m.tensor(X).to(m.bfloat16), lambda m: m.tensor(X).bfloat16(),
                 lambda m: m.tensor(X).type("torch.BFloat16Tensor"), lambda m: m.BFloat16Tensor([1.5, 2.0]),
                 lambda m: m.tensor([m.tensor(1.5, dtype=m.bfloat16), m.tensor(2.0, dtype=m.bfloat16)])):
        r, s = make(torch), make(tapegrad)
        _same(r, s)
        assert repr(s) == repr(r).replace("torch.", "tapegrad.")
    t = tapegrad.ones(2, dtype=tapegrad.bfloat16)
    assert t.type() == "torch.BFloat16Tensor" and isinstance(t, tapegrad.BFloat16Tensor)
    assert t.is_floating_point() and t.element_size() == 2
    assert t.float().dtype is tapegrad.float32 and t.to(tapegrad.int64).dtype is tapegrad.int64
    assert tapegrad.tensor([1.0], dtype="bfloat16").dtype is tapegrad.bfloat16
    assert tapegrad.randn(3, dtype=tapegrad.bfloat16).dtype is tapegrad.bfloat16


def test_repr_and_host_values_match_torch():
    for v in ([1.5, -2.25, 3.3], [1e-3, 7.0, 100.5], [1e20, 1.0], 2.5, [float("inf"), float("nan"), 0.0]):
        r, s = torch.tensor(v, dtype=torch.bfloat16), tapegrad.tensor(v, dtype=tapegrad.bfloat16)
        assert repr(s) == repr(r).replace("torch.", "tapegrad.")
        assert s.tolist() == r.tolist() or np.isnan(r.float().numpy()).any()
    assert tapegrad.tensor(3.3, dtype=tapegrad.bfloat16).item() == torch.tensor(3.3, dtype=torch.bfloat16).item()


def test_numpy_refuses_bfloat16_as_torch():
    with pytest.raises(TypeError, match="BFloat16"):
        torch.ones(2, dtype=torch.bfloat16).numpy()
    t = tapegrad.ones(2, dtype=tapegrad.bfloat16)
    with pytest.raises(TypeError, match="BFloat16"):
        t.numpy()
    with pytest.raises(TypeError, match="BFloat16"):
        np.asarray(t)
    np.testing.assert_array_equal(t.float().numpy(), [1.0, 1.0])


GRADS = {
    "mul_sum": (lambda m, x, w: (x * x).sum(), 0), "exp_mean": (lambda m, x, w: x.exp().mean(), 0),
    "linear": (lambda m, x, w: m.nn.functional.linear(x, w).sum(), 0), "relu": (lambda m, x, w: m.relu(x).sum(), 0),
    "div": (lambda m, x, w: (x / (x.abs() + 1)).sum(), 0),
    "mse": (lambda m, x, w: m.nn.functional.mse_loss(x @ w.T, m.zeros(3, 5, dtype=m.bfloat16)), 0),
    # torch's fused backward kernels round once where tapegrad's composed VJPs round per step
    "tanh": (lambda m, x, w: m.tanh(x).sum(), 2), "sigmoid": (lambda m, x, w: m.sigmoid(x).sum(), 2),
    "cross_entropy": (lambda m, x, w: m.nn.functional.cross_entropy(x @ w.T, m.tensor([0, 1, 2])), 4),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients_are_bfloat16_and_torchs(name):
    f, ulps = GRADS[name]
    (tx, gx), (tw, gw) = _pair(X, True), _pair(W, True)
    f(torch, tx, tw).backward()
    f(tapegrad, gx, gw).backward()
    for r, s in ((tx, gx), (tw, gw)):
        assert (r.grad is None) == (s.grad is None)
        if r.grad is not None:
            assert s.grad.dtype is tapegrad.bfloat16
            _same(r.grad, s.grad, ulps)


def test_a_bfloat16_module_trains_as_torchs():
    tl, gl = torch.nn.Linear(4, 2), tapegrad.nn.Linear(4, 2)
    with tapegrad.no_grad():
        gl.weight.copy_(tapegrad.tensor(tl.weight.detach().numpy()))
        gl.bias.copy_(tapegrad.tensor(tl.bias.detach().numpy()))
    tl.bfloat16()
    assert gl.bfloat16() is gl and gl.weight.dtype is tapegrad.bfloat16
    topt, gopt = torch.optim.SGD(tl.parameters(), lr=0.1), tapegrad.optim.SGD(gl.parameters(), lr=0.1)
    (tx, gx), (ty, gy) = _pair(X), _pair(Y[:, :2])
    for _ in range(3):
        topt.zero_grad()
        gopt.zero_grad()
        ((tl(tx) - ty) ** 2).mean().backward()
        ((gl(gx) - gy) ** 2).mean().backward()
        topt.step()
        gopt.step()
    _same(tl.weight, gl.weight, ulps=2)
    assert gl.float().weight.dtype is tapegrad.float32


def test_tapegrad_files_keep_bfloat16():
    t = tapegrad.tensor(X, dtype=tapegrad.bfloat16)
    buf = io.BytesIO()
    tapegrad.save({"t": t, "0d": t[1, 2]}, buf)
    buf.seek(0)
    out = tapegrad.load(buf)
    assert out["t"].dtype is tapegrad.bfloat16 and bool((out["t"] == t).all()) and out["0d"].shape == ()


def test_torch_files_with_bfloat16_storages_load_both_ways(tmp_path):
    tx, gx = _pair(X)
    torch.save({"w": tx, "view": tx[:, 1]}, tmp_path / "t.pt")
    out = tapegrad.load(tmp_path / "t.pt")              # weights-only: no torch code runs
    _same(tx, out["w"])
    _same(tx[:, 1], out["view"])
    tapegrad.serialization.save_torch_compatible({"w": gx}, tmp_path / "g.pt")
    back = torch.load(tmp_path / "g.pt", weights_only=True)
    assert back["w"].dtype is torch.bfloat16 and torch.equal(back["w"], tx)


def test_safetensors_bf16_goes_both_ways(tmp_path):
    from safetensors.torch import load_file, save_file
    tx, gx = _pair(X)
    save_file({"w": tx}, tmp_path / "t.safetensors")
    _same(tx, tapegrad.load(tmp_path / "t.safetensors")["w"])
    tapegrad.save({"w": gx}, tmp_path / "g.safetensors")
    back = load_file(tmp_path / "g.safetensors")
    assert back["w"].dtype is torch.bfloat16 and torch.equal(back["w"], tx)


def test_modules_made_in_bfloat16_initialise_as_torchs():
    for make in (lambda m: m.nn.Linear(300, 2, dtype=m.bfloat16), lambda m: m.nn.Conv2d(2, 3, 3, dtype=m.bfloat16),
                 lambda m: m.nn.Embedding(5, 3, dtype=m.bfloat16)):
        tm, gm = make(torch), make(tapegrad)
        assert [n for n, _ in gm.named_parameters()] == [n for n, _ in tm.named_parameters()]
        for tp, gp in zip(tm.parameters(), gm.parameters()):
            assert gp.dtype is tapegrad.bfloat16 and tuple(gp.shape) == tuple(tp.shape)
            assert bool(tapegrad.isfinite(gp).all())
        if not isinstance(tm, torch.nn.Embedding):      # weight and bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            bound = 1 / np.prod(tm.weight.shape[1:]) ** 0.5
            for gp in gm.parameters():
                assert float(gp.detach().abs().max()) <= bound * (1 + 2.0 ** -7)


def test_autograd_apis_take_bfloat16_as_torch():
    v = np.array([1.5, 2.0], np.float32)

    def double(m):
        x = m.tensor(v, dtype=m.bfloat16, requires_grad=True)
        (g,) = m.autograd.grad((x ** 3).sum(), x, create_graph=True)
        return m.autograd.grad(g.sum(), x)[0]

    def function(m):
        class Sq(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g
        x = m.tensor(v, dtype=m.bfloat16, requires_grad=True)
        Sq.apply(x).sum().backward()
        return x.grad

    def forward_ad(m):
        fw = m.autograd.forward_ad
        with fw.dual_level():
            x = fw.make_dual(m.tensor(v, dtype=m.bfloat16), m.ones(2, dtype=m.bfloat16))
            return fw.unpack_dual(x.exp()).tangent

    cases = [double, function, forward_ad,
             lambda m: m.func.grad(lambda x: (x * x).sum())(m.tensor(v, dtype=m.bfloat16)),
             lambda m: m.func.jacrev(lambda x: x.sin())(m.tensor(v, dtype=m.bfloat16)),
             lambda m: m.autograd.functional.jacobian(lambda x: x.sin(), m.tensor(v, dtype=m.bfloat16))]
    import torch.autograd.forward_ad  # noqa: F401  (torch.autograd.forward_ad is a lazy submodule)
    import torch.func  # noqa: F401
    for case in cases:
        _same(case(torch), case(tapegrad))
