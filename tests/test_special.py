"""``tapegrad.special`` (and ``tapegrad.sinc/i0/polygamma/mvlgamma``) against ``torch.special``: values and
first derivatives on grids that cover each function's regimes, second derivatives through ``create_graph``,
keyword names, and the errors."""
import inspect

import numpy as np
import pytest

import tapegrad
from tapegrad import special as S

torch = pytest.importorskip("torch")

_WIDE = np.concatenate([np.linspace(-40, 40, 161), [-1e-3, 1e-3, 29.99, 30.01, -30.01, 9.99, 10.01]])
_POS = np.concatenate([np.linspace(0.05, 20, 80), [1e-3, 0.5, 1.0, 2.0]])
_UNIT = np.linspace(-0.99, 0.99, 67)
_PROB = np.linspace(0.01, 0.99, 50)

# (name, grid, value rtol, gradient rtol): gradients of composed formulas with cancellation get a looser rtol
UNARY = [
    ("expit", _WIDE, 1e-13, 1e-12), ("logit", _PROB, 1e-13, 1e-12), ("erf", _WIDE / 5, 1e-13, 1e-12),
    ("erfc", _WIDE / 5, 1e-13, 1e-12), ("erfcx", _WIDE / 2, 1e-13, 1e-9), ("erfinv", _UNIT, 1e-12, 1e-11),
    ("gammaln", _POS, 1e-12, 1e-11), ("digamma", _POS, 1e-12, 2e-9), ("psi", _POS, 1e-12, 2e-9),
    ("log1p", _POS - 0.04, 1e-13, 1e-12), ("expm1", _WIDE / 4, 1e-13, 1e-12), ("exp2", _WIDE / 4, 1e-13, 1e-12),
    ("sinc", _WIDE[np.abs(_WIDE) > 1e-2] / 4, 1e-12, 1e-9), ("entr", _POS, 1e-13, 1e-12),
    ("i0", _WIDE, 1e-12, 1e-12), ("i0e", _WIDE, 1e-12, 1e-12), ("i1", _WIDE, 1e-12, 1e-12),
    ("i1e", _WIDE, 1e-12, 1e-12), ("ndtr", _WIDE / 4, 1e-13, 1e-12), ("log_ndtr", _WIDE, 1e-12, 1e-9),
]


def _pair(x):
    return tapegrad.tensor(x, dtype=tapegrad.float64, requires_grad=True), torch.tensor(
        x, dtype=torch.float64, requires_grad=True)


def _check(yo, yt, xo, xt, rtol, grtol, atol=0.0):
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol, err_msg="value")
    g = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    yo.backward(tapegrad.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(xo, xt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=grtol, atol=atol, err_msg="gradient")


@pytest.mark.parametrize("name,grid,rtol,grtol", UNARY, ids=[u[0] for u in UNARY])
def test_unary_matches_torch(name, grid, rtol, grtol):
    xo, xt = _pair(grid)
    # torch's ndtr is 0.5 * (1 + erf(x / sqrt 2)) on part of the line: absolute error ~1e-17, ours erfc's relative
    atol = 3e-17 if name == "ndtr" else 1e-300
    _check(getattr(S, name)(xo), getattr(torch.special, name)(xt), [xo], [xt], rtol, grtol, atol=atol)


@pytest.mark.parametrize("name", ["sinc", "i0", "expit", "erfcx", "i1e", "log_ndtr", "xlog1py"])
def test_second_derivatives_match_torch(name):
    x = np.linspace(-3.3, 2.9, 13) if name != "xlog1py" else np.linspace(0.1, 2.9, 13)
    xo, xt = _pair(x)
    fo, ft = getattr(S, name), getattr(torch.special, name)
    if name == "xlog1py":
        fo, ft = (lambda t, f=fo: f(t, t * 0.5)), (lambda t, f=ft: f(t, t * 0.5))
    go, = tapegrad.autograd.grad(fo(xo).sum(), xo, create_graph=True)
    gt, = torch.autograd.grad(ft(xt).sum(), xt, create_graph=True)
    (go * go).sum().backward()
    (gt * gt).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_the_regimes_and_edges_match_torch():
    edges = {"i0": [0.0, 700.0, -700.0], "i0e": [0.0, 1e4, -1e4], "i1": [0.0, -700.0], "i1e": [1e4, -1e4],
             "erfcx": [-26.0, 0.0, 1e3, 1e8], "log_ndtr": [-1e3, -38.0, 0.0, 8.0], "entr": [0.0, -1.0, np.nan],
             "sinc": [0.0, 1.0, -2.0], "expit": [-800.0, 800.0], "ndtr": [-3.0, 0.0, 40.0]}
    for name, vals in edges.items():
        want = getattr(torch.special, name)(torch.tensor(vals, dtype=torch.float64)).numpy()
        got = getattr(S, name)(tapegrad.tensor(vals, dtype=tapegrad.float64)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("x,y", [([0.0, 0.0, 1.5, 2.0, -3.0], [-1.0, 0.3, 1e-12, -0.5, 4.0]),
                                 ([0.0, 0.0, 2.0], [np.nan, -2.0, 7.0])])
def test_xlogy_and_xlog1py_match_torch_with_their_gradients_at_zero(x, y):
    for name in ("xlogy", "xlog1py"):
        (xo, xt), (yo, yt) = _pair(x), _pair(y)
        mask = ~np.isnan(y)
        out_o, out_t = getattr(S, name)(xo, yo), getattr(torch.special, name)(xt, yt)
        np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy(), rtol=1e-14)
        out_o[tapegrad.tensor(mask)].sum().backward()
        out_t[torch.tensor(mask)].sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-14, err_msg=name)
        np.testing.assert_allclose(yo.grad.numpy(), yt.grad.numpy(), rtol=1e-14, err_msg=name)


