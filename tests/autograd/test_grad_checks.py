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
