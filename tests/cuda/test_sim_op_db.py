"""Every OpSpec on device='cuda' against the same call on the CPU: forward values and first-order gradients.

The CPU results are checked against NumPy and finite differences by
tests/ops; here the question is only whether the CUDA backend computes the
same thing, for float32 and float64, on inputs laid out as the CPU harness
lays them out (transposed storage or every-other-element views, re-created
on the device). An op the GPU cannot run must raise NotImplementedError
naming it; ``CUDA_UNSUPPORTED`` lists such specs (ideally none).
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tapegrad
from op_db import draw_case, load_all

SPECS = load_all()
CASES = [pytest.param(s, d, id=f"{s.name}-{d}") for s in SPECS for d in s.dtypes]
CUDA_UNSUPPORTED = {}          # spec name -> the op name its NotImplementedError must mention


def _to_cuda(t):
    """``t`` on the GPU with the same layout (a transposed or strided view when ``t`` is one)."""
    a = t.detach().numpy()
    if a.ndim == 0 or a.flags.c_contiguous or a.size == 0:
        return tapegrad.from_numpy(np.array(a, order="C")).to("cuda")
    if a.T.flags.c_contiguous:
        return tapegrad.from_numpy(np.array(a.T, order="C")).to("cuda").permute(*range(a.ndim - 1, -1, -1))
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    return tapegrad.from_numpy(wide).to("cuda")[..., ::2]


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _host(x):
    return x.detach().cpu().numpy()


def _tols(dtype, ref):
    scale = float(np.max(np.abs(ref), initial=1.0)) if ref.dtype.kind == "f" and ref.size else 1.0
    if not np.isfinite(scale):
        scale = 1.0
    return (2e-5, 2e-5 * scale) if dtype == "float32" else (1e-10, 1e-10 * scale)


def _compare(name, dtype, got, want, what):
    g, w = _host(got), _host(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (
        f"{name} ({dtype}) {what}: cuda gave {g.dtype}{g.shape}, cpu {w.dtype}{w.shape}")
    if w.dtype.kind == "f":
        rtol, atol = _tols(dtype, w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{name} ({dtype}) {what}")
    else:
        np.testing.assert_array_equal(g, w, err_msg=f"{name} ({dtype}) {what}")


def _run(spec, ts, kwargs, cotangents=None):
    """Forward (and, with cotangents, one backward); returns (outputs, grads of the float inputs)."""
    leaves = [t.detach().requires_grad_(True) if spec.grad and t.is_floating_point() else t for t in ts]
    outs = _as_list(spec.fn(*leaves, **kwargs))
    grads = []
    if cotangents is not None:
        live = [(o, v) for o, v in zip(outs, cotangents) if o.requires_grad]
        if live:
            dev = outs[0].device
            loss = sum((o * tapegrad.from_numpy(v).to(dev)).sum() for o, v in live)
            loss.backward()
            grads = [t.grad for t in leaves if t.is_floating_point() and t.requires_grad]
    return outs, grads


@pytest.mark.parametrize("spec,dtype", CASES)
@settings(max_examples=3)
@given(data=st.data())
def test_cuda_matches_cpu(spec, dtype, data):
    ts, _, kwargs = draw_case(data, spec, getattr(tapegrad, dtype))
    cuda_ts = [_to_cuda(t) for t in ts]
    cuda_kwargs = {k: _to_cuda(v) if isinstance(v, tapegrad.Tensor) else v for k, v in kwargs.items()}
    if spec.name in CUDA_UNSUPPORTED:
        with pytest.raises(NotImplementedError, match=CUDA_UNSUPPORTED[spec.name]):
            spec.fn(*cuda_ts, **cuda_kwargs)
        return
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want, _ = _run(spec, ts, kwargs)
        rng = np.random.default_rng(0)
        vs = [np.asarray(rng.normal(size=tuple(o.shape)), o.dtype.np) if o.is_floating_point() else None
              for o in want]
        want, want_g = _run(spec, ts, kwargs, vs if spec.grad else None)
        got, got_g = _run(spec, cuda_ts, cuda_kwargs, vs if spec.grad else None)
    assert len(got) == len(want), f"{spec.name}: {len(got)} outputs on cuda, {len(want)} on the cpu"
    for i, (g, w) in enumerate(zip(got, want)):
        if spec.name != "to_device_cpu":
            assert g.device.type == "cuda", f"{spec.name}: output {i} is on {g.device}"
        _compare(spec.name, dtype, g, w, f"output {i}")
    assert len(got_g) == len(want_g), f"{spec.name}: gradients of {len(got_g)} inputs on cuda, {len(want_g)} on cpu"
    for i, (g, w) in enumerate(zip(got_g, want_g)):
        assert (g is None) == (w is None), f"{spec.name}: gradient {i} is None on one device only"
        if g is not None:
            assert g.device.type == "cuda", f"{spec.name}: gradient {i} is on {g.device}"
            _compare(spec.name, dtype, g, w, f"gradient of input {i}")
    for t, c in zip(ts, cuda_ts):
        np.testing.assert_array_equal(_host(c), _host(t), err_msg=f"{spec.name} modified an input on cuda")
