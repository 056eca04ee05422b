"""``functional_call``: call a module with some of its parameters and buffers replaced for one call."""

__all__ = ["functional_call"]


def _merge(dicts):
    if isinstance(dicts, dict):
        return dict(dicts)
    if not isinstance(dicts, (tuple, list)) or not all(isinstance(d, dict) for d in dicts):
        raise ValueError("functional_call: expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(dicts).__name__}")
    out = {}
    for d in dicts:
        for k, v in d.items():
            if k in out:
                raise ValueError(f"['{k}'] appeared in multiple dictionaries; behavior of functional call is "
                                 "ambiguous")
            out[k] = v
    return out


def _owner(module, name):
    """``(submodule, attribute)`` for a dotted name; the submodules must exist."""
    *path, attr = name.split(".")
    mod = module
    for p in path:
        sub = mod._modules.get(p) if hasattr(mod, "_modules") else None
        if sub is None:
            raise AttributeError(f"functional_call: {type(mod).__name__} has no submodule {p!r} (in key {name!r})")
        mod = sub
    return mod, attr


def _swap(mod, attr, value):
    """Put ``value`` in the slot of ``mod.attr``; returns how to undo it."""
    d = mod.__dict__
    for store in ("_parameters", "_buffers"):
        if attr in d[store]:
            old = d[store][attr]
            d[store][attr] = value
            return lambda: d[store].__setitem__(attr, old)
    if attr in d:
        old = d[attr]
        d[attr] = value
        return lambda: d.__setitem__(attr, old)
    d[attr] = value
    return lambda: d.pop(attr, None)


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """Call ``module`` with the named parameters and buffers replaced by the given tensors.

    The module is restored afterwards (also when the call raises). Gradients flow to the given tensors,
    so ``grad(lambda p: loss(functional_call(net, p, x)))(params)`` differentiates with respect to them.

    Args:
        module: an ``nn.Module``.
        parameter_and_buffer_dicts: a dict ``{dotted name: tensor}``, or a tuple of such dicts.
        args: the positional arguments (a tuple, or one argument).
        kwargs: the keyword arguments.
        tie_weights: a tensor given for one of several names that share one parameter (tied weights)
            replaces it under all of them.
        strict: every parameter and buffer must be given, and no other key.

    Returns:
        What ``module(*args, **kwargs)`` returns.

    Example:
        >>> import tapegrad
        >>> from tapegrad.func import functional_call
        >>> lin = tapegrad.nn.Linear(2, 1)
        >>> p = {"weight": tapegrad.ones(1, 2), "bias": tapegrad.zeros(1)}
        >>> functional_call(lin, p, (tapegrad.tensor([[1.0, 2.0]]),))
        tensor([[3.]])
    """
    values = _merge(parameter_and_buffer_dicts)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = {} if kwargs is None else kwargs
    names = [n for n, _ in module.named_parameters(remove_duplicate=False)] + \
            [n for n, _ in module.named_buffers(remove_duplicate=False)]
    if strict:
        missing = [n for n in names if n not in values]
        unexpected = [k for k in values if k not in names]
        if missing or unexpected:
            msg = f"Error(s) in reparametrizing for {type(module).__name__}:"
            if unexpected:
                msg += "\n\tUnexpected key(s): " + ", ".join(repr(k) for k in unexpected) + "."
            if missing:
                msg += "\n\tMissing key(s): " + ", ".join(repr(k) for k in missing) + "."
            raise RuntimeError(msg)
    if tie_weights:
        values = _tie(module, values)
    undo = []
    try:
        for k, v in values.items():
            mod, attr = _owner(module, k)
            undo.append(_swap(mod, attr, v))
        return module(*args, **kwargs)
    finally:
        for u in reversed(undo):
            u()


def _tie(module, values):
    """Extend ``values`` to every name of a tied parameter or buffer given under one of its names."""
    groups = {}
    for n, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        groups.setdefault(id(t), []).append(n)
    out = dict(values)
    for group in groups.values():
        if len(group) < 2:
            continue
        given = [n for n in group if n in values]
        if not given:
            continue
        first = values[given[0]]
        if any(values[n] is not first for n in given[1:]):
            raise ValueError(f"functional_call got multiple values for keys {given}, which are tied. Consider "
                             "using tie_weights=False")
        for n in group:
            out[n] = first
    return out
