"""Module hooks: forward (pre-)hooks, full backward (pre-)hooks, their global versions, ``Module.__call__``.

The methods here are bound into ``Module``'s class body (``module.py``), so
``Module`` keeps PyTorch's MRO while this file holds the hook machinery.

# Note [full backward hooks]
As in PyTorch (``torch/utils/hooks.py``, ``BackwardHook``), a module with full
backward hooks passes its tensor inputs, and then its tensor outputs, through
an identity ``Function`` (``BackwardHookFunction``). The backward of the
output one sees ``grad_output`` (backward pre-hooks may replace it); the
backward of the input one sees ``grad_input`` once every gradient inside the
module is summed, calls the full backward hooks with both, and passes on what
they return. When no input requires grad the hooks fire at the outputs with
``grad_input`` all None, as PyTorch does (with its warning).
"""
import warnings
import weakref
from collections import OrderedDict

from .._tensor import Tensor
from ..tape import grad_mode as _gm
from ..autograd.function import Function

__all__ = ["RemovableHandle", "register_module_forward_pre_hook", "register_module_forward_hook",
           "register_module_full_backward_pre_hook", "register_module_full_backward_hook"]

_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()


class RemovableHandle:
    """A handle whose ``remove()`` unregisters a hook (also a context manager), as ``torch.utils.hooks``'.

    Example:
        >>> import tapegrad
        >>> from tapegrad import nn
        >>> lin = nn.Linear(2, 2)
        >>> with lin.register_forward_hook(lambda m, i, o: print("ran")):
        ...     _ = lin(tapegrad.ones(1, 2))
        ran
        >>> _ = lin(tapegrad.ones(1, 2))
    """
    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        if isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict or ())

    def remove(self):
        """Unregister the hook (removing it twice is harmless)."""
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add(store, hook, prepend=False, extra=()):
    handle = RemovableHandle(store, extra_dict=list(extra))
    store[handle.id] = hook
    if prepend:
        store.move_to_end(handle.id, last=False)
    return handle


# ----------------------------------------------------------------- global hooks
def register_module_forward_pre_hook(hook):
    """Register ``hook(module, args)`` run before every module's forward (before the module's own pre-hooks).

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.modules.module import register_module_forward_pre_hook
        >>> seen = []
        >>> h = register_module_forward_pre_hook(lambda m, a: seen.append(type(m).__name__))
        >>> _ = tapegrad.nn.Sequential(tapegrad.nn.ReLU())(tapegrad.ones(1))
        >>> h.remove(); seen
        ['Sequential', 'ReLU']
    """
    return _add(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """Register ``hook(module, args, output)`` run after every module's forward (before its own hooks).

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.modules.module import register_module_forward_hook
        >>> h = register_module_forward_hook(lambda m, a, out: out * 0)
        >>> tapegrad.nn.ReLU()(tapegrad.ones(2))
        tensor([0., 0.])
        >>> h.remove()
    """
    handle = _add(_global_forward_hooks, hook, extra=(_global_forward_hooks_always_called,
                                                      _global_forward_hooks_with_kwargs))
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook):
    """Register ``hook(module, grad_output)`` for every module, run before the module's own.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.modules.module import register_module_full_backward_pre_hook
        >>> h = register_module_full_backward_pre_hook(lambda m, go: print(type(m).__name__, tuple(go[0].shape)))
        >>> x = tapegrad.ones(3, requires_grad=True)
        >>> tapegrad.nn.Tanh()(x).sum().backward()
        Tanh (3,)
        >>> h.remove()
    """
    return _add(_global_backward_pre_hooks, hook)


def register_module_full_backward_hook(hook):
    """Register ``hook(module, grad_input, grad_output)`` for every module, run before the module's own.

    Example:
        >>> import tapegrad
        >>> from tapegrad.nn.modules.module import register_module_full_backward_hook
        >>> h = register_module_full_backward_hook(lambda m, gi, go: print(type(m).__name__, tuple(gi[0].shape)))
        >>> x = tapegrad.ones(3, requires_grad=True)
        >>> tapegrad.nn.Tanh()(x).sum().backward()
        Tanh (3,)
        >>> h.remove()
    """
    return _add(_global_backward_hooks, hook)


# ----------------------------------------------------------------- Module methods
def init_hooks(module):
    """Create a module's hook tables (called by ``Module.__init__``)."""
    for name in ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
                 "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_backward_pre_hooks",
                 "_backward_hooks", "_load_state_dict_pre_hooks"):
        object.__setattr__(module, name, OrderedDict())


