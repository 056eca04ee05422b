"""In-place ops: values, views, version counters, history rebase, leaf checks, failures leave no trace."""
import numpy as np
import pytest

import tapegrad as tg


@pytest.mark.parametrize("name, args, expected", [
    ("add_", (tg.tensor([1.0, 2.0]),), [2, 4]),
    ("sub_", (1.0,), [0, 1]),
    ("mul_", (3,), [3, 6]),
    ("div_", (2,), [0.5, 1]),
    ("clamp_", (1.5, None), [1.5, 2]),
    ("fill_", (7.0,), [7, 7]),
    ("zero_", (), [0, 0]),
    ("copy_", (tg.tensor([5.0, 6.0]),), [5, 6]),
    ("masked_fill_", (tg.tensor([True, False]), -1.0), [-1, 2]),
])
def test_values_identity_and_version(name, args, expected):
    x = tg.tensor([1.0, 2.0])
    data = x._data
    out = getattr(x, name)(*args)
    assert out is x and x._data is data            # written into the existing array
    np.testing.assert_allclose(x.numpy(), expected)
    assert x._version == [1, name]


def test_add_alpha_and_sub_alpha():
    x = tg.ones(2)
    x.add_(tg.tensor([1.0, 2.0]), alpha=2).sub_(1, alpha=3)
    np.testing.assert_allclose(x.numpy(), [0, 2])
    assert x._version[0] == 2


def test_views_see_the_change_and_share_the_version():
    x = tg.zeros(2, 3)
    v = x.reshape(6)
    x.add_(1.0)
    np.testing.assert_allclose(v.numpy(), np.ones(6))
    assert v._version[0] == 1
    d = x.detach()
    d.fill_(2.0)
    np.testing.assert_allclose(x.numpy(), np.full((2, 3), 2.0))


def test_int_tensor_keeps_dtype_and_refuses_float_results():
    a = tg.tensor([1, 2])
    a.mul_(3)
    assert a.dtype is tg.int64 and a.tolist() == [3, 6]
    with pytest.raises(RuntimeError, match="can't be cast"):
        a.add_(1.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        a.div_(2)
    assert a.tolist() == [3, 6] and a._version[0] == 1
    a.fill_(2.7)                            # fill_/copy_ cast, like PyTorch
    assert a.tolist() == [2, 2]


def test_float32_stays_float32():
    x = tg.ones(2)
    x.add_(tg.ones(2, dtype=tg.float64))
    assert x.dtype is tg.float32


def test_shape_mismatch_leaves_tensor_unchanged():
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="add_"):
        x.add_(tg.ones(3))
    with pytest.raises(RuntimeError, match=r"doesn't match the broadcast shape"):
        x.mul_(tg.ones(2, 2))
    assert x.tolist() == [1.0, 2.0] and x._version[0] == 0


def test_in_place_on_leaf_requiring_grad_raises():
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1.0)
    assert w.tolist() == [1.0, 1.0] and w._version[0] == 0


def test_in_place_on_leaf_allowed_under_no_grad():
    w = tg.ones(2, requires_grad=True)
    w.sum().backward()
    with tg.no_grad():
        w.sub_(w.grad, alpha=0.5)
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 0.5])


def test_rebase_history_on_non_leaf():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = x * 2
    old = y.grad_fn
    y.mul_(x)                       # y = 2x * x
    assert y.grad_fn is not old and y.grad_fn.next_functions[0][0] is old
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 8])


def test_vjp_sees_pre_modification_values():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = x + 0
    y.mul_(y)                       # y = x^2 computed from the old y
    y.div_(x)                       # y = x
    y.clamp_(-10, 10)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1])


def test_in_place_with_grad_requiring_operand_on_plain_tensor():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    buf = tg.zeros(2)
    buf.add_(x * 3)
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_fill_and_copy_gradients():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    src = tg.tensor([3.0, 4.0], requires_grad=True)
    y = x * 1
    y.copy_(src * 2)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0])
    np.testing.assert_allclose(src.grad.numpy(), [24, 32])
    z = x * 1
    z.zero_()
    z.masked_fill_(tg.tensor([True, False]), 5.0)
    np.testing.assert_allclose(z.detach().numpy(), [5, 0])


def test_modifying_saved_input_raises_naming_both_ops():
    x = tg.ones(3, requires_grad=True)
    y = x * 2
    z = y * y                       # multiply saves y
    y.add_(1.0)
    with pytest.raises(RuntimeError, match=r"(?s)add_.*multiply.*version 1; expected version 0"):
        z.sum().backward()


def test_modifying_saved_output_raises():
    x = tg.ones(3, requires_grad=True)
    y = x.exp()                     # exp saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"(?s)mul_.*exp"):
        y.sum().backward()


def test_modification_after_backward_of_that_graph_is_fine():
    x = tg.ones(3, requires_grad=True)
    y = x * 2
    (y * y).sum().backward()
    y.add_(1.0)
    np.testing.assert_allclose(y.detach().numpy(), [3, 3, 3])


def test_in_place_on_recorded_view_rebases_the_base():
    # Note [copy slices]: was refused; now the base's history takes the write
    # (tests/autograd/test_inplace_views_torch.py)
    x = tg.ones(2, 2, requires_grad=True)
    y = x * 1
    v = y.reshape(4)
    v.mul_(3.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3, 3], [3, 3]])
