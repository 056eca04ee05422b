"""Gradients at valid edge inputs, compared exactly (NaN-aware) with PyTorch's.

Each row is (name, function of a library and its float64 inputs, inputs): the
same function runs under ``tapegrad`` and ``torch``; the results, the first
derivatives and (for ``ORDER2`` rows) the second derivatives along a fixed
direction must agree. These are the points the random harness avoids: zeros
of norms and standard deviations, 0 ** p, ties, clamp bounds, all-ignored
cross-entropy targets.
"""
import math

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")
inf = math.inf
F_ = "nn.functional"


def _fn(lib, path):
    for part in path.split("."):
        lib = getattr(lib, part)
    return lib


def _np(t):
    t = t.detach()
    try:
        return t.numpy().copy()
    except RuntimeError:          # torch's second derivatives may be ZeroTensors
        return t.numpy(force=True).copy()


def _grads(lib, fn, arrays, order2):
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    w = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=lib.float64)
    g = lib.autograd.grad((out * w).sum(), xs, create_graph=order2, allow_unused=True)
    first = [None if gi is None else _np(gi) for gi in g]
    second = None
    if order2:
        terms = [(gi * lib.tensor(np.linspace(0.7, 1.3, gi.numel()).reshape(tuple(gi.shape)),
                                  dtype=lib.float64)).sum()
                 for gi in g if gi is not None and gi.requires_grad]
        if terms:
            second = [None if gi is None else _np(gi)
                      for gi in lib.autograd.grad(sum(terms), xs, allow_unused=True)]
    return _np(out), first, second


def _zero_if_none(gs, arrays):
    if gs is None:
        return [np.zeros(np.shape(a)) for a in arrays]
    return [np.zeros(np.shape(a)) if g is None else g for g, a in zip(gs, arrays)]


ce = lambda L, x, **kw: _fn(L, F_).cross_entropy(x, L.tensor([-100, -100]), **kw)  # noqa: E731
W = [1.0, 2.0]