def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
    """Register ``hook(module, args)`` (or ``hook(module, args, kwargs)`` with ``with_kwargs``) run before forward.

    A non-None result replaces the positional arguments (a single value is
    wrapped in a tuple); with ``with_kwargs`` it must be ``(args, kwargs)``.
    ``prepend`` puts the hook before those already registered. Returns a
    ``RemovableHandle``.

    Example:
        >>> import tapegrad
        >>> lin = tapegrad.nn.Identity()
        >>> h = lin.register_forward_pre_hook(lambda m, args: args[0] + 1)
        >>> lin(tapegrad.zeros(2))
        tensor([1., 1.])
    """
    handle = _add(self._forward_pre_hooks, hook, prepend, extra=(self._forward_pre_hooks_with_kwargs,))
    if with_kwargs:
        self._forward_pre_hooks_with_kwargs[handle.id] = True
    return handle


def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
    """Register ``hook(module, args, output)`` run after forward (``hook(module, args, kwargs, output)`` with kwargs).

    A non-None result replaces the output. With ``always_call`` the hook also
    runs when forward raises. Returns a ``RemovableHandle``.

    Example:
        >>> import tapegrad
        >>> lin = tapegrad.nn.Linear(2, 3)
        >>> h = lin.register_forward_hook(lambda m, args, out: print(tuple(args[0].shape), tuple(out.shape)))
        >>> _ = lin(tapegrad.ones(4, 2))
        (4, 2) (4, 3)
        >>> h.remove()
    """
    handle = _add(self._forward_hooks, hook, prepend,
                  extra=(self._forward_hooks_with_kwargs, self._forward_hooks_always_called))
    if with_kwargs:
        self._forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        self._forward_hooks_always_called[handle.id] = True
    return handle


def register_full_backward_pre_hook(self, hook, *, prepend=False):
    """Register ``hook(module, grad_output)`` run when the gradients of the module's outputs are known.

    A non-None result (a tuple as long as ``grad_output``) replaces
    ``grad_output`` (Note [full backward hooks]). Returns a ``RemovableHandle``.

    Example:
        >>> import tapegrad
        >>> relu = tapegrad.nn.ReLU()
        >>> h = relu.register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
        >>> x = tapegrad.ones(2, requires_grad=True)
        >>> relu(x).sum().backward()
        >>> x.grad
        tensor([2., 2.])
    """
    return _add(self._backward_pre_hooks, hook, prepend)


def register_full_backward_hook(self, hook, *, prepend=False):
    """Register ``hook(module, grad_input, grad_output)`` run when the gradients of the module's inputs are known.

    ``grad_input`` has one entry per positional argument (None for those that
    are not tensors or need no gradient); a non-None result of the same length
    replaces it (Note [full backward hooks]). Returns a ``RemovableHandle``.

    Example:
        >>> import tapegrad
        >>> lin = tapegrad.nn.Linear(2, 1)
        >>> h = lin.register_full_backward_hook(lambda m, gi, go: print(tuple(gi[0].shape), tuple(go[0].shape)))
        >>> lin(tapegrad.ones(3, 2, requires_grad=True)).sum().backward()
        (3, 2) (3, 1)
    """
    return _add(self._backward_hooks, hook, prepend)


# ----------------------------------------------------------------- calling a module
def call_impl(self, *args, **kwargs):
    """``Module.__call__``: run the hooks around ``forward`` (straight to ``forward`` when there are none)."""
    d = self.__dict__
    try:
        if not (d["_forward_hooks"] or d["_forward_pre_hooks"] or d["_backward_hooks"] or d["_backward_pre_hooks"]
                or _global_forward_hooks or _global_forward_pre_hooks or _global_backward_hooks
                or _global_backward_pre_hooks):
            return self.forward(*args, **kwargs)
    except KeyError:
        if "_forward_hooks" in d:
            raise
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '_forward_hooks': call "
                             f"super().__init__() in {type(self).__name__}.__init__ before using the module") from None
    state = {"result": None, "args": args, "kwargs": kwargs, "called": set()}
    try:
        return _call_with_hooks(self, state)
    except Exception:
        _run_always_called(self, state)
        raise


