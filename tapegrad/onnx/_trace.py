"""One recorded run of a model for export: every input and parameter requires grad, every op call is seen.

# Note [export trace]
The tape holds a node per recorded op with an edge per input that needs a
gradient, but not the values of the other inputs (Python numbers, internal
constants) nor the ops that were not recorded (integer index math). So while
the model runs, each registered op's ``forward`` is wrapped to remember, under
the sequence number its node is about to get, the arrays it ran on, its output
and the tapegrad function that called ``apply``. The exporter walks the tape
for the structure and reads the constants from these calls. Everything is put
back (``forward``, ``requires_grad``, training mode) before ``trace`` returns.
"""
import sys

from ..ops.registry import REGISTRY
from ..tape import node as _node
from ..tape import grad_mode as _gm

__all__ = ["trace", "Call", "caller_name"]


class Call:
    """One op call seen during the trace: its op name, input arrays, params, output and caller."""
    __slots__ = ("name", "arrays", "params", "out", "caller", "seq")

    def __init__(self, name, arrays, params, out, caller, seq):
        self.name, self.arrays, self.params, self.out, self.caller = name, arrays, params, out, caller
        self.seq = seq


def _caller():
    """Where the op was recorded: ``(module, code)`` of the outermost frame in the chain of tapegrad
    frames above ``ops.registry.apply`` (before the modules' ``forward`` or the user's code)."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_name != "apply":
        f = f.f_back
    best = None
    f = f.f_back if f is not None else None
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not mod.startswith("tapegrad.") or mod.startswith(("tapegrad.nn.modules", "tapegrad.onnx")):
            break
        code = f.f_code
        # a closure made by a factory: keep its free variables to tell it from its siblings (caller_name)
        free = tuple(id(f.f_locals.get(v)) for v in code.co_freevars) if code.co_freevars else ()
        best = (mod, code, free)
        f = f.f_back
    return best


def caller_name(caller):
    """``module.function`` for a ``_caller`` result; a function made by a factory is named by its
    ``__qualname__`` (``tapegrad.ops.special.digamma``, not ``_public.<locals>.f``)."""
    if caller is None:
        return "?"
    mod, code, free = caller
    name = getattr(code, "co_qualname", code.co_name)
    if "<locals>" in name:
        import gc
        fns = [f for f in gc.get_referrers(code) if getattr(f, "__code__", None) is code
               and tuple(id(c.cell_contents) for c in (f.__closure__ or ())) == free]
        if fns:                     # the function and its Tensor method alias: the plainest name
            name = min((f.__qualname__ for f in fns), key=lambda q: (q.count("."), len(q), q))
    return f"{mod}.{name}"


def _wrap(opdef, calls, by_out):
    inner = opdef.forward

    def forward(be, *arrays, **params):
        out = inner(be, *arrays, **params)
        # The node apply records next gets the next sequence number (Note [export trace]).
        seq = _node.next_seq() + 1
        c = Call(opdef.name, arrays, params, out, _caller(), seq)
        calls[seq] = c
        by_out[id(out)] = c
        return out
    return inner, forward


def trace(model, args, kwargs):
    """Run ``model(*args, **kwargs)`` once in eval mode with grad on and every tensor requiring grad.

    Returns ``(inputs, keys, outputs, calls, by_out)``: the traced inputs (the positional ones,
    then the tensor keyword arguments, whose names are ``keys``), the flat list of output tensors,
    and the op calls keyed by node sequence number and by id of their output array.
    """
    from .._tensor import Tensor
    from ..nn import Module
    calls, by_out = {}, {}

    def prep(a):
        return a.detach().requires_grad_() if isinstance(a, Tensor) and a.dtype.is_floating_point else a
    inputs = [prep(a) for a in args]
    kwargs = {k: prep(v) for k, v in (kwargs or {}).items()}
    params = list(model.parameters()) if isinstance(model, Module) else []
    flags = [p.requires_grad for p in params]
    modes = [(m, m.training) for m in model.modules()] if isinstance(model, Module) else []
    saved = {}
    try:
        for p in params:
            p.requires_grad_(True)
        if modes:
            model.eval()
        for name, opdef in REGISTRY.items():
            saved[name], opdef.forward = _wrap(opdef, calls, by_out)
        with _gm.set_grad_enabled(True):
            out = model(*inputs, **kwargs)
    finally:
        for name, fw in saved.items():
            REGISTRY[name].forward = fw
        for p, f in zip(params, flags):
            p.requires_grad_(f)
        for m, t in modes:
            m.training = t
    keys = [k for k, v in kwargs.items() if isinstance(v, Tensor)]     # tensor keyword arguments are inputs too
    return inputs + [kwargs[k] for k in keys], keys, _flatten(out), calls, by_out


def _flatten(out):
    from .._tensor import Tensor
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flatten(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _flatten(o)]
    raise TypeError(f"tapegrad.onnx.export: the model returned a {type(out).__name__}; "
                    "supported outputs are Tensors and tuples, lists or dicts of them")
