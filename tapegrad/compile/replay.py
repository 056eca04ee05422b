"""A captured program: a flat list of backend-level steps over slots, and its replay.

# Note [background compile]
Compiling a fused kernel takes numba from about a second (its disk cache) to
many seconds (a long kernel, a cold cache, a busy machine). A program keeps
its unfused steps (``plain``) beside the fused ones: the first replay starts a
daemon thread that compiles the kernels (numba's compiler lock serialises it
with any other compilation) and replays run the unfused steps until every
kernel is ready, then switch to the fused steps for good. Both compute the
same values (within float rounding), so the switch is invisible except in
speed; ``CompiledFunction.wait_for_kernels()`` blocks until it happened. A
kernel numba rejects leaves its program unfused (``stats()["fusion_errors"]``).

A replay does what the traced call did, step by step, on the arrays the slots
hold (Note [trace slots] in compile/tracer.py): no dispatch, promotion, Node
creation or graph walk. Effects (``Optimizer.step``, ``zero_grad``) are called
again, so they read hyperparameters such as ``lr`` live; ``.grad`` is
accumulated with the engine's own ``_accumulate`` (set where None, added
where not), and in-place writes bump the written tensor's version.
"""
from .. import backend as B
from .._tensor import Tensor
from ..autograd.engine import _accumulate, sum_to
from .steps import LOAD, OP, CAST, VJP, SUMTO, ADD, ASARRAY, ACC, CALL, SRC, WRITE, FUSED, NAMES
from .codegen import generate

__all__ = ["Program"]

_BY_TYPE = B.BY_TYPE
_nb = B.numpy_backend


def resolve(path, flat):
    """The live tensor a load path names at this call."""
    kind, x = path
    if kind == "arg":
        return flat[x]
    if kind == "obj":
        return x
    return x._grad      # "grad"


class Program:
    """The steps of one trace, the constants they use and how to rebuild the call's result."""

    def __init__(self, steps, nslots, consts, result, arrays=None, fusion=True):
        self.kernels = []
        self.plain = steps
        if arrays is not None:          # Notes [dead values], [what may be fused], [memory plan]
            from .plan import optimize
            self.plain, steps, result, self.kernels = optimize(steps, arrays, consts, result, fusion)
        self.steps = steps
        self.ready = not self.kernels   # Note [background compile]
        self.compiler = None
        self.fusion_error = None
        self.template = [None] * nslots
        for s, v in consts.items():
            self.template[s] = v
        self.consts = consts
        self.result = result
        # Note [generated replay]: the unfused steps now, the fused ones once their kernels are compiled
        self._plain_fn = generate(self.plain if self.kernels else steps, self.template, consts, result)
        self._fused_fn = None if self.kernels else self._plain_fn

    def run(self, flat):
        """Replay on the argument list ``flat`` (the guards already hold); returns the call's result."""
        if self.ready:
            return self._fused_fn(flat)
        return self._unfused()(flat)

    @property
    def source(self):
        """The Python source of the replay function now in use (Note [generated replay])."""
        return (self._fused_fn if self.ready else self._plain_fn).__source__

    def _unfused(self):
        """Note [background compile]: the replay to run while the kernels compile (and start compiling)."""
        if self.compiler is None and self.fusion_error is None:
            import threading
            self.compiler = threading.Thread(target=self._compile, name="tapegrad.compile kernels", daemon=True)
            self.compiler.start()
        return self._plain_fn

    def _compile(self):
        try:
            for k in self.kernels:
                k.compile()
            self._fused_fn = generate(self.steps, self.template, self.consts, self.result)
        except Exception as e:          # a kernel numba rejects: this program stays unfused, never wrong
            self.fusion_error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            return
        self.ready = True

    def wait(self, timeout=None):
        """Block until the fused kernels are compiled (or failed); True when the fused steps run from now on."""
        if not self.ready and self.compiler is None and self.fusion_error is None:
            self._unfused()
        if self.compiler is not None:
            self.compiler.join(timeout)
        return self.ready

    def __len__(self):
        return len(self.steps)

    def listing(self):
        """The steps as text, one per line: ``%slot = kind(...)``."""
        lines = []
        for st in self.steps:
            k = st[0]
            name = NAMES[k]
            if k is OP:
                args = ", ".join(f"%{i}" for i in st[3])
                kw = "".join(f", {a}={b!r}" for a, b in st[4].items()) + "".join(
                    f", {a}=%{b}" if b.__class__ is int else f", {a}=(...)" for a, b in st[5])
                lines.append(f"%{st[6]} = {st[1].name}({args}{kw})")
            elif k is VJP:
                outs = ", ".join("_" if s is None else f"%{s}" for s in st[7])
                args = ", ".join(f"%{i}" for i in (st[4],) + st[5])
                lines.append(f"{outs} = {st[3].op.name}_vjp({args})")
            elif k is LOAD:
                kind, x = st[2]
                what = f"arg[{x}]" if kind == "arg" else f"{kind}({type(x).__name__} {tuple(x.shape)})"
                lines.append(f"%{st[1]} = load {what}")
            elif k is ADD:
                lines.append(f"%{st[1]} = add(%{st[2]}, %{st[3]})")
            elif k is SUMTO:
                lines.append(f"%{st[1]} = sum_to(%{st[2]}, {st[4]})")
            elif k is CAST:
                lines.append(f"%{st[1]} = astype(%{st[2]}, {st[4]})")
            elif k is ACC:
                lines.append(f"accumulate_grad({st[1][0]}, %{st[2]})")
            elif k is CALL:
                lines.append(f"call {st[1].__qualname__}")
            elif k is SRC:
                lines.append(f"%{st[1]} = draw {getattr(st[2], '__name__', st[2])}{st[3][1:]}")
            elif k is WRITE:
                lines.append(f"write %{st[1]} <- %{st[2]}")
            elif k is FUSED:
                lines.append(st[1].describe())
            else:
                lines.append(f"%{st[1]} = {name}(%{st[2]})")
        for i, kern in enumerate(self.kernels):
            lines.append(f"# fused kernel {i}:")
            lines.extend(kern.source.rstrip("\n").split("\n"))
        return "\n".join(lines)


