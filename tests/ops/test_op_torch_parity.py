"""Every OpSpec against PyTorch in float64, then broadcasting and reductions fuzzed against PyTorch.

``torch = pytest.importorskip("torch")``: PyTorch is the oracle (it is in the test extra, so this
runs in CI). For each spec with a ``torch_fn``, hypothesis draws shapes, kwargs and values from the
spec's own strategies (``op_db.draw_case``, as the forward and gradient harnesses do) in float64 and
compares with PyTorch: the result's dtype, shape and values, and the gradient of a random-weighted
sum of the float outputs w.r.t. every float input (``tapegrad.autograd.grad`` vs
``torch.autograd.grad``), to rtol 1e-10. The spec's deterministic ``examples`` run too. A spec that
cannot be compared is listed in ``NOT_COMPARED`` with the reason; ``test_every_spec_is_compared_or_listed``
keeps new specs from slipping through.

Then binary ops over broadcastable shapes (size-0 and size-1 dims, different ranks) and reductions
(dim as int, tuple, None or negative; keepdim; empty dims; int and bool inputs) are fuzzed against
torch, errors included: where torch raises, tapegrad must raise too.

Where torch's own gradient is broken (``TORCH_FAILS``) only values are compared; where tapegrad
differs from torch (``KNOWN_DIFFERENCES``) the fuzz steps around the case and a strict xfail keeps it
visible.
"""
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import tapegrad
from op_db import draw_case, example_case, example_params, load_all

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-10, 1e-12

# Specs without a PyTorch counterpart (or random): name -> why.
NOT_COMPARED = {}

# Looser tolerances: spec name -> (rtol, atol, why).
TOLERANCES = {
    "digamma": (1e-9, 1e-12, "torch 2.13's polygamma(1, x), digamma's derivative, is accurate to about 4e-10 "
                "relative (its recurrence stops at x >= 6); tapegrad's, to x >= 10, to about 1e-12 against the "
                "series sum of 1 / (x + k)**2"),
}
TOLERANCES["hardsigmoid"] = (1e-7, 1e-12, "torch 2.13's hardsigmoid backward multiplies by 1/6 rounded to float32 "
                             "in every dtype (0.1666666716 in float64); tapegrad's is 1/6")


def _x_broadcast(x, *bounds, **kw):
    return np.broadcast_shapes(x.shape, *(b.shape for b in bounds)) != x.shape


def _dim_empty_tuple(*arrays, dim=None, **kw):
    return dim == ()


# Draws where PyTorch's gradient is wrong or fails (its values are fine): there only the values are
# compared. spec name -> (predicate on the drawn arrays and kwargs, why).
TORCH_FAILS = {
    "clamp_tensor_bounds": (_x_broadcast, "torch 2.13: clamp(x, lo, hi) with x (1, 3), lo (), hi (2, 3) computes "
                            "(2, 3) but its backward raises 'output with shape [1, 3] doesn't match the broadcast "
                            "shape [2, 3]' (x smaller than the result)"),
    "scatter_add": (lambda x, src, index, dim: index.shape != src.shape,
                    "torch 2.13: scatter_add(x, 0, index=[1, 1], src of shape (3,)) computes, but its backward "
                    "raises 'ScatterAddBackward0 returned an invalid gradient at index 1 - got [2] but expected "
                    "shape compatible with [3]' (an index smaller than src)"),
    "var": (_dim_empty_tuple, "torch 2.13: var(dim=()) reduces every dim forward but differentiates as if it "
            "reduced none: x=[1., 2.], correction=0 gives grad [-1, 1], not [-0.5, 0.5]"),
    "std": (_dim_empty_tuple, "torch 2.13: std(dim=()) reduces every dim forward but differentiates as if it "
            "reduced none: x=[1., 2.], correction=1 gives grad [-inf, inf], not [-0.707, 0.707]"),
}

