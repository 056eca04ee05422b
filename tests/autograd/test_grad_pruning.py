"""autograd.grad and backward(inputs=...) run only the part of the graph that leads to the inputs
(Note [grad pruning] in autograd/engine.py): hooks on other branches do not fire, as in PyTorch."""
import pytest

import tapegrad

torch = pytest.importorskip("torch")


def _graph(lib, fired):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0], requires_grad=True)
    a = x * 2
    a.register_hook(lambda g: fired.append("a"))
    b = (w * 3).exp()
    b.register_hook(lambda g: fired.append("b"))
    w.register_hook(lambda g: fired.append("w"))
    c = a.sin() * b
    c.register_hook(lambda g: fired.append("c"))
    return x, w, a, b, c


CALLS = {
    "grad_leaf": lambda lib, x, w, a, b, c: lib.autograd.grad(c.sum(), x),
    "grad_nonleaf": lambda lib, x, w, a, b, c: lib.autograd.grad(c.sum(), a),
    "grad_both": lambda lib, x, w, a, b, c: lib.autograd.grad(c.sum(), (a, x)),
    "grad_w": lambda lib, x, w, a, b, c: lib.autograd.grad(c.sum(), w),
    "backward_inputs": lambda lib, x, w, a, b, c: c.sum().backward(inputs=[x]) or (x.grad,),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_hooks_off_the_paths_to_inputs_do_not_fire(call):
    seen = {}
    for lib in (torch, tapegrad):
        fired = []
        res = CALLS[call](lib, *_graph(lib, fired))
        seen[lib.__name__] = (fired, [v for r in res for v in r.detach().tolist()])
    assert seen["tapegrad"][0] == seen["torch"][0]
    assert seen["tapegrad"][1] == pytest.approx(seen["torch"][1])


def test_unneeded_branch_vjp_does_not_run():
    """A branch that leads to no input is never differentiated: its VJP (here one that raises) is not called."""
    class Boom(tapegrad.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("ran the VJP of a branch that leads to no input")

    x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    w = tapegrad.tensor([3.0], requires_grad=True)
    y = (x * 2).sum() + Boom.apply(w).sum()
    (gx,) = tapegrad.autograd.grad(y, x)
    assert gx.tolist() == [2.0, 2.0]


def test_backward_inputs_runs_post_accumulate_hooks_when_each_input_is_ready():
    """backward(inputs=...) accumulates each input leaf as soon as it is ready (Note [ready leaves]), so its
    post-accumulate-grad hook fires between the nodes' hooks, in PyTorch's order."""
    seen = {}
    for lib in (torch, tapegrad):
        events = []
        w1 = lib.tensor([[0.5, -1.0], [2.0, 0.3]], requires_grad=True)
        w2 = lib.tensor([[1.5, 0.2], [-0.7, 1.1]], requires_grad=True)
        w3 = lib.tensor([[0.1, 0.4], [0.9, -0.2]], requires_grad=True)
        for name, w in (("w1", w1), ("w2", w2), ("w3", w3)):
            w.register_post_accumulate_grad_hook(lambda t, name=name: events.append(("post", name)))
        x = lib.tensor([[1.0, 2.0]])
        h1 = (x @ w1).tanh()
        h1.register_hook(lambda g: events.append(("hook", "h1")))
        h2 = (h1 @ w2).tanh()
        h2.register_hook(lambda g: events.append(("hook", "h2")))
        (h2 @ w3).sum().backward(inputs=[w1, w3])
        seen[lib.__name__] = (events, w1.grad.reshape(-1).tolist(), w3.grad.reshape(-1).tolist(), w2.grad)
    t, g = seen["torch"], seen["tapegrad"]
    assert g[0] == t[0]
    assert g[1] == pytest.approx(t[1], rel=1e-5, abs=1e-7) and g[2] == pytest.approx(t[2], rel=1e-5, abs=1e-7)
    assert g[3] is None and t[3] is None
