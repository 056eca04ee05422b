"""Property-testing helpers: hypothesis strategies for tensors and a float64 gradient checker.

Requires ``hypothesis`` (``pip install tapegrad[test]``); ``import tapegrad``
alone never imports it.

- ``shapes``, ``broadcastable_shapes``, ``tensors``, ``index_expressions``,
  ``reduction_dims``: hypothesis strategies (``tensors`` also draws
  non-contiguous strided or transposed views).
- ``check_grad(fn, *inputs)``: casts the inputs to float64 and compares first
  and second derivatives with central finite differences along random
  directions (and the full Jacobian on tiny inputs); on a mismatch the
  ``AssertionError`` names the worst element, its analytic and numeric values.

Property-test your own differentiable function (a custom ``autograd.Function``
works the same way: pass ``MyFunction.apply`` as ``fn``):

Example:
    >>> import tapegrad
    >>> from hypothesis import given, settings
    >>> from tapegrad.testing import check_grad, shapes, tensors
    >>> def softplus(x):
    ...     return (1 + x.exp()).log()
    >>> @settings(max_examples=5, deadline=None)
    ... @given(tensors(shapes(max_dims=2), elements=(-3.0, 3.0)))
    ... def test_softplus(x):
    ...     check_grad(softplus, x)
    >>> test_softplus()

A wrong derivative is caught and located:

    >>> def bad_square(x):          # d/dx (x * x.detach()) misses half the gradient
    ...     return x * x.detach()
    >>> check_grad(bad_square, tapegrad.tensor([1.0, 2.0]))
    Traceback (most recent call last):
    ...
    AssertionError: check_grad: first derivative mismatch ... worst element: input 0 at index (1,): analytic 2.0 vs numeric 4.0...
"""
from .gradcheck import check_grad
from .strategies import shapes, broadcastable_shapes, tensors, index_expressions, reduction_dims

__all__ = ["check_grad", "shapes", "broadcastable_shapes", "tensors", "index_expressions", "reduction_dims"]
