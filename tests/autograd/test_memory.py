"""The tape's memory: no growth without backward, saved values released, no cycles, no recursion."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tapegrad as tg


@pytest.fixture
def no_gc():
    """Objects must die by reference counting alone (no reference cycles)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _step(w, x):
    return ((x @ w).tanh() * 2 + 1).exp().mean()


def test_forward_loop_without_backward_does_not_grow(no_gc):
    w = tg.randn(8, 8, requires_grad=True)
    x = tg.randn(4, 8)
    nodes = []
    for _ in range(50):
        nodes.append(weakref.ref(_step(w, x).grad_fn))
    assert all(r() is None for r in nodes)
    tracemalloc.start()
    try:
        for _ in range(200):
            loss = _step(w, x)
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            loss = _step(w, x)
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del loss
    assert grown < 50_000, f"memory grew by {grown} bytes over 2,000 forward passes"


def test_saved_intermediates_released_after_backward(no_gc):
    x = tg.randn(5, requires_grad=True)
    y = x.exp()
    z = (y * y).sum()           # multiply saves y's array (Note [saved values])
    ref = weakref.ref(y._data)
    node = z.grad_fn.next_functions[0][0]
    del y
    assert ref() is not None    # kept alive by the saved values only
    z.backward()
    assert ref() is None and node.saved is None


def test_graph_dies_with_its_result(no_gc):
    x = tg.randn(5, requires_grad=True)
    y = (x.sin() * x).exp().sum()
    refs = [weakref.ref(y), weakref.ref(y.grad_fn), weakref.ref(y.grad_fn.next_functions[0][0])]
    del y
    assert all(r() is None for r in refs)


def test_backward_leaves_no_cycles():
    gc.collect()
    gc.disable()
    try:
        x = tg.randn(5, requires_grad=True)
        for _ in range(20):
            y = (x.tanh() * x).sum()
            ry = weakref.ref(y)
            y.backward()
            h = x * 2
            h.retain_grad()
            h.register_hook(lambda g: g)
            (h * h).sum().backward()
            rh = weakref.ref(h)
            del y, h
            assert ry() is None and rh() is None
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_create_graph_grad_is_freed_with_leaf_grad_reset(no_gc):
    x = tg.randn(3, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    ref = weakref.ref(x.grad.grad_fn)
    x.grad = None
    assert ref() is None


N = 100_000


def _chain(x):
    y = x
    for _ in range(N):
        y = y * 1.0
    return y


def test_long_chain_backward_and_free():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _chain(x).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1])
    del y                       # freeing 100,000 nested nodes must not overflow the C stack


def test_long_chain_autograd_grad_and_unreferenced_free():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = _chain(x).sum()
    (g,) = tg.autograd.grad(y, x, retain_graph=True)
    np.testing.assert_allclose(g.numpy(), [1, 1])
    ref = weakref.ref(y.grad_fn)
    del y
    assert ref() is None
