"""``check_grad``: first- and second-order gradient checks along random directions, in float64.

# Note [directional check]
For ``y = f(x)`` and random directions ``u`` (inputs) and ``v`` (outputs),
central differences give ``<v, J u>`` from two forward passes, and one
backward pass gives ``<J^T v, u>``; they must agree. That costs O(1) passes
whatever the size, so it scales to inputs too large for a full Jacobian. The
second order applies the same check to the scalar function
``x -> <J(x)^T v, w>`` whose gradient comes from a backward pass through a
graph recorded with ``create_graph=True``.
"""
import numpy as np

from ..autograd.gradcheck import (_as_tuple, _float_outputs, _host, _rebuild, analytical_jacobian,
                                  compare_jacobians, numerical_jacobian)

__all__ = ["check_grad"]


def _prepare(inputs):
    """float64 leaves requiring grad for every floating input; other arguments pass through."""
    import tapegrad
    args, pos = [], []
    for i, a in enumerate(inputs):
        if isinstance(a, tapegrad.Tensor):
            if a.is_floating_point():
                a = tapegrad.tensor(_host(a), dtype=tapegrad.float64, device=a.device,
                                    requires_grad=True)
                pos.append(i)
        elif isinstance(a, np.ndarray) and a.dtype.kind == "f":
            a = tapegrad.tensor(a, dtype=tapegrad.float64, requires_grad=True)
            pos.append(i)
        args.append(a)
    return args, pos


def _outputs(fn, args):
    outs = _float_outputs(_as_tuple(fn(*args)))
    for o in outs:
        if o.dtype.name != "float64":
            raise AssertionError(f"check_grad: an output is {o.dtype} although every floating input is float64 "
                                 "(an accidental downcast)")
    return outs


def _first_grads(fn, args, pos, vs, create_graph):
    """``J^T v`` for each differentiable input (zeros where unused), as tensors."""
    import tapegrad
    outs = _outputs(fn, args)
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    xs = [args[p] for p in pos]
    gs = [None] * len(xs)
    if live:
        gs = list(tapegrad.autograd.grad([o for o, _ in live], xs,
                                         grad_outputs=[_rebuild(o, v, False) for o, v in live],
                                         create_graph=create_graph, allow_unused=True))
    for k, (x, g) in enumerate(zip(xs, gs)):
        if g is None:
            continue
        if tuple(g.shape) != tuple(x.shape) or g.dtype != x.dtype:
            raise AssertionError(f"check_grad: the gradient of input {pos[k]} has shape {tuple(g.shape)} and "
                                 f"dtype {g.dtype}; expected {tuple(x.shape)} and {x.dtype}")
    return gs


def _with(args, pos, arrays, requires_grad):
    new = list(args)
    for p, a in zip(pos, arrays):
        new[p] = _rebuild(args[p], a, requires_grad)
    return new


def _zeros_if_none(gs, xs):
    return [np.zeros(tuple(x.shape)) if g is None else _host(g) for g, x in zip(gs, xs)]


class _Scalar:
    """A scalar function of the differentiable inputs: ``first`` (``<v, f>``) or ``second`` (``<J^T v, w>``)."""

    def __init__(self, fn, args, pos, vs, ws=None):
        self.fn, self.args, self.pos, self.vs, self.ws = fn, args, pos, vs, ws

    def value(self, arrays):
        args = _with(self.args, self.pos, arrays, True)     # fn may take gradients itself
        if self.ws is None:
            outs = _outputs(self.fn, args)
            return sum(float(np.sum(_host(o) * v)) for o, v in zip(outs, self.vs))
        gs = _first_grads(self.fn, args, self.pos, self.vs, create_graph=False)
        gs = _zeros_if_none(gs, [args[p] for p in self.pos])
        return sum(float(np.sum(g * w)) for g, w in zip(gs, self.ws))

    def gradient(self):
        """The analytical gradient, one host array per differentiable input."""
        import tapegrad
        xs = [self.args[p] for p in self.pos]
        if self.ws is None:
            return _zeros_if_none(_first_grads(self.fn, self.args, self.pos, self.vs, False), xs)
        gs = _first_grads(self.fn, self.args, self.pos, self.vs, create_graph=True)
        plain = _zeros_if_none(_first_grads(self.fn, self.args, self.pos, self.vs, False), xs)
        for k, (g, p) in enumerate(zip(gs, plain)):
            # Note [two-mode VJPs]: the recorded and the raw-array VJP must compute the same values.
            got = np.zeros_like(p) if g is None else _host(g)
            if not np.allclose(got, p, rtol=1e-10, atol=1e-12):
                i = np.unravel_index(int(np.argmax(np.abs(got - p))), p.shape)
                raise AssertionError(f"check_grad: the gradient of input {self.pos[k]} differs between "
                                     f"create_graph=True and False: at index {tuple(int(j) for j in i)}, "
                                     f"{float(got[i])!r} vs {float(p[i])!r}")
        live = [(g, _rebuild(g, w, False)) for g, w in zip(gs, self.ws)
                if g is not None and g.requires_grad]
        if not live:
            return [np.zeros(tuple(x.shape)) for x in xs]   # the first derivative is constant
        hs = tapegrad.autograd.grad([g for g, _ in live], xs, grad_outputs=[w for _, w in live],
                                    allow_unused=True)
        return _zeros_if_none(hs, xs)


