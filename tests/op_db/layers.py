"""OpSpecs for the small layers' functions: ``F.bilinear``, ``F.embedding_bag``, ``F.embedding``'s gradient
scaling, and the channel-wise and alpha dropouts.

The dropouts draw their masks from a random stream PyTorch does not share, so their specs take the
deterministic points, ``p`` of 0 or 1 and ``training=False``, through every input rank (the unbatched
unsqueeze/squeeze paths included); tests/nn/test_small_layers.py checks the masks themselves.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
from tapegrad.nn import functional as F

from . import Example, OpSpec, add


# ----------------------------------------------------------------- bilinear
@st.composite
def _bilinear_shapes(draw):
    lead = draw(st.sampled_from([(), (2,), (3,), (2, 2)]))
    i, j, o = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x1, x2, w = lead + (i,), lead + (j,), (o, i, j)
    return (x1, x2, w, (o,)) if draw(st.booleans()) else (x1, x2, w)


def _ref_bilinear(x1, x2, w, b=None):
    y = np.einsum("...i,oij,...j->...o", x1.astype(np.float64), w, x2)
    return (y if b is None else y + b).astype(x1.dtype)


add(OpSpec("bilinear", lambda *xs: F.bilinear(*xs), _ref_bilinear, _bilinear_shapes(),
           covers=("matmul", "multiply", "sum", "add", "transpose", "reshape"), fwd_atol=1e-5,
           torch_fn=lambda torch, *xs: torch.nn.functional.bilinear(*xs),
           examples=(Example([np.zeros((0, 2)), np.zeros((0, 3)), np.ones((4, 2, 3))]),)))


# ----------------------------------------------------------------- embedding_bag
@st.composite
def _bag_shapes(draw):
    v, d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    m = draw(st.integers(0, 6))
    return ((v, d), (m,))        # the table, and per_sample_weights (used by mode="sum" only)


@st.composite
def _bag_kwargs(draw, shapes):
    (v, _), (m,) = shapes
    cuts = sorted(draw(st.lists(st.integers(0, m), min_size=0, max_size=3)))
    last = draw(st.booleans())
    # include_last_offset with a last offset short of the input: PyTorch 2.13's max mode still reads to the
    # end and its sum mode's backward gives the entries past it a gradient its forward did not use
    # (tests/nn/test_small_layers.py::test_embedding_bag_entries_past_the_last_offset); here the last offset
    # is the input's length, as in ordinary use
    return {"offsets": tuple([0] + cuts + ([m] if last else [])), "mode": draw(st.sampled_from(["sum", "mean", "max"])),
            "include_last_offset": last, "padding_idx": draw(st.none() | st.integers(0, v - 1)),
            "weighted": draw(st.booleans())}


def _bag_index(shapes, kwargs):
    (v, _), (m,) = shapes
    return st.tuples(hnp.arrays(np.int64, (m,), elements=st.integers(0, v - 1)))


def _bag_call(lib, w, psw, idx, offsets, mode, include_last_offset, padding_idx, weighted):
    kw = {"per_sample_weights": psw} if (weighted and mode == "sum") else {}
    return lib.nn.functional.embedding_bag(idx, w, lib.tensor(list(offsets), dtype=lib.int64), mode=mode,
                                           include_last_offset=include_last_offset, padding_idx=padding_idx, **kw)


def _bags(m, offsets, include_last_offset):
    starts = list(offsets[:-1]) if include_last_offset else list(offsets)
    ends = list(offsets[1:]) if include_last_offset else list(offsets[1:]) + [m]
    return list(zip(starts, ends))


def _ref_bag(w, psw, idx, offsets, mode, include_last_offset, padding_idx, weighted):
    w64 = w.astype(np.float64)
    out = []
    for s, e in _bags(len(idx), offsets, include_last_offset):
        pos = [p for p in range(s, e) if idx[p] != padding_idx]
        rows = np.array([w64[idx[p]] * (psw[p] if weighted and mode == "sum" else 1) for p in pos]).reshape(
            len(pos), w.shape[1])
        if not pos:
            out.append(np.zeros(w.shape[1]))
        elif mode == "max":
            out.append(rows.max(0))
        elif mode == "mean":
            out.append(rows.mean(0))
        else:
            out.append(rows.sum(0))
    return np.array(out).reshape(len(out), w.shape[1]).astype(w.dtype)


def _bag_avoid(w, psw, idx, offsets, mode, include_last_offset, padding_idx, weighted):
    if mode != "max":
        return False
    for s, e in _bags(len(idx), offsets, include_last_offset):      # ties between different rows of a bag
        rows = sorted({int(i) for i in idx[s:e] if i != padding_idx})
        vals = np.sort(w[rows], axis=0) if rows else None
        if vals is not None and len(rows) > 1 and bool(np.any(np.diff(vals, axis=0) < 1e-3)):
            return True
    return False


add(OpSpec("embedding_bag", lambda w, psw, idx, **kw: _bag_call(tapegrad, w, psw, idx, **kw), _ref_bag,
           _bag_shapes(), _bag_kwargs, int_args=(2,), index_args=_bag_index, avoid=_bag_avoid,
           covers=("getitem", "where", "sum", "max_dim", "multiply", "divide"), fwd_atol=1e-5,
           torch_fn=lambda torch, w, psw, idx, **kw: _bag_call(torch, w, psw, idx, **kw),
           examples=(Example([[[1.0, 2.0], [3.0, 4.0], [0.5, 9.0]], [1.0, 2.0, 3.0, 4.0], [0, 2, 2, 1]],
                             {"offsets": (0, 1, 1), "mode": "max", "include_last_offset": False,
                              "padding_idx": None, "weighted": False}),
                     Example([[[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0, 3.0], [0, 1, 1]],
                             {"offsets": (0, 3), "mode": "mean", "include_last_offset": True,
                              "padding_idx": 1, "weighted": False}))))


def _bag_2d(lib, w, idx, mode):
    return lib.nn.functional.embedding_bag(idx, w, mode=mode)


def _ref_bag_2d(w, idx, mode):
    return _ref_bag(w, None, idx.reshape(-1), tuple(range(0, idx.size, idx.shape[1])), mode, False, None, False)


add(OpSpec("embedding_bag_2d", lambda w, idx, mode: _bag_2d(tapegrad, w, idx, mode), _ref_bag_2d,
           st.tuples(st.integers(1, 4), st.integers(1, 3)).map(lambda vd: (vd,)),
           lambda shapes: st.fixed_dictionaries({"mode": st.sampled_from(["sum", "mean"])}), int_args=(1,),
           index_args=lambda shapes, kw: st.tuples(hnp.arrays(np.int64, st.tuples(st.integers(0, 3),
                                                                                   st.integers(1, 3)),
                                                              elements=st.integers(0, shapes[0][0] - 1))),
           covers=("getitem", "where", "sum"), fwd_atol=1e-5,
           torch_fn=lambda torch, w, idx, mode: _bag_2d(torch, w, idx, mode)))


# ----------------------------------------------------------------- embedding's gradient scaling
def _emb_index(shapes, kwargs):
    return st.tuples(hnp.arrays(np.int64, st.sampled_from([(0,), (3,), (2, 3)]),
                                elements=st.integers(0, shapes[0][0] - 1)))


def _ref_embedding(w, idx, **kw):
    return w[idx]


# scale_grad_by_freq changes the gradient only (not a derivative any more): compared with PyTorch's
add(OpSpec("embedding_scale_grad_by_freq",
           lambda w, idx, **kw: F.embedding(idx, w, scale_grad_by_freq=True, **kw), _ref_embedding,
           st.tuples(st.integers(1, 4), st.integers(1, 3)).map(lambda vd: (vd,)),
           lambda shapes: st.fixed_dictionaries({"padding_idx": st.none() | st.integers(0, shapes[0][0] - 1)}),
           int_args=(1,), index_args=_emb_index, grad=False, gradgrad=False,
           torch_fn=lambda torch, w, idx, **kw: torch.nn.functional.embedding(idx, w, scale_grad_by_freq=True,
                                                                             **kw),
           examples=(Example([[[1.0, 2.0], [3.0, 4.0]], [1, 1, 0, 1]], {}),)))


# ----------------------------------------------------------------- dropouts at their deterministic points
def _drop_shapes(ranks):
    return st.sampled_from(ranks).flatmap(
        lambda r: st.tuples(hnp.array_shapes(min_dims=r, max_dims=r, min_side=1, max_side=3)))


def _drop_kwargs(shapes):
    return st.sampled_from([{"p": 0.0, "training": True}, {"p": 1.0, "training": True},
                            {"p": 0.5, "training": False}])


def _ref_drop(x, p, training):
    return (x * 0 if (training and p == 1.0) else x).astype(x.dtype)


for _name, _ranks in (("dropout1d", (2, 3)), ("dropout2d", (4,)), ("dropout3d", (4, 5)),
                      ("alpha_dropout", (0, 1, 2, 3)), ("feature_alpha_dropout", (2, 3, 4))):
    add(OpSpec(_name, (lambda n: lambda x, **kw: getattr(F, n)(x, **kw))(_name), _ref_drop, _drop_shapes(_ranks),
               _drop_kwargs, covers=("multiply",),
               torch_fn=(lambda n: lambda torch, x, **kw: getattr(torch.nn.functional, n)(x, **kw))(_name)))
