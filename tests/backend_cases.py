"""The backend conformance table: a call of every declared backend method with small awkward inputs.

``CASES`` covers every method declared in tapegrad/backend/base.py
(tests/test_backend_conformance.py checks that). ``check_case(be, case)``
runs one case on backend ``be`` and compares it with NumPy's own result on
the CPU backend and with the NumPy backend on any other one
(tests/cuda/test_sim_conformance.py). Inputs are NumPy arrays, copied onto
the backend for each run; ``H(x)`` passes ``x`` as is and ``T(a)`` passes the
transposed (non-contiguous) view made on the backend.
"""
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import pytest

from tapegrad import backend as B
from tapegrad.backend import CPU_BACKEND
from tapegrad.backend.base import ArrayBackend, declared_methods

DECLARED = declared_methods()


class H:
    """An argument passed as is to the backend (a host value), not converted to its array."""

    def __init__(self, value):
        self.value = value


class T:
    """The transposed (non-contiguous) view of a 2-D array, made on the backend."""

    def __init__(self, value):
        self.value = value


@dataclass
class Case:
    method: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    ref: Optional[Callable] = None          # NumPy's result from the (NumPy) arguments
    inplace: bool = False                   # compare the arguments after the call, not the result
    check: Optional[Callable] = None        # check(be): properties instead of values (random, empty)
    tol: float = 0.0
    raises: Optional[type] = None           # the exception NumPy raises (and every backend must)
    id: str = ""


def to_backend(be, x):
    if isinstance(x, H):
        return x.value
    if isinstance(x, T):
        return be.transpose(be.from_numpy(np.array(x.value)), (1, 0))
    if isinstance(x, np.ndarray):
        return be.from_numpy(np.array(x))           # a fresh copy: in-place methods must not touch the table
    if isinstance(x, (tuple, list)):
        return type(x)(to_backend(be, v) for v in x)
    return x


def to_ref(x):
    if isinstance(x, H):
        return x.value
    if isinstance(x, T):
        return np.array(x.value).T
    if isinstance(x, np.ndarray):
        return np.array(x)
    if isinstance(x, (tuple, list)):
        return type(x)(to_ref(v) for v in x)
    return x


def to_host(be, x):
    if isinstance(x, (tuple, list)):
        return tuple(to_host(be, v) for v in x)
    if type(x) in B.BY_TYPE:
        return np.asarray(B.BY_TYPE[type(x)].to_numpy(x))
    return x


def run_case(be, case, impl=None):
    """Run ``case`` on backend ``be`` (with ``impl`` instead of the backend's own method); host results."""
    args = to_backend(be, case.args)
    fn = getattr(be, case.method) if impl is None else impl.__get__(be)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out = fn(*args, **case.kwargs)
    return to_host(be, args if case.inplace else out)


def reference(case):
    args = to_ref(case.args)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out = case.ref(*args, **case.kwargs)
    return to_host(CPU_BACKEND, args if case.inplace else out)


def assert_same(got, want, tol, what):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), (what, got, want)
        for g, w in zip(got, want):
            assert_same(g, w, tol, what)
        return
    if isinstance(want, (bool, int, float, np.generic)) and not isinstance(got, np.ndarray):
        assert type(bool(got)) is type(bool(want)) and (got == want or (got != got and want != want)), (what, got, want)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, \
        f"{what}: got {got.shape} {got.dtype}, want {want.shape} {want.dtype}"
    if tol and want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


RNG = np.random.default_rng(7)


def _f(shape, dtype=np.float64, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, shape).astype(dtype)


A = np.array([[0.0, -1.5, 2.5, 0.5], [-0.0, 3.0, -2.5, 1.0], [1.5, -1.0, 0.25, -3.0]])     # (3, 4): zeros, halves
A32 = A.astype(np.float32)
EDGE = np.array([0.0, -0.0, -1.0, 1.0, np.nan, np.inf, -np.inf, 0.5, -2.5], np.float32)
I = np.array([[3, -7, 0, 2], [5, 5, -1, 9]], np.int64)
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
X = _f((4, 3))
TARGET = np.array([0, 2, -100, 1], np.int64)
_erf = np.vectorize(math.erf, otypes=[np.float64])

SPD = (lambda a: a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3))(_f((2, 3, 3)))     # symmetric positive-definite


def _la(method, *args, **kw):
    return _c(method, *args, ref=getattr(np.linalg, method), **kw)


def _expm_sym(a):
    w, v = np.linalg.eigh(a)
    return (v * np.exp(w)[..., None, :]) @ np.swapaxes(v, -1, -2)


def _sigmoid(x):
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


def _ce(x, t, ignore_index):
    valid = t != ignore_index
    ts = np.where(valid, t, 0)
    m = x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(axis=1)) + m[:, 0]
    return ((lse - x[np.arange(len(x)), ts]) * valid).astype(x.dtype), int(valid.sum())


def _ce_grad(x, t, ignore_index, scale):
    valid = t != ignore_index
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    onehot = np.arange(x.shape[1])[None, :] == np.where(valid, t, 0)[:, None]
    return ((p - onehot) * (scale * valid)[:, None]).astype(x.dtype)