# Differences from PyTorch found here, for the library's owners: spec name (or "reduce:<name>" for the
# reductions fuzz below) -> (predicate on the drawn arrays and kwargs, one such case as (arrays, kwargs),
# what differs). The fuzz steps around them;
# test_known_difference runs each case as a strict xfail, so a fix shows (XPASS) and the entry goes.
KNOWN_DIFFERENCES = {
    "reduce:norm": (lambda x, p=2, **kw: p in (2, 3, "fro") and bool(np.any((x != 0) & (np.abs(x) < 1e-100))),
                    ([[1e-200]], {"p": 2, "dim": None, "keepdim": False}),
                    "norm(tensor([1e-200])) is 0.0 in tapegrad (x * x underflows), 1e-200 in torch 2.13, whose "
                    "gradient there is [1.0] (tapegrad: [1e-200]); torch also underflows for [1e-200, 3e-200] "
                    "but then its gradient is [0, 0] (tapegrad: x itself, Note [norm at zero] says 0); with p=3 and "
                    "x=2.2e-311 (|x|**3 underflows) torch's gradient is nan, tapegrad's 0"),
}

SPECS = load_all()
COMPARED = [s for s in SPECS if s.torch_fn is not None and s.name not in NOT_COMPARED]


# ----------------------------------------------------------------- comparing one call in both libraries
def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _dtype_name(t):
    return t.dtype.name if isinstance(t, tapegrad.Tensor) else str(t.dtype).replace("torch.", "")


def _to_torch(arrays, grad):
    """Torch copies of the call's arrays; float ones require grad when ``grad``."""
    out = []
    for a in arrays:
        t = torch.from_numpy(np.array(a, copy=True, order="C"))   # the oracle gets contiguous copies
        if grad and t.is_floating_point():
            t.requires_grad_(True)
        out.append(t)
    return out


def assert_same(got, want, what, rtol=RTOL, atol=ATOL):
    """``got`` (tapegrad) and ``want`` (torch) have the same type, dtype, shape and values."""
    assert isinstance(got, tapegrad.Tensor), f"{what}: expected a Tensor, got {type(got).__name__}"
    assert _dtype_name(got) == _dtype_name(want), f"{what}: dtype {got.dtype} vs torch {want.dtype}"
    assert tuple(got.shape) == tuple(want.shape), f"{what}: shape {tuple(got.shape)} vs torch {tuple(want.shape)}"
    g, w = got.detach().numpy(), want.detach().numpy()
    if w.dtype.kind in "fc":
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


def _grads(lib, outs, inputs, weights):
    """Gradients of ``sum_i (outs[i] * weights[i]).sum()`` w.r.t. ``inputs`` (zeros where unused)."""
    terms = [(o * lib.from_numpy(w.copy())).sum() for o, w in zip(outs, weights) if o.requires_grad]
    if not terms or not inputs:
        return [np.zeros(tuple(x.shape)) for x in inputs]
    loss = terms[0]
    for t in terms[1:]:
        loss = loss + t
    gs = lib.autograd.grad(loss, inputs, allow_unused=True)
    return [np.zeros(tuple(x.shape)) if g is None else g.detach().numpy() for x, g in zip(inputs, gs)]