def test_reductions_and_softmax_match_torch():
    x = np.random.default_rng(3).standard_normal((3, 5)) * 4
    for name, kw in (("logsumexp", {"dim": 1}), ("logsumexp", {"dim": 0, "keepdim": True}),
                     ("softmax", {"dim": 1}), ("log_softmax", {"dim": 0})):
        xo, xt = _pair(x)
        _check(getattr(S, name)(xo, **kw), getattr(torch.special, name)(xt, **kw), [xo], [xt], 1e-13, 1e-12)
    xo = tapegrad.tensor(x, dtype=tapegrad.float32)
    assert S.softmax(xo, 1, dtype=tapegrad.float64).dtype == tapegrad.float64


@pytest.mark.parametrize("n", [0, 1])
def test_polygamma_matches_torch(n):
    xo, xt = _pair(_POS)
    rtol = 1e-12 if n == 0 else 1e-9        # the trigamma kernel (backend/_special.py) is good to ~5e-10
    if n == 0:
        _check(S.polygamma(n, xo), torch.special.polygamma(n, xt), [xo], [xt], rtol, 2e-9)
    else:                                   # polygamma(1)'s derivative is polygamma(2): not in tapegrad
        with pytest.raises(NotImplementedError, match=r"polygamma\(1, x\)"):
            S.polygamma(n, xo).sum().backward()
    np.testing.assert_allclose(tapegrad.polygamma(n, tapegrad.tensor(_POS)).numpy(),
                               torch.polygamma(n, torch.tensor(_POS)).numpy(), rtol=rtol)
    np.testing.assert_allclose(tapegrad.tensor(_POS).polygamma(n).numpy(), torch.tensor(_POS).polygamma(n).numpy(),
                               rtol=rtol)


def test_polygamma_orders_tapegrad_lacks_raise_naming_them():
    with pytest.raises(NotImplementedError, match="polygamma: order n=2"):
        S.polygamma(2, tapegrad.ones(2))
    with pytest.raises(RuntimeError, match="negative n"):
        S.polygamma(-1, tapegrad.ones(2))


@pytest.mark.parametrize("p", [1, 2, 5])
def test_multigammaln_matches_torch(p):
    x = _POS + (p - 1) / 2
    xo, xt = _pair(x)
    _check(S.multigammaln(xo, p), torch.special.multigammaln(xt, p), [xo], [xt], 1e-12, 1e-10)
    np.testing.assert_allclose(tapegrad.tensor(x).mvlgamma(p).numpy(), torch.tensor(x).mvlgamma(p).numpy(),
                               rtol=1e-12)


def test_multigammaln_outside_its_domain_and_bad_p_like_torch():
    # torch 2.13 no longer refuses x <= (p - 1) / 2: it returns the formula's value, as tapegrad does
    np.testing.assert_allclose(S.multigammaln(tapegrad.tensor([0.4, 3.0]), 2).numpy(),
                               torch.special.multigammaln(torch.tensor([0.4, 3.0]), 2).numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        torch.special.multigammaln(torch.tensor([3.0]), 0)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        S.multigammaln(tapegrad.tensor([3.0]), 0)


@pytest.mark.parametrize("decimals", [0, 2, -1])
def test_round_with_decimals_matches_torch(decimals):
    x = np.array([1.2345, -2.5, 0.125, 1234.5678, 15.0, 25.0])
    np.testing.assert_allclose(S.round(tapegrad.tensor(x), decimals=decimals).numpy(),
                               torch.special.round(torch.tensor(x), decimals=decimals).numpy(), rtol=1e-15)


def test_integer_inputs_promote_like_torch():
    x = [0, 1, 2]
    for name in ("expit", "i0", "i1e", "sinc", "entr", "ndtr", "erfcx", "log_ndtr", "gammaln"):
        got = getattr(S, name)(tapegrad.tensor(x))
        want = getattr(torch.special, name)(torch.tensor(x))
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], name
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, err_msg=name)


def test_the_namespace_and_top_level_names():
    assert tapegrad.special is S and set(S.__all__) <= set(dir(torch.special))
    for name in ("sinc", "i0", "polygamma", "mvlgamma"):
        assert callable(getattr(tapegrad, name)) and callable(getattr(tapegrad.Tensor, name))
    for name in S.__all__:
        ours = [p.name for p in inspect.signature(getattr(S, name)).parameters.values()]
        assert ours[0] in ("input", "n"), name
