"""``gradcheck`` and ``gradgradcheck``: compare analytical Jacobians with finite differences.

Like PyTorch's: the numerical Jacobian comes from central differences, one
column per input element; the analytical one from one backward pass per output
element. Use float64 inputs (float32 round-off swamps a step of 1e-6).
``tapegrad.testing.check_grad`` is the cheaper check for larger inputs: it
compares random directional derivatives instead of whole Jacobians.
"""
import warnings

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck``/``gradgradcheck`` when a Jacobian does not match."""


def _tensor_cls():
    from .._tensor import Tensor
    return Tensor


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _host(t):
    """A C-contiguous NumPy copy of a tensor's values, so ``reshape(-1)`` is a view to perturb in place."""
    return np.array(t.detach().cpu().numpy(), copy=True, order="C")


def _rebuild(t, arr, requires_grad):
    """A fresh leaf with ``t``'s dtype and device holding ``arr``."""
    from .._creation import tensor
    return tensor(arr, dtype=t.dtype, device=t.device, requires_grad=requires_grad)


def _float_outputs(outs):
    Tensor = _tensor_cls()
    return [o for o in outs if isinstance(o, Tensor) and o.is_floating_point()]


def _diff_positions(inputs):
    Tensor = _tensor_cls()
    return [i for i, a in enumerate(inputs) if isinstance(a, Tensor) and a.requires_grad]


def _eval_outputs(fn, inputs, pos, arrays):
    """``fn`` at ``inputs`` with the differentiable ones replaced by ``arrays``; flat outputs as host arrays."""
    # Grad mode stays on and the inputs keep requiring grad: ``fn`` may itself take
    # gradients (gradgradcheck's does).
    args = list(inputs)
    for p, a in zip(pos, arrays):
        args[p] = _rebuild(inputs[p], a, True)
    outs = _float_outputs(_as_tuple(fn(*args)))
    return [np.asarray(_host(o), dtype=np.float64) for o in outs]


def numerical_jacobian(fn, inputs, pos, eps):
    """Blocks ``J[o][i]`` of shape ``(out_o.size, in_i.size)`` by central differences."""
    base = [_host(inputs[p]) for p in pos]
    blocks = None
    for k, p in enumerate(pos):
        x = base[k]
        flat = x.reshape(-1)
        cols = []
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = _eval_outputs(fn, inputs, pos, base)
            flat[j] = old - eps
            minus = _eval_outputs(fn, inputs, pos, base)
            flat[j] = old
            cols.append([((a - b) / (2 * eps)).reshape(-1) for a, b in zip(plus, minus)])
        if blocks is None:
            n_out = [o.size for o in _eval_outputs(fn, inputs, pos, base)]
            blocks = [[None] * len(pos) for _ in n_out]
        for o in range(len(blocks)):
            size = n_out[o]
            blocks[o][k] = (np.stack([c[o] for c in cols], axis=1) if cols
                            else np.zeros((size, 0)))
    return blocks


def analytical_jacobian(fn, inputs, pos):
    """Blocks ``J[o][i]`` from one ``autograd.grad`` call per output element."""
    from .api import grad
    outs = _float_outputs(_as_tuple(fn(*inputs)))
    xs = [inputs[p] for p in pos]
    blocks = [[np.zeros((o.numel(), x.numel())) for x in xs] for o in outs]
    live = [o for o in outs if o.requires_grad]
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue            # an output that does not depend on any input: its rows stay zero
        for e in range(o.numel()):
            seeds = []
            for other in live:
                s = np.zeros(tuple(other.shape), dtype=np.float64)
                if other is o:
                    s.reshape(-1)[e] = 1.0
                seeds.append(_rebuild(other, s, False))
            gs = grad(live, xs, grad_outputs=seeds, retain_graph=True, allow_unused=True)
            for k, (x, g) in enumerate(zip(xs, gs)):
                if g is None:
                    continue
                if tuple(g.shape) != tuple(x.shape):
                    raise GradcheckError(f"gradient for input {pos[k]} has shape {tuple(g.shape)}, but the "
                                         f"input has shape {tuple(x.shape)}")
                blocks[oi][k][e] = np.asarray(_host(g), dtype=np.float64).reshape(-1)
    return blocks


