"""float16 and the narrow integers (uint8, int8, int16) on device='cuda', against PyTorch CPU: storage and
casts, elementwise math (float16 computed in float32 and rounded once), float32 accumulation in float16
reductions and matmuls, wrapping integer arithmetic and bitwise ops, indexing, and gradients."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

SMALL_INTS = [tapegrad.uint8, tapegrad.int8, tapegrad.int16]
NARROW = [tapegrad.float16] + SMALL_INTS


def _t(dt):
    return getattr(torch, dt.name)


def _same(ours, ref):
    got = ours.cpu().numpy()
    want = ref.numpy()
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", NARROW, ids=str)
def test_narrow_dtypes_live_on_cuda_through_creation_and_casts(dtype):
    vals = [0, 1, 7, 100]
    t = tapegrad.tensor(vals, dtype=dtype, device="cuda")
    assert t.device.type == "cuda" and t.dtype is dtype
    _same(t, torch.tensor(vals, dtype=_t(dtype)))
    _same(tapegrad.zeros(2, 3, dtype=dtype, device="cuda"), torch.zeros(2, 3, dtype=_t(dtype)))
    _same(tapegrad.full((2,), 5, dtype=dtype, device="cuda"), torch.full((2,), 5, dtype=_t(dtype)))
    _same(tapegrad.arange(5, dtype=dtype, device="cuda"), torch.arange(5, dtype=_t(dtype)))
    _same(tapegrad.tensor(vals, dtype=dtype).to("cuda"), torch.tensor(vals, dtype=_t(dtype)))
    f = tapegrad.tensor([0.4, -1.7, 300.6], device="cuda")
    _same(f.to(dtype), torch.tensor([0.4, -1.7, 300.6]).to(_t(dtype)))
    _same(t.float(), torch.tensor(vals, dtype=_t(dtype)).float())


def test_half_and_to_float16_round_like_torch():
    vals = [0.1, 1 / 3, 65519.0, 65520.0, -2.0 ** -25, 1e-8, float("nan"), float("inf")]
    for src in (tapegrad.float32, tapegrad.float64):
        x = tapegrad.tensor(vals, dtype=src, device="cuda")
        ref = torch.tensor(vals, dtype=_t(src))
        _same(x.half(), ref.half())
        _same(x.to(tapegrad.float16), ref.to(torch.float16))
    _same(tapegrad.tensor([3, -70000], device="cuda").half(), torch.tensor([3, -70000]).half())


def _halves(seed, n=24, scale=4.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * scale).astype(np.float16)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "atan2", "pow"])
def test_float16_binary_ops_round_once_like_torch(name):
    a, b = _halves(1), _halves(2)
    if name == "pow":
        a, b = np.abs(a), (b / 4).astype(np.float16)
    ours = getattr(tapegrad, name)(tapegrad.tensor(a, device="cuda"), tapegrad.tensor(b, device="cuda"))
    ref = getattr(torch, name)(torch.from_numpy(a), torch.from_numpy(b))
    if name in ("add", "sub", "mul", "div", "maximum"):
        _same(ours, ref)                 # exactly: one rounding of the float32 result
    else:
        np.testing.assert_allclose(ours.cpu().numpy(), ref.numpy(), rtol=1e-3, atol=1e-4)
        assert ours.dtype is tapegrad.float16
    cpu = getattr(tapegrad, name)(tapegrad.tensor(a), tapegrad.tensor(b))
    np.testing.assert_array_equal(ours.cpu().numpy(), cpu.numpy())      # the same values as the CPU backend


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "reciprocal", "neg", "abs",
                                  "floor", "round", "erf"])
def test_float16_unary_ops_match_torch(name):
    a = _halves(3, scale=2.0)
    if name in ("log", "sqrt"):
        a = np.abs(a) + np.float16(0.01)
    ours = getattr(tapegrad, name)(tapegrad.tensor(a, device="cuda"))
    ref = getattr(torch, name)(torch.from_numpy(a))
    assert ours.dtype is tapegrad.float16
    np.testing.assert_allclose(ours.cpu().numpy().astype(np.float32), ref.numpy().astype(np.float32),
                               rtol=1e-3, atol=1e-5)
    # computed in float32: exp(11) = 59874 is finite in float16 while its float16 intermediate steps are not
    assert tapegrad.exp(tapegrad.tensor([11.0], dtype=tapegrad.float16, device="cuda")).item() == \
        torch.exp(torch.tensor([11.0], dtype=torch.float16)).item()


def test_float16_comparisons_and_where():
    a, b = _halves(4), _halves(5)
    ta, tb = tapegrad.tensor(a, device="cuda"), tapegrad.tensor(b, device="cuda")
    ra, rb = torch.from_numpy(a), torch.from_numpy(b)
    _same(ta < tb, ra < rb)
    _same(ta == ta, ra == ra)
    _same(tapegrad.where(ta > 0, ta, tb), torch.where(ra > 0, ra, rb))
    _same(tapegrad.clamp(ta, -1, 1), torch.clamp(ra, -1, 1))


def test_float16_reductions_accumulate_in_float32():
    # 4096 ones: a float16 accumulator sticks at 2048 (2048 + 1 rounds back to 2048)
    ones = tapegrad.ones(4096, dtype=tapegrad.float16, device="cuda")
    assert ones.sum().item() == 4096.0 and ones.sum().dtype is tapegrad.float16
    assert ones.reshape(2, 2048).sum(1).tolist() == [2048.0, 2048.0]
    x = _halves(6, n=300, scale=1.0).reshape(3, 100)
    tx, rx = tapegrad.tensor(x, device="cuda"), torch.from_numpy(x)
    _same(tx.sum(1), rx.sum(1))
    _same(tx.sum(0), rx.sum(0))
    _same(tx.max(1).values, rx.max(1).values)
    _same(tx.argmin(1), rx.argmin(1))
    np.testing.assert_allclose(tx.mean().item(), rx.mean().item(), rtol=1e-3)
    np.testing.assert_allclose(tx.cumsum(1).cpu().numpy().astype(np.float32),
                               rx.cumsum(1).numpy().astype(np.float32), rtol=2e-3, atol=2e-3)


def test_float16_matmul_accumulates_in_float32_and_returns_float16():
    a = tapegrad.ones(1, 3000, dtype=tapegrad.float16, device="cuda")
    b = tapegrad.ones(3000, 2, dtype=tapegrad.float16, device="cuda")
    out = a @ b
    assert out.dtype is tapegrad.float16 and out.tolist() == [[3000.0, 3000.0]]
    x, y = _halves(7, n=5 * 6, scale=1.0).reshape(5, 6), _halves(8, n=6 * 4, scale=1.0).reshape(6, 4)
    ours = tapegrad.tensor(x, device="cuda") @ tapegrad.tensor(y, device="cuda")
    ref = torch.from_numpy(x) @ torch.from_numpy(y)
    np.testing.assert_allclose(ours.cpu().numpy().astype(np.float32), ref.numpy().astype(np.float32),
                               rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("dtype", SMALL_INTS, ids=str)
def test_small_int_arithmetic_wraps_like_torch(dtype):
    info = np.iinfo(dtype.np)
    a = np.array([info.min, info.max, 0, 1, -1 if info.min < 0 else 3, 77], dtype=dtype.np)
    b = np.array([1, 1, 5, info.max, 3, 3], dtype=dtype.np)
    ta, tb = tapegrad.tensor(a, device="cuda"), tapegrad.tensor(b, device="cuda")
    ra, rb = torch.from_numpy(a), torch.from_numpy(b)
    for op in ("add", "sub", "mul", "bitwise_and", "bitwise_or", "bitwise_xor", "maximum", "minimum"):
        _same(getattr(tapegrad, op)(ta, tb), getattr(torch, op)(ra, rb))
    _same(~ta, ~ra)
    _same(ta + 200, ra + 200)
    _same(ta < tb, ra < rb)
    _same(ta // tb, ra // rb)
    _same(ta % tb, ra % rb)
    _same(ta.sum(), ra.sum())            # int64, as torch
    _same(ta.max(), ra.max())
    _same(ta.argmax(), ra.argmax())
    _same(ta / tb, ra / rb)              # true division gives float32
    s = np.array([0, 1, 2, 3, 4, 5], dtype=dtype.np)
    _same(ta << tapegrad.tensor(s, device="cuda"), ra << torch.from_numpy(s))
    _same(ta >> tapegrad.tensor(s, device="cuda"), ra >> torch.from_numpy(s))


@pytest.mark.parametrize("dtype", NARROW, ids=str)
def test_indexing_gather_scatter_on_narrow_dtypes(dtype):
    x = np.arange(12).reshape(3, 4).astype(dtype.np)
    tx, rx = tapegrad.tensor(x, device="cuda"), torch.from_numpy(x)
    idx = [[0, 3], [2, 1], [1, 1]]
    ti, ri = tapegrad.tensor(idx, device="cuda"), torch.tensor(idx)
    _same(tx[1:, ::2], rx[1:, ::2])
    _same(tx[tapegrad.tensor([2, 0], device="cuda")], rx[torch.tensor([2, 0])])
    _same(tx[tx > 5], rx[rx > 5])
    _same(tapegrad.gather(tx, 1, ti), torch.gather(rx, 1, ri))
    src = tapegrad.ones(3, 2, dtype=dtype, device="cuda")
    _same(tx.scatter_add(1, ti, src), rx.scatter_add(1, ri, torch.ones(3, 2, dtype=_t(dtype))))
    _same(tx.index_select(0, tapegrad.tensor([1, 1], device="cuda")), rx.index_select(0, torch.tensor([1, 1])))
    y = tx.clone()
    y[0, 1:3] = 9
    r = rx.clone()
    r[0, 1:3] = 9
    _same(y, r)
    _same(tapegrad.cat([tx, tx], 0), torch.cat([rx, rx], 0))
    _same(tx.t().contiguous(), rx.t().contiguous())


def test_float16_gradients_on_cuda_match_torch():
    a = _halves(9, n=12, scale=1.0).reshape(3, 4)
    w = _halves(10, n=8, scale=1.0).reshape(4, 2)
    ta = tapegrad.tensor(a, device="cuda", requires_grad=True)
    tw = tapegrad.tensor(w, device="cuda", requires_grad=True)
    ra = torch.from_numpy(a).requires_grad_()
    rw = torch.from_numpy(w).requires_grad_()
    for x, m, lib in ((ta, tw, tapegrad), (ra, rw, torch)):
        lib.tanh(x @ m).exp().sum().backward()
    for ours, ref in ((ta, ra), (tw, rw)):
        assert ours.grad.dtype is tapegrad.float16 and ours.grad.device.type == "cuda"
        np.testing.assert_allclose(ours.grad.cpu().numpy().astype(np.float32),
                                   ref.grad.numpy().astype(np.float32), rtol=1e-2, atol=1e-2)


def test_bfloat16_is_still_refused_on_cuda():
    with pytest.raises(NotImplementedError, match="bfloat16"):
        tapegrad.zeros(2, dtype=tapegrad.bfloat16, device="cuda")


@pytest.mark.parametrize("dtype", NARROW, ids=str)
def test_sort_argsort_searchsorted_on_narrow_dtypes(dtype):
    x = np.array([[5, 1, 9, 1, 0, 7], [3, 3, 2, 8, 6, 4]], dtype=dtype.np)
    tx, rx = tapegrad.tensor(x, device="cuda"), torch.from_numpy(x)
    _same(tx.argsort(dim=1, stable=True), rx.argsort(dim=1, stable=True))
    _same(tx.sort(1).values, rx.sort(1).values)
    s = np.array([[0, 2, 4, 6]] * 2, dtype=dtype.np)
    _same(tapegrad.searchsorted(tapegrad.tensor(s, device="cuda"), tx), torch.searchsorted(torch.from_numpy(s), rx))


def test_float16_linalg_solvers_are_refused_by_name():
    a = tapegrad.eye(2, dtype=tapegrad.float16, device="cuda")
    with pytest.raises(RuntimeError, match="Low precision dtypes not supported. Got Half"):     # as torch
        tapegrad.linalg.inv(a)
    from tapegrad import backend
    be = backend.get("cuda")                 # the backend refuses too, whoever calls it
    for fn in (be.inv, be.cholesky):
        with pytest.raises(NotImplementedError, match="float16 matrices are not supported on the CUDA device"):
            fn(be.asarray(np.eye(2, dtype=np.float16)))


@pytest.mark.parametrize("make", [lambda ps: tapegrad.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
                                  lambda ps: tapegrad.optim.Adam(ps, lr=0.01)], ids=["sgd", "adam"])
def test_fused_updates_of_float16_parameters_compute_in_float32(make):
    p0 = (np.random.default_rng(11).standard_normal(16) * 0.1).astype(np.float16)
    rng = np.random.default_rng(12)
    g0 = (rng.uniform(0.2, 1.0, 16) * rng.choice([-1, 1], 16)).astype(np.float16)   # g*g stays a normal float16
    half = tapegrad.tensor(p0, device="cuda", requires_grad=True)
    wide = tapegrad.tensor(p0.astype(np.float32), requires_grad=True)        # the same steps in float32, on the CPU
    opt_h, opt_w = make([half]), make([wide])
    for _ in range(2):
        half.grad = tapegrad.tensor(g0, device="cuda")
        wide.grad = tapegrad.tensor(g0.astype(np.float32))
        opt_h.step()
        opt_w.step()
    # the state (momentum, exp_avg_sq) is rounded to float16 between steps: one float16 ulp of slack
    assert half.dtype is tapegrad.float16 and half.device.type == "cuda"
    np.testing.assert_allclose(half.detach().cpu().numpy().astype(np.float32), wide.detach().numpy(),
                               rtol=2e-3, atol=1e-5)
    assert not np.array_equal(half.detach().cpu().numpy(), p0)


def test_float16_rand_stays_below_one():
    tapegrad.manual_seed(0)
    u = tapegrad.rand(1500, dtype=tapegrad.float16, device="cuda").cpu().numpy()
    # a float32 uniform rounded to float16 gives 1.0 with probability 2**-12 per draw; multiples of 2**-11
    # (torch's float16 uniforms) never do
    assert u.dtype == np.float16 and u.min() >= 0 and u.max() < 1
    assert np.all((u.astype(np.float64) * 2048) % 1 == 0) and len(np.unique(u)) > 500
    n = tapegrad.randn(64, dtype=tapegrad.float16, device="cuda")
    assert n.dtype is tapegrad.float16 and bool(tapegrad.isfinite(n).all())
