"""Every distribution's values and log_prob gradients equal PyTorch's on the same float64 parameters."""
import math

import numpy as np
import pytest

import tapegrad
from ._cases import CASES

torch = pytest.importorskip("torch")

IDS = [c.name for c in CASES]


def _build(lib, case, requires_grad=False):
    params = {k: lib.tensor(v, dtype=lib.float64, requires_grad=requires_grad) for k, v in case.params.items()}
    return case.build(lib, params), params


def _value(lib, case):
    dtype = lib.long if case.name.startswith("Categorical") else lib.float64
    return lib.tensor(case.values, dtype=dtype)


def _close(got, want, rtol=1e-9, atol=1e-11):
    want = want.detach().numpy()
    got = got.detach().numpy()
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shapes_and_moments_equal_torch(case):
    d, _ = _build(tapegrad, case)
    t, _ = _build(torch, case)
    assert tuple(d.batch_shape) == tuple(t.batch_shape) and tuple(d.event_shape) == tuple(t.event_shape)
    assert type(d.batch_shape) is tapegrad.Size
    assert d.has_rsample == t.has_rsample and d.has_enumerate_support == t.has_enumerate_support
    for name in ("mean", "variance", "stddev") + (("mode",) if case.mode else ()):
        _close(getattr(d, name), getattr(t, name))
    _close(d.entropy(), t.entropy())


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_log_prob_value_and_parameter_gradients_equal_torch(case):
    d, dp = _build(tapegrad, case, requires_grad=True)
    t, tp = _build(torch, case, requires_grad=True)
    got, want = d.log_prob(_value(tapegrad, case)), t.log_prob(_value(torch, case))
    _close(got, want)
    w = np.random.default_rng(0).normal(size=tuple(want.shape))
    (got * tapegrad.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    for k in case.params:
        _close(dp[k].grad, tp[k].grad, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_entropy_gradients_equal_torch(case):
    d, dp = _build(tapegrad, case, requires_grad=True)
    t, tp = _build(torch, case, requires_grad=True)
    d.entropy().sum().backward()
    t.entropy().sum().backward()
    for k in case.params:
        if tp[k].grad is None:                          # Uniform's entropy ignores nothing; guard anyway
            assert dp[k].grad is None or not dp[k].grad.abs().sum().item()
        else:
            _close(dp[k].grad, tp[k].grad, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sample_shapes_and_expand_equal_torch(case):
    d, _ = _build(tapegrad, case)
    t, _ = _build(torch, case)
    for shape in ((), (5,), (2, 3)):
        s, ts = d.sample(shape), t.sample(shape)
        assert tuple(s.shape) == tuple(ts.shape) and str(s.dtype)[9:] == str(ts.dtype)[6:], (shape, s.dtype)
        assert not s.requires_grad
        if d.has_rsample:
            assert tuple(d.rsample(shape).shape) == tuple(ts.shape)
    big = (4,) + tuple(d.batch_shape)
    e, te = d.expand(big), t.expand(big)
    assert tuple(e.batch_shape) == tuple(te.batch_shape) and type(e) is type(d)
    _close(e.entropy(), te.entropy())
    assert tuple(e.sample().shape) == tuple(te.sample().shape)


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith(("Bernoulli", "Categorical", "OneHot"))],
                         ids=lambda c: c.name)
def test_enumerate_support_equals_torch(case):
    d, _ = _build(tapegrad, case)
    t, _ = _build(torch, case)
    for expand in (True, False):
        got, want = d.enumerate_support(expand), t.enumerate_support(expand)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert str(got.dtype)[9:] == str(want.dtype)[6:]


def test_cdf_and_icdf_equal_torch():
    for name in ("Normal", "Laplace", "Exponential", "Uniform"):
        case = next(c for c in CASES if c.name == name)
        d, _ = _build(tapegrad, case)
        t, _ = _build(torch, case)
        v = _value(tapegrad, case), _value(torch, case)
        _close(d.cdf(v[0]), t.cdf(v[1]))
        q = np.random.default_rng(1).uniform(0.05, 0.95, size=tuple(t.batch_shape))
        _close(d.icdf(tapegrad.tensor(q)), t.icdf(torch.tensor(q)))


def test_mvn_derived_matrices_equal_torch():
    for name in ("MVN_cov", "MVN_scale_tril", "MVN_precision"):
        case = next(c for c in CASES if c.name == name)
        d, _ = _build(tapegrad, case)
        t, _ = _build(torch, case)
        for attr in ("scale_tril", "covariance_matrix", "precision_matrix"):
            _close(getattr(d, attr), getattr(t, attr), rtol=1e-8, atol=1e-10)


def test_log_prob_of_scalar_distributions_equals_torch():
    v = 0.7
    pairs = [(lambda m: m.distributions.Normal(0.5, 2.0)), (lambda m: m.distributions.Gamma(2.0, 3.0)),
             (lambda m: m.distributions.Beta(2.0, 3.0)), (lambda m: m.distributions.Exponential(1.5)),
             (lambda m: m.distributions.Laplace(0.0, 2.0)), (lambda m: m.distributions.Uniform(0.0, 1.0)),
             (lambda m: m.distributions.Bernoulli(0.3))]
    for make in pairs:
        d, t = make(tapegrad), make(torch)
        assert tuple(d.batch_shape) == tuple(t.batch_shape) == ()
        val = 1.0 if isinstance(d, tapegrad.distributions.Bernoulli) else v
        assert math.isclose(d.log_prob(tapegrad.tensor(val)).item(), t.log_prob(torch.tensor(val)).item(),
                            rel_tol=1e-6), type(d)
