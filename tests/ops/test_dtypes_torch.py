"""PyTorch's type promotion, derived from PyTorch itself: every pair of supported dtypes, as
dimensioned tensors, 0-dim tensors and Python scalars, through a handful of ops; then a
hypothesis fuzz over dtype pairs, operand kinds and ops comparing dtypes and values."""
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tapegrad as tg

torch = pytest.importorskip("torch")

DTYPES = [tg.bool, tg.uint8, tg.int8, tg.int16, tg.int32, tg.int64, tg.float16, tg.float32, tg.float64]
SCALARS = [True, 3, -2, 2.5]


def tdt(d):
    return getattr(torch, d.name)


def pair(da, db, a_shape=(3,), b_shape=(3,)):
    """The same operands for both libraries, from one NumPy array each (no conversion rules involved)."""
    a = np.array([1, 0, 2]).reshape(a_shape) if a_shape else np.array(2)
    b = np.array([2, 1, 1]).reshape(b_shape) if b_shape else np.array(1)
    a, b = a.astype(da.np), b.astype(db.np)
    return (tg.from_numpy(a.copy()), tg.from_numpy(b.copy())), (torch.from_numpy(a.copy()), torch.from_numpy(b.copy()))


def check_same(ours, theirs, what):
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", ""), f"{what}: {ours.dtype} vs {theirs.dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), what
    want = theirs.double().numpy()
    tol = 1e-3 if theirs.dtype == torch.float16 else 1e-6
    np.testing.assert_allclose(ours.numpy().astype(np.float64), want, rtol=tol, atol=tol, equal_nan=True,
                               err_msg=what)


BINARY = {
    "add": (lambda a, b: tg.add(a, b), lambda a, b: torch.add(a, b)),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "eq": (lambda a, b: a == b, lambda a, b: a == b),
    "lt": (lambda a, b: a < b, lambda a, b: a < b),
}
TENSOR_ONLY = {
    "maximum": (tg.maximum, torch.maximum),
    "where": (lambda a, b: tg.where(tg.tensor([True, False, True]), a, b),
              lambda a, b: torch.where(torch.tensor([True, False, True]), a, b)),
}


@pytest.mark.parametrize("da,db", list(itertools.product(DTYPES, DTYPES)), ids=lambda d: d.name)
def test_promotion_table_matches_torch(da, db):
    assert tg.promote_types(da, db).name == str(torch.promote_types(tdt(da), tdt(db))).replace("torch.", "")
    for a_shape, b_shape in (((3,), (3,)), ((3,), ()), ((), (3,)), ((), ())):
        (a, b), (ta, tb) = pair(da, db, a_shape, b_shape)
        ops = dict(BINARY, **TENSOR_ONLY)
        for name, (f, tf) in ops.items():
            check_same(f(a, b), tf(ta, tb), f"{name} {da}{list(a_shape)} with {db}{list(b_shape)}")
        if a_shape and b_shape:
            check_same(tg.cat([a, b]), torch.cat([ta, tb]), f"cat {da} {db}")
            check_same(tg.stack([a, b]), torch.stack([ta, tb]), f"stack {da} {db}")


@pytest.mark.parametrize("d", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("s", SCALARS, ids=repr)
def test_tensor_with_python_scalar_matches_torch(d, s):
    (a, _), (ta, _) = pair(d, d)
    for name, (f, tf) in BINARY.items():
        check_same(f(a, s), tf(ta, s), f"{name} {d} tensor with {s!r}")
        check_same(f(s, a), tf(s, ta), f"{name} {s!r} with {d} tensor")
    for t, tt in ((a, ta), (a[0], ta[0])):
        check_same(tg.where(t > 0, t, s), torch.where(tt > 0, tt, s), f"where {d} with {s!r}")
    check_same(a.masked_fill(a > 0, s), ta.masked_fill(ta > 0, s), f"masked_fill {d} with {s!r}")


@pytest.mark.parametrize("da,db", list(itertools.product(DTYPES, DTYPES)), ids=lambda d: d.name)
def test_inplace_casting_rule_matches_torch(da, db):
    """In place, the result dtype must be castable to self's (``can_cast``): no float into an int
    tensor, nothing but bool into a bool tensor; otherwise the result is cast to self's dtype."""
    assert tg.can_cast(da, db) == torch.can_cast(tdt(da), tdt(db))
    for other in ("tensor", True, 3, 2.5):
        (a, b), (ta, tb) = pair(da, db)
        o, to = (b, tb) if other == "tensor" else (other, other)
        try:
            want = ta.add_(to)
        except RuntimeError as e:
            assert "can't be cast" in str(e)
            with pytest.raises(RuntimeError, match=rf"add_: result type \w+ can't be cast to the desired output "
                                                   rf"type {da._torch_name}"):
                a.add_(o)
            assert a.tolist() == pair(da, db)[0][0].tolist(), "a failed in-place op changed its tensor"
            continue
        check_same(a.add_(o), want, f"{da}.add_({other} {db})")


OPS = {
    "add": lambda m, a, b: m.add(a, b) if isinstance(a, (m.Tensor,)) else a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b,
    "floor_divide": lambda m, a, b: a // b,
    "remainder": lambda m, a, b: a % b,
    "maximum": lambda m, a, b: m.maximum(a, b),
    "minimum": lambda m, a, b: m.minimum(a, b),
    "eq": lambda m, a, b: a == b,
    "ge": lambda m, a, b: a >= b,
    "where": lambda m, a, b: m.where(m.ones_like(a if isinstance(a, m.Tensor) else b, dtype=m.bool), a, b),
}
dtypes = st.sampled_from(DTYPES)
kinds = st.sampled_from(["tensor", "0-d", "scalar"])


@st.composite
def operand(draw, d, kind, shape):
    if kind == "scalar":
        return draw(st.one_of(st.booleans(), st.integers(-5, 7), st.sampled_from([-1.5, 0.0, 0.25, 3.0])))
    shape = shape if kind == "tensor" else ()
    n = int(np.prod(shape))
    vals = np.array(draw(st.lists(st.integers(-5, 7), min_size=n, max_size=n))).reshape(shape)
    return vals.astype(d.np)         # NumPy wraps negatives into uint8 as PyTorch does


def both(x):
    return (tg.from_numpy(x.copy()), torch.from_numpy(x.copy())) if isinstance(x, np.ndarray) else (x, x)


@given(da=dtypes, db=dtypes, ka=kinds, kb=kinds, op=st.sampled_from(sorted(OPS)), data=st.data())
def test_random_dtype_pairs_and_ops_match_torch(da, db, ka, kb, op, data):
    if ka == "scalar" and kb == "scalar":
        kb = "tensor"
    if op in ("maximum", "minimum") and "scalar" in (ka, kb):
        ka = kb = "tensor"         # torch.maximum takes tensors only
    a, ta = both(data.draw(operand(da, ka, (2, 3))))
    b, tb = both(data.draw(operand(db, kb, (3,))))
    try:
        want = OPS[op](torch, ta, tb)
    except (RuntimeError, TypeError, NotImplementedError) as e:
        # bool - bool, integer division by zero, bool // bool ...: tapegrad refuses too
        with pytest.raises((RuntimeError, TypeError, NotImplementedError)):
            OPS[op](tg, a, b)
        return
    check_same(OPS[op](tg, a, b), want, f"{op}({da} {ka} {a!r}, {db} {kb} {b!r})")