# name, function(lib, *inputs), inputs; second derivatives are compared for all but FIRST_ONLY.
CASES = [
    ("std_constant", lambda L, x: x.std(), [[2.0, 2.0, 2.0]]),
    ("std_constant_row", lambda L, x: x.std(dim=1), [[[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]]),
    ("std_one_element_correction0", lambda L, x: L.std(x, correction=0), [[3.0]]),
    ("std_keepdim_constant", lambda L, x: x.std(dim=0, keepdim=True, correction=0), [[[1.0, 5.0], [1.0, 2.0]]]),
    ("var_constant", lambda L, x: x.var(), [[2.0, 2.0, 2.0]]),
    ("var_one_element_correction0", lambda L, x: L.var(x, correction=0), [[3.0]]),
    ("norm2_zero", lambda L, x: x.norm(), [[0.0, 0.0, 0.0]]),
    ("norm2_zero_row", lambda L, x: x.norm(dim=1), [[[0.0, 0.0], [3.0, 4.0]]]),
    ("norm1_zero", lambda L, x: x.norm(p=1), [[0.0, 1.0, -2.0]]),
    ("norm3_zero", lambda L, x: x.norm(p=3), [[0.0, 0.0, 0.0]]),
    ("norm3_some_zero", lambda L, x: x.norm(p=3), [[0.0, 1.0, -2.0]]),
    ("norm0.5_some_zero", lambda L, x: x.norm(p=0.5), [[0.0, 1.0, -2.0]]),
    ("norm_inf_ties", lambda L, x: x.norm(p=inf), [[2.0, -2.0, 1.0]]),
    ("norm_inf_zero", lambda L, x: x.norm(p=inf), [[0.0, 0.0, 0.0]]),
    ("norm_minus_inf_zero", lambda L, x: x.norm(p=-inf), [[0.0, 1.0, 0.0]]),
    ("pow_0_at_0", lambda L, x: x ** 0, [[0.0, 1.0]]),
    ("pow_1_at_0", lambda L, x: x ** 1, [[0.0, 1.0]]),
    ("pow_2_at_0", lambda L, x: x ** 2, [[0.0, 1.0]]),
    ("pow_0.5_at_0", lambda L, x: x ** 0.5, [[0.0, 1.0]]),
    ("pow_3_at_0", lambda L, x: x ** 3, [[0.0, 1.0]]),
    ("pow_tensor_base_0", lambda L, x, y: x ** y, [[0.0] * 5, [0.0, 1.0, 2.0, 0.5, -1.0]]),
    ("pow_number_base_0", lambda L, y: 0.0 ** y, [[0.0, 1.0, 2.0, 0.5, -1.0]]),
    ("sqrt_at_0", lambda L, x: x.sqrt(), [[0.0, 4.0]]),
    ("log_at_0", lambda L, x: x.log(), [[0.0, 4.0]]),
    ("log_softmax_minus_inf", lambda L, x: L.log_softmax(x, dim=0), [[-inf, 0.0, 1.0]]),
    ("softmax_minus_inf", lambda L, x: L.softmax(x, dim=0), [[-inf, 0.0, 1.0]]),
    ("logsumexp_all_minus_inf", lambda L, x: L.logsumexp(x, dim=0), [[-inf, -inf]]),
    ("logsumexp_some_minus_inf", lambda L, x: L.logsumexp(x, dim=0), [[-inf, 0.0]]),
    ("prod_one_zero", lambda L, x: x.prod(), [[0.0, 2.0, 3.0]]),
    ("prod_two_zeros", lambda L, x: x.prod(), [[0.0, 2.0, 0.0]]),
    ("prod_three_zeros", lambda L, x: x.prod(), [[0.0, 2.0, 0.0, 0.0]]),
    ("prod_rows_with_zeros", lambda L, x: x.prod(dim=1), [[[0.0, 2.0, 3.0], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]]]),
    ("prod_all_zeros", lambda L, x: x.prod(), [[0.0, 0.0]]),
    ("mse_zero_difference", lambda L, x, y: _fn(L, F_).mse_loss(x, y), [[1.0, 2.0], [1.0, 2.0]]),
    ("l1_zero_difference", lambda L, x, y: _fn(L, F_).l1_loss(x, y), [[1.0, 2.0], [1.0, 3.0]]),
    ("abs_at_0", lambda L, x: x.abs(), [[0.0, -1.0, 1.0]]),
    ("relu_at_0", lambda L, x: L.relu(x), [[0.0, -1.0, 1.0]]),
    ("clamp_at_bounds", lambda L, x: x.clamp(-1.0, 1.0), [[-1.0, 1.0, 0.0, 2.0, -2.0]]),
    ("clamp_min_at_bound", lambda L, x: x.clamp(min=-1.0), [[-1.0, 1.0, -2.0]]),
    ("clamp_max_at_bound", lambda L, x: x.clamp(max=1.0), [[-1.0, 1.0, 2.0]]),
    ("clamp_tensor_bounds_at_bounds", lambda L, x, lo, hi: L.clamp(x, lo, hi),
     [[-1.0, 1.0, 0.0, 2.0, -2.0], [-1.0] * 5, [1.0] * 5]),
    ("clamp_tensor_min_at_bound", lambda L, x, lo: L.clamp(x, min=lo), [[-1.0, 1.0, -2.0], [-1.0] * 3]),
    ("clamp_tensor_max_at_bound", lambda L, x, hi: L.clamp(x, max=hi), [[-1.0, 1.0, 2.0], [1.0] * 3]),
    ("clamp_tensor_min_above_max", lambda L, x, lo, hi: L.clamp(x, lo, hi), [[-1.0, 1.0, 0.0], [1.0] * 3, [-1.0] * 3]),
    ("maximum_ties", lambda L, x, y: L.maximum(x, y), [[1.0, 2.0, 3.0], [1.0, 1.0, 4.0]]),
    ("minimum_ties", lambda L, x, y: L.minimum(x, y), [[1.0, 2.0, 3.0], [1.0, 1.0, 4.0]]),
    ("max_all_ties", lambda L, x: x.max(), [[3.0, 1.0, 3.0, 3.0]]),
    ("min_all_ties", lambda L, x: x.min(), [[1.0, 3.0, 1.0]]),
    ("amax_ties", lambda L, x: L.amax(x, dim=1), [[[3.0, 1.0, 3.0], [0.0, 0.0, 0.0]]]),
    ("amin_ties", lambda L, x: L.amin(x, dim=0), [[[3.0, 1.0, 3.0], [3.0, 1.0, 0.0]]]),
    ("max_dim_ties", lambda L, x: x.max(dim=1).values, [[[3.0, 1.0, 3.0], [0.0, 0.0, 0.0]]]),
    ("min_dim_ties", lambda L, x: x.min(dim=1).values, [[[3.0, 1.0, 3.0], [0.0, 0.0, 0.0]]]),
    ("cross_entropy_all_ignored", lambda L, x: ce(L, x), [[[1.0, 2.0], [0.0, 1.0]]]),
    ("cross_entropy_all_ignored_weight", lambda L, x: ce(L, x, weight=L.tensor(W, dtype=L.float64)),
     [[[1.0, 2.0], [0.0, 1.0]]]),
    ("cross_entropy_all_ignored_smoothing", lambda L, x: ce(L, x, label_smoothing=0.1), [[[1.0, 2.0], [0.0, 1.0]]]),
    ("cross_entropy_all_ignored_3d_weight", lambda L, x: _fn(L, F_).cross_entropy(
        x, L.tensor([[-100, -100]]), weight=L.tensor(W, dtype=L.float64)), [[[[1.0, 2.0], [0.0, 1.0]]]]),
    ("cross_entropy_zero_total_weight", lambda L, x: _fn(L, F_).cross_entropy(
        x, L.tensor([0, 0]), weight=L.tensor([0.0, 2.0], dtype=L.float64)), [[[1.0, 2.0], [0.0, 1.0]]]),
    ("bce_at_0_and_1", lambda L, x, t: _fn(L, F_).binary_cross_entropy(x, t),
     [[0.0, 1.0, 0.0, 1.0, 1e-30, 0.3], [0.0, 1.0, 1.0, 0.0, 0.5, 0.6]]),
    ("bce_weighted_sum_at_0", lambda L, x, t: _fn(L, F_).binary_cross_entropy(
        x, t, weight=L.tensor([2.0, 0.5], dtype=L.float64), reduction="sum"), [[0.0, 1.0], [1.0, 1.0]]),
    ("nll_all_ignored", lambda L, x: _fn(L, F_).nll_loss(x, L.tensor([-100, -100])), [[[-1.0, -2.0], [0.0, -1.0]]]),
    ("nll_all_ignored_weight", lambda L, x: _fn(L, F_).nll_loss(
        x, L.tensor([-100, -100]), weight=L.tensor(W, dtype=L.float64)), [[[-1.0, -2.0], [0.0, -1.0]]]),
]
# PyTorch's second derivative is nan here (it divides by the zero norm); ours is finite. BCE's
# second derivative is PyTorch's own formula with eps added in other places (compared inside
# (0, 1) by tests/nn/test_nn_losses.py::test_bce_second_derivative_matches_torch).
FIRST_ONLY = {"norm2_zero", "norm2_zero_row", "norm0.5_some_zero", "bce_at_0_and_1", "bce_weighted_sum_at_0"}


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_edge_gradient_matches_torch(name, fn, inputs):
    arrays = [np.asarray(a, dtype=np.float64) for a in inputs]
    order2 = name not in FIRST_ONLY
    want = _grads(torch, fn, arrays, order2)
    got = _grads(tapegrad, fn, arrays, order2)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-14, equal_nan=True, err_msg=f"{name}: value")
    for what, g, w in (("first", got[1], want[1]), ("second", got[2], want[2])):
        if what == "second" and not order2:
            continue
        for i, (gi, wi) in enumerate(zip(_zero_if_none(g, arrays), _zero_if_none(w, arrays))):
            np.testing.assert_allclose(gi, wi, rtol=1e-12, atol=1e-14, equal_nan=True,
                                       err_msg=f"{name}: {what} derivative of input {i}")
            assert np.array_equal(np.isnan(gi), np.isnan(wi)), f"{name}: {what} derivative nan pattern"


def test_relu_keeps_the_sign_of_zero_like_torch():
    torch = pytest.importorskip("torch")
    x = [-0.0, 0.0, -1.5, 2.0]
    got = tapegrad.relu(tapegrad.tensor(x)).numpy()
    want = torch.relu(torch.tensor(x)).numpy()
    assert np.array_equal(np.signbit(got), np.signbit(want)) and np.array_equal(got, want)
