"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and state dicts.

# Note [in-place updates]
Updates work on the parameters' backend arrays (``p._data``), never through
recorded ops: nothing lands on the tape and no new parameter array is made,
so anything holding the Parameter (a module, a view, a second optimizer)
sees the new values. An update is written with augmented operators
(``x -= lr * d``), which NumPy runs in place; ``_store`` writes the result
back for array types whose ``-=`` rebinds instead. Each update bumps the
parameter's version counter, as PyTorch's in-place ops do, so a graph that
saved the old value refuses to backpropagate through it.
"""
import warnings

from ..backend import numpy_backend as _nb
from .. import backend as B
from .._tensor import Tensor
from ..autograd import grad_mode as _gm
from ..nn._state import _zero_grad
from ..ops._sparse_array import CooArray
from ..tape.capture import effect as _effect

__all__ = ["Optimizer", "required"]


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: holds ``param_groups`` (dicts with ``"params"`` and hyperparameters) and ``state``.

    Subclasses implement ``_update_group(group)``; ``step(closure)`` handles the closure.

    Args:
        params: an iterable of Tensors, or of dicts that define parameter groups.
        defaults: the hyperparameters each group gets unless it sets its own.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.nn.Parameter(tapegrad.ones(2))
        >>> b = tapegrad.nn.Parameter(tapegrad.zeros(1))
        >>> opt = tapegrad.optim.SGD([{"params": [w]}, {"params": [b], "lr": 1.0}], lr=0.1)
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 1.0]
    """

    # state entries whose shape is not the parameter's (NAdam's 0-d ``mu_product``, LBFGS's flat vectors):
    # load_state_dict casts them like the rest but does not check their shape
    _unshaped_state = ()

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group):
        """Add a group (a dict with ``"params"`` and optional hyperparameters), e.g. to unfreeze layers.

        ``"params"`` may hold Tensors or ``(name, Tensor)`` pairs (``model.named_parameters()``); the
        names then go to ``group["param_names"]``, as in PyTorch.

        Example:
            >>> import tapegrad
            >>> opt = tapegrad.optim.SGD([tapegrad.nn.Parameter(tapegrad.ones(1))], lr=0.1)
            >>> opt.add_param_group({"params": tapegrad.nn.Parameter(tapegrad.ones(2)), "lr": 0.5})
            >>> [g["lr"] for g in opt.param_groups]
            [0.1, 0.5]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
            if not p.is_floating_point():
                raise ValueError(f"optimizer can only optimize floating point Tensors, got {p.dtype}")
        group = {"params": params}
        if names:
            group["param_names"] = names
        for k, v in self.defaults.items():
            if k not in param_group and v is required:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {k}")
            group[k] = param_group.get(k, v)
        for k, v in param_group.items():
            group.setdefault(k, v)
        self._check_group(group)
        if len({id(p) for p in params}) != len(params):
            # PyTorch only warns (pytorch#40967); a duplicate is then updated twice per step, as there.
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        for g in self.param_groups:
            if ("param_names" in g) != bool(names):
                raise ValueError("all optimizer param groups should be with/without names. cannot add param group "
                                 f"{'with' if names else 'without'} names to the optimizer")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _check_group(self, group):
        """Validate a group's hyperparameters (raise ValueError naming the bad one)."""

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized parameters (to None by default, else to zeros).

        One implementation with ``Module.zero_grad`` (``nn/_state._zero_grad``).

        Example:
            >>> import tapegrad
            >>> w = tapegrad.nn.Parameter(tapegrad.ones(2))
            >>> (w * 2).sum().backward()
            >>> opt = tapegrad.optim.SGD([w], lr=0.1); opt.zero_grad()
            >>> w.grad is None
            True
        """
        for group in self.param_groups:
            for p in group["params"]:
                _zero_grad(p, set_to_none)

    @_effect        # Note [capture hook]: a compiled step replays this call, reading lr live
    def step(self, closure=None):
        """Update every parameter that has a gradient; ``closure`` re-evaluates the loss and returns it."""
        loss = None
        if closure is not None:
            with _gm.enable_grad():
                loss = closure()
        if self._sparse_error is not None:
            self._check_dense_grads()
        prev = _gm.STATE.enabled
        _gm.STATE.enabled = False
        quiet = _nb.QUIET_SET(_nb.QUIET)       # Note [quiet NumPy]: an inf gradient warns nothing, as in PyTorch
        try:
            for group in self.param_groups:
                self._update_group(group)
        finally:
            _nb.QUIET_RESET(quiet)
            _gm.STATE.enabled = prev
        return loss

    def _update_group(self, group):
        raise NotImplementedError(f"{type(self).__name__} does not implement _update_group")

    # PyTorch's RuntimeError for a sparse gradient (``nn.Embedding(sparse=True)``) given to an optimizer
    # without a sparse update; None where the optimizer has one (SGD, SparseAdam, Adagrad) or its own step.
    _sparse_error = None

    def _check_dense_grads(self):
        # every group before any update, so that an error leaves no parameter or state changed
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is not None and isinstance(g._data, CooArray):
                    raise RuntimeError(self._sparse_error)

    # ------------------------------------------------------------- state dicts
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``, as in PyTorch.

        Parameters are replaced by their running index across groups, so the
        dict can be saved with ``tapegrad.save`` and loaded into a fresh
        optimizer over the same (or a reloaded) model.

        Example:
            >>> import tapegrad
            >>> w = tapegrad.nn.Parameter(tapegrad.ones(2))
            >>> tapegrad.optim.SGD([w], lr=0.1).state_dict()["param_groups"][0]["params"]
            [0]
        """
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state from ``state_dict``; checks everything before changing anything.

        State tensors are copied and moved to each parameter's device (floating
        ones also to its dtype).
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with keys 'state' and 'param_groups'")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved)} parameter groups, but the optimizer has "
                             f"{len(self.param_groups)}")
        for i, (mine, theirs) in enumerate(zip(self.param_groups, saved)):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError(f"loaded state dict contains a parameter group ({i}) of {len(theirs['params'])} "
                                 f"parameters, which doesn't match the size of the optimizer's group "
                                 f"({len(mine['params'])})")
        by_index = {}
        for mine, theirs in zip(self.param_groups, saved):
            for idx, p in zip(theirs["params"], mine["params"]):
                by_index[idx] = p
        saved_state = state_dict["state"]
        new_state = {}
        for k, s in saved_state.items():
            idx = int(k)          # keys come back as ints, or as strings from a JSON round trip
            if idx not in by_index:
                raise ValueError(f"loaded optimizer state refers to parameter index {idx}, which no parameter "
                                 "group has")
            p = by_index[idx]
            new_state[p] = {name: _cast_state(v, p, name, self._unshaped_state) for name, v in s.items()}
        new_groups = []
        for mine, theirs in zip(self.param_groups, saved):
            g = {k: v for k, v in theirs.items() if k != "params"}
            g["params"] = mine["params"]
            if "betas" in g and isinstance(g["betas"], list):
                g["betas"] = tuple(g["betas"])
            new_groups.append(g)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def _cast_state(v, p, name, unshaped=()):
    if isinstance(v, (list, tuple)):        # LBFGS's histories: each tensor cast as PyTorch does
        return type(v)(_cast_state(x, p, name, unshaped) for x in v)
    if not isinstance(v, Tensor):
        return v
    if name == "step" and v.ndim == 0:     # PyTorch's float32 step tensor: tapegrad counts steps in a number
        n = v.item()
        return int(n) if float(n).is_integer() else n
    dst = p._backend
    a = B.move(v._data, dst)
    if a is v._data:
        a = dst.copy(a)         # the loaded state never aliases the state dict's tensors
    if name != "step" and a.dtype.kind == "f" and a.dtype != p._data.dtype:
        a = dst.astype(a, p._data.dtype)
    if a.shape != p._data.shape and name != "step" and name not in unshaped:
        raise ValueError(f"loaded optimizer state {name!r} has shape {tuple(a.shape)}, but its parameter has "
                         f"shape {tuple(p._data.shape)}")
    return Tensor._make(a, None)


