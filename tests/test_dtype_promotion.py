"""PyTorch's type-promotion table, derived from torch itself, against tapegrad's.

For every pair of the ten dtypes: ``promote_types``, ``can_cast``, ``result_type`` and the dtype of real
ops (``add mul div where cat maximum`` and comparisons) for a tensor with a tensor, with a 0-d tensor, 0-d
with 0-d, and with Python bool/int/float scalars; and in-place ``add_``, which succeeds or raises
(PyTorch's can_cast rule) exactly when torch's does. Mismatches are collected, so one failure lists them all.
"""
import itertools

import pytest

import tapegrad

torch = pytest.importorskip("torch")

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
PAIRS = list(itertools.product(NAMES, NAMES))
SHAPES = {"dim-dim": ((2,), (2,)), "dim-0d": ((2,), ()), "0d-dim": ((), (2,)), "0d-0d": ((), ())}
SCALARS = [True, 3, 2.5]
BINARY = ["add", "mul", "div", "maximum", "eq", "lt"]


def _name(d):
    return str(d).split(".")[-1]


def _ones(mod, name, shape):
    return mod.ones(shape, dtype=getattr(mod, name))


def _dtype_or_error(fn):
    try:
        return _name(fn().dtype)
    except (RuntimeError, TypeError) as e:
        return type(e).__name__


def test_promote_types_and_can_cast_are_torchs_for_every_pair():
    bad = []
    for a, b in PAIRS:
        want = _name(torch.promote_types(getattr(torch, a), getattr(torch, b)))
        got = tapegrad.promote_types(getattr(tapegrad, a), getattr(tapegrad, b)).name
        if want != got:
            bad.append(("promote_types", a, b, want, got))
        want = torch.can_cast(getattr(torch, a), getattr(torch, b))
        got = tapegrad.can_cast(getattr(tapegrad, a), getattr(tapegrad, b))
        if want != got:
            bad.append(("can_cast", a, b, want, got))
    assert not bad


@pytest.mark.parametrize("shapes", list(SHAPES), ids=list(SHAPES))
def test_tensor_with_tensor_ops_give_torchs_dtype(shapes):
    sa, sb = SHAPES[shapes]
    bad = []
    for a, b in PAIRS:
        ta, tb, ga, gb = _ones(torch, a, sa), _ones(torch, b, sb), _ones(tapegrad, a, sa), _ones(tapegrad, b, sb)
        want = _name(torch.result_type(ta, tb))
        got = tapegrad.result_type(ga, gb).name
        if want != got:
            bad.append(("result_type", a, b, want, got))
        for op in BINARY:
            want = _dtype_or_error(lambda: getattr(torch, op)(ta, tb))
            got = _dtype_or_error(lambda: getattr(tapegrad, op)(ga, gb))
            if want != got:
                bad.append((op, a, b, want, got))
        tc, gc = torch.ones(2, dtype=torch.bool), tapegrad.ones(2, dtype=tapegrad.bool)
        want = _name(torch.where(tc, ta, tb).dtype)
        got = tapegrad.where(gc, ga, gb).dtype.name
        if want != got:
            bad.append(("where", a, b, want, got))
        if sa and sb:
            want, got = _name(torch.cat([ta, tb]).dtype), tapegrad.cat([ga, gb]).dtype.name
            if want != got:
                bad.append(("cat", a, b, want, got))
    assert not bad


@pytest.mark.parametrize("shape", [(2,), ()], ids=["dim", "0d"])
def test_tensor_with_python_scalars_gives_torchs_dtype(shape):
    bad = []
    for a, s in itertools.product(NAMES, SCALARS):
        ta, ga = _ones(torch, a, shape), _ones(tapegrad, a, shape)
        for label, want, got in [
                ("result_type", lambda: torch.result_type(ta, s), lambda: tapegrad.result_type(ga, s)),
                ("result_type(s, t)", lambda: torch.result_type(s, ta), lambda: tapegrad.result_type(s, ga)),
                ("add", lambda: (ta + s).dtype, lambda: (ga + s).dtype),
                ("radd", lambda: (s + ta).dtype, lambda: (s + ga).dtype),
                ("mul", lambda: (ta * s).dtype, lambda: (ga * s).dtype),
                ("div", lambda: (ta / s).dtype, lambda: (ga / s).dtype),
                ("lt", lambda: (ta < s).dtype, lambda: (ga < s).dtype),
                ("where", lambda: torch.where(ta > 0, ta, s).dtype, lambda: tapegrad.where(ga > 0, ga, s).dtype)]:
            w, g = _name(want()), _name(got())
            if w != g:
                bad.append((label, a, s, w, g))
    assert not bad


def test_python_float_follows_the_default_dtype():
    tapegrad.set_default_dtype(tapegrad.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for a in NAMES:
            want = _name(torch.result_type(_ones(torch, a, (2,)), 2.5))
            assert tapegrad.result_type(_ones(tapegrad, a, (2,)), 2.5).name == want, a
    finally:
        tapegrad.set_default_dtype(tapegrad.float32)
        torch.set_default_dtype(torch.float32)


def test_in_place_add_casts_or_refuses_as_torch():
    bad = []
    others = [(b, shape) for b in NAMES for shape in ((2,), ())] + [(s, None) for s in SCALARS]
    for a, (b, shape) in itertools.product(NAMES, others):
        tb = b if shape is None else _ones(torch, b, shape)
        gb = b if shape is None else _ones(tapegrad, b, shape)
        ta, ga = _ones(torch, a, (2,)), _ones(tapegrad, a, (2,))
        try:
            ta.add_(tb)
            want = _name(ta.dtype)
        except RuntimeError as e:
            assert "can't be cast to the desired output type" in str(e)
            want = "refused"
        try:
            ga.add_(gb)
            got = ga.dtype.name
        except RuntimeError as e:
            assert "can't be cast to the desired output type" in str(e)
            assert a in str(e)                      # names the tensor being modified
            got = "refused"
        if want != got:
            bad.append((a, b, shape, want, got))
    assert not bad


def test_result_type_refuses_what_is_not_a_tensor_or_number():
    with pytest.raises(TypeError, match="result_type.*'other'.*list"):
        tapegrad.result_type(tapegrad.ones(2), [1])
