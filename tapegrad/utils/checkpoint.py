"""Activation checkpointing: ``checkpoint`` and ``checkpoint_sequential``, as ``torch.utils.checkpoint``.

# Note [checkpoint node]
``checkpoint(fn, *args)`` runs ``fn`` once, recording as usual, on detached copies of the tensor arguments.
From that graph it learns what the result depends on: the arguments, and the other tensors that require grad
(a module's parameters, captured tensors) at the graph's edge. Then it drops that graph, with every array its
nodes saved, and records in its place one ``autograd.Function`` node (``_Recompute``) whose inputs are those
tensors. Its backward restores the random-number state of the forward (so dropout draws the same mask), runs
``fn`` again with grad enabled and takes ``autograd.grad`` of the recomputed outputs with respect to those
inputs. So:

- the activations inside ``fn`` live only while ``fn`` runs (PyTorch drops them as they are made; here they go
  when ``fn`` returns: the peak inside one segment is the segment's, the total is not);
- parameters get gradients through the ordinary engine (``backward`` and ``autograd.grad`` both work), whether
  or not the arguments require grad, and keyword arguments are allowed: PyTorch's ``use_reentrant=False``
  semantics. ``use_reentrant=True`` keeps PyTorch's visible restrictions of that variant (no keyword
  arguments; no gradient at all when no tensor argument requires grad, with its warning) and otherwise runs the
  same mechanism;
- under ``create_graph`` the recomputation runs on the arguments themselves and its gradients are recorded,
  so a gradient of a gradient goes through the checkpoint;
- a tensor with history that the function captures instead of taking it as an argument is refused
  (NotImplementedError): its gradient would have no edge to flow along.
"""
import copy
import warnings

from .. import backend as B
from .._tensor import Tensor
from ..autograd import grad_mode as _gm
from ..autograd.api import grad as _grad
from ..autograd.function import Function
from ..tape.node import Node, next_seq, walk

__all__ = ["checkpoint", "checkpoint_sequential"]

_REENTRANT_DEFAULT = ("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default "
                      "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.")


def _rng_state():
    """A copy of every loaded backend's generator (CPU and, when loaded, CUDA)."""
    return {be: copy.deepcopy(be.rng) for be in set(B.BY_DEVICE.values()) if "rng" in vars(be)}


def _set_rng_state(state):
    for be, rng in state.items():
        be.rng = copy.deepcopy(rng)


def _flat_outputs(out):
    if isinstance(out, Tensor):
        return [out], True
    if isinstance(out, (tuple, list)):
        return list(out), False
    raise TypeError(f"checkpoint: the function must return a Tensor or a tuple/list of Tensors, got "
                    f"{type(out).__name__}")


class _Recompute(Function):
    """The node that stands for a checkpointed call (Note [checkpoint node])."""

    @staticmethod
    def forward(ctx, spec, *tensors):
        ctx.spec = spec
        outs = spec.outputs
        spec.outputs = None                 # the node keeps no output value
        ctx.mark_non_differentiable(*[o for o, d in zip(outs, spec.differentiable) if not d])
        return tuple(outs)

    @staticmethod
    def backward(ctx, *grads):
        spec = ctx.spec
        n_args = len(spec.arg_slots)
        # Under create_graph the engine runs this with grad mode on: recompute on the arguments themselves, so
        # the gradients are recorded as functions of them (double backward through the checkpoint).
        graph = _gm.STATE.enabled
        with _gm.enable_grad():
            now = _rng_state() if spec.rng is not None else None
            try:
                if spec.rng is not None:
                    _set_rng_state(spec.rng)
                if graph:
                    args = spec.args
                    detached = [args[i] for i in spec.arg_slots]
                else:
                    args, detached = spec.fresh_args()
                outs, _ = _flat_outputs(spec.function(*args, **spec.kwargs))
            finally:
                if now is not None:
                    _set_rng_state(now)     # the recomputation leaves the generators as it found them
            pairs = [(o, g) for o, g, d in zip(outs, grads, spec.differentiable)
                     if d and g is not None and isinstance(o, Tensor) and o.requires_grad]
            targets = detached + list(spec.others)
            want = [i for i, t in enumerate(targets) if t is not None and t.requires_grad]
            result = [None] * len(targets)
            if pairs and want:
                got = _grad([o for o, _ in pairs], [targets[i] for i in want], [g for _, g in pairs],
                            allow_unused=True, create_graph=graph)
                for i, g in zip(want, got):
                    result[i] = g
        return (None,) + tuple(result[:n_args]) + tuple(result[n_args:])


