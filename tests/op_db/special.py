"""OpSpecs for tapegrad/ops/special.py, pointwise.py and blas.py: the math functions of the tensor API.

References are NumPy (or ``math`` in float64) where it has the function; for
digamma and erfinv the forward check is PyTorch's (``torch_fn``), in
tests/ops/test_op_torch_parity.py.
"""
import math

import numpy as np
from hypothesis import strategies as st

import tapegrad

from . import Example, OpSpec, add
from .elementwise import binary, named, near, nonzero, ternary, unary


def _vec(fn):
    """A float64 reference from a scalar ``math`` function, returned in the input's dtype."""
    def ref(x):
        return np.vectorize(fn, otypes=[np.float64])(np.asarray(x, np.float64)).astype(x.dtype)
    return ref


def _method(name):
    return lambda x: getattr(x, name)()


# (name, numpy reference, domain, covers, examples at kinks/edges)
UNARY = [
    ("sinh", np.sinh, (-3.0, 3.0), "sinh"), ("cosh", np.cosh, (-3.0, 3.0), "cosh"),
    ("asin", np.arcsin, (-0.9, 0.9), "asin"), ("acos", np.arccos, (-0.9, 0.9), "acos"),
    ("atan", np.arctan, (-3.0, 3.0), "atan"), ("asinh", np.arcsinh, (-3.0, 3.0), "asinh"),
    ("acosh", np.arccosh, (1.1, 4.0), "acosh"), ("atanh", np.arctanh, (-0.9, 0.9), "atanh"),
    ("log2", np.log2, (0.1, 4.0), "log2"), ("log10", np.log10, (0.1, 4.0), "log10"),
    ("exp2", np.exp2, (-3.0, 3.0), "exp2"), ("erfc", _vec(math.erfc), (-3.0, 3.0), "erfc"),
    ("lgamma", _vec(math.lgamma), [st.floats(0.125, 5.0, width=32) | st.floats(-2.875, -2.125, width=32)], "lgamma"),
]
for _n, _ref, _dom, _cov in UNARY:
    add(OpSpec(_n, getattr(tapegrad, _n), _ref, unary(), domain=_dom[0] if isinstance(_dom, list) else _dom,
               covers=(_cov,) if _n != "lgamma" else ("lgamma", "digamma"), torch_fn=named(_n)))
    add(OpSpec(f"{_n}_method", _method(_n), _ref, unary(), domain=_dom[0] if isinstance(_dom, list) else _dom,
               covers=(_cov,) if _n != "lgamma" else ("lgamma", "digamma"),
               torch_fn=(lambda n: lambda torch, x: getattr(x, n)())(_n)))
for _alias, _target in (("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arcsinh", "asinh"),
                        ("arctanh", "atanh")):
    add(OpSpec(_alias, getattr(tapegrad, _alias), dict((u[0], u[1]) for u in UNARY)[_target], unary(),
               domain=(-0.9, 0.9), covers=(_target,), torch_fn=named(_alias)))
add(OpSpec("arccosh", tapegrad.arccosh, np.arccosh, unary(), domain=(1.1, 4.0), covers=("acosh",),
           torch_fn=named("arccosh")))

# digamma's second derivative (polygamma(2, x)) is not implemented: first order only.
add(OpSpec("digamma", tapegrad.digamma, None, unary(),
           domain=st.floats(0.125, 6.0, width=32) | st.floats(-2.875, -2.125, width=32), covers=("digamma", "trigamma"),
           gradgrad=False, examples=(Example([[1.0, 0.5, 10.0, -1.5]]),), torch_fn=named("digamma")))
add(OpSpec("erfinv", tapegrad.erfinv, None, unary(), domain=(-0.9, 0.9), covers=("erfinv",),
           examples=(Example([[0.0, 0.5, -0.99, 0.999]]),), torch_fn=named("erfinv")))
add(OpSpec("erfinv_method", _method("erfinv"), None, unary(), domain=(-0.9, 0.9), covers=("erfinv",),
           torch_fn=lambda torch, x: x.erfinv()))

# piecewise constant: forward only (gradient zero, checked against torch at the examples)
for _n in ("trunc", "fix"):
    add(OpSpec(_n, getattr(tapegrad, _n), np.trunc, unary(), domain=(-3.0, 3.0), grad=False, gradgrad=False,
               covers=("trunc",), examples=(Example([[-1.5, -0.5, 0.0, 0.5, 2.0]], kink=True),),
               torch_fn=named(_n)))
add(OpSpec("frac", tapegrad.frac, lambda x: x - np.trunc(x), unary(), domain=(-3.0, 3.0),
           avoid=lambda x: near(x, np.round(x), 1e-3), covers=("trunc", "subtract"), torch_fn=named("frac")))

# ----------------------------------------------------------------- binary
# nonzero first inputs: atan2(+-0, x < 0) = +-pi is the branch cut, where finite differences jump
add(OpSpec("atan2", tapegrad.atan2, np.arctan2, binary(), domain=[nonzero(), nonzero()], covers=("arctan2",),
           torch_fn=named("atan2")))
