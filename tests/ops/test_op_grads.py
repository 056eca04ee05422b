"""Gradient harness: every differentiable OpSpec against float64 finite differences.

``tapegrad.testing.check_grad`` compares directional derivatives ``<v, J u>``
(central differences) with ``<J^T v, u>`` (backward), the full Jacobian on
tiny inputs, and, for ``gradgrad`` specs, second derivatives through
``create_graph=True``.
"""
import pytest
from hypothesis import given, settings, strategies as st

import tapegrad
from tapegrad.testing import check_grad
from op_db import draw_case, load_all

SPECS = [s for s in load_all() if s.grad]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@settings(max_examples=8)
@given(data=st.data())
def test_gradients_match_finite_differences(spec, data):
    ts, _, kwargs = draw_case(data, spec, tapegrad.float64)
    check_grad(lambda *xs: spec.fn(*xs, **kwargs), *ts, order=2 if spec.gradgrad else 1,
               eps=spec.eps, atol=spec.atol, rtol=spec.rtol)


# ----------------------------------------------------------------- the harness can fail

@pytest.fixture
def broken_sin():
    """A test-only op whose VJP is wrong (sin instead of cos), removed from the registry afterwards."""
    from tapegrad.ops.registry import REGISTRY, apply, op

    @op("_test_broken_sin", save="x", promote="float")
    def broken(be, x):
        return be.sin(x)

    @broken.vjp
    def _(F, ctx, g, x):
        return g * F.sin(x)

    try:
        yield lambda x: apply(broken, x)
    finally:
        REGISTRY.pop("_test_broken_sin", None)


def test_harness_catches_a_wrong_vjp(broken_sin):
    import numpy as np
    from op_db import OpSpec
    from tapegrad.testing import broadcastable_shapes
    spec = OpSpec("broken_sin", broken_sin, np.sin, broadcastable_shapes(1, min_dims=1, allow_empty=False),
                  covers=("_test_broken_sin",))
    with pytest.raises(AssertionError, match="first derivative mismatch|Jacobian mismatch"):
        test_gradients_match_finite_differences(spec)


def test_harness_catches_a_wrong_composite_gradient():
    import numpy as np
    from op_db import OpSpec
    from tapegrad.testing import broadcastable_shapes
    # x * x.detach() has the values of x**2 but half its derivative.
    spec = OpSpec("half_square", lambda x: x * x.detach(), np.square,
                  broadcastable_shapes(1, min_dims=1, allow_empty=False), domain=(0.5, 2.0), covers=("multiply",))
    with pytest.raises(AssertionError, match="worst element"):
        test_gradients_match_finite_differences(spec)
