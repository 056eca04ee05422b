"""Composing the transforms, their levels (no leaks, no perturbation confusion), pytrees, aux and errors."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad import func as tf


def _x():
    return tg.tensor([0.3, -0.7, 1.1], dtype=tg.float64)


def f(x):
    return (x.sin() * x.exp()).sum()


def test_grad_of_grad_is_the_second_derivative():
    x = tg.tensor(0.4, dtype=tg.float64)
    d2 = tf.grad(tf.grad(lambda x: x.sin() * x ** 3))(x)
    v = 0.4
    expect = -np.sin(v) * v ** 3 + 6 * np.cos(v) * v ** 2 + 6 * v * np.sin(v)
    np.testing.assert_allclose(d2.item(), expect, rtol=1e-12)
    d3 = tf.grad(tf.grad(tf.grad(lambda x: x ** 4)))(x)
    np.testing.assert_allclose(d3.item(), 24 * 0.4, rtol=1e-12)


def test_jacrev_of_jacrev_equals_hessian_and_jacfwd_of_jacrev():
    x = _x()
    h1 = tf.jacrev(tf.jacrev(f))(x)
    h2 = tf.hessian(f)(x)
    h3 = tf.jacfwd(tf.jacfwd(f))(x)
    e = np.exp(x.numpy())
    s, c = np.sin(x.numpy()), np.cos(x.numpy())
    np.testing.assert_allclose(h1.numpy(), np.diag(e * (2 * c)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h2.numpy(), h1.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h3.numpy(), h1.numpy(), rtol=1e-12, atol=1e-14)


def test_vmap_of_grad_is_per_row_gradients():
    xs = tg.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    per = tf.vmap(tf.grad(f))(xs)
    for i in range(5):
        np.testing.assert_allclose(per[i].numpy(), tf.grad(f)(xs[i]).numpy(), rtol=1e-14)
    assert tuple(per.shape) == (5, 3)


def test_results_do_not_leak_the_levels_graph():
    x = _x()
    for r in (tf.grad(f)(x), tf.jacrev(tf.jacrev(f))(x), tf.jvp(f, (x,), (tg.ones_like(x),))[1],
              tf.vjp(f, x)[0], tf.hessian(f)(x)):
        assert not r.requires_grad and r.grad_fn is None
    assert not x.requires_grad and x.grad is None


def test_outer_autograd_sees_through_a_transform():
    # torch.func composes with ordinary autograd: a closure over a leaf that requires grad
    w = tg.tensor(1.5, dtype=tg.float64, requires_grad=True)
    x = _x()
    g = tf.grad(lambda x: (w * x ** 2).sum())(x)           # 2 w x
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(w.grad.item(), 2 * x.numpy().sum(), rtol=1e-12)
    # and differentiating with respect to an input that requires grad
    y = _x().requires_grad_()
    tf.grad(f)(y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), tf.hessian(f)(_x()).numpy().sum(0), rtol=1e-12)


def test_nested_levels_keep_perturbations_apart():
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1; confusing the levels gives 2
    x = tg.tensor(3.0, dtype=tg.float64)
    r = tf.grad(lambda x: x * tf.grad(lambda y: x + y)(x))(x)
    assert r.item() == 1.0
    # d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x
    r = tf.grad(lambda x: x * tf.grad(lambda y: x * y)(x))(x)
    assert r.item() == 6.0


def test_argnums_pytrees_and_aux():
    a = tg.tensor([1.0, 2.0], dtype=tg.float64)
    b = {"u": tg.tensor(3.0, dtype=tg.float64), "v": [tg.tensor([0.5, 0.25], dtype=tg.float64)]}

    def h(a, b, scale):
        out = scale * (a * b["u"] + b["v"][0] ** 2).sum()
        return out, {"out": out, "n": 2}
    ga, gb = tf.grad(lambda a, b: h(a, b, 2.0)[0], argnums=(0, 1))(a, b)
    np.testing.assert_allclose(ga.numpy(), [6.0, 6.0])
    assert set(gb) == {"u", "v"} and isinstance(gb["v"], list)
    np.testing.assert_allclose(gb["u"].item(), 6.0)
    np.testing.assert_allclose(gb["v"][0].numpy(), [2.0, 1.0])
    g, aux = tf.grad(h, argnums=1, has_aux=True)(a, b, 2.0)
    assert aux["n"] == 2 and not aux["out"].requires_grad
    np.testing.assert_allclose(aux["out"].item(), 2 * (3 + 6 + 0.25 + 0.0625))
    jac = tf.jacrev(lambda a: {"s": a.sum(), "p": (a * a,)})(a)
    np.testing.assert_allclose(jac["s"].numpy(), [1.0, 1.0])
    np.testing.assert_allclose(jac["p"][0].numpy(), np.diag([2.0, 4.0]))
    out, fn, aux = tf.vjp(lambda a: (a * 2, a.sum()), a, has_aux=True)
    assert fn(tg.ones(2, dtype=tg.float64))[0].tolist() == [2.0, 2.0] and aux.item() == 3.0


def test_unused_inputs_get_zeros():
    a, b = _x(), _x()
    ga, gb = tf.grad(lambda a, b: (a * a).sum(), argnums=(0, 1))(a, b)
    assert gb.tolist() == [0.0, 0.0, 0.0]
    assert tf.grad(lambda a: tg.tensor(1.0, dtype=tg.float64))(a).tolist() == [0.0, 0.0, 0.0]
    assert tf.jacfwd(lambda a, b: b * 2, argnums=0)(a, b).abs().sum().item() == 0.0


def test_errors_name_the_transform_and_what_is_wrong():
    x = _x()
    with pytest.raises(RuntimeError, match="grad_and_value.*scalar Tensor.*1 dims \\(shape \\(3,\\)\\)"):
        tf.grad(lambda x: x * 2)(x)
    with pytest.raises(RuntimeError, match="scalar Tensor, got tensor with 1 dims"):
        tf.grad(lambda x: x.sum(0, keepdim=True))(x)
    with pytest.raises(RuntimeError, match="argnums=3, but only 1 positional"):
        tf.grad(f, argnums=3)(x)
    with pytest.raises(RuntimeError, match="floating point.*int64"):
        tf.grad(lambda x: x.sum())(tg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="output of function f should be a tuple"):
        tf.grad(f, has_aux=True)(x)
    with pytest.raises(RuntimeError, match="same shape"):
        tf.jvp(f, (x,), (tg.ones(2),))
    with pytest.raises(RuntimeError, match="Expected primals and tangents to be tuples"):
        tf.jvp(f, x, x)
    _, fn = tf.vjp(lambda x: x * 2, x)
    with pytest.raises(RuntimeError, match="cotangent has shape \\(2,\\)"):
        fn(tg.ones(2, dtype=tg.float64))


def test_a_no_grad_around_a_transform_detaches_its_results():
    w = tg.tensor(1.5, dtype=tg.float64, requires_grad=True)
    x = _x().requires_grad_()
    with tg.no_grad():
        g = tf.grad(lambda x: (w * x ** 2).sum())(x)
        j = tf.jacrev(lambda x: w * x.sin())(x)
        _, t = tf.jvp(lambda x: w * x.sin(), (x,), (tg.ones_like(x),))
        gg = tf.grad(tf.grad(lambda x: w * x ** 3))(tg.tensor(2.0, dtype=tg.float64))
    for r in (g, j, t, gg):
        assert not r.requires_grad
    np.testing.assert_allclose(g.numpy(), 3.0 * x.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gg.item(), 1.5 * 12.0, rtol=1e-12)