def _store(be, dst, value):
    """Note [in-place updates]: make sure ``dst`` holds ``value`` (a no-op when ``-=`` ran in place)."""
    if value is not dst:
        be.setitem(dst, Ellipsis, value)


# Note [fused updates]: a backend that has ``sgd_update_``/``adam_update_`` updates a parameter and its
# state in one pass: on the GPU one kernel instead of one launch per arithmetic step, on the CPU one numba
# loop instead of NumPy temporaries the size of the parameter. The kernels need one float dtype and
# contiguous arrays; anything else (and AMSGrad, RMSprop) takes the in-place operator code.
def _fusable(be, a, *others):
    if a.dtype.kind != "f" or not be.is_contiguous(a):
        return False
    return all(o.dtype == a.dtype and o.shape == a.shape and be.is_contiguous(o) for o in others)


def _grads(group, maximize=False):
    """Yield ``(p, p_array, grad_array, backend)`` for each parameter of ``group`` that has a gradient."""
    for p in group["params"]:
        g = p._grad
        if g is None:
            continue
        a = p._data
        ga = g._data
        if maximize:
            ga = -ga
        yield p, a, ga, B.BY_TYPE[type(a)]


def _scalar(v):
    """A hyperparameter as a Python number: a one-element Tensor (PyTorch allows ``lr=torch.tensor(0.1)``)
    is read at every step, so changing it in place changes the updates, as in PyTorch."""
    return v.item() if isinstance(v, Tensor) else v


def _check_tensor_lr(name, lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError(f"{name}: Tensor lr must be 1-element, got shape {tuple(lr.shape)}")


def _check_nonneg(name, what, value):
    """``not 0 <= value`` (so NaN fails too), PyTorch's test for lr, eps, weight_decay, momentum, alpha."""
    if not 0.0 <= value:
        raise ValueError(f"{name}: Invalid {what}: {value} (must be a number >= 0)")


def _impl_flags(name, foreach=None, fused=None, capturable=False, differentiable=False):
    """PyTorch's implementation switches, accepted so that PyTorch programs run. SGD, Adam and AdamW update
    a group of dense CPU arrays in one multi-tensor call unless ``foreach=False`` (Note [multi-tensor updates
    in the optimizers] in optim/_multi.py), and each parameter with a fused kernel where the arrays allow
    (Note [fused updates]); ``fused``/``capturable`` change nothing; ``differentiable=True`` (a step recorded
    on the tape) is not supported. Returns the flags to keep in each group, as PyTorch does."""
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True is not supported (updates are never recorded "
                                  "on the tape, Note [in-place updates])")
    return dict(foreach=foreach, fused=fused, capturable=capturable, differentiable=differentiable)


def _without(key, flags):
    """``flags`` less the switch ``key`` that this optimizer does not have in PyTorch (so groups have its keys)."""
    return {k: v for k, v in flags.items() if k != key}


def _check_fused_flags(group):
    """PyTorch's errors for contradictory switches (after the parameters are registered, as there)."""
    if group.get("fused") and group.get("foreach"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
