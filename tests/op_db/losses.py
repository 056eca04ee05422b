"""OpSpecs for the losses of nn/_functional (loss.py, loss_margin.py, ctc.py) and the distances (distance.py).

Targets that PyTorch wants as +-1 floats are drawn as int tensors of 0/1 and mapped by the spec's ``fn``
and ``torch_fn`` alike (``_pm``). Kinks (``|d| == beta``, a hinge at 0) are kept out of random draws with
``avoid`` and hit by ``Example(kink=True)`` cases, compared with PyTorch's gradient.
"""
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
from tapegrad.nn import functional as F

from . import Example, OpSpec, add

RED = st.sampled_from(["none", "mean", "sum"])
_GAP = 1e-3        # draws this close to a kink are skipped (finite differences step over it)


def _same_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4, n=2):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side).map(
        lambda s: (s,) * n)


def _mean_of_empty(*arrays, reduction="mean", **kw):
    """The mean over no element is nan: no point for finite differences."""
    return reduction == "mean" and arrays[0].size == 0


def _fd(fn_name, **fixed):
    """``(fn, torch_fn)`` calling ``F.<fn_name>`` in tapegrad and in PyTorch with the same arguments."""
    def fn(*xs, **kw):
        return getattr(F, fn_name)(*xs, **fixed, **kw)

    def torch_fn(torch, *xs, **kw):
        return getattr(torch.nn.functional, fn_name)(*xs, **fixed, **kw)
    return fn, torch_fn


def _with(add_kw):
    return lambda shapes: st.fixed_dictionaries(add_kw(shapes) if callable(add_kw) else add_kw)


# ----------------------------------------------------------------- smooth L1 and Huber
def _ref_smooth_l1(x, t, reduction="mean", beta=1.0):
    z = np.abs(x.astype(np.float64) - t)
    loss = z if beta == 0 else np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
    return _reduce(loss, reduction).astype(x.dtype)


def _ref_huber(x, t, reduction="mean", delta=1.0):
    z = np.abs(x.astype(np.float64) - t)
    return _reduce(np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)), reduction).astype(x.dtype)


def _reduce(loss, reduction):
    if reduction == "mean":
        return np.asarray(loss.mean())
    if reduction == "sum":
        return np.asarray(loss.sum())
    return loss


def _near(z, *points):
    return any(bool(np.any(np.abs(z - p) < _GAP)) for p in points)


def _kinks_at(name):
    def avoid(x, t, reduction="mean", **kw):
        b = kw.get(name, 1.0)
        d = x.astype(np.float64) - t
        return _mean_of_empty(x, reduction=reduction) or _near(d, 0.0, b, -b)
    return avoid


_KINK_X, _KINK_T = [0.5, 1.0, -0.25, 0.0, 2.0], [0.0, 0.0, 0.25, 0.0, 1.0]     # |d| = 0.5, 1, 0.5, 0, 1
fn, tfn = _fd("smooth_l1_loss")
add(OpSpec("smooth_l1_loss", fn, _ref_smooth_l1, _same_shapes(),
           _with({"reduction": RED, "beta": st.sampled_from([0.0, 0.5, 1.0])}), avoid=_kinks_at("beta"),
           covers=("abs", "where"), torch_fn=tfn,
           examples=tuple(Example([_KINK_X, _KINK_T], {"beta": b, "reduction": "none"}, kink=True)
                          for b in (0.0, 0.5, 1.0))))
fn, tfn = _fd("huber_loss")
add(OpSpec("huber_loss", fn, _ref_huber, _same_shapes(),
           _with({"reduction": RED, "delta": st.sampled_from([0.5, 1.0, 2.0])}), avoid=_kinks_at("delta"),
           covers=("abs", "where"), torch_fn=tfn,
           examples=tuple(Example([_KINK_X, _KINK_T], {"delta": d, "reduction": "sum"}, kink=True)
                          for d in (0.5, 1.0))))


# ----------------------------------------------------------------- KL divergence, Poisson and Gaussian NLL
def _ref_kl(x, t, reduction="mean", log_target=False):
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    loss = np.exp(t64) * (t64 - x64) if log_target else t64 * np.log(t64) - t64 * x64
    if reduction == "batchmean":
        return np.asarray(loss.sum() / (x.shape[0] if x.ndim else 1)).astype(x.dtype)
    return _reduce(loss, reduction).astype(x.dtype)


def _kl_kwargs(shapes):
    # "mean" warns (PyTorch's deprecation), so the random draws use the others; a test checks the warning
    return st.fixed_dictionaries({"reduction": st.sampled_from(["none", "sum", "batchmean"]),
                                  "log_target": st.booleans()})


fn, tfn = _fd("kl_div")
add(OpSpec("kl_div", fn, _ref_kl, _same_shapes(min_dims=1), _kl_kwargs, domain=[(-3.0, 0.0), (0.05, 1.0)],
           avoid=lambda x, t, reduction="none", **kw: reduction == "batchmean" and x.shape[0] == 0,
           covers=("log", "exp", "where"), torch_fn=tfn))


def _ref_poisson(x, t, log_input=True, full=False, eps=1e-8, reduction="mean"):
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    loss = np.exp(x64) - t64 * x64 if log_input else x64 - t64 * np.log(x64 + eps)
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):
            st_ = t64 * np.log(t64) - t64 + 0.5 * np.log(2 * np.pi * t64)
        loss = loss + np.where(t64 > 1, st_, 0.0)
    return _reduce(loss, reduction).astype(x.dtype)


