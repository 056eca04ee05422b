"""``split``/``chunk``/``unbind`` as one recorded node with one output per piece (Note [split as one node]).

ops/joining.py's public functions call ``split_views``; the narrow/reshape/cat primitives it falls
back on and concatenates with live in ops/shape.py.
"""
from .._tensor import Tensor
from ..tape import grad_mode as _gmode
from ..tape import anomaly as _anomaly
from ..tape.capture import ACTIVE as _CAPTURE
from ..tape.node import Node
from .registry import apply, OpDef, ARGS_HOOK, BATCH_HOOK, FWD_HOOK, set_base
from .graph_math import lift, backend_array
from ._copy_slices import multi_output
from .shape import narrow_op, reshape_op, cat_op


# Note [split as one node]
# split/chunk/unbind record one node with one output per piece (``n_out``, as a multi-output
# autograd.Function), whose VJP gets the pieces' gradients as a list and concatenates them
# (``cat``), with zeros only for pieces that got none: PyTorch's SplitBackward. One ``narrow``
# per piece would pad each piece's gradient to the whole input (``pad_axis``) and make the
# engine add the padded pieces: on a GPT block's (16, 64, 384) qkv projection that was most of
# the attention's backward. ``apply`` returns one tensor, so these nodes are recorded here, by
# the same steps (edges, shared version counter, ``set_base``); the OpDefs are not in the
# registry (no spec, no graph-mode name: like compile's ``compiled_call``), and their names give
# PyTorch's ``SplitBackward0``/``SplitWithSizesBackward0``/``UnbindBackward0``. While a hook
# sees every op (a compile trace, vmap, autocast, forward mode, anomaly mode, an ONNX export trace, which
# wraps the registered forwards), the pieces are recorded as ``narrow`` ops as before, so
# those tools see only ops they know; the values are the same (adding zeros is exact).
def _split_forward(be, x, axis, sizes, squeeze):
    out, start = [], 0
    for n in sizes:
        p = be.narrow(x, axis, start, n)
        out.append(be.reshape(p, p.shape[:axis] + p.shape[axis + 1:]) if squeeze else p)
        start += n
    return tuple(out)


def _split_vjp(F, ctx, gs, axis, sizes, squeeze):
    if gs.__class__ is not list:    # a single piece: the engine buffers one gradient, not a list
        gs = [gs]
    first = next(g for g in gs if g is not None)       # the engine only runs a node that got one
    be, arr = backend_array(first)
    graph = isinstance(first, Tensor)
    M = F if graph else be          # a graph may cross devices: the pieces' backend, not the root's
    shape = list(ctx.shapes[0])
    parts = []
    for g, n in zip(gs, sizes):
        shape[axis] = n
        if g is None:
            g = lift(F, be.zeros(tuple(shape), arr.dtype), like=first)
        elif squeeze:
            g = M.reshape(g, shape=tuple(shape))
        parts.append(g)
    if graph:
        return apply(cat_op, *parts, axis=axis, sizes=tuple(sizes))
    return be.concatenate(parts, axis=axis)


def _split_op(name):
    d = OpDef(name, _split_forward, (), None, True)
    d.vjp_fn = _split_vjp
    d.params = ("axis", "sizes", "squeeze")
    d.tensors = 1
    d.nin = 1
    d.math = None
    return d


SPLIT_OPS = {n: _split_op(n) for n in ("split", "split_with_sizes", "unbind")}
_NARROW_FORWARD = narrow_op.forward
_GM = _gmode.STATE
_HOOKS = (ARGS_HOOK, BATCH_HOOK, FWD_HOOK, _CAPTURE, _anomaly.ENABLED)


def split_views(x, axis, sizes, squeeze, name):
    """The pieces of ``x`` along ``axis`` (views; ``squeeze`` drops the axis, for unbind), as a tuple,
    recorded as one node when a gradient is needed (Note [split as one node]). ``name``: PyTorch's
    node name (``Split``, ``SplitWithSizes``, ``Unbind``), also used by the in-place refusal
    (Note [copy slices] in ops/_copy_slices.py).

    Example:
        >>> import tapegrad
        >>> from tapegrad.ops.split_node import split_views
        >>> x = tapegrad.arange(4.0, requires_grad=True)
        >>> a, b = split_views(x, 0, [1, 3], False, "SplitWithSizes")
        >>> b.grad_fn, b.grad_fn is a.grad_fn
        (<SplitWithSizesBackward0>, True)
        >>> (b * 2).sum().backward(); x.grad
        tensor([0., 2., 2., 2.])
    """
    data = x._data
    if (not sizes or not _GM.enabled or not x._requires_grad or data.dtype.kind not in "fV"
            or narrow_op.forward is not _NARROW_FORWARD or any(h[0] for h in _HOOKS)):
        out, start = [], 0
        for n in sizes:
            p = apply(narrow_op, x, axis=axis, start=start, length=n)
            out.append(apply(reshape_op, p, shape=tuple(p.shape[:axis] + p.shape[axis + 1:])) if squeeze else p)
            start += n
        return multi_output(out, name)
    be = x._backend
    op = SPLIT_OPS["unbind" if squeeze else "split" if name == "Split" else "split_with_sizes"]
    arrays = _split_forward(be, data, axis, sizes, squeeze)
    fn = x._grad_fn
    node = Node(op, ((x if fn is None else fn, x._output_nr, data.shape, data.dtype),), (), (),
                {"axis": axis, "sizes": tuple(sizes), "squeeze": squeeze})
    node.n_out = len(arrays)
    version = x._version
    out = []
    for k, a in enumerate(arrays):
        t = Tensor._make(a, node, None, version)
        t._output_nr = k
        set_base(t, x)
        out.append(t)
    return multi_output(out, name)
