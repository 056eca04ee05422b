"""OpSpecs for tapegrad/ops/elementwise.py: arithmetic, unary math, activations, comparisons."""
import math
import operator

import numpy as np
from hypothesis import strategies as st

import tapegrad
from tapegrad.testing import broadcastable_shapes

from . import Example, OpSpec, add

KINK = 1e-3          # keep finite differences (step 1e-6) away from kinks, ties and jumps


def unary():
    return broadcastable_shapes(1, max_dims=3)


def binary():
    return broadcastable_shapes(2, max_dims=3)


def ternary():
    return broadcastable_shapes(3, max_dims=2)


def nonzero(lo=0.25, hi=2.0):
    """Floats in ``[-hi, -lo] U [lo, hi]`` (bounds exact in float32)."""
    return st.floats(lo, hi, width=32) | st.floats(-hi, -lo, width=32)


def scalar(strategy=None):
    """kwargs ``{"s": a Python float}``."""
    s = st.floats(-3.0, 3.0, width=32) if strategy is None else strategy
    return lambda shapes: st.fixed_dictionaries({"s": s})


def same(fn):
    """``torch_fn`` for a ``fn`` written with Tensor methods and operators only: the same call in PyTorch."""
    return lambda torch, *xs, **kw: fn(*xs, **kw)


def named(name, **fixed):
    """``torch_fn`` calling ``torch.<name>`` (for a ``fn`` that calls ``tapegrad.<name>``)."""
    return lambda torch, *xs, **kw: getattr(torch, name)(*xs, **fixed, **kw)


def near(a, b, tol=KINK):
    return bool(np.any(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) < tol))


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _keep(f):
    """A reference computed in float64, returned in its first input's dtype."""
    def ref(x, *args, **kwargs):
        return np.asarray(f(np.asarray(x, np.float64), *args, **kwargs)).astype(x.dtype)
    return ref


def _floor_frac_near(a, b):
    q = np.asarray(a, np.float64) / np.asarray(b, np.float64)
    return near(q, np.round(q), 1e-3)


# ----------------------------------------------------------------- arithmetic
for name, fn, ref, cov in [
        ("add", tapegrad.add, np.add, "add"),
        ("sub", tapegrad.sub, np.subtract, "subtract"),
        ("mul", tapegrad.mul, np.multiply, "multiply"),
        ("add_operator", operator.add, np.add, "add"),
        ("sub_operator", operator.sub, np.subtract, "subtract"),
        ("mul_operator", operator.mul, np.multiply, "multiply"),
        ("maximum", tapegrad.maximum, np.maximum, "maximum"),
        ("minimum", tapegrad.minimum, np.minimum, "minimum")]:
    mm = name in ("maximum", "minimum")
    tfn = (lambda torch, a, b, _f=fn: _f(a, b)) if name.endswith("_operator") else \
        (lambda torch, a, b, _n=name: getattr(torch, _n)(a, b))
    add(OpSpec(name, fn, ref, binary(), covers=(cov,), avoid=(lambda a, b: near(a, b)) if mm else None,
               examples=(Example([[1.0, 2.0, -1.0], [1.0, 1.0, -1.0]], kink=mm),
                         Example([[[0.5], [2.0]], [2.0, 0.5, 0.5]], kink=mm)),
               torch_fn=tfn))

add(OpSpec("add_alpha", lambda a, b: tapegrad.add(a, b, alpha=2.5), lambda a, b: a + b * 2.5, binary(),
           covers=("add", "multiply"), torch_fn=lambda torch, a, b: torch.add(a, b, alpha=2.5)))
add(OpSpec("sub_alpha", lambda a, b: tapegrad.sub(a, b, alpha=-1.5), lambda a, b: a - b * -1.5, binary(),
           covers=("subtract", "multiply"), torch_fn=lambda torch, a, b: torch.sub(a, b, alpha=-1.5)))
add(OpSpec("div", tapegrad.div, np.divide, binary(), domain=[(-3.0, 3.0), nonzero()], covers=("divide",),
           torch_fn=lambda torch, a, b: torch.div(a, b)))
