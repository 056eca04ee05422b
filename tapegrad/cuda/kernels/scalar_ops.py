"""Scalar definitions of every elementwise op, compiled into device functions per dtype.

Each entry is ``name -> (arity, result kind, body)``; ``body`` is a Python
expression (or a function body with ``return``) over ``a, b, c`` in which
``T`` is the compute type. Every constant is wrapped as ``T(...)``: a bare
Python float literal silently turns float32 math into float64 (GPU.md).
Domain errors are written out (``log(0) = -inf``, ``sin(inf) = nan``,
``floor(nan) = nan``) because the simulator's ``math`` raises where the GPU
returns those values.

Result kinds: ``same`` (NumPy's result type), ``float`` (integers give
float64, as in NumPy), ``bool`` (comparisons and predicates).
"""
import math

from ...backend import _special

_ROUND = """
    if not (abs(a) < T(BIG)):
        return a
    r = math.floor(a + T(0.5))
    if r - a == T(0.5) and r - T(2) * math.floor(r / T(2)) != T(0):
        r = r - T(1)
    return r
"""

OPS = {
    # unary
    "identity": (1, "same", "a"),
    "neg": (1, "same", "-a"),
    "abs": (1, "same", "abs(a)"),
    "square": (1, "same", "a * a"),
    "sign": (1, "same", "T(1) if a > T(0) else (T(-1) if a < T(0) else a)"),
    "floor": (1, "same", "math.floor(a) if abs(a) < T(INF) else a"),
    "ceil": (1, "same", "math.ceil(a) if abs(a) < T(INF) else a"),
    "round": (1, "same", _ROUND),
    "exp": (1, "float", "math.exp(a)"),
    "expm1": (1, "float", "math.expm1(a)"),
    "log": (1, "float", "math.log(a) if a > T(0) else (T(-INF) if a == T(0) else T(NAN))"),
    "log1p": (1, "float", "math.log1p(a) if a > T(-1) else (T(-INF) if a == T(-1) else T(NAN))"),
    "sqrt": (1, "float", "math.sqrt(a) if a >= T(0) else T(NAN)"),
    "reciprocal": (1, "float", "T(1) / a if a != T(0) else math.copysign(T(INF), a)"),
    "sin": (1, "float", "math.sin(a) if abs(a) < T(INF) else T(NAN)"),
    "cos": (1, "float", "math.cos(a) if abs(a) < T(INF) else T(NAN)"),
    "tan": (1, "float", "math.tan(a) if abs(a) < T(INF) else T(NAN)"),
    "tanh": (1, "float", "math.tanh(a)"),
    "erf": (1, "float", "math.erf(a)"),
    # exp of a non-positive number only, so large |a| neither overflows nor loses precision
    "sigmoid": (1, "float", "T(1) / (T(1) + math.exp(-a)) if a >= T(0) else math.exp(a) / (T(1) + math.exp(a))"),
    "sinh": (1, "float", "math.sinh(a) if abs(a) < T(710) else a"),
    "cosh": (1, "float", "math.cosh(a) if abs(a) < T(710) else abs(a)"),
    "arcsin": (1, "float", "math.asin(a) if abs(a) <= T(1) else T(NAN)"),
    "arccos": (1, "float", "math.acos(a) if abs(a) <= T(1) else T(NAN)"),
    "arctan": (1, "float", "math.atan(a)"),
    "arcsinh": (1, "float", "math.asinh(a)"),
    "arccosh": (1, "float", "math.acosh(a) if a >= T(1) else T(NAN)"),
    "arctanh": (1, "float", "math.atanh(a) if abs(a) < T(1) else (math.copysign(T(INF), a) if abs(a) == T(1) else T(NAN))"),
    "log2": (1, "float", "math.log2(a) if a > T(0) else (T(-INF) if a == T(0) else T(NAN))"),
    "log10": (1, "float", "math.log10(a) if a > T(0) else (T(-INF) if a == T(0) else T(NAN))"),
    "exp2": (1, "float", "T(INF) if a >= T(1100) else math.pow(T(2), a)"),
    "trunc": (1, "same", "(math.floor(a) if a >= T(0) else math.ceil(a)) if abs(a) < T(INF) else a"),
    "erfc": (1, "float", _special.ERFC),
    "lgamma": (1, "float", _special.LGAMMA),
    "digamma": (1, "float", _special.DIGAMMA),
    "trigamma": (1, "float", _special.TRIGAMMA),
    "erfinv": (1, "float", _special.ERFINV),
    "invert": (1, "same", "~a"),
    "logical_not": (1, "bool", "not a"),
    "isnan": (1, "bool", "a != a"),
    "isinf": (1, "bool", "abs(a) == T(INF)"),
    "isfinite": (1, "bool", "abs(a) < T(INF)"),
    # binary
    "add": (2, "same", "a + b"),
    "subtract": (2, "same", "a - b"),
    "multiply": (2, "same", "a * b"),
    "divide": (2, "float", "a / b if b != T(0) else (T(NAN) if a == T(0) or a != a else math.copysign(T(INF), a) * math.copysign(T(1), b))"),
    "power": (2, "same", "a ** b"),
    # NumPy's tie rule (the backend contract): equal values, e.g. -0.0 and 0.0, give b
    "maximum": (2, "same", "a if (a > b or a != a) else b"),
    "minimum": (2, "same", "a if (a < b or a != a) else b"),
    "floor_divide": (2, "same", "a // b"),
    "remainder": (2, "same", "a % b"),
    "arctan2": (2, "float", "math.atan2(a, b)"),
    "hypot": (2, "float", "math.hypot(a, b)"),
    "copysign": (2, "float", "math.copysign(a, b)"),
    "fmod": (2, "same", "math.fmod(a, b) if b != T(0) and abs(a) < T(INF) else T(NAN)"),
    "bitwise_and": (2, "same", "a & b"),
    "bitwise_or": (2, "same", "a | b"),
    "bitwise_xor": (2, "same", "a ^ b"),
    "left_shift": (2, "same", "a << b"),
    "right_shift": (2, "same", "a >> b"),
    "equal": (2, "bool", "a == b"),
    "not_equal": (2, "bool", "a != b"),
    "less": (2, "bool", "a < b"),
    "less_equal": (2, "bool", "a <= b"),
    "greater": (2, "bool", "a > b"),
    "greater_equal": (2, "bool", "a >= b"),
    "logical_and": (2, "bool", "(a != T(0)) and (b != T(0))"),
    "logical_or": (2, "bool", "(a != T(0)) or (b != T(0))"),
    "logical_xor": (2, "bool", "(a != T(0)) != (b != T(0))"),
    # ternary (where's condition is read as is; see elementwise.apply)
    "where": (3, "same", "b if a else c"),
    # np.clip is minimum(maximum(a, lo), hi): with lo > hi every element is hi, as in PyTorch's clamp
    "clip": (3, "same", "a if a != a else (c if b > c or a > c else (b if a < b else a))"),
}

