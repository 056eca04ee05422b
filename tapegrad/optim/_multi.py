"""Multi-tensor ("foreach") updates: a whole parameter group of dense CPU arrays in one backend call.

# Note [multi-tensor updates in the optimizers]
The per-parameter path costs a few microseconds of Python per parameter (the fused kernel's checks, state
lookups, the call itself); for a small model that is most of ``opt.step()``, and a compiled training step
replays ``opt.step()`` as a Python call. When every parameter of a group that has a gradient is a
C-contiguous, writable float32/float64 NumPy array with a gradient (and state) of its own dtype and shape,
``SGD`` and ``Adam``/``AdamW`` gather the arrays here and make one ``*_update_multi_`` call (8 parameters
per numba call, Note [multi-tensor updates] in backend/_kernels.py), which runs the single-tensor kernel on
each: the same values as the per-parameter path, bit for bit. Anything else (CUDA arrays, strided or sparse
gradients, float16, duplicated parameters, Adam parameters at different step counts, AMSGrad, a first
momentum step for only some parameters) returns False *before anything is changed*, and the caller takes
the per-parameter path. ``foreach=False`` asks for the per-parameter path, as in PyTorch.

A ``_Plan`` remembers, per group, the arrays of the last eligible step and their flat views, so a step
where nothing changed checks identities (``p._data`` and each state array is the object it was) and
flattens only the new gradients. Anything that differs (a parameter added, ``p.data`` replaced, a loaded
state dict, a gradient missing) sends that step through the full checks, which make a new plan.
Hyperparameters are read by the caller on every step, so schedulers act as before.
"""
import numpy as np

from .._tensor import Tensor
from .. import backend as B

_ND = np.ndarray
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class _Plans(dict):
    """id(group) -> _Plan. Never copied with the optimizer: a copied plan's flat views would alias nothing."""

    def __deepcopy__(self, memo):
        return _Plans()

    def __reduce__(self):
        return _Plans, ()


class _Plan:
    __slots__ = ("group", "params", "datas", "flats", "dtype", "state", "state_flats")

    def __init__(self, group, params, arrays, state_arrays):
        self.group = group
        self.params = params
        self.datas = arrays
        self.flats = [a.reshape(-1) for a in arrays]
        self.dtype = arrays[0].dtype
        self.state = state_arrays                   # {key: [array per parameter]}
        self.state_flats = {k: [a.reshape(-1) for a in v] for k, v in state_arrays.items()}

    def grads(self, params):
        """The flat gradients if the plan still describes ``params`` and every one has a fitting gradient."""
        if len(params) != len(self.datas):
            return None
        dt = self.dtype
        out = []
        for p, a in zip(params, self.datas):
            g = p._grad
            if g is None or p._data is not a:
                return None
            ga = g._data
            if ga.__class__ is not _ND or ga.dtype is not dt or ga.shape != a.shape:
                return None
            f = ga.flags
            if not (f.c_contiguous and f.writeable):
                return None
            out.append(ga if ga.ndim == 1 else ga.reshape(-1))
        return out


def _plans(opt):
    plans = opt.__dict__.get("_multi_plans")
    if plans is None:
        plans = opt._multi_plans = _Plans()
    return plans


def _planned(opt, group):
    plan = _plans(opt).get(id(group))
    return plan if plan is not None and plan.group is group else None


def _remember(opt, group, ps, arrays, state_arrays):
    if len(ps) == len(group["params"]):         # every parameter had a gradient: the common step
        _plans(opt)[id(group)] = _Plan(group, ps, arrays, state_arrays)


def _ok(a, dt, shape):
    # identity tests: a dtype or array class that is not exactly these falls back (never a wrong update)
    if a.__class__ is not _ND or a.dtype is not dt or a.shape != shape:
        return False
    f = a.flags
    return f.c_contiguous and f.writeable


def _gather(group, method):
    """``(params, arrays, grads)`` of the group's parameters that have a gradient, or None (not eligible)."""
    if getattr(B.CPU_BACKEND, method, None) is None:
        return None         # the backend's kernel taken away (tests of the operator code)
    ps, arrays, grads = [], [], []
    dt = None
    for p in group["params"]:
        g = p._grad
        if g is None:
            continue
        a = p._data
        if dt is None:
            dt = a.dtype
            if dt not in _FLOATS:
                return None
        if not (_ok(a, dt, a.shape) and _ok(g._data, dt, a.shape)):
            return None
        ps.append(p)
        arrays.append(a)
        grads.append(g._data)
    if len(ps) > 1 and len(set(map(id, ps))) != len(ps):
        return None         # a duplicated parameter is updated twice, one after the other: per parameter
    return ps, arrays, grads


def _bump(ps):
    for p in ps:
        p._version[0] += 1


