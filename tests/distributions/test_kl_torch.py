"""kl_divergence of every same-family pair equals PyTorch's, values and gradients; dispatch as torch's."""
import numpy as np
import pytest

import tapegrad
from tapegrad.distributions import Distribution, Normal, kl_divergence, register_kl
from ._cases import CASES

torch = pytest.importorskip("torch")

KL_CASES = [c for c in CASES if c.name not in ("Normal_broadcast", "Uniform")]


def _pair(lib, case, shift, grad):
    out = []
    for k, scale in ((0, 1.0), (1, shift)):
        params = {}
        for name, v in case.params.items():
            v = np.array(v)
            if k:
                if "matrix" in name or "tril" in name:
                    v = v * scale
                elif name in ("loc", "logits"):
                    v = v + 0.3
                elif name == "probs":
                    v = (v + 0.1) / (v + 0.1).sum(-1, keepdims=True) if case.name.startswith("Categorical") \
                        else np.clip(v * 0.7 + 0.1, 0.05, 0.95)
                else:
                    v = v * scale
            params[name] = lib.tensor(v, dtype=lib.float64, requires_grad=grad)
        out.append((case.build(lib, params), params))
    return out


@pytest.mark.parametrize("case", KL_CASES, ids=[c.name for c in KL_CASES])
def test_kl_value_and_gradients_equal_torch(case):
    (p, pp), (q, qp) = _pair(tapegrad, case, 1.3, True)
    (tp_, tpp), (tq, tqp) = _pair(torch, case, 1.3, True)
    got, want = kl_divergence(p, q), torch.distributions.kl_divergence(tp_, tq)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-8, atol=1e-10)
    assert got.detach().numpy().shape == tuple(want.shape)
    got.sum().backward()
    want.sum().backward()
    for mine, theirs in ((pp, tpp), (qp, tqp)):
        for k in mine:
            np.testing.assert_allclose(mine[k].grad.numpy(), theirs[k].grad.numpy(), rtol=1e-7, atol=1e-9)


def test_uniform_kl_is_infinite_outside_support_as_torch():
    lo, hi = np.array([0.0, 0.0, -1.0]), np.array([1.0, 2.0, 1.0])
    lo2, hi2 = np.array([-1.0, 0.5, -2.0]), np.array([2.0, 2.0, 0.5])
    got = kl_divergence(tapegrad.distributions.Uniform(tapegrad.tensor(lo), tapegrad.tensor(hi)),
                        tapegrad.distributions.Uniform(tapegrad.tensor(lo2), tapegrad.tensor(hi2)))
    want = torch.distributions.kl_divergence(torch.distributions.Uniform(torch.tensor(lo), torch.tensor(hi)),
                                             torch.distributions.Uniform(torch.tensor(lo2), torch.tensor(hi2)))
    np.testing.assert_allclose(got.numpy(), want.numpy())


def test_categorical_and_bernoulli_kl_at_zero_probabilities_equal_torch():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.0, 0.75])
    for a, b in ((p, q), (q, p), (p, p)):
        got = kl_divergence(tapegrad.distributions.Categorical(tapegrad.tensor(a)),
                            tapegrad.distributions.Categorical(tapegrad.tensor(b)))
        want = torch.distributions.kl_divergence(torch.distributions.Categorical(torch.tensor(a)),
                                                 torch.distributions.Categorical(torch.tensor(b)))
        assert got.item() == pytest.approx(want.item())
    a, b = np.array([0.0, 1.0, 0.3, 0.0]), np.array([0.5, 0.0, 1.0, 0.0])
    got = kl_divergence(tapegrad.distributions.Bernoulli(tapegrad.tensor(a)),
                        tapegrad.distributions.Bernoulli(tapegrad.tensor(b)))
    want = torch.distributions.kl_divergence(torch.distributions.Bernoulli(torch.tensor(a)),
                                             torch.distributions.Bernoulli(torch.tensor(b)))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_unregistered_pairs_raise_as_torch():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type "
                                                  "Gamma"):
        kl_divergence(Normal(0.0, 1.0), tapegrad.distributions.Gamma(1.0, 1.0))
    ind = tapegrad.distributions.Independent
    n = Normal(tapegrad.zeros(2, 3), 1.0)
    with pytest.raises(NotImplementedError):
        kl_divergence(ind(n, 1), ind(n, 2))
    mvn = tapegrad.distributions.MultivariateNormal
    with pytest.raises(ValueError, match="different event shapes"):
        kl_divergence(mvn(tapegrad.zeros(2), tapegrad.eye(2)), mvn(tapegrad.zeros(3), tapegrad.eye(3)))


def test_register_kl_picks_the_most_specific_match():
    class MyNormal(Normal):
        pass

    assert kl_divergence(MyNormal(0.0, 1.0), Normal(1.0, 1.0)).item() == pytest.approx(0.5)

    @register_kl(MyNormal, Normal)
    def _kl(p, q):
        return tapegrad.tensor(42.0)

    assert kl_divergence(MyNormal(0.0, 1.0), Normal(1.0, 1.0)).item() == 42.0
    assert kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0)).item() == pytest.approx(0.5)
    with pytest.raises(TypeError, match="Distribution subclasses"):
        register_kl(int, Normal)
    assert issubclass(MyNormal, Distribution)
