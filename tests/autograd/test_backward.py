"""Autograd API semantics: accumulation, retain_graph, hooks, retain_grad, leaf/non-leaf, autograd.grad."""
import numpy as np
import pytest

import tapegrad as tg


def _leaf(values, dtype=tg.float64):
    return tg.tensor(values, dtype=dtype, requires_grad=True)


def test_grad_accumulates_across_backward_calls():
    x = _leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_zeroing_grad_restarts_accumulation():
    x = _leaf([1.0, 2.0])
    (x * x).sum().backward()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_grad_dtype_and_no_history():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.dtype is tg.float32
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_retain_graph_allows_second_backward():
    x = _leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 8])


def test_second_backward_without_retain_graph_raises():
    x = _leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_saved_values_released_after_backward():
    x = _leaf([1.0, 2.0])
    y = x * x
    node = y.grad_fn
    assert node.saved
    y.sum().backward()
    assert node.saved is None


def test_retained_graph_keeps_saved_values():
    x = _leaf([1.0, 2.0])
    y = x * x
    y.sum().backward(retain_graph=True)
    assert y.grad_fn.saved


def test_backward_on_non_scalar_without_gradient_raises():
    x = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()


def test_backward_with_explicit_gradient():
    x = _leaf([1.0, 2.0])
    (x * x).backward(tg.tensor([1.0, 10.0], dtype=tg.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2, 40])


def test_gradient_shape_mismatch_raises():
    x = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(tg.ones(3, dtype=tg.float64))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.ones(2).sum().backward()


def test_leaf_and_non_leaf_flags_and_grads():
    x = _leaf([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and not y.is_leaf
    assert y.requires_grad and y.grad_fn is not None
    (y * y).sum().backward()
    assert y.grad is None                 # non-leaf grads are not kept by default
    np.testing.assert_allclose(x.grad.numpy(), [8, 16])
    assert tg.ones(2).is_leaf


def test_retain_grad_keeps_non_leaf_grad():
    x = _leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [4, 8])


def test_requires_grad_on_integer_tensor_raises():
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2], requires_grad=True)


def test_leaf_hook_modifies_grad_and_can_be_removed():
    x = _leaf([1.0, 2.0])
    seen = []
    h = x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20, 40])
    np.testing.assert_allclose(seen[0], [2, 4])
    h.remove()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])
    assert len(seen) == 1


def test_non_leaf_hook_changes_what_flows_upstream():
    x = _leaf([1.0, 2.0])
    y = x * 3
    y.register_hook(lambda g: g * 0 + 1)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_hook_returning_none_keeps_grad():
    x = _leaf([1.0])
    x.register_hook(lambda g: None)
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5])


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="hook"):
        tg.ones(2).register_hook(lambda g: g)


def test_detach_shares_storage_and_version():
    x = _leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d.add_(1.0)
    np.testing.assert_allclose(x.detach().numpy(), [2, 3])
    assert x._version[0] == d._version[0] == 1


def test_detached_modification_is_caught_at_backward():
    x = _leaf([1.0, 2.0])
    y = x.exp()
    y.detach().mul_(2)
    with pytest.raises(RuntimeError, match="mul_"):
        y.sum().backward()


def test_autograd_grad_returns_tuple_without_touching_grad():
    x = _leaf([1.0, 2.0])
    (g,) = tg.autograd.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(g.numpy(), [3, 12])
    assert x.grad is None


def test_autograd_grad_unused_input():
    x, z = _leaf([1.0]), _leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.autograd.grad((x * 2).sum(), [x, z])
    gx, gz = tg.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None
    np.testing.assert_allclose(gx.numpy(), [2])


def test_autograd_grad_outputs():
    x = _leaf([1.0, 2.0])
    (g,) = tg.autograd.grad(x * x, x, grad_outputs=tg.tensor([3.0, 5.0], dtype=tg.float64))
    np.testing.assert_allclose(g.numpy(), [6, 20])


@pytest.mark.parametrize("f, d1, d2", [
    (lambda x: x.sin() * x, lambda x: np.cos(x) * x + np.sin(x), lambda x: -np.sin(x) * x + 2 * np.cos(x)),
    (lambda x: (x * x).exp(), lambda x: 2 * x * np.exp(x * x), lambda x: (2 + 4 * x * x) * np.exp(x * x)),
    (lambda x: x.tanh() / (1 + x * x), None, None),
    (lambda x: (x ** 3).log(), lambda x: 3 / x, lambda x: -3 / x ** 2),
])
def test_grad_of_grad_of_composites(f, d1, d2):
    xv = np.array([0.3, 0.7, 1.3])
    x = _leaf(xv)
    (g,) = tg.autograd.grad(f(x).sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = tg.autograd.grad(g.sum(), x)
    if d1 is None:   # check against central differences of the first derivative
        eps = 1e-6

        def first(v):
            t = _leaf(v)
            return tg.autograd.grad(f(t).sum(), t)[0].numpy()
        d2v = (first(xv + eps) - first(xv - eps)) / (2 * eps)
        np.testing.assert_allclose(h.numpy(), d2v, rtol=1e-5)
        return
    np.testing.assert_allclose(g.detach().numpy(), d1(xv), rtol=1e-10)
    np.testing.assert_allclose(h.numpy(), d2(xv), rtol=1e-10)


def test_third_order():
    x = _leaf(2.0)
    (g,) = tg.autograd.grad(x ** 4, x, create_graph=True)
    (h,) = tg.autograd.grad(g, x, create_graph=True)
    (k,) = tg.autograd.grad(h, x)
    assert (g.item(), h.item(), k.item()) == (32.0, 48.0, 48.0)


def test_backward_create_graph_gives_differentiable_grad():
    x = _leaf([1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (h,) = tg.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(h.numpy(), [6, 12])


def test_backward_inputs_limits_accumulation():
    x, z = _leaf([1.0]), _leaf([2.0])
    (x * z).sum().backward(inputs=[x])
    assert z.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [2])


def test_broadcast_gradient_is_summed_to_input_shape():
    x = _leaf([[1.0], [2.0]])
    b = _leaf([1.0, 2.0, 3.0])
    (x * b).sum().backward()
    assert x.grad.shape == (2, 1) and b.grad.shape == (3,)
    np.testing.assert_allclose(x.grad.numpy(), [[6], [6]])
    np.testing.assert_allclose(b.grad.numpy(), [3, 3, 3])


def test_subgraph_without_saved_values_can_be_reused():
    # As in PyTorch: only nodes that saved values are spent by a backward without retain_graph.
    x = _leaf([1.0, 2.0])
    y = x + 1
    (y * 2).sum().backward()
    (y * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 5])
