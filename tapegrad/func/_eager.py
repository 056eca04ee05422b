"""``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian``: torch.func's
transforms on tapegrad's reverse mode (Note [transform levels] in _level.py).

``jvp`` and ``jacfwd`` run ``func`` under a private dual level, so each op's JVP rule
gives its result's tangent as it runs (Note [forward mode] in autograd/forward_ad.py;
an op without a rule takes the double-vjp trick on its own node there). ``jacfwd``
runs ``func`` once per input element, with the random state restored before each run
so every run draws the same numbers. Inside an active dual level (levels do not nest)
or a vmap they use the double-vjp trick over the whole call instead: the VJP
``u -> J^T u`` is linear in ``u``, so differentiating it with respect to ``u`` along
``v`` gives ``J v`` (two reverse passes; ``jacfwd`` records the first once and runs one
more reverse pass per input element).
"""
import functools

from .. import _creation
from ..tape.grad_mode import is_grad_enabled
from ._level import fresh, strip, grads, check_tensor, new_private
from ._pytree import tree_flatten, tree_unflatten
from . import _batching

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]


def _argnums(argnums, nargs, fn):
    """``(tuple of positions, whether argnums was a tuple)``; checks them against the call."""
    is_tuple = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if is_tuple else (argnums,)
    if not nums:
        raise RuntimeError(f"{fn}: argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"{fn}: argnums must be int or Tuple[int, ...], got: {type(a).__name__}")
        if not -nargs <= a < nargs:
            raise RuntimeError(f"{fn}: Got argnums={a}, but only {nargs} positional inputs")
    nums = tuple(a % nargs for a in nums)
    if len(set(nums)) != len(nums):
        raise RuntimeError(f"{fn}: argnums must be unique, got {argnums}")
    return nums, is_tuple


def _prepare(args, argnums, fn, private):
    """Args with the differentiated ones replaced by fresh handles; the handles' leaves and specs."""
    nums, is_tuple = _argnums(argnums, len(args), fn)
    args = list(args)
    groups = []
    for a in nums:
        leaves, spec = tree_flatten(args[a])
        handles = [fresh(x, fn, private) for x in leaves]
        args[a] = tree_unflatten(handles, spec)
        groups.append((handles, spec))
    return args, groups, is_tuple


def _pack(groups, values, is_tuple):
    """Per-input results (flat, in handle order) put back in the shape of argnums' inputs."""
    out, i = [], 0
    for handles, spec in groups:
        out.append(tree_unflatten(values[i:i + len(handles)], spec))
        i += len(handles)
    return tuple(out) if is_tuple else out[0]


def _split_aux(res, has_aux, fn):
    if not has_aux:
        return res, None
    if not (isinstance(res, tuple) and len(res) == 2):
        raise RuntimeError(f"{fn}(f, ...)(*args): output of function f should be a tuple: (output, aux) "
                           "if has_aux is True")
    return res


def _cut(tree, private):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([strip(t, private) for t in leaves], spec)


def grad_and_value(func, argnums=0, has_aux=False):
    """Make a function that returns the gradient of ``func`` (scalar-valued) and its value.

    Args:
        func: a function of tensors (pytrees of tensors) returning a 0-dim tensor, or
            ``(output, aux)`` when ``has_aux``.
        argnums: the position, or a tuple of positions, of the arguments to differentiate.
        has_aux: ``func`` returns ``(output, aux)``; aux is returned as is.

    Returns:
        A function returning ``(grad, value)`` or, with ``has_aux``, ``(grad, (value, aux))``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import grad_and_value
        >>> grad_and_value(lambda x: (x ** 2).sum())(tapegrad.tensor([1., 2.]))
        (tensor([2., 4.]), tensor(5.))
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        private = new_private()
        args, groups, is_tuple = _prepare(args, argnums, "grad_and_value", private)
        from ..tape.grad_mode import enable_grad
        with enable_grad():
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value")
            check_tensor(out, "grad_and_value(f)(*args)", "f(*args)")
            if out.dim() != 0:
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                                   f"tensor with {out.dim()} dims (shape {tuple(out.shape)}). Maybe you wanted "
                                   "to use the vjp or jacrev APIs instead?")
            handles = [h for hs, _ in groups for h in hs]
            g = grads([out], handles, [_creation.ones_like(out)], private)
        g = _pack(groups, [strip(t, private) for t in g], is_tuple)
        value = strip(out, private)
        if has_aux:
            return g, (value, _cut(aux, private))
        return g, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """Make a function that returns the gradient of the scalar-valued ``func``.

    Args:
        func: a function of tensors (pytrees of tensors) returning a 0-dim tensor, or
            ``(output, aux)`` when ``has_aux``.
        argnums: the position, or a tuple of positions, of the arguments to differentiate.
        has_aux: ``func`` returns ``(output, aux)``; the gradient function then returns ``(grad, aux)``.

    Returns:
        A function of the same arguments returning the gradient (shaped like the argument(s)).

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import grad
        >>> grad(grad(lambda x: x ** 3))(tapegrad.tensor(2.0))
        tensor(12.)
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """Run ``func`` on ``primals`` and return its output with a function computing vector-Jacobian products.

    Args:
        func: a function of tensors (pytrees) returning a pytree of tensors (``(output, aux)`` with has_aux).
        primals: the inputs, each a tensor or a pytree of tensors.
        has_aux: ``func`` returns ``(output, aux)``.

    Returns:
        ``(output, vjp_fn)`` or ``(output, vjp_fn, aux)``; ``vjp_fn(cotangents)`` (shaped like the output)
        returns a tuple with one gradient per primal, and may be called several times.

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import vjp
        >>> out, fn = vjp(tapegrad.sin, tapegrad.tensor([0.0, 1.0]))
        >>> fn(tapegrad.ones(2))
        (tensor([1.0000, 0.5403]),)
    """
    from ..tape.grad_mode import enable_grad
    private = new_private()
    args, groups, _ = _prepare(primals, tuple(range(len(primals))), "vjp", private) if primals else \
        ([], [], True)
    with enable_grad():
        out, aux = _split_aux(func(*args), has_aux, "vjp")
    outs, out_spec = tree_flatten(out)
    for o in outs:
        check_tensor(o, "vjp(f, *primals)", "every output of f")
    handles = [h for hs, _ in groups for h in hs]

    def vjp_fn(cotangents, *, retain_graph=True, create_graph=None):
        # retain_graph/create_graph: torch's signature; the graph is always kept, and recorded when needed
        cots, spec = tree_flatten(cotangents)
        if len(cots) != len(outs) or spec != out_spec:
            raise RuntimeError("vjp_fn: Expected pytree structure of cotangents to be the same as pytree "
                               f"structure of outputs to the function: got {len(cots)} cotangents for "
                               f"{len(outs)} outputs")
        for o, c in zip(outs, cots):
            check_tensor(c, "vjp_fn", "every cotangent")
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"vjp_fn: Mismatch in shape: a cotangent has shape {tuple(c.shape)} and the "
                                   f"output it belongs to has shape {tuple(o.shape)}")
        g = grads(outs, handles, cots, private)
        return tuple(_pack(groups, [strip(t, private) for t in g], True))

    res = (tree_unflatten([strip(o, private) for o in outs], out_spec), vjp_fn)
    return res + (_cut(aux, private),) if has_aux else res


