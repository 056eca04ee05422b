"""Forward harness: every OpSpec against its NumPy reference, in float32 and float64, on a ``device``.

The result's dtype must be the reference's (NumPy 2 keeps float32 with Python
scalars, as PyTorch does), so an accidental float64 upcast fails here.
``check_forward`` is the harness; the tests here run it on the CPU (the
``device`` fixture of tests/conftest.py) and tests/cuda/test_sim_op_db.py runs
it with ``device="cuda"``, where the outputs must also stay on the device and
equal the same call on the CPU.
"""
import warnings

import numpy as np
import pytest
from hypothesis import Phase, given, settings, strategies as st

import tapegrad
from op_db import (Example, OpSpec, assert_matches_cpu, case_on_device, draw_case, example_case, example_params,
                   host, load_all)

SPECS = [s for s in load_all() if s.ref is not None]
CASES = [pytest.param(s, d, id=f"{s.name}-{d}") for s in SPECS for d in s.dtypes]
EXAMPLES = example_params(SPECS, with_dtypes=True)


def _outputs(spec, got, n):
    if n is None:
        return [got]
    assert isinstance(got, (tuple, list)) and len(got) == n, f"{spec.name}: {n} outputs expected"
    return list(got)


def _compare(spec, dtype, got, want):
    want = np.asarray(want)
    if not isinstance(got, tapegrad.Tensor):
        raise AssertionError(f"{spec.name}: expected a Tensor, got {type(got).__name__}")
    assert got.dtype.np == want.dtype, (
        f"{spec.name} ({dtype}): result dtype {got.dtype}, expected {want.dtype}")
    assert tuple(got.shape) == want.shape, f"{spec.name}: shape {tuple(got.shape)}, expected {want.shape}"
    g = host(got)
    if want.dtype.kind == "f":
        scale = 1.0 if dtype == "float32" else 1e-6
        np.testing.assert_allclose(g, want, rtol=spec.fwd_rtol * scale, atol=spec.fwd_atol * scale,
                                   equal_nan=True, err_msg=f"{spec.name} ({dtype})")
    else:
        np.testing.assert_array_equal(g, want, err_msg=f"{spec.name} ({dtype})")


def check_forward(spec, dtype, ts, arrays, kwargs, device="cpu"):
    """The forward harness: ``spec.fn`` on ``device`` at one case (``draw_case``/``example_case``).

    Checks the outputs against ``spec.ref`` (dtype, shape, values) and that no
    input changed. Off the CPU, every output must be on ``device`` (or on
    ``spec.out_device``) and equal the same call on the CPU.
    """
    dts, dkwargs = case_on_device(ts, kwargs, device)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # NumPy's "mean of empty slice" and the like
        want = spec.ref(*arrays, **kwargs) if spec.ref is not None else None
        got = spec.fn(*dts, **dkwargs)
        cpu = spec.fn(*ts, **kwargs) if device != "cpu" else None
    n = len(want) if isinstance(want, (tuple, list)) else None
    outs = _outputs(spec, got, n)
    if want is not None:
        for g, w in zip(outs, want if n is not None else [want]):
            _compare(spec, dtype, g, w)
    if cpu is not None:
        cpu = _outputs(spec, cpu, len(outs) if isinstance(cpu, (tuple, list)) else None)
        assert len(outs) == len(cpu), f"{spec.name}: {len(outs)} outputs on {device}, {len(cpu)} on the cpu"
        where = tapegrad.device(spec.out_device or device)
        for i, (g, c) in enumerate(zip(outs, cpu)):
            assert g.device == where, f"{spec.name}: output {i} is on {g.device}, expected {where}"
            assert_matches_cpu(spec.name, dtype, g, c, f"output {i}")
    for t, a in zip(dts, arrays):
        np.testing.assert_array_equal(host(t), a, err_msg=f"{spec.name} modified an input on {device}")


@pytest.mark.parametrize("spec,dtype", CASES)
@settings(max_examples=10)
@given(data=st.data())
def test_forward_matches_numpy(spec, dtype, device, data):
    check_forward(spec, dtype, *draw_case(data, spec, getattr(tapegrad, dtype)), device=device)


@pytest.mark.parametrize("spec,example,dtype", EXAMPLES)
def test_forward_examples_match_numpy(spec, example, dtype, device):
    """The spec's deterministic structural cases (Example), besides the random draws."""
    check_forward(spec, dtype, *example_case(example, getattr(tapegrad, dtype)), device=device)


def _generate_only(spec, device):
    """The forward check of ``test_forward_matches_numpy`` on drawn cases, generating only: these tests want
    the harness's AssertionError, not a shrunk and explained example (hypothesis's explain phase on a
    failing case nested in another test once ended in a RecursionError inside its settings lookup)."""
    @settings(max_examples=10, phases=[Phase.generate], database=None, deadline=None)
    @given(data=st.data())
    def run(data):
        check_forward(spec, "float32", *draw_case(data, spec, tapegrad.float32), device=device)
    run()


def test_harness_catches_a_wrong_forward(device):
    from tapegrad.testing import broadcastable_shapes
    spec = OpSpec("wrong_exp", tapegrad.exp, lambda x: np.exp(x) + 1e-3, broadcastable_shapes(1, min_dims=1,
                                                                                               allow_empty=False))
    with pytest.raises(AssertionError):
        _generate_only(spec, device)


def test_harness_catches_an_accidental_float64(device):
    from tapegrad.testing import broadcastable_shapes
    spec = OpSpec("upcast_exp", lambda x: tapegrad.exp(x).double(), np.exp, broadcastable_shapes(1))
    with pytest.raises(AssertionError, match="dtype"):
        _generate_only(spec, device)


def test_harness_catches_a_modified_input(device):
    spec = OpSpec("mul_", lambda x: x.mul_(2.0), lambda x: x * 2.0, None)
    ts, arrays, kwargs = example_case(Example([[0.5, 1.0]]), tapegrad.float64)
    with pytest.raises(AssertionError, match="modified an input"):
        check_forward(spec, "float64", ts, arrays, kwargs, device)
