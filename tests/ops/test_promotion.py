"""PyTorch's type promotion at the dispatch point (ops/registry.py ``apply``).

Dimensioned tensors outrank 0-dim tensors, which outrank Python numbers; a
lower-priority operand only matters when its category (bool < int < float) is
higher. Expected dtypes below were checked against PyTorch.
"""
import numpy as np
import pytest

import tapegrad as tg


def f32(*shape):
    return tg.ones(*shape)


def i64(*shape):
    return tg.ones(*shape, dtype=tg.int64)


def i32(*shape):
    return tg.ones(*shape, dtype=tg.int32)


def bools(*shape):
    return tg.ones(*shape, dtype=tg.bool)


def f64_0d():
    return tg.tensor(1.0, dtype=tg.float64)


CASES = {
    "float32 tensor * float stays float32": (lambda: f32(2) * 2.5, tg.float32),
    "float * float32 tensor stays float32": (lambda: 2.5 * f32(2), tg.float32),
    "float32 tensor * int stays float32": (lambda: f32(2) * 3, tg.float32),
    "int tensor + float is the default float": (lambda: i64(2) + 1.5, tg.float32),
    "float - int tensor is the default float": (lambda: 1.5 - i32(2), tg.float32),
    "int tensor + int keeps the tensor's int": (lambda: i32(2) * 2, tg.int32),
    "int32 + int64 tensors": (lambda: i32(2) + i64(2), tg.int64),
    "0-dim float64 with a float32 tensor": (lambda: f64_0d() * f32(3), tg.float32),
    "float32 tensor with a 0-dim float64": (lambda: f32(3) + f64_0d(), tg.float32),
    "0-dim float64 with an int tensor (higher category)": (lambda: i64(3) * f64_0d(), tg.float64),
    "0-dim int32 with a 0-dim int64": (lambda: tg.tensor(1, dtype=tg.int32) + tg.tensor(1), tg.int64),
    "bool tensor + int": (lambda: bools(2) + 1, tg.int64),
    "bool tensor + int32 tensor": (lambda: bools(2) + i32(2), tg.int32),
    "bool tensor * True stays bool": (lambda: bools(2) * True, tg.bool),
    "int tensor / int is the default float": (lambda: i64(2) / 2, tg.float32),
    "int / int tensor is the default float": (lambda: 2 / i64(2), tg.float32),
    "int tensor // int stays int": (lambda: i64(2) // 2, tg.int64),
    "int tensor % int stays int": (lambda: i64(2) % 3, tg.int64),
    "int tensor % float is float32": (lambda: i64(2) % 2.5, tg.float32),
    "int tensor ** int stays int": (lambda: i64(2) ** 2, tg.int64),
    "int tensor ** float is float32": (lambda: i64(2) ** 2.0, tg.float32),
    "int ** int tensor stays int": (lambda: 2 ** i64(2), tg.int64),
    "exp of an int tensor is float32": (lambda: tg.exp(i64(2)), tg.float32),
    "where keeps the branches' dtype": (lambda: tg.where(bools(2), i32(2), 1.5), tg.float32),
    "float32 tensor + float64 array": (lambda: f32(2) + np.ones(2), tg.float64),
    "float64 array + float32 tensor": (lambda: np.ones(2) + f32(2), tg.float64),
    "float32 tensor * float32 array": (lambda: f32(2) * np.ones(2, np.float32), tg.float32),
    "int32 array + int64 tensor": (lambda: np.ones(2, np.int32) + i64(2), tg.int64),
    "int tensor + NumPy float64 scalar acts as a Python float": (lambda: i64(2) + np.float64(2.5), tg.float32),
    "NumPy float32 scalar * float32 tensor": (lambda: np.float32(2) * f32(2), tg.float32),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_result_dtype(case):
    fn, want = CASES[case]
    out = fn()
    assert isinstance(out, tg.Tensor), f"{case}: got {type(out).__name__}"
    assert out.dtype is want, f"{case}: got {out.dtype}, expected {want}"


@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
@pytest.mark.parametrize("other", [0.5, 1, np.float32(1.0)], ids=["float", "int", "numpy-scalar"])
def test_comparisons_return_bool_without_grad(op, other):
    x = tg.tensor([0.0, 1.0, 2.0], requires_grad=True)
    out = getattr(x, op)(other)
    assert out.dtype is tg.bool
    assert not out.requires_grad and out.grad_fn is None
    out = getattr(x, op)(tg.tensor([1.0, 1.0, 1.0], dtype=tg.float64, requires_grad=True))
    assert out.dtype is tg.bool and not out.requires_grad


@pytest.mark.parametrize("dtype", [tg.int64, tg.int32, tg.bool])
def test_requires_grad_on_a_non_float_tensor_raises(dtype):
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 0], dtype=dtype, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.zeros(2, dtype=dtype).requires_grad_()


def test_gradients_come_back_in_each_inputs_dtype():
    a = tg.ones(3, requires_grad=True)
    b = tg.tensor(2.0, dtype=tg.float64, requires_grad=True)
    out = a * b
    assert out.dtype is tg.float32
    out.sum().backward()
    assert a.grad.dtype is tg.float32 and b.grad.dtype is tg.float64
    assert b.grad.item() == 3.0 and a.grad.tolist() == [2.0, 2.0, 2.0]


def test_python_scalar_keeps_float32_through_backward():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 0.1 + 2.5) ** 2 / 3.0
    y.sum().backward()
    assert y.dtype is tg.float32 and x.grad.dtype is tg.float32


# ----------------------------------------------------------------- float16 against torch
# float16 is a floating-point dtype that promotes like PyTorch's: below float32, above ints, kept by Python
# scalars and by 0-d tensors of its category.
def _lib16(name):
    return pytest.importorskip("torch") if name == "torch" else tg


def _name16(dtype):
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_float16_is_a_signed_floating_point_dtype(lib_name):
    lib = _lib16(lib_name)
    h = lib.ones(2, dtype=lib.float16)
    assert lib.float16.is_floating_point and lib.float16.is_signed
    assert h.is_floating_point()


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("expr, want", [
    (lambda lib, h: h + lib.ones(2, dtype=lib.float32), "float32"),
    (lambda lib, h: lib.ones(2, dtype=lib.float32) + h, "float32"),
    (lambda lib, h: h * lib.ones(2, dtype=lib.float64), "float64"),
    (lambda lib, h: lib.ones(2, dtype=lib.int64) + h, "float16"),
    (lambda lib, h: h / lib.ones(2, dtype=lib.int32), "float16"),
    (lambda lib, h: h + 1.5, "float16"),
    (lambda lib, h: h * 2, "float16"),
    (lambda lib, h: h + lib.tensor(2.0, dtype=lib.float64), "float16"),   # a 0-d tensor of the same category
    (lambda lib, h: lib.tensor(2.0, dtype=lib.float16) + lib.ones(2, dtype=lib.int64), "float16"),
    (lambda lib, h: lib.promote_types(lib.float16, lib.float64), "float64"),
    (lambda lib, h: lib.promote_types(lib.int16, lib.float16), "float16"),
])
def test_float16_promotion(lib_name, expr, want):
    lib = _lib16(lib_name)
    got = expr(lib, lib.ones(2, dtype=lib.float16))
    assert _name16(got if not hasattr(got, "dtype") else got.dtype) == want