def _double_vjp(outs, handles, private):
    """``(u, g)``: zero cotangent leaves ``u`` (private) and ``g = J^T u`` recorded with create_graph."""
    u = [_batching.zeros_leaf(o, private) for o in outs]
    live = [(o, c) for o, c in zip(outs, u) if o._requires_grad]    # outputs independent of the inputs
    if not live or not handles:                                      # play no part
        return u, [None] * len(handles)
    g = _batching.autograd_grad([o for o, _ in live], list(handles), [c for _, c in live], retain_graph=True,
                  create_graph=True, allow_unused=True)
    return u, list(g)


def _forward(g, u, v):
    """``J v`` from ``g = J^T u``: the gradient of ``<g, v>`` with respect to ``u`` (zeros where none)."""
    pairs = [(gi, vi) for gi, vi in zip(g, v) if gi is not None and gi._requires_grad]
    if not pairs:
        return [_creation.zeros_like(t) for t in u]
    res = _batching.autograd_grad([p for p, _ in pairs], u, [q for _, q in pairs], retain_graph=True,
                    create_graph=is_grad_enabled(), allow_unused=True)
    return [_creation.zeros_like(t) if r is None else r for r, t in zip(res, u)]


def _use_rules():
    """Whether ``jvp``/``jacfwd`` may open their own dual level (module docstring)."""
    from ..autograd import forward_ad
    return not forward_ad._LEVELS and not _batching.active()


