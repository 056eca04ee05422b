"""Slice steps that are not Python ints: NumPy integers and 0-d integer tensors index like an int, a float
step is refused naming the value (PyTorch 2.13 is the oracle)."""
import importlib

import numpy as np
import pytest


def _lib(name):
    return pytest.importorskip("torch") if name == "torch" else importlib.import_module(name)


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("step", [1.0, 2.0, 1.5])
def test_a_float_slice_step_is_refused(lib_name, step):
    lib = _lib(lib_name)
    x = lib.arange(6.0, requires_grad=True)
    pattern = "slice indices must be integers or None or have an __index__ method"
    with pytest.raises(TypeError, match=pattern + (f", got {step!r}" if lib_name == "tapegrad" else "")):
        x[::step]
    with pytest.raises(TypeError, match=pattern):
        x[1:5:step]


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_an_integer_like_slice_step_indexes_like_an_int(lib_name, kind):
    lib = _lib(lib_name)
    x = lib.arange(12.0).reshape(3, 4).requires_grad_()
    step = np.int64(2) if kind == "numpy" else lib.tensor(2)
    y = x[:, 1::step]
    assert y.tolist() == x[:, 1::2].tolist() == [[1.0, 3.0], [5.0, 7.0], [9.0, 11.0]]
    (y * y).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0, 0.0, 6.0], [0.0, 10.0, 0.0, 14.0], [0.0, 18.0, 0.0, 22.0]]