add(OpSpec("div_operator", lambda a, b: a / b, np.divide, binary(), domain=[(-3.0, 3.0), nonzero()],
           covers=("divide",), torch_fn=lambda torch, a, b: a / b))
add(OpSpec("neg", tapegrad.neg, np.negative, unary(), covers=("neg",), torch_fn=lambda torch, a: torch.neg(a)))
add(OpSpec("neg_operator", lambda a: -a, np.negative, unary(), covers=("neg",), torch_fn=lambda torch, a: -a))

# A Python scalar on either side keeps the tensor's dtype.
add(OpSpec("add_scalar", lambda a, s: a + s, lambda a, s: a + s, unary(), kwargs=scalar(), covers=("add",),
           torch_fn=same(lambda a, s: a + s)))
add(OpSpec("radd_scalar", lambda a, s: s + a, lambda a, s: s + a, unary(), kwargs=scalar(), covers=("add",),
           torch_fn=same(lambda a, s: s + a)))
add(OpSpec("rsub_scalar", lambda a, s: s - a, lambda a, s: s - a, unary(), kwargs=scalar(), covers=("subtract",),
           torch_fn=same(lambda a, s: s - a)))
add(OpSpec("rmul_scalar", lambda a, s: s * a, lambda a, s: s * a, unary(), kwargs=scalar(), covers=("multiply",),
           torch_fn=same(lambda a, s: s * a)))
add(OpSpec("div_scalar", lambda a, s: a / s, lambda a, s: a / s, unary(), kwargs=scalar(nonzero()),
           covers=("divide",), torch_fn=same(lambda a, s: a / s)))
add(OpSpec("rdiv_scalar", lambda a, s: s / a, lambda a, s: s / a, unary(), kwargs=scalar(), domain=nonzero(),
           covers=("divide",), torch_fn=same(lambda a, s: s / a)))

# pow: tensor ** tensor (positive base), tensor ** number, number ** tensor.
add(OpSpec("pow", tapegrad.pow, np.power, binary(), domain=[(0.25, 2.0), (-2.0, 2.0)], covers=("power",),
           torch_fn=named("pow")))
add(OpSpec("pow_operator", lambda a, b: a ** b, np.power, binary(), domain=[(0.25, 2.0), (-2.0, 2.0)],
           covers=("power",), torch_fn=same(lambda a, b: a ** b)))
add(OpSpec("pow_int_exponent", lambda a, s: a ** s, lambda a, s: a ** s, unary(),
           kwargs=scalar(st.sampled_from([0, 1, 2, 3, -1, -2])), domain=nonzero(0.25, 2.0), covers=("power",),
           torch_fn=same(lambda a, s: a ** s)))
add(OpSpec("pow_float_exponent", lambda a, s: tapegrad.pow(a, s), lambda a, s: a ** s, unary(),
           kwargs=scalar(st.sampled_from([0.5, -1.5, 2.5, 0.0])), domain=(0.25, 2.0), covers=("power",),
           torch_fn=lambda torch, a, s: torch.pow(a, s)))
add(OpSpec("rpow_scalar", lambda a, s: s ** a, lambda a, s: s ** a, unary(),
           kwargs=scalar(st.sampled_from([0.5, 2.0, 3.0])), covers=("power",), torch_fn=same(lambda a, s: s ** a)))

add(OpSpec("remainder", tapegrad.remainder, np.remainder, binary(), domain=[(-3.0, 3.0), nonzero(0.5, 2.0)],
           avoid=_floor_frac_near, covers=("remainder",), torch_fn=named("remainder")))
add(OpSpec("remainder_operator", lambda a, b: a % b, np.remainder, binary(),
           domain=[(-3.0, 3.0), nonzero(0.5, 2.0)], avoid=_floor_frac_near, covers=("remainder",),
           torch_fn=same(operator.mod)))
