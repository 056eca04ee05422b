"""The graph-mode namespace TENSOR_MATH binds like the backend (Note [tensor inputs] in ops/registry.py)."""
import numpy as np
import pytest

import tapegrad
from tapegrad.backend import CPU_BACKEND as BE
from tapegrad.backend.base import ArrayBackend
from tapegrad.ops.graph_math import TENSOR_MATH, backend_array, lift
from tapegrad.ops.registry import REGISTRY, apply, op

_R = np.random.default_rng(0)
X = _R.uniform(0.1, 0.9, (3, 4))           # positive: log, sqrt, reciprocal
Y = _R.uniform(0.1, 0.9, (3, 4))
W = _R.uniform(-1.0, 1.0, (4, 2))
ROW = _R.uniform(-1.0, 1.0, (4,))
B = X > 0.5
C = Y > 0.5

_UNARY = ("exp", "log", "log1p", "expm1", "sqrt", "abs", "sign", "sin", "cos", "tan", "tanh", "sigmoid", "erf",
          "reciprocal", "square", "floor", "ceil", "round", "isnan", "isinf", "isfinite", "sinh", "cosh", "arcsin",
          "arccos", "arctan", "arcsinh", "arctanh", "log2", "log10", "exp2", "trunc", "erfc", "erfinv", "lgamma",
          "digamma", "trigamma")
_BINARY = ("maximum", "minimum", "floor_divide", "remainder", "equal", "not_equal", "less", "less_equal", "greater",
           "greater_equal")

