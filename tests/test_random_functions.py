"""Random sampling: multinomial, bernoulli, normal (4 overloads), poisson, randint_like and the in-place fills.

Statistics use fixed seeds and tolerances of several standard errors (they fail on a wrong distribution);
shapes, dtypes, errors and the in-place rules are compared with torch.
"""
import math

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")


def _gen(seed):
    return tapegrad.Generator().manual_seed(seed)


def _same_error(ours, theirs):
    with pytest.raises(Exception) as te:
        theirs()
    with pytest.raises(type(te.value)) as oe:
        ours()
    want = str(te.value).split("(Could this")[0].split("\n")[0].strip()
    assert want[:40] in str(oe.value), (str(oe.value), want)


# ------------------------------------------------------------------------------------------------ multinomial
def test_multinomial_with_replacement_matches_the_weights():
    w = [1.0, 0.0, 3.0, 6.0]
    x = tapegrad.multinomial(tapegrad.tensor(w), 20000, replacement=True, generator=_gen(0))
    assert x.dtype is tapegrad.int64 and tuple(x.shape) == (20000,)
    freq = np.bincount(x.numpy(), minlength=4) / 20000
    p = np.array(w) / sum(w)
    assert freq[1] == 0
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / 20000) + 1e-12), freq


def test_multinomial_rows_and_without_replacement_first_pick_frequencies():
    w = tapegrad.tensor([[1.0, 3.0, 0.0], [0.0, 0.0, 2.0]])
    firsts = []
    g = _gen(1)
    for _ in range(3000):
        d = tapegrad.multinomial(w, 2, generator=g)
        assert tuple(d.shape) == (2, 2)
        assert sorted(d[1].tolist())[-1] == 2 and d[1, 0].item() == 2     # the only live category comes first
        assert set(d[0].tolist()) == {0, 1}                              # 2 draws from 2 live categories
        firsts.append(d[0, 0].item())
    f = np.mean(np.array(firsts) == 1)
    assert abs(f - 0.75) < 4 * math.sqrt(0.75 * 0.25 / 3000), f


def test_multinomial_repeats_per_seed_and_leaves_the_global_stream_alone():
    w = tapegrad.rand(5) + 0.1
    tapegrad.manual_seed(3)
    a = tapegrad.rand(3).tolist()
    tapegrad.manual_seed(3)
    d1 = tapegrad.multinomial(w, 4, generator=_gen(9)).tolist()
    assert tapegrad.rand(3).tolist() == a
    assert tapegrad.multinomial(w, 4, generator=_gen(9)).tolist() == d1
    assert w.multinomial(4, generator=_gen(9)).tolist() == d1


@pytest.mark.parametrize("args", [
    ([1, 2], 1), ("3d", 1), ([1.0, 1.0, 1.0], 4), ([1.0, 1.0], 0), ([1.0, -1.0], 1), ([0.0, 0.0], 1),
    ([float("nan"), 1.0], 1), ([float("inf"), 1.0], 1), ("empty_cols", 2)])
def test_multinomial_errors_match_torch(args):
    def make(mod):
        data, n = args
        if data == "3d":
            return mod.ones(2, 2, 2), n
        if data == "empty_cols":
            return mod.ones(2, 0), n
        return mod.tensor(data), n
    _same_error(lambda: tapegrad.multinomial(*make(tapegrad)), lambda: torch.multinomial(*make(torch)))


def test_multinomial_shapes_match_torch():
    for shape, n, rep in [((4,), 3, False), ((2, 5), 7, True), ((0, 3), 2, False)]:
        ours = tapegrad.multinomial(tapegrad.ones(*shape), n, rep)
        theirs = torch.multinomial(torch.ones(*shape), n, rep)
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype)[9:] == str(theirs.dtype)[6:]


