"""``vmap``: map a function over a batch dimension of its inputs.

# Note [vmap by batching rules]
vmap runs ``func`` once on the whole batch when it can, as functorch does. Each
mapped input becomes a ``BatchedTensor`` (func/_batching.py): a Tensor whose
``shape``, ``dim()`` and ``dtype`` are one batch element's, while its physical
tensor holds the batch, one leading dim per vmap level (outermost first;
nested vmaps add inner levels). Every op call reaches ``apply``, which hands it
to the batching hook (Note [vmap dispatch] in _batching.py): the op's rule
(``OpDef.batch``, declared with the op or in the table of
ops/batching_rules.py, Note [batching rules]) computes the batched result
with ordinary recorded ops on the physical tensors, so gradients taken
outside the vmap flow through it; an op without a rule runs once per batch
element on slices and the results are stacked (the per-op loop). On the way
out each output's batch dim moves to its ``out_dim`` (an output that does
not depend on the batch is expanded, as the loop's stack would give).

Gradient transforms inside (``vmap(grad(f))``, ``vjp``, ``jacrev``, ``jacfwd``,
``hessian``) stay on the batched path: they differentiate the physical tensors
(Note [gradients in a batched run] in _batching.py), so per-sample gradients
cost one backward pass.

Some things only the loop gets right, and then the whole call reruns as the
loop below (so ``func`` runs again, once per element): a batched value read
on the host (``item()``, ``bool()``, printing, data-dependent Python control
flow, NumPy on ``_data``: a BatchedTensor's ``_data`` holds no values and
raises on any read), an in-place write into or from a batched tensor,
``out_dims=None`` on a batched output, a cotangent batched where its output
is not (``vmap(vjp_fn)`` over cotangents of a ``vjp`` taken outside), inputs on a device other
than the CPU, any error in the batched run (the loop then reports it in
terms of one element), and ``randomness="different"`` or ``"same"`` (one
call per element is what gives each element its own draws, or the same
ones). The loop is correct for every op (in-place, random, data-dependent
control flow included): it splits each mapped input along its ``in_dim``,
calls ``func`` once per batch element and stacks each output along its
``out_dim``.

Randomness follows torch's three modes: ``"error"`` makes any random draw inside
raise (every backend's stream is replaced by a guard for the call);
``"different"`` draws afresh for each element; ``"same"`` rewinds the streams
before each element so all elements see the same draws.
"""
import copy
import os
import functools

from ._pytree import tree_flatten, tree_unflatten, broadcast_prefix
from . import _batching

__all__ = ["vmap"]

_DEBUG = os.environ.get("TAPEGRAD_VMAP_DEBUG") == "1"     # print why a call fell back to the loop

RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use the 'same' or "
                "'different' randomness flags on vmap or perform the randomness operation out of vmap")


class _NoRandom:
    """Stands in for a backend's random stream under ``randomness="error"``: any draw raises."""

    def __getattr__(self, name):
        raise RuntimeError(RANDOM_ERROR)

    def __deepcopy__(self, memo):
        return self


def _check_dims(dims, what):
    leaves, _ = tree_flatten(dims)
    for d in leaves:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(f"vmap: {what} must be an int, None or a pytree of them, got {d!r} "
                             f"({type(d).__name__})")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorise ``func`` over a dimension of its inputs (Note [vmap by batching rules]).

    Args:
        func: a function of tensors (pytrees of tensors) returning a tensor or a pytree of tensors.
        in_dims: the dimension of each input to map over (an int, None for an input that is not
            mapped, or a pytree of them matching the positional arguments).
        out_dims: where the mapped dimension goes in each output (an int, None, or a pytree).
        randomness: ``"error"`` (random ops inside raise), ``"different"`` or ``"same"``.
        chunk_size: accepted as torch's (a positive int or None); a batched run takes the whole batch at once.

    Returns:
        The vectorised function.

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import vmap
        >>> vmap(tapegrad.dot)(tapegrad.ones(3, 2), tapegrad.ones(3, 2))
        tensor([2., 2., 2.])
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"vmap: Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or isinstance(chunk_size, bool)
                                   or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    _check_dims(in_dims, "in_dims")
    _check_dims(out_dims, "out_dims")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from .._tensor import Tensor
        if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
            raise ValueError(f"vmap(f, in_dims={in_dims!r}, ...)(<inputs>): expected `in_dims` to be int or a "
                             "(potentially nested) tuple matching the structure of inputs, got: "
                             f"{type(in_dims).__name__}.")
        if isinstance(in_dims, tuple) and len(in_dims) != len(args):
            raise ValueError(f"vmap(f, in_dims={in_dims!r}, ...)(<inputs>): in_dims is not compatible with the "
                             f"structure of `inputs`. in_dims has structure with {len(in_dims)} entries but "
                             f"inputs has {len(args)} positional arguments.")
        leaves, spec = tree_flatten(tuple(args))
        dims = broadcast_prefix(in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args), spec,
                                f"vmap(f, in_dims={in_dims!r}, ...)(<inputs>)")
        size = None
        norm = []
        for x, d in zip(leaves, dims):
            if d is None:
                norm.append(None)
                continue
            if not isinstance(x, Tensor):
                raise ValueError(f"vmap(f, in_dims={in_dims!r}, ...)(<inputs>): Got in_dim={d} for an input but "
                                 f"the input is of type {type(x).__name__}. We cannot vmap over non-Tensor "
                                 "arguments, please use None as the respective in_dim")
            if not -x.dim() <= d < max(x.dim(), 0) or x.dim() == 0:
                raise ValueError(f"vmap(f, in_dims={in_dims!r}, ...)(<inputs>): Got in_dim={d} for some input, "
                                 f"but that input is a Tensor of dimensionality {x.dim()} so expected in_dim to "
                                 f"satisfy -{x.dim()} <= in_dim < {x.dim()}.")
            d %= x.dim()
            if size is not None and x.shape[d] != size:
                raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got "
                                 f"sizes {size} and {x.shape[d]} for the mapped dimension")
            size = x.shape[d]
            norm.append(d)
        if size is None:
            raise ValueError(f"vmap(f, in_dims={in_dims!r}, ...)(<inputs>): at least one input must be a Tensor "
                             "with a mapped dimension (in_dim not None)")
        if size == 0:
            raise ValueError("vmap: the mapped dimension has size 0; looping vmap needs at least one element to "
                             "learn the outputs' shapes")
        if randomness == "error" and _batching.eligible(leaves):
            try:
                out = _batched(func, leaves, norm, spec, kwargs, out_dims, size)
                _batching.COUNTS["batched"] += 1
                return out
            except (_batching.NeedsLoop, Exception) as e:
                if _DEBUG:
                    import traceback
                    traceback.print_exception(e)
        _batching.COUNTS["loop"] += 1       # the loop is right for everything (Note [vmap by batching rules])
        results = []
        with _randomness(randomness, leaves) as rewind:
            for b in range(size):
                rewind()
                sl = [x if d is None else x[(slice(None),) * d + (b,)] for x, d in zip(leaves, norm)]
                results.append(tree_flatten(func(*tree_unflatten(sl, spec), **kwargs)))
        return _stack_outputs(results, out_dims)
    return wrapper


