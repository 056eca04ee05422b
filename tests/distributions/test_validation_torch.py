"""Argument and sample validation raise PyTorch's exceptions with PyTorch's messages."""
import pytest

import tapegrad
from tapegrad.distributions import Distribution, Normal

torch = pytest.importorskip("torch")

ERRORS = {
    "negative_scale": lambda m: m.distributions.Normal(m.tensor([0.0, 1.0]), m.tensor([1.0, -1.0])),
    "scalar_scale": lambda m: m.distributions.Normal(0.0, -1.0),
    "probs_above_one": lambda m: m.distributions.Bernoulli(m.tensor([1.5])),
    "probs_and_logits": lambda m: m.distributions.Bernoulli(m.tensor([0.5]), m.tensor([0.5])),
    "categorical_negative": lambda m: m.distributions.Categorical(m.tensor([-0.5, 1.5])),
    "categorical_0d": lambda m: m.distributions.Categorical(m.tensor(0.5)),
    "categorical_neither": lambda m: m.distributions.Categorical(),
    "uniform_low_above_high": lambda m: m.distributions.Uniform(m.tensor([2.0]), m.tensor([1.0])),
    "gamma_zero": lambda m: m.distributions.Gamma(m.tensor([0.0]), m.tensor([1.0])),
    "dirichlet_negative": lambda m: m.distributions.Dirichlet(m.tensor([1.0, -1.0])),
    "dirichlet_0d": lambda m: m.distributions.Dirichlet(m.tensor(1.0)),
    "beta_negative": lambda m: m.distributions.Beta(m.tensor([1.0]), m.tensor([-1.0])),
    "laplace_zero_scale": lambda m: m.distributions.Laplace(m.tensor([0.0]), m.tensor([0.0])),
    "exponential_negative": lambda m: m.distributions.Exponential(m.tensor([-2.0])),
    "mvn_not_pd": lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "mvn_not_symmetric": lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.tensor([[1.0, 0.5], [0.0, 1.0]])),
    "mvn_upper_tril": lambda m: m.distributions.MultivariateNormal(
        m.zeros(2), scale_tril=m.tensor([[1.0, 2.0], [0.0, 1.0]])),
    "mvn_no_matrix": lambda m: m.distributions.MultivariateNormal(m.zeros(2)),
    "mvn_0d_loc": lambda m: m.distributions.MultivariateNormal(m.tensor(0.0), m.eye(1)),
    "mvn_1d_cov": lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.ones(2)),
    "independent_too_many": lambda m: m.distributions.Independent(m.distributions.Normal(m.zeros(2), 1.0), 2),
    "log_prob_outside_support": lambda m: m.distributions.Exponential(m.tensor([1.0])).log_prob(m.tensor([-1.0])),
    "log_prob_not_broadcastable": lambda m: m.distributions.Normal(m.zeros(3), 1.0).log_prob(m.zeros(2)),
    "log_prob_wrong_event": lambda m: m.distributions.Dirichlet(m.ones(3)).log_prob(m.ones(2) / 2),
    "log_prob_not_tensor": lambda m: m.distributions.Normal(m.zeros(3), 1.0).log_prob(1.0),
    "log_prob_category_out_of_range": lambda m: m.distributions.Categorical(m.ones(3)).log_prob(m.tensor([3])),
    "log_prob_not_one_hot": lambda m: m.distributions.OneHotCategorical(m.ones(3)).log_prob(m.tensor([1.0, 1.0, 0.0])),
    "log_prob_bernoulli_half": lambda m: m.distributions.Bernoulli(m.tensor([0.3])).log_prob(m.tensor([0.5])),
    "log_prob_beta_outside": lambda m: m.distributions.Beta(m.tensor([2.0]), m.tensor([2.0])).log_prob(m.tensor([1.5])),
    "log_prob_uniform_outside": lambda m: m.distributions.Uniform(0.0, 1.0).log_prob(m.tensor(2.0)),
}


def _outcome(lib, fn):
    try:
        fn(lib)
    except Exception as e:                                     # noqa: BLE001  (compared with torch's)
        return type(e).__name__, str(e).replace("tapegrad.", "torch.")
    return None


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_validation_error_equals_torch(name):
    want = _outcome(torch, ERRORS[name])
    assert want is not None, "the case must fail under torch"
    assert _outcome(tapegrad, ERRORS[name]) == want


def test_validate_args_false_skips_the_checks_as_torch():
    d = Normal(tapegrad.tensor([0.0]), tapegrad.tensor([-1.0]), validate_args=False)
    t = torch.distributions.Normal(torch.tensor([0.0]), torch.tensor([-1.0]), validate_args=False)
    assert d.scale.item() == t.scale.item() == -1.0
    e = tapegrad.distributions.Exponential(tapegrad.tensor([1.0]), validate_args=False)
    assert e.log_prob(tapegrad.tensor([-1.0])).item() == pytest.approx(1.0)


def test_set_default_validate_args_turns_validation_off_and_on():
    assert Distribution._validate_args is True
    try:
        Distribution.set_default_validate_args(False)
        Normal(0.0, -1.0)                                      # no error
        with pytest.raises(ValueError, match="constraint GreaterThan"):
            Normal(0.0, -1.0, validate_args=True)
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        Distribution.set_default_validate_args("yes")


def test_expand_keeps_the_validation_setting():
    d = Normal(tapegrad.zeros(2), 1.0, validate_args=False).expand((3, 2))
    assert d._validate_args is False
    assert d.log_prob(tapegrad.zeros(5, 3, 2)).shape == (5, 3, 2)
    with pytest.raises(ValueError, match="not broadcastable"):
        Normal(tapegrad.zeros(2), 1.0).expand((3, 2)).log_prob(tapegrad.zeros(4, 2))


def test_repr_equals_torch():
    pairs = [lambda m: m.distributions.Normal(m.zeros(2), 1.0), lambda m: m.distributions.Normal(0.0, 1.0),
             lambda m: m.distributions.Categorical(logits=m.zeros(3)),
             lambda m: m.distributions.Independent(m.distributions.Normal(m.zeros(2), 1.0), 1),
             lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.eye(2))]
    for make in pairs:
        assert repr(make(tapegrad)).replace("tapegrad.", "torch.") == repr(make(torch))
    cons = tapegrad.distributions.constraints
    tcons = torch.distributions.constraints
    for name in ("positive", "real", "simplex", "unit_interval", "boolean", "real_vector", "lower_cholesky",
                 "positive_definite", "nonnegative", "one_hot", "nonnegative_integer"):
        assert repr(getattr(cons, name)) == repr(getattr(tcons, name)), name
    assert repr(cons.integer_interval(0, 3)) == repr(tcons.integer_interval(0, 3))
    assert repr(cons.independent(cons.positive, 2)) == repr(tcons.independent(tcons.positive, 2))