# ------------------------------------------------------------------------------------------------ bernoulli
def test_bernoulli_frequencies_per_element_and_with_p():
    p = tapegrad.tensor([0.0, 0.2, 0.9, 1.0], dtype=tapegrad.float64).expand(5000, 4)
    x = tapegrad.bernoulli(p, generator=_gen(0))
    assert x.dtype is tapegrad.float64 and tuple(x.shape) == (5000, 4)
    f = x.numpy().mean(axis=0)
    assert f[0] == 0 and f[3] == 1
    assert abs(f[1] - 0.2) < 4 * math.sqrt(0.16 / 5000) and abs(f[2] - 0.9) < 4 * math.sqrt(0.09 / 5000)
    y = tapegrad.bernoulli(tapegrad.zeros(20000), 0.3, generator=_gen(1))
    assert abs(y.mean().item() - 0.3) < 4 * math.sqrt(0.21 / 20000)


def test_bernoulli_errors_and_zero_gradient_match_torch():
    _same_error(lambda: tapegrad.bernoulli(tapegrad.tensor([0.5, 2.0])),
                lambda: torch.bernoulli(torch.tensor([0.5, 2.0])))
    _same_error(lambda: tapegrad.bernoulli(tapegrad.tensor([0, 1])), lambda: torch.bernoulli(torch.tensor([0, 1])))
    x = tapegrad.full((3,), 0.5, requires_grad=True)
    y = tapegrad.bernoulli(x)
    assert y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------------------------------------ normal
def _mean_std_ok(x, mean, std, n):
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    assert abs(x.mean() - mean) < 5 * std / math.sqrt(n), x.mean()
    assert abs(x.std() - std) < 5 * std / math.sqrt(2 * n), x.std()


def test_normal_all_four_overloads_have_the_right_moments_shapes_and_dtypes():
    n = 20000
    a = tapegrad.normal(tapegrad.full((n,), 2.0), tapegrad.full((n,), 3.0), generator=_gen(0))
    _mean_std_ok(a.numpy(), 2.0, 3.0, n)
    b = tapegrad.normal(tapegrad.full((n,), -1.0, dtype=tapegrad.float64), 0.5, generator=_gen(1))
    assert b.dtype is tapegrad.float64
    _mean_std_ok(b.numpy(), -1.0, 0.5, n)
    c = tapegrad.normal(4.0, tapegrad.full((n,), 2.0), generator=_gen(2))
    _mean_std_ok(c.numpy(), 4.0, 2.0, n)
    d = tapegrad.normal(1.0, 2.0, (100, 200), generator=_gen(3), dtype=tapegrad.float64)
    assert tuple(d.shape) == (100, 200) and d.dtype is tapegrad.float64
    _mean_std_ok(d.numpy(), 1.0, 2.0, n)
    assert tuple(tapegrad.normal(tapegrad.zeros(2), tapegrad.ones(3, 1)).shape) == \
        tuple(torch.normal(torch.zeros(2), torch.ones(3, 1)).shape)
    assert tapegrad.normal(tapegrad.zeros(2, dtype=tapegrad.float64), tapegrad.ones(2)).dtype is tapegrad.float64


def test_normal_errors_and_zero_gradients_match_torch():
    _same_error(lambda: tapegrad.normal(tapegrad.zeros(2), -1.0), lambda: torch.normal(torch.zeros(2), -1.0))
    _same_error(lambda: tapegrad.normal(tapegrad.zeros(2), tapegrad.tensor([1.0, -1.0])),
                lambda: torch.normal(torch.zeros(2), torch.tensor([1.0, -1.0])))
    _same_error(lambda: tapegrad.normal(tapegrad.zeros(2, dtype=tapegrad.int64), 1.0),
                lambda: torch.normal(torch.zeros(2, dtype=torch.int64), 1.0))
    _same_error(lambda: tapegrad.normal(2, 3), lambda: torch.normal(2, 3))
    m, s = tapegrad.zeros(2, requires_grad=True), tapegrad.ones(2, requires_grad=True)
    tapegrad.normal(m, s).sum().backward()
    assert m.grad.tolist() == [0.0, 0.0] and s.grad.tolist() == [0.0, 0.0]
    assert tapegrad.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad


# ------------------------------------------------------------------------------------------------ poisson
@pytest.mark.parametrize("lam", [0.3, 4.0, 25.0, 900.0])
def test_poisson_mean_and_variance(lam):
    n = 60000
    x = tapegrad.poisson(tapegrad.full((n,), lam), generator=_gen(int(lam * 10))).numpy().astype(np.float64)
    assert np.all(x == np.floor(x)) and x.min() >= 0
    assert abs(x.mean() - lam) < 4 * math.sqrt(lam / n), x.mean()
    assert abs(x.var() / lam - 1) < 5 * math.sqrt(2 / n) + 5 / math.sqrt(n * lam), x.var()


def test_poisson_dtypes_errors_and_zero_rate_match_torch():
    assert tapegrad.poisson(tapegrad.zeros(3, dtype=tapegrad.float64)).tolist() == [0.0, 0.0, 0.0]
    assert tapegrad.poisson(tapegrad.ones(2, dtype=tapegrad.float64)).dtype is tapegrad.float64
    _same_error(lambda: tapegrad.poisson(tapegrad.tensor([1.0, -1.0])),
                lambda: torch.poisson(torch.tensor([1.0, -1.0])))
    _same_error(lambda: tapegrad.poisson(tapegrad.tensor([1, 2])), lambda: torch.poisson(torch.tensor([1, 2])))


def test_randint_like_range_dtype_and_generator():
    x = tapegrad.randint_like(tapegrad.zeros(1000, dtype=tapegrad.float64), 3, 6, generator=_gen(0))
    assert x.dtype is tapegrad.float64 and set(x.tolist()) == {3.0, 4.0, 5.0}
    assert tapegrad.randint_like(tapegrad.zeros(5, dtype=tapegrad.int32), 2).dtype is tapegrad.int32
    assert x.tolist() == tapegrad.randint_like(tapegrad.zeros(1000, dtype=tapegrad.float64), 3, 6,
                                               generator=_gen(0)).tolist()


# ------------------------------------------------------------------------------------------------ fills
def test_fills_have_their_distributions():
    n = 20000
    _mean_std_ok(tapegrad.empty(n).normal_(1.5, 2.0, generator=_gen(0)).numpy(), 1.5, 2.0, n)
    u = tapegrad.empty(n, dtype=tapegrad.float64).uniform_(-2, 4, generator=_gen(1)).numpy()
    assert u.min() >= -2 and u.max() < 4
    _mean_std_ok(u, 1.0, 6 / math.sqrt(12), n)
    e = tapegrad.empty(n).exponential_(4.0, generator=_gen(2)).numpy()
    assert e.min() >= 0
    _mean_std_ok(e, 0.25, 0.25, n)
    g = tapegrad.empty(n).geometric_(0.25, generator=_gen(3)).numpy()
    assert g.min() >= 1 and np.all(g == np.floor(g))
    _mean_std_ok(g, 4.0, math.sqrt(0.75) / 0.25, n)
    ln = np.log(tapegrad.empty(n, dtype=tapegrad.float64).log_normal_(0.5, 0.3, generator=_gen(4)).numpy())
    _mean_std_ok(ln, 0.5, 0.3, n)
    c = tapegrad.empty(n, dtype=tapegrad.float64).cauchy_(2.0, 0.5, generator=_gen(5)).numpy()
    q1, q2, q3 = np.quantile(c, [0.25, 0.5, 0.75])       # Cauchy(m, s): quartiles m - s, m, m + s
    assert abs(q2 - 2.0) < 0.05 and abs(q1 - 1.5) < 0.05 and abs(q3 - 2.5) < 0.05, (q1, q2, q3)
    b = tapegrad.zeros(n, dtype=tapegrad.int64).bernoulli_(0.1, generator=_gen(6)).numpy()
    assert set(b.tolist()) == {0, 1} and abs(b.mean() - 0.1) < 4 * math.sqrt(0.09 / n)
    bp = tapegrad.zeros(n, 2).bernoulli_(tapegrad.tensor([0.0, 0.7]), generator=_gen(7)).numpy()
    assert bp[:, 0].max() == 0 and abs(bp[:, 1].mean() - 0.7) < 4 * math.sqrt(0.21 / n)