def _batched(func, leaves, dims, spec, kwargs, out_dims, size):
    """One call of ``func`` on BatchedTensors (Note [vmap by batching rules])."""
    with _batching.run_level(size) as level:
        xs = [x if d is None else _batching.enter(x, d, level) for x, d in zip(leaves, dims)]
        with _randomness("error", leaves):
            out = func(*tree_unflatten(xs, spec), **kwargs)
        flat, ospec = tree_flatten(out)
        od = broadcast_prefix(out_dims, ospec, f"vmap(f, ..., out_dims={out_dims!r})(<inputs>)")
        return tree_unflatten([_batching.leave(o, d, level, size) for o, d in zip(flat, od)], ospec)


def _stack_outputs(results, out_dims):
    from .._tensor import Tensor
    from ..ops.joining import stack
    first, spec = results[0]
    for leaves, s in results[1:]:
        if s != spec:
            raise ValueError("vmap: the function returned outputs of different structures for different batch "
                             "elements")
    dims = broadcast_prefix(out_dims, spec, f"vmap(f, ..., out_dims={out_dims!r})(<inputs>)")
    out = []
    for i, d in enumerate(dims):
        col = [leaves[i] for leaves, _ in results]
        for v in col:
            if not isinstance(v, Tensor):
                raise ValueError(f"vmap: `func` must only return Tensors, got an output of type "
                                 f"{type(v).__name__}")
        if d is None:
            for v in col[1:]:
                if tuple(v.shape) != tuple(col[0].shape) or not bool((v == col[0]).all()):
                    raise ValueError("vmap: out_dims=None for an output that differs across the batch: only an "
                                     "output that does not depend on the mapped inputs can be unbatched")
            out.append(col[0])
            continue
        nd = col[0].dim() + 1
        if not -nd <= d < nd:
            raise ValueError(f"vmap: out_dims={d} is out of range for an output of {nd - 1} dims (the batched "
                             f"output has {nd})")
        out.append(stack(col, d))
    return tree_unflatten(out, spec)


class _randomness:
    """Context for one vmap call: guards or rewinds the random streams; yields the per-element rewind."""

    def __init__(self, mode, leaves):
        from .. import backend as B
        from .._tensor import Tensor
        from .._generator import _DEFAULTS
        self.mode = mode
        bes = {id(B.CPU_BACKEND): B.CPU_BACKEND}
        for be in list(_DEFAULTS) + [x._backend for x in leaves if isinstance(x, Tensor)]:
            bes[id(be)] = be
        self.backends = list(bes.values())

    def __enter__(self):
        self.saved = [be.rng for be in self.backends]
        if self.mode == "error":
            for be in self.backends:
                be.rng = _NoRandom()
            return lambda: None
        if self.mode == "same":
            starts = [copy.deepcopy(r) for r in self.saved]

            def rewind():
                for be, r in zip(self.backends, starts):
                    be.rng = copy.deepcopy(r)
            return rewind
        return lambda: None

    def __exit__(self, *exc):
        if self.mode == "error":
            for be, r in zip(self.backends, self.saved):
                be.rng = r
        return False
