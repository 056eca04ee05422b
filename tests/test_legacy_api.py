"""PyTorch names real programs still carry: legacy constructors and types, ``Tensor.type``, ``__format__``,
``finfo``/``iinfo``, ``accelerator``, ``autograd.Variable``, ``inference_mode``; each compared with torch."""
import warnings

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

# (call, whether its values are defined: uninitialised tensors compare by dtype and shape only)
CONSTRUCTORS = [
    ("Tensor()", True), ("Tensor([1, 2])", True), ("Tensor(np.array([1, 2]))", True),
    ("Tensor(T.ones(2, dtype=T.float64))", True), ("Tensor(2, 3)", False), ("Tensor(T.Size([1, 2]))", False),
    ("Tensor((2, 3))", True), ("Tensor([[1, 2]])", True), ("LongTensor([1.7, -2.2])", True),
    ("FloatTensor(T.ones(2))", True), ("ByteTensor([1, 0])", True), ("BoolTensor([1, 0])", True),
    ("DoubleTensor(2, 1)", False), ("IntTensor(T.Size([2]))", False), ("ShortTensor([3])", True),
    ("CharTensor([-3])", True), ("HalfTensor([0.5])", True), ("LongTensor()", True),
]
REFUSED = ["Tensor(2.5)", "Tensor([1], 2)", "LongTensor(T.ones(2))", "Tensor('ab')"]


def _run(code, lib):
    return eval(code, {"T": lib, "np": np, **{n: getattr(lib, n) for n in (
        "Tensor", "LongTensor", "FloatTensor", "ByteTensor", "BoolTensor", "DoubleTensor", "IntTensor",
        "ShortTensor", "CharTensor", "HalfTensor")}})


@pytest.mark.parametrize("code,defined", CONSTRUCTORS, ids=[c for c, _ in CONSTRUCTORS])
def test_legacy_constructors_match_torch(code, defined):
    got, want = _run(code, tapegrad), _run(code, torch)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(want.shape)
    if defined:
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("code", REFUSED)
def test_legacy_constructors_refuse_what_torch_refuses(code):
    with pytest.raises(TypeError):
        _run(code, torch)
    with pytest.raises(TypeError):
        _run(code, tapegrad)


def test_tensor_of_a_tensor_aliases_its_storage():
    x = tapegrad.ones(2, dtype=tapegrad.float64)
    y = tapegrad.Tensor(x)
    y[0] = 5
    assert x.tolist() == [5.0, 1.0] and y is not x


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"])
def test_type_names_and_isinstance_match_torch(dtype):
    a, b = tapegrad.zeros(2, dtype=getattr(tapegrad, dtype)), torch.zeros(2, dtype=getattr(torch, dtype))
    assert a.type() == b.type()
    for name in ("LongTensor", "FloatTensor", "DoubleTensor", "BoolTensor", "ByteTensor"):
        assert isinstance(a, getattr(tapegrad, name)) == isinstance(b, getattr(torch, name)), name


@pytest.mark.parametrize("target", ["torch.LongTensor", "torch.DoubleTensor", "LongTensor", "int8", "float16"])
def test_type_casts_like_torch(target):
    def conv(lib):
        t = getattr(lib, target) if not target.startswith("torch.") and hasattr(lib, target) else target
        return lib.tensor([1.5, -2.5]).type(t)
    got, want = conv(tapegrad), conv(torch)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_type_to_its_own_type_is_the_tensor_and_bad_names_raise():
    x = tapegrad.ones(2)
    assert x.type(tapegrad.float32) is x
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.NotATensor")
    with pytest.raises(ValueError):
        torch.ones(2).type("torch.NotATensor")


def test_type_keeps_the_gradient_path():
    x = tapegrad.ones(2, requires_grad=True)
    x.type(tapegrad.DoubleTensor).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("value,spec", [(0.123456, ".4f"), (3, ">4"), (2.5, "e"), (True, ""), (-7, "+d"), (1.5, "")])
def test_format_of_a_0d_tensor_is_the_format_of_its_number(value, spec):
    assert format(tapegrad.tensor(value), spec) == format(torch.tensor(value), spec)


def test_format_with_a_spec_refuses_tensors_with_dims_like_torch():
    for lib in (torch, tapegrad):
        with pytest.raises(TypeError):
            format(lib.tensor([1.5]), ".2f")
        assert format(lib.tensor([1.5]), "") == str(lib.tensor([1.5]))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_finfo_matches_torch(dtype):
    a, b = tapegrad.finfo(getattr(tapegrad, dtype)), torch.finfo(getattr(torch, dtype))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert repr(a) == repr(b)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(dtype):
    a, b = tapegrad.iinfo(getattr(tapegrad, dtype)), torch.iinfo(getattr(torch, dtype))
    assert (a.bits, a.max, a.min, a.dtype) == (b.bits, b.max, b.min, b.dtype)
    assert repr(a) == repr(b)


def test_finfo_default_and_errors_like_torch():
    assert tapegrad.finfo() == tapegrad.finfo(tapegrad.float32)
    for call in (lambda L: L.finfo(L.int32), lambda L: L.iinfo(L.float32), lambda L: L.iinfo(L.bool),
                 lambda L: L.finfo("float32")):
        for lib in (torch, tapegrad):
            with pytest.raises(TypeError):
                call(lib)