def _call_with_hooks(self, state):
    args, kwargs = state["args"], state["kwargs"]
    pre_bw = list(_global_backward_pre_hooks.values()) + list(self._backward_pre_hooks.values())
    full_bw = list(_global_backward_hooks.values()) + list(self._backward_hooks.values())
    for hook_id, hook in (*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()):
        if hook_id in self._forward_pre_hooks_with_kwargs:
            res = hook(self, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError(f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {res}.")
                args, kwargs = res
        else:
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        state["args"], state["kwargs"] = args, kwargs
    bw = None
    if full_bw or pre_bw:
        bw = BackwardHook(self, full_bw, pre_bw)
        args = bw.setup_input_hook(args)
        state["args"] = args
    result = self.forward(*args, **kwargs)
    state["result"] = result
    for hook_id, hook in (*_global_forward_hooks.items(), *self._forward_hooks.items()):
        if hook_id in self._forward_hooks_always_called or hook_id in _global_forward_hooks_always_called:
            state["called"].add(hook_id)
        if hook_id in self._forward_hooks_with_kwargs or hook_id in _global_forward_hooks_with_kwargs:
            res = hook(self, args, kwargs, result)
        else:
            res = hook(self, args, result)
        if res is not None:
            result = res
        state["result"] = result
    if bw is not None:
        if not isinstance(result, (Tensor, tuple)):
            warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of "
                          f"Tensors but received {type(result)}", stacklevel=3)
        result = bw.setup_output_hook(result)
    return result


def _run_always_called(self, state):
    """After forward raised: the ``always_call`` forward hooks that have not run yet (their errors become warnings)."""
    args, kwargs, called = state["args"], state["kwargs"], state["called"]
    for hook_id, hook in _global_forward_hooks.items():
        if hook_id in _global_forward_hooks_always_called and hook_id not in called:
            try:
                res = hook(self, args, state["result"])
                if res is not None:
                    state["result"] = res
            except Exception as e:
                warnings.warn("global module forward hook with ``always_call=True`` raised an exception that "
                              f"was silenced as another error was raised in forward: {e}", stacklevel=3)
    for hook_id, hook in self._forward_hooks.items():
        if hook_id in self._forward_hooks_always_called and hook_id not in called:
            try:
                if hook_id in self._forward_hooks_with_kwargs:
                    res = hook(self, args, kwargs, state["result"])
                else:
                    res = hook(self, args, state["result"])
                if res is not None:
                    state["result"] = res
            except Exception as e:
                warnings.warn("module forward hook with ``always_call=True`` raised an exception that was "
                              f"silenced as another error was raised in forward: {e}", stacklevel=3)


# ----------------------------------------------------------------- backward hooks
class BackwardHookFunction(Function):
    """The identity a module's tensors pass through so its backward hooks see their gradients."""

    @staticmethod
    def forward(ctx, callback, raw, *args):
        ctx.callback = callback
        # What flows on is zeros for an output that got no gradient; the hooks see them as torch's do:
        # zeros at the inputs (the node's results), None at the outputs (what reached the node; ``raw``).
        ctx.raw = raw
        ctx.set_materialize_grads(False)
        ctx.metas = [(a.shape, a.dtype, a.device) if a.requires_grad else None for a in args]
        ctx.mark_non_differentiable(*[a for a in args if not a.requires_grad])
        return args

    @staticmethod
    def backward(ctx, *grads):
        if not ctx.raw:
            grads = _materialize(grads, ctx.metas)
        res = ctx.callback(grads)
        return (None, None) + _materialize(grads if res is None else res, ctx.metas)


def _materialize(grads, metas):
    from .._creation import zeros
    return tuple(zeros(m[0], dtype=m[1], device=m[2]) if g is None and m is not None else g
                 for g, m in zip(grads, metas))


class BackwardHook:
    """One call's link between the gradients at a module's outputs and at its inputs (Note [full backward hooks])."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None

    @staticmethod
    def _pack_with_none(indices, values, size):
        res = [None] * size
        for i, v in zip(indices, values):
            res[i] = v
        return tuple(res)

    def _apply_on_tensors(self, callback, args, raw):
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in idx]
        if not (any(t.requires_grad for t in tensors) and _gm.STATE.enabled):
            return args, None
        new = BackwardHookFunction.apply(callback, raw, *tensors)
        out = list(args)
        for i, v in zip(idx, new):
            out[i] = v
        return (tuple(out) if type(args) is tuple else type(args)(*out)), idx

    def _input_callback(self, grad_input):
        if self.grad_outputs is None:       # the gradient reached the inputs without passing the outputs
            return None
        res = self._pack_with_none(self.input_tensors_index, grad_input, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                                   f"but expected {len(res)}")
            res = out
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_tensors_index)

    def _output_callback(self, grad_output):
        self.grad_outputs = self._pack_with_none(self.output_tensors_index, grad_output, self.n_outputs)
        for hook in self.user_pre_hooks:
            new = hook(self.module, self.grad_outputs)
            if new is None:
                continue
            if len(new) != len(self.grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got {len(new)}, "
                                   f"but expected {len(self.grad_outputs)}")
            self.grad_outputs = new
        local = self.grad_outputs
        if self.input_tensors_index is None:
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                          "outputs since no inputs require gradients.", stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(local[i] for i in self.output_tensors_index)

    def setup_input_hook(self, args):
        res, idx = self._apply_on_tensors(self._input_callback, args, raw=False)
        self.n_inputs = len(args)
        self.input_tensors_index = idx
        return res

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        outs = result if is_tuple else (result,)
        res, idx = self._apply_on_tensors(self._output_callback, outs, raw=True)
        self.n_outputs = len(outs)
        self.output_tensors_index = idx
        return res if is_tuple else res[0]
