"""Gradient harness: every differentiable OpSpec against float64 finite differences, on a ``device``.

``tapegrad.testing.check_grad`` compares directional derivatives ``<v, J u>``
(central differences) with ``<J^T v, u>`` (backward), the full Jacobian on
tiny inputs, and, for ``gradgrad`` specs, second derivatives through
``create_graph=True``. ``check_gradients``, ``check_gradient_example`` and
``check_vjp_matches_cpu`` are the harness; the tests here run them on the CPU
(the ``device`` fixture of tests/conftest.py) and tests/cuda/test_sim_op_db.py
runs them with ``device="cuda"``.
"""
import warnings

import numpy as np
import pytest
from hypothesis import Phase, given, settings, strategies as st

import tapegrad
from tapegrad.testing import check_grad
from op_db import (Example, OpSpec, assert_matches_cpu, case_on_device, draw_case, example_case, example_params,
                   load_all)

SPECS = [s for s in load_all() if s.grad]


def check_gradients(spec, ts, kwargs, device="cpu", order=None):
    """Finite differences at one case on ``device`` (float64); ``order`` defaults to 2 for gradgrad specs."""
    dts, dkwargs = case_on_device(ts, kwargs, device)
    check_grad(lambda *xs: spec.fn(*xs, **dkwargs), *dts, order=order or (2 if spec.gradgrad else 1),
               eps=spec.eps, atol=spec.atol, rtol=spec.rtol)


def check_gradient_example(spec, example, device="cpu", order=None):
    """An ``Example``: finite differences, or first derivatives against PyTorch's at a kink."""
    ts, arrays, kwargs = example_case(example, tapegrad.float64)
    if not example.kink:
        check_gradients(spec, ts, kwargs, device, order)
        return
    torch = pytest.importorskip("torch")
    assert spec.torch_fn is not None, f"OpSpec {spec.name}: a kink example needs torch_fn"
    want = _first_derivatives(torch, spec.torch_fn, [torch], arrays, kwargs, "cpu")
    got = _first_derivatives(tapegrad, spec.fn, [], arrays, kwargs, device)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14,
                                   err_msg=f"{spec.name}: gradient of input {i} at {example} on {device}")


def _first_derivatives(lib, fn, lead, arrays, kwargs, device):
    xs = [lib.tensor(a, requires_grad=a.dtype.kind == "f", device=device) for a in arrays]
    out = fn(*lead, *xs, **kwargs)
    w = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=out.dtype, device=out.device)
    floats = [x for x in xs if x.requires_grad]
    gs = lib.autograd.grad((out * w).sum(), floats, allow_unused=True)
    return [np.zeros(tuple(x.shape)) if g is None else g.cpu().numpy() for x, g in zip(floats, gs)]


def _forward_backward(spec, ts, kwargs, cotangents):
    """Outputs, and the gradients of the float inputs after one backward with ``cotangents`` (if any)."""
    leaves = [t.detach().requires_grad_(True) if t.is_floating_point() else t for t in ts]
    outs = spec.fn(*leaves, **kwargs)
    outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
    live = [(o, v) for o, v in zip(outs, cotangents or ()) if o.requires_grad]
    if not live:
        return outs, []
    loss = sum((o * tapegrad.from_numpy(v).to(o.device)).sum() for o, v in live)
    loss.backward()
    return outs, [t.grad for t in leaves if t.is_floating_point()]


def check_vjp_matches_cpu(spec, dtype, ts, kwargs, device):
    """Off the CPU: one backward with fixed cotangents gives the CPU's gradients, on ``device``, in ``dtype``.

    Finite differences (``check_gradients``) need float64; this covers float32 as well.
    """
    dts, dkwargs = case_on_device(ts, kwargs, device)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        outs, _ = _forward_backward(spec, ts, kwargs, None)
        rng = np.random.default_rng(0)
        vs = [np.asarray(rng.normal(size=tuple(o.shape)), o.dtype.np) if o.is_floating_point() else None
              for o in outs]
        _, want = _forward_backward(spec, ts, kwargs, vs)
        _, got = _forward_backward(spec, dts, dkwargs, vs)
    assert len(got) == len(want), f"{spec.name}: gradients of {len(got)} inputs on {device}, {len(want)} on cpu"
    for i, (g, w) in enumerate(zip(got, want)):
        assert (g is None) == (w is None), f"{spec.name}: gradient {i} is None on one device only"
        if g is not None:
            assert g.device == tapegrad.device(device), f"{spec.name}: gradient {i} is on {g.device}"
            assert_matches_cpu(spec.name, dtype, g, w, f"gradient of input {i}")


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@settings(max_examples=8)
@given(data=st.data())
def test_gradients_match_finite_differences(spec, device, data):
    ts, _, kwargs = draw_case(data, spec, tapegrad.float64)
    check_gradients(spec, ts, kwargs, device)


@pytest.mark.parametrize("spec,example", example_params(SPECS))
def test_gradient_examples(spec, example, device):
    """The spec's deterministic structural cases: finite differences, or PyTorch at a kink."""
    check_gradient_example(spec, example, device)


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


def _generate_only(spec, device):
    """``test_gradients_match_finite_differences`` on drawn cases, generating only (as test_op_forward.py's
    ``_generate_only``: these tests want the harness's AssertionError, not a shrunk, explained example)."""
    @settings(max_examples=10, phases=[Phase.generate], database=None, deadline=None)
    @given(data=st.data())
    def run(data):
        ts, _, kwargs = draw_case(data, spec, tapegrad.float64)
        check_gradients(spec, ts, kwargs, device)
    run()


def test_harness_catches_a_wrong_vjp(broken_sin, device):
    from tapegrad.testing import broadcastable_shapes
    spec = OpSpec("broken_sin", broken_sin, np.sin, broadcastable_shapes(1, min_dims=1, allow_empty=False),
                  covers=("_test_broken_sin",))
    with pytest.raises(AssertionError, match="first derivative mismatch|Jacobian mismatch"):
        _generate_only(spec, device)


def test_harness_catches_a_wrong_composite_gradient(device):
    from tapegrad.testing import broadcastable_shapes
    # x * x.detach() has the values of x**2 but half its derivative.
    spec = OpSpec("half_square", lambda x: x * x.detach(), np.square,
                  broadcastable_shapes(1, min_dims=1, allow_empty=False), domain=(0.5, 2.0), covers=("multiply",))
    with pytest.raises(AssertionError, match="worst element"):
        _generate_only(spec, device)


def test_example_harness_catches_a_wrong_kink_gradient(device):
    from tapegrad.testing import broadcastable_shapes
    # maximum's VJP splits ties; a wrong oracle that gives the first input everything must fail.
    spec = OpSpec("maximum_wrong_oracle", tapegrad.maximum, np.maximum, broadcastable_shapes(2),
                  covers=("maximum",), torch_fn=lambda torch, a, b: torch.where(a >= b, a, b))
    with pytest.raises(AssertionError, match="gradient of input"):
        test_gradient_examples(spec, Example([[1.0, 2.0], [1.0, 0.0]], kink=True), device)