add(OpSpec("arctan2", tapegrad.arctan2, np.arctan2, binary(), domain=[nonzero(), (0.25, 2.0)],
           covers=("arctan2",), torch_fn=named("arctan2")))
add(OpSpec("hypot", tapegrad.hypot, np.hypot, binary(), domain=[nonzero(), nonzero()], covers=("hypot",),
           torch_fn=named("hypot")))
add(OpSpec("copysign", tapegrad.copysign, np.copysign, binary(), domain=[nonzero(), nonzero()],
           covers=("copysign",), examples=(Example([[0.0, -0.0, 2.0, -3.0], [1.0, -1.0, -0.0, 0.0]], kink=True),),
           torch_fn=named("copysign")))
add(OpSpec("fmod", tapegrad.fmod, np.fmod, binary(), domain=[(-3.0, 3.0), nonzero(0.5, 2.0)],
           avoid=lambda a, b: near(np.asarray(a, np.float64) / b, np.trunc(np.asarray(a, np.float64) / b), 1e-3)
           or near(np.asarray(a, np.float64) / b, np.round(np.asarray(a, np.float64) / b), 1e-3),
           covers=("fmod", "trunc"), torch_fn=named("fmod")))
add(OpSpec("fmod_scalar", lambda a, s: tapegrad.fmod(a, s), lambda a, s: np.fmod(a, s).astype(a.dtype), unary(),
           kwargs=lambda shapes: st.fixed_dictionaries({"s": st.sampled_from([0.75, -1.5, 2.0])}), domain=(-3.0, 3.0),
           avoid=lambda a, s: near(np.asarray(a, np.float64) / s, np.round(np.asarray(a, np.float64) / s), 1e-3),
           covers=("fmod",), torch_fn=lambda torch, a, s: torch.fmod(a, s)))


def _logaddexp(a, b):
    return np.logaddexp(a, b)


add(OpSpec("logaddexp", tapegrad.logaddexp, _logaddexp, binary(), domain=[(-3.0, 3.0), (-3.0, 3.0)],
           avoid=lambda a, b: near(a, b), covers=("maximum", "abs", "log1p", "exp", "where"),
           examples=(Example([[0.0, -np.inf, 1000.0, 2.0], [0.0, -np.inf, 1000.0, 2.0]], kink=True),),
           torch_fn=named("logaddexp")))
add(OpSpec("logaddexp2", tapegrad.logaddexp2, np.logaddexp2, binary(), domain=[(-3.0, 3.0), (-3.0, 3.0)],
           avoid=lambda a, b: near(a, b), covers=("maximum",), torch_fn=named("logaddexp2")))
add(OpSpec("logit", tapegrad.logit, lambda p: np.log(p / (1 - p)), unary(), domain=(0.05, 0.95), covers=("log",),
           torch_fn=named("logit")))
add(OpSpec("logit_eps", lambda p: tapegrad.logit(p, eps=0.1), lambda p: np.log(np.clip(p, 0.1, 0.9) /
                                                                              (1 - np.clip(p, 0.1, 0.9))),
           unary(), domain=(0.01, 0.99), avoid=lambda p: near(p, 0.1) or near(p, 0.9), covers=("clip",),
           torch_fn=lambda torch, p: torch.logit(p, eps=0.1)))
def _xlogy(x, y):
    with np.errstate(all="ignore"):
        return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y)).astype(x.dtype)


add(OpSpec("xlogy", tapegrad.xlogy, _xlogy, binary(), domain=[(-2.0, 2.0), (0.1, 3.0)],
           covers=("xlogy",), examples=(Example([[0.0, 0.0, 2.0, 0.0], [0.0, 2.0, 0.0, -1.0]], kink=True),),
           torch_fn=named("xlogy")))
add(OpSpec("lerp", tapegrad.lerp, lambda a, b, w: a + w * (b - a), ternary(), covers=("where",),
           avoid=lambda a, b, w: near(np.abs(w), 0.5), torch_fn=named("lerp")))
add(OpSpec("lerp_scalar", lambda a, b, w: tapegrad.lerp(a, b, w), lambda a, b, w: a + w * (b - a), binary(),
           kwargs=lambda shapes: st.fixed_dictionaries({"w": st.sampled_from([0.25, 0.75, -1.5])}),
           covers=("add",), torch_fn=lambda torch, a, b, w: torch.lerp(a, b, w)))
add(OpSpec("addcmul", lambda a, b, c: tapegrad.addcmul(a, b, c, value=-0.5), lambda a, b, c: a - 0.5 * b * c,
           ternary(), covers=("multiply",), torch_fn=lambda torch, a, b, c: torch.addcmul(a, b, c, value=-0.5)))
add(OpSpec("addcdiv", lambda a, b, c: tapegrad.addcdiv(a, b, c, value=2), lambda a, b, c: a + 2 * b / c,
           ternary(), domain=[(-2.0, 2.0), (-2.0, 2.0), nonzero()], covers=("divide",),
           torch_fn=lambda torch, a, b, c: torch.addcdiv(a, b, c, value=2)))
