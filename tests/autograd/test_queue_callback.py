"""Callbacks queued during backward run at its end (PyTorch's ``Variable._execution_engine.queue_callback``)."""
import pytest

import tapegrad
from tapegrad.autograd import Variable
from tapegrad.autograd.graph import queue_callback


def _events(lib, queue):
    """The order of hooks and callbacks in one backward, with the ``.grad`` each saw."""
    log = []
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    v = lib.tensor([3.0], requires_grad=True)

    def post(name):
        def hook(t):
            log.append((name, t.grad.tolist()))
            queue(lambda: log.append(("callback after " + name, w.grad.tolist(), v.grad.tolist())))
        return hook

    w.register_post_accumulate_grad_hook(post("w"))
    v.register_post_accumulate_grad_hook(post("v"))
    ((w * 3).sum() + (v * w[0]).sum()).backward()
    return log


def test_callbacks_run_after_every_gradient_in_queue_order_as_torch():
    torch = pytest.importorskip("torch")
    ours = _events(tapegrad, queue_callback)
    theirs = _events(torch, torch.autograd.Variable._execution_engine.queue_callback)
    # The callbacks come after both post-accumulate hooks and see both final gradients.
    assert [e[0] for e in ours[2:]] == ["callback after " + e[0] for e in ours[:2]]
    assert sorted(ours[:2]) == sorted(theirs[:2])
    assert sorted(ours[2:]) == sorted(theirs[2:])
    assert ours[2][1:] == ([6.0, 3.0], [1.0])


def test_variable_execution_engine_path_and_callback_queued_by_a_callback():
    log = []
    x = tapegrad.ones(2, requires_grad=True)

    def second():
        log.append("second")

    def first():
        log.append("first")
        queue_callback(second)

    x.register_hook(lambda g: Variable._execution_engine.queue_callback(first))
    (x * 2).sum().backward()
    assert log == ["first", "second"]
    (x * 2).sum().backward()            # queued callbacks ran once: a new backward starts empty
    assert log == ["first", "second", "first", "second"]


def test_callbacks_run_for_autograd_grad_and_belong_to_the_innermost_backward():
    log = []
    x = tapegrad.ones(2, requires_grad=True)
    y = tapegrad.ones(2, requires_grad=True)

    def outer_hook(g):
        queue_callback(lambda: log.append("outer"))
        # A backward inside a hook: its callback runs when it ends, before the outer one's.
        with tapegrad.enable_grad():
            (y * 3).sum().backward()
        log.append("inner done")

    y.register_hook(lambda g: queue_callback(lambda: log.append("inner")))
    x.register_hook(outer_hook)
    (gx,) = tapegrad.autograd.grad((x * 2).sum(), [x])
    assert gx.tolist() == [2.0, 2.0]
    assert log == ["inner", "inner done", "outer"]


def test_queue_callback_outside_backward_raises_and_nothing_leaks():
    with pytest.raises(RuntimeError, match="no backward pass is running"):
        queue_callback(lambda: None)
    x = tapegrad.ones(2, requires_grad=True)
    x.register_hook(lambda g: queue_callback(1))
    with pytest.raises(TypeError, match="expected a callable"):
        x.sum().backward()
    with pytest.raises(RuntimeError, match="no backward pass is running"):   # the failed backward popped its list
        queue_callback(lambda: None)


def test_an_error_in_a_callback_propagates_from_backward():
    x = tapegrad.ones(2, requires_grad=True)

    def bad():
        raise ValueError("from the callback")

    x.register_hook(lambda g: queue_callback(bad))
    with pytest.raises(ValueError, match="from the callback"):
        x.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]      # the gradients were accumulated before the callback ran
