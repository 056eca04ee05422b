"""Batching rules: how each op runs once on a batch of inputs under ``vmap``.

# Note [batching rules]
A rule sees the op's arguments as ``(value, levels)`` pairs: ``value`` is a
physical Tensor whose leading dims are the batch dims of the vmap ``levels``
it carries (sorted, outermost first), followed by the logical (per-element)
dims; ``levels`` is None for an unbatched argument (a plain Tensor or a
number). ``levels`` (the union) and ``sizes`` (level -> batch size) describe
the result, whose leading dims must be exactly the union's batch dims. A rule
returns that physical result, computed with ordinary recorded ops (so
gradients flow through it), or ``NotImplemented`` to let the per-op loop run
(func/_batching.py). A handful of kinds cover the common ops:

- elementwise: align every argument to the union's batch dims (size 1 where
  an argument lacks a level) and to one logical rank, then broadcast as usual;
- dims: ops with an ``axis`` param (reductions, softmax, scans, narrow, ...)
  shift it past the batch dims (``axis=None`` on a reduction means every
  logical dim);
- shape: reshape, broadcast_to, transpose, tile, getitem with basic keys
  prepend the batch dims to their shape, permutation or key;
- matmul and linear: batch dims join matmul's broadcast dims (a batched
  vector becomes a one-row/one-column matrix for the call);
- cross_entropy: per element with ``reduction='none'``, then the reduction
  per batch element; layer_norm with an unbatched weight and bias shifts its
  axes.
The rules are attached to the registry's ``OpDef.batch`` from the table at
the end of this file (a new op may also pass ``batch=`` to ``@op``).
"""
from .registry import REGISTRY, apply
from .._tensor import Tensor

__all__ = ["RULES", "align"]


def _rank(x, lv):
    return x.dim() - (len(lv) if lv else 0)


def align(x, lv, levels, sizes, rank=None, expand=False):
    """``x`` (batched at ``lv``, or unbatched) with the batch dims of ``levels`` in front and its logical
    rank padded to ``rank`` with size-1 dims; missing batch dims are size 1, or full size with ``expand``."""
    if not isinstance(x, Tensor):
        return x
    nb = len(lv) if lv else 0
    logical = tuple(x.shape)[nb:]
    if rank is None:
        rank = len(logical)
    if lv == levels and len(logical) == rank:
        return x
    lv = lv or ()
    ones = tuple(sizes[l] if l in lv else 1 for l in levels) + (1,) * (rank - len(logical)) + logical
    y = apply(REGISTRY["reshape"], x, shape=ones)
    if expand and len(lv) != len(levels):
        full = tuple(sizes[l] for l in levels) + ones[len(levels):]
        y = apply(REGISTRY["broadcast_to"], y, shape=full)
    return y


def _max_rank(args):
    return max((_rank(x, lv) for x, lv in args if isinstance(x, Tensor)), default=0)


def elementwise(op, args, params, levels, sizes):
    r = _max_rank(args)
    return apply(op, *[align(x, lv, levels, sizes, r) for x, lv in args], **params)


def _shift(axis, rank, nb, none_means_all):
    if axis is None:
        return tuple(range(nb, nb + rank)) if none_means_all else NotImplemented
    if rank == 0:
        return NotImplemented
    if isinstance(axis, (tuple, list)):
        return tuple(a % rank + nb for a in axis)
    return axis % rank + nb


def _dims(none_means_all=False, expand=True):
    def rule(op, args, params, levels, sizes):
        r = _max_rank(args)
        axis = _shift(params.get("axis"), r, len(levels), none_means_all)
        if axis is NotImplemented:
            return NotImplemented
        xs = [align(x, lv, levels, sizes, r, expand) for x, lv in args]
        return apply(op, *xs, **dict(params, axis=axis))
    return rule


def reshape(op, args, params, levels, sizes):
    (x, lv), = args
    return apply(op, align(x, lv, levels, sizes), shape=tuple(sizes[l] for l in levels) + tuple(params["shape"]))


def broadcast_to(op, args, params, levels, sizes):
    (x, lv), = args
    shape = tuple(params["shape"])
    if _rank(x, lv) > len(shape):
        return NotImplemented
    return apply(op, align(x, lv, levels, sizes, len(shape), True), shape=tuple(sizes[l] for l in levels) + shape)


def transpose(op, args, params, levels, sizes):
    (x, lv), = args
    nb, r = len(levels), _rank(x, lv)
    axes = params.get("axes")
    axes = tuple(range(r))[::-1] if axes is None else tuple(a % r for a in axes) if r else ()
    return apply(op, align(x, lv, levels, sizes), axes=tuple(range(nb)) + tuple(a + nb for a in axes))


def tile(op, args, params, levels, sizes):
    (x, lv), = args
    reps = tuple(params["reps"])
    r = max(_rank(x, lv), len(reps))
    return apply(op, align(x, lv, levels, sizes, r), reps=(1,) * (len(levels) + r - len(reps)) + reps)


def getitem(op, args, params, levels, sizes):
    (x, lv), = args
    key = params["key"]
    key = key if isinstance(key, tuple) else (key,)
    for k in key:           # basic keys only: anything else (tensors, lists, bools) takes the per-op loop
        if not (k is None or k is Ellipsis or isinstance(k, slice) or (isinstance(k, int)
                                                                         and not isinstance(k, bool))):
            return NotImplemented
        if isinstance(k, slice) and not all(v is None or isinstance(v, int) for v in (k.start, k.stop, k.step)):
            return NotImplemented
    return apply(op, align(x, lv, levels, sizes), key=(slice(None),) * len(levels) + key)