# For each backend method an op stands for: the arguments of a positional backend call.
CALLS = {n: (X,) for n in _UNARY}
CALLS.update({n: (X, Y) for n in _BINARY})
CALLS.update({n: (B, C) for n in ("logical_and", "logical_or", "logical_xor")})
CALLS.update({n: (X, 1, True) for n in ("sum", "prod", "max", "min", "argmax", "argmin")})
I = _R.integers(-8, 9, (3, 4))
J = _R.integers(0, 4, (3, 4))
CALLS.update({n: (X, Y) for n in ("arctan2", "hypot", "copysign", "fmod")})
CALLS.update({n: (I, J) for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift")})
CALLS.update({
    "invert": (I,),
    "arccosh": (X + 1,),
    "logical_not": (B,),
    "any": (B, 0, True),
    "all": (B, 1, False),
    "where": (B, X, Y),
    "clip": (X, 0.3, 0.7),
    "reshape": (X, (2, 6)),
    "transpose": (X, (1, 0)),
    "broadcast_to": (ROW, (3, 4)),
    "flip": (X, 1),
    "tile": (X, (2, 1)),
    "copy": (X,),
    "ascontiguousarray": (X,),
    "astype": (X, np.dtype(np.float32)),
    "getitem": (X, (slice(0, 2), np.array([3, 0, 3]))),
    "matmul": (X, W),
    "einsum": ("ij,jk->ik", X, W),
    "narrow": (X, 1, 1, 2),
    "pad_axis": (X, 1, 1, 2),
    "to_device": (X, "cpu", "cpu"),
    "scatter_add": ((3, 4), (np.array([0, 2, 0]),), ROW, np.dtype(np.float64)),
})

CALLS.update({      # convolution (ops/conv.py)
    "conv": (_R.uniform(-1, 1, (2, 4, 5, 4)), _R.uniform(-1, 1, (6, 2, 2, 3)), ROW[:1].repeat(6), (2, 1), (1, 0),
             (1, 1), 2),
    "conv_transpose": (_R.uniform(-1, 1, (2, 4, 3, 2)), _R.uniform(-1, 1, (4, 3, 2, 2)), None, (2, 1), (0, 1),
                       (1, 0), (1, 2), 2),
    "conv_weight": (_R.uniform(-1, 1, (2, 4, 5, 4)), _R.uniform(-1, 1, (2, 6, 2, 1)), (2, 3), (2, 1), (1, 0),
                    (1, 1), 2),
})

CALLS.update({      # scans and sorting (ops/scans.py, ops/sorting.py)
    "cumsum": (X, 1), "cumprod": (X, 0), "logcumsumexp": (X, 1), "argsort": (X, 1),
    "searchsorted": (np.sort(X, 1), Y, "right"),
})
_SPD = X[:3, :3] @ X[:3, :3].T + 3 * np.eye(3)
CALLS.update({      # dense linear algebra (ops/linalg_decomp.py)
    "inv": (_SPD,), "solve": (_SPD, X[:3]), "cholesky": (_SPD,), "matrix_exp": (X[:3, :3],),
})


def _math_names():
    """Every name TENSOR_MATH generates that is also a method of the backend interface."""
    return sorted(d.math for d in REGISTRY.values()
                  if d.math is not None and hasattr(ArrayBackend, d.math) and not d.math.startswith("_"))


def test_every_backend_twin_has_a_call():
    # A new op named after a backend method needs a row here, so the test below checks it.
    assert set(CALLS) == set(_math_names())


def _lifted(a):
    return tapegrad.tensor(a) if isinstance(a, np.ndarray) else a


@pytest.mark.parametrize("name", sorted(CALLS))
def test_graph_mode_call_binds_like_the_backend(name):
    args = CALLS[name]
    want = getattr(BE, name)(*args)
    got = getattr(TENSOR_MATH, name)(*[_lifted(a) for a in args])
    assert isinstance(got, tapegrad.Tensor)
    np.testing.assert_array_equal(got.numpy(), np.asarray(want))
    assert got.numpy().dtype == np.asarray(want).dtype


def test_positional_params_record_the_op():
    x = tapegrad.tensor(X, requires_grad=True)
    y = TENSOR_MATH.narrow(x, 1, 0, 2)
    assert y.grad_fn.name() == "NarrowBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.repeat([[1.0, 1.0, 0.0, 0.0]], 3, axis=0))


def test_too_many_positional_arguments_name_the_op():
    with pytest.raises(TypeError, match="narrow"):
        TENSOR_MATH.narrow(tapegrad.tensor(X), 1, 0, 2, 5)
    with pytest.raises(TypeError, match="axis"):
        TENSOR_MATH.narrow(tapegrad.tensor(X), 1, 0, 2, axis=1)


def test_an_op_not_standing_for_a_backend_method_is_absent():
    # setitem writes in place on the backend; its out-of-place op is kept out (math=None).
    assert REGISTRY["setitem"].math is None
    with pytest.raises(AttributeError, match="setitem"):
        TENSOR_MATH.setitem


@pytest.fixture
def narrow_vjp_op():
    """A test-only op (the first two columns, squared) whose VJP calls F.narrow/F.pad_axis positionally."""
    @op("_test_square_first_two", save="x", tensors=1)
    def square_first_two(be, x):
        return be.narrow(x, 1, 0, 2) ** 2

    @square_first_two.vjp
    def _(F, ctx, g, x):
        # d/dx of narrow(x)^2: 2 narrow(x) g, placed back; F.narrow positional as in an ordinary backward.
        return F.pad_axis(2 * F.narrow(x, 1, 0, 2) * g, 1, 0, ctx.shapes[0][1] - 2)

    try:
        yield square_first_two
    finally:
        REGISTRY.pop("_test_square_first_two", None)


def test_narrow_positional_under_create_graph(narrow_vjp_op):
    x = tapegrad.tensor(X, requires_grad=True)
    (gx,) = tapegrad.autograd.grad(apply(narrow_vjp_op, x).sum(), [x], create_graph=True)
    want = np.zeros_like(X)
    want[:, :2] = 2 * X[:, :2]
    np.testing.assert_allclose(gx.detach().numpy(), want)
    assert gx.requires_grad
    (ggx,) = tapegrad.autograd.grad(gx.sum(), [x])     # second order runs the recorded F.narrow
    want2 = np.zeros_like(X)
    want2[:, :2] = 2.0
    np.testing.assert_allclose(ggx.numpy(), want2)


def test_tensor_declarations_are_checked():
    with pytest.raises(ValueError, match="tensors"):
        @op("_test_bad_tensors", tensors=3)
        def bad(be, x, axis):
            return x
    with pytest.raises(ValueError, match="tensors"):
        @op("_test_bad_star", tensors="*")
        def bad_star(be, x):
            return x
    assert "_test_bad_tensors" not in REGISTRY and "_test_bad_star" not in REGISTRY


def test_backend_array_and_lift_in_both_modes():
    t = tapegrad.tensor(X)
    be, a = backend_array(t)
    assert be is BE and a is t._data
    assert backend_array(a) == (BE, a)
    mask = be.ones((3, 4), a.dtype)
    lifted = lift(TENSOR_MATH, mask, like=t)
    assert isinstance(lifted, tapegrad.Tensor) and not lifted.requires_grad
    assert lift(BE, mask, like=a).dtype == a.dtype


def test_the_primitives_note_lists_every_op():
    import re
    from tapegrad.ops import registry
    doc = registry.__doc__
    note = doc[doc.index("# Note [the primitives]"):doc.index("The tape record")]
    listed = set(re.findall(r"\b[a-z][a-z0-9_]*\b", note))
    registered = {n for n in REGISTRY if not n.startswith("_")}
    assert registered - listed == set()


_IDX = np.argmax(X, axis=1)[:, None]
_MASK = np.arange(4)[None, :] == _IDX
_BIAS = _R.uniform(-1.0, 1.0, (2,))
_TARGET = np.array([0, 3, 1])

# Ops that stand for no backend method: (tensors, params by name in the forward's order).
OTHER = {n: ((X, Y), {}) for n in ("add", "subtract", "multiply", "divide", "power", "clamp_min_tensor",
                                   "clamp_max_tensor", "binary_cross_entropy")}
OTHER.update({n: ((X,), {}) for n in ("neg", "rsqrt", "relu", "std_sqrt")})
OTHER.update({
    "clamp_tensor": ((X, Y * 0.5, Y + 0.2), {}),
    "max_dim": ((X, _MASK), {"axis": 1, "keepdims": False}),
    "min_dim": ((X, _MASK), {"axis": 1, "keepdims": True}),
    "one_hot_along": ((_IDX,), {"n": 4, "axis": 1}),
    "logsumexp": ((X,), {"axis": 1, "keepdims": True}),
    "vector_norm": ((X,), {"ord": 3.0, "axis": (1,), "keepdims": False}),
    "linear": ((X, W.T, _BIAS), {}),
    "softmax": ((X,), {"axis": 1}),
    "log_softmax": ((X,), {"axis": 0}),
    "cross_entropy": ((X, _TARGET, None), {"ignore_index": -100, "reduction": "sum", "label_smoothing": 0.1,
                                          "axis": 1}),
    "to_device": ((X,), {"device": "cpu", "src": "cpu"}),
})

OTHER["cum_extreme_index"] = ((X,), {"axis": 1, "largest": True})     # ops/scans.py


def test_every_registered_op_is_called_positionally():
    declared = {d.math for d in REGISTRY.values() if d.math is not None and not d.name.startswith("_")}
    assert declared - set(CALLS) - set(OTHER) == {"cat"}       # variadic: its params are keyword-only


@pytest.mark.parametrize("name", sorted(OTHER))
def test_positional_params_bind_like_keywords(name):
    tensors, params = OTHER[name]
    d = REGISTRY[name]
    ts = [_lifted(a) for a in tensors]
    got = getattr(TENSOR_MATH, name)(*ts, *params.values())
    want = apply(d, *ts, **params)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_cat_takes_any_number_of_tensors():
    got = TENSOR_MATH.cat(tapegrad.tensor(X), tapegrad.tensor(Y), tapegrad.tensor(X), axis=1, sizes=(4, 4, 4))
    np.testing.assert_array_equal(got.numpy(), np.concatenate([X, Y, X], axis=1))


def test_one_getitem_op_shares_the_version_only_for_basic_keys():
    x = tapegrad.tensor(X, requires_grad=True)
    basic, adv = x[0:2], x[[0, 2]]
    assert basic.grad_fn.op is adv.grad_fn.op is REGISTRY["getitem"]
    assert basic._version is x._version            # a view: an in-place change to it is one to x
    assert adv._version is not x._version          # a copy: changing it leaves x's saved value valid
    y = x.exp()                                    # saves its output, whose version is x's
    with tapegrad.no_grad():
        adv.detach().add_(1.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(X))


def test_linear_without_bias_is_the_same_op():
    x = tapegrad.tensor(X, requires_grad=True)
    w = tapegrad.tensor(W.T, requires_grad=True)
    out = tapegrad.nn.functional.linear(x, w)
    assert out.grad_fn.op is REGISTRY["linear"] and len(out.grad_fn.next_functions) == 2
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((3, 2)) @ W.T)
    np.testing.assert_allclose(w.grad.numpy(), np.ones((2, 3)) @ X)