def compare_call(name, fn, torch_fn, arrays, kwargs, grad=True, seed=0, tensors=None, rtol=RTOL, atol=ATOL):
    """Call ``fn`` on tapegrad tensors and ``torch_fn(torch, ...)`` on torch copies of ``arrays``;
    compare the outputs and, when ``grad``, the gradients of a random-weighted sum of the float outputs."""
    ts = [tapegrad.from_numpy(np.array(a, copy=True)) for a in arrays] if tensors is None else tensors
    tt = _to_torch(arrays, grad)
    if grad:
        for t in ts:
            if t.is_floating_point():
                t.requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")           # torch's deprecations and "var: degrees of freedom <= 0"
        want = _outputs(torch_fn(torch, *tt, **kwargs))
    got = _outputs(fn(*ts, **kwargs))
    what = f"{name}{[tuple(a.shape) for a in arrays]} {kwargs}"
    assert len(got) == len(want), f"{what}: {len(got)} outputs vs torch {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, f"{what} output {i}", rtol, atol)
    if not grad:
        return
    rng = np.random.default_rng(seed)
    pairs = [(g, w) for g, w in zip(got, want) if w.is_floating_point()]
    weights = [rng.standard_normal(tuple(w.shape)) for _, w in pairs]
    floats = [i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f"]
    mine = _grads(tapegrad, [g for g, _ in pairs], [ts[i] for i in floats], weights)
    theirs = _grads(torch, [w for _, w in pairs], [tt[i] for i in floats], weights)
    for i, m, t in zip(floats, mine, theirs):
        np.testing.assert_allclose(m, t, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f"{what}: gradient of input {i}")


def _tol(spec):
    return TOLERANCES.get(spec.name, (RTOL, ATOL))[:2]


def _dtype(spec):
    """float64 (the finite-difference dtype), or an integer spec's first dtype (bitwise ops)."""
    return tapegrad.float64 if "float64" in spec.dtypes else getattr(tapegrad, spec.dtypes[0])


def _check_spec(spec, ts, arrays, kwargs, seed, grad=None):
    grad = spec.grad if grad is None else grad
    compare_call(spec.name, spec.fn, spec.torch_fn, arrays, kwargs, grad=grad, seed=seed, tensors=ts,
                 rtol=_tol(spec)[0], atol=_tol(spec)[1])


# ----------------------------------------------------------------- every spec
def test_every_spec_is_compared_or_listed():
    missing = [s.name for s in SPECS if s.torch_fn is None and s.name not in NOT_COMPARED]
    assert not missing, f"OpSpecs with neither a torch_fn nor a NOT_COMPARED reason: {missing}"
    stale = [n for n in NOT_COMPARED if n not in {s.name for s in SPECS}]
    assert not stale, f"NOT_COMPARED names no spec: {stale}"


@pytest.mark.parametrize("spec", COMPARED, ids=[s.name for s in COMPARED])
@given(data=st.data())
def test_spec_matches_torch(spec, data):
    ts, arrays, kwargs = draw_case(data, spec, _dtype(spec))
    if spec.name in KNOWN_DIFFERENCES:
        assume(not KNOWN_DIFFERENCES[spec.name][0](*arrays, **kwargs))
    torch_grad_fails = spec.name in TORCH_FAILS and TORCH_FAILS[spec.name][0](*arrays, **kwargs)
    _check_spec(spec, ts, arrays, kwargs, data.draw(st.integers(0, 2 ** 32 - 1), label="weights seed"),
                grad=spec.grad and not torch_grad_fails)


@pytest.mark.parametrize("spec,example", example_params(COMPARED))
def test_spec_examples_match_torch(spec, example):
    ts, arrays, kwargs = example_case(example, _dtype(spec))
    _check_spec(spec, ts, arrays, kwargs, seed=0)


_BY_NAME = {s.name: s for s in SPECS}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, raises=AssertionError,
                                                                        reason=d[2]))
                                  for n, d in KNOWN_DIFFERENCES.items()])
def test_known_difference(name):
    predicate, (inputs, kwargs), _ = KNOWN_DIFFERENCES[name]
    arrays = [np.asarray(a, np.float64) for a in inputs]
    assert predicate(*arrays, **kwargs), f"{name}: the recorded case is not one the fuzz steps around"
    if name.startswith("reduce:"):
        f = REDUCTIONS[name[len("reduce:"):]][0]
        compare_call(name, lambda *xs, **kw: f(tapegrad, *xs, **kw), f, arrays, kwargs)
    else:
        _check_spec(_BY_NAME[name], [tapegrad.from_numpy(a.copy()) for a in arrays], arrays, kwargs, seed=0)


# ----------------------------------------------------------------- broadcasting, fuzzed
def _values(kind, domain=(-2.0, 2.0)):
    """Element strategies: floats in ``domain`` mixed with a few exact values (ties are common), ints, bools."""
    if kind == "int64":
        return st.integers(-3, 3)
    if kind == "bool":
        return st.booleans()
    lo, hi = domain
    return st.floats(lo, hi) | st.sampled_from([v for v in (-1.0, 0.0, 0.5, 1.0) if lo <= v <= hi])


def _draw_arrays(data, shapes, kinds, domains):
    from hypothesis.extra import numpy as hnp
    return [data.draw(hnp.arrays(np.dtype(k), s, elements=_values(k, d)), label=f"input {i}")
            for i, (s, k, d) in enumerate(zip(shapes, kinds, domains))]