def _poisson_kwargs(shapes):
    return st.fixed_dictionaries({"reduction": RED, "log_input": st.booleans(), "full": st.booleans()})


fn, tfn = _fd("poisson_nll_loss")
add(OpSpec("poisson_nll_loss", fn, _ref_poisson, _same_shapes(), _poisson_kwargs,
           domain=[(0.1, 2.0), (1.05, 4.0)], avoid=_mean_of_empty, covers=("exp", "log", "where"), torch_fn=tfn,
           # target 0 with full=True: the target's gradient is nan (0 * log 0 in Stirling's term), in PyTorch too
           examples=(Example([[0.5, 1.0, 2.0], [0.0, 1.0, 3.0]], {"full": True, "reduction": "none"}, kink=True),)))


@st.composite
def _gaussian_shapes(draw):
    """input/target shape and var's: the same, the last dim dropped, or one dim made 1."""
    s = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    kind = draw(st.integers(0, 2))
    if kind == 1:
        v = s[:-1]
    elif kind == 2:
        i = draw(st.integers(0, len(s) - 1))
        v = s[:i] + (1,) + s[i + 1:]
        if v == s:
            v = s[:-1]
    else:
        v = s
    return (s, s, v)


def _ref_gaussian(x, t, v, full=False, eps=1e-6, reduction="mean"):
    v = np.asarray(v, np.float64)
    if v.shape != x.shape and v.shape == x.shape[:-1]:
        v = v[..., None]
    v = np.maximum(v, eps)
    loss = 0.5 * (np.log(v) + (x.astype(np.float64) - t) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction).astype(x.dtype)


fn, tfn = _fd("gaussian_nll_loss")
add(OpSpec("gaussian_nll_loss", fn, _ref_gaussian, _gaussian_shapes(),
           _with({"reduction": RED, "full": st.booleans(), "eps": st.sampled_from([1e-6, 0.2])}),
           domain=[(-2.0, 2.0), (-2.0, 2.0), (0.25, 2.0)],
           avoid=lambda x, t, v, eps=1e-6, **kw: bool(np.any(np.abs(np.asarray(v) - eps) < _GAP)),
           covers=("log", "divide", "clip"), torch_fn=tfn,
           # var under eps: the clamp changes the value only, the gradient passes (PyTorch's no_grad clamp)
           examples=(Example([[0.5, -1.0], [0.0, 0.0], [1e-9, 0.5]], {"reduction": "none"}, kink=True),)))


# ----------------------------------------------------------------- +-1 targets
def _pm(t, x):
    """An int 0/1 target as the float -1/+1 target PyTorch's margin losses take."""
    return t.to(x.dtype) * 2 - 1


def _pm_targets(shapes, kwargs, pos=-1):
    return st.tuples(hnp.arrays(np.int64, shapes[pos], elements=st.integers(0, 1)))


def _ref_soft_margin(x, t, reduction="mean"):
    return _reduce(np.logaddexp(0, -(2.0 * t - 1) * x.astype(np.float64)), reduction).astype(x.dtype)


add(OpSpec("soft_margin_loss", lambda x, t, **kw: F.soft_margin_loss(x, _pm(t, x), **kw), _ref_soft_margin,
           _same_shapes(n=1), _with({"reduction": RED}), int_args=(1,), index_args=_pm_targets,
           avoid=_mean_of_empty, domain=(-20.0, 20.0), covers=("exp", "log", "relu"),
           torch_fn=lambda torch, x, t, **kw: torch.nn.functional.soft_margin_loss(x, _pm(t, x), **kw)))


def _ref_mlsm(x, t, weight=None, reduction="mean"):
    x64 = x.astype(np.float64)
    loss = t * np.logaddexp(0, -x64) + (1 - t) * np.logaddexp(0, x64)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss.sum(-1) / x.shape[-1], reduction).astype(x.dtype)


def _class_shapes(min_n=0):
    return st.tuples(st.integers(min_n, 3), st.integers(1, 4)).map(lambda nc: (nc,))


def _tensor_kw(name, weight, x):
    return {} if weight is None else {name: tapegrad.tensor(weight, dtype=x.dtype, device=x.device)}


def _torch_kw(torch, name, weight, x):
    return {} if weight is None else {name: torch.tensor(weight, dtype=x.dtype)}


def _weight_kwargs(shapes, extra=None):
    c = shapes[0][-1]
    d = {"reduction": RED, "weight": st.none() | hnp.arrays(np.float64, c, elements=st.floats(0.25, 2.0))}
    d.update(extra or {})
    return st.fixed_dictionaries(d)


add(OpSpec("multilabel_soft_margin_loss",
           lambda x, t, weight=None, **kw: F.multilabel_soft_margin_loss(x, t, **_tensor_kw("weight", weight, x),
                                                                         **kw),
           _ref_mlsm, st.tuples(st.integers(0, 3), st.integers(1, 4)).map(lambda nc: (nc, nc)), _weight_kwargs,
           domain=[(-4.0, 4.0), (0.0, 1.0)], avoid=_mean_of_empty, covers=("exp", "log", "relu"),
           torch_fn=lambda torch, x, t, weight=None, **kw: torch.nn.functional.multilabel_soft_margin_loss(
               x, t, **_torch_kw(torch, "weight", weight, x), **kw)))


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
