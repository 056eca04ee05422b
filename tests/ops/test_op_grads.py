"""Gradient harness: every differentiable OpSpec against float64 finite differences.

``tapegrad.testing.check_grad`` compares directional derivatives ``<v, J u>``
(central differences) with ``<J^T v, u>`` (backward), the full Jacobian on
tiny inputs, and, for ``gradgrad`` specs, second derivatives through
``create_graph=True``.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tapegrad
from tapegrad.testing import check_grad
from op_db import draw_case, example_case, example_params, load_all

SPECS = [s for s in load_all() if s.grad]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@settings(max_examples=8)
@given(data=st.data())
def test_gradients_match_finite_differences(spec, data):
    ts, _, kwargs = draw_case(data, spec, tapegrad.float64)
    check_grad(lambda *xs: spec.fn(*xs, **kwargs), *ts, order=2 if spec.gradgrad else 1,
               eps=spec.eps, atol=spec.atol, rtol=spec.rtol)


@pytest.mark.parametrize("spec,example", example_params(SPECS))
def test_gradient_examples(spec, example):
    """The spec's deterministic structural cases: finite differences, or PyTorch at a kink."""
    ts, arrays, kwargs = example_case(example, tapegrad.float64)
    if not example.kink:
        check_grad(lambda *xs: spec.fn(*xs, **kwargs), *ts, order=2 if spec.gradgrad else 1,
                   eps=spec.eps, atol=spec.atol, rtol=spec.rtol)
        return
    torch = pytest.importorskip("torch")
    assert spec.torch_fn is not None, f"OpSpec {spec.name}: a kink example needs torch_fn"
    want = _first_derivatives(torch, spec.torch_fn, [torch] , arrays, kwargs)
    got = _first_derivatives(tapegrad, spec.fn, [], arrays, kwargs)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14,
                                   err_msg=f"{spec.name}: gradient of input {i} at {example}")


def _first_derivatives(lib, fn, lead, arrays, kwargs):
    xs = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(*lead, *xs, **kwargs)
    w = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=out.dtype)
    floats = [x for x in xs if x.requires_grad]
    gs = lib.autograd.grad((out * w).sum(), floats, allow_unused=True)
    return [np.zeros(tuple(x.shape)) if g is None else g.numpy() for x, g in zip(floats, gs)]


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


def test_example_harness_catches_a_wrong_kink_gradient():
    from op_db import Example, OpSpec
    from tapegrad.testing import broadcastable_shapes
    # maximum's VJP splits ties; a wrong oracle that gives the first input everything must fail.
    spec = OpSpec("maximum_wrong_oracle", tapegrad.maximum, np.maximum, broadcastable_shapes(2),
                  covers=("maximum",), torch_fn=lambda torch, a, b: torch.where(a >= b, a, b))
    with pytest.raises(AssertionError, match="gradient of input"):
        test_gradient_examples(spec, Example([[1.0, 2.0], [1.0, 0.0]], kink=True))