def test_accelerator_agrees_with_cuda():
    acc = tapegrad.accelerator
    assert acc.is_available() == tapegrad.cuda.is_available()
    assert acc.device_count() == tapegrad.cuda.device_count()
    want = tapegrad.device("cuda") if tapegrad.cuda.is_available() else None
    assert acc.current_accelerator() == want
    assert acc.current_device_index() == 0
    with pytest.raises(RuntimeError, match="index 0"):
        acc.set_device_index(1)


def test_variable_is_a_detached_alias_with_requires_grad_as_given():
    from tapegrad.autograd import Variable
    for lib, V in ((tapegrad, Variable), (torch, torch.autograd.Variable)):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        v = V(y)
        assert (v.requires_grad, v.grad_fn, v is y) == (False, None, False)
        w = V(y, requires_grad=True)
        assert (w.requires_grad, w.is_leaf) == (True, True)
        w.data[0] = 5
        assert y.tolist() == [5.0, 2.0]
        assert isinstance(lib.ones(1), V)
        with pytest.raises(TypeError, match="tensor"):
            V([1, 2])
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            V(lib.ones(1), volatile=True)
        assert any("volatile" in str(r.message) for r in rec)


def test_inference_mode_like_torch():
    for lib in (torch, tapegrad):
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            assert (lib.is_grad_enabled(), lib.is_inference_mode_enabled()) == (False, True)
            assert not (x * 2).requires_grad
        assert (lib.is_grad_enabled(), lib.is_inference_mode_enabled()) == (True, False)
        with lib.inference_mode(False):
            assert (x * 2).requires_grad and not lib.is_inference_mode_enabled()

        @lib.inference_mode
        def bare():
            return lib.is_grad_enabled()

        @lib.inference_mode()
        def called():
            return lib.is_inference_mode_enabled()
        assert (bare(), called(), lib.is_grad_enabled()) == (False, True, True)


def test_tril_triu_in_place_match_torch_with_gradients():
    base = np.arange(12.0).reshape(3, 4)
    outs = []
    for lib in (tapegrad, torch):
        x = lib.tensor(base, requires_grad=True)
        y = x * 1.0
        y.tril_(1).triu_(-1)
        (y * lib.tensor(base)).sum().backward()
        outs.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tapegrad.ones(3).tril()


LAYOUTS = ["x", "x.t()", "x[1:, 1:]", "x[::2]", "x.expand(2, 3, 4)", "x[1]", "x[0, 0]", "x.reshape(-1)[3:]"]


@pytest.mark.parametrize("view", LAYOUTS)
def test_memory_layout_queries_match_torch(view):
    def info(lib):
        x = lib.arange(12.0).reshape(3, 4)
        v = eval(view, {"x": x})
        return (v.stride(), v.storage_offset(), v.element_size(), v.nbytes, v.itemsize, v.ndimension(),
                v.nelement(), v.get_device(), (v.data_ptr() - x.data_ptr()) // 4)
    assert info(tapegrad) == info(torch)


def test_stride_of_a_dim_and_errors_like_torch():
    for lib in (tapegrad, torch):
        x = lib.zeros(3, 4)
        assert x.stride(-1) == 1 and x.stride(0) == 4
        with pytest.raises(IndexError):
            x.stride(2)
        with pytest.raises(IndexError):
            lib.tensor(3.0).stride(0)


@pytest.mark.parametrize("call", ["new_zeros(2, 3)", "new_ones((2,))", "new_full((2,), 7)", "new_tensor([1, 2])",
                                  "new_zeros(2, dtype=T.int64)", "new_empty(3)", "new_ones(1, requires_grad=True)"])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_new_factories_take_the_tensor_dtype_like_torch(call, dtype):
    def make(lib):
        return eval(f"x.{call}", {"x": lib.zeros(1, dtype=getattr(lib, dtype)), "T": lib})
    try:
        want = make(torch)
    except RuntimeError:                      # an integer tensor cannot require grad
        with pytest.raises(RuntimeError, match="floating point"):
            make(tapegrad)
        return
    got = make(tapegrad)
    assert (str(got.dtype).split(".")[-1], tuple(got.shape), got.requires_grad) == \
        (str(want.dtype).split(".")[-1], tuple(want.shape), want.requires_grad)
    if not call.startswith("new_empty"):
        np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())


def test_new_tensor_copies_and_warns_on_a_tensor():
    x = tapegrad.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="detach"):
        y = x.new_tensor(x)
    y[0] = 5
    assert x.tolist() == [1.0, 1.0] and not y.requires_grad


def test_index_put_in_place_matches_torch_with_gradients():
    outs = []
    for lib in (tapegrad, torch):
        x = lib.arange(5.0, requires_grad=True)
        v = lib.tensor([10.0, 20.0, 30.0], requires_grad=True)
        y = x * 1.0
        r = y.index_put_((lib.tensor([0, 0, 3]),), v, accumulate=True)
        assert r is y
        (y * lib.arange(5.0)).sum().backward()
        outs.append((y.detach().numpy(), x.grad.numpy(), v.grad.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