def _ce_grad_reduced(x, t, ignore_index, g, mean):
    scale = g / max(int((t != ignore_index).sum()), 1) if mean else g
    return _ce_grad(x, t, ignore_index, np.full(len(x), scale, x.dtype))


def _ln(x, w, b, eps):
    xd = x.astype(np.float64)
    out = (xd - xd.mean(1, keepdims=True)) / np.sqrt(xd.var(1, keepdims=True) + eps)
    out = out * (1 if w is None else w) + (0 if b is None else b)
    return out.astype(x.dtype)


def _ln_grad(g, x, w, eps, needs):
    xd, gd = x.astype(np.float64), g.astype(np.float64)
    rstd = 1 / np.sqrt(xd.var(1, keepdims=True) + eps)
    xhat = (xd - xd.mean(1, keepdims=True)) * rstd
    gy = gd if w is None else gd * w
    gx = rstd * (gy - gy.mean(1, keepdims=True) - xhat * (gy * xhat).mean(1, keepdims=True))
    res = (gx, (gd * xhat).sum(0), gd.sum(0))
    return tuple(r.astype(x.dtype) if n else None for r, n in zip(res, needs))


def _sgd(p, g, buf, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False,
         first_step=False):
    d = -g if maximize else g
    d = d + weight_decay * p
    if momentum:
        buf[...] = d if first_step else momentum * buf + (1 - dampening) * d
        d = d + momentum * buf if nesterov else buf
    p -= (lr * d).astype(p.dtype)


MULTI_SHAPES = [(3, 4), (4,), (2, 3, 2), (1,), (5,), (2, 2), (3,), (0,), (6,)]


def _multi(single, arrays):
    """The reference of a multi-tensor update: ``single`` on each parameter (the first ``arrays`` args are lists;
    a None list, SGD's buffers without momentum, stands for the parameters)."""
    def ref(*args, **kw):
        lists = [a if a is not None else args[0] for a in args[:arrays]]
        for i in range(len(lists[0])):
            single(*[l[i] for l in lists], *args[arrays:], **kw)
    return ref


def _adam(p, g, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False,
          maximize=False):
    d = -g if maximize else g
    w = p * (1 - lr * weight_decay) if decoupled else p
    if weight_decay and not decoupled:
        d = d + weight_decay * w
    m[...] = beta1 * m + (1 - beta1) * d
    v[...] = beta2 * v + (1 - beta2) * d * d
    p[...] = w - lr / (1 - beta1 ** step) * m / (np.sqrt(v) / math.sqrt(1 - beta2 ** step) + eps)


def _windows(x, axes, window, stride, dilation):
    # NumPy's own view of every window of span d * (k - 1) + 1, then the stride and dilation as slices
    span = tuple(d * (k - 1) + 1 for k, d in zip(window, dilation))
    v = np.lib.stride_tricks.sliding_window_view(x, span, axis=axes)
    key = [slice(None)] * x.ndim + [slice(None, None, d) for d in dilation]
    for a, s in zip(axes, stride):
        key[a % x.ndim] = slice(None, None, s)
    return v[tuple(key)]


