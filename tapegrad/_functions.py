"""The public math functions, re-exported from their op families."""
from .ops.elementwise import (add, sub, subtract, mul, multiply, div, divide, true_divide, neg, negative, pow,
                              exp, log, log1p, expm1, sqrt, rsqrt, abs, sign, sin, cos, tan, tanh, sigmoid,
                              relu, reciprocal, square, erf, floor, ceil, round, clamp, clip, maximum,
                              minimum, where, eq, ne, lt, le, gt, ge, greater, greater_equal, less,
                              less_equal, not_equal, floor_divide, remainder, logical_not, logical_and,
                              logical_or, logical_xor, isnan, isinf, isfinite)
from .ops.reduction import sum, mean
from .ops.linalg import matmul

__all__ = [n for n in dir() if not n.startswith("_")]
