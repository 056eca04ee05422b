"""The NumPy backend's chunked stride-1 convolutions (Note [conv in cache-sized chunks]) against the composed ones.

The chunk size is shrunk so that every case runs several chunks and a shorter last one; the reference is
backend/_conv.py (the composed path the CUDA backend runs), itself checked against torch by the op database.
"""
import numpy as np
import pytest

from tapegrad.backend import CPU_BACKEND, _conv, _conv_cpu

# (x shape, w shape, padding, dilation, groups)
CASES = [
    ((5, 3, 7, 6), (4, 3, 3, 2), (1, 0), (1, 1), 1),
    ((7, 4, 9), (6, 2, 3), (2,), (2,), 2),
    ((3, 2, 5, 4, 4), (4, 2, 2, 3, 2), (1, 0, 1), (1, 1, 2), 1),
    ((6, 8, 6, 6), (8, 2, 3, 3), (0, 0), (1, 1), 4),
    ((4, 2, 3, 3), (3, 2, 3, 3), (2, 2), (1, 1), 1),
]


@pytest.fixture(params=[1, 700, 5000], ids=["one-sample", "small", "mid"])
def chunk_bytes(request, monkeypatch):
    monkeypatch.setattr(_conv_cpu, "_CHUNK_BYTES", request.param)
    return request.param


@pytest.mark.parametrize("xs, ws, padding, dilation, groups", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_chunked_conv_matches_composed(chunk_bytes, xs, ws, padding, dilation, groups, dtype):
    rng = np.random.default_rng(len(xs) + groups)
    x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype)
    stride = (1,) * (len(xs) - 2)
    tol = 1e-12 if dtype == np.float64 else 1e-4
    out = _conv_cpu.conv(x, w, b, stride, padding, dilation, groups)
    want = _conv.conv(CPU_BACKEND, x, w, b, stride, padding, dilation, groups)
    assert out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    gw = _conv_cpu.conv_weight(x, g, ws[2:], stride, padding, dilation, groups)
    np.testing.assert_allclose(gw, _conv.conv_weight(CPU_BACKEND, x, g, ws[2:], stride, padding, dilation, groups),
                               rtol=tol, atol=tol)
    assert gw.dtype == dtype and gw.shape == ws
    # the input gradient: conv's adjoint, a transposed convolution of g with the same weight
    extra = (0,) * len(stride)          # stride 1: no output padding recovers x's size
    gx = _conv_cpu.conv_transpose(g, w, None, stride, padding, extra, dilation, groups)
    want_gx = _conv.conv_transpose(CPU_BACKEND, g, w, None, stride, padding, extra, dilation, groups)
    assert gx.shape == xs
    np.testing.assert_allclose(gx, want_gx, rtol=tol, atol=tol)
    # <conv(x, w), g> == <x, conv_transpose(g, w)>: the adjoint identity, independently of the composed path
    lhs = float(np.vdot((out - b.reshape((1, -1) + (1,) * (len(xs) - 2))).astype(np.float64), g))
    assert lhs == pytest.approx(float(np.vdot(x.astype(np.float64), gx)), rel=1e-3 if dtype == np.float32 else 1e-9)


def test_chunked_conv_transpose_with_bias_matches_composed(chunk_bytes):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((5, 4, 4, 5)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(6)
    args = ((1, 1), (1, 0), (0, 1), (1, 2), 2)
    np.testing.assert_allclose(_conv_cpu.conv_transpose(x, w, b, *args), _conv.conv_transpose(CPU_BACKEND, x, w, b,
                                                                                                 *args),
                               rtol=1e-12, atol=1e-12)


def test_other_strides_and_dtypes_use_the_composed_path():
    x, w = np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3))
    assert _conv_cpu.conv(x, w, None, (2, 2), (0, 0), (1, 1), 1) is None
    assert _conv_cpu.conv(x.astype(np.float16), w.astype(np.float16), None, (1, 1), (0, 0), (1, 1), 1) is None
    assert _conv_cpu.conv(x, w.astype(np.float32), None, (1, 1), (0, 0), (1, 1), 1) is None
    args = ((2, 2), (0, 0), (1, 1), 1)
    np.testing.assert_array_equal(CPU_BACKEND.conv(x, w, None, *args), _conv.conv(CPU_BACKEND, x, w, None, *args))