add(OpSpec("remainder_scalar", lambda a, s: a % s, lambda a, s: a % s, unary(),
           kwargs=scalar(st.sampled_from([0.75, -1.5, 2.0])), domain=(-3.0, 3.0),
           avoid=lambda a, s: _floor_frac_near(a, s), covers=("remainder",), torch_fn=same(lambda a, s: a % s)))

# Rounding divisions are piecewise constant: forward only.
add(OpSpec("floor_divide", tapegrad.floor_divide, np.floor_divide, binary(), domain=[(-3.0, 3.0), nonzero()],
           grad=False, gradgrad=False, covers=("floor_divide",), torch_fn=named("floor_divide")))
add(OpSpec("floor_divide_operator", lambda a, b: a // b, np.floor_divide, binary(), domain=[(-3.0, 3.0), nonzero()],
           grad=False, gradgrad=False, covers=("floor_divide",), torch_fn=same(operator.floordiv)))
add(OpSpec("div_floor", lambda a, b: tapegrad.div(a, b, rounding_mode="floor"), np.floor_divide, binary(),
           domain=[(-3.0, 3.0), nonzero()], grad=False, gradgrad=False, covers=("floor_divide",),
           torch_fn=named("div", rounding_mode="floor")))
add(OpSpec("div_trunc", lambda a, b: tapegrad.div(a, b, rounding_mode="trunc"),
           lambda a, b: np.trunc(a / b), binary(), domain=[(-3.0, 3.0), nonzero()], grad=False, gradgrad=False,
           covers=("divide",), torch_fn=named("div", rounding_mode="trunc")))

# ----------------------------------------------------------------- unary math
for name, ref, domain, avoid in [
        ("exp", np.exp, (-3.0, 3.0), None),
        ("log", np.log, (0.25, 4.0), None),
        ("log1p", np.log1p, (-0.75, 3.0), None),
        ("expm1", np.expm1, (-3.0, 3.0), None),
        ("sqrt", np.sqrt, (0.25, 4.0), None),
        ("rsqrt", lambda x: 1 / np.sqrt(x), (0.25, 4.0), None),
        ("sin", np.sin, (-4.0, 4.0), None),
        ("cos", np.cos, (-4.0, 4.0), None),
        ("tan", np.tan, (-1.25, 1.25), None),
        ("tanh", np.tanh, (-3.0, 3.0), None),
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), (-6.0, 6.0), None),
        ("reciprocal", np.reciprocal, nonzero(), None),
        ("square", np.square, (-3.0, 3.0), None),
        ("erf", _keep(_erf), (-3.0, 3.0), None),
        ("abs", np.abs, (-3.0, 3.0), lambda x: near(x, 0)),
        ("relu", lambda x: np.maximum(x, 0), (-3.0, 3.0), lambda x: near(x, 0)),
        ("sign", np.sign, (-3.0, 3.0), lambda x: near(x, 0)),
        ("floor", np.floor, (-3.0, 3.0), lambda x: near(x, np.round(x))),
        ("ceil", np.ceil, (-3.0, 3.0), lambda x: near(x, np.round(x))),
        ("round", np.round, (-3.0, 3.0), lambda x: near(x, np.floor(x) + 0.5))]:
    kinks = name in ("abs", "relu")
    add(OpSpec(name, getattr(tapegrad, name), ref, unary(), domain=domain, avoid=avoid, covers=(name,),
               examples=(Example([[0.0, -0.0, 1.5, -1.5]], kink=True),) if kinks else (), torch_fn=named(name)))
    add(OpSpec(f"{name}_method", lambda x, _n=name: getattr(x, _n)(), ref, unary(), domain=domain, avoid=avoid,
               covers=(name,), grad=False, gradgrad=False, torch_fn=same(lambda x, _n=name: getattr(x, _n)())))

add(OpSpec("abs_operator", lambda x: abs(x), np.abs, unary(), avoid=lambda x: near(x, 0), covers=("abs",),
           torch_fn=same(abs)))
