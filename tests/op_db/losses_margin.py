"""OpSpecs for the margin and embedding losses (nn/_functional/loss_margin.py), the distances (distance.py)
and the CTC loss (ctc.py). The shared helpers and conventions are those of losses.py.
"""
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tapegrad.nn import functional as F

from . import Example, OpSpec, add
from .losses import (RED, _GAP, _class_shapes, _fd, _mean_of_empty, _near, _pm, _pm_targets, _reduce,
                     _same_shapes, _tensor_kw, _torch_kw, _weight_kwargs, _with)


# ----------------------------------------------------------------- embedding and ranking margins
def _cos_rows(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))


def _ref_cos_emb(x1, x2, t, margin=0.0, reduction="mean"):
    c = _cos_rows(x1, x2)
    y = 2 * t - 1
    return _reduce(np.where(y == 1, 1 - c, np.maximum(c - margin, 0)), reduction).astype(x1.dtype)


def _cos_emb_shapes():
    return st.one_of(st.tuples(st.integers(1, 3), st.integers(1, 4)).map(lambda s: (s, s)),
                     st.integers(1, 4).map(lambda d: ((d,), (d,))))


def _cos_emb_targets(shapes, kwargs):
    return st.tuples(hnp.arrays(np.int64, shapes[0][:-1], elements=st.integers(0, 1)))


def _cos_emb_avoid(x1, x2, t, margin=0.0, **kw):
    # a (near) zero row: the cosine is ruled by PyTorch's 1e-12 guard, and its derivatives blow up
    small = np.minimum(np.sqrt((x1 * x1).sum(-1)), np.sqrt((x2 * x2).sum(-1))) < 0.1
    return bool(np.any(small)) or _near(_cos_rows(x1, x2) - margin, 0.0)


add(OpSpec("cosine_embedding_loss",
           lambda a, b, t, **kw: F.cosine_embedding_loss(a, b, _pm(t, a), **kw), _ref_cos_emb, _cos_emb_shapes(),
           _with({"reduction": RED, "margin": st.sampled_from([-0.5, 0.0, 0.5])}), int_args=(2,),
           index_args=_cos_emb_targets, avoid=_cos_emb_avoid, covers=("sqrt", "divide", "where", "clip"),
           torch_fn=lambda torch, a, b, t, **kw: torch.nn.functional.cosine_embedding_loss(a, b, _pm(t, a), **kw),
           examples=(Example([[[1.0, 0.0], [0.6, 0.8]], [[0.0, 1.0], [0.6, 0.8]], [0, 1]],
                             {"margin": 0.0, "reduction": "none"}, kink=True),)))


def _ref_ranking(x1, x2, t, margin=0.0, reduction="mean"):
    y = 2.0 * t - 1
    return _reduce(np.maximum(-y * (x1.astype(np.float64) - x2) + margin, 0), reduction).astype(x1.dtype)


add(OpSpec("margin_ranking_loss",
           lambda a, b, t, **kw: F.margin_ranking_loss(a, b, _pm(t, a), **kw), _ref_ranking, _same_shapes(),
           _with({"reduction": RED, "margin": st.sampled_from([0.0, 0.5])}), int_args=(2,),
           index_args=lambda shapes, kw: _pm_targets(shapes, kw, 0),
           avoid=lambda a, b, t, margin=0.0, reduction="mean": _mean_of_empty(a, reduction=reduction) or _near(
               -(2.0 * t - 1) * (a - b) + margin, 0.0),
           covers=("clip",),
           torch_fn=lambda torch, a, b, t, **kw: torch.nn.functional.margin_ranking_loss(a, b, _pm(t, a), **kw),
           examples=(Example([[1.0, 0.5], [0.5, 0.5], [0, 1]], {"margin": 0.5, "reduction": "none"}, kink=True),)))


def _ref_hinge(x, t, margin=1.0, reduction="mean"):
    y = 2 * t - 1
    x64 = x.astype(np.float64)
    return _reduce(np.where(y == 1, x64, np.maximum(margin - x64, 0)), reduction).astype(x.dtype)


add(OpSpec("hinge_embedding_loss",
           lambda x, t, **kw: F.hinge_embedding_loss(x, _pm(t, x), **kw), _ref_hinge, _same_shapes(n=1),
           _with({"reduction": RED, "margin": st.sampled_from([0.5, 1.0])}), int_args=(1,), index_args=_pm_targets,
           avoid=lambda x, t, margin=1.0, reduction="mean": _mean_of_empty(x, reduction=reduction) or _near(
               margin - x, 0.0),
           covers=("clip", "where"),
           torch_fn=lambda torch, x, t, **kw: torch.nn.functional.hinge_embedding_loss(x, _pm(t, x), **kw),
           examples=(Example([[1.0, 0.5, 2.0], [0, 0, 1]], {"reduction": "none"}, kink=True),)))


