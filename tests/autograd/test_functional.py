"""autograd.functional against hand-computed Jacobians and Hessians, with PyTorch's return structure."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import functional as AF


def _t(v):
    return tg.tensor(v, dtype=tg.float64)


def f_vec(x):                       # R^3 -> R^2
    return tg.stack([x[0] * x[1], x[1].sin() + x[2] ** 2])


def jac_vec(x):
    x0, x1, x2 = x
    return np.array([[x1, x0, 0], [0, np.cos(x1), 2 * x2]])


def test_jacobian_single_input_output():
    xv = np.array([0.5, -1.0, 2.0])
    J = AF.jacobian(f_vec, _t(xv))
    assert isinstance(J, tg.Tensor) and J.shape == (2, 3) and not J.requires_grad
    np.testing.assert_allclose(J.numpy(), jac_vec(xv), rtol=1e-12)


def test_jacobian_tuple_structure():
    a, b = _t([1.0, 2.0]), _t(3.0)
    J = AF.jacobian(lambda a, b: a * b, (a, b))
    assert isinstance(J, tuple) and len(J) == 2
    np.testing.assert_allclose(J[0].numpy(), 3 * np.eye(2))
    np.testing.assert_allclose(J[1].numpy(), [1, 2])
    assert J[1].shape == (2,)
    J2 = AF.jacobian(lambda a, b: (a.sum(), a * 0 + b), (a, b))
    assert isinstance(J2, tuple) and all(isinstance(r, tuple) and len(r) == 2 for r in J2)
    np.testing.assert_allclose(J2[0][0].numpy(), [1, 1])
    np.testing.assert_allclose(J2[1][1].numpy(), [1, 1])
    J3 = AF.jacobian(lambda a: (a * 2, a.sum()), a)
    assert isinstance(J3, tuple) and isinstance(J3[0], tg.Tensor)


def test_jacobian_unused_input_zero_or_strict():
    a, b = _t([1.0, 2.0]), _t([3.0])
    J = AF.jacobian(lambda a, b: a * 2, (a, b))
    np.testing.assert_allclose(J[1].numpy(), np.zeros((2, 1)))
    with pytest.raises(RuntimeError, match="independent"):
        AF.jacobian(lambda a, b: a * 2, (a, b), strict=True)


def test_jacobian_create_graph_is_differentiable():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    J = AF.jacobian(lambda x: x ** 3, x, create_graph=True)
    assert J.requires_grad
    (g,) = tg.autograd.grad(J.sum(), x)
    np.testing.assert_allclose(g.numpy(), [6, 12])


def test_hessian_matches_hand_computed():
    xv = np.array([0.3, -0.7])

    def f(x):
        return (x[0] ** 2 * x[1]).exp() + x[1] ** 3

    H = AF.hessian(f, _t(xv))
    a, b = xv
    e = np.exp(a * a * b)
    expected = np.array([[e * (2 * b + 4 * a * a * b * b), e * (2 * a + 2 * a ** 3 * b)],
                         [e * (2 * a + 2 * a ** 3 * b), e * a ** 4 + 6 * b]])
    assert H.shape == (2, 2)
    np.testing.assert_allclose(H.numpy(), expected, rtol=1e-12)


def test_hessian_tuple_inputs():
    a, b = _t([1.0, 2.0]), _t(3.0)
    H = AF.hessian(lambda a, b: (a * a).sum() * b, (a, b))
    np.testing.assert_allclose(H[0][0].numpy(), 6 * np.eye(2))
    np.testing.assert_allclose(H[0][1].numpy(), [2, 4])
    np.testing.assert_allclose(H[1][0].numpy(), [2, 4])
    np.testing.assert_allclose(H[1][1].numpy(), 0)


def test_hessian_requires_scalar_function():
    with pytest.raises(RuntimeError, match="single-element"):
        AF.hessian(lambda x: x * 2, _t([1.0, 2.0]))


def test_vjp_and_jvp_against_jacobian():
    xv = np.array([0.5, -1.0, 2.0])
    v_out, v_in = _t([1.0, -2.0]), _t([0.1, 0.2, 0.3])
    out, vj = AF.vjp(f_vec, _t(xv), v_out)
    np.testing.assert_allclose(out.numpy(), f_vec(_t(xv)).numpy())
    np.testing.assert_allclose(vj.numpy(), np.array([1.0, -2.0]) @ jac_vec(xv), rtol=1e-12)
    out, jv = AF.jvp(f_vec, _t(xv), v_in)
    np.testing.assert_allclose(jv.numpy(), jac_vec(xv) @ np.array([0.1, 0.2, 0.3]), rtol=1e-12)
    assert not jv.requires_grad and not out.requires_grad


def test_vjp_default_v_and_errors():
    out, g = AF.vjp(lambda x: (x * x).sum(), _t([1.0, 2.0]))
    np.testing.assert_allclose(g.numpy(), [2, 4])
    with pytest.raises(RuntimeError, match="v can only be omitted"):
        AF.vjp(lambda x: x * 2, _t([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="shape"):
        AF.vjp(lambda x: x * 2, _t([1.0, 2.0]), _t([1.0]))
    with pytest.raises(TypeError, match="floating point"):
        AF.vjp(lambda x: x * 2, tg.tensor([1, 2]), tg.tensor([1, 2]))


def test_hvp_and_vhp():
    xv = np.array([0.3, -0.7])

    def f(x):
        return (x ** 3).sum() + x[0] * x[1]

    H = np.array([[6 * xv[0], 1.0], [1.0, 6 * xv[1]]])
    v = np.array([1.0, 2.0])
    val, hv = AF.hvp(f, _t(xv), _t(v))
    np.testing.assert_allclose(hv.numpy(), H @ v, rtol=1e-12)
    np.testing.assert_allclose(val.numpy(), f(_t(xv)).numpy())
    _, vh = AF.vhp(f, _t(xv), _t(v))
    np.testing.assert_allclose(vh.numpy(), v @ H, rtol=1e-12)


def test_functional_does_not_touch_input_grads():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    AF.jacobian(lambda x: x * x, x)
    AF.hessian(lambda x: (x ** 3).sum(), x)
    assert x.grad is None