def conv_ref(x, w, b=None, stride=(1,), padding=(0,), dilation=(1,), groups=1):
    # the definition, one output element at a time
    nd = x.ndim - 2
    x = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    o, cg = w.shape[:2]
    k = w.shape[2:]
    out_sp = tuple((n - d * (kk - 1) - 1) // s + 1 for n, kk, s, d in zip(x.shape[2:], k, stride, dilation))
    out = np.zeros((x.shape[0], o) + out_sp, np.result_type(x, w))
    for pos in np.ndindex(*out_sp):
        for oc in range(o):
            gi = oc // (o // groups)
            idx = tuple(slice(p * s, p * s + d * (kk - 1) + 1, d) for p, s, d, kk in zip(pos, stride, dilation, k))
            patch = x[(slice(None), slice(gi * cg, (gi + 1) * cg)) + idx]
            out[(slice(None), oc) + pos] = (patch * w[oc]).reshape(len(x), patch[0:1].size).sum(1)
    return out if b is None else out + b.reshape((1, o) + (1,) * nd)


def conv_transpose_ref(x, w, b=None, stride=(1,), padding=(0,), output_padding=(0,), dilation=(1,), groups=1):
    # scatter each input element's weighted kernel, then crop the padding
    c, og = w.shape[:2]
    k = w.shape[2:]
    full = tuple((n - 1) * s + d * (kk - 1) + 1 + op
                 for n, s, d, kk, op in zip(x.shape[2:], stride, dilation, k, output_padding))
    out = np.zeros((x.shape[0], og * groups) + full, np.result_type(x, w))
    for pos in np.ndindex(*x.shape[2:]):
        for ic in range(c):
            gi = ic // (c // groups)
            idx = tuple(slice(p * s, p * s + d * (kk - 1) + 1, d) for p, s, d, kk in zip(pos, stride, dilation, k))
            out[(slice(None), slice(gi * og, (gi + 1) * og)) + idx] += \
                x[(slice(None), ic) + pos].reshape((-1, 1) + (1,) * len(k)) * w[ic]
    out = out[(slice(None), slice(None)) + tuple(slice(p, f - p) for p, f in zip(padding, full))]
    return out if b is None else out + b.reshape((1, -1) + (1,) * len(k))


def _conv_weight_ref(x, g, kernel_size, stride, padding, dilation, groups):
    # the weight gradient of sum(g * conv(x, w)) is the gradient of a linear function: its value at each basis w
    shape = (g.shape[1], x.shape[1] // groups) + tuple(kernel_size)
    out = np.zeros(shape)
    for i in np.ndindex(*shape):
        e = np.zeros(shape)
        e[i] = 1
        y = conv_ref(x, e, None, stride, padding, dilation, groups)
        out[i] = (y[(slice(None),) * 2 + tuple(slice(0, n) for n in g.shape[2:])] * g).sum()
    return out


def _check_empty(be):
    a = be.empty((2, 3), np.float32)
    assert tuple(a.shape) == (2, 3) and a.dtype == np.float32 and type(a) in be.array_types


def _check_seed(be):
    be.seed(11)
    first = [be.to_numpy(be.rand((5,), np.float32)), be.to_numpy(be.permutation(6))]
    be.seed(11)
    again = [be.to_numpy(be.rand((5,), np.float32)), be.to_numpy(be.permutation(6))]
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(be.to_numpy(be.rand((5,), np.float32)), first[0])


def _check_rand(be):
    for dt in (np.float32, np.float64):
        u = be.to_numpy(be.rand((400,), dt))
        assert u.dtype == dt and u.shape == (400,) and u.min() >= 0 and u.max() < 1 and 0.4 < u.mean() < 0.6


def _check_randn(be):
    n = be.to_numpy(be.randn((2, 300), np.float64))
    assert n.dtype == np.float64 and n.shape == (2, 300) and abs(n.mean()) < 0.2 and 0.8 < n.std() < 1.2


def _check_randint(be):
    r = be.to_numpy(be.randint(-2, 3, (300,), np.int64))
    assert r.dtype == np.int64 and set(np.unique(r)) == {-2, -1, 0, 1, 2}


def _check_bernoulli(be):
    b = be.to_numpy(be.bernoulli(0.25, (800,), np.float32))
    assert b.dtype == np.float32 and set(np.unique(b)) <= {0.0, 1.0} and 0.15 < b.mean() < 0.35
    p = be.from_numpy(np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0]], np.float32))
    np.testing.assert_array_equal(be.to_numpy(be.bernoulli(p, None, np.float32)), be.to_numpy(p))


def _check_permutation(be):
    p = be.to_numpy(be.permutation(9))
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(9))


def _c(method, *args, ref=None, kwargs=None, **kw):
    return Case(method, args, kwargs or {}, ref if ref is not None else getattr(np, method), **kw)