def execute(steps, vals, flat):
    """Run ``steps`` on the slot list ``vals`` (filled in place); ``flat`` is the call's tensor arguments."""
    quiet = _nb.QUIET_SET(_nb.QUIET)
    try:
        for st in steps:
            k = st[0]
            if k is FUSED:
                st[1](vals)
            elif k is OP:
                _, op, be, ins, kw, kws, out = st
                if kws:
                    kw = dict(kw)
                    for name, s in kws:
                        kw[name] = vals[s] if s.__class__ is int else s[0](
                            vals[x[0]] if x.__class__ is tuple else x for x in s[1])
                r = op.forward(be, *[vals[i] for i in ins], **kw)
                if r.__class__ is not be.array_type and r.__class__ not in _BY_TYPE:
                    r = be.asarray(r)
                vals[out] = r
                r = None
            elif k is VJP:
                _, vjp, F, ctx, g, saved, params, outs = st
                grads = vjp(F, ctx, vals[g], *[vals[i] for i in saved], **params)
                if grads.__class__ is not tuple:
                    grads = (grads,)
                for s, gi in zip(outs, grads):
                    if s is not None:
                        vals[s] = gi
                grads = gi = None           # Note [handing over gradients]: hold no extra reference
            elif k is LOAD:
                vals[st[1]] = resolve(st[2], flat)._data
            elif k is ADD:
                vals[st[1]] = vals[st[2]] + vals[st[3]]
            elif k is SUMTO:
                vals[st[1]] = sum_to(st[3], vals[st[2]], st[4])
            elif k is CAST:
                vals[st[1]] = st[3].astype(vals[st[2]], st[4])
            elif k is ACC:
                if len(st) > 3 and st[3]:       # Note [handing over gradients] in compile/plan.py
                    g = vals[st[2]]
                    vals[st[2]] = None
                    _accumulate(resolve(st[1], flat), g, False, Tensor)
                    g = None
                else:
                    _accumulate(resolve(st[1], flat), vals[st[2]], False, Tensor, always_copy=True)
            elif k is CALL:
                _, fn, args, paths, kwargs = st
                fn(*[a if p is None else resolve(p, flat) for a, p in zip(args, paths)], **kwargs)
            elif k is SRC:
                vals[st[1]] = st[2](*st[3])
            elif k is WRITE:
                _, dst, src, be, path = st
                be.setitem(vals[dst], Ellipsis, vals[src])
                if path is not None:
                    v = resolve(path, flat)._version
                    v[0] += 1
            elif k is ASARRAY:
                vals[st[1]] = B.CPU_BACKEND.asarray(vals[st[2]])
            else:                           # pragma: no cover - every kind is listed above
                raise AssertionError(k)
    finally:
        _nb.QUIET_RESET(quiet)


def _rebuild(spec, vals, flat):
    kind = spec[0]
    if kind == "grad":                  # Note [compiled backward]: spec[1] is backward.make_result
        return spec[1](spec, vals, flat)
    if kind == "slot":
        return Tensor._make(vals[spec[1]], None)
    if kind == "copy":                  # Note [memory plan]: the value may alias a reused buffer
        a = vals[spec[1]]
        return Tensor._make(_BY_TYPE[a.__class__].copy(a), None)
    if kind == "tensor":
        return resolve(spec[1], flat)
    if kind == "const":
        return spec[1]
    items = [_rebuild(s, vals, flat) for s in spec[2]]
    if kind == "dict":
        return dict(zip(spec[1], items))
    return spec[1](items) if spec[1] is list else (tuple(items) if spec[1] is tuple else spec[1](*items))
