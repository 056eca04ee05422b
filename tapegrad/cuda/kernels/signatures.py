"""A signature of every kernel family and specialization, for the CPU-only PTX compile check.

``all_signatures()`` yields ``(name, python function, argument types, is_float32)``;
tests compile each with ``numba.cuda.compile_ptx(fn, args, cc=(9, 0))``, which
needs only the pip NVVM wheels, no GPU.
"""
from numba import types

from .. import _nb
from . import elementwise as E
from . import indexing as X
from . import matmul as MM
from . import optim as O
from . import random as R
from . import reduce as RD
from . import rows as RW
from . import scalar_ops
from . import sort as SO
from . import scan as SC

U32, I64 = types.uint32, types.int64

# libdevice's precise sinf/cosf/tanf keep a Payne-Hanek argument reduction for |x| > 105615 that uses a
# local array (and f64 helpers) on that rare path; PyTorch's kernels carry the same code. Exempt, by name
# (digamma and trigamma call tan/sin in their reflection formulas, backend/_special.py).
LIBDEVICE_TRIG = ("sin", "cos", "tan", "randn", "digamma", "trigamma")


def _arr(t):
    return types.Array(t, 1, "C")


def _ew(name, T, ndim, IN=None, OUT=None):
    """Op ``name`` computed in ``T`` over arrays of ``IN`` into ``OUT`` (both default to ``T``; bool for
    predicates), as ``elementwise._launch`` specializes it."""
    nargs, kind, _ = scalar_ops.OPS[name]
    IN = T if IN is None else IN
    OUT = (types.boolean if kind == "bool" else IN) if OUT is None else OUT
    d = max(ndim, 1)
    tup = types.UniTuple(U32, d)
    args = [U32, tup, _arr(OUT), U32, tup]
    for k in range(nargs):
        args += [_arr(types.boolean if (name == "where" and k == 0) else IN), U32, tup]
    k = E.get_kernel(name, T, OUT, "a" * nargs, ndim if ndim else -1, ndim == 0, False)
    label = f"{T}" if IN == T and OUT in (T, types.boolean) else f"{IN}->{OUT} in {T}"
    no_f64 = str(T) == "float32" and "float64" not in (str(IN), str(OUT))
    return (f"elementwise {name} {label} ndim={ndim or 'flat'}", k.py_func, tuple(args), no_f64)


def _small_dtype_signatures():
    """float16 (computed in float32) and the narrow integers (computed in int32): Note [float16 computes in
    float32] in kernels/elementwise.py."""
    f16, f32, f64, i32 = types.float16, types.float32, types.float64, types.int32
    out = [_ew(name, f32, 0, f16) for name in ("add", "multiply", "divide", "exp", "log", "tanh", "sigmoid",
                                                 "sqrt", "power", "maximum", "less", "isnan", "where", "clip")]
    out += [_ew("add", f32, 3, f16), _ew("identity", f32, 0, f16, f32), _ew("identity", f64, 0, f64, f16),
            _ew("identity", I64, 0, I64, f16), _ew("identity", f32, 0, f16, types.boolean)]
    for it in (types.uint8, types.int8, types.int16):
        out += [_ew(name, i32, 0, it) for name in ("add", "multiply", "floor_divide", "remainder", "bitwise_and",
                                                   "bitwise_xor", "invert", "left_shift", "right_shift", "less")]
        out += [_ew("identity", i32, 0, it, f32), _ew("identity", f32, 0, f32, it)]
    for name in ("sum", "max", "argmax"):
        for kind in ("thread", "block"):
            k = RD._kernel(kind, name, f32, f32)
            res = I64 if name.startswith("arg") else f16
            args = ((I64, I64, I64, _arr(f16), I64, _arr(res)) if kind == "thread" else
                    (I64, I64, I64, I64, _arr(f16), I64, _arr(res)))
            out.append((f"reduce {name} {kind} float16 in float32", k.py_func, args, True))
    k = RD._kernel("thread", "max", types.int8, types.int8)
    out.append(("reduce max thread int8", k.py_func, (I64, I64, I64, _arr(types.int8), I64, _arr(types.int8)),
                False))
    tile = _nb.MM_TILES[-1]
    k = MM.get_kernel(tile, f32, f16)
    a = _arr(f16)
    out.append((f"matmul {tile} float16 in float32", k.py_func,
                (I64,) * 4 + (a,) + (I64,) * 4 + (a,) + (I64,) * 4 + (a, I64), True))
    tup2 = types.UniTuple(I64, 2)
    for T in (f16, types.int8):
        out.append((f"gather {T}", X._kernel("gather", 2).py_func,
                    (I64, _arr(T), _arr(T), I64, tup2, tup2, _arr(I64), I64, I64), T == f16))
        # (float16 scatter-adds run on a float32 copy: indexing._scatter)
        for kind in ("assign",) if T == f16 else ("assign", "scatter"):
            out.append((f"{kind} {T}", X._kernel(kind, 2).py_func,
                        (I64, _arr(T), I64, tup2, tup2, _arr(T), _arr(I64), I64, I64), T == f16))
    rank, _, pad, _, _ = SO._sort_kernels(f32)        # float16 keys compare as float32 (sort._common)
    out.append(("sort rank float16 in float32", rank.py_func, (I64, I64, I64, _arr(f16), I64, _arr(I64)), True))
    out.append(("sort pad-lines float16 in float32", pad.py_func,
                (I64,) * 4 + (_arr(f16), I64, _arr(f32), _arr(I64)), True))
    out.append(("scan cumsum float16 in float32", SC._kernel("cumsum", f32).py_func,
                (I64, I64, I64, _arr(f16), I64, _arr(f16)), True))
    return out