class _Spec:
    """What the node needs to run the function again: the function, the arguments, the RNG state."""

    def __init__(self, function, args, kwargs, rng):
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.rng = rng
        self.arg_slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.others = ()
        self.outputs = None
        self.differentiable = ()

    def fresh_args(self):
        """The arguments with each tensor detached (requiring grad as the original did), and those tensors."""
        args = list(self.args)
        detached = []
        for i in self.arg_slots:
            a = args[i]
            d = a.detach()
            if a.requires_grad:
                d.requires_grad_()
            args[i] = d
            detached.append(d)
        return args, detached


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               early_stop=True, preserve_rng_state=True, **kwargs):
    """Call ``function(*args, **kwargs)`` without keeping its intermediate activations; recompute them in backward.

    Gradients equal those of calling ``function`` directly. The random-number state of the call is restored for
    the recomputation (``preserve_rng_state``), so dropout inside draws the same mask. See Note [checkpoint node].

    Args:
        function: returns a Tensor or a tuple of Tensors.
        *args, **kwargs: its arguments (keyword arguments only with ``use_reentrant=False``).
        use_reentrant: PyTorch's switch; None warns and means True, as in PyTorch. False is recommended.
        preserve_rng_state: restore the generators' state for the recomputation (default True).
        context_fn, determinism_check, debug, early_stop: accepted for PyTorch programs; the defaults only
            (``context_fn`` must be None, ``debug`` False).

    Returns:
        what ``function`` returns.

    Example:
        >>> import tapegrad
        >>> from tapegrad.utils.checkpoint import checkpoint
        >>> lin = tapegrad.nn.Linear(3, 3)
        >>> x = tapegrad.ones(2, 3)
        >>> y = checkpoint(lambda t: lin(t).tanh(), x, use_reentrant=False)
        >>> y.sum().backward()
        >>> lin.weight.grad.shape
        tapegrad.Size([3, 3])
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_DEFAULT, UserWarning, stacklevel=2)
        use_reentrant = True
    if context_fn is not None or debug:
        raise ValueError("checkpoint: context_fn and debug are not supported (pass neither)")
    if use_reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if not _gm.STATE.enabled:
        return function(*args, **kwargs)
    if use_reentrant and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                      stacklevel=2)
        with _gm.no_grad():
            return function(*args, **kwargs)
    spec = _Spec(function, args, kwargs, _rng_state() if preserve_rng_state else None)
    call_args, detached = spec.fresh_args()
    start = next_seq()                  # every node the call records comes after this
    returned = function(*call_args, **kwargs)
    outs, single = _flat_outputs(returned)
    others = _edge_tensors(outs, detached, start)
    if not any(isinstance(o, Tensor) and o.requires_grad for o in outs):
        return returned                 # nothing to differentiate: no node, as without checkpoint
    spec.others = tuple(others)
    spec.differentiable = tuple(isinstance(o, Tensor) and o.requires_grad for o in outs)
    spec.outputs = [o.detach() if isinstance(o, Tensor) else o for o in outs]
    del returned, outs, call_args, detached       # the recorded graph, and what its nodes saved, goes here
    tensors = [args[i] for i in spec.arg_slots]
    res = _Recompute.apply(spec, *tensors, *spec.others)
    res = res if isinstance(res, tuple) else (res,)
    return res[0] if single else tuple(res)


def _edge_tensors(outs, detached, start):
    """The tensors requiring grad that the call's graph reaches besides its (detached) arguments: leaves (a
    module's parameters) and tensors recorded before the call (captured by the function)."""
    roots = [o._grad_fn for o in outs if isinstance(o, Tensor) and o._grad_fn is not None]
    inside = {id(d) for d in detached}
    found, seen = [], set()
    for o in outs:                                        # an output that is itself a parameter
        if isinstance(o, Tensor) and o.requires_grad and o._grad_fn is None and id(o) not in inside:
            seen.add(id(o))
            found.append(o)
    for node in walk(r for r in roots if r.seq > start):
        for e in node.next:
            if e is None:
                continue
            target = e[0]
            if target.__class__ is Node:
                if target.seq < start and id(target) not in seen:
                    raise NotImplementedError(
                        "checkpoint: the function uses a tensor computed before the call that requires grad "
                        f"(an output of {target.name()}) without taking it as an argument; pass it as an "
                        "argument of the checkpointed function")
                continue
            if id(target) not in inside and id(target) not in seen:
                seen.add(id(target))
                found.append(target)
    return found


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a sequence of modules in ``segments`` chunks, checkpointing every chunk but the last.

    Args:
        functions: an ``nn.Sequential`` or a list of callables applied in order.
        segments: the number of chunks.
        input: the input of the first.
        use_reentrant: as in ``checkpoint`` (None warns and means True).
        preserve_rng_state: as in ``checkpoint``.

    Returns:
        the output of the last function.

    Example:
        >>> import tapegrad
        >>> from tapegrad.utils.checkpoint import checkpoint_sequential
        >>> net = tapegrad.nn.Sequential(tapegrad.nn.Linear(2, 4), tapegrad.nn.Tanh(), tapegrad.nn.Linear(4, 1))
        >>> out = checkpoint_sequential(net, 2, tapegrad.ones(3, 2), use_reentrant=False)
        >>> out.sum().backward(); net[0].weight.grad.shape
        tapegrad.Size([4, 2])
    """
    if use_reentrant is None:
        warnings.warn(_REENTRANT_DEFAULT, UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn.modules.container import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
