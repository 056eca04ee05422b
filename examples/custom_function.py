"""A user-defined differentiable op: a numerically stable softplus as an ``autograd.Function``.

softplus(x) = log(1 + exp(x)). Written naively it overflows for x > 88 in
float32 (exp(x) = inf). The Function below computes max(x, 0) + log1p(exp(-|x|))
instead, and gives its derivative, sigmoid(x), by hand. Because ``backward``
is written with tapegrad ops, second derivatives work too.

The script then checks it the way you would check your own op:
  1. ``tapegrad.autograd.gradcheck`` / ``gradgradcheck``: full Jacobians against
     finite differences in float64;
  2. a hypothesis property test with ``tapegrad.testing``: on random tensors
     (random shapes, some non-contiguous), ``check_grad`` compares first and
     second derivatives with finite differences, and softplus(x) - softplus(-x) == x.

    python examples/custom_function.py
    python examples/custom_function.py --examples 200      # a longer property test
"""
import argparse
import os
import sys

import numpy as np

try:
    import tapegrad as torch
except ImportError:          # running from a clone without `pip install -e .`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import tapegrad as torch


class Softplus(torch.autograd.Function):
    """log(1 + exp(x)), stable for any x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0) + (-x.abs()).exp().log1p()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.sigmoid()


softplus = Softplus.apply


def naive_softplus(x):
    return (1 + x.exp()).log()


def property_test(n_examples):
    """Run the hypothesis property test; returns the number of examples it ran."""
    from hypothesis import given, settings
    from tapegrad.testing import check_grad, shapes, tensors

    ran = []

    @settings(max_examples=n_examples, deadline=None, database=None)
    @given(tensors(shapes(max_dims=3, max_side=4), elements=(-30.0, 30.0)))
    def test_softplus(x):
        ran.append(1)
        check_grad(softplus, x)                           # first and second order, float64
        x64 = x.double()
        np.testing.assert_allclose((softplus(x64) - softplus(-x64)).numpy(), x64.numpy(), atol=1e-12)

    test_softplus()
    return len(ran)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=50, help="hypothesis examples for the property test")
    args = ap.parse_args(argv)

    x = torch.tensor([-100.0, -1.0, 0.0, 1.0, 100.0], requires_grad=True)
    y = softplus(x)
    y.sum().backward()
    with torch.no_grad(), np.errstate(over="ignore"):
        naive = naive_softplus(x)
    print(f"x                    = {x.detach().tolist()}")
    print(f"naive log(1 + e^x)   = {[round(v, 4) for v in naive.tolist()]}   (overflows at x = 100)")
    print(f"Softplus.apply(x)    = {[round(v, 4) for v in y.detach().tolist()]}")
    print(f"d/dx = sigmoid(x)    = {[round(v, 4) for v in x.grad.tolist()]}")

    x64 = torch.randn(6, dtype=torch.float64, requires_grad=True)
    ok1 = torch.autograd.gradcheck(softplus, (x64,))
    ok2 = torch.autograd.gradgradcheck(softplus, (x64,))
    print(f"gradcheck: {ok1}, gradgradcheck: {ok2}")

    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print("hypothesis is not installed (pip install 'tapegrad[test]'): skipping the property test")
        return {"gradcheck": ok1 and ok2, "property_examples": 0}
    n = property_test(args.examples)
    print(f"hypothesis property test: {n} random tensors passed check_grad (orders 1 and 2) and "
          "softplus(x) - softplus(-x) == x")
    return {"gradcheck": ok1 and ok2, "property_examples": n}


if __name__ == "__main__":
    main()
