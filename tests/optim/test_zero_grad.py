"""``Module.zero_grad`` and ``Optimizer.zero_grad`` share one implementation with PyTorch's semantics.

With ``set_to_none=False`` the gradient stays the same tensor object, is
detached (no ``grad_fn``, ``requires_grad`` False, also after
``backward(create_graph=True)``) and holds zeros. Each case runs through both
paths in tapegrad and in PyTorch, and the observations must agree.
"""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")

W0 = [1.0, -2.0, 0.5]


def _zero(lib, path, params):
    if path == "module":
        m = lib.nn.Module()
        for i, p in enumerate(params):
            m.register_parameter(f"p{i}", p)
        m.zero_grad(set_to_none=False)
    else:
        lib.optim.SGD(params, lr=0.1).zero_grad(set_to_none=False)


def _observe(lib, params, before):
    return [dict(same=p.grad is g, requires_grad=p.grad.requires_grad, has_grad_fn=p.grad.grad_fn is not None,
                 values=p.grad.detach().numpy().tolist()) for p, g in zip(params, before)]


def _recorded(lib, path):
    """The gradient has a grad_fn: the backward was recorded (create_graph)."""
    w = lib.nn.Parameter(lib.tensor(W0, dtype=lib.float64))
    (w ** 3).sum().backward(create_graph=True)
    assert w.grad.grad_fn is not None and w.grad.requires_grad
    before = [w.grad]
    _zero(lib, path, [w])
    return _observe(lib, [w], before)


def _broadcast(lib, path):
    """Under create_graph a ``sum`` hands both inputs a constant gradient (no grad_fn)."""
    x = lib.nn.Parameter(lib.tensor(W0, dtype=lib.float64))
    y = lib.nn.Parameter(lib.tensor(W0, dtype=lib.float64))
    (x * 2 + y).sum().backward(create_graph=True)
    before = [x.grad, y.grad]
    _zero(lib, path, [x, y])
    return _observe(lib, [x, y], before)


def _plain(lib, path):
    """An ordinary backward: the gradient is zeroed in place, so a view of it sees the zeros."""
    w = lib.nn.Parameter(lib.tensor(W0, dtype=lib.float64))
    (w * w).sum().backward()
    view = w.grad[1:]
    before = [w.grad]
    _zero(lib, path, [w])
    return _observe(lib, [w], before) + [view.numpy().tolist()]


@pytest.mark.parametrize("path", ["module", "optimizer"])
@pytest.mark.parametrize("case", [_recorded, _broadcast, _plain], ids=lambda f: f.__name__.strip("_"))
def test_zero_grad_to_zeros_matches_torch(case, path):
    got = case(tapegrad, path)
    want = case(torch, path)
    assert got == want
    assert got[0] == dict(same=True, requires_grad=False, has_grad_fn=False, values=[0.0, 0.0, 0.0])


@pytest.mark.parametrize("path", ["module", "optimizer"])
def test_zero_grad_bumps_the_version_as_zero_does(path):
    # A graph that saved the gradient refuses to backpropagate after zero_grad zeroed it, as in PyTorch.
    for lib in (tapegrad, torch):
        w = lib.nn.Parameter(lib.tensor(W0, dtype=lib.float64))
        u = lib.tensor(W0, dtype=lib.float64, requires_grad=True)
        (w * w).sum().backward()
        h = (w.grad * u).sum()          # saves w.grad for u's gradient
        _zero(lib, path, [w])
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            h.backward()


@pytest.mark.parametrize("path", ["module", "optimizer"])
def test_zero_grad_to_none(path):
    w = tapegrad.nn.Parameter(tapegrad.tensor(W0))
    (w * w).sum().backward(create_graph=True)
    if path == "module":
        m = tapegrad.nn.Module()
        m.register_parameter("w", w)
        m.zero_grad()
    else:
        tapegrad.optim.SGD([w], lr=0.1).zero_grad()
    assert w.grad is None
    assert np.array_equal(w.detach().numpy(), np.array(W0, dtype=np.float32))
