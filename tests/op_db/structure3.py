"""OpSpecs for the composed structure functions (tapegrad/ops/structure3.py, structure4.py, structure5.py).

Composed of recorded ops, they need no VJP of their own; these specs check
their first and second derivatives (and forward against NumPy where NumPy
has the function) on small fixed-rank shapes, with edge cases as examples.
"""
import numpy as np
from hypothesis import strategies as st

import tapegrad

from . import Example, OpSpec, add


def _sh(*shapes):
    return st.just(tuple(shapes))


def _kw(**choices):
    return lambda s: st.fixed_dictionaries({k: st.sampled_from(v) for k, v in choices.items()})


def _both(call):
    """``fn`` and ``torch_fn`` from one ``call(module, *tensors, **kwargs)``."""
    return (lambda *xs, **kw: call(tapegrad, *xs, **kw)), (lambda torch, *xs, **kw: call(torch, *xs, **kw))


# The registered ops each function is composed of (the coverage test wants at least one).
COVERS = {"tensordot": ("transpose", "reshape", "matmul"),
          "inner": ("matmul",),
          "kron": ("reshape", "multiply"),
          "cross": ("narrow", "multiply", "subtract", "cat"),
          "cdist": ("subtract", "vector_norm"),
          "roll": ("narrow", "cat"),
          "rot90": ("flip", "transpose"),
          "fliplr": ("flip",),
          "flipud": ("flip",),
          "meshgrid": ("reshape", "broadcast_to"),
          "cartesian_prod": ("broadcast_to", "cat"),
          "combinations": ("getitem", "cat"),
          "hstack": ("cat",),
          "vstack": ("cat",),
          "dstack": ("cat",),
          "column_stack": ("cat",),
          "atleast_3d": ("reshape",),
          "tensor_split": ("narrow",),
          "hsplit": ("narrow",),
          "select": ("narrow", "reshape"),
          "narrow_copy": ("narrow", "copy"),
          "ravel": ("reshape",),
          "moveaxis": ("transpose",),
          "repeat_interleave": ("getitem",),
          "block_diag": ("pad_axis", "cat"),
          "take": ("getitem",),
          "masked_select": ("getitem",),
          "scatter": ("setitem",),
          "index_copy": ("setitem",),
          "index_fill": ("where",),
          "masked_scatter": ("setitem",)}
_REDUCE_COVERS = {"sum": ("index_put_add",), "mean": ("index_put_add", "divide"), "prod": ("prod", "where"),
                  "amax": ("max", "where"), "amin": ("min", "where")}


def spec(name, call, ref, shapes, kwargs=None, examples=(), **extra):
    fn, tfn = _both(call)
    covers = COVERS[name] if name in COVERS else _REDUCE_COVERS[name.rsplit("_", 1)[1]]
    add(OpSpec(name, fn, ref, shapes, kwargs, examples=examples, torch_fn=tfn, covers=covers, **extra))


spec("tensordot", lambda m, a, b, dims: m.tensordot(a, b, dims=dims), lambda a, b, dims: np.tensordot(a, b, dims),
     _sh((2, 3, 2), (3, 2)), _kw(dims=[0, 2, ([1], [0]), ([2, 1], [1, 0])]),
     examples=(Example([np.zeros((0, 3)), np.ones((3, 2))], {"dims": 1}),))
spec("inner", lambda m, a, b: m.inner(a, b), np.inner, _sh((2, 3), (4, 3)),
     examples=(Example([np.array(2.0), np.arange(3.0)]),))
spec("kron", lambda m, a, b: m.kron(a, b), np.kron, _sh((2, 3), (2, 1, 2)))
spec("cross", lambda m, a, b, dim: m.cross(a, b, dim=dim), lambda a, b, dim: np.cross(a, b, axis=dim),
     _sh((3, 2), (3, 2)), _kw(dim=[0, -2]))
spec("cdist", lambda m, a, b, p: m.cdist(a, b, p=p), None, _sh((3, 2), (4, 2)), _kw(p=[1.0, 2.0, 3.0]),
     avoid=lambda a, b, p: bool(np.min(np.abs(a[:, None, :] - b[None, :, :])) < 1e-2))
spec("roll", lambda m, a, shifts, dims: m.roll(a, shifts, dims), lambda a, shifts, dims: np.roll(a, shifts, dims),
     _sh((3, 4)), _kw(shifts=[1, -5], dims=[0, -1]), examples=(Example([np.arange(6.0).reshape(2, 3)],
                                                                       {"shifts": 4, "dims": None}),))
spec("rot90", lambda m, a, k, dims: m.rot90(a, k, dims), lambda a, k, dims: np.rot90(a, k, dims),
     _sh((2, 3, 2)), _kw(k=[-1, 0, 1, 2, 3, 5], dims=[(0, 1), (2, 0), (-1, -2)]))
spec("fliplr", lambda m, a: m.fliplr(a), np.fliplr, _sh((2, 3)))
spec("flipud", lambda m, a: m.flipud(a), np.flipud, _sh((3,)))
spec("meshgrid", lambda m, a, b, indexing: m.meshgrid(a, b, indexing=indexing),
     lambda a, b, indexing: tuple(np.meshgrid(a, b, indexing=indexing)), _sh((3,), (2,)), _kw(indexing=["ij", "xy"]))