add(OpSpec("float_power", tapegrad.float_power, lambda a, b: np.power(a.astype(np.float64), b), binary(),
           domain=[(0.25, 2.0), (-2.0, 2.0)], covers=("power",), torch_fn=named("float_power")))
add(OpSpec("rsub", lambda a, b: tapegrad.rsub(a, b, alpha=2), lambda a, b: b - 2 * a, binary(), covers=("subtract",),
           torch_fn=lambda torch, a, b: torch.rsub(a, b, alpha=2)))
add(OpSpec("clamp_min", lambda a: tapegrad.clamp_min(a, -0.5), lambda a: np.maximum(a, -0.5), unary(),
           avoid=lambda a: near(a, -0.5), covers=("clip",), torch_fn=lambda torch, a: torch.clamp_min(a, -0.5)))
add(OpSpec("clamp_max", lambda a: tapegrad.clamp_max(a, 0.5), lambda a: np.minimum(a, 0.5), unary(),
           avoid=lambda a: near(a, 0.5), covers=("clip",), torch_fn=lambda torch, a: torch.clamp_max(a, 0.5)))
add(OpSpec("nan_to_num", lambda a: tapegrad.nan_to_num(a, posinf=7.0), lambda a: np.nan_to_num(a, posinf=7.0),
           unary(), covers=("where",), examples=(Example([[np.nan, np.inf, -np.inf, 1.5]], kink=True),),
           torch_fn=lambda torch, a: torch.nan_to_num(a, posinf=7.0)))
add(OpSpec("sgn", tapegrad.sgn, np.sign, unary(), grad=False, gradgrad=False, covers=("sign",),
           torch_fn=named("sgn")))

# ----------------------------------------------------------------- BLAS combinations (composed of matmul)
_MAT = st.tuples(st.integers(0, 3), st.integers(1, 3), st.integers(0, 3))


def _shapes(kind):
    def draw(t):
        n, k, m = t
        return {"mm": ((n, m), (n, k), (k, m)), "mv": ((n,), (n, k), (k,)),
                "bmm": ((2, n, m), (2, n, k), (2, k, m)), "addbmm": ((n, m), (2, n, k), (2, k, m))}[kind]
    return _MAT.map(draw)


add(OpSpec("mv", tapegrad.mv, lambda a, b: a @ b, _MAT.map(lambda t: ((t[0], t[1]), (t[1],))), covers=("matmul",),
           torch_fn=named("mv")))
add(OpSpec("addmm", lambda i, a, b: tapegrad.addmm(i, a, b, beta=0.5, alpha=-2),
           lambda i, a, b: 0.5 * i - 2 * (a @ b), _shapes("mm"), covers=("matmul",),
           torch_fn=lambda torch, i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=-2)))
add(OpSpec("addmv", lambda i, a, b: tapegrad.addmv(i, a, b), lambda i, a, b: i + a @ b, _shapes("mv"),
           covers=("matmul",), torch_fn=named("addmv")))
add(OpSpec("baddbmm", lambda i, a, b: tapegrad.baddbmm(i, a, b, alpha=2), lambda i, a, b: i + 2 * (a @ b),
           _shapes("bmm"), covers=("matmul",), torch_fn=lambda torch, i, a, b: torch.baddbmm(i, a, b, alpha=2)))
add(OpSpec("addbmm", lambda i, a, b: tapegrad.addbmm(i, a, b, beta=0), lambda i, a, b: (a @ b).sum(0),
           _shapes("addbmm"), covers=("matmul", "sum"),
           torch_fn=lambda torch, i, a, b: torch.addbmm(i, a, b, beta=0)))

# ----------------------------------------------------------------- bitwise (integer inputs, never recorded)
_INTS = st.integers(-8, 8)
for _n, _ref in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or), ("bitwise_xor", np.bitwise_xor)):
    add(OpSpec(_n, getattr(tapegrad, _n), _ref, binary(), domain=[_INTS, _INTS], covers=(_n,), grad=False,
               gradgrad=False, dtypes=("int64", "int32"), torch_fn=named(_n)))
add(OpSpec("bitwise_not", tapegrad.bitwise_not, np.invert, unary(), domain=_INTS, covers=("invert",), grad=False,
           gradgrad=False, dtypes=("int64", "int32"), torch_fn=named("bitwise_not")))
add(OpSpec("bitwise_and_operator", lambda a, b: a & b, np.bitwise_and, binary(), domain=[_INTS, _INTS],
           covers=("bitwise_and",), grad=False, gradgrad=False, dtypes=("int64",), torch_fn=lambda torch, a, b: a & b))
for _n, _ref in (("bitwise_left_shift", np.left_shift), ("bitwise_right_shift", np.right_shift)):
    add(OpSpec(_n, getattr(tapegrad, _n), _ref, binary(), domain=[_INTS, st.integers(0, 5)],
               covers=(_n.replace("bitwise_", ""),), grad=False, gradgrad=False, dtypes=("int64", "int32"),
               torch_fn=named(_n)))
