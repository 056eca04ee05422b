"""gradcheck/gradgradcheck raise on a mismatch unless told not to, like PyTorch (the oracle)."""
import importlib

import pytest


def _lib(name):
    return pytest.importorskip("torch") if name == "torch" else importlib.import_module(name)


def _square(lib, backward):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return backward(g, x)
    return Square.apply


def _wrong_square(lib):
    return _square(lib, lambda g, x: 3 * g * x)             # the true derivative is 2 * x


def _detached_square(lib):
    return _square(lib, lambda g, x: 2 * g * x.detach())    # right first derivative, no second one


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_gradcheck_raises_by_default_on_a_wrong_backward(lib_name):
    lib = _lib(lib_name)
    x = lib.tensor([0.5, -1.25, 2.0], dtype=lib.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
        lib.autograd.gradcheck(_wrong_square(lib), (x,))
    assert lib.autograd.gradcheck(_wrong_square(lib), (x,), raise_exception=False) is False


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_gradgradcheck_raises_by_default_on_a_wrong_double_backward(lib_name):
    lib = _lib(lib_name)
    x = lib.tensor([0.5, -1.25, 2.0], dtype=lib.float64, requires_grad=True)
    assert lib.autograd.gradcheck(_detached_square(lib), (x,))
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        lib.autograd.gradgradcheck(_detached_square(lib), (x,))
    assert lib.autograd.gradgradcheck(_detached_square(lib), (x,), raise_exception=False) is False


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("n_out", [3, 2])
def test_gradcheck_passes_on_a_non_symmetric_jacobian(lib_name, n_out):
    # a square non-symmetric Jacobian catches a transposed numerical block; a non-square one, a mis-shaped one
    lib = _lib(lib_name)
    w = lib.tensor([[1.0, 2.0, -3.0], [0.5, -1.0, 4.0], [2.5, 0.0, 1.5]][:n_out], dtype=lib.float64)
    x = lib.tensor([0.3, -0.7, 1.1], dtype=lib.float64, requires_grad=True)
    assert lib.autograd.gradcheck(lambda t: (w @ t).sin(), (x,))
    assert lib.autograd.gradcheck(lambda t, u: (w @ t) * u.sum(), (x, x.detach()[:2].clone().requires_grad_()))


def test_gradcheck_reports_the_worst_element_with_analytical_and_numerical_in_place():
    tapegrad = _lib("tapegrad")
    x = tapegrad.tensor([0.5, -1.25, 2.0], dtype=tapegrad.float64, requires_grad=True)
    # d/dx is 6.0 by the wrong backward at x = 2 and 4.0 by finite differences: the largest excess
    with pytest.raises(RuntimeError, match=r"worst element \[output element 2, input element 2\]: "
                                           r"analytical 6\.0 vs numerical (3\.99999|4\.0)\d*") as e:
        tapegrad.autograd.gradcheck(_wrong_square(tapegrad), (x,))
    numerical, analytical = str(e.value).split("numerical:\n")[1].split("\nanalytical:\n")
    assert "4." in numerical and "6." not in numerical and "6." in analytical