_ANY, _NONZERO, _POSITIVE = (-2.0, 2.0), (0.25, 2.0), (0.25, 2.0)
# name -> (f(lib, *tensors), domains, differentiable)
BINARY = {
    "add": (lambda lib, a, b: lib.add(a, b, alpha=1.5), [_ANY, _ANY], True),
    "sub": (lambda lib, a, b: lib.sub(a, b), [_ANY, _ANY], True),
    "mul": (lambda lib, a, b: a * b, [_ANY, _ANY], True),
    "div": (lambda lib, a, b: a / b, [_ANY, _NONZERO], True),
    "div_negated": (lambda lib, a, b: a / -b, [_ANY, _NONZERO], True),
    "pow": (lambda lib, a, b: a ** b, [_POSITIVE, _ANY], True),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), [_ANY, _ANY], True),
    "minimum": (lambda lib, a, b: lib.minimum(a, b), [_ANY, _ANY], True),
    "where": (lambda lib, c, a, b: lib.where(c > 0, a, b), [_ANY, _ANY, _ANY], True),
    "clamp": (lambda lib, x, lo, hi: lib.clamp(x, lo, hi), [_ANY, _ANY, _ANY], False),    # see TORCH_FAILS
    "eq": (lambda lib, a, b: a == b, [_ANY, _ANY], False),
    "ne": (lambda lib, a, b: a != b, [_ANY, _ANY], False),
    "lt": (lambda lib, a, b: a < b, [_ANY, _ANY], False),
    "le": (lambda lib, a, b: a <= b, [_ANY, _ANY], False),
    "gt": (lambda lib, a, b: a > b, [_ANY, _ANY], False),
    "ge": (lambda lib, a, b: a >= b, [_ANY, _ANY], False),
}
if hasattr(tapegrad, "atan2"):
    BINARY["atan2"] = (lambda lib, a, b: lib.atan2(a, b), [_ANY, _NONZERO], True)


@pytest.mark.parametrize("name", list(BINARY))
@given(data=st.data())
def test_broadcasting_matches_torch(name, data):
    """Broadcast pairs (triples for where/clamp): size-0 and size-1 dims, different ranks; values and grads."""
    from tapegrad.testing import broadcastable_shapes
    f, doms, grad = BINARY[name]
    shapes = data.draw(broadcastable_shapes(len(doms), max_dims=4), label="shapes")
    arrays = _draw_arrays(data, shapes, ["float64"] * len(doms), doms)
    compare_call(f"broadcast {name}", lambda *xs: f(tapegrad, *xs), f, arrays, {}, grad=grad,
                 seed=data.draw(st.integers(0, 2 ** 32 - 1), label="weights seed"))