def _elementwise_report(scalar, base, analytic, eps, atol, rtol, max_elements):
    """Locate the worst element by differentiating the scalar one coordinate at a time."""
    total = sum(b.size for b in base)
    if total > max_elements:
        return f"(inputs too large ({total} elements) to locate the worst element)"
    worst = None
    for k, (b, a) in enumerate(zip(base, analytic)):
        flat = b.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = scalar.value(base)
            flat[j] = old - eps
            minus = scalar.value(base)
            flat[j] = old
            num = (plus - minus) / (2 * eps)
            ana = float(a.reshape(-1)[j])
            excess = abs(ana - num) - (atol + rtol * abs(num))
            if worst is None or excess > worst[0]:
                worst = (excess, k, np.unravel_index(j, b.shape), ana, num)
    if worst is None:
        return ""
    _, k, idx, ana, num = worst
    return (f"worst element: input {scalar.pos[k]} at index {tuple(int(i) for i in idx)}: "
            f"analytic {ana!r} vs numeric {num!r}")


def _directional(scalar, what, eps, atol, rtol, directions, rng, max_elements):
    base = [_host(scalar.args[p]) for p in scalar.pos]
    analytic = scalar.gradient()
    for d in range(directions):
        us = [rng.standard_normal(b.shape) for b in base]
        ana = sum(float(np.sum(a * u)) for a, u in zip(analytic, us))
        num = (scalar.value([b + eps * u for b, u in zip(base, us)])
               - scalar.value([b - eps * u for b, u in zip(base, us)])) / (2 * eps)
        if not abs(ana - num) <= atol + rtol * abs(num):
            where = _elementwise_report(scalar, base, analytic, eps, atol, rtol, max_elements)
            raise AssertionError(
                f"check_grad: {what} mismatch along random direction {d}: analytic {ana!r} vs numeric "
                f"{num!r} (atol={atol}, rtol={rtol}); {where}")


def check_grad(fn, *inputs, order=2, eps=1e-6, atol=1e-5, rtol=1e-3, directions=2, full_jacobian_max=64,
               seed=0):
    """Check the derivatives of ``fn`` at ``inputs`` against central finite differences, in float64.

    Floating tensors (and NumPy float arrays) among ``inputs`` are cast to
    float64 leaves and differentiated; other arguments (integer index tensors,
    numbers) are passed as they are. Derivatives are compared along random
    directions (Note [directional check]); when the inputs and outputs are tiny
    the full Jacobian is compared too. Raises ``AssertionError`` naming the
    worst element (input, index, analytic and numeric values) on a mismatch.

    Args:
        fn: a function of ``*inputs`` returning a tensor or a tuple of tensors.
        order: 1 checks first derivatives; 2 also second ones (through ``create_graph``).
        eps: the finite-difference step.
        atol, rtol: tolerances: ``|analytic - numeric| <= atol + rtol * |numeric|``.
        directions: how many random directions to try per order.
        full_jacobian_max: compare the full Jacobian when ``inputs x outputs`` has at most this many entries.
        seed: seed of the random directions.

    Example:
        >>> import tapegrad
        >>> from tapegrad.testing import check_grad
        >>> check_grad(lambda x, y: (x * y).sin(), tapegrad.randn(3), tapegrad.randn(2, 1))
    """
    if order not in (1, 2):
        raise ValueError(f"check_grad: order must be 1 or 2, got {order!r}")
    args, pos = _prepare(inputs)
    if not pos:
        raise ValueError("check_grad: no floating-point tensor among the inputs, nothing to differentiate")
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, args)
    vs = [rng.standard_normal(tuple(o.shape)) for o in outs]
    n_in = sum(args[p].numel() for p in pos)
    max_elements = 1024
    if n_in == 0:       # nothing to perturb: check only that backward runs and gives well-shaped gradients
        _first_grads(fn, args, pos, vs, create_graph=order == 2)
        return
    for o in outs:
        if not np.all(np.isfinite(_host(o))):
            raise AssertionError(f"check_grad: fn gives non-finite values at this point (output of shape "
                                 f"{tuple(o.shape)}); finite differences need a point where fn is finite")
    first = _Scalar(fn, args, pos, vs)
    _directional(first, "first derivative", eps, atol, rtol, directions, rng, max_elements)
    if n_in * sum(o.numel() for o in outs) <= full_jacobian_max:
        numeric = numerical_jacobian(fn, args, pos, eps)
        analytic = analytical_jacobian(fn, args, pos)
        msg = compare_jacobians(analytic, numeric, pos, atol, rtol)
        if msg is not None:
            raise AssertionError(f"check_grad: {msg}")
    if order == 2:
        ws = [rng.standard_normal(tuple(args[p].shape)) for p in pos]
        second = _Scalar(fn, args, pos, vs, ws)
        _directional(second, "second derivative", eps, atol, rtol, directions, rng, max_elements)
