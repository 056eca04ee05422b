"""tapegrad.func against torch.func on the same functions (tests/func/_fns.py), float64."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad as tg
from tapegrad import func as tf

from ._fns import CASES, IDS, draw_inputs, scalar

torch = pytest.importorskip("torch")
import torch.func as TF  # noqa: E402


def _np(t):
    if isinstance(t, (tuple, list)):
        return [_np(v) for v in t]
    if isinstance(t, dict):
        return [_np(v) for v in t.values()]
    return t if isinstance(t, np.ndarray) else t.detach().numpy()


def _both(make, arrays):
    tg_f = make(tg, lambda a: tg.tensor(a))
    th_f = make(torch, lambda a: torch.tensor(a))
    return tg_f, [tg.tensor(a) for a in arrays], th_f, [torch.tensor(a) for a in arrays]


def _close(a, b):
    a, b = _np(a), _np(b)
    if isinstance(a, list):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _close(u, v)
        return
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name,make,shapes", CASES, ids=IDS)
@settings(max_examples=5)
@given(data=st.data())
def test_jacrev_jacfwd_grad_match_torch(name, make, shapes, data):
    arrays = draw_inputs(data, shapes, st, hnp)
    f, xs, g, ys = _both(make, arrays)
    argnums = tuple(range(len(xs)))
    _close(tf.jacrev(f, argnums)(*xs), TF.jacrev(g, argnums)(*ys))
    _close(tf.jacfwd(f, argnums)(*xs), TF.jacfwd(g, argnums)(*ys))
    _close(tf.grad(scalar(f), argnums)(*xs), TF.grad(scalar(g), argnums)(*ys))
    gv, tv = tf.grad_and_value(scalar(f))(*xs), TF.grad_and_value(scalar(g))(*ys)
    _close(list(gv), list(tv))


@pytest.mark.parametrize("name,make,shapes", CASES, ids=IDS)
@settings(max_examples=4)
@given(data=st.data())
def test_vjp_jvp_hessian_match_torch(name, make, shapes, data):
    arrays = draw_inputs(data, shapes, st, hnp)
    f, xs, g, ys = _both(make, arrays)
    tans = draw_inputs(data, shapes, st, hnp)
    out, fn = tf.vjp(f, *xs)
    tout, tfn = TF.vjp(g, *ys)
    _close(out, tout)
    cot = np.linspace(-1.0, 1.0, tout.numel()).reshape(tuple(tout.shape))
    _close(list(fn(tg.tensor(cot))), list(tfn(torch.tensor(cot))))
    p, t = tf.jvp(f, tuple(xs), tuple(tg.tensor(a) for a in tans))
    tp, tt = TF.jvp(g, tuple(ys), tuple(torch.tensor(a) for a in tans))
    _close(p, tp)
    _close(t, tt)
    argnums = tuple(range(len(xs)))
    h, th = tf.hessian(scalar(f), argnums)(*xs), TF.hessian(scalar(g), argnums)(*ys)
    _close([list(r) for r in h], [list(r) for r in th])


def test_functional_call_mlp_matches_torch():
    rng = np.random.default_rng(1)
    shapes = {"0.weight": (4, 3), "0.bias": (4,), "2.weight": (2, 4), "2.bias": (2,)}
    params = {k: rng.standard_normal(s) for k, s in shapes.items()}
    x = rng.standard_normal((5, 3))
    tg_net = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.Tanh(), tg.nn.Linear(4, 2)).double()
    th_net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()

    def loss(m, call, net, X):
        return lambda p: (call(net, p, (X,)) ** 2).mean()

    tp = {k: tg.tensor(v) for k, v in params.items()}
    hp = {k: torch.tensor(v) for k, v in params.items()}
    g = tf.grad(loss(tg, tf.functional_call, tg_net, tg.tensor(x)))(tp)
    h = TF.grad(loss(torch, TF.functional_call, th_net, torch.tensor(x)))(hp)
    assert list(g) == list(h)
    for k in shapes:
        _close(g[k], h[k])
    # per-example gradients: vmap over the batch of a grad through functional_call
    per = tf.vmap(tf.grad(lambda p, xi: (tf.functional_call(tg_net, p, (xi[None],)) ** 2).sum()),
                  in_dims=(None, 0))(tp, tg.tensor(x))
    tper = TF.vmap(TF.grad(lambda p, xi: (TF.functional_call(th_net, p, (xi[None],)) ** 2).sum()),
                   in_dims=(None, 0))(hp, torch.tensor(x))
    for k in shapes:
        _close(per[k], tper[k])