def _outcome(lib, f, arrays, kwargs):
    """``f``'s result in ``lib`` on copies of ``arrays``, or the exception it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return f(lib, *[lib.from_numpy(np.array(a, copy=True, order="C")) for a in arrays], **kwargs)
    except Exception as e:          # noqa: BLE001 - only whether it raised is compared
        return e


def _same_errors(what, f, arrays, kwargs):
    """True when both libraries succeed; both raising passes; one raising fails."""
    theirs = _outcome(torch, f, arrays, kwargs)
    mine = _outcome(tapegrad, f, arrays, kwargs)
    t_err, m_err = isinstance(theirs, Exception), isinstance(mine, Exception)
    assert t_err == m_err, (f"{what}: torch {'raised ' + repr(theirs) if t_err else 'succeeded'}, tapegrad "
                            f"{'raised ' + repr(mine) if m_err else 'succeeded'}")
    return not t_err


@given(data=st.data())
def test_incompatible_shapes_raise_like_torch(data):
    from hypothesis.extra import numpy as hnp
    shapes = [data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)) for _ in range(2)]
    arrays = [np.ones(s) for s in shapes]
    for name in ("add", "mul", "maximum", "lt"):
        f = BINARY[name][0]
        if _same_errors(f"broadcast {name}{shapes}", f, arrays, {}):
            compare_call(f"broadcast {name}", lambda *xs, f=f: f(tapegrad, *xs), f, arrays, {}, grad=False)


# ----------------------------------------------------------------- reductions, fuzzed
_F, _I, _B = "float64", "int64", "bool"


def _prod(lib, x, dim=None, keepdim=False):
    return lib.prod(x) if dim is None else lib.prod(x, dim, keepdim=keepdim)      # torch: one int dim or none


def _max_dim(name):
    return lambda lib, x, dim, keepdim: tuple(getattr(lib, name)(x, dim, keepdim=keepdim))


# name -> (f(lib, x, **kwargs), input dtypes, dim forms ("int", "tuple", "none"), extra kwargs strategy)
REDUCTIONS = {
    "sum": (lambda lib, x, **kw: lib.sum(x, **kw), (_F, _I, _B), "int tuple none", {}),
    "mean": (lambda lib, x, **kw: lib.mean(x, **kw), (_F, _I), "int tuple none", {}),
    "prod": (_prod, (_F, _I, _B), "int none", {}),
    "amax": (lambda lib, x, **kw: lib.amax(x, **kw), (_F, _I), "int tuple", {}),
    "amin": (lambda lib, x, **kw: lib.amin(x, **kw), (_F, _I), "int tuple", {}),
    "max_dim": (_max_dim("max"), (_F, _I), "int", {}),
    "min_dim": (_max_dim("min"), (_F, _I), "int", {}),
    "var": (lambda lib, x, **kw: lib.var(x, **kw), (_F,), "int tuple none", {"correction": st.sampled_from([0, 1])}),
    "std": (lambda lib, x, **kw: lib.std(x, **kw), (_F,), "int tuple none", {"correction": st.sampled_from([0, 1])}),
    "logsumexp": (lambda lib, x, **kw: lib.logsumexp(x, **kw), (_F,), "int tuple", {}),
    "norm": (lambda lib, x, **kw: lib.norm(x, **kw), (_F,), "int none",
             {"p": st.sampled_from([1, 2, 3, float("inf"), -float("inf"), "fro"])}),
    "argmax": (lambda lib, x, **kw: lib.argmax(x, **kw), (_F, _I), "int none", {}),
    "argmin": (lambda lib, x, **kw: lib.argmin(x, **kw), (_F, _I), "int none", {}),
    "any": (lambda lib, x, **kw: lib.any(x, **kw), (_B, _F, _I), "int tuple none", {}),
    "all": (lambda lib, x, **kw: lib.all(x, **kw), (_B, _F, _I), "int tuple none", {}),
}


@st.composite
def _reduce_dims(draw, ndim, forms):
    """``dim`` in one of ``forms``: an int (maybe negative), a non-empty tuple of distinct dims, or None."""
    forms = [f for f in forms.split() if ndim or f == "none"] or ["int"]
    form = draw(st.sampled_from(forms))
    n = max(ndim, 1)
    if form == "none":
        return None
    if form == "int":
        return draw(st.integers(-n, n - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in axes)


@pytest.mark.parametrize("name", list(REDUCTIONS))
@given(data=st.data())
def test_reductions_match_torch(name, data):
    """dim as int/tuple/None/negative, keepdim, size-0 and size-1 dims, several input dtypes: values,
    dtypes and float64 gradients as torch's, and an error wherever torch raises (max over an empty dim)."""
    from hypothesis.extra import numpy as hnp
    f, dtypes, forms, extra = REDUCTIONS[name]
    kind = data.draw(st.sampled_from(dtypes), label="dtype")
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3), label="shape")
    kwargs = {"dim": data.draw(_reduce_dims(len(shape), forms), label="dim"),
              "keepdim": data.draw(st.booleans(), label="keepdim")}
    kwargs.update({k: data.draw(v, label=k) for k, v in extra.items()})
    arrays = _draw_arrays(data, [shape], [kind], [_ANY])
    if f"reduce:{name}" in KNOWN_DIFFERENCES:
        assume(not KNOWN_DIFFERENCES[f"reduce:{name}"][0](*arrays, **kwargs))
    if _same_errors(f"{name}{list(shape)} {kind} {kwargs}", f, arrays, kwargs):
        compare_call(name, lambda *xs, **kw: f(tapegrad, *xs, **kw), f, arrays, kwargs, grad=kind == _F,
                     seed=data.draw(st.integers(0, 2 ** 32 - 1), label="weights seed"))


# ----------------------------------------------------------------- the comparisons can fail
def test_compare_call_catches_a_wrong_gradient():
    # x * x.detach() has the values of x * x but half its derivative.
    with pytest.raises(AssertionError, match="gradient of input 0"):
        compare_call("half_square", lambda x: x * x.detach(), lambda torch, x: x * x, [np.array([0.5, 2.0])], {})


def test_compare_call_catches_a_wrong_dtype():
    with pytest.raises(AssertionError, match="dtype"):
        compare_call("upcast", lambda x: x.sum(), lambda torch, x: x.float().sum(), [np.array([0.5, 2.0])], {})


def test_errors_must_match():
    with pytest.raises(AssertionError, match="torch raised"):
        _same_errors("max over an empty dim", lambda lib, x: x.sum() if lib is tapegrad else x.max(dim=0),
                     [np.zeros((0, 2))], {})