def matmul(op, args, params, levels, sizes):
    (a, la), (b, lb) = args
    ra, rb = _rank(a, la), _rank(b, lb)
    if ra == 0 or rb == 0:
        return NotImplemented
    au = la is not None and ra == 1         # a batched vector: a one-row matrix for the call
    bu = lb is not None and rb == 1         # a batched vector: a one-column matrix
    if au:
        a, ra = apply(REGISTRY["reshape"], a, shape=tuple(a.shape)[:-1] + (1, a.shape[-1])), 2
    if bu:
        b, rb = apply(REGISTRY["reshape"], b, shape=tuple(b.shape) + (1,)), 2
    r = max(ra, rb)
    if la is not None:
        a = align(a, la, levels, sizes, r)
    if lb is not None:
        b = align(b, lb, levels, sizes, r)
    out = apply(op, a, b)
    shape = list(out.shape)
    if bu:
        shape.pop(-1)
    if au:
        shape.pop(-2 if rb >= 2 and not bu else -1)
    return out if len(shape) == out.dim() else apply(REGISTRY["reshape"], out, shape=tuple(shape))


def linear(op, args, params, levels, sizes):
    (x, lx), (w, lw) = args[0], args[1]
    b, lb = args[2] if len(args) > 2 else (None, None)
    if lx is not None and lw is None and lb is None:
        return apply(op, align(x, lx, levels, sizes), w, b) if b is not None else apply(op, x, w)
    wt = apply(REGISTRY["transpose"], w, axes=tuple(range(w.dim() - 2)) + (w.dim() - 1, w.dim() - 2)) \
        if w.dim() - (len(lw) if lw else 0) == 2 else w
    mm_levels = tuple(sorted(set(lx or ()) | set(lw or ())))
    out = matmul(REGISTRY["matmul"], [(x, lx), (wt, lw)], {}, mm_levels, sizes)
    if out is NotImplemented or b is None:
        return out
    return elementwise(REGISTRY["add"], [(out, mm_levels or None), (b, lb)], {}, levels, sizes)


def layer_norm(op, args, params, levels, sizes):
    (x, lx), rest = args[0], args[1:]
    if any(lv is not None for _, lv in rest):
        return NotImplemented
    axis = _shift(params.get("axis", (-1,)), _rank(x, lx), len(levels), False)
    if axis is NotImplemented:
        return NotImplemented
    return apply(op, x, *[a for a, _ in rest], **dict(params, axis=axis))


def cross_entropy(op, args, params, levels, sizes):
    (x, lx), (t, lt) = args[0], args[1]
    w, lw = args[2] if len(args) > 2 else (None, None)
    rx, nb = _rank(x, lx), len(levels)
    reduction = params.get("reduction", "mean")
    if lw is not None or rx == 0 or reduction not in ("none", "sum", "mean"):
        return NotImplemented
    integer = t._data.dtype.kind != "f"
    if reduction == "mean" and (w is not None or params.get("label_smoothing")):
        return NotImplemented
    xs = align(x, lx, levels, sizes, expand=True)
    ts = align(t, lt, levels, sizes, expand=True)
    p = dict(params, reduction="none", axis=params.get("axis", 1) % rx + nb)
    loss = apply(op, xs, ts, w, **p) if w is not None else apply(op, xs, ts, **p)
    if reduction == "none":
        return loss
    dims = tuple(range(nb, loss.dim()))
    total = apply(REGISTRY["sum"], loss, axis=dims, keepdims=False)
    if reduction == "sum":
        return total
    if integer:
        keep = apply(REGISTRY["not_equal"], ts, params.get("ignore_index", -100))
        count = apply(REGISTRY["sum"], apply(REGISTRY["astype"], keep, dtype=loss._data.dtype), axis=dims,
                      keepdims=False)
    else:
        n = 1
        for s in loss.shape[nb:]:
            n *= s
        count = n
    return apply(REGISTRY["divide"], total, count)


_ELEMENTWISE = ("add subtract multiply divide neg power floor_divide remainder maximum minimum where clip "
                "clamp_min_tensor clamp_max_tensor clamp_tensor astype exp log log1p expm1 sqrt abs sign sin cos "
                "tan tanh sigmoid reciprocal square erf rsqrt relu floor ceil round equal not_equal less "
                "less_equal greater greater_equal logical_and logical_or logical_xor logical_not isnan isinf "
                "isfinite sinh cosh asin acos atan asinh acosh atanh log2 log10 exp2 erfc erfinv lgamma digamma "
                "trigamma trunc arctan2 hypot copysign fmod xlogy bitwise_and bitwise_or bitwise_xor left_shift "
                "right_shift invert binary_cross_entropy std_sqrt copy ascontiguousarray").split()

RULES = {name: elementwise for name in _ELEMENTWISE}
RULES.update({name: _dims(none_means_all=True) for name in ("sum", "prod", "max", "min", "any", "all",
                                                            "logsumexp", "vector_norm", "max_dim", "min_dim")})
RULES.update({name: _dims() for name in ("argmax", "argmin", "softmax", "log_softmax", "cumsum", "cumprod",
                                          "logcumsumexp", "cum_extreme_index", "narrow", "pad_axis", "flip",
                                          "one_hot_along", "cat")})
RULES.update(reshape=reshape, broadcast_to=broadcast_to, transpose=transpose, tile=tile, getitem=getitem,
             matmul=matmul, linear=linear, cross_entropy=cross_entropy, layer_norm=layer_norm)


def install():
    """Attach the table's rules to the registry (ops that declared their own ``batch=`` keep it)."""
    for name, rule in RULES.items():
        d = REGISTRY.get(name)
        if d is not None and d.batch is None:
            d.batch = rule
