"""Property-testing helpers: hypothesis strategies for tensors and a float64 gradient checker.

Requires ``hypothesis`` (``pip install "tapegrad[testing]"``); ``import tapegrad``
alone never imports it, and without it ``import tapegrad.testing`` raises an ImportError
that names the extra.

- ``shapes``, ``broadcastable_shapes``, ``tensors``, ``index_expressions``,
  ``reduction_dims``: hypothesis strategies (``tensors`` also draws
  non-contiguous strided or transposed views).
- ``check_grad(fn, *inputs)``: casts the inputs to float64 and compares first
  and second derivatives with central finite differences along random
  directions (and the full Jacobian on tiny inputs); on a mismatch the
  ``AssertionError`` names the worst element, its analytic and numeric values.

Property-test your own custom ``autograd.Function`` (any differentiable Python
function works the same way: pass it as ``fn``). Write ``backward`` with
tapegrad ops so that second derivatives (``create_graph=True``) work too:

Example:
    >>> import tapegrad
    >>> from hypothesis import given, settings
    >>> from tapegrad.testing import check_grad, shapes, tensors
    >>> class Softplus(tapegrad.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return (1 + x.exp()).log()
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return grad * x.sigmoid()
    >>> @settings(max_examples=5, deadline=None)
    ... @given(tensors(shapes(max_dims=2), elements=(-3.0, 3.0)))
    ... def test_softplus(x):
    ...     check_grad(Softplus.apply, x)
    >>> test_softplus()

A wrong derivative is caught and located (the values compared are those of
the gradient ``J^T v`` for the random output weights ``v``, backward against
finite differences; here the analytic one is half the numeric one):

    >>> def bad_square(x):          # x * x.detach() has the values of x**2 but half its derivative
    ...     return x * x.detach()
    >>> check_grad(bad_square, tapegrad.tensor([1.0, 2.0]))
    Traceback (most recent call last):
    ...
    AssertionError: check_grad: first derivative mismatch ... worst element: input 0 at index (1,): ...
"""
try:
    import hypothesis  # noqa: F401  (the strategies below are built on it)
except ImportError as e:
    raise ImportError('tapegrad.testing needs hypothesis, which is not installed: '
                      'pip install "tapegrad[testing]"') from e

from .gradcheck import check_grad
from .strategies import shapes, broadcastable_shapes, tensors, index_expressions, reduction_dims

__all__ = ["check_grad", "shapes", "broadcastable_shapes", "tensors", "index_expressions", "reduction_dims"]
