"""Gradients the engine must refuse or cast: wrong shapes, dtypes, devices and types (PyTorch 2.13 is the oracle)."""
import numpy as np
import pytest

import tapegrad
from tapegrad.ops.registry import OpDef, apply


def _unregistered_op(name, forward, vjp):
    """An op with a deliberately wrong VJP, kept out of the registry (the op_db coverage test reads it)."""
    d = OpDef(name, forward, (), None, False)
    d.promote_args = None
    d.fast = True
    d.scalars = False
    d.nin = 1
    d.vjp(vjp)
    return d


# ----------------------------------------------------------------- sum_to
def test_sum_to_refuses_a_same_size_gradient_of_the_wrong_shape():
    # A permute VJP that forgets to permute back: (3, 2) has as many elements as (2, 3),
    # which sum_to used to reshape silently into wrong numbers.
    bad = _unregistered_op("bad_permute", lambda be, x: be.transpose(x, (1, 0)), lambda F, ctx, g: g)
    x = tapegrad.arange(6.0).reshape(2, 3).requires_grad_()
    y = apply(bad, x)
    with pytest.raises(RuntimeError, match=r"bad_permute.*\(3, 2\).*\(2, 3\)"):
        y.sum().backward()
    assert x.grad is None


def test_sum_to_refuses_a_gradient_with_fewer_dims_or_a_non_broadcast_shape():
    short = _unregistered_op("bad_short", lambda be, x: x * 1, lambda F, ctx, g: F.sum(g, axis=0))
    x = tapegrad.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"bad_short.*\(3,\).*\(2, 3\)"):
        apply(short, x).sum().backward()
    # (4, 1) against an input of (1, 4): same size, only a reshape would "fit" it.
    flip = _unregistered_op("bad_flip", lambda be, x: x * 1, lambda F, ctx, g: F.reshape(g, (4, 1)))
    x = tapegrad.ones(1, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"bad_flip.*\(4, 1\).*\(1, 4\)"):
        apply(flip, x).sum().backward()


@pytest.mark.parametrize("create_graph", [False, True])
def test_sum_to_still_reduces_genuine_broadcasting(create_graph):
    a = tapegrad.ones(3, 1, requires_grad=True)
    b = tapegrad.ones(4, requires_grad=True)
    c = tapegrad.ones(1, requires_grad=True)
    ((a + b) * c * tapegrad.ones(2, 3, 4)).sum().backward(create_graph=create_graph)
    assert a.grad.shape == (3, 1) and a.grad.tolist() == [[8.0]] * 3
    assert b.grad.shape == (4,) and b.grad.tolist() == [6.0] * 4
    assert c.grad.shape == (1,) and c.grad.tolist() == [48.0]
    assert (a.grad.grad_fn is not None) == create_graph


# ----------------------------------------------------------------- assigning .grad
def _both(lib_name):
    lib = tapegrad if lib_name == "tapegrad" else pytest.importorskip("torch")
    return lib


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("make, exc, pattern", [
    (lambda lib: lib.ones(3, dtype=lib.float64), RuntimeError, r"dtype '\w+' to a tensor with.*dtype"),
    (lambda lib: lib.ones(3, dtype=lib.int64), RuntimeError, r"dtype '[\w ]+' to a tensor with.*dtype"),
    (lambda lib: lib.ones(4), RuntimeError, r"gradient of size '\[4\]' to a tensor of size '\[3\]'"),
    (lambda lib: np.ones(3, np.float32), TypeError, r"assigned grad expected to be a Tensor or None"),
    (lambda lib: [1.0, 1.0, 1.0], TypeError, r"assigned grad expected to be a Tensor or None"),
])
def test_assigning_a_wrong_grad_raises_like_torch(lib_name, make, exc, pattern):
    lib = _both(lib_name)
    x = lib.ones(3, requires_grad=True)
    with pytest.raises(exc, match=pattern):
        x.grad = make(lib)
    assert x.grad is None
    x.grad = lib.full((3,), 2.0)             # the right dtype, shape and device is accepted
    assert x.grad.tolist() == [2.0] * 3
    x.grad = None
    assert x.grad is None


def test_assigning_a_grad_on_another_device_raises(monkeypatch):
    from tapegrad._device import device
    x = tapegrad.ones(3, requires_grad=True)
    g = tapegrad.ones(3)
    monkeypatch.setattr(type(g), "device", property(lambda self: device("cuda") if self is g else device("cpu")))
    with pytest.raises(RuntimeError, match=r"device type 'cuda' to a tensor with device type 'cpu'"):
        x.grad = g
    assert x.grad is None


