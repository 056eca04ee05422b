"""Higher-level derivatives of functions: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp``, ``hvp``.

Mirrors ``torch.autograd.functional``: ``inputs`` is a Tensor or a tuple of
Tensors and results follow the same structure (a tuple exactly where the
inputs or outputs were tuples). All are built on ``autograd.grad``; forward
derivatives use the double-vjp trick (the VJP is linear in its cotangent, so
differentiating it with respect to the cotangent gives the JVP).
"""
from ..ops.joining import stack as _stack
from . import api as _api
from .function import Function

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


class _Fresh(Function):
    """Identity with its own node: a new handle on an input that stays connected to the outer graph."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g


def _as_tuple(x, arg, fn):
    from .._tensor import Tensor
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: the {arg} must be a Tensor or a tuple of Tensors, but element {i} is a "
                            f"{type(t).__name__}")
    return is_tuple, xs


def _prepare(inputs, create_graph, fn):
    """Fresh inputs that require grad; under create_graph they stay connected to the originals."""
    is_tuple, xs = _as_tuple(inputs, "inputs", fn)
    out = []
    for i, x in enumerate(xs):
        if x._data.dtype.kind not in "fV":
            raise TypeError(f"{fn}: input {i} has dtype {x.dtype}; only floating point inputs can be "
                            "differentiated")
        if create_graph and x._requires_grad:
            out.append(_Fresh.apply(x))
        else:
            out.append(x.detach().requires_grad_(True))
    return is_tuple, tuple(out)


def _outputs(res, fn):
    return _as_tuple(res, "outputs of the function", fn)


def _zeros_like(t):
    from .._tensor import Tensor
    return Tensor._make(t._backend.full(t._data.shape, 0, t._data.dtype), None)


def _grad(outputs, inputs, grad_outputs, create_graph, strict, fn, what="input"):
    """``autograd.grad`` that returns zeros (or, with ``strict``, raises) for unreachable inputs."""
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o._requires_grad]
    if live:
        res = _api.grad([o for o, _ in live], list(inputs), [g for _, g in live], retain_graph=True,
                        create_graph=create_graph, allow_unused=True)
    else:
        res = (None,) * len(inputs)
    out = []
    for i, (r, x) in enumerate(zip(res, inputs)):
        if r is None:
            if strict:
                raise RuntimeError(f"{fn}: the output of the function is independent of {what} {i}, which "
                                   "is not allowed in strict mode")
            r = _zeros_like(x)
        out.append(r)
    return tuple(out)


def _finish(xs, is_tuple, create_graph):
    xs = tuple(x if create_graph else x.detach() for x in xs)
    return xs if is_tuple else xs[0]


def _check_v(v, ref, name, fn):
    is_tuple, vs = _as_tuple(v, name, fn)
    if len(vs) != len(ref):
        raise RuntimeError(f"{fn}: {name} has {len(vs)} elements but {len(ref)} were expected")
    for i, (a, b) in enumerate(zip(vs, ref)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"{fn}: {name}[{i}] has shape {tuple(a.shape)}, expected {tuple(b.shape)}")
    return vs


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """The function's output and the vector-Jacobian product ``v^T J`` at ``inputs``.

    Args:
        func: a function of tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: the vector(s) shaped like the outputs; may be omitted for a one-element output.
        create_graph: make the results differentiable.
        strict: raise if an output is independent of an input instead of returning zeros.

    Returns:
        ``(func_output, vjp)``; ``vjp`` is shaped like ``inputs``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd.functional import vjp
        >>> vjp(lambda x: (x * x).sum(), tapegrad.tensor([1.0, 2.0]))
        (tensor(5.), tensor([2., 4.]))
    """
    fn = "vjp"
    in_tuple, xs = _prepare(inputs, create_graph, fn)
    out_tuple, outs = _outputs(func(*xs), fn)
    if v is None:
        from .._tensor import Tensor
        for o in outs:
            if o._data.size != 1:
                raise RuntimeError(f"{fn}: v can only be omitted when the output has a single element; got "
                                   f"shape {tuple(o.shape)}")
        vs = tuple(Tensor._make(o._backend.full(o._data.shape, 1, o._data.dtype), None) for o in outs)
    else:
        vs = _check_v(v, outs, "v", fn)
    grads = _grad(outs, xs, vs, create_graph, strict, fn)
    return _finish(outs, out_tuple, create_graph), _finish(grads, in_tuple, create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """The function's output and the Jacobian-vector product ``J v`` at ``inputs`` (double-vjp trick).

    Args:
        func: a function of tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        v: the tangent(s) shaped like ``inputs``; may be omitted for a one-element input.
        create_graph: make the results differentiable.
        strict: raise if an output is independent of an input instead of returning zeros.

    Returns:
        ``(func_output, jvp)``; ``jvp`` is shaped like the outputs.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd.functional import jvp
        >>> jvp(lambda x: x ** 2, tapegrad.tensor([1.0, 3.0]), tapegrad.tensor([1.0, 1.0]))[1]
        tensor([2., 6.])
    """
    fn = "jvp"
    in_tuple, xs = _prepare(inputs, create_graph, fn)
    if v is None:
        if any(x._data.size != 1 for x in xs):
            raise RuntimeError(f"{fn}: v can only be omitted when the input has a single element")
        vs = tuple(x._backend.full(x._data.shape, 1, x._data.dtype) for x in xs)
    else:
        vs = _check_v(v, xs, "v", fn)
    out_tuple, outs = _outputs(func(*xs), fn)
    dummies = tuple(_zeros_like(o).requires_grad_(True) for o in outs)
    g = _grad(outs, xs, dummies, True, strict, fn)
    live = [(gi, vi) for gi, vi in zip(g, vs) if gi._requires_grad]
    res = [None] * len(outs)
    if live:
        res = _api.grad([gi for gi, _ in live], list(dummies), [vi for _, vi in live], retain_graph=True,
                        create_graph=create_graph, allow_unused=True)
    out = []
    for i, (r, o) in enumerate(zip(res, outs)):
        if r is None:
            if strict:
                raise RuntimeError(f"{fn}: output {i} of the function is independent of the inputs, which is "
                                   "not allowed in strict mode")
            r = _zeros_like(o)
        out.append(r)
    return _finish(outs, out_tuple, create_graph), _finish(out, out_tuple, create_graph)


def _stack_rows(rows, shape, create_graph):
    """Stack per-output-element gradients into a Jacobian block of ``shape``."""
    if create_graph:
        return _stack(rows).reshape(shape)
    from .._tensor import Tensor
    be = rows[0]._backend
    return Tensor._make(be.reshape(be.stack([r._data for r in rows]), shape), None)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``, one reverse pass per output element.

    Args:
        func: a function of tensors returning a Tensor or a tuple of Tensors.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Jacobian differentiable.
        strict: raise if an output is independent of an input instead of returning zeros.
        vectorize: accepted for PyTorch compatibility; a performance hint that does not change the result.
        strategy: only ``"reverse-mode"`` is supported.

    Returns:
        For output ``i`` and input ``j``, a block of shape ``out_i.shape + in_j.shape``: a Tensor for one
        input and one output, else tuples (over outputs, then inputs) where those were tuples.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd.functional import jacobian
        >>> jacobian(lambda x: x ** 2, tapegrad.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    from .._tensor import Tensor
    fn = "jacobian"
    if strategy != "reverse-mode":
        raise ValueError(f"{fn}: strategy={strategy!r} is not supported; use 'reverse-mode'")
    in_tuple, xs = _prepare(inputs, create_graph, fn)
    out_tuple, outs = _outputs(func(*xs), fn)
    blocks = []
    for o in outs:
        be = o._backend
        n = o._data.size
        rows = [[] for _ in xs]
        for k in range(n):
            e = be.full((n,), 0, o._data.dtype)
            be.setitem(e, k, 1)
            seed = Tensor._make(be.reshape(e, o._data.shape), None)
            for j, r in enumerate(_grad([o], xs, [seed], create_graph, strict, fn, "input")):
                rows[j].append(r)
        per_in = []
        for j, x in enumerate(xs):
            shape = tuple(o._data.shape) + tuple(x._data.shape)
            if n == 0:
                per_in.append(Tensor._make(be.full(shape, 0, o._data.dtype), None))
            else:
                per_in.append(_stack_rows(rows[j], shape, create_graph))
        blocks.append(_finish(per_in, in_tuple, create_graph))
    return tuple(blocks) if out_tuple else blocks[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function ``func`` at ``inputs``.

    Args:
        func: a function of tensors returning a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        create_graph: make the Hessian differentiable.
        strict: raise if the output is independent of an input instead of returning zeros.
        vectorize: accepted for PyTorch compatibility; does not change the result.
        outer_jacobian_strategy: only ``"reverse-mode"`` is supported.

    Returns:
        A Tensor of shape ``in.shape + in.shape`` for one input, else a tuple of tuples of blocks.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd.functional import hessian
        >>> hessian(lambda x: (x ** 3).sum(), tapegrad.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    fn = "hessian"
    in_tuple, xs = _as_tuple(inputs, "inputs", fn)

    def gradient(*ys):
        out_tuple, outs = _outputs(func(*ys), fn)
        if out_tuple or outs[0]._data.size != 1:
            raise RuntimeError(f"{fn}: the function must return a single-element Tensor, got "
                               f"{'a tuple' if out_tuple else 'shape ' + str(tuple(outs[0].shape))}")
        return _grad(outs, ys, [None], True, strict, fn)

    jac = jacobian(gradient, xs, create_graph=create_graph, strict=strict, strategy=outer_jacobian_strategy)
    if not in_tuple:
        return jac[0][0]
    return jac


def _second_order(func, inputs, v, create_graph, strict, fn):
    in_tuple, xs = _prepare(inputs, create_graph, fn)
    out_tuple, outs = _outputs(func(*xs), fn)
    if out_tuple or outs[0]._data.size != 1:
        raise RuntimeError(f"{fn}: the function must return a single-element Tensor")
    vs = _check_v(v, xs, "v", fn)
    g = _grad(outs, xs, [None], True, strict, fn)
    live = [(gi, vi) for gi, vi in zip(g, vs) if gi._requires_grad]
    if live:
        res = _grad([gi for gi, _ in live], xs, [vi for _, vi in live], create_graph, strict, fn)
    else:
        if strict:
            raise RuntimeError(f"{fn}: the gradient of the function is independent of the inputs, which is "
                               "not allowed in strict mode")
        res = tuple(_zeros_like(x) for x in xs)
    return _finish(outs, False, create_graph), _finish(res, in_tuple, create_graph)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """The function's output and the vector-Hessian product ``v^T H`` at ``inputs``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd.functional import vhp
        >>> vhp(lambda x: (x ** 3).sum(), tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([1.0, 1.0]))[1]
        tensor([ 6., 12.])
    """
    return _second_order(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """The function's output and the Hessian-vector product ``H v`` at ``inputs``.

    The Hessian of a twice continuously differentiable function is symmetric,
    so this equals ``vhp``.

    Args:
        func: a function of tensors returning a one-element Tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: vectors shaped like ``inputs``.
        create_graph: make the results differentiable.
        strict: raise if the output is independent of an input instead of returning zeros.

    Returns:
        ``(func_output, hvp)``; ``hvp`` is shaped like ``inputs``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.autograd.functional import hvp
        >>> hvp(lambda x: (x ** 3).sum(), tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([1.0, 0.0]))[1]
        tensor([6., 0.])
    """
    return _second_order(func, inputs, v, create_graph, strict, "hvp")