# ----------------------------------------------------------------- triplet and distances
def _ref_pdist(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    d = np.abs(x1.astype(np.float64) - x2 + eps)
    nd = max(x1.ndim, x2.ndim)
    if nd == 0:
        return d.astype(x1.dtype)
    if p == math.inf:
        out = d.max(-1, keepdims=keepdim) if d.shape[-1] else np.zeros(d.shape[:-1])
    else:
        out = (d ** p).sum(-1, keepdims=keepdim) ** (1.0 / p)
    return np.asarray(out).astype(x1.dtype)


@st.composite
def _pdist_shapes(draw):
    d = draw(st.integers(1, 4))
    lead = draw(st.sampled_from([(), (1,), (2,), (3,)]))
    other = draw(st.sampled_from([lead, (1,) if lead else (), ()]))
    return (lead + (d,), other + (d,))


def _pdist_avoid(x1, x2, p=2.0, eps=1e-6, **kw):
    d = x1.astype(np.float64) - x2 + eps
    if p == math.inf:
        a = np.sort(np.abs(np.broadcast_to(d, np.broadcast_shapes(x1.shape, x2.shape))), axis=-1)
        if a.shape[-1] > 1 and bool(np.any(a[..., -1] - a[..., -2] < _GAP)):
            return True
    return _near(d, 0.0)


fn, tfn = _fd("pairwise_distance")
add(OpSpec("pairwise_distance", fn, _ref_pdist, _pdist_shapes(),
           _with({"p": st.sampled_from([1.0, 2.0, 3.0, math.inf]), "keepdim": st.booleans()}),
           avoid=_pdist_avoid, covers=("vector_norm", "abs"), torch_fn=tfn, gradgrad=True))


def _ref_cos_sim(x1, x2, dim=1, eps=1e-8):
    a, b = np.broadcast_arrays(x1.astype(np.float64), x2.astype(np.float64))
    na = np.maximum(np.sqrt((a * a).sum(dim, keepdims=True)), eps)
    nb = np.maximum(np.sqrt((b * b).sum(dim, keepdims=True)), eps)
    return ((a / na) * (b / nb)).sum(dim).astype(x1.dtype)


def _cos_sim_kwargs(shapes):
    n = max(len(shapes[0]), len(shapes[1]))
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1), "eps": st.sampled_from([1e-8, 0.5])})


def _cos_sim_avoid(x1, x2, dim=1, eps=1e-8):
    # under eps the clamp changes the value only (PyTorch's gradient is not the derivative there): the
    # kink example compares that region with PyTorch
    a, b = np.broadcast_arrays(x1, x2)
    na, nb = np.sqrt((a * a).sum(dim)), np.sqrt((b * b).sum(dim))
    return bool(np.any(np.minimum(na, nb) < eps + 0.05))


fn, tfn = _fd("cosine_similarity")
add(OpSpec("cosine_similarity", fn, _ref_cos_sim,
           st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(
               lambda nd: st.sampled_from([((nd[0], nd[1]), (nd[0], nd[1])), ((nd[0], nd[1]), (1, nd[1])),
                                           ((nd[0], nd[1]), (nd[1],))])),
           _cos_sim_kwargs, avoid=_cos_sim_avoid, covers=("vector_norm", "divide", "clip"), torch_fn=tfn,
           # a zero vector: its norm is clamped at eps (value only), as in PyTorch
           examples=(Example([[[0.0, 0.0], [1.0, 2.0]], [[1.0, 1.0], [0.0, 0.0]]], {"dim": 1}, kink=True),)))


