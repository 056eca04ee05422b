"""Forward harness: every OpSpec against its NumPy reference, in float32 and float64.

The result's dtype must be the reference's (NumPy 2 keeps float32 with Python
scalars, as PyTorch does), so an accidental float64 upcast fails here.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tapegrad
from op_db import draw_case, example_case, example_params, load_all

SPECS = [s for s in load_all() if s.ref is not None]
CASES = [pytest.param(s, d, id=f"{s.name}-{d}") for s in SPECS for d in s.dtypes]
EXAMPLES = example_params(SPECS, with_dtypes=True)


def _compare(spec, dtype, got, want):
    want = np.asarray(want)
    if not isinstance(got, tapegrad.Tensor):
        raise AssertionError(f"{spec.name}: expected a Tensor, got {type(got).__name__}")
    assert got.dtype.np == want.dtype, (
        f"{spec.name} ({dtype}): result dtype {got.dtype}, expected {want.dtype}")
    assert tuple(got.shape) == want.shape, f"{spec.name}: shape {tuple(got.shape)}, expected {want.shape}"
    g = got.detach().numpy()
    if want.dtype.kind == "f":
        scale = 1.0 if dtype == "float32" else 1e-6
        np.testing.assert_allclose(g, want, rtol=spec.fwd_rtol * scale, atol=spec.fwd_atol * scale,
                                   equal_nan=True, err_msg=f"{spec.name} ({dtype})")
    else:
        np.testing.assert_array_equal(g, want, err_msg=f"{spec.name} ({dtype})")


@pytest.mark.parametrize("spec,dtype", CASES)
@settings(max_examples=10)
@given(data=st.data())
def test_forward_matches_numpy(spec, dtype, data):
    _check_forward(spec, dtype, *draw_case(data, spec, getattr(tapegrad, dtype)))


@pytest.mark.parametrize("spec,example,dtype", EXAMPLES)
def test_forward_examples_match_numpy(spec, example, dtype):
    """The spec's deterministic structural cases (Example), besides the random draws."""
    _check_forward(spec, dtype, *example_case(example, getattr(tapegrad, dtype)))


def _check_forward(spec, dtype, ts, arrays, kwargs):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # NumPy's "mean of empty slice" and the like
        want = spec.ref(*arrays, **kwargs)
    got = spec.fn(*ts, **kwargs)
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), f"{spec.name}: {len(want)} outputs expected"
        for g, w in zip(got, want):
            _compare(spec, dtype, g, w)
    else:
        _compare(spec, dtype, got, want)
    for t, a in zip(ts, arrays):
        np.testing.assert_array_equal(t.numpy(), a, err_msg=f"{spec.name} modified an input")


def test_harness_catches_a_wrong_forward():
    from op_db import OpSpec
    from tapegrad.testing import broadcastable_shapes
    spec = OpSpec("wrong_exp", tapegrad.exp, lambda x: np.exp(x) + 1e-3, broadcastable_shapes(1, min_dims=1,
                                                                                               allow_empty=False))
    with pytest.raises(AssertionError):
        test_forward_matches_numpy(spec, "float32")


def test_harness_catches_an_accidental_float64():
    from op_db import OpSpec
    from tapegrad.testing import broadcastable_shapes
    spec = OpSpec("upcast_exp", lambda x: tapegrad.exp(x).double(), np.exp, broadcastable_shapes(1))
    with pytest.raises(AssertionError, match="dtype"):
        test_forward_matches_numpy(spec, "float32")
