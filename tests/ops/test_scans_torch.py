"""Scans, sorting and counting ops against PyTorch: values, dtypes, shapes, return types and errors.

The differentiable ones are driven by the op database (tests/op_db/scans.py,
tests/op_db/sorting.py); this file covers integer results (argsort, unique,
bincount, histc, bucketize, searchsorted, count_nonzero, index outputs), the
named-tuple results, in-place variants, dtype rules and error cases.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad

torch = pytest.importorskip("torch")

NAN = float("nan")


def _lib_args(lib, args):
    return [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in args]


def _same(a, b, what):
    """One tapegrad result against one torch result: type, dtype, shape and values (nan equal)."""
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), what
        if hasattr(b, "_fields"):
            assert type(a).__name__ == type(b).__name__ and a._fields == b._fields, (what, a, b)
        for x, y in zip(a, b):
            _same(x, y, what)
        return
    assert isinstance(a, tapegrad.Tensor), (what, a)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (what, a.dtype, b.dtype)
    assert tuple(a.shape) == tuple(b.shape), (what, a.shape, b.shape)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=what)


def compare(name, *args, method=False, **kwargs):
    if method:
        got = getattr(tapegrad.tensor(args[0]), name)(*_lib_args(tapegrad, args[1:]), **kwargs)
        want = getattr(torch.tensor(args[0]), name)(*_lib_args(torch, args[1:]), **kwargs)
    else:
        got = getattr(tapegrad, name)(*_lib_args(tapegrad, args), **kwargs)
        want = getattr(torch, name)(*_lib_args(torch, args), **kwargs)
    _same(got, want, f"{name}{tuple(np.shape(a) for a in args)} {kwargs}")


def errors_alike(name, *args, **kwargs):
    with pytest.raises(Exception) as want:
        getattr(torch, name)(*_lib_args(torch, args), **kwargs)
    with pytest.raises(type(want.value)) as got:
        getattr(tapegrad, name)(*_lib_args(tapegrad, args), **kwargs)
    assert name.split("_")[0] in str(got.value).lower() or "bincount" in str(got.value), str(got.value)


INTS = np.array([[3, 1, 3, 0], [2, 2, -1, 2], [0, 0, 0, 5]], np.int64)
FLOATS = np.array([[0.5, NAN, -1.0, 0.5], [2.0, 2.0, -0.0, 0.0], [NAN, 1.0, NAN, -3.0]], np.float32)
BOOLS = np.array([True, False, False, True, True])


# ----------------------------------------------------------------- unique / unique_consecutive
@pytest.mark.parametrize("x", [INTS, FLOATS[1:2], BOOLS, np.zeros((0,), np.int64), np.array(4)], ids=str)
@pytest.mark.parametrize("inv", [False, True])
@pytest.mark.parametrize("counts", [False, True])
def test_unique_flat(x, inv, counts):
    compare("unique", x, return_inverse=inv, return_counts=counts)
    compare("unique_consecutive", x, return_inverse=inv, return_counts=counts)
    compare("unique", x, method=True, sorted=True, return_inverse=inv, return_counts=counts)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_dim(dim):
    x = np.array([[1, 2, 1, 1], [1, 2, 1, 1], [0, 5, 0, 0], [1, 2, 1, 1]], np.int64)
    compare("unique", x, dim=dim, return_inverse=True, return_counts=True)
    compare("unique_consecutive", x, dim=dim, return_inverse=True, return_counts=True)
    compare("unique", np.stack([x, x[::-1]]), dim=dim, return_inverse=True)


@given(hnp.arrays(np.int64, hnp.array_shapes(max_dims=3, max_side=4), elements=st.integers(-2, 2)),
       st.booleans(), st.booleans())
def test_unique_fuzzed(x, inv, counts):
    compare("unique", x, return_inverse=inv, return_counts=counts)
    compare("unique_consecutive", x, return_inverse=inv, return_counts=counts)
    if x.ndim:
        compare("unique", x, dim=x.ndim - 1, return_inverse=inv, return_counts=counts)


def test_unique_float_nan_each_distinct():
    compare("unique", np.array([1.0, NAN, NAN, 0.0]), return_inverse=True, return_counts=True)


# ----------------------------------------------------------------- searchsorted / bucketize
SEQ = np.array([-1.0, 0.0, 0.0, 2.0, 5.0])


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("out_int32", [False, True])
def test_searchsorted(right, out_int32):
    v = np.array([[0.0, -3.0, 2.5], [5.0, 9.0, 0.0]])
    compare("searchsorted", SEQ, v, right=right, out_int32=out_int32)
    compare("searchsorted", np.sort(INTS, 1), INTS[:, :2].copy(), right=right)           # per-row sequences
    compare("searchsorted", np.array([1, 3, 3, 8]), INTS, right=right)                     # integers
    compare("searchsorted", np.array([1, 3, 3, 8]), 3, right=right)                        # a Python number
    compare("searchsorted", np.array([0.0, 0.1, 0.2]), 0.1, right=right)                   # compared in float64
    compare("bucketize", v, SEQ, right=right, out_int32=out_int32)
    compare("bucketize", 0.0, SEQ, right=right)


def test_searchsorted_side_and_sorter():
    compare("searchsorted", SEQ, np.array([0.0, 2.0]), side="right")
    unsorted = np.array([5.0, -1.0, 2.0, 0.0])
    sorter = np.argsort(unsorted)
    got = tapegrad.searchsorted(tapegrad.tensor(unsorted), tapegrad.tensor([0.5, 3.0]), sorter=tapegrad.tensor(sorter))
    want = torch.searchsorted(torch.tensor(unsorted), torch.tensor([0.5, 3.0]), sorter=torch.tensor(sorter))
    _same(got, want, "searchsorted sorter")


def test_searchsorted_errors():
    errors_alike("searchsorted", np.array([[1.0, 2.0]]), np.array([[1.0], [2.0]]))
    errors_alike("searchsorted", SEQ, np.array([1.0]), right=True, side="left")
    errors_alike("bucketize", np.array([1.0]), np.array([[1.0, 2.0]]))


# ----------------------------------------------------------------- bincount / histc / count_nonzero
def test_bincount():
    x = np.array([1, 3, 3, 0, 7])
    compare("bincount", x)
    compare("bincount", x, minlength=10)
    compare("bincount", x, np.array([0.5, 1.0, 2.0, 3.0, -1.0]), method=True)
    compare("bincount", x, np.array([0.5, 1.0, 2.0, 3.0, -1.0], np.float32))
    compare("bincount", x, np.array([1, 2, 3, 4, 5]))                   # integer weights sum as float64
    compare("bincount", np.zeros((0,), np.int64))
    compare("bincount", np.zeros((0,), np.int64), np.zeros((0,)), minlength=3)    # int64, as PyTorch's


def test_bincount_errors():
    errors_alike("bincount", np.array([1, -1]))
    errors_alike("bincount", np.array([[1, 2]]))
    with pytest.raises(RuntimeError, match="bincount"):
        tapegrad.bincount(tapegrad.tensor([1.0, 2.0]))


@given(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=6), elements=st.floats(-3, 3)),
       st.integers(1, 7), st.sampled_from([(0, 0), (-1.0, 1.0), (0.5, 2.5)]))
def test_histc(x, bins, bounds):
    compare("histc", x, bins=bins, min=bounds[0], max=bounds[1])
    compare("histc", x.astype(np.float32), method=True, bins=bins)


def test_histc_errors():
    with pytest.raises(RuntimeError, match="histc"):
        tapegrad.histc(tapegrad.tensor([1, 2]))
    errors_alike("histc", np.array([1.0, 2.0]), bins=2, min=3, max=1)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_count_nonzero(dim):
    compare("count_nonzero", INTS, dim=dim)
    compare("count_nonzero", FLOATS, dim=dim)
    compare("count_nonzero", INTS, method=True, dim=dim)


# ----------------------------------------------------------------- sort family: indices, dtypes, return types
@given(hnp.arrays(np.int64, hnp.array_shapes(max_dims=3, max_side=4), elements=st.integers(-2, 2)),
       st.data(), st.booleans())
def test_stable_sort_indices_with_ties(x, data, descending):
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    compare("sort", x, dim=dim, descending=descending, stable=True)
    compare("argsort", x, dim=dim, descending=descending, stable=True)


@pytest.mark.parametrize("descending", [False, True])
def test_sort_nan_and_bool(descending):
    compare("sort", FLOATS, 1, descending)
    compare("sort", BOOLS, descending=descending, stable=True)
    compare("argsort", FLOATS, dim=0, descending=descending, stable=True)
    compare("sort", np.zeros((2, 0)), 1, descending)


def test_value_index_pairs():
    x = np.array([[4.0, 1.0, 3.0, 2.0, 5.0], [0.0, -1.0, 7.0, NAN, 2.0]])
    compare("topk", x, 2)
    compare("topk", x, 3, dim=1, largest=False)
    compare("topk", x, 0)
    compare("kthvalue", x, 3, 1, True)
    compare("median", x, 1)
    compare("median", x, method=True, dim=0, keepdim=True)
    compare("nanmedian", x, 1)
    compare("median", x)
    compare("nanmedian", x)
    compare("mode", INTS, 1)
    compare("mode", INTS, 0, True)
    compare("cummax", INTS, 1)
    compare("cummin", FLOATS, 0)
    compare("cummax", BOOLS, 0)
    compare("aminmax", x[:, :3].copy(), dim=1, keepdim=True)
    compare("aminmax", INTS)
    compare("msort", x)


def test_scalar_inputs():
    s = np.array(2.5)
    for name, args in [("sort", ()), ("argsort", ()), ("topk", (1,)), ("kthvalue", (1,)), ("median", (0,)),
                       ("mode", ()), ("cumsum", (0,)), ("cumprod", (0,)), ("cummax", (0,)), ("logcumsumexp", (0,))]:
        compare(name, s, *args)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.bool_, np.float32, np.float64])
def test_scan_dtypes(dtype):
    x = np.array([[1, 0, 2], [3, 1, 1]]).astype(dtype)
    compare("cumsum", x, 1)
    compare("cumprod", x, 0)
    if dtype is not np.bool_:
        compare("diff", x, dim=0)
    compare("diff", x.astype(bool), 1, 1)


def test_scan_dtype_argument():
    x = np.array([1, 2, 3], np.int32)
    got = tapegrad.cumsum(tapegrad.tensor(x), 0, dtype=tapegrad.float64)
    want = torch.cumsum(torch.tensor(x), 0, dtype=torch.float64)
    _same(got, want, "cumsum dtype")
    got = tapegrad.nansum(tapegrad.tensor(FLOATS), 1, dtype=tapegrad.float64)
    want = torch.nansum(torch.tensor(FLOATS), 1, dtype=torch.float64)
    _same(got, want, "nansum dtype")


def test_inplace_scans():
    for name in ("cumsum_", "cumprod_"):
        a, b = tapegrad.tensor(FLOATS[1:].copy()), torch.tensor(FLOATS[1:].copy())
        assert getattr(a, name)(1) is a
        getattr(b, name)(1)
        _same(a, b, name)
        assert a._version[0] == 1


def test_inplace_scan_gradient():
    x = tapegrad.tensor([[0.5, 2.0, -1.0]], dtype=tapegrad.float64, requires_grad=True)
    y = x * 1.0
    y.cumprod_(1)
    y.sum().backward()
    xt = torch.tensor([[0.5, 2.0, -1.0]], dtype=torch.float64, requires_grad=True)
    yt = xt * 1.0
    yt.cumprod_(1)
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())


def test_return_type_reprs():
    r = tapegrad.sort(tapegrad.tensor([2.0, 1.0]))
    assert repr(r).startswith("tapegrad.return_types.sort(\nvalues=tensor([1., 2.]),\nindices=tensor([1, 0]))")
    assert type(tapegrad.aminmax(tapegrad.tensor([1.0]))).__module__ == "tapegrad.return_types"


# ----------------------------------------------------------------- errors
@pytest.mark.parametrize("call", [
    ("cumsum", (FLOATS, 2), {}), ("cummax", (FLOATS, -3), {}), ("sort", (FLOATS, 2), {}),
    ("topk", (FLOATS, 5), {}), ("kthvalue", (FLOATS, 0), {}), ("kthvalue", (FLOATS, 5), {}),
    ("median", (np.zeros((2, 0)), 1), {}), ("mode", (np.zeros((0, 2)), 0), {}),
    ("logcumsumexp", (INTS, 0), {}), ("quantile", (FLOATS, 1.5), {}), ("quantile", (INTS, 0.5), {}),
    ("nanmean", (INTS,), {}), ("diff", (np.array(1.0),), {}), ("diff", (FLOATS,), {"n": -1}),
    ("quantile", (FLOATS, 0.5), {"interpolation": "cubic"}), ("unique", (INTS,), {"dim": 2}),
], ids=lambda c: c[0])
def test_errors_like_torch(call):
    name, args, kwargs = call
    with pytest.raises(Exception) as want:
        getattr(torch, name)(*_lib_args(torch, args), **kwargs)
    with pytest.raises(Exception) as got:
        getattr(tapegrad, name)(*_lib_args(tapegrad, args), **kwargs)
    assert isinstance(got.value, type(want.value)) or isinstance(want.value, type(got.value)), \
        (name, got.value, want.value)


# ----------------------------------------------------------------- gradients beyond the op database
def test_logcumsumexp_gradient_is_finite_after_minus_inf():
    # PyTorch 2.13 returns nan at the -inf inputs (its formula computes -inf - -inf); the
    # derivative exp(x_j - out_i) is 0 there, and tapegrad returns that, to first and second order.
    x = tapegrad.tensor([-np.inf, -np.inf, 0.5, -1.0], dtype=tapegrad.float64, requires_grad=True)
    y = tapegrad.logcumsumexp(x, 0)
    g, = tapegrad.autograd.grad((y * tapegrad.tensor([1.0, -2.0, 0.5, 3.0], dtype=tapegrad.float64)).sum(), x,
                                create_graph=True)
    xt = torch.tensor([-np.inf, -np.inf, 0.5, -1.0], dtype=torch.float64, requires_grad=True)
    gt, = torch.autograd.grad((torch.logcumsumexp(xt, 0) * torch.tensor([1.0, -2.0, 0.5, 3.0],
                                                                          dtype=torch.float64)).sum(), xt)
    np.testing.assert_allclose(g.detach().numpy()[2:], gt.numpy()[2:], rtol=1e-12)
    assert g.detach().numpy()[:2].tolist() == [0.0, 0.0]
    h, = tapegrad.autograd.grad(g.sum(), x)
    assert np.isfinite(h.numpy()).all()


def test_cumprod_second_derivative_at_zeros_matches_torch():
    data = [[1.5, 0.0, 2.0, 0.5], [0.0, 0.0, 3.0, 1.0], [2.0, -1.0, 0.0, 4.0]]
    w = [[0.5, -1.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 0.25, 2.0]]
    out = []
    for lib in (tapegrad, torch):
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        g, = lib.autograd.grad((lib.cumprod(x, 1) * lib.tensor(w, dtype=lib.float64)).sum(), x, create_graph=True)
        h, = lib.autograd.grad((g * lib.tensor(w, dtype=lib.float64)).sum(), x)
        out.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12)


def test_median_without_dim_splits_ties_evenly():
    x = tapegrad.tensor([2.0, 1.0, 2.0, 3.0, 2.0], requires_grad=True)
    tapegrad.median(x).backward()
    xt = torch.tensor([2.0, 1.0, 2.0, 3.0, 2.0], requires_grad=True)
    torch.median(xt).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