def _run_dual(func, args, kwargs, pairs, has_aux, fn):
    """Run ``func`` under a private dual level whose ``(handle, tangent)`` pairs are ``pairs``.

    Returns ``(outs, spec, tangents of outs, aux)``; an output with no tangent gets zeros.
    """
    from ..autograd import forward_ad
    forward_ad.enter_dual_level()
    try:
        level = forward_ad._LEVELS[-1]
        for h, t in pairs:
            level.set(h, t if t.dtype == h.dtype else t.to(h.dtype))
        out, aux = _split_aux(func(*args, **kwargs), has_aux, fn)
        outs, spec = tree_flatten(out)
        for o in outs:
            check_tensor(o, f"{fn}(f, ...)", "every output of f")
        t_out = []
        for o in outs:
            t = level.get(o)
            t_out.append(_creation.zeros_like(o) if t is None else t)
    finally:
        forward_ad.exit_dual_level()
    return outs, spec, t_out, aux


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """Run ``func`` on ``primals`` and return its output with the Jacobian-vector product along ``tangents``.

    Computed by the ops' JVP rules as ``func`` runs (module docstring): no reverse pass.

    Args:
        func: a function of tensors returning a pytree of tensors (``(output, aux)`` with has_aux).
        primals: a tuple of inputs (tensors or pytrees of tensors).
        tangents: a tuple shaped like ``primals``.
        strict: accepted for torch's signature; it has no effect there either.
        has_aux: ``func`` returns ``(output, aux)``.

    Returns:
        ``(output, jvp_out)``, or ``(output, jvp_out, aux)``.

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import jvp
        >>> jvp(lambda x: x ** 2, (tapegrad.tensor(3.0),), (tapegrad.tensor(1.0),))
        (tensor(9.), tensor(6.))
    """
    from ..tape.grad_mode import enable_grad
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be tuples, got "
                           f"{type(primals).__name__} and {type(tangents).__name__}")
    private = new_private()
    args, groups, _ = _prepare(primals, tuple(range(len(primals))), "jvp", private)
    handles = [h for hs, _ in groups for h in hs]
    tans, _ = tree_flatten(tuple(tangents))
    if len(tans) != len(handles):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have the same python "
                           f"structure, got {len(handles)} primal tensors and {len(tans)} tangents")
    for h, t in zip(handles, tans):
        check_tensor(t, "jvp(f, primals, tangents)", "every tangent")
        if tuple(t.shape) != tuple(h.shape):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to have the same shape, "
                               f"got a primal of shape {tuple(h.shape)} and a tangent of shape {tuple(t.shape)}")
    with enable_grad():
        if _use_rules():
            outs, spec, t_out, aux = _run_dual(func, args, {}, list(zip(handles, tans)), has_aux, "jvp")
        else:
            out, aux = _split_aux(func(*args), has_aux, "jvp")
            outs, spec = tree_flatten(out)
            for o in outs:
                check_tensor(o, "jvp(f, primals, tangents)", "every output of f")
            u, g = _double_vjp(outs, handles, private)
            t_out = _forward(g, u, tans)
    res = (tree_unflatten([strip(o, private) for o in outs], spec),
           tree_unflatten([strip(t, private) for t in t_out], spec))
    return res + (_cut(aux, private),) if has_aux else res


def _jacobian(func, argnums, has_aux, fn, forward):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from ..tape.grad_mode import enable_grad
        from ..ops.joining import stack
        private = new_private()
        args, groups, is_tuple = _prepare(args, argnums, fn, private)
        handles = [h for hs, _ in groups for h in hs]
        with enable_grad():
            if forward and _use_rules():
                blocks, outs, spec, aux = _jacfwd_rules(func, args, kwargs, handles, has_aux)
                jac = tree_unflatten([_pack(groups, [strip(b, private) for b in row], is_tuple) for row in blocks],
                                     spec)
                return (jac, _cut(aux, private)) if has_aux else jac
            out, aux = _split_aux(func(*args, **kwargs), has_aux, fn)
            outs, spec = tree_flatten(out)
            for o in outs:
                check_tensor(o, f"{fn}(f)(*args)", "every output of f")
            blocks = [[None] * len(handles) for _ in outs]
            if forward:                 # one JVP per input element, sharing the first reverse pass
                u, g = _double_vjp(outs, handles, private)
                for j, h in enumerate(handles):
                    cols = []
                    for k in range(h.numel()):
                        v = [_basis(x, k if i == j else None) for i, x in enumerate(handles)]
                        cols.append(_forward(g, u, v))
                    for i, o in enumerate(outs):
                        col = [c[i].reshape(-1) for c in cols]
                        blocks[i][j] = (stack(col, -1) if col else _creation.zeros(o.numel(), 0, dtype=o.dtype)
                                        ).reshape(tuple(o.shape) + tuple(h.shape))
            else:                       # one VJP per output element
                for i, o in enumerate(outs):
                    rows = [grads(outs, handles, [_basis(p, k if q == i else None) for q, p in enumerate(outs)],
                                  private) for k in range(o.numel())]
                    for j, h in enumerate(handles):
                        row = [r[j].reshape(-1) for r in rows]
                        blocks[i][j] = (stack(row, 0) if row else _creation.zeros(0, h.numel(), dtype=h.dtype)
                                        ).reshape(tuple(o.shape) + tuple(h.shape))
        jac = tree_unflatten([_pack(groups, [strip(b, private) for b in row], is_tuple) for row in blocks], spec)
        return (jac, _cut(aux, private)) if has_aux else jac
    return wrapper