def test_random_fill_ranges_per_dtype():
    r = tapegrad.zeros(3000, dtype=tapegrad.int64).random_(2, 7, generator=_gen(0)).numpy()
    assert set(r.tolist()) == {2, 3, 4, 5, 6}
    assert set(tapegrad.zeros(500, dtype=tapegrad.int64).random_(3, generator=_gen(1)).tolist()) == {0, 1, 2}
    assert set(tapegrad.zeros(500, dtype=tapegrad.bool).random_(generator=_gen(2)).tolist()) == {False, True}
    u8 = tapegrad.zeros(5000, dtype=tapegrad.uint8).random_(generator=_gen(3)).numpy()
    assert u8.max() > 240 and u8.min() < 15
    f = tapegrad.zeros(5000).random_(generator=_gen(4)).numpy()
    assert f.max() <= 2 ** 24 and f.max() > 2 ** 23 and np.all(f == np.floor(f))
    assert tapegrad.zeros(5000, dtype=tapegrad.int64).random_(generator=_gen(5)).max().item() > 2 ** 61


@pytest.mark.parametrize("call", [
    ("int64", "normal_", ()), ("int64", "uniform_", ()), ("int64", "exponential_", ()),
    ("float32", "geometric_", (1.5,)), ("float32", "exponential_", (-1,)), ("float32", "uniform_", (2, 1)),
    ("float32", "normal_", (0, -1)), ("float32", "log_normal_", (1, -2)), ("float32", "bernoulli_", (1.5,)),
    ("float32", "random_", (5, 2))])
def test_fill_errors_match_torch(call):
    dt, name, args = call
    _same_error(lambda: getattr(tapegrad.zeros(3, dtype=getattr(tapegrad, dt)), name)(*args),
                lambda: getattr(torch.zeros(3, dtype=getattr(torch, dt)), name)(*args))


@pytest.mark.parametrize("name,args", [("normal_", ()), ("uniform_", ()), ("bernoulli_", (0.5,)), ("random_", (4,)),
                                       ("exponential_", ()), ("geometric_", (0.5,)), ("log_normal_", ()),
                                       ("cauchy_", ())])
def test_fills_follow_the_in_place_rules(name, args):
    leaf = tapegrad.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(leaf, name)(*args)
    assert leaf._version[0] == 0 and leaf.tolist() == [0.0, 0.0, 0.0]
    base = tapegrad.full((2, 3), -5.0)
    v0 = base._version[0]
    assert getattr(base[1], name)(*args, generator=_gen(0)) is not None
    assert base._version[0] == v0 + 1 and base[0].tolist() == [-5.0] * 3 and base[1].tolist() != [-5.0] * 3
    x = tapegrad.ones(3, requires_grad=True)
    y = x * 2
    out = getattr(y, name)(*args)
    assert out is y and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]            # torch: the fill's backward is zero
    a = getattr(tapegrad.zeros(4), name)(*args, generator=_gen(11)).tolist()
    assert getattr(tapegrad.zeros(4), name)(*args, generator=_gen(11)).tolist() == a


def test_fills_keep_dtype_and_half_precision():
    h = tapegrad.zeros(2000, dtype=tapegrad.float16).normal_(generator=_gen(0))
    assert h.dtype is tapegrad.float16
    _mean_std_ok(h.numpy(), 0.0, 1.0, 2000)
    assert tapegrad.zeros(3, dtype=tapegrad.int32).geometric_(0.5).dtype is tapegrad.int32