add(OpSpec("gelu", tapegrad.gelu, _keep(lambda x: x * 0.5 * (1 + _erf(x / math.sqrt(2)))), unary(),
           domain=(-4.0, 4.0), covers=("erf", "multiply", "add"),
           torch_fn=lambda torch, x: torch.nn.functional.gelu(x)))
add(OpSpec("gelu_tanh", lambda x: tapegrad.gelu(x, approximate="tanh"),
           _keep(lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))), unary(),
           domain=(-4.0, 4.0), covers=("tanh", "multiply", "add"),
           torch_fn=lambda torch, x: torch.nn.functional.gelu(x, approximate="tanh")))

# ----------------------------------------------------------------- clamp / where / casts


def _bounds(shapes):
    lo = st.none() | st.floats(-2.0, 0.0, width=32)
    return st.fixed_dictionaries({"min": lo, "max": st.none() | st.floats(0.5, 2.0, width=32)}).filter(
        lambda d: d["min"] is not None or d["max"] is not None)


def _near_bounds(x, min=None, max=None):  # noqa: A002
    return (min is not None and near(x, min)) or (max is not None and near(x, max))


_AT_BOUNDS = [[-1.0, 1.0, 0.0, 2.0, -2.0]]
add(OpSpec("clamp", lambda x, **kw: tapegrad.clamp(x, **kw), lambda x, min=None, max=None: np.clip(x, min, max),
           unary(), kwargs=_bounds, domain=(-3.0, 3.0), avoid=_near_bounds, covers=("clip",),
           examples=tuple(Example(_AT_BOUNDS, kw, kink=True) for kw in (
               {"min": -1.0, "max": 1.0}, {"min": -1.0, "max": None}, {"min": None, "max": 1.0},
               {"min": 1.0, "max": -1.0})),
           torch_fn=lambda torch, x, **kw: torch.clamp(x, **kw)))
add(OpSpec("clamp_method", lambda x, **kw: x.clamp(**kw), lambda x, min=None, max=None: np.clip(x, min, max),
           unary(), kwargs=_bounds, domain=(-3.0, 3.0), avoid=_near_bounds, covers=("clip",),
           torch_fn=same(lambda x, **kw: x.clamp(**kw))))
add(OpSpec("clamp_tensor_bounds", lambda x, lo, hi: tapegrad.clamp(x, lo, hi),
           lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi), ternary(),
           domain=[(-3.0, 3.0), (-2.0, 0.0), (0.5, 2.0)],
           avoid=lambda x, lo, hi: near(x, lo) or near(x, hi), covers=("clamp_tensor",),
           examples=(Example(_AT_BOUNDS + [[-1.0] * 5, [1.0] * 5], kink=True),
                     Example(_AT_BOUNDS + [[1.0] * 5, [-1.0] * 5], kink=True),
                     Example([[_AT_BOUNDS[0], [-2.0, 1.0, 0.0, 2.0, 1.0]], [-1.0], [[1.0], [2.0]]], kink=True)),
           torch_fn=lambda torch, x, lo, hi: torch.clamp(x, lo, hi)))
add(OpSpec("clamp_tensor_min", lambda x, lo: tapegrad.clamp(x, min=lo), np.maximum, binary(),
           domain=[(-3.0, 3.0), (-2.0, 0.0)], avoid=near, covers=("clamp_min_tensor",),
           examples=(Example(_AT_BOUNDS + [[-1.0] * 5], kink=True),), torch_fn=lambda torch, x, lo: torch.clamp(x, lo)))
add(OpSpec("clamp_tensor_max", lambda x, hi: tapegrad.clamp(x, max=hi), np.minimum, binary(),
           domain=[(-3.0, 3.0), (0.5, 2.0)], avoid=near, covers=("clamp_max_tensor",),
           examples=(Example(_AT_BOUNDS + [[1.0] * 5], kink=True),),
           torch_fn=lambda torch, x, hi: torch.clamp(x, max=hi)))
add(OpSpec("where", lambda c, a, b: tapegrad.where(c > 0, a, b), lambda c, a, b: np.where(c > 0, a, b), ternary(),
           avoid=lambda c, a, b: near(c, 0), covers=("where", "greater"),
           torch_fn=lambda torch, c, a, b: torch.where(c > 0, a, b)))