# --------------------------------------------------------------------------- SGD
def sgd_step(opt, group, lr, mom, damp, wd, nesterov):
    """One SGD step for ``group`` in one multi-tensor call; False (nothing changed) if not eligible."""
    plan = _planned(opt, group)
    if plan is not None:
        params = group["params"]
        grads = plan.grads(params)
        if grads is not None:
            bufs = _planned_state(opt, plan, params, ("momentum_buffer",)) if mom else [None]
            if bufs is not None:
                B.CPU_BACKEND.sgd_update_multi_(plan.flats, grads, bufs[0], lr, momentum=mom, dampening=damp,
                                                weight_decay=wd, nesterov=nesterov, maximize=group["maximize"])
                _bump(params)
                return True
    return _sgd_checked(opt, group, lr, mom, damp, wd, nesterov)


def _planned_state(opt, plan, params, keys):
    """The plan's flat state arrays for ``keys`` if every parameter's state still holds those arrays."""
    state = opt.state
    try:
        for k in keys:
            want = plan.state[k]
            for i, p in enumerate(params):
                if state[p][k]._data is not want[i]:
                    return None
    except (KeyError, AttributeError):
        return None
    return [plan.state_flats[k] for k in keys]


def _sgd_checked(opt, group, lr, mom, damp, wd, nesterov):
    got = _gather(group, "sgd_update_multi_")
    if got is None:
        return False
    ps, arrays, grads = got
    if not ps:
        return True
    bufs = None
    first = False
    if mom:
        state = opt.state
        bufs = []
        fresh = 0
        for p, a in zip(ps, arrays):
            st = state.get(p)
            b = None if st is None else st.get("momentum_buffer")
            if b is None:
                fresh += 1
                continue
            b = b._data
            if not _ok(b, a.dtype, a.shape):
                return False
            bufs.append(b)
        if fresh:
            if fresh != len(ps):
                return False        # a first step for some parameters only: per parameter
            first = True
            for p, a in zip(ps, arrays):
                b = B.CPU_BACKEND.empty(a.shape, a.dtype)
                state[p] = {"momentum_buffer": Tensor._make(b, None)}
                bufs.append(b)
    B.CPU_BACKEND.sgd_update_multi_(arrays, grads, bufs, lr, momentum=mom, dampening=damp, weight_decay=wd,
                                    nesterov=nesterov, maximize=group["maximize"], first_step=first)
    _bump(ps)
    _remember(opt, group, ps, arrays, {"momentum_buffer": bufs} if mom else {})
    return True


# --------------------------------------------------------------------------- Adam, AdamW
def adam_step(opt, group, lr, b1, b2, eps, wd, decoupled):
    """One Adam/AdamW step (not AMSGrad) for ``group`` in one multi-tensor call; False (nothing changed) if
    not eligible."""
    plan = _planned(opt, group)
    if plan is not None:
        params = group["params"]
        grads = plan.grads(params)
        if grads is not None:
            mv = _planned_state(opt, plan, params, ("exp_avg", "exp_avg_sq"))
            step = None if mv is None else _common_step(opt.state, params)
            if step is not None:
                B.CPU_BACKEND.adam_update_multi_(plan.flats, grads, mv[0], mv[1], step, lr, beta1=b1, beta2=b2,
                                                 eps=eps, weight_decay=wd, decoupled=decoupled,
                                                 maximize=group["maximize"])
                _bump(params)
                return True
    return _adam_checked(opt, group, lr, b1, b2, eps, wd, decoupled)


def _common_step(state, params):
    """Advance every parameter's step count and return it, if they are all equal (else None, nothing changed)."""
    try:
        step = state[params[0]]["step"]
        for p in params:
            if state[p]["step"] != step:
                return None
    except KeyError:
        return None
    step += 1
    for p in params:
        state[p]["step"] = step
    return step


def _adam_checked(opt, group, lr, b1, b2, eps, wd, decoupled):
    got = _gather(group, "adam_update_multi_")
    if got is None:
        return False
    ps, arrays, grads = got
    if not ps:
        return True
    state = opt.state
    sts, ms, vs = [], [], []
    step = None
    for p, a in zip(ps, arrays):
        st = state.get(p)
        if st is None:
            s, m, v = 1, None, None
        else:
            s = st["step"] + 1
            m, v = st["exp_avg"]._data, st["exp_avg_sq"]._data
            if not (_ok(m, a.dtype, a.shape) and _ok(v, a.dtype, a.shape)):
                return False
        if step is None:
            step = s
        elif s != step:
            return False            # parameters at different step counts: per parameter
        sts.append(st)
        ms.append(m)
        vs.append(v)
    for i, st in enumerate(sts):
        if st is None:              # a new parameter: its state as the per-parameter path makes it
            a = arrays[i]
            ms[i], vs[i] = B.CPU_BACKEND.zeros(a.shape, a.dtype), B.CPU_BACKEND.zeros(a.shape, a.dtype)
            st = state[ps[i]] = {"step": 0, "exp_avg": Tensor._make(ms[i], None),
                                 "exp_avg_sq": Tensor._make(vs[i], None)}
        st["step"] = step
    B.CPU_BACKEND.adam_update_multi_(arrays, grads, ms, vs, step, lr, beta1=b1, beta2=b2, eps=eps,
                                     weight_decay=wd, decoupled=decoupled, maximize=group["maximize"])
    _bump(ps)
    _remember(opt, group, ps, arrays, {"exp_avg": ms, "exp_avg_sq": vs})
    return True
