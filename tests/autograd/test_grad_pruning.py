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