add(OpSpec("where_scalar", lambda c, a: tapegrad.where(c > 0, a, 0.5), lambda c, a: np.where(c > 0, a, 0.5),
           binary(), avoid=lambda c, a: near(c, 0), covers=("where",),
           torch_fn=lambda torch, c, a: torch.where(c > 0, a, 0.5)))
add(OpSpec("where_method", lambda c, a, b: a.where(c > 0, b), lambda c, a, b: np.where(c > 0, a, b), ternary(),
           avoid=lambda c, a, b: near(c, 0), covers=("where",), torch_fn=same(lambda c, a, b: a.where(c > 0, b))))
# float64 -> float32 -> float64 rounds to float32, so a large step keeps the rounding error small.
add(OpSpec("astype_roundtrip", lambda x: x.to(tapegrad.float32).to(tapegrad.float64),
           lambda x: x.astype(np.float32).astype(np.float64), unary(), covers=("astype",), eps=1e-2,
           atol=1e-4, rtol=1e-3, torch_fn=lambda torch, x: x.to(torch.float32).to(torch.float64)))
add(OpSpec("astype_float", lambda x: x.float(), lambda x: x.astype(np.float32), unary(), grad=False,
           gradgrad=False, covers=("astype",), torch_fn=same(lambda x: x.float())))

# ----------------------------------------------------------------- forward only: comparisons, logic, tests
TIES = st.sampled_from([-1.0, 0.0, 0.5, 1.0])          # equal values are common
for name, ref in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                  ("gt", np.greater), ("ge", np.greater_equal)]:
    add(OpSpec(name, getattr(tapegrad, name), ref, binary(), domain=TIES, grad=False, gradgrad=False,
               covers=(ref.__name__,), torch_fn=named(name)))
for sym, py, ref in [("==", operator.eq, np.equal), ("!=", operator.ne, np.not_equal), ("<", operator.lt, np.less),
                     ("<=", operator.le, np.less_equal), (">", operator.gt, np.greater),
                     (">=", operator.ge, np.greater_equal)]:
    add(OpSpec(f"operator{sym}", py, ref, binary(), domain=TIES, grad=False, gradgrad=False, covers=(ref.__name__,),
               torch_fn=same(py)))
    add(OpSpec(f"operator{sym}_scalar", lambda a, _o=py: _o(a, 0.5), lambda a, _o=py: _o(a, 0.5), unary(),
               domain=TIES, grad=False, gradgrad=False, covers=(ref.__name__,),
               torch_fn=same(lambda a, _o=py: _o(a, 0.5))))
for name in ("logical_and", "logical_or", "logical_xor"):
    add(OpSpec(name, lambda a, b, _n=name: getattr(tapegrad, _n)(a > 0, b > 0),
               lambda a, b, _n=name: getattr(np, _n)(a > 0, b > 0), binary(), domain=TIES, grad=False,
               gradgrad=False, covers=(name,), torch_fn=lambda torch, a, b, _n=name: getattr(torch, _n)(a > 0, b > 0)))
add(OpSpec("logical_not", lambda a: tapegrad.logical_not(a > 0), lambda a: ~(a > 0), unary(), domain=TIES,
           grad=False, gradgrad=False, covers=("logical_not",), torch_fn=lambda torch, a: torch.logical_not(a > 0)))
add(OpSpec("invert_bool", lambda a: ~(a > 0), lambda a: ~(a > 0), unary(), domain=TIES, grad=False,
           gradgrad=False, covers=("logical_not",), torch_fn=same(lambda a: ~(a > 0))))
SPECIAL = st.sampled_from([float("nan"), float("inf"), -float("inf"), 0.0, 1.5])
for name in ("isnan", "isinf", "isfinite"):
    add(OpSpec(name, getattr(tapegrad, name), getattr(np, name), unary(), domain=SPECIAL, grad=False,
               gradgrad=False, covers=(name,), torch_fn=named(name)))