def all_signatures():
    f32, f64 = types.float32, types.float64
    out = []
    for name in scalar_ops.OPS:
        out.append(_ew(name, I64 if name in scalar_ops.INT_ONLY else f32, 0))
    for name in ("add", "where", "sigmoid", "identity"):
        out.append(_ew(name, f32, 3))
        out.append(_ew(name, f64, 0))
    for name in ("sum", "prod", "max", "min", "argmax", "argmin"):
        for kind in ("thread", "block"):
            k = RD._kernel(kind, name, f32, f32)
            res = I64 if name.startswith("arg") else f32
            args = ((I64, I64, I64, _arr(f32), I64, _arr(res)) if kind == "thread" else
                    (I64, I64, I64, I64, _arr(f32), I64, _arr(res)))
            out.append((f"reduce {name} {kind} float32", k.py_func, args, True))
    for tile in _nb.MM_TILES:
        k = MM.get_kernel(tile, f32)
        a = _arr(f32)
        out.append((f"matmul {tile} float32", k.py_func,
                    (I64,) * 4 + (a,) + (I64,) * 4 + (a,) + (I64,) * 4 + (a, I64), True))
    tup2 = types.UniTuple(I64, 2)
    out.append(("gather float32", X._kernel("gather", 2).py_func,
                (I64, _arr(f32), _arr(f32), I64, tup2, tup2, _arr(I64), I64, I64), True))
    for kind in ("scatter", "assign"):
        out.append((f"{kind} float32", X._kernel(kind, 2).py_func,
                    (I64, _arr(f32), I64, tup2, tup2, _arr(f32), _arr(I64), I64, I64), True))
    bitonic, init_pairs = SO._kernels()
    out.append(("sort bitonic-step int64", bitonic.py_func, (I64, _arr(I64), _arr(I64), I64, I64), False))
    out.append(("sort init-pairs int64", init_pairs.py_func, (I64, I64, I64, _arr(I64), _arr(I64), _arr(I64)), False))
    for name in SC._OPS:                                # scans (kernels/scan.py)
        out.append((f"scan {name} float32", SC._kernel(name, f32).py_func,
                    (I64, I64, I64, _arr(f32), I64, _arr(f32)), True))
    rank, search, pad, line_step, unpad = SO._sort_kernels(f32)     # argsort, searchsorted (kernels/sort.py)
    out.append(("sort rank float32", rank.py_func, (I64, I64, I64, _arr(f32), I64, _arr(I64)), True))
    out.append(("sort pad-lines float32", pad.py_func, (I64,) * 4 + (_arr(f32), I64, _arr(f32), _arr(I64)), True))
    out.append(("sort line-step float32", line_step.py_func, (I64,) * 3 + (_arr(f32), _arr(I64), I64, I64), True))
    out.append(("sort unpad-lines float32", unpad.py_func, (I64,) * 4 + (_arr(I64), _arr(I64)), True))
    out.append(("sort search float32", search.py_func,
                (I64, I64, I64, types.boolean, types.boolean, _arr(f32), I64, _arr(f32), I64, _arr(I64)), True))
    for kind in ("rand", "randn", "bernoulli"):
        res = types.boolean if kind == "bernoulli" else f32
        out.append((f"random {kind} float32", R._kernel(kind, f32).py_func,
                    (I64, U32, U32, types.uint64, f32, f32, _arr(res)), True))
    sgd, adam = O._kernels()
    b = types.boolean
    out.append(("sgd_update_ float32", sgd.py_func, (I64, _arr(f32), _arr(f32), _arr(f32)) + (f32,) * 4 + (b,) * 5,
                True))
    out.append(("adam_update_ float32", adam.py_func, (I64,) + (_arr(f32),) * 4 + (f32,) * 7 + (b, b, f32, f32),
                True))
    out += _row_signatures()
    return out + _small_dtype_signatures()


def _row_signatures():
    """The fused row kernels (kernels/rows.py): float32, float64, and float16 computed in float32."""
    out = []
    f16, f32, f64 = types.float16, types.float32, types.float64
    for T, X in ((f32, f32), (f64, f64), (f32, f16)):
        lead = (I64, I64, _arr(X), I64, I64, I64)
        label = f"{X}" if T == X else f"{X} in {T}"
        no_f64 = T == f32
        out.append((f"rows ce_rows {label}", RW.kernel("ce_rows", T).py_func,
                    lead + (_arr(I64), I64, I64, I64, _arr(X), _arr(types.int8)), no_f64))
        out.append((f"rows ce_rows_grad {label}", RW.kernel("ce_rows_grad", T).py_func,
                    lead + (_arr(I64), I64, I64, I64, _arr(X), I64, I64, _arr(X)), no_f64))
        out.append((f"rows softmax_rows {label}", RW.kernel("softmax_rows", T).py_func, lead + (_arr(X),), no_f64))
    return out
