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
