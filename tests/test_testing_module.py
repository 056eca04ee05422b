"""tapegrad.testing: the strategies draw what they promise, check_grad passes and fails when it should."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tapegrad as tg
from tapegrad.autograd.gradcheck import GradcheckError
from tapegrad.testing import (broadcastable_shapes, check_grad, index_expressions, reduction_dims, shapes,
                              tensors)


# ----------------------------------------------------------------- strategies

@given(shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
def test_shapes_respect_bounds(s):
    assert 1 <= len(s) <= 3 and all(2 <= n <= 4 for n in s)


@settings(max_examples=60)
@given(broadcastable_shapes(3, max_dims=3))
def test_broadcastable_shapes_broadcast(ss):
    assert len(ss) == 3
    np.broadcast_shapes(*ss)


def test_broadcastable_shapes_include_size_one_and_empty_dims():
    from hypothesis import find
    find(broadcastable_shapes(2), lambda ss: 0 in ss[0] + ss[1])
    find(broadcastable_shapes(2), lambda ss: len(ss[0]) == 2 and ss[0][0] == 1 and ss[1][-2:-1] not in ((), (1,)))
    find(broadcastable_shapes(2), lambda ss: len(ss[0]) != len(ss[1]))


@given(st.data())
def test_tensors_respect_shape_dtype_domain_and_grad(data):
    dtype = data.draw(st.sampled_from([tg.float32, tg.float64, tg.int64, tg.int32, tg.bool]))
    t = data.draw(tensors(shapes(max_dims=3), dtype=dtype, elements=(-3, 3),
                          requires_grad=dtype.is_floating_point))
    assert isinstance(t, tg.Tensor) and t.dtype is dtype and t.is_leaf
    assert t.requires_grad == dtype.is_floating_point
    a = t.detach().numpy()
    if dtype is not tg.bool and a.size:
        assert a.min() >= -3 and a.max() <= 3
    assert np.all(np.isfinite(a))


def test_tensors_can_be_non_contiguous():
    from hypothesis import find
    t = find(tensors(shapes(min_dims=2, max_dims=2, min_side=2), contiguous=False), lambda t: True)
    assert not t._data.flags.c_contiguous
    y = (t * 2).sum()       # ops and backward accept strided leaves
    assert y.item() == pytest.approx(2 * float(t.detach().numpy().sum()), rel=1e-5)
    find(tensors((3, 2)), lambda t: t._data.strides[-1] == 2 * t._data.itemsize)     # strided views occur


@settings(max_examples=100)
@given(st.data())
def test_index_expressions_are_valid_numpy_keys(data):
    shape = data.draw(shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    key = data.draw(index_expressions(shape))
    np.empty(shape)[key]          # raises IndexError if the key were invalid


def test_index_expressions_cover_every_kind():
    from hypothesis import find

    def has(pred):
        return lambda k: any(pred(e) for e in (k if isinstance(k, tuple) else (k,)))
    for pred in (lambda e: e is None, lambda e: e is Ellipsis, lambda e: isinstance(e, slice),
                 lambda e: isinstance(e, int), lambda e: isinstance(e, np.ndarray) and e.dtype == bool,
                 lambda e: isinstance(e, np.ndarray) and e.dtype == np.int64):
        find(index_expressions((3, 4)), has(pred))


@given(st.integers(0, 4).flatmap(lambda n: st.tuples(st.just(n), reduction_dims(n))))
def test_reduction_dims_are_valid(case):
    ndim, (dim, keepdim) = case
    assert isinstance(keepdim, bool)
    if dim is None:
        return
    dims = dim if isinstance(dim, tuple) else (dim,)
    assert all(-ndim <= d < ndim for d in dims)
    assert len({d % ndim for d in dims}) == len(dims)
    np.sum(np.ones((2,) * ndim), axis=dim, keepdims=keepdim)


# ----------------------------------------------------------------- check_grad

def test_check_grad_passes_on_correct_gradients_and_casts_to_float64():
    seen = []

    def f(x, y, idx):
        seen.append((x.dtype, y.dtype, idx.dtype))
        return (x * y).tanh()[idx], (x.exp() * 2).sum()

    x, y = tg.randn(3, 2), tg.randn(2)
    check_grad(f, x, y, tg.tensor([0, 2, 2]))
    assert seen[0] == (tg.float64, tg.float64, tg.int64)
    assert x.dtype is tg.float32 and not x.requires_grad        # the caller's tensors are untouched


def test_check_grad_accepts_numpy_inputs_and_empty_tensors():
    check_grad(lambda a: a * a, np.array([0.5, -1.0]))
    check_grad(lambda a: (a * 3).sum(), tg.ones(0, 3))


@pytest.fixture
def custom_op():
    """Register test-only ops; unregister them afterwards."""
    from tapegrad.ops.registry import REGISTRY, apply, op
    names = []

    def make(name, vjp):
        @op(name, save="x", promote="float")
        def fwd(be, x):
            return be.sin(x)
        fwd.vjp(vjp)
        names.append(name)
        return lambda x: apply(fwd, x)
    try:
        yield make
    finally:
        for n in names:
            REGISTRY.pop(n, None)


def test_check_grad_reports_the_worst_element_of_a_wrong_vjp(custom_op):
    broken = custom_op("_test_sin_wrong", lambda F, ctx, g, x: g * F.where(x > 1, 0.5, F.cos(x)))
    x = tg.tensor([0.1, 1.5, 0.3, -0.2])
    with pytest.raises(AssertionError) as e:
        check_grad(broken, x)
    import re
    msg = str(e.value)
    assert "first derivative" in msg and "input 0 at index (1,)" in msg
    # The elements compared are those of J^T v: v[1] * 0.5 (analytic) against v[1] * cos(1.5) (numeric).
    ana, num = map(float, re.search(r"index \(1,\): analytic (\S+) vs numeric (\S+)", msg).groups())
    assert ana / num == pytest.approx(0.5 / np.cos(1.5), rel=1e-6)


def test_check_grad_catches_a_vjp_that_is_wrong_only_under_create_graph(custom_op):
    # The x factor is cut from the graph under create_graph, so the second derivative is missing.
    def vjp(F, ctx, g, x):
        x = x.detach() if isinstance(x, tg.Tensor) else x
        return g * F.cos(x)
    broken = custom_op("_test_sin_no_gradgrad", vjp)
    x = tg.tensor([0.4, -1.2, 2.0])
    check_grad(broken, x, order=1)
    with pytest.raises(AssertionError, match="second derivative mismatch.*worst element"):
        check_grad(broken, x, order=2)


def test_check_grad_catches_a_wrong_composite():
    with pytest.raises(AssertionError, match=r"worst element: input 1 at index \(0, 1\)"):
        check_grad(lambda a, b: a * b + b.detach() * b[:, 1:2] ** 2, tg.randn(2), tg.tensor([[0.5, 2.0]]))


def test_check_grad_full_jacobian_names_the_entry():
    # check_grad and gradcheck share the full-Jacobian comparison; its report names the worst entry
    # (analytic diag(x) against numeric diag(2 x): worst where x is largest).
    def f(x):
        return x * x.detach()
    with pytest.raises(GradcheckError, match=r"worst element \[output element 1, input element 1\]"):
        tg.autograd.gradcheck(f, (tg.tensor([0.5, 3.0], dtype=tg.float64, requires_grad=True),))


def test_check_grad_rejects_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        check_grad(lambda a: a, tg.ones(2), order=3)
    with pytest.raises(ValueError, match="no floating-point tensor"):
        check_grad(lambda a: a * 1.0, tg.tensor([1, 2]))
    with pytest.raises(AssertionError, match="non-finite"):
        check_grad(lambda a: a * 2, tg.tensor([float("inf"), 2.0]))


# ----------------------------------------------------------------- autograd.gradcheck / gradgradcheck

def test_gradcheck_and_gradgradcheck_pass_on_correct_functions():
    x = tg.tensor([[0.3, -0.7], [1.1, 0.2]], dtype=tg.float64, requires_grad=True)
    y = tg.tensor([0.5, 1.5], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a, b: (a * b).sigmoid() / b, (x, y))
    assert tg.autograd.gradgradcheck(lambda a, b: (a * b).sin() * a, (x, y))


def test_gradcheck_fails_on_a_wrong_gradient(custom_op):
    broken = custom_op("_test_sin_neg", lambda F, ctx, g, x: -g * F.cos(x))
    x = tg.tensor([0.2, 0.9], dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        tg.autograd.gradcheck(broken, (x,))
    assert tg.autograd.gradcheck(broken, (x,), raise_exception=False) is False


def test_gradgradcheck_fails_on_a_wrong_second_derivative(custom_op):
    def vjp(F, ctx, g, x):
        x = x.detach() if isinstance(x, tg.Tensor) else x
        return g * F.cos(x)
    broken = custom_op("_test_sin_detached", vjp)
    x = tg.tensor([0.2, 0.9], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(broken, (x,))
    with pytest.raises(GradcheckError):
        tg.autograd.gradgradcheck(broken, (x,))


def test_gradcheck_argument_errors_and_float32_warning():
    with pytest.raises(ValueError, match="require gradient"):
        tg.autograd.gradcheck(lambda a: a * 2, (tg.ones(2),))
    with pytest.warns(UserWarning, match="float64"):
        tg.autograd.gradcheck(lambda a: a * 2, (tg.ones(2, requires_grad=True),), eps=1e-2, atol=1e-3)
