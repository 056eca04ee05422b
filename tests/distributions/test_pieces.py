"""The composed Cholesky / triangular solve (Note [composed cholesky]), the Categorical prefix sums, and
edge values (modes at ties, large category counts)."""
import numpy as np
import pytest

import tapegrad
from tapegrad import distributions as D
from tapegrad.distributions._linalg import cholesky, cholesky_info, solve_lower
from tapegrad.distributions.categorical import _cumsum_last


def _spd(rng, n, batch=()):
    a = rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def test_cholesky_and_solve_lower_equal_numpy_batched():
    rng = np.random.default_rng(0)
    a = _spd(rng, 5, (2, 3))
    l = cholesky(tapegrad.tensor(a)).numpy()
    np.testing.assert_allclose(l, np.linalg.cholesky(a), rtol=1e-12, atol=1e-12)
    b = rng.normal(size=(2, 3, 5, 2))
    x = solve_lower(tapegrad.tensor(l), tapegrad.tensor(b)).numpy()
    np.testing.assert_allclose(l @ x, b, rtol=1e-10, atol=1e-12)


def test_cholesky_gradient_equals_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, w = _spd(rng, 4, (2,)), rng.normal(size=(2, 4, 4))
    mine = tapegrad.tensor(a, requires_grad=True)
    (cholesky(mine) * tapegrad.tensor(w)).sum().backward()
    theirs = torch.tensor(a, requires_grad=True)
    (torch.linalg.cholesky(theirs) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_not_positive_definite_raises_as_torch_without_validation():
    torch = pytest.importorskip("torch")
    cov = [[1.0, 0.0, 0.0], [0.0, 1.0, 2.0], [0.0, 2.0, 1.0]]
    with pytest.raises(RuntimeError) as want:
        torch.distributions.MultivariateNormal(torch.zeros(3), torch.tensor(cov), validate_args=False)
    with pytest.raises(RuntimeError) as got:
        D.MultivariateNormal(tapegrad.zeros(3), tapegrad.tensor(cov), validate_args=False)
    assert str(got.value) == str(want.value)
    assert cholesky_info(tapegrad.tensor([cov, np.eye(3).tolist()])).tolist() == [3, 0]


def test_cumsum_last_equals_numpy():
    x = np.random.default_rng(2).uniform(size=(3, 37))
    np.testing.assert_allclose(_cumsum_last(tapegrad.tensor(x)).numpy(), np.cumsum(x, -1), rtol=1e-12)


def test_categorical_with_many_categories_samples_the_heavy_one():
    tapegrad.manual_seed(0)
    logits = tapegrad.zeros(20000)
    logits[12345] = 30.0
    s = D.Categorical(logits=logits).sample((50,))
    assert s.tolist() == [12345] * 50


def test_bernoulli_mode_is_nan_at_one_half_as_torch():
    torch = pytest.importorskip("torch")
    p = [0.2, 0.5, 0.7]
    np.testing.assert_array_equal(D.Bernoulli(tapegrad.tensor(p)).mode.numpy(),
                                  torch.distributions.Bernoulli(torch.tensor(p)).mode.numpy())


def test_dirichlet_mode_with_small_concentrations_equals_torch():
    torch = pytest.importorskip("torch")
    c = [[0.5, 0.9, 0.3], [2.0, 3.0, 0.5]]
    np.testing.assert_allclose(D.Dirichlet(tapegrad.tensor(c)).mode.numpy(),
                               torch.distributions.Dirichlet(torch.tensor(c)).mode.numpy())


def test_perplexity_sample_n_and_rsample_absence_as_torch():
    torch = pytest.importorskip("torch")
    p = [0.2, 0.3, 0.5]
    np.testing.assert_allclose(D.Categorical(tapegrad.tensor(p)).perplexity().numpy(),
                               torch.distributions.Categorical(torch.tensor(p)).perplexity().numpy(), rtol=1e-6)
    with pytest.warns(UserWarning, match="sample_n will be deprecated"):
        assert tuple(D.Normal(tapegrad.zeros(2), 1.0).sample_n(3).shape) == (3, 2)
    with pytest.raises(NotImplementedError):
        D.Categorical(tapegrad.tensor(p)).rsample()
    assert D.Independent(D.Normal(tapegrad.zeros(2), 1.0), 1).has_rsample
    assert not D.Independent(D.Bernoulli(tapegrad.zeros(2) + 0.5), 1).has_enumerate_support


def test_subclass_with_its_own_init_must_define_expand():
    class Shifted(D.Normal):
        def __init__(self, loc):
            super().__init__(loc, 1.0)

    with pytest.raises(NotImplementedError, match="Subclass Shifted of Normal that defines a custom __init__"):
        Shifted(tapegrad.zeros(2)).expand((3, 2))


def test_lazy_probs_keep_the_graph_to_logits():
    logits = tapegrad.tensor([0.0, 1.0, 2.0], requires_grad=True)
    with tapegrad.no_grad():
        d = D.Categorical(logits=logits * 1)
    d2 = D.Categorical(logits=logits)
    d2.probs.sum().backward()                 # made on first use, inside enable_grad, from logits
    assert logits.grad is not None and d.probs.requires_grad is False