# ----------------------------------------------------------------- tensor hooks
@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("leaf", [True, False])
@pytest.mark.parametrize("hook, exc, pattern", [
    (lambda g: g.double(), RuntimeError, r"hook 'wrong' has changed the type of value"),
    (lambda g: g.sum().reshape(1), RuntimeError, r"hook 'wrong' has changed the size of value"),
    (lambda g: g.sum(), RuntimeError, r"hook 'wrong' has changed the size of value"),
    (lambda g: 1.0, TypeError, r"expected \w+, but hook returned 'float'"),
])
def test_a_hook_returning_a_wrong_gradient_raises_like_torch(lib_name, leaf, hook, exc, pattern):
    lib = _both(lib_name)

    def wrong(g):
        return hook(g)
    x = lib.ones(3, requires_grad=True)
    y = x if leaf else x * 2
    y.register_hook(wrong)
    with pytest.raises(exc, match=pattern):
        (y * 3).sum().backward()
    assert x.grad is None


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_hook_returning_a_gradient_of_the_same_kind_replaces_it(create_graph):
    x = tapegrad.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 10)
    (y * 3).sum().backward(create_graph=create_graph)
    assert x.grad.tolist() == [60.0] * 3


# ----------------------------------------------------------------- seeds and Function results
@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_seed_gradients_are_checked_for_shape_and_cast_to_the_output_dtype(lib_name):
    lib = _both(lib_name)
    x = lib.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"(?i)mismatch in shape: grad_output\[0\]"):
        (x * 2).backward(lib.ones(4))
    with pytest.raises(RuntimeError, match=r"(?i)mismatch in shape: grad_output\[0\]"):
        lib.autograd.grad(x * 2, x, lib.ones(1))
    (x * 2).backward(lib.ones(3, dtype=lib.float64))
    assert x.grad.dtype == lib.float32 and x.grad.tolist() == [2.0] * 3
    (g,) = lib.autograd.grad(x * 2, x, lib.ones(3, dtype=lib.float64))
    assert g.dtype == lib.float32 and g.tolist() == [2.0] * 3


def _fn_class(lib, result):
    class Fn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return result(lib, g)
    return Fn


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("result, pattern", [
    (lambda lib, g: (lib.ones(4), None), r"invalid gradient at index 0 - got \[4\] but expected shape compatible"),
    (lambda lib, g: (lib.ones(1), None), r"invalid gradient at index 0 - got \[1\] but expected shape compatible"),
    (lambda lib, g: (g,), r"incorrect number of gradients \(expected 2, got 1\)"),
    (lambda lib, g: (g, None, g), r"incorrect number of gradients \(expected 2, got 3\)"),
    (lambda lib, g: (np.ones(3), None), r"expected \w+ or None"),
])
def test_function_backward_with_wrong_gradients_raises_like_torch(lib_name, result, pattern):
    lib = _both(lib_name)
    a = lib.ones(3, requires_grad=True)
    b = lib.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=pattern):
        _fn_class(lib, result).apply(a, b).sum().backward()


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_function_backward_gradients_are_cast_and_broadcast_back_like_torch(lib_name):
    lib = _both(lib_name)
    a = lib.ones(3, requires_grad=True)
    b = lib.ones(3, requires_grad=True)
    fn = _fn_class(lib, lambda lib, g: (lib.ones(2, 3, dtype=lib.float64), g.long()))
    fn.apply(a, b).sum().backward()
    assert a.grad.dtype == lib.float32 and a.grad.tolist() == [2.0] * 3
    assert b.grad.dtype == lib.float32 and b.grad.tolist() == [1.0] * 3


@pytest.mark.parametrize("lib", ["tapegrad", "torch"])
@pytest.mark.parametrize("bad", [[1.0, 1.0], "numpy", 3.0])
def test_seed_gradients_must_be_tensors_like_torch(lib, bad):
    torch = pytest.importorskip("torch") if lib == "torch" else None
    m = torch if lib == "torch" else tapegrad
    x = m.ones(2, requires_grad=True)
    y = x * 2
    g = np.ones(2, np.float32) if bad == "numpy" else bad
    # torch says "'float' object is not iterable" for a bare number; tapegrad names the rule
    msg = "gradients can be either Tensors or None" if lib == "tapegrad" or bad != 3.0 else "not iterable"
    with pytest.raises(TypeError, match=msg):
        y.backward(g)
    with pytest.raises(TypeError, match="gradients can be either Tensors or None"):
        m.autograd.grad(y, x, [g])