spec("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), None, _sh((3,), (2,)))
spec("combinations", lambda m, a, r, with_replacement: m.combinations(a, r, with_replacement), None, _sh((4,)),
     _kw(r=[1, 2, 3, 5], with_replacement=[False, True]))
spec("hstack", lambda m, a, b: m.hstack([a, b]), lambda a, b: np.hstack([a, b]), _sh((2, 3), (2, 1)))
spec("vstack", lambda m, a, b: m.vstack([a, b]), lambda a, b: np.vstack([a, b]), _sh((3,), (2, 3)))
spec("dstack", lambda m, a, b: m.dstack([a, b]), lambda a, b: np.dstack([a, b]), _sh((2, 3), (2, 3, 2)))
spec("column_stack", lambda m, a, b: m.column_stack([a, b]), lambda a, b: np.column_stack([a, b]),
     _sh((3,), (3, 2)))
spec("atleast_3d", lambda m, a, b: m.atleast_3d(a, b), lambda a, b: tuple(np.atleast_3d(a, b)), _sh((), (2,)))
spec("tensor_split", lambda m, a, ios, dim: m.tensor_split(a, ios, dim),
     lambda a, ios, dim: tuple(np.array_split(a, ios, dim)), _sh((3, 5)), _kw(ios=[2, 4, [1, 3], [4, 2]], dim=[-1, 0]))
spec("hsplit", lambda m, a: m.hsplit(a, [1]), lambda a: tuple(np.hsplit(a, [1])), _sh((2, 3)))
spec("select", lambda m, a, dim, index: m.select(a, dim, index), lambda a, dim, index: np.take(a, index, dim),
     _sh((3, 4)), _kw(dim=[0, -1], index=[0, -1, 2]))
spec("narrow_copy", lambda m, a: m.narrow_copy(a, 1, 1, 2), lambda a: a[:, 1:3], _sh((2, 4)))
spec("ravel", lambda m, a: m.ravel(a), np.ravel, _sh((2, 3)))
spec("moveaxis", lambda m, a: m.moveaxis(a, (0, -1), (1, 0)), lambda a: np.moveaxis(a, (0, -1), (1, 0)),
     _sh((2, 3, 4)))
spec("repeat_interleave", lambda m, a, repeats, dim: m.repeat_interleave(a, repeats, dim),
     lambda a, repeats, dim: np.repeat(a, repeats, dim), _sh((2, 3)), _kw(repeats=[0, 2], dim=[None, 0, -1]))
spec("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), None, _sh((2, 3), (), (0, 2)))
spec("take", lambda m, a: m.take(a, m.tensor([[0, -1], [5, 0]], device=a.device)),
     lambda a: np.take(a, [[0, -1], [5, 0]]),
     _sh((2, 3)))
spec("masked_select", lambda m, a: m.masked_select(a, m.tensor([True, False, True], device=a.device)),
     lambda a: a[:, [True, False, True]].reshape(-1), _sh((2, 3)))


def _scatter_ref(a, b, index, dim):
    out = a.copy()
    for pos in np.ndindex(*index.shape):
        tgt = list(pos)
        tgt[dim] = index[pos]
        out[tuple(tgt)] = b[pos]
    return out


_IDX = np.array([[0, 2], [1, 0]])       # along dim 1: distinct within each row
spec("scatter", lambda m, a, b: a.scatter(1, m.tensor(_IDX, device=a.device), b),
     lambda a, b: _scatter_ref(a, b, _IDX, 1),
     _sh((2, 3), (2, 2)))
spec("index_copy", lambda m, a, b: a.index_copy(1, m.tensor([2, 0], device=a.device), b), None, _sh((2, 3), (2, 2)))
spec("index_fill", lambda m, a: a.index_fill(-1, m.tensor([0, -1], device=a.device), 0.5), None, _sh((2, 3)))
spec("masked_scatter",
     lambda m, a, b: a.masked_scatter(m.tensor([[True, False], [True, True]], device=a.device), b), None,
     _sh((2, 2), (4,)))

_RIDX = np.array([2, 0, 2, 1, 2])
for _r in ("sum", "prod", "mean", "amax", "amin"):
    spec(f"scatter_reduce_{_r}", (lambda r: lambda m, a, b, include_self: a.scatter_reduce(
        0, m.tensor(_RIDX, device=a.device), b, r, include_self=include_self))(_r), None, _sh((4,), (5,)),
         _kw(include_self=[True, False]),
         avoid=(lambda a, b, include_self: bool(min(np.min(np.abs(b[:, None] - b[None, :]) + 9 * np.eye(5)),
                                                    np.min(np.abs(a[:, None] - b[None, :]))) < 1e-2))
         if _r in ("amax", "amin") else (lambda a, b, include_self: bool(min(np.min(np.abs(a)), np.min(np.abs(b)))
                                                                       < 1e-2)) if _r == "prod" else None,
         # ties: the gradient is shared evenly among equal candidates (self included), against torch
         examples=(Example([np.array([3.0, 0.0, 5.0, 1.0]), np.array([1.0, 3.0, 5.0, 2.0, 5.0])],
                           {"include_self": True}, kink=True),
                   # no tie with self here: with include_self=False torch 2.13 still counts a tie with
                   # self's (excluded) value and gives the src only half the gradient
                   Example([np.array([3.0, 0.0, 5.0, 1.0]), np.array([1.0, 4.0, 0.0, 2.0, 0.0])],
                           {"include_self": False}, kink=True)) if _r != "sum" else ())