UNARY_REFS = {"exp": np.exp, "log": np.log, "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt, "abs": np.abs,
              "sign": np.sign, "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh, "sigmoid": _sigmoid,
              "erf": lambda x: _erf(x).astype(x.dtype), "reciprocal": np.reciprocal, "square": np.square,
              "floor": np.floor, "ceil": np.ceil, "round": np.round, "logical_not": np.logical_not,
              "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite}
def _math_ref(fn, pole=None):
    """A NumPy reference from a ``math`` function: float64 math, inf at ``pole(x)``, nan for nan."""
    def ref(x):
        def one(v):
            if v != v:
                return v
            if pole is not None and pole(v):
                return math.inf
            try:
                return fn(v)
            except OverflowError:
                return math.inf
        out = np.array([one(float(v)) for v in np.ravel(x)], np.float64).reshape(np.shape(x))
        return out.astype(x.dtype) if x.dtype.kind == "f" else out
    return ref


UNARY_REFS.update({"sinh": np.sinh, "cosh": np.cosh, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
                   "arcsinh": np.arcsinh, "arccosh": np.arccosh, "arctanh": np.arctanh, "log2": np.log2,
                   "log10": np.log10, "exp2": np.exp2, "trunc": np.trunc, "erfc": _math_ref(math.erfc),
                   "lgamma": _math_ref(math.lgamma, lambda v: abs(v) == math.inf or (v <= 0 and v == math.floor(v)))})


def _check_digamma(be):
    # psi(x + 1) - psi(x) = 1 / x; psi(1) = -Euler's constant; -inf at 0, nan at the negative integers
    x = np.array([0.3, 1.0, 2.5, 7.25, 40.0, -0.5, -2.5])
    d0, d1 = (be.to_numpy(be.digamma(be.from_numpy(v))) for v in (x, x + 1))
    np.testing.assert_allclose(d1 - d0, 1 / x, rtol=1e-10)
    np.testing.assert_allclose(d0[1], -0.5772156649015329, rtol=1e-12)
    edge = be.to_numpy(be.digamma(be.from_numpy(np.array([0.0, -1.0, -3.0, math.inf, math.nan]))))
    assert edge[0] == -math.inf and np.isnan(edge[1]) and np.isnan(edge[2]) and edge[3] == math.inf
    assert np.isnan(edge[4])


def _check_trigamma(be):
    # psi1(x) - psi1(x + 1) = 1 / x**2; psi1(1) = pi**2 / 6
    x = np.array([0.3, 1.0, 2.5, 7.25, 40.0, -0.5, -2.5])
    t0, t1 = (be.to_numpy(be.trigamma(be.from_numpy(v))) for v in (x, x + 1))
    np.testing.assert_allclose(t0 - t1, 1 / x ** 2, rtol=1e-9)
    np.testing.assert_allclose(t0[1], math.pi ** 2 / 6, rtol=1e-12)


def _check_erfinv(be):
    x = np.array([-0.999999, -0.9, -0.3, 0.0, 1e-8, 0.5, 0.99, 0.9999999])
    y = be.to_numpy(be.erfinv(be.from_numpy(x)))
    np.testing.assert_allclose([math.erf(v) for v in y], x, rtol=1e-12, atol=1e-15)
    edge = be.to_numpy(be.erfinv(be.from_numpy(np.array([-1.0, 1.0, 1.5, math.nan], np.float32))))
    assert edge.dtype == np.float32 and edge[0] == -math.inf and edge[1] == math.inf and np.isnan(edge[2:]).all()


BINARY = ("maximum", "minimum", "floor_divide", "remainder", "equal", "not_equal", "less", "less_equal", "greater",
          "greater_equal", "logical_and", "logical_or", "logical_xor")

SCANS = {"cumsum": np.cumsum, "cumprod": np.cumprod, "cummax": np.maximum.accumulate,
         "cummin": np.minimum.accumulate, "logcumsumexp": np.logaddexp.accumulate}


def _argsort(x, axis):
    return np.argsort(x, axis, kind="stable")


def _searchsorted_rows(a, v, side="left"):
    return np.stack([np.searchsorted(r, w, side=side) for r, w in zip(a, v)])


CASES = [
    # creation and host copies
    _c("asarray", H([1, 2]), np.float32), _c("asarray", A32, ref=np.asarray, id="own"),
    _c("zeros", (2, 3), np.float32), _c("ones", (3,), np.int64), _c("full", (2, 2), 1.5, np.float32),
    Case("empty", check=_check_empty),
    _c("arange", 1, 8, 3, np.int64, ref=lambda *a: np.arange(*a[:3], dtype=a[3])),
    _c("arange", 0.0, 1.0, 0.25, np.float32, ref=lambda *a: np.arange(*a[:3], dtype=a[3]), id="float"),
    _c("eye", 2, 3, np.float64, ref=lambda n, m, dt: np.eye(n, m, dtype=dt)),
    _c("to_numpy", A32, ref=lambda a: a), _c("from_numpy", H(I), ref=lambda a: a),
    _c("copy", T(A32), ref=np.copy), _c("astype", A, np.int32, ref=lambda a, d: a.astype(d)),
    _c("astype", I, np.float32, ref=lambda a, d: a.astype(d), id="int"),
    _c("is_view", A, ref=lambda a: a.base is not None), _c("is_view", T(A), ref=lambda a: True, id="T"),
    _c("is_contiguous", A, ref=lambda a: a.flags.c_contiguous),
    _c("is_contiguous", T(A), ref=lambda a: a.flags.c_contiguous, id="T"),
    # random numbers (properties, not values)
    Case("seed", check=_check_seed), Case("rand", check=_check_rand), Case("randn", check=_check_randn),
    Case("randint", check=_check_randint), Case("bernoulli", check=_check_bernoulli),
    Case("permutation", check=_check_permutation),
    # elementwise
    *[_c(n, EDGE, ref=r, tol=1e-6) for n, r in UNARY_REFS.items()],
    *[_c(n, T(A), ref=r, tol=1e-12, id="T") for n, r in UNARY_REFS.items()],
    *[_c(n, I, ref=r, tol=1e-12, id="int") for n, r in UNARY_REFS.items() if n not in ("reciprocal", "sigmoid",
                                                                                       "erf")],
    *[_c(n, A[:, :1], A[0], tol=1e-12) for n in BINARY],
    *[_c(n, EDGE, np.float32(0.5), tol=1e-6, id="scalar") for n in BINARY],
    *[_c(n, I, 3, id="int") for n in BINARY],
    Case("digamma", check=_check_digamma), Case("trigamma", check=_check_trigamma),
    Case("erfinv", check=_check_erfinv),
    *[_c(n, A[:, :1], A[0], tol=1e-12) for n in ("arctan2", "hypot", "copysign", "fmod")],
    *[_c(n, EDGE, np.float32(-0.5), tol=1e-6, id="scalar") for n in ("arctan2", "hypot", "copysign", "fmod")],
    _c("fmod", np.array([-7, -3, 0, 5, 9]), np.array([2, -2, 3, 3, 4]), id="int"),
    *[_c(n, I, np.array(3), id="int") for n in ("bitwise_and", "bitwise_or", "bitwise_xor")],
    _c("bitwise_and", MASK, ~MASK, id="bool"), _c("invert", I), _c("invert", np.array([-3, 0, 7], np.int32), id="i32"),
    *[_c(n, I, np.array(2), id="int") for n in ("left_shift", "right_shift")],
    _c("maximum", 2.0, A32, id="left"), _c("minimum", EDGE, EDGE[::-1].copy(), id="nan"),
    _c("where", MASK, A, A * 10), _c("where", MASK, A32, 0.0, id="scalar"),
    _c("clip", EDGE, -0.5, 0.75), _c("clip", A, None, 0.5, id="hi"), _c("clip", A, -1.0, None, id="lo"),
    # reductions
    *[_c(n, A, kwargs=kw, tol=1e-12, id=str(kw)) for n in ("sum", "prod", "max", "min")
      for kw in ({}, {"axis": 1}, {"axis": (0, 1), "keepdims": True}, {"axis": 0, "keepdims": True})],
    _c("max", A[:0], kwargs={"axis": 0}, raises=ValueError, id="size-0"),
    _c("sum", MASK, kwargs={"axis": 0}, id="bool"), _c("sum", I, id="int"),
    *[_c(n, np.array([[1.0, 3.0, 3.0], [-1.0, -1.0, 2.0]]), kwargs=kw, id=str(kw)) for n in ("argmax", "argmin")
      for kw in ({}, {"axis": 1}, {"axis": 0, "keepdims": True})],
    *[_c(n, MASK, kwargs=kw, id=str(kw)) for n in ("any", "all") for kw in ({}, {"axis": 1})],
    # movement and indexing
    _c("reshape", A, (4, 3)), _c("reshape", T(A), (12,), id="T"), _c("transpose", A, (1, 0)),
    _c("transpose", np.zeros((1, 2, 3)), (2, 0, 1), id="3d"), _c("broadcast_to", A[:, :1].copy(), (2, 3, 4)),
    _c("expand_dims", A, 1), _c("squeeze", A[:, None], 1), _c("squeeze", np.ones((1, 3, 1)), id="all"),
    _c("squeeze", A, 1, raises=ValueError, id="not-1"),
    _c("flip", A, 1), _c("flip", A, id="all"), _c("tile", A32, (2, 1)),
    _c("ascontiguousarray", T(A32)), _c("concatenate", [A, A * 2], kwargs={"axis": 1}),
    _c("stack", [A32, A32], kwargs={"axis": 1}), _c("take", A, np.array([3, 0, 3]), kwargs={"axis": 1}),
    _c("take", A, np.array([[11, 0]]), id="flat"), _c("take_along_axis", A, np.array([[1], [3], [0]]), 1),
    _c("nonzero", MASK),
    _c("getitem", A, (slice(0, 2), 1), ref=lambda a, k: a[k]),
    _c("getitem", A, (slice(None), slice(None, None, -2)), ref=lambda a, k: a[k], id="negstep"),
    _c("getitem", A, (np.array([2, 0, 2]),), ref=lambda a, k: a[k], id="int"),
    _c("getitem", A, MASK, ref=lambda a, k: a[k], id="mask"),
    Case("setitem", (A.copy(), (slice(None), 0), 5.0), ref=lambda a, k, v: a.__setitem__(k, v), inplace=True),
    Case("setitem", (A32.copy(), (np.array([0, 2]),), np.ones(4, np.float32)), ref=lambda a, k, v: a.__setitem__(k, v),
         inplace=True, id="int"),
    _c("scatter_add", (4, 3), (np.array([1, 3, 1]),), X[:3], np.float64, tol=1e-12,
       ref=lambda s, k, v, d: (lambda o: (np.add.at(o, k, v), o)[1])(np.zeros(s, d))),
    _c("scatter_add", (3, 4), (slice(None), 1), A[:, 0].copy(), np.float64, id="basic",
       ref=lambda s, k, v, d: (lambda o: (np.add.at(o, k, v), o)[1])(np.zeros(s, d))),
    _c("sliding_windows", _f((2, 3, 7, 6)), (2, 3), (3, 2), (2, 1), (1, 2), ref=_windows),
    _c("sliding_windows", T(A), (0,), (2,), (3,), (1,), ref=_windows, id="T"),
    _c("sliding_windows", I, (-1,), (4,), (1,), (1,), ref=_windows, id="whole"),
    _c("sliding_windows", A, (1,), (3,), (1,), (2,), raises=ValueError, ref=_windows, id="too-long"),
    # scans and sorting along one axis
    *[_c(n, A, 1, ref=r, tol=1e-12, id="f64") for n, r in SCANS.items()],
    *[_c(n, T(A32), 0, ref=r, tol=1e-5, id="T") for n, r in SCANS.items()],
    *[_c(n, EDGE, 0, ref=r, tol=1e-6, id="edge") for n, r in SCANS.items()],
    *[_c(n, I, -1, ref=r, id="int") for n, r in SCANS.items() if n != "logcumsumexp"],
    _c("cumsum", MASK, 0, id="bool"), _c("cumprod", A[:0], 0, id="size-0"),
    _c("argsort", EDGE, 0, ref=_argsort), _c("argsort", np.array([[2.0, 1.0, 2.0, 1.0], [0.0, 0.0, -1.0, 0.0]]), 1,
                                            ref=_argsort, id="ties"),
    _c("argsort", T(A), 0, ref=_argsort, id="T"), _c("argsort", MASK, -1, ref=_argsort, id="bool"),
    _c("argsort", np.where(_f((3, 11, 2)) > 1.5, np.nan, np.round(_f((3, 11, 2))))[:, :, ::-1], 1, ref=_argsort,
       id="long-ties"),                             # long lines: the GPU's bitonic path, ties and nan

    _c("searchsorted", np.array([-1.0, 0.0, 0.0, 2.0, np.nan]), EDGE, ref=np.searchsorted),
    _c("searchsorted", np.array([-1.0, 0.0, 0.0, 2.0]), A, "right", ref=np.searchsorted, id="right"),
    _c("searchsorted", np.sort(A, 1), A[:, ::-1].copy(), "right", ref=_searchsorted_rows, id="rows"),
    _c("searchsorted", np.array([1, 3, 3, 8]), I, ref=np.searchsorted, id="int"),
    _c("as_strided", A, (2, 2), (4, 1), 1, ref=lambda a, sh, st, o: np.lib.stride_tricks.as_strided(
        a.reshape(-1)[o:], sh, tuple(s * a.itemsize for s in st)).copy()),
    _c("as_strided", _f((3, 3)), (3,), (4,), 0, ref=lambda a, sh, st, o: np.diagonal(a).copy(), id="diag"),
    # convolution (optional, composed of sliding_windows and matmul)
    _c("conv", _f((2, 4, 5, 6)), _f((6, 2, 3, 2)), _f(6), (2, 1), (1, 0), (1, 2), 2, ref=conv_ref, tol=1e-12),
    _c("conv", _f((1, 2, 5), np.float32), _f((3, 2, 2), np.float32), ref=conv_ref, tol=1e-5, id="plain"),
    _c("conv_transpose", _f((2, 4, 3, 2)), _f((4, 3, 2, 3)), _f(6), (2, 1), (1, 0), (1, 0), (1, 2), 2,
       ref=conv_transpose_ref, tol=1e-12),
    _c("conv_transpose", _f((2, 2, 3, 2, 2)), _f((2, 3, 2, 3, 1)), None, (1, 1, 1), (1, 0, 0), (0, 1, 0), (2, 1, 1),
       1, ref=conv_transpose_ref, tol=1e-12, id="wide"),
    _c("conv", _f((1, 2, 4, 5, 3)), _f((2, 1, 2, 3, 2)), None, (1, 1, 1), (0, 1, 1), (1, 2, 1), 2, ref=conv_ref,
       tol=1e-12, id="wide-3d"),
    # 8 channels per group: the per-tap matmuls of the stride-1 path (backend/_conv.py)
    _c("conv", _f((2, 16, 4, 5)), _f((4, 8, 2, 3)), _f(4), (1, 1), (1, 0), (1, 2), 2, ref=conv_ref, tol=1e-12,
       id="per-tap"),
    _c("conv_weight", _f((2, 16, 4, 5)), _f((2, 4, 4, 1)), (2, 3), (1, 1), (1, 0), (1, 2), 2, ref=_conv_weight_ref,
       tol=1e-12, id="per-tap"),
    _c("conv_transpose", _f((2, 16, 3, 2)), _f((16, 2, 2, 3)), _f(4), (1, 1), (1, 0), (0, 0), (2, 1), 2,
       ref=conv_transpose_ref, tol=1e-12, id="per-tap"),
    _c("conv_weight", _f((2, 4, 5, 6)), _f((2, 6, 3, 3)), (3, 2), (2, 1), (1, 0), (1, 2), 2, ref=_conv_weight_ref,
       tol=1e-12),
    _c("conv_weight", _f((1, 2, 5)), _f((1, 2, 4)), (2,), (1,), (1,), (2,), 1, ref=_conv_weight_ref, tol=1e-12,
       id="tail"),
    # linear algebra
    _c("matmul", A32[:, :3], X.astype(np.float32)[:3], tol=1e-5),
    _c("matmul", _f((2, 2, 3)), X[:3], tol=1e-12, id="batch"),
    _c("matmul", A[0], X, tol=1e-12, id="vec"),
    _c("einsum", "ij,jk->ik", A, X, tol=1e-12), _c("einsum", "bij->bj", _f((2, 3, 2)), tol=1e-12, id="one"),
    # dense linear algebra (probed: np.linalg's semantics; matrix_exp composed of matmul, Note [matrix_exp])
    _la("inv", SPD, tol=1e-12), _la("inv", np.zeros((2, 2)), raises=np.linalg.LinAlgError, id="singular"),
    _la("inv", SPD[0].astype(np.float32), tol=1e-5, id="f32"),
    _la("solve", SPD, _f((2, 3, 2)), tol=1e-12), _la("solve", SPD[0], _f((1, 3, 2)), tol=1e-12, id="broadcast"),
    _la("cholesky", SPD, tol=1e-12), _la("cholesky", -np.eye(2), raises=np.linalg.LinAlgError, id="not-pd"),
    _c("qr", _f((2, 4, 3)), "reduced", ref=lambda a, m: tuple(np.linalg.qr(a, m)), tol=1e-12),
    _c("qr", _f((3, 4)), "complete", ref=lambda a, m: tuple(np.linalg.qr(a, m)), tol=1e-12, id="complete"),
    _c("qr", _f((4, 3)), "r", ref=lambda a, m: np.linalg.qr(a, m), tol=1e-12, id="r"),
    _c("svd", _f((2, 3, 4)), False, ref=lambda a, f: tuple(np.linalg.svd(a, full_matrices=f)), tol=1e-12),
    _c("svd", _f((4, 3), np.float32), True, ref=lambda a, f: tuple(np.linalg.svd(a, full_matrices=f)), tol=1e-5,
       id="full-f32"),
    _c("eigh", SPD, "U", ref=lambda a, u: tuple(np.linalg.eigh(a, UPLO=u)), tol=1e-12),
    _la("det", SPD.astype(np.float32), tol=1e-3), _la("det", np.zeros((0, 0)), tol=1e-12, id="empty"),
    _c("slogdet", _f((2, 3, 3)), ref=lambda a: tuple(np.linalg.slogdet(a)), tol=1e-12),
    _c("matrix_exp", SPD / 4, ref=_expm_sym, tol=1e-10),
    _c("matrix_exp", np.zeros((2, 0, 0)), ref=lambda a: a, id="empty"),
    _c("matrix_exp", (SPD[0] / 4).astype(np.float32), ref=lambda a: _expm_sym(a).astype(np.float32), tol=1e-5,
       id="f32"),
    # optional capabilities with defaults
    _c("narrow", A, 1, 1, 2, ref=lambda a, ax, s, n: a[:, s:s + n]),
    _c("pad_axis", A32, 0, 1, 2, ref=lambda a, ax, b, e: np.pad(a, ((b, e), (0, 0)))),
    _c("to_device", A, "cpu", ref=lambda a, d: a),
    _c("ce_rows", X, TARGET, -100, ref=_ce, tol=1e-12),
    _c("ce_rows", X.astype(np.float32), np.array([0, 2, 2, 1]), 2, ref=_ce, tol=1e-5, id="f32"),
    _c("ce_rows", X, np.array([0, 3, 1, 1]), -100, ref=_ce, raises=IndexError, id="bad-class"),
    _c("ce_rows_grad", X, TARGET, -100, np.array([0.5, 1.0, 2.0, -1.0]), ref=_ce_grad, tol=1e-12),
    # rows wider than a CUDA block, transposed (strided) logits, non-finite rows, every row ignored
    _c("ce_rows", np.random.default_rng(1).uniform(-3, 3, (5, 37)).astype(np.float32), np.array([36, 0, -1, 17, 5]),
       -1, ref=_ce, tol=1e-5, id="wide-f32"),
    _c("ce_rows", T(np.array([[0.5, np.nan, -np.inf, 1.0], [2.0, 0.0, -np.inf, -1.0], [-1.0, 3.0, 0.0, 4.0]],
                             np.float32)), np.array([0, 1, 2, 2]), -100, ref=_ce, tol=1e-5, id="f32-T-nonfinite"),
    _c("ce_rows", X, np.full(4, -100), -100, ref=_ce, tol=1e-12, id="all-ignored"),
    _c("ce_rows_grad", T(np.random.default_rng(2).uniform(-3, 3, (37, 4)).astype(np.float32)),
       np.array([36, -100, 0, 9]), -100, np.array([0.25, 1.0, -2.0, 0.5], np.float32), ref=_ce_grad, tol=1e-5,
       id="wide-f32-T"),
    _c("softmax_rows", np.random.default_rng(3).uniform(-3, 3, (4, 37)).astype(np.float32),
       ref=lambda x: np.exp(x - x.max(1, keepdims=True)) / np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True),
       tol=1e-5, id="wide-f32"),
    _c("ce_rows_grad_reduced", X, TARGET, -100, np.array(0.5), True, ref=_ce_grad_reduced, tol=1e-12, id="mean"),
    _c("ce_rows_grad_reduced", X.astype(np.float32), np.array([0, 2, 2, 1]), 2, np.array(-2.0, np.float32), True,
       ref=_ce_grad_reduced, tol=1e-6, id="mean-f32-ignored"),
    _c("ce_rows_grad_reduced", X, np.array([1, 1, 1, 1]), 1, np.array(1.0), True, ref=_ce_grad_reduced,
       id="all-ignored"),
    _c("ce_rows_grad_reduced", X.astype(np.float32), TARGET, -100, np.array(3.0, np.float32), False,
       ref=_ce_grad_reduced, tol=1e-6, id="sum-f32"),
    _c("layer_norm_rows", _f((3, 5)), _f(5), _f(5), 1e-5, ref=_ln, tol=1e-12),
    _c("layer_norm_rows", T(_f((6, 4), np.float32)), None, None, 1e-3, ref=_ln, tol=1e-5, id="f32-T"),
    _c("softmax_rows", _f((3, 5)), ref=lambda x: np.exp(x - x.max(1, keepdims=True)) / np.exp(
        x - x.max(1, keepdims=True)).sum(1, keepdims=True), tol=1e-12),
    _c("softmax_rows", T(np.array([[0.0, np.nan, -np.inf], [1.0, 2.0, -np.inf], [np.inf, 0.0, 3.0]], np.float32)),
       ref=lambda x: np.exp(x - x.max(1, keepdims=True)) / np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True),
       tol=1e-6, id="f32-T-nonfinite"),
    _c("layer_norm_rows_grad", _f((3, 5)), _f((3, 5)), _f(5), 1e-5, (True, True, True), ref=_ln_grad, tol=1e-12),
    _c("layer_norm_rows_grad", _f((4, 6), np.float32), T(_f((6, 4), np.float32)), None, 1e-5, (False, False, True),
       ref=_ln_grad, tol=1e-5, id="f32-T"),
    # optional capabilities, probed
    Case("sgd_update_", (_f(5, np.float32), _f(5, np.float32), _f(5, np.float32), 0.1),
         dict(momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=True), ref=_sgd, inplace=True, tol=1e-6),
    Case("sgd_update_", (_f(5), _f(5), np.zeros(5), 0.5), dict(maximize=True), ref=_sgd, inplace=True, tol=1e-12,
         id="plain"),
    Case("adam_update_", (_f(6, np.float32), _f(6, np.float32), _f(6, np.float32, 0, 1), _f(6, np.float32, 0, 1), 3,
                          0.01), dict(weight_decay=0.1, decoupled=True), ref=_adam, inplace=True, tol=1e-5),
    Case("adam_update_", (_f(6), _f(6), np.zeros(6), np.zeros(6), 1, 0.1), dict(weight_decay=0.2, maximize=True),
         ref=_adam, inplace=True, tol=1e-12, id="coupled"),
    # the multi-tensor updates: 9 parameters (a call of 8 and one of 4 with 3 unused slots), mixed shapes
    Case("sgd_update_multi_", tuple([_f(s, np.float32) for s in MULTI_SHAPES] for _ in range(3)) + (0.1,),
         dict(momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=True), ref=_multi(_sgd, 3), inplace=True,
         tol=1e-6, id="f32-nesterov"),
    Case("sgd_update_multi_", ([_f(s) for s in MULTI_SHAPES[:3]], [_f(s) for s in MULTI_SHAPES[:3]], None, 0.5),
         dict(maximize=True, weight_decay=0.1), ref=_multi(_sgd, 3), inplace=True, tol=1e-12, id="plain"),
    Case("sgd_update_multi_", tuple([_f(s) for s in MULTI_SHAPES[:5]] for _ in range(3)) + (0.5,),
         dict(momentum=0.5, first_step=True), ref=_multi(_sgd, 3), inplace=True, tol=1e-12, id="first"),
    Case("adam_update_multi_", tuple([_f(s, np.float32, 0, 1) for s in MULTI_SHAPES] for _ in range(4)) + (3, 0.01),
         dict(weight_decay=0.1, decoupled=True), ref=_multi(_adam, 4), inplace=True, tol=1e-5, id="f32-adamw"),
    Case("adam_update_multi_", tuple([_f(s, lo=0, hi=1) for s in MULTI_SHAPES[:2]] for _ in range(4)) + (1, 0.1),
         dict(weight_decay=0.2, maximize=True), ref=_multi(_adam, 4), inplace=True, tol=1e-12, id="coupled"),
]
for _i, _case in enumerate(CASES):
    _case.id = f"{_case.method}-{_case.id or _i}"


def case_id(case):
    return case.id


def check_case(be, case):
    """Run one case on ``be``: against NumPy's own result on the CPU, against the NumPy backend elsewhere."""
    if DECLARED[case.method] == "probed" and getattr(be, case.method, None) is None:
        with pytest.raises(NotImplementedError, match=case.method):
            getattr(be, case.method)
        return
    if case.check is not None:
        case.check(be)
        return
    if case.raises is not None:
        with pytest.raises(case.raises):
            reference(case)
        with pytest.raises(case.raises):
            run_case(be, case)
        if DECLARED[case.method] == "default":
            with pytest.raises(case.raises):
                run_case(be, case, vars(ArrayBackend)[case.method])
        return
    want = reference(case) if be is CPU_BACKEND else run_case(CPU_BACKEND, case)
    assert_same(run_case(be, case), want, case.tol, case.id)
    if DECLARED[case.method] == "default":          # the composed default keeps the same contract
        assert_same(run_case(be, case, vars(ArrayBackend)[case.method]), want, max(case.tol, 1e-12),
                    case.id + " (default)")
