"""The dtype list (float16, uint8, int8, int16 next to float32/64, int32/64, bool): storage and label
agree from creation through ops, dtypes PyTorch lacks are refused by name, and integer edge cases
(division by zero, ints past int64) raise as in PyTorch. Expected values come from torch."""
import re

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

NEW = [tg.float16, tg.uint8, tg.int8, tg.int16]
ALL = [tg.bool, tg.uint8, tg.int8, tg.int16, tg.int32, tg.int64, tg.float16, tg.float32, tg.float64]


def tdt(d):
    return getattr(torch, d.name)


def same(ours, theirs):
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    assert ours.numpy().dtype == ours.dtype.np          # the storage is what the label says
    if ours.dtype.is_floating_point:                 # float math may round differently in the last bit
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6 if ours.dtype.itemsize > 2 else 2e-3)
    else:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_public_names_and_aliases():
    assert (tg.half, tg.short) == (tg.float16, tg.int16)
    assert [d.name for d in NEW] == ["float16", "uint8", "int8", "int16"]
    assert not tg.uint8.is_signed and tg.int8.is_signed and tg.float16.is_floating_point
    x = tg.tensor([1.5, -2.0])
    for meth, d in (("half", tg.float16), ("byte", tg.uint8), ("char", tg.int8), ("short", tg.int16)):
        same(getattr(x, meth)(), getattr(torch.tensor([1.5, -2.0]), meth)())
        assert getattr(x, meth)().dtype is d


@pytest.mark.parametrize("d", ALL, ids=str)
def test_from_numpy_keeps_dtype_and_shares_memory(d):
    a = np.array([1, 0, 2]).astype(d.np)
    t = tg.from_numpy(a)
    assert t.dtype is d
    a[0] = 0
    assert t.tolist()[0] == 0


def test_narrow_storage_arithmetic_matches_torch():
    # the example: the label said int64 while the uint8 storage wrapped
    a = np.array([200], np.uint8)
    same(tg.from_numpy(a.copy()).add_(100), torch.from_numpy(a.copy()).add_(100))
    b = np.array([100, -100], np.int8)
    same(tg.from_numpy(b.copy()) * 2, torch.from_numpy(b.copy()) * 2)
    h = np.array([60000, 1], np.float16)
    same(tg.from_numpy(h.copy()) + tg.from_numpy(h.copy()), torch.from_numpy(h.copy()) + torch.from_numpy(h.copy()))


@pytest.mark.parametrize("d", NEW, ids=str)
def test_creation_with_each_new_dtype(d):
    td = tdt(d)
    same(tg.tensor([1, 2], dtype=d), torch.tensor([1, 2], dtype=td))
    same(tg.as_tensor(np.array([1.0, 2.0]), dtype=d), torch.as_tensor(np.array([1.0, 2.0]), dtype=td))
    same(tg.zeros(2, dtype=d), torch.zeros(2, dtype=td))
    same(tg.ones(2, 3, dtype=d), torch.ones(2, 3, dtype=td))
    same(tg.full((2,), 7, dtype=d), torch.full((2,), 7, dtype=td))
    same(tg.arange(5, dtype=d), torch.arange(5, dtype=td))
    same(tg.tensor([1.7, 3.2]).to(d), torch.tensor([1.7, 3.2]).to(td))
    same(tg.ones(2, dtype=d).to(tg.float64), torch.ones(2, dtype=td).to(torch.float64))
    assert tg.zeros_like(tg.ones(2, dtype=d)).dtype is d


@pytest.mark.parametrize("npd", [np.uint16, np.uint32, np.uint64, np.complex64, np.complex128, object, "U3",
                                 "datetime64[s]"], ids=str)
def test_numpy_dtypes_pytorch_lacks_are_refused_by_name(npd):
    a = np.array([1, 2]).astype(npd)
    name = re.escape(np.dtype(npd).name)
    for fn in (tg.from_numpy, tg.tensor, tg.as_tensor):
        with pytest.raises(TypeError, match=rf"{fn.__name__}: unsupported NumPy dtype {name}.*supported dtypes are "
                                            r"bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64"):
            fn(a)
    with pytest.raises(TypeError, match=rf"add\(\): argument 2: unsupported NumPy dtype {name}"):
        tg.ones(2) + a
    with pytest.raises(TypeError, match="unsupported dtype"):
        tg.zeros(2, dtype=npd)


def test_explicit_dtype_converts_a_numpy_dtype_pytorch_lacks():
    a = np.array([1, 70000], np.uint32)
    same(tg.tensor(a, dtype=tg.int64), torch.tensor(a.astype(np.int64)))