def _jacfwd_rules(func, args, kwargs, handles, has_aux):
    """``jacfwd``'s blocks by the JVP rules: one run of ``func`` per input element (module docstring)."""
    from ..ops.joining import stack
    from .._generator import get_rng_state, set_rng_state
    state = get_rng_state()
    first = None
    cols = [[] for _ in handles]
    for j, h in enumerate(handles):
        for k in range(h.numel()):
            set_rng_state(state)
            res = _run_dual(func, args, kwargs, [(h, _basis(h, k))], has_aux, "jacfwd")
            first = first or res
            cols[j].append(res[2])
    if first is None:               # every input is empty: one run for the outputs
        outs, spec, _, aux = _run_dual(func, args, kwargs, [], has_aux, "jacfwd")
    else:
        outs, spec, _, aux = first
    blocks = [[None] * len(handles) for _ in outs]
    for j, h in enumerate(handles):
        for i, o in enumerate(outs):
            col = [c[i].reshape(-1) for c in cols[j]]
            blocks[i][j] = (stack(col, -1) if col else _creation.zeros(o.numel(), 0, dtype=o.dtype)
                            ).reshape(tuple(o.shape) + tuple(h.shape))
    return blocks, outs, spec, aux


def _basis(x, k):
    """Zeros shaped like ``x``, with a one at flat position ``k`` (all zeros when ``k`` is None)."""
    z = _creation.zeros(x.numel(), dtype=x.dtype, device=x.device)
    if k is not None:
        z[k] = 1
    return z.reshape(tuple(x.shape))


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """Make a function that returns the Jacobian of ``func`` by reverse mode (one VJP per output element).

    Args:
        func: a function of tensors (pytrees) returning a pytree of tensors.
        argnums: the position, or a tuple of positions, of the arguments to differentiate.
        has_aux: ``func`` returns ``(output, aux)``; the Jacobian function then returns ``(jacobian, aux)``.
        chunk_size: accepted for torch's signature (the rows are computed one at a time).

    Returns:
        A function returning, for each output leaf, a tensor of shape ``output.shape + input.shape``
        (arranged like argnums' inputs).

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import jacrev
        >>> jacrev(lambda x: x ** 2)(tapegrad.tensor([1.0, 2.0]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    _check_chunk(chunk_size, "jacrev")
    return _jacobian(func, argnums, has_aux, "jacrev", forward=False)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """Make a function that returns the Jacobian of ``func`` by forward mode (one JVP per input element).

    The JVPs use the ops' JVP rules, one run of ``func`` per input element (module docstring).

    Args:
        func: a function of tensors (pytrees) returning a pytree of tensors.
        argnums: the position, or a tuple of positions, of the arguments to differentiate.
        has_aux: ``func`` returns ``(output, aux)``.
        randomness: accepted for torch's signature (the random state is restored before each run of
            ``func``, so every run draws the same numbers).

    Returns:
        A function returning Jacobians shaped as ``jacrev``'s.

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import jacfwd
        >>> jacfwd(lambda x: x.sum() * x)(tapegrad.tensor([1.0, 2.0]))
        tensor([[4., 1.],
                [2., 5.]])
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"jacfwd: Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    return _jacobian(func, argnums, has_aux, "jacfwd", forward=True)


def hessian(func, argnums=0):
    """Make a function that returns the Hessian of the scalar-valued ``func``: ``jacfwd(jacrev(func))``.

    Args:
        func: a function of tensors returning a one-element tensor.
        argnums: the position, or a tuple of positions, of the arguments to differentiate.

    Returns:
        A function returning the Hessian, shaped ``input.shape + input.shape`` for a scalar output.

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import hessian
        >>> hessian(lambda x: (x ** 3).sum())(tapegrad.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)


def _check_chunk(chunk_size, fn):
    if chunk_size is not None and (not isinstance(chunk_size, int) or isinstance(chunk_size, bool)
                                   or chunk_size <= 0):
        raise ValueError(f"{fn}: `chunk_size` should be greater than 0, got {chunk_size!r}")
