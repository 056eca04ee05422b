"""``autograd.backward`` and ``autograd.grad``: validate arguments, seed gradients, run the engine."""
from . import engine


def _seed(outputs, grad_outputs, fn, keep_tensors=False):
    from .._tensor import Tensor
    from .. import backend as B
    seeds = []
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: outputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(f"{fn}: element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(f"{fn}: grad can be implicitly created only for scalar outputs; output {i} "
                                   f"has shape {tuple(t.shape)}: pass gradient= (a tensor of that shape)")
            g = t._backend.ones(t._data.shape, t._data.dtype)
        else:                                # a Tensor: _check_grads ran first
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(f"{fn}: mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} "
                                   f"and output[{i}] has a shape of {tuple(t.shape)}")
            if g.device != t.device:
                raise RuntimeError(f"{fn}: grad_output[{i}] is on {g.device} but output[{i}] is on {t.device}")
            if g._data.dtype != t._data.dtype:
                g = g.to(t.dtype)
            if not keep_tensors:
                g = g._data
            # else: under create_graph a grad_output that requires grad stays a Tensor, so the
            # result is differentiable with respect to it (the double-vjp trick behind jvp).
        seeds.append(g)
    return seeds


def _check_grads(grads, fn):
    """Seed gradients are Tensors or None (checked before their count, as PyTorch does)."""
    from .._tensor import Tensor
    for g in grads:
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"{fn}: gradients can be either Tensors or None, but got {type(g).__name__}")
    return grads


def _as_seq(x):
    from .._tensor import Tensor
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]          # a Tensor; anything else is refused by the caller, naming its type


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves of their graph.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
        >>> tapegrad.autograd.backward([(x * 3).sum()])
        >>> x.grad
        tensor([3., 3.])
    """
    tensors = _as_seq(tensors)
    grads = _check_grads(_as_seq(grad_tensors) or [None] * len(tensors), "backward")
    if len(grads) != len(tensors):
        raise RuntimeError(f"backward: got {len(tensors)} tensors and {len(grads)} gradients")
    seeds = _seed(tensors, grads, "backward", create_graph)
    if inputs is not None:
        inputs = _as_seq(inputs)
        res = engine.run(tensors, seeds, retain_graph, create_graph, inputs=inputs, allow_unused=True,
                         accumulate=True)
        for t, g in zip(inputs, res):
            if g is not None:
                engine._accumulate(t, g if create_graph else g._data, create_graph, type(t), always_copy=True)
                if t._post_hooks and t._grad_fn is None:
                    engine.run_post_hooks(t)
        return
    engine.run(tensors, seeds, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (without touching ``.grad``).

    Args:
        outputs: a tensor or sequence of tensors to differentiate.
        inputs: a tensor or sequence of tensors to differentiate with respect to.
        grad_outputs: gradients with respect to each output (None for scalar outputs).
        retain_graph: keep the graph's saved values (defaults to ``create_graph``).
        create_graph: record the backward pass so the result can be differentiated again.
        only_inputs: deprecated and ignored, as in PyTorch (a warning says so when False).
        allow_unused: return None for inputs the outputs do not depend on instead of raising.
        is_grads_batched: not supported (True raises).
        materialize_grads: return zeros instead of None for unused inputs (implies allow_unused).

    Returns:
        A tuple with one gradient per input.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor(2.0, requires_grad=True)
        >>> (g,) = tapegrad.autograd.grad(x ** 3, x, create_graph=True)
        >>> g, tapegrad.autograd.grad(g, x)[0]
        (tensor(12., grad_fn=<MultiplyBackward0>), tensor(12.))
    """
    if not only_inputs:
        import warnings
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use tapegrad.autograd.backward.",
                      FutureWarning, stacklevel=2)
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported; loop over the batch of "
                                  "grad_outputs instead")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    outputs = _as_seq(outputs)
    inputs = _as_seq(inputs)
    grads = _check_grads(_as_seq(grad_outputs) or [None] * len(outputs), "grad")
    if len(grads) != len(outputs):
        raise RuntimeError(f"grad: got {len(outputs)} outputs and {len(grads)} grad_outputs")
    seeds = _seed(outputs, grads, "grad", create_graph)
    res = engine.run(outputs, seeds, retain_graph, create_graph, inputs=inputs,
                     allow_unused=bool(allow_unused or materialize_grads))
    if materialize_grads:
        from .. import _creation
        res = tuple(_creation.zeros_like(t) if r is None else r for r, t in zip(res, inputs))
    return res