def compare_jacobians(analytic, numeric, pos, atol, rtol):
    """An error message naming the worst element, or None when every block matches."""
    if len(analytic) != len(numeric):
        return f"the function gave {len(analytic)} floating-point outputs, but {len(numeric)} when perturbed"
    for o, (arow, nrow) in enumerate(zip(analytic, numeric)):
        for k, (a, n) in enumerate(zip(arow, nrow)):
            if a.shape != n.shape:
                return (f"Jacobian of output {o} with respect to input {pos[k]}: analytical shape {a.shape} "
                        f"vs numerical shape {n.shape}")
            if a.size == 0 or np.allclose(a, n, atol=atol, rtol=rtol):
                continue
            excess = np.abs(a - n) - (atol + rtol * np.abs(n))
            r, c = np.unravel_index(int(np.argmax(excess)), a.shape)
            msg = (f"Jacobian mismatch for output {o} with respect to input {pos[k]}: worst element "
                   f"[output element {r}, input element {c}]: analytical {float(a[r, c])!r} vs numerical "
                   f"{float(n[r, c])!r} (atol={atol}, rtol={rtol})")
            if a.size <= 64:
                msg += f"\nnumerical:\n{n}\nanalytical:\n{a}"
            return msg
    return None


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    Every tensor in ``inputs`` with ``requires_grad=True`` is perturbed one
    element at a time; use float64 tensors. Outputs may be a tensor or a tuple.

    Args:
        func: a function of ``*inputs`` returning a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of arguments.
        eps: the finite-difference step.
        atol, rtol: tolerances of the element-wise comparison.
        raise_exception: raise ``GradcheckError`` on a mismatch (else return False).

    Returns:
        True when all Jacobians match.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([0.5, 1.5], dtype=tapegrad.float64, requires_grad=True)
        >>> tapegrad.autograd.gradcheck(lambda t: (t * t).exp(), (x,))
        True
    """
    inputs = _as_tuple(inputs)
    pos = _diff_positions(inputs)
    if not pos:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of "
                         "the inputs has requires_grad=True")
    for p in pos:
        if inputs[p].dtype.name != "float64":
            warnings.warn(f"gradcheck: input {p} requires gradient and is {inputs[p].dtype}, not float64; "
                          "the check may fail from round-off alone", stacklevel=2)
    numeric = numerical_jacobian(func, inputs, pos, eps)
    analytic = analytical_jacobian(func, inputs, pos)
    msg = compare_jacobians(analytic, numeric, pos, atol, rtol)
    if msg is None:
        return True
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check second derivatives: ``gradcheck`` of the vector-Jacobian product of ``func``.

    The checked function maps ``(*inputs, *grad_outputs)`` to the gradients of
    ``func``'s outputs (weighted by ``grad_outputs``) with ``create_graph=True``.
    ``grad_outputs`` default to random float64 tensors that require grad.

    Args:
        func, inputs, eps, atol, rtol, raise_exception: as in ``gradcheck``.
        grad_outputs: one tensor per floating-point output of ``func``.

    Returns:
        True when all second-order Jacobians match.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([0.5, 1.5], dtype=tapegrad.float64, requires_grad=True)
        >>> tapegrad.autograd.gradgradcheck(lambda t: t.sin() * t, (x,))
        True
    """
    from .api import grad
    inputs = _as_tuple(inputs)
    pos = _diff_positions(inputs)
    if not pos:
        raise ValueError("gradgradcheck expects at least one input tensor to require gradient")
    outs = _float_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_rebuild(o, rng.standard_normal(tuple(o.shape)), True) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outs):
        raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for {len(outs)} "
                         "floating-point outputs")
    n_in = len(inputs)

    def first_derivative(*args):
        xs, vs = args[:n_in], args[n_in:]
        ys = _float_outputs(_as_tuple(func(*xs)))
        live = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
        if not live:
            return ()
        gs = grad([y for y, _ in live], [xs[p] for p in pos], grad_outputs=[v for _, v in live],
                  create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
