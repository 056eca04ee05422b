"""Custom autograd.Function: saved tensors, double backward, multiple outputs, flags, errors."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import Function


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


class ExpSaveOut(Function):
    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class SplitScale(Function):
    """Two outputs: (a * k, a + b); also records what backward was told."""
    @staticmethod
    def forward(ctx, a, b, k):
        ctx.k = k
        ctx.seen_needs = ctx.needs_input_grad
        return a * k, a + b

    @staticmethod
    def backward(ctx, g1, g2):
        ctx.got = (g1 is None, g2 is None)
        return g1 * ctx.k + g2, g2, None


def _x(v):
    return tg.tensor(v, dtype=tg.float64, requires_grad=True)


def test_forward_backward_and_node():
    x = _x([1.0, 2.0])
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward" and repr(y.grad_fn) == "<CubeBackward>"
    assert "grad_fn=<CubeBackward>" in repr(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 12])


def test_forward_runs_without_recording():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            seen.append((tg.is_grad_enabled(), y.requires_grad))
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2
    Probe.apply(_x([1.0]))
    assert seen == [(False, False)]


def test_double_backward_through_function():
    x = _x([1.0, 2.0])
    (g,) = tg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [3, 12])
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [6, 12])


def test_saved_output_double_backward_and_no_cycle():
    x = _x([0.5, 1.0])
    y = ExpSaveOut.apply(x)
    assert y.grad_fn.saved[0] is not y            # saved as an array (Note [saved outputs])
    (g,) = tg.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.exp([0.5, 1.0]))


def test_multiple_outputs_and_materialized_grads():
    a, b = _x([1.0, 2.0]), _x([3.0, 4.0])
    p, q = SplitScale.apply(a, b, 10.0)
    assert p.grad_fn is q.grad_fn and q._output_nr == 1
    q.sum().backward()                             # p unused: its grad arrives as zeros
    ctx = q.grad_fn.op.ctx
    assert ctx.got == (False, False)
    assert ctx.seen_needs == (True, True, False)
    np.testing.assert_allclose(a.grad.numpy(), [1, 1])
    np.testing.assert_allclose(b.grad.numpy(), [1, 1])
    a.grad = b.grad = None
    p, q = SplitScale.apply(a, b, 10.0)
    (p.sum() + 2 * q.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), [12, 12])
    np.testing.assert_allclose(b.grad.numpy(), [2, 2])


def test_set_materialize_grads_false_passes_none():
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 1, x * 2

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.got = (g1 is None, g2 is None)
            return g2 * 2
    x = _x([1.0])
    _, q = Two.apply(x)
    q.sum().backward()
    assert q.grad_fn.op.ctx.got == (True, False)
    np.testing.assert_allclose(x.grad.numpy(), [2])


def test_mark_non_differentiable():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            vals = x * 1
            idx = x > 0
            flags = x * 0
            ctx.mark_non_differentiable(flags)
            return vals, idx, flags

        @staticmethod
        def backward(ctx, g, gi, gf):
            return g
    x = _x([1.0, -1.0])
    vals, idx, flags = SortWithIndex.apply(x)
    assert vals.requires_grad and not idx.requires_grad and not flags.requires_grad
    vals.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1])


def test_no_node_without_grad():
    y = Cube.apply(tg.ones(2))
    assert y.grad_fn is None and not y.requires_grad
    with tg.no_grad():
        assert Cube.apply(_x([1.0])).grad_fn is None


def test_version_check_on_saved_tensors():
    x = _x([1.0, 2.0])
    h = x * 1
    y = Cube.apply(h)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match=r"(?s)add_.*Cube"):
        y.sum().backward()


def test_second_backward_raises_and_retain_graph_works():
    x = _x([1.0])
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [6])
    y2 = Cube.apply(x).sum()
    y2.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y2.backward()


def test_wrong_number_or_shape_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(_x([1.0]), _x([1.0])).sum().backward()

    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return tg.ones(3, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="invalid gradient at index 0"):
        BadShape.apply(_x([1.0, 2.0])).sum().backward()


def test_broadcast_gradient_from_backward_is_reduced():
    class Wide(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * tg.ones(3, 1, dtype=tg.float64)     # shape (3, n): summed back by the engine
    x = _x([1.0, 2.0])
    Wide.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])


def test_misuse_errors():
    with pytest.raises(RuntimeError, match="apply"):
        Cube()
    with pytest.raises(TypeError, match="staticmethod"):
        class NotStatic(Function):
            def forward(ctx, x):
                return x
    with pytest.raises(TypeError, match="save_for_backward"):
        class SavesNumber(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3)
                return x
        SavesNumber.apply(_x([1.0]))


def test_saved_tensors_only_inside_backward():
    box = []

    class Peek(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, None)
            box.append(ctx)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            x, none = ctx.saved_tensors
            assert none is None
            return g * 1
    Peek.apply(_x([1.0])).sum().backward()
    with pytest.raises(RuntimeError, match="inside backward"):
        box[0].saved_tensors
