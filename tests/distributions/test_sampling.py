"""Samples have the right moments (fixed seeds, tolerances of a few standard errors) and rsample gradients
follow each reparameterisation."""
import numpy as np
import pytest

import tapegrad
from tapegrad import distributions as D

N = 20000


def t64(x, grad=False):
    return tapegrad.tensor(np.asarray(x, dtype=np.float64), dtype=tapegrad.float64, requires_grad=grad)


MOMENT_CASES = {
    "Normal": lambda: D.Normal(t64([0.5, -2.0]), t64([1.0, 3.0])),
    "Uniform": lambda: D.Uniform(t64([0.0, -1.0]), t64([1.0, 3.0])),
    "Exponential": lambda: D.Exponential(t64([0.5, 4.0])),
    "Laplace": lambda: D.Laplace(t64([1.0, -1.0]), t64([0.5, 2.0])),
    "Gamma": lambda: D.Gamma(t64([0.3, 1.0, 2.5, 40.0]), t64([1.0, 2.0, 0.5, 4.0])),
    "Beta": lambda: D.Beta(t64([0.5, 2.0, 5.0]), t64([0.5, 3.0, 1.0])),
    "Dirichlet": lambda: D.Dirichlet(t64([[0.4, 1.0, 3.0], [2.0, 2.0, 2.0]])),
    "Bernoulli": lambda: D.Bernoulli(t64([0.1, 0.5, 0.9])),
    "OneHotCategorical": lambda: D.OneHotCategorical(t64([0.2, 0.3, 0.5])),
    "MVN": lambda: D.MultivariateNormal(t64([1.0, -1.0]), t64([[2.0, 0.6], [0.6, 1.0]])),
}


@pytest.mark.parametrize("name", sorted(MOMENT_CASES))
def test_sample_mean_and_variance_match_the_distribution(name):
    tapegrad.manual_seed(7)
    d = MOMENT_CASES[name]()
    x = d.sample((N,)).double().numpy()
    mean, var = d.mean.detach().numpy(), d.variance.detach().numpy()
    assert x.shape == (N,) + tuple(d.batch_shape) + tuple(d.event_shape)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * np.sqrt(var / N) + 1e-12)
    np.testing.assert_allclose(x.var(0), var, rtol=0.06)
    assert np.all(np.asarray(d.support.check(tapegrad.tensor(x)).numpy()))


def test_mvn_sample_covariance_matches():
    tapegrad.manual_seed(3)
    cov = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])
    x = D.MultivariateNormal(t64([0.0, 1.0, 2.0]), t64(cov)).sample((N,)).numpy()
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.05)


def test_categorical_frequencies_match_probs():
    tapegrad.manual_seed(1)
    probs = np.array([[0.1, 0.2, 0.7, 0.0], [0.25, 0.25, 0.25, 0.25]])
    s = D.Categorical(t64(probs)).sample((N,))
    assert s.dtype == tapegrad.int64 and tuple(s.shape) == (N, 2)
    freq = np.stack([(s.numpy() == k).mean(0) for k in range(4)], -1)
    np.testing.assert_array_less(np.abs(freq - probs), 5 * np.sqrt(probs * (1 - probs) / N) + 1e-12)
    assert (freq[0, 3] == 0)                                   # a zero-probability category is never drawn


def test_categorical_from_logits_samples_every_category():
    tapegrad.manual_seed(2)
    s = D.Categorical(logits=t64([0.0, 0.0, 0.0])).sample((3000,)).numpy()
    assert set(np.unique(s)) == {0, 1, 2}


def test_sampling_is_reproducible_under_manual_seed():
    draws = []
    for _ in range(2):
        tapegrad.manual_seed(11)
        draws.append(D.Gamma(t64([0.5, 2.0]), 1.0).sample((5,)).numpy())
    np.testing.assert_array_equal(*draws)


def _loss_weights(shape):
    return t64(np.random.default_rng(0).normal(size=shape))


