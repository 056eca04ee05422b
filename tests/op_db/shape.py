"""OpSpecs for tapegrad/ops/shape.py and ops/joining.py: reshape family, permutations, expand, repeat,
flip, copies, cat/stack and splitting."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad

import itertools

from . import Example, OpSpec, add
from .elementwise import named, same

# Distinct sizes, so a wrong inverse permutation in the VJP shows as a wrong shape or value.
_X3 = np.arange(24.0).reshape(2, 3, 4) / 7 - 1
_X4 = np.arange(24.0).reshape(2, 1, 3, 4) / 9 - 1
PERMUTE_EXAMPLES = tuple(Example([x], {"dims": p}) for x in (_X3, _X4)
                         for p in itertools.permutations(range(x.ndim)))


def shape(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def one(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return st.tuples(shape(min_dims, max_dims, min_side, max_side))


def dim(ndim, extra=0):
    """An int dim (maybe negative) for ``ndim`` dims; ``extra=1`` allows the insertion point ``ndim``."""
    n = max(ndim + extra, 1)
    return st.integers(-n, n - 1)


def weighted_cat(parts, d, lib=tapegrad):
    """Join pieces with distinct weights, so the gradient tells them apart (``lib``: tapegrad or torch)."""
    return lib.cat([p * (i + 1) for i, p in enumerate(parts)], d)


def np_weighted_cat(parts, d):
    return np.concatenate([p * (i + 1) for i, p in enumerate(parts)], d)


# ----------------------------------------------------------------- reshape family
def _reshape_targets(shapes):
    s = shapes[0]
    n = int(np.prod(s))
    options = [(n,), tuple(reversed(s)), s + (1,), (1,) + s]
    if len(s) >= 2:
        options.append(s[:-2] + (s[-2] * s[-1],))
    if n:                   # -1 is ambiguous for an empty tensor (PyTorch refuses it too)
        options.append((-1,))
        options.append(s[:1] + (-1,))
    if n == 1:
        options.append(())
    return st.fixed_dictionaries({"shape": st.sampled_from(options)})


add(OpSpec("reshape", lambda x, shape: tapegrad.reshape(x, shape), lambda x, shape: np.reshape(x, shape), one(),
           _reshape_targets, covers=("reshape",), torch_fn=named("reshape")))
add(OpSpec("view", lambda x, shape: x.view(*shape), lambda x, shape: np.reshape(x, shape), one(),
           _reshape_targets, covers=("reshape",), torch_fn=same(lambda x, shape: x.view(shape))))


def _flatten_kwargs(shapes):
    nd = len(shapes[0])
    if nd == 0:
        return st.just({})
    return st.tuples(st.integers(0, nd - 1), st.integers(0, nd - 1)).map(
        lambda se: {"start_dim": min(se), "end_dim": max(se) - nd * (max(se) % 2)})


def _np_flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    e = end_dim % x.ndim
    return x.reshape(x.shape[:start_dim] + (-1,) + x.shape[e + 1:]) if x.size else \
        x.reshape(x.shape[:start_dim] + (int(np.prod(x.shape[start_dim:e + 1])),) + x.shape[e + 1:])


add(OpSpec("flatten", lambda x, **kw: tapegrad.flatten(x, **kw), _np_flatten, one(), _flatten_kwargs,
           covers=("reshape",), torch_fn=named("flatten")))
add(OpSpec("unflatten", lambda x, dim, sizes: x.unflatten(dim, sizes),
           lambda x, dim, sizes: x.reshape(x.shape[:dim % x.ndim] + (x.shape[dim] // 2, 2) + x.shape[dim % x.ndim + 1:]),
           st.tuples(st.tuples(st.integers(0, 3), st.sampled_from([2, 4, 6]))),
           lambda shapes: st.fixed_dictionaries({"dim": st.sampled_from([1, -1]), "sizes": st.sampled_from([(-1, 2)])}),
           covers=("reshape",), torch_fn=same(lambda x, dim, sizes: x.unflatten(dim, sizes))))


def _squeeze_kwargs(shapes):
    nd = len(shapes[0])
    options = [st.none(), dim(nd)]
    if nd:
        options.append(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd).map(tuple))
    return st.fixed_dictionaries({"dim": st.one_of(options)})


def _np_squeeze(x, dim):
    if x.ndim == 0:
        return x
    ds = range(x.ndim) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    return np.squeeze(x, tuple(d % x.ndim for d in ds if x.shape[d] == 1))


add(OpSpec("squeeze", lambda x, dim: x.squeeze(dim), _np_squeeze, one(max_side=2), _squeeze_kwargs,
           covers=("reshape",), torch_fn=same(lambda x, dim: x.squeeze() if dim is None else x.squeeze(dim))))
add(OpSpec("unsqueeze", lambda x, dim: tapegrad.unsqueeze(x, dim), lambda x, dim: np.expand_dims(x, dim), one(),
           lambda shapes: st.fixed_dictionaries({"dim": dim(len(shapes[0]), extra=1)}), covers=("reshape",),
           torch_fn=named("unsqueeze")))

# ----------------------------------------------------------------- permutations
add(OpSpec("transpose", lambda x, dim0, dim1: x.transpose(dim0, dim1),
           lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1) if x.ndim else x, one(),
           lambda shapes: st.fixed_dictionaries({"dim0": dim(len(shapes[0])), "dim1": dim(len(shapes[0]))}),
           covers=("transpose",), torch_fn=same(lambda x, dim0, dim1: x.transpose(dim0, dim1))))
add(OpSpec("permute", lambda x, dims: x.permute(*dims), lambda x, dims: np.transpose(x, dims), one(),
           lambda shapes: st.fixed_dictionaries({"dims": st.permutations(range(len(shapes[0]))).map(tuple)}),
           covers=("transpose",), examples=PERMUTE_EXAMPLES + (
               Example([np.zeros((0, 2, 3))], {"dims": (2, 0, 1)}), Example([np.ones((1, 1, 2))], {"dims": (1, 2, 0)})),
           torch_fn=same(lambda x, dims: x.permute(dims))))
add(OpSpec("permute_function", lambda x, dims: tapegrad.permute(x, dims), lambda x, dims: np.transpose(x, dims),
           one(min_dims=1), lambda shapes: st.fixed_dictionaries(
               {"dims": st.permutations(range(-len(shapes[0]), 0)).map(tuple)}), covers=("transpose",),
           examples=tuple(Example([_X3], {"dims": tuple(d - 3 for d in p)})
                          for p in itertools.permutations(range(3))), torch_fn=named("permute")))
add(OpSpec("T", lambda x: x.T, lambda x: np.transpose(x), one(), covers=("transpose",), torch_fn=same(lambda x: x.T)))
add(OpSpec("mT", lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), one(min_dims=2), covers=("transpose",),
           torch_fn=same(lambda x: x.mT)))
add(OpSpec("movedim", lambda x, source, destination: tapegrad.movedim(x, source, destination),
           lambda x, source, destination: np.moveaxis(x, source, destination), one(min_dims=1),
           lambda shapes: st.fixed_dictionaries({"source": dim(len(shapes[0])), "destination": dim(len(shapes[0]))}),
           covers=("transpose",), torch_fn=named("movedim")))


# ----------------------------------------------------------------- expand / broadcast
def _target(x, sizes):
    lead = len(sizes) - x.ndim
    return tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))


@st.composite
def _expand_sizes(draw, shapes):
    """Target sizes: up to two new leading dims, size-1 dims grown, -1 for kept dims."""
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    return lead + tuple(draw(st.sampled_from([1, 2, 3, -1] if d == 1 else [d, -1])) for d in shapes[0])

add(OpSpec("expand", lambda x, sizes: x.expand(*sizes), lambda x, sizes: np.broadcast_to(x, _target(x, sizes)),
           one(max_side=3), lambda shapes: st.fixed_dictionaries({"sizes": _expand_sizes(shapes)}),
           covers=("broadcast_to",), torch_fn=same(lambda x, sizes: x.expand(sizes))))
add(OpSpec("broadcast_to", lambda x, sizes: tapegrad.broadcast_to(x, sizes),
           lambda x, sizes: np.broadcast_to(x, _target(x, sizes)), one(max_side=3),
           lambda shapes: st.fixed_dictionaries({"sizes": _expand_sizes(shapes)}), covers=("broadcast_to",),
           torch_fn=lambda torch, x, sizes: torch.broadcast_to(x, sizes)))
add(OpSpec("expand_as", lambda x, y: x.expand_as(y) * y, lambda x, y: np.broadcast_to(x, y.shape) * y,
           st.tuples(shape(max_side=3)).map(lambda s: (s[0], (2,) + tuple(d if d != 1 else 3 for d in s[0]))),
           covers=("broadcast_to", "multiply"), torch_fn=same(lambda x, y: x.expand_as(y) * y)))


@st.composite
def _pair(draw):
    out = draw(shape(max_side=3))
    a = tuple(1 if draw(st.booleans()) else d for d in out)
    b = tuple(1 if draw(st.booleans()) else d for d in out)[draw(st.integers(0, len(out))):]
    return a, b


add(OpSpec("broadcast_tensors", lambda a, b: tapegrad.stack(tapegrad.broadcast_tensors(a, b * 2)),
           lambda a, b: np.stack(np.broadcast_arrays(a, b * 2)), _pair(), covers=("broadcast_to", "cat"),
           torch_fn=lambda torch, a, b: torch.stack(torch.broadcast_tensors(a, b * 2))))

# ----------------------------------------------------------------- repeat / flip / copies
add(OpSpec("repeat", lambda x, sizes: x.repeat(*sizes),
           lambda x, sizes: np.tile(x, sizes) if len(sizes) else x.copy(), one(max_side=3),
           lambda shapes: st.fixed_dictionaries({"sizes": st.lists(
               st.integers(0, 3), min_size=len(shapes[0]), max_size=len(shapes[0]) + 2).map(tuple)}),
           covers=("tile",), torch_fn=same(lambda x, sizes: x.repeat(sizes))))
add(OpSpec("tile", lambda x, dims: tapegrad.tile(x, dims), lambda x, dims: np.tile(x, dims), one(max_side=3),
           lambda shapes: st.fixed_dictionaries({"dims": st.lists(st.integers(1, 3), max_size=4).map(tuple)}),
           covers=("tile",), torch_fn=named("tile")))
add(OpSpec("flip", lambda x, dims: tapegrad.flip(x, dims), lambda x, dims: np.flip(x, dims) if x.ndim else x,
           one(), lambda shapes: st.fixed_dictionaries({"dims": st.lists(
               st.integers(0, max(len(shapes[0]), 1) - 1), unique=True, max_size=len(shapes[0])).map(tuple)}),
           covers=("flip",), torch_fn=named("flip")))
add(OpSpec("contiguous", lambda x: x.mT.contiguous(), lambda x: np.ascontiguousarray(np.swapaxes(x, -1, -2)),
           one(min_dims=2), covers=("ascontiguousarray", "transpose"), torch_fn=same(lambda x: x.mT.contiguous())))
add(OpSpec("clone", lambda x: tapegrad.clone(x), lambda x: x.copy(), one(), covers=("copy",),
           torch_fn=named("clone")))


# ----------------------------------------------------------------- cat / stack / split
@st.composite
def _cat_shapes(draw):
    """One to three shapes that differ only along one dim."""
    base = list(draw(shape(min_dims=1, max_side=3)))
    d = draw(st.integers(0, len(base) - 1))
    out = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(base)
        s[d] = draw(st.integers(0, 3))
        out.append(tuple(s))
    return tuple(out)


def _cat_kwargs(shapes):
    # The dim along which the drawn shapes may differ (one dim where all other sizes agree).
    nd = len(shapes[0])
    ok = [d for d in range(nd) if all(s[:d] + s[d + 1:] == shapes[0][:d] + shapes[0][d + 1:] for s in shapes)]
    return st.fixed_dictionaries({"dim": st.sampled_from(ok + [d - nd for d in ok])})


add(OpSpec("cat", lambda *xs, dim: weighted_cat(xs, dim), lambda *xs, dim: np_weighted_cat(xs, dim),
           _cat_shapes(), _cat_kwargs, covers=("cat", "narrow", "pad_axis", "copy"),
           torch_fn=lambda torch, *xs, dim: weighted_cat(xs, dim, torch)))
add(OpSpec("stack", lambda *xs, dim: tapegrad.stack([x * (i + 1) for i, x in enumerate(xs)], dim),
           lambda *xs, dim: np.stack([x * (i + 1) for i, x in enumerate(xs)], dim),
           st.tuples(shape(max_side=3), st.integers(1, 3)).map(lambda sn: (sn[0],) * sn[1]),
           lambda shapes: st.fixed_dictionaries({"dim": dim(len(shapes[0]), extra=1)}),
           covers=("cat", "reshape"),
           torch_fn=lambda torch, *xs, dim: torch.stack([x * (i + 1) for i, x in enumerate(xs)], dim)))


def _torch_unbind(torch, x, dim):
    return torch.stack([t * (i + 1) for i, t in enumerate(x.unbind(dim))], dim) if x.shape[dim] else x * 1


def _np_split(x, sizes, d):
    return np.split(x, np.cumsum(sizes)[:-1], axis=d)


def _split_kwargs(shapes):
    nd = len(shapes[0])

    @st.composite
    def kw(draw):
        d = draw(dim(nd))
        n = shapes[0][d]
        if draw(st.booleans()):
            return {"dim": d, "split_size_or_sections": draw(st.integers(1, max(n, 1)))}
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
        return {"dim": d, "split_size_or_sections": [b - a for a, b in zip([0] + cuts, cuts + [n])]}
    return kw()


def _ref_sizes(n, s):
    if isinstance(s, int):
        return [min(s, n - i) for i in range(0, n, s)] or [0]
    return s


add(OpSpec("split", lambda x, dim, split_size_or_sections: weighted_cat(x.split(split_size_or_sections, dim), dim),
           lambda x, dim, split_size_or_sections: np_weighted_cat(
               _np_split(x, _ref_sizes(x.shape[dim], split_size_or_sections), dim), dim),
           one(min_dims=1), _split_kwargs, covers=("narrow", "pad_axis", "cat"),
           torch_fn=lambda torch, x, dim, split_size_or_sections: weighted_cat(
               x.split(split_size_or_sections, dim), dim, torch)))
add(OpSpec("chunk", lambda x, chunks, dim: weighted_cat(tapegrad.chunk(x, chunks, dim), dim),
           lambda x, chunks, dim: np_weighted_cat(_np_split(
               x, _ref_sizes(x.shape[dim], -(-x.shape[dim] // chunks) or 1) if x.shape[dim] else [0] * chunks, dim),
               dim),
           one(min_dims=1), lambda shapes: st.fixed_dictionaries({"chunks": st.integers(1, 5),
                                                                   "dim": dim(len(shapes[0]))}),
           covers=("narrow", "pad_axis", "cat"),
           torch_fn=lambda torch, x, chunks, dim: weighted_cat(torch.chunk(x, chunks, dim), dim, torch)))
# Only the first and last pieces are used: the others get no gradient, and the split's
# single node fills zeros for them (Note [split as one node] in ops/split_node.py).
add(OpSpec("split_some_pieces", lambda x, dim: x.split(1, dim)[0] * 2 + x.split(1, dim)[-1] * 3,
           lambda x, dim: np.take(x, [0], axis=dim) * 2 + np.take(x, [-1], axis=dim) * 3,
           one(min_dims=1, min_side=1), lambda shapes: st.fixed_dictionaries({"dim": dim(len(shapes[0]))}),
           covers=("cat",), torch_fn=lambda torch, x, dim: x.split(1, dim)[0] * 2 + x.split(1, dim)[-1] * 3))
add(OpSpec("narrow", lambda x, dim, start, length: tapegrad.narrow(x, dim, start, length),
           lambda x, dim, start, length: np.take(x, range(start, start + length), axis=dim),
           one(min_dims=1, min_side=1), lambda shapes: dim(len(shapes[0])).flatmap(
               lambda d: st.integers(0, shapes[0][d]).flatmap(lambda s: st.fixed_dictionaries(
                   {"dim": st.just(d), "start": st.just(s), "length": st.integers(0, shapes[0][d] - s)}))),
           covers=("narrow", "pad_axis"), torch_fn=named("narrow")))
add(OpSpec("unbind", lambda x, dim: tapegrad.stack([t * (i + 1) for i, t in enumerate(x.unbind(dim))], dim)
           if x.shape[dim] else x * 1,
           lambda x, dim: np.stack([t * (i + 1) for i, t in enumerate(np.moveaxis(x, dim, 0))], dim)
           if x.shape[dim] else x * 1,
           one(min_dims=1), lambda shapes: st.fixed_dictionaries({"dim": dim(len(shapes[0]))}),
           covers=("narrow", "reshape", "cat"), torch_fn=_torch_unbind))