# Ops defined on integers (and bools) only: the op layer refuses float operands before a kernel runs.
INT_ONLY = frozenset({"bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift"})

# Integer and bool compute types: these predicates are constant, and float-only guards don't apply.
INT_OVERRIDES = {
    "isnan": "False", "isinf": "False", "isfinite": "True",
    "floor": "a", "ceil": "a", "round": "a", "sign": "T(1) if a > T(0) else (T(-1) if a < T(0) else T(0))",
    "divide": "a / b", "reciprocal": "T(1) / a",
    "maximum": "a if a >= b else b", "minimum": "a if a <= b else b",
    "clip": "c if b > c or a > c else (b if a < b else a)",
    "trunc": "a",
    # C's remainder of integers: the sign of a; 0 for a zero divisor (NumPy's integer fmod)
    "fmod": """
    if b == T(0):
        return T(0)
    r = a % b
    if r != T(0) and (r < T(0)) != (a < T(0)):
        r = r - b
    return r
""",
}

_CACHE = {}


def device_fn(name, T, is_float):
    """The scalar device function of op ``name`` for compute type ``T`` (a numba type), cached."""
    key = (name, T, is_float)
    fn = _CACHE.get(key)
    if fn is None:
        from .._nb import cuda
        nargs, _, body = OPS[name]
        if not is_float and name in INT_OVERRIDES:
            body = INT_OVERRIDES[name]
        if "return" not in body:
            body = f"    return {body}\n"
        args = ", ".join("abc"[:nargs])
        src = f"def {name}_scalar({args}):\n{body}"
        ns = {"T": T, "math": math, "INF": math.inf, "NAN": math.nan, "PI": math.pi,
              "BIG": 2.0 ** 23 if str(T) == "float32" else 2.0 ** 52}
        exec(compile(src, f"<tapegrad scalar {name}>", "exec"), ns)
        fn = cuda.jit(device=True, inline="always")(ns[f"{name}_scalar"])
        _CACHE[key] = fn
    return fn
