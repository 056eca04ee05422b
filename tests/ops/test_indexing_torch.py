"""``t[key]`` and ``t[key] = v`` against PyTorch: shapes, values, gradients and errors, fuzzed.

Keys are drawn as tokens (an int, a slice, an int list, an int tensor, a bool
mask, ...) and built once for each library, so both see the same key.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")


# ----------------------------------------------------------------- keys as tokens
@st.composite
def keys(draw, shape, valid=True):
    """A list of tokens for a key into ``shape``; ``valid=False`` also draws out-of-range indices,
    negative steps and too many indices."""
    ndim = len(shape)
    tokens, d, ellipsis = [], 0, False
    base = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    slack = 0 if valid else 2
    for _ in range(draw(st.integers(0, 5))):
        kinds = ["none", "bool", "bool0"]
        if not ellipsis:
            kinds.append("ellipsis")
        if d < ndim or not valid:
            kinds += ["int", "int0", "slice", "list", "tensor", "range", "mask"]
        kind = draw(st.sampled_from(kinds))
        n = shape[d] if d < ndim else 1
        if kind == "ellipsis":
            ellipsis = True
            tokens.append(("ellipsis",))
            d = max(d, ndim - draw(st.integers(0, max(ndim - d, 0))))
            continue
        if kind in ("none", "bool", "bool0"):
            tokens.append((kind, draw(st.booleans())) if kind != "none" else ("none",))
            continue
        if kind == "mask":
            k = draw(st.integers(1, max(1, min(2, ndim - d))))
            mshape = tuple(shape[d:d + k]) if d + k <= ndim else (1,) * k
            if not valid and draw(st.integers(0, 9)) == 0:
                mshape = tuple(s + 1 for s in mshape)
            tokens.append(("mask", draw(hnp.arrays(np.bool_, mshape))))
            d += k
            continue
        lo, hi = -n - slack, n - 1 + slack
        if kind in ("int", "int0"):
            if n == 0 and valid:
                tokens.append(("slice", None, None, None))
            else:
                tokens.append((kind, draw(st.integers(lo, hi))))
        elif kind == "slice":
            step = draw(st.none() | st.integers(1, 3) | (st.integers(-2, -1) if not valid else st.nothing()))
            tokens.append(("slice", draw(st.none() | st.integers(-n - 2, n + 2)),
                           draw(st.none() | st.integers(-n - 2, n + 2)), step))
        elif kind == "range":
            a = draw(st.integers(0, max(n - 1, 0)))
            tokens.append(("range", a, draw(st.integers(a, max(n, a)))))
        elif n == 0 and valid:
            tokens.append(("slice", None, None, None))
        else:                       # an int list or tensor, broadcastable with the others of the key
            ishape = tuple(s if draw(st.booleans()) else 1 for s in base)[draw(st.integers(0, len(base) - 1)):]
            arr = draw(hnp.arrays(np.int64, ishape, elements=st.integers(lo, hi)))
            tokens.append((kind, arr))
        d += 1
    return tokens


def build(tokens, lib):
    """The key for ``lib`` (tapegrad or torch) from tokens; a one-token key is sometimes not a tuple."""
    out = []
    for t in tokens:
        kind = t[0]
        if kind == "none":
            out.append(None)
        elif kind == "ellipsis":
            out.append(Ellipsis)
        elif kind in ("int", "bool"):
            out.append(t[1])
        elif kind in ("int0", "bool0"):
            out.append(lib.tensor(t[1]))
        elif kind == "slice":
            out.append(slice(*t[1:]))
        elif kind == "range":
            out.append(range(t[1], t[2]))
        elif kind == "list":
            out.append(t[1].tolist())
        else:                       # tensor, mask
            out.append(lib.tensor(t[1]))
    return out[0] if len(out) == 1 and tokens[0][0] not in ("list",) else tuple(out)


def outcome(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(), None
    except (IndexError, ValueError, RuntimeError, TypeError) as e:
        return None, e


def assert_same_error(et, eg, what):
    assert eg is not None, f"{what}: PyTorch raised {type(et).__name__}: {et}; tapegrad did not"
    assert et is not None, f"{what}: tapegrad raised {type(eg).__name__}: {eg}; PyTorch did not"
    assert type(eg) is type(et), f"{what}: PyTorch raised {type(et).__name__}: {et}, tapegrad {type(eg).__name__}: {eg}"


def assert_close(got, want, what):
    want = want.detach().numpy()
    got = got.detach().numpy()
    assert got.shape == want.shape, f"{what}: shape {got.shape}, PyTorch {want.shape}"
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=what)


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


# ----------------------------------------------------------------- __getitem__
@settings(max_examples=150)
@given(data=st.data(), shape=shapes)
def test_getitem_matches_torch_values_and_gradients(data, shape):
    tokens = data.draw(keys(shape))
    x = np.random.default_rng(len(tokens)).standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    xg = tapegrad.tensor(x, requires_grad=True)
    rt, et = outcome(lambda: xt[build(tokens, torch)])
    rg, eg = outcome(lambda: xg[build(tokens, tapegrad)])
    what = f"x{shape}[{tokens}]"
    if et is not None or eg is not None:
        assert_same_error(et, eg, what)
        assert str(et) in str(eg), f"{what}: PyTorch says {et!r}, tapegrad {eg!r}"
        return
    assert_close(rg, rt, what)
    w = np.random.default_rng(1).standard_normal(tuple(rt.shape))
    (rt * torch.tensor(w)).sum().backward()
    (rg * tapegrad.tensor(w)).sum().backward()
    assert_close(xg.grad, xt.grad, what + " gradient")


@settings(max_examples=150)
@given(data=st.data(), shape=shapes)
def test_getitem_errors_match_torch(data, shape):
    """Out-of-range ints and index tensors, negative steps, wrong masks, too many indices."""
    tokens = data.draw(keys(shape, valid=False))
    x = np.arange(float(np.prod(shape))).reshape(shape)
    rt, et = outcome(lambda: torch.tensor(x)[build(tokens, torch)])
    rg, eg = outcome(lambda: tapegrad.tensor(x)[build(tokens, tapegrad)])
    what = f"x{shape}[{tokens}]"
    if et is None and eg is None:
        assert_close(rg, rt, what)
        return
    assert_same_error(et, eg, what)
    if isinstance(et, IndexError) and "out of bounds" in str(et):
        assert str(et) in str(eg), f"{what}: PyTorch says {et!r}, tapegrad {eg!r}"


# ----------------------------------------------------------------- __setitem__
@settings(max_examples=150)
@given(data=st.data(), shape=shapes)
def test_setitem_matches_torch_values_and_gradients(data, shape):
    tokens = data.draw(keys(shape))
    rng = np.random.default_rng(len(tokens))
    x = rng.standard_normal(shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rshape = tuple(torch.tensor(x)[build(tokens, torch)].shape)
    except (IndexError, ValueError, RuntimeError):
        return                      # the errors are test_getitem_errors_match_torch's
    vshape = rshape[data.draw(st.integers(0, len(rshape))):]        # the value may broadcast
    if data.draw(st.booleans()):
        vshape = (1,) + vshape
    v = rng.standard_normal(vshape)
    w = rng.standard_normal(shape)
    results = {}
    for lib in (torch, tapegrad):
        x0 = lib.tensor(x, requires_grad=True)
        v0 = lib.tensor(v, requires_grad=True)
        y = x0 * 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y[build(tokens, lib)] = v0
        (y * lib.tensor(w)).sum().backward()
        results[lib.__name__] = (y, x0.grad, v0.grad)
    what = f"x{shape}[{tokens}] = v{vshape}"
    for name, got, want in zip(("value", "target gradient", "value gradient"),
                               results["tapegrad"], results["torch"]):
        if want is None:
            assert got is None or not got.detach().numpy().any(), f"{what}: {name}"
        else:
            assert_close(got, want, f"{what}: {name}")


@settings(max_examples=60)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_setitem_of_python_scalar_without_grad_matches_torch(data, shape):
    tokens = data.draw(keys(shape))
    x = np.arange(float(np.prod(shape))).reshape(shape)
    xt, xg = torch.tensor(x), tapegrad.tensor(x)
    _, et = outcome(lambda: xt.__setitem__(build(tokens, torch), -1.0))
    _, eg = outcome(lambda: xg.__setitem__(build(tokens, tapegrad), -1.0))
    if et is not None or eg is not None:
        assert_same_error(et, eg, f"x{shape}[{tokens}] = -1")
    assert_close(xg, xt, f"x{shape}[{tokens}] = -1")


# ----------------------------------------------------------------- the cases
def test_int_and_list_separated_by_a_slice_select_first():
    x = tapegrad.arange(24.0).reshape(2, 3, 4)
    y = x[0, :, [0, 1]]
    assert tuple(y.shape) == (3, 2)
    assert y.tolist() == x[0][:, [0, 1]].tolist()
    x2 = x * 1
    x2[0, :, [0, 1]] = tapegrad.ones(3, 2)
    assert x2[0, :, :2].tolist() == [[1.0, 1.0]] * 3 and x2[1].tolist() == x[1].tolist()


def test_negative_slice_steps_raise_like_torch():
    x = tapegrad.arange(6.0)
    for key in (slice(None, None, -1), (slice(4, 1, -2),)):
        with pytest.raises(ValueError, match="step must be greater than zero"):
            x[key]
        with pytest.raises(ValueError, match="step must be greater than zero"):
            x[key] = 0.0
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


# ----------------------------------------------------------------- ops taking indices: bounds
def _emb(lib, idx):
    return lib.nn.functional.embedding(idx, lib.arange(6.0).reshape(3, 2))


BOUNDS = [   # (name, fn(lib, index), bad index values); torch raises for each
    ("gather", lambda lib, i: lib.gather(lib.arange(3.0), 0, i), [[-1], [3], [0, 7]]),
    ("gather", lambda lib, i: lib.gather(lib.zeros(2, 3), 1, i.reshape(-1, 1)[:2]), [[0, -2], [3, 0]]),
    ("index_select", lambda lib, i: lib.index_select(lib.arange(3.0), 0, i), [[-1], [3], [0, -4]]),
    ("embedding", _emb, [[-1], [3], [[0, 5]]]),
    ("index_add", lambda lib, i: lib.index_add(lib.zeros(3), 0, i, lib.ones(i.numel())), [[5], [-3], [0, 3]]),
    ("scatter_add", lambda lib, i: lib.scatter_add(lib.zeros(3), 0, i, lib.ones(i.numel())), [[-1], [5], [0, 3]]),
    ("take_along_dim", lambda lib, i: lib.take_along_dim(lib.arange(3.0), i), [[-1], [3]]),
]


@pytest.mark.parametrize("name,fn,bad", BOUNDS, ids=[b[0] for b in BOUNDS])
def test_ops_taking_indices_refuse_out_of_range_like_torch(name, fn, bad):
    for values in bad:
        with pytest.raises(Exception) as et:
            fn(torch, torch.tensor(values))
        with pytest.raises(type(et.value)) as eg:
            fn(tapegrad, tapegrad.tensor(values))
        assert type(eg.value) is type(et.value), (name, values, et.value, eg.value)
        msg = str(eg.value)
        first = next(v for v in np.ravel(values) if not 0 <= v < 3)     # every indexed dim has size 3
        assert msg.startswith(f"{name}(): index {first} is out of bounds for dimension "), msg
        assert "with size" in msg and (str(et.value) in msg or "index out of range in self" in msg), (msg, et.value)


def test_take_along_dim_wraps_negative_indices_like_torch():
    x = np.arange(12.0).reshape(3, 4)
    idx = np.array([[-1, 0], [-4, 3], [2, -2]])
    outs = {}
    for lib in (torch, tapegrad):
        t = lib.tensor(x, requires_grad=True)
        out = lib.take_along_dim(t, lib.tensor(idx), 1)
        (out * lib.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
        outs[lib.__name__] = out, t.grad
    for got, want in zip(outs["tapegrad"], outs["torch"]):
        assert_close(got, want, "take_along_dim")
    with pytest.raises(RuntimeError, match=r"take_along_dim\(\): index -5 is out of bounds for dimension 1 with size 4"):
        tapegrad.take_along_dim(tapegrad.tensor(x), tapegrad.tensor([[-5]]), 1)


# ----------------------------------------------------------------- repeated indices, alpha
def _run_both(fn, *arrays):
    """fn(lib, *tensors) under both libraries; returns {lib name: (output, grads of the float inputs)}."""
    res = {}
    for lib in (torch, tapegrad):
        ts = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = fn(lib, *ts)
        w = np.random.default_rng(3).standard_normal(tuple(out.shape))
        (out * lib.tensor(w)).sum().backward()
        res[lib.__name__] = [out] + [t.grad for t in ts if t.requires_grad]
    return res


def _assert_both(res, what):
    for k, (got, want) in enumerate(zip(res["tapegrad"], res["torch"])):
        assert_close(got, want, f"{what}: {'output' if k == 0 else f'gradient {k}'}")


@pytest.mark.parametrize("alpha", [1, 2.5, -0.5])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add_alpha_and_repeats_values_and_gradients_match_torch(alpha, dim):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    idx = np.array([0, 2, 0, 0, 1]) if dim == 0 else np.array([3, 1, 3, 0, 3])
    src = rng.standard_normal((5, 4) if dim == 0 else (3, 5))
    res = _run_both(lambda lib, x, s, i: lib.index_add(x, dim, i, s, alpha=alpha), x, src, idx)
    _assert_both(res, f"index_add(dim={dim}, alpha={alpha})")


def test_repeated_indices_in_scatter_add_index_put_gather_and_setitem_match_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4))
    i2 = np.array([[0, 0, 2, 0], [2, 2, 2, 1]])
    cases = {
        "scatter_add": (lambda lib, x, s, i: lib.scatter_add(x, 0, i, s), x, rng.standard_normal((2, 4)), i2),
        "gather": (lambda lib, x, i: lib.gather(x, 0, i), x, i2),
        "index_put accumulate": (lambda lib, x, v, i, j: lib.index_put(x, (i, j), v, accumulate=True),
                                 x, rng.standard_normal(5), np.array([0, 0, 2, -3, 0]), np.array([1, 1, -1, 1, 1])),
        "index_put": (lambda lib, x, v, i: lib.index_put(x, (i,), v), x, rng.standard_normal(4), np.array([1, 1])),
        "index_put bool mask": (lambda lib, x, v, i: lib.index_put(x, (i,), v, accumulate=True), x,
                                  rng.standard_normal((2, 4)), np.array([[True, False, True]]).reshape(3)),
        "setitem": (lambda lib, x, v, i: _set(x * 1, (i, slice(None)), v), x, rng.standard_normal(4),
                    np.array([2, 0, 2])),
        "getitem +=": (lambda lib, x, v, i: _iadd(x * 1, (0, i), v), x, rng.standard_normal(3), np.array([1, 1, -1])),
    }
    for what, (fn, *arrays) in cases.items():
        _assert_both(_run_both(fn, *arrays), what)


def _set(y, key, v):
    y[key] = v
    return y


def _iadd(y, key, v):
    y[key] += v            # getitem, add, setitem: a repeated index is written once, not summed
    return y


def test_embedding_values_and_gradients_match_torch():
    w = np.random.default_rng(2).standard_normal((5, 3))
    idx = np.array([[4, 0, 4], [1, 4, 2]])
    for pad in (None, 4, -1):
        res = _run_both(lambda lib, w, i: lib.nn.functional.embedding(i, w, padding_idx=pad), w, idx)
        _assert_both(res, f"embedding(padding_idx={pad})")


# ----------------------------------------------------------------- a table of PyTorch's corner cases
def _t(*a, **kw):
    return ("tensor", np.array(*a, **kw))


TABLE = [
    (0, slice(None), [0, 1]), ([0, 1], slice(None), 0), (slice(None), 0, [0, 1]), ([0, 1], None, [0, 1]),
    (True, slice(None), [0, 1]), (slice(None), True, [0, 1]), ([0, 1], True, [0, 1]), (False, [0, 1]),
    (_t(True), slice(None), [0, 1]), (_t(0), slice(None), [0, 1]), _t(-1), _t(5), _t(True),
    (0, _t([[True, False, True, False]] * 3)), (_t([True, False]), 0, [0, 1]), (Ellipsis, 0, [0, 1]),
    [[0, 1], [1, 2]], [[0, 1], [1, 2], [0, 1]], [0, slice(None)], [True, False], range(2), (range(2), 0),
    ((0, 1), slice(None)), (0, [[0, 1]], 1), ([[0, 1]], slice(None), _t(0)), (None, 0, None, [0, 1]),
    (0, None, 7), (Ellipsis, 5), ([0, 1], [0, 7]), (_t(np.ones((2, 3), bool)), [7]), (slice(None), [0, 1], [0, 7]),
    (slice(None), _t(np.ones((2, 4), bool))), _t([True, False, True]), (0, 0, 0, 0), [], (slice(None), []),
    np.array([[0, 1], [1, 0]]), np.int64(1), 1.5, _t([0.0, 1.0]), _t([0, 1], dtype=np.int32),
    (slice(None, None, 0),), (slice(None), slice(None, None, -1)),
    (Ellipsis, Ellipsis), (Ellipsis, 0, Ellipsis), (0, Ellipsis, Ellipsis), (Ellipsis, None, Ellipsis),
    (Ellipsis, [0], Ellipsis), (0, 0, 0, Ellipsis, Ellipsis, None),
]


def _table_key(k, lib):
    if isinstance(k, tuple) and k and k[0] == "tensor":
        return lib.tensor(k[1])
    if isinstance(k, tuple):
        return tuple(_table_key(i, lib) for i in k)
    return k


@pytest.mark.parametrize("key", TABLE, ids=[repr(k)[:40] for k in TABLE])
def test_getitem_corner_cases_match_torch(key):
    x = np.arange(24.0).reshape(2, 3, 4)
    rt, et = outcome(lambda: torch.tensor(x)[_table_key(key, torch)])
    rg, eg = outcome(lambda: tapegrad.tensor(x)[_table_key(key, tapegrad)])
    if et is not None or eg is not None:
        assert_same_error(et, eg, repr(key))
        assert str(et) in str(eg), f"{key!r}: PyTorch says {et!r}, tapegrad {eg!r}"
    else:
        assert_close(rg, rt, repr(key))


def test_a_numpy_bool_scalar_index_is_refused():
    # torch 2.13's answer depends on the NumPy version (it accepts np.True_ with NumPy 2.1 and refuses it
    # with 2.4), so this key is not in the torch table: tapegrad refuses it on every version, naming its type.
    with pytest.raises(IndexError, match="numpy.bool"):
        tapegrad.arange(6.0).reshape(2, 3)[np.bool_(True)]
