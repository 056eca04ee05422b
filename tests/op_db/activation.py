"""OpSpecs for the activation functions of nn.functional (tapegrad/nn/_functional/activation.py).

Each spec keeps random draws away from its kinks (``near``) and checks the kinks themselves against
PyTorch with ``Example(kink=True)`` (Note [activation kinks]).
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
from tapegrad.nn import functional as TF
from tapegrad.nn._functional.activation import _gumbel_softmax

from . import Example, OpSpec, add
from .elementwise import near, unary

_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)


def _f(a):
    return np.asarray(a, np.float64)


def _kw(**choices):
    return lambda shapes: st.fixed_dictionaries({k: st.sampled_from(v) for k, v in choices.items()})


def _torch_F(name):
    return lambda torch, *xs, **kw: getattr(torch.nn.functional, name)(*xs, **kw)


def _elu_ref(x, alpha=1.0, scale=1.0, input_scale=1.0):
    a = _f(x)
    return (scale * np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0) * input_scale))).astype(x.dtype)


def _softplus_ref(x, beta=1.0, threshold=20.0):
    a = _f(x)
    return np.where(a * beta > threshold, a, np.logaddexp(0, a * beta) / beta).astype(x.dtype)


# name -> (fn, ref, kwargs strategy, kinks (the points to avoid; kwargs give them), kink example inputs, extra)
def _unary(name, ref, kwargs=None, kinks=lambda **kw: (), kink_x=(), domain=(-4.0, 4.0), covers=("where",),
           torch_name=None, examples=(), **extra):
    kink_examples = tuple(Example([list(kink_x)], kw, kink=True) for kw in extra.pop("kink_kwargs", ({},)))
    add(OpSpec(name, lambda x, **kw: getattr(TF, name)(x, **kw), ref, unary(), kwargs,
               domain=domain, avoid=lambda x, **kw: any(near(x, k) for k in kinks(**kw)),
               covers=covers, examples=(kink_examples if kink_x else ()) + tuple(examples),
               torch_fn=_torch_F(torch_name or name), **extra))


_unary("leaky_relu", lambda x, negative_slope=0.01: np.where(_f(x) > 0, x, _f(x) * negative_slope).astype(x.dtype),
       _kw(negative_slope=[0.01, 0.2, 1.5]), lambda **kw: (0.0,), (-1.0, 0.0, 2.0), covers=("where", "multiply"),
       kink_kwargs=({}, {"negative_slope": 0.2}))
_unary("relu6", lambda x: np.clip(x, 0, 6).astype(x.dtype), None, lambda **kw: (0.0, 6.0),
       (-1.0, 0.0, 3.0, 6.0, 7.0), domain=(-2.0, 8.0), covers=("where", "clip"))
_unary("hardtanh", lambda x, min_val=-1.0, max_val=1.0: np.clip(x, min_val, max_val).astype(x.dtype),
       _kw(min_val=[-1.0, -2.0], max_val=[1.0, 0.5]), lambda min_val=-1.0, max_val=1.0, **kw: (min_val, max_val),
       (-2.0, -1.0, 0.0, 0.5, 1.0, 2.0), covers=("where", "clip"), kink_kwargs=({}, {"min_val": -2.0, "max_val": 0.5}))
_unary("elu", _elu_ref, _kw(alpha=[1.0, 0.5, 2.0]), lambda **kw: (0.0,), (-1.0, 0.0, 1.0),
       domain=(-6.0, 6.0), covers=("where", "clip", "expm1", "multiply"), kink_kwargs=({}, {"alpha": 0.5}),
       examples=(Example([[-1000.0, 1000.0, -50.0]]),))
_unary("selu", lambda x: _elu_ref(x, *_SELU), None, lambda **kw: (0.0,), (-1.0, 0.0, 1.0),
       covers=("where", "clip", "expm1", "multiply"), examples=(Example([[-1000.0, 1000.0]]),))
_unary("celu", lambda x, alpha=1.0: _elu_ref(x, alpha, 1.0, 1.0 / alpha), _kw(alpha=[1.0, 0.5, 2.0]),
       lambda **kw: (0.0,), (-1.0, 0.0, 1.0), covers=("where", "clip", "expm1", "multiply"),
       kink_kwargs=({}, {"alpha": 2.0}), examples=(Example([[-1000.0, 1000.0]], {"alpha": 0.5}),))
_unary("silu", lambda x: (_f(x) / (1 + np.exp(-_f(x)))).astype(x.dtype), domain=(-8.0, 8.0),
       covers=("sigmoid", "multiply"))
_unary("mish", lambda x: (_f(x) * np.tanh(np.logaddexp(0, _f(x)))).astype(x.dtype), domain=(-8.0, 8.0),
       covers=("tanh", "exp", "log", "relu"), examples=(Example([[-1000.0, 1000.0, 0.0]]),))
_unary("softplus", _softplus_ref, _kw(beta=[1.0, 2.0, 0.5], threshold=[20.0, 1.0]),
       lambda beta=1.0, threshold=20.0, **kw: (threshold / beta,), (0.5, 1.0, 2.0), domain=(-30.0, 30.0),
       covers=("exp", "log", "relu", "where"), kink_kwargs=({"threshold": 1.0}, {"beta": 2.0, "threshold": 1.0}),
       examples=(Example([[-1000.0, 1000.0, 0.0]]), Example([[-1000.0, 15.0, 0.0]], {"beta": 2.0})))
_unary("logsigmoid", lambda x: (-np.logaddexp(0, -_f(x))).astype(x.dtype), domain=(-40.0, 40.0),
       covers=("exp", "log", "relu"), examples=(Example([[-1000.0, 1000.0, 0.0]]),))
_unary("softsign", lambda x: (_f(x) / (1 + np.abs(_f(x)))).astype(x.dtype), None, lambda **kw: (0.0,),
       (-1.0, 0.0, 1.0), covers=("abs", "divide"))
_unary("hardswish", lambda x: (_f(x) * np.clip(_f(x) + 3, 0, 6) / 6).astype(x.dtype), None,
       lambda **kw: (-3.0, 3.0), (-4.0, -3.0, 0.0, 3.0, 4.0), domain=(-5.0, 5.0), covers=("where", "multiply"))
# (no interior point among the kinks: torch 2.13's gradient there is 1/6 rounded to float32, TOLERANCES in
# tests/ops/test_op_torch_parity.py)
_unary("hardsigmoid", lambda x: (np.clip(_f(x) + 3, 0, 6) / 6).astype(x.dtype), None, lambda **kw: (-3.0, 3.0),
       (-4.0, -3.0, 3.0, 4.0), domain=(-5.0, 5.0), covers=("where", "multiply"))
_unary("tanhshrink", lambda x: (_f(x) - np.tanh(_f(x))).astype(x.dtype), covers=("tanh", "subtract"),
       fwd_atol=1e-5)
_unary("softshrink", lambda x, lambd=0.5: np.where(_f(x) > lambd, _f(x) - lambd, np.where(_f(x) < -lambd,
                                                   _f(x) + lambd, 0)).astype(x.dtype),
       _kw(lambd=[0.5, 0.0, 1.5]), lambda lambd=0.5, **kw: (-lambd, lambd), (-1.0, -0.5, 0.0, 0.5, 1.0),
       covers=("where", "subtract", "add"), kink_kwargs=({}, {"lambd": 0.0}))
_unary("hardshrink", lambda x, lambd=0.5: np.where(np.abs(_f(x)) > lambd, x, 0).astype(x.dtype),
       _kw(lambd=[0.5, 0.0, 1.5]), lambda lambd=0.5, **kw: (-lambd, lambd), (-1.0, -0.5, 0.0, 0.5, 1.0),
       covers=("where",), kink_kwargs=({}, {"lambd": 0.0}))
_unary("threshold", lambda x, threshold, value: np.where(_f(x) > threshold, x, value).astype(x.dtype),
       _kw(threshold=[0.0, 1.0], value=[-1.0, 0.0, 2.5]), lambda threshold, **kw: (threshold,),
       (-1.0, 0.0, 1.0, 2.0), covers=("where",), kink_kwargs=({"threshold": 1.0, "value": 2.5},
                                                               {"threshold": 0.0, "value": 0.0}))


# ----------------------------------------------------------------- prelu, glu, softmin, gumbel_softmax

@st.composite
def prelu_shapes(draw):
    kind = draw(st.integers(0, 2))
    if kind == 0:                                   # one slope for any input
        return draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)), (1,)
    c = draw(st.integers(1, 3))
    x = (draw(st.integers(0, 3)), c) + tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return x, (c,)


def _prelu_ref(x, w):
    a = _f(x)
    wb = np.reshape(w, (-1,) + (1,) * (a.ndim - 2)) if w.size > 1 else np.reshape(w, ())
    return np.where(a > 0, a, wb * a).astype(x.dtype)


add(OpSpec("prelu", lambda x, w: TF.prelu(x, w), _prelu_ref, prelu_shapes(), avoid=lambda x, w: near(x, 0.0),
           covers=("where", "multiply", "reshape"),
           examples=(Example([[[-1.0, 0.0], [2.0, 0.0]], [0.25, -0.5]], kink=True),
                     Example([[-1.0, 0.0, 3.0], [0.25]], kink=True)),
           torch_fn=lambda torch, x, w: torch.nn.functional.prelu(x, w)))


@st.composite
def glu_shapes(draw):
    shape = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)))
    d = draw(st.integers(0, len(shape) - 1))
    shape[d] *= 2
    return (tuple(shape),), d


def _glu_ref(x, dim=-1):
    a, b = np.split(_f(x), 2, axis=dim)
    return (a / (1 + np.exp(-b))).astype(x.dtype)


add(OpSpec("glu", lambda x, **kw: TF.glu(x, **kw), _glu_ref, glu_shapes().map(lambda s: s[0]),
           lambda shapes: st.sampled_from([d for d in range(-len(shapes[0]), len(shapes[0]))
                                           if shapes[0][d] % 2 == 0]).map(lambda d: {"dim": d}),
           covers=("narrow", "sigmoid", "multiply"), torch_fn=_torch_F("glu")))


def _softmin_ref(x, dim):
    a = -_f(x)
    if a.ndim == 0:
        return np.ones_like(x)
    e = np.exp(a - a.max(axis=dim, keepdims=True)) if a.size else a
    return (e / e.sum(axis=dim, keepdims=True)).astype(x.dtype) if a.size else x.copy()


add(OpSpec("softmin", lambda x, dim: TF.softmin(x, dim), _softmin_ref,
           st.tuples(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
           lambda s: st.integers(-max(len(s[0]), 1), max(len(s[0]), 1) - 1).map(lambda d: {"dim": d}),
           covers=("softmax", "neg"), torch_fn=_torch_F("softmin")))


def _gumbel_noise(shape):
    """The same Gumbel(0, 1) noise for every dtype and device: float64 draws of a fixed seed."""
    tapegrad.manual_seed(1234)
    return -np.log(-np.log(tapegrad.rand(*shape, dtype=tapegrad.float64).numpy()))


def _gumbel(x, tau=1.0, hard=False, dim=-1):
    """gumbel_softmax on the CPU's noise, moved to x's device (each device's generator draws its own);
    tests/nn/test_activation_modules.py checks that gumbel_softmax draws this noise itself."""
    g = tapegrad.tensor(_gumbel_noise(tuple(x.shape)), dtype=x.dtype).to(x.device)
    return _gumbel_softmax(x, g, tau, hard, dim)


def _gumbel_ref(x, tau=1.0, hard=False, dim=-1):
    z = (_f(x) + _gumbel_noise(x.shape)) / tau
    e = np.exp(z - z.max(axis=dim, keepdims=True))
    y = e / e.sum(axis=dim, keepdims=True)
    if hard:
        y = (np.arange(x.shape[dim]).reshape([-1 if i == dim % x.ndim else 1 for i in range(x.ndim)])
             == np.expand_dims(y.argmax(axis=dim), dim)).astype(np.float64)
    return y.astype(x.dtype)


def _gumbel_torch(torch, x, tau=1.0, hard=False, dim=-1):
    """PyTorch's formula on the same noise (its own draws differ): soft, or straight-through hard."""
    g = torch.tensor(_gumbel_noise(tuple(x.shape)), dtype=x.dtype)
    y = torch.softmax((x + g) / tau, dim)
    if not hard:
        return y
    onehot = torch.zeros_like(y).scatter_(dim, y.max(dim, keepdim=True)[1], 1.0)
    return onehot - y.detach() + y


def _gumbel_kw(hard):
    return lambda s: st.fixed_dictionaries({"tau": st.sampled_from([1.0, 0.5]), "hard": st.just(hard),
                                            "dim": st.integers(-len(s[0]), len(s[0]) - 1)})


_GUMBEL_SHAPES = st.tuples(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
add(OpSpec("gumbel_softmax", _gumbel, _gumbel_ref, _GUMBEL_SHAPES, _gumbel_kw(False),
           covers=("softmax", "log", "add", "divide"), fwd_atol=1e-5, fwd_rtol=1e-4, torch_fn=_gumbel_torch))
# hard=True: a one-hot value with the soft sample's gradient (straight through), which finite
# differences of the value cannot see: only values here (the gradient: tests/nn/test_activation_modules.py).
add(OpSpec("gumbel_softmax_hard", _gumbel, _gumbel_ref, _GUMBEL_SHAPES, _gumbel_kw(True), grad=False,
           gradgrad=False, avoid=lambda x, hard=False, **kw: _near_tie(x, **kw), fwd_atol=1e-5, fwd_rtol=1e-4,
           torch_fn=_gumbel_torch))


def _near_tie(x, tau=1.0, dim=-1):
    """Hard samples whose two largest perturbed logits nearly tie: the argmax flips under finite differences."""
    z = np.sort((_f(x) + _gumbel_noise(x.shape)) / tau, axis=dim)
    return x.shape[dim] > 1 and bool(np.any(np.take(z, -1, axis=dim) - np.take(z, -2, axis=dim) < 1e-3))