def _ref_triplet(a, p_, n, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    dp, dn = _ref_pdist(a, p_, p, eps), _ref_pdist(a, n, p, eps)
    if swap:
        dn = np.minimum(dn, _ref_pdist(p_, n, p, eps))
    return _reduce(np.maximum(margin + dp.astype(np.float64) - dn, 0), reduction).astype(a.dtype)


def _triplet_avoid(a, p_, n, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    if _mean_of_empty(a, reduction=reduction) or _near(a - p_ + eps, 0.0) or _near(a - n + eps, 0.0) or \
            _near(p_ - n + eps, 0.0):
        return True
    dp, dn, ds = (_ref_pdist(u, v, p, eps) for u, v in ((a, p_), (a, n), (p_, n)))
    return _near(margin + dp - (np.minimum(dn, ds) if swap else dn), 0.0) or (swap and _near(dn - ds, 0.0))


fn, tfn = _fd("triplet_margin_loss")
add(OpSpec("triplet_margin_loss", fn, _ref_triplet,
           st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(
               lambda s: st.sampled_from([(s, s, s), ((s[1],),) * 3])),
           _with({"reduction": RED, "margin": st.sampled_from([0.5, 1.0]), "p": st.sampled_from([1.0, 2.0, 3.0]),
                  "swap": st.booleans()}),
           avoid=_triplet_avoid, covers=("vector_norm", "minimum", "clip"), torch_fn=tfn))


# ----------------------------------------------------------------- multi-class margins
def _class_index(shapes, kwargs):
    n, c = shapes[0]
    return st.tuples(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))


def _mm_z(x, t, margin):
    x64 = x.astype(np.float64)
    return margin - np.take_along_axis(x64, t[:, None], 1) + x64


def _ref_multi_margin(x, t, p=1, margin=1.0, weight=None, reduction="mean"):
    if x.ndim < 2:
        out = _ref_multi_margin(x.reshape(1, -1), t.reshape(1), p, margin, weight, reduction)
        return out.reshape(()) if reduction == "none" and t.ndim == 0 else out
    z = _mm_z(x, t, margin)
    h = np.maximum(z, 0) ** p
    h[np.arange(x.shape[0]), t] = 0
    if weight is not None:
        h = h * np.asarray(weight)[t][:, None]
    loss = h.sum(1) / x.shape[1]
    return _reduce(loss, reduction).astype(x.dtype)


add(OpSpec("multi_margin_loss",
           lambda x, t, weight=None, **kw: F.multi_margin_loss(x, t, **_tensor_kw("weight", weight, x), **kw),
           _ref_multi_margin, _class_shapes(),
           lambda shapes: _weight_kwargs(shapes, {"p": st.sampled_from([1, 2]),
                                                  "margin": st.sampled_from([0.5, 1.0])}),
           int_args=(1,), index_args=_class_index,
           avoid=lambda x, t, margin=1.0, reduction="mean", **kw: _mean_of_empty(x, reduction=reduction) or _near(
               _mm_z(x, t, margin), 0.0),
           covers=("relu", "getitem", "where"),
           torch_fn=lambda torch, x, t, weight=None, **kw: torch.nn.functional.multi_margin_loss(
               x, t, **_torch_kw(torch, "weight", weight, x), **kw),
           examples=(Example([[[0.1, 0.2, 0.4, 0.8], [0.0, 1.0, 0.0, 0.5]], [3, 1]], {"reduction": "none"}, kink=True),
                     Example([[0.5, 0.2, 1.0], [2]], {"reduction": "none", "p": 2}),
                     Example([[0.5, 0.2, 1.0], 2], {"reduction": "none"}))))


@st.composite
def _multilabel_targets(draw, shapes, kwargs):
    n, c = shapes[0]
    rows = []
    for _ in range(n):
        k = draw(st.integers(0, c))
        labels = draw(st.lists(st.integers(0, c - 1), min_size=k, max_size=k))
        tail = draw(st.lists(st.integers(-1, c - 1), min_size=c - k, max_size=c - k))
        rows.append(labels + ([-1] + tail[1:] if c - k else []))
    return (np.array(rows, dtype=np.int64).reshape(n, c),)


def _ref_multilabel_margin(x, t, reduction="mean"):
    if x.ndim < 2:
        out = _ref_multilabel_margin(x.reshape(1, -1), t.reshape(1, -1), reduction)
        return out.reshape(()) if reduction == "none" else out
    x64 = x.astype(np.float64)
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        row = list(t[i])
        labels = row[:row.index(-1)] if -1 in row else row
        for j in labels:
            for k in range(c):
                if k not in labels:
                    out[i] += max(0.0, 1 - (x64[i, j] - x64[i, k]))
    return _reduce(out / c, reduction).astype(x.dtype)


def _multilabel_avoid(x, t, reduction="mean"):
    x64 = x.astype(np.float64).reshape(-1, x.shape[-1] if x.ndim else 1)
    return _mean_of_empty(x, reduction=reduction) or _near(1 - x64[:, :, None] + x64[:, None, :], 0.0)


add(OpSpec("multilabel_margin_loss", _fd("multilabel_margin_loss")[0], _ref_multilabel_margin, _class_shapes(),
           _with({"reduction": RED}), int_args=(1,), index_args=_multilabel_targets, avoid=_multilabel_avoid,
           covers=("relu", "getitem", "where"), torch_fn=_fd("multilabel_margin_loss")[1],
           examples=(Example([[[0.1, 0.2, 0.4, 0.8]], [[3, 0, -1, 1]]], {"reduction": "none"}),
                     Example([[0.1, 0.2, 0.4, 0.8], [3, 0, -1, 1]], {"reduction": "none"}),
                     Example([[[0.0, 1.0, 0.0]], [[1, 1, -1]]], {"reduction": "sum"}, kink=True))))


# ----------------------------------------------------------------- CTC
@st.composite
def _ctc_shapes(draw):
    return ((draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(2, 4))),)


