"""Distribution cases shared by the torch parity tests: the same float64 parameters built in both libraries.

Each case has a name, parameters (NumPy float64 arrays, all differentiable), a builder taking the
library module (``tapegrad`` or ``torch``) and the parameter tensors, and valid values to score.
"""
import numpy as np

RNG = np.random.default_rng(1234)


def _pos(*shape, lo=0.5, hi=3.0):
    return RNG.uniform(lo, hi, size=shape)


def _spd(n, batch=()):
    a = RNG.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _simplex(*shape):
    p = RNG.uniform(0.1, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


def _lower(n, batch=()):
    l = np.tril(RNG.normal(size=batch + (n, n)) * 0.3)
    idx = np.arange(n)
    l[..., idx, idx] = RNG.uniform(0.5, 2.0, size=batch + (n,))
    return l


class Case:
    def __init__(self, name, params, build, values, mode=True):
        self.name, self.params, self.build, self.values, self.mode = name, params, build, values, mode


CASES = [
    Case("Normal", {"loc": RNG.normal(size=(2, 3)), "scale": _pos(2, 3)},
         lambda m, p: m.distributions.Normal(p["loc"], p["scale"]), RNG.normal(size=(4, 2, 3))),
    Case("Normal_broadcast", {"loc": RNG.normal(size=(3,)), "scale": _pos(2, 1)},
         lambda m, p: m.distributions.Normal(p["loc"], p["scale"]), RNG.normal(size=(2, 3))),
    Case("Bernoulli_probs", {"probs": RNG.uniform(0.05, 0.95, size=(5,))},
         lambda m, p: m.distributions.Bernoulli(probs=p["probs"]), RNG.integers(0, 2, size=(3, 5)).astype(float)),
    Case("Bernoulli_logits", {"logits": RNG.normal(size=(2, 4)) * 3},
         lambda m, p: m.distributions.Bernoulli(logits=p["logits"]), RNG.integers(0, 2, size=(2, 4)).astype(float)),
    Case("Categorical_probs", {"probs": _simplex(3, 5)},
         lambda m, p: m.distributions.Categorical(probs=p["probs"]), RNG.integers(0, 5, size=(2, 3))),
    Case("Categorical_logits", {"logits": RNG.normal(size=(2, 4)) * 2},
         lambda m, p: m.distributions.Categorical(logits=p["logits"]), RNG.integers(0, 4, size=(6, 1))),
    Case("OneHotCategorical", {"logits": RNG.normal(size=(3, 4))},
         lambda m, p: m.distributions.OneHotCategorical(logits=p["logits"]),
         np.eye(4)[RNG.integers(0, 4, size=(2, 3))]),
    Case("Uniform", {"low": RNG.normal(size=(4,)), "high": RNG.normal(size=(4,)) + 4.0},
         lambda m, p: m.distributions.Uniform(p["low"], p["high"]), RNG.uniform(0.9, 2.9, size=(3, 4)),
         mode=False),
    Case("Exponential", {"rate": _pos(2, 3)},
         lambda m, p: m.distributions.Exponential(p["rate"]), _pos(5, 2, 3, lo=0.0, hi=4.0)),
    Case("Laplace", {"loc": RNG.normal(size=(3,)), "scale": _pos(3)},
         lambda m, p: m.distributions.Laplace(p["loc"], p["scale"]), RNG.normal(size=(2, 3)) * 2),
    Case("Gamma", {"concentration": _pos(2, 3, lo=0.3, hi=5.0), "rate": _pos(2, 3)},
         lambda m, p: m.distributions.Gamma(p["concentration"], p["rate"]), _pos(4, 2, 3, lo=0.05, hi=5.0)),
    Case("Beta", {"concentration1": _pos(3, lo=0.3, hi=4.0), "concentration0": _pos(3, lo=0.3, hi=4.0)},
         lambda m, p: m.distributions.Beta(p["concentration1"], p["concentration0"]),
         RNG.uniform(0.02, 0.98, size=(2, 3))),
    Case("Dirichlet", {"concentration": _pos(2, 4, lo=0.3, hi=4.0)},
         lambda m, p: m.distributions.Dirichlet(p["concentration"]), _simplex(3, 2, 4)),
    Case("MVN_cov", {"loc": RNG.normal(size=(2, 3)), "covariance_matrix": _spd(3)},
         lambda m, p: m.distributions.MultivariateNormal(p["loc"], covariance_matrix=p["covariance_matrix"]),
         RNG.normal(size=(4, 2, 3))),
    Case("MVN_scale_tril", {"loc": RNG.normal(size=(4,)), "scale_tril": _lower(4, (2,))},
         lambda m, p: m.distributions.MultivariateNormal(p["loc"], scale_tril=p["scale_tril"]),
         RNG.normal(size=(3, 2, 4))),
    Case("MVN_precision", {"loc": RNG.normal(size=(3,)), "precision_matrix": _spd(3, (2,))},
         lambda m, p: m.distributions.MultivariateNormal(p["loc"], precision_matrix=p["precision_matrix"]),
         RNG.normal(size=(2, 3))),
    Case("Independent_Normal", {"loc": RNG.normal(size=(2, 3)), "scale": _pos(2, 3)},
         lambda m, p: m.distributions.Independent(m.distributions.Normal(p["loc"], p["scale"]), 1),
         RNG.normal(size=(4, 2, 3))),
]
