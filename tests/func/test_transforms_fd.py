"""tapegrad.func transforms against float64 central differences (no torch needed)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad as tg
from tapegrad import func as tf

from ._fns import CASES, IDS, draw_inputs, scalar

EPS = 1e-6


def _f_np(f, arrays):
    """``f`` as a NumPy function of its flat inputs, returning the flat output."""
    def g(*flat):
        xs = [tg.tensor(v.reshape(a.shape)) for v, a in zip(flat, arrays)]
        return f(*xs).detach().numpy().reshape(-1)
    return g


def _fd_jac(f, arrays, j):
    """Central-difference Jacobian of the flat output with respect to flat input ``j``."""
    flat = [a.reshape(-1).copy() for a in arrays]
    g = _f_np(f, arrays)
    cols = []
    for k in range(flat[j].size):
        hi = [v.copy() for v in flat]
        lo = [v.copy() for v in flat]
        hi[j][k] += EPS
        lo[j][k] -= EPS
        cols.append((g(*hi) - g(*lo)) / (2 * EPS))
    return np.stack(cols, -1)


@pytest.mark.parametrize("name,make,shapes", CASES, ids=IDS)
@settings(max_examples=4)
@given(data=st.data())
def test_jacobians_and_jvp_match_finite_differences(name, make, shapes, data):
    arrays = draw_inputs(data, shapes, st, hnp)
    f = make(tg, lambda a: tg.tensor(a))
    xs = [tg.tensor(a) for a in arrays]
    out = f(*xs)
    argnums = tuple(range(len(xs)))
    for jac in (tf.jacrev(f, argnums)(*xs), tf.jacfwd(f, argnums)(*xs)):
        for j, a in enumerate(arrays):
            assert tuple(jac[j].shape) == tuple(out.shape) + a.shape
            np.testing.assert_allclose(jac[j].numpy().reshape(out.numel(), a.size), _fd_jac(f, arrays, j),
                                       rtol=1e-6, atol=1e-7)
    tans = draw_inputs(data, shapes, st, hnp)
    _, t = tf.jvp(f, tuple(xs), tuple(tg.tensor(v) for v in tans))
    g = _f_np(f, arrays)
    fd = (g(*[(a + EPS * v).reshape(-1) for a, v in zip(arrays, tans)])
          - g(*[(a - EPS * v).reshape(-1) for a, v in zip(arrays, tans)])) / (2 * EPS)
    np.testing.assert_allclose(t.numpy().reshape(-1), fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,make,shapes", CASES, ids=IDS)
@settings(max_examples=3)
@given(data=st.data())
def test_grad_and_hessian_match_finite_differences(name, make, shapes, data):
    arrays = draw_inputs(data, shapes, st, hnp)
    f = scalar(make(tg, lambda a: tg.tensor(a)))
    xs = [tg.tensor(a) for a in arrays]
    gr = tf.grad(f, tuple(range(len(xs))))(*xs)
    h = tf.hessian(f)(*xs)                 # with respect to the first input
    for j, a in enumerate(arrays):
        np.testing.assert_allclose(gr[j].numpy().reshape(-1), _fd_jac(f, arrays, j)[0], rtol=1e-6, atol=1e-7)
    fd_h = _fd_jac(lambda *x: tf.grad(f)(*x), arrays, 0)
    np.testing.assert_allclose(h.numpy().reshape(arrays[0].size, -1), fd_h, rtol=1e-5, atol=1e-6)
