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