@pytest.mark.parametrize("name", ["Normal", "Laplace", "Uniform", "Exponential"])
def test_location_scale_rsample_gradients_follow_the_reparameterisation(name):
    # x = a + b * eps with eps independent of the parameters: d(w.x)/da = w, d(w.x)/db = w * eps.
    tapegrad.manual_seed(5)
    p = {"Normal": (t64([0.5, -1.0], True), t64([1.5, 0.5], True)),
         "Laplace": (t64([0.5, -1.0], True), t64([1.5, 0.5], True)),
         "Uniform": (t64([0.5, -1.0], True), t64([1.5, 0.5], True)),
         "Exponential": (t64([2.0, 0.5], True),)}[name]
    d = getattr(D, name)(*p)
    x = d.rsample((7,))
    w = _loss_weights(tuple(x.shape))
    (w * x).sum().backward()
    xv, wv = x.detach().numpy(), w.numpy()
    if name == "Exponential":
        rate = p[0].detach().numpy()
        np.testing.assert_allclose(p[0].grad.numpy(), (wv * -xv / rate).sum(0), rtol=1e-10)
    elif name == "Uniform":
        low, high = (q.detach().numpy() for q in p)
        u = (xv - low) / (high - low)
        np.testing.assert_allclose(p[0].grad.numpy(), (wv * (1 - u)).sum(0), rtol=1e-10)
        np.testing.assert_allclose(p[1].grad.numpy(), (wv * u).sum(0), rtol=1e-10)
    else:
        loc, scale = (q.detach().numpy() for q in p)
        np.testing.assert_allclose(p[0].grad.numpy(), wv.sum(0), rtol=1e-10)
        np.testing.assert_allclose(p[1].grad.numpy(), (wv * (xv - loc) / scale).sum(0), rtol=1e-10)


def test_mvn_rsample_gradient_is_outer_product_with_the_noise():
    tapegrad.manual_seed(4)
    loc = t64([0.0, 1.0, -1.0], True)
    tril = t64(np.tril(np.full((3, 3), 0.2)) + np.eye(3), True)
    d = D.MultivariateNormal(loc, scale_tril=tril)
    x = d.rsample((5,))
    w = _loss_weights((5, 3))
    (w * x).sum().backward()
    eps = np.linalg.solve(tril.detach().numpy(), (x.detach().numpy() - loc.detach().numpy()).T).T
    np.testing.assert_allclose(loc.grad.numpy(), w.numpy().sum(0), rtol=1e-10)
    np.testing.assert_allclose(tril.grad.numpy(), w.numpy().T @ eps, rtol=1e-8, atol=1e-12)


def test_gamma_rsample_gradient_equals_torch_standard_gamma_grad():
    torch = pytest.importorskip("torch")
    tapegrad.manual_seed(9)
    alpha = t64(np.array([0.05, 0.3, 0.9, 1.0, 2.5, 10.0, 150.0]), True)
    rate = t64(np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.2]), True)
    x = D.Gamma(alpha, rate).rsample((50,))
    x.sum().backward()
    xs = x.detach().numpy() * rate.detach().numpy()                   # the standard gamma draws
    a = np.broadcast_to(alpha.detach().numpy(), xs.shape)
    want = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(xs)).numpy()
    np.testing.assert_allclose(alpha.grad.numpy(), (want / rate.detach().numpy()).sum(0), rtol=2e-3)
    np.testing.assert_allclose(rate.grad.numpy(), (-x.detach().numpy() / rate.detach().numpy()).sum(0), rtol=1e-10)


@pytest.mark.parametrize("name", ["Gamma", "Beta", "Dirichlet"])
def test_rsample_gradients_are_unbiased_for_the_mean(name):
    # E[d x / d theta] = d E[x] / d theta: the average pathwise gradient matches the gradient of the mean.
    tapegrad.manual_seed(13)
    if name == "Gamma":
        params = [t64([0.5, 3.0], True), t64([2.0, 0.5], True)]
    elif name == "Beta":
        params = [t64([0.7, 3.0], True), t64([2.0, 0.6], True)]
    else:
        params = [t64([0.6, 2.0, 1.5], True)]
    d = getattr(D, name)(*params)
    w = _loss_weights(tuple(d.batch_shape) + tuple(d.event_shape))
    (d.rsample((N,)) * w).mean(0).sum().backward()
    got = [p.grad.numpy().copy() for p in params]
    for p in params:
        p.grad = None
    (getattr(D, name)(*params).mean * w).sum().backward()
    for g, p in zip(got, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=0.05, atol=0.01)
