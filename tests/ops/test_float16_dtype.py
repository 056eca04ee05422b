"""float16 is a floating-point dtype that promotes like PyTorch's (the oracle): below float32, above ints, kept by
Python scalars and by 0-d tensors of its category."""
import importlib

import pytest


def _lib(name):
    return pytest.importorskip("torch") if name == "torch" else importlib.import_module(name)


def _name(dtype):
    return str(dtype).split(".")[-1]


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_float16_is_a_signed_floating_point_dtype(lib_name):
    lib = _lib(lib_name)
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
    lib = _lib(lib_name)
    got = expr(lib, lib.ones(2, dtype=lib.float16))
    assert _name(got if not hasattr(got, "dtype") else got.dtype) == want