@st.composite
def _ctc_kwargs(draw, shapes):
    T, n, c = shapes[0]
    return {"input_lengths": tuple(draw(st.integers(0, T)) for _ in range(n)),
            "target_lengths": tuple(draw(st.integers(0, 3)) for _ in range(n)),
            "reduction": draw(RED), "zero_infinity": draw(st.booleans()), "blank": draw(st.integers(0, c - 1))}


def _ctc_targets(shapes, kwargs):
    c = shapes[0][2]
    labels = [k for k in range(c) if k != kwargs["blank"]]
    return st.tuples(hnp.arrays(np.int64, (shapes[0][1], 3), elements=st.sampled_from(labels)))


def _ctc_fn(x, targets, **kw):
    return F.ctc_loss(x.log_softmax(2), targets, **kw)


def _ctc_torch(torch, x, targets, **kw):
    return torch.nn.functional.ctc_loss(x.log_softmax(2), targets, **kw)


def _ref_ctc(x, targets, input_lengths=(), target_lengths=(), blank=0, reduction="mean", zero_infinity=False):
    """The CTC loss by summing over every alignment (brute force: small T only)."""
    import itertools
    x64 = x.astype(np.float64)
    lp = x64 - np.log(np.exp(x64 - x64.max(2, keepdims=True)).sum(2, keepdims=True)) - x64.max(2, keepdims=True)
    T, n, c = x.shape
    out = []
    for i in range(n):
        tl, il = target_lengths[i], input_lengths[i]
        want = tuple(targets[i, :tl])
        total = -np.inf
        for path in itertools.product(range(c), repeat=il):
            coll = [k for j, k in enumerate(path) if k != blank and (j == 0 or path[j - 1] != k)]
            if tuple(coll) == want:
                total = np.logaddexp(total, sum(lp[t, i, k] for t, k in enumerate(path)))
        nll = -total
        out.append(0.0 if zero_infinity and np.isinf(nll) else nll)
    out = np.array(out)
    if reduction == "mean":
        out = np.asarray((out / np.maximum(np.array(target_lengths), 1)).mean())
    elif reduction == "sum":
        out = np.asarray(out.sum())
    return out.astype(x.dtype)


def _ctc_avoid(x, targets, input_lengths=(), target_lengths=(), zero_infinity=False, reduction="mean", **kw):
    # an impossible sample has an infinite loss and a nan gradient in PyTorch too (unless zero_infinity)
    for i, (il, tl) in enumerate(zip(input_lengths, target_lengths)):
        t = list(targets[i, :tl])
        need = tl + sum(1 for a, b in zip(t, t[1:]) if a == b)
        if need > il and not zero_infinity:
            return True
    return False


add(OpSpec("ctc_loss", _ctc_fn, _ref_ctc, _ctc_shapes(), _ctc_kwargs, int_args=(1,), index_args=_ctc_targets,
           avoid=_ctc_avoid, covers=("ctc_loss", "log_softmax"), gradgrad=False, torch_fn=_ctc_torch,
           fwd_atol=1e-5, fwd_rtol=1e-5,
           examples=(Example([np.zeros((3, 1, 2)), [[1, 1, 0]]], {"input_lengths": (3,), "target_lengths": (2,)}),
                     Example([np.zeros((2, 2, 3)), [[1, 1, 0], [2, 0, 0]]],
                             {"input_lengths": (2, 0), "target_lengths": (2, 1), "zero_infinity": True,
                              "reduction": "sum"}, kink=True))))