def test_float16_math_stays_float16_as_on_pytorch_cpu():
    v = np.array([0.5, 1.5, -2.25], np.float16)
    x, tx = tg.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    y, ty = (x.exp() * x).sum() + (x @ x) / 3, (tx.exp() * tx).sum() + (tx @ tx) / 3
    assert y.dtype is tg.float16
    np.testing.assert_allclose(y.item(), ty.item(), rtol=2e-3)
    y.backward()
    ty.backward()
    assert x.grad.dtype is tg.float16
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=2e-3)
    for f in (lambda m, t: t.mean(), lambda m, t: t.var(), lambda m, t: m.tanh(t), lambda m, t: t * 2.5,
              lambda m, t: t + 1e6, lambda m, t: m.erf(t), lambda m, t: m.nn.functional.gelu(t)):
        out, want = f(tg, tg.tensor(v)), f(torch, torch.tensor(v))
        assert out.dtype is tg.float16
        np.testing.assert_allclose(out.numpy().astype(float), want.numpy().astype(float), rtol=2e-3)


@pytest.mark.parametrize("d", [tg.uint8, tg.int8, tg.int16], ids=str)
def test_narrow_integer_reductions_and_casts_match_torch(d):
    a = np.array([250, 100, 7]).astype(d.np)
    for f in (lambda t: t.sum(), lambda t: t.prod(), lambda t: t.max(), lambda t: t.argmax(), lambda t: t.exp(),
              lambda t: t / 2, lambda t: t // 3, lambda t: t % 3, lambda t: t.abs(), lambda t: t.float()):
        same(f(tg.from_numpy(a.copy())), f(torch.from_numpy(a.copy())))


# ------------------------------------------------------------ integer edge cases (issue item 7)

@pytest.mark.parametrize("d", [tg.int64, tg.int32, tg.int8, tg.uint8], ids=str)
def test_integer_division_by_zero_raises_like_torch(d):
    cases = [lambda m, x: x // 0, lambda m, x: x % 0, lambda m, x: x // m.tensor([1, 0], dtype=x.dtype),
             lambda m, x: m.remainder(x, m.tensor(0)), lambda m, x: x.div(0, rounding_mode="floor"),
             lambda m, x: x.div(0, rounding_mode="trunc"), lambda m, x: x.div_(0, rounding_mode="floor"),
             lambda m, x: 5 // m.tensor([0, 1], dtype=x.dtype)]
    for f in cases:
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f(torch, torch.tensor([4, 2], dtype=tdt(d)))
        x = tg.tensor([4, 2], dtype=d)
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            f(tg, x)
        assert x.tolist() == [4, 2]                     # an in-place variant leaves the tensor unchanged


def test_float_division_by_zero_is_still_inf_and_bool_floor_divide_is_refused():
    same(tg.tensor([1.0, -1.0]) // 0, torch.tensor([1.0, -1.0]) // 0)
    with pytest.raises(NotImplementedError, match="floor_divide.*Bool"):
        tg.tensor([True]) // tg.tensor([True])


def test_integer_trunc_division_is_exact():
    a = [-7, 7, -6, 2 ** 40 + 1]
    for b in (2, -2, 1):
        same(tg.tensor(a).div(b, rounding_mode="trunc"), torch.tensor(a).div(b, rounding_mode="trunc"))
    same(tg.tensor(a, dtype=tg.int64).div(tg.tensor(2, dtype=tg.int8), rounding_mode="trunc"),
         torch.tensor(a).div(torch.tensor(2, dtype=torch.int8), rounding_mode="trunc"))


@pytest.mark.parametrize("data", [[2 ** 63], 2 ** 63, [1, 2 ** 64], [[1], [-2 ** 63 - 1]]], ids=str)
def test_python_ints_past_int64_raise_naming_the_value(data):
    with pytest.raises((ValueError, RuntimeError), match="Overflow"):
        torch.tensor(data)
    with pytest.raises(ValueError, match=r"tensor: Overflow when unpacking long.*-?\d{19}") as e:
        tg.tensor(data)
    assert isinstance(e.value, RuntimeError)        # older PyTorch raised RuntimeError: both catch it


def test_op_with_int_past_int64_names_the_op():
    for f in (lambda: tg.ones(2, dtype=tg.int64) + 2 ** 63, lambda: tg.ones(2, dtype=tg.int8) * (-2 ** 63 - 1),
              lambda: tg.ones(2, dtype=tg.int32) - 2 ** 64):
        with pytest.raises(RuntimeError, match=r"(add|multiply|subtract): Overflow when unpacking long: the "
                                               r"Python int -?\d+ does not fit in int64"):
            f()
    same(tg.ones(2) + 2 ** 63, torch.ones(2) + 2 ** 63)      # a float result takes it, as in PyTorch


@pytest.mark.parametrize("d", [tg.int32, tg.int16, tg.int8, tg.uint8], ids=str)
@pytest.mark.parametrize("s", [2 ** 40, 300, -1, -(2 ** 40) - 3], ids=str)
def test_int_scalar_wraps_into_a_narrow_int_tensor_as_in_torch(d, s):
    for f in (lambda t: t + s, lambda t: t * s, lambda t: t == s, lambda t: t < s, lambda t: s - t,
              lambda t: t.clone().add_(s)):
        same(f(tg.tensor([1, 44, 3], dtype=d)), f(torch.tensor([1, 44, 3], dtype=tdt(d))))


@pytest.mark.parametrize("d,v", [(tg.uint8, 300), (tg.uint8, -256), (tg.int8, -129), (tg.int32, 2 ** 40),
                                 (tg.int64, 1e20)], ids=str)
def test_creation_value_overflowing_the_dtype_raises_like_torch(d, v):
    with pytest.raises(RuntimeError, match="cannot be converted to type"):
        torch.tensor([v], dtype=tdt(d))
    msg = rf"tensor: value {re.escape(repr(v))} cannot be converted to type {d.name} without overflow"
    with pytest.raises(RuntimeError, match=msg):
        tg.tensor([1, v], dtype=d)
    with pytest.raises(RuntimeError, match="full: .*cannot be converted"):
        tg.full((2,), v, dtype=d)
    same(tg.full((2,), -1, dtype=tg.uint8), torch.full((2,), -1, dtype=torch.uint8))     # -max..max wraps
    same(tg.tensor([-255, 255], dtype=tg.uint8), torch.tensor([-255, 255], dtype=torch.uint8))


# ------------------------------------------------------------ non-tensor arguments

@pytest.mark.parametrize("call,op,typ", [
    (lambda m: m.exp(None), "exp", "NoneType"),
    (lambda m: m.add(m.ones(2), "a"), "add", "str"),
    (lambda m: m.exp([1, 2]), "exp", "list"),
    (lambda m: m.add(m.ones(2), [1, 2]), "add", "list"),
    (lambda m: m.mul(m.ones(2), (1, 2)), "multiply", "tuple"),
    (lambda m: m.sub(m.ones(2), object()), "subtract", "object"),
], ids=["exp-None", "add-str", "exp-list", "add-list", "mul-tuple", "sub-object"])
def test_non_tensor_arguments_raise_a_type_error_naming_op_and_type(call, op, typ):
    with pytest.raises(TypeError, match=f"must be Tensor, not {typ}"):
        call(torch)
    with pytest.raises(TypeError, match=rf"^{op}\(\): argument '\w+' \(position \d\) must be Tensor, not {typ}"):
        call(tg)


def test_in_place_float_result_into_an_int_tensor_raises_with_torchs_message():
    x = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="add_: result type Float can't be cast to the desired output type Long"):
        x.add_(1.5)
    assert x.tolist() == [1, 2]
    y = tg.tensor([1.0, 2.0])
    same(y.add_(tg.tensor([1, 2])), torch.tensor([1.0, 2.0]).add_(torch.tensor([1, 2])))


def test_clamp_and_masked_fill_follow_torch():
    same(tg.tensor([1, 5], dtype=tg.int8).clamp(0.5), torch.tensor([1, 5], dtype=torch.int8).clamp(0.5))
    same(tg.tensor([1, 5]).clamp(2, 3), torch.tensor([1, 5]).clamp(2, 3))
    same(tg.tensor([1, 2]).masked_fill(tg.tensor([True, False]), 2.5),
         torch.tensor([1, 2]).masked_fill(torch.tensor([True, False]), 2.5))


@pytest.mark.parametrize("d,v", [(tg.int8, 300), (tg.int8, -129), (tg.uint8, -256), (tg.int64, 2 ** 63),
                                 (tg.int8, -1), (tg.uint8, -1)], ids=str)
def test_a_python_int_as_an_element_must_fit_the_integer_dtype(d, v):
    """where/masked_fill/fill_ put the value in as an element: PyTorch refuses one that overflows
    (an unsigned dtype takes down to -max, wrapping), where arithmetic would wrap it."""
    cases = [lambda m, t: m.where(t > 1, t, v), lambda m, t: m.where(t > 1, v, t), lambda m, t: t.masked_fill(t > 1, v),
             lambda m, t: t.clone().fill_(v)]
    for f in cases:
        t, tt = tg.tensor([1, 2], dtype=d), torch.tensor([1, 2], dtype=tdt(d))
        try:
            want = f(torch, tt)
        except RuntimeError:
            with pytest.raises(RuntimeError, match=r"cannot be converted to type|Overflow when unpacking long"):
                f(tg, t)
            assert t.tolist() == [1, 2]
            continue
        same(f(tg, t), want)
