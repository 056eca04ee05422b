"""Reduction behaviour the registry-driven harnesses cannot express: return types, ties, zeros, errors."""
import math

import numpy as np
import pytest

import tapegrad
from tapegrad.testing import check_grad


def _others_product(a, axis):
    """d prod / d a_i, the product of every other element of the slice, by brute force."""
    out = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        sl = list(idx)
        sl[axis] = slice(None)
        row = a[tuple(sl)].copy()
        row[idx[axis]] = 1.0
        out[idx] = np.prod(row)
    return out


def test_max_dim_returns_values_and_indices():
    x = tapegrad.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    r = tapegrad.max(x, dim=1)
    values, indices = r
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert r.values is values and r.indices is indices
    assert indices.dtype is tapegrad.int64 and not indices.requires_grad
    assert type(r).__name__ == "max" and repr(r).startswith("tapegrad.return_types.max(")
    kept = x.min(dim=0, keepdim=True)
    assert kept.values.shape == (1, 3) and kept.indices.tolist() == [[0, 1, 0]]


def test_max_with_a_tensor_is_maximum():
    a, b = tapegrad.tensor([1.0, 4.0]), tapegrad.tensor([3.0, 2.0])
    assert tapegrad.max(a, b).tolist() == [3.0, 4.0]
    assert a.min(b).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("fn, expected", [
    (lambda x: x.max(), [[0.5, 0.5, 0.0], [0.0, 0.0, 0.0]]),
    (lambda x: tapegrad.amax(x, dim=1).sum(), [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]]),
    (lambda x: x.amin(0).sum(), [[0.0, 0.0, 0.5], [1.0, 1.0, 0.5]]),
    (lambda x: x.min(), [[0.0, 0.0, 0.25], [0.25, 0.25, 0.25]]),
])
def test_tied_extrema_share_the_gradient_in_full_reductions(fn, expected):
    x = tapegrad.tensor([[3.0, 3.0, 1.0], [1.0, 1.0, 1.0]], requires_grad=True)
    fn(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_max_dim_sends_the_gradient_to_the_returned_index():
    x = tapegrad.tensor([[3.0, 3.0, 1.0]], requires_grad=True)
    r = x.max(dim=1)
    r.values.sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0]] and r.indices.tolist() == [0]


def test_amax_gradient_stays_float32():
    x = tapegrad.tensor([[1.0, 2.0], [2.0, 2.0]], requires_grad=True)
    x.amax(dim=0).sum().backward()
    assert x.grad.dtype is tapegrad.float32


@pytest.mark.parametrize("a", [
    [[0.0, 2.0, 3.0], [1.5, -2.0, 0.5]],          # one zero in a slice
    [[0.0, 2.0, 0.0], [1.5, -2.0, 0.5]],          # two zeros in a slice
    [[0.0, 0.0, 0.0], [0.0, 1.0, 2.0]],
])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_prod_gradient_with_zeros_is_the_product_of_the_others(a, dim):
    a = np.asarray(a)
    x = tapegrad.tensor(a, dtype=tapegrad.float64, requires_grad=True)
    x.prod(dim).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), _others_product(a, dim % 2))


def test_prod_full_reduction_gradient_with_one_zero():
    a = np.array([2.0, 0.0, -3.0, 0.5])
    x = tapegrad.tensor(a, dtype=tapegrad.float64, requires_grad=True)
    x.prod().backward()
    np.testing.assert_allclose(x.grad.numpy(), _others_product(a, 0))


def test_prod_second_derivative_with_one_zero_per_slice():
    x = tapegrad.tensor([[0.0, 2.0, 3.0], [1.5, 0.0, 0.5]], dtype=tapegrad.float64)
    check_grad(lambda t: t.prod(1), x)


def test_prod_of_integers_is_int64():
    assert tapegrad.prod(tapegrad.tensor([[1, 2], [3, 4]], dtype=tapegrad.int32)).dtype is tapegrad.int64


def test_argmax_argmin_any_all_are_not_recorded():
    x = tapegrad.tensor([[1.0, 5.0], [4.0, 2.0]], requires_grad=True)
    for r in (x.argmax(), x.argmin(dim=0), tapegrad.argmax(x, 1, keepdim=True)):
        assert r.dtype is tapegrad.int64 and not r.requires_grad
    assert x.argmax().item() == 1 and tapegrad.argmax(x, keepdim=True).shape == (1, 1)
    assert (x > 3).any().dtype is tapegrad.bool and (x > 3).any(dim=1).tolist() == [True, True]
    assert (x > 1).all(dim=0).tolist() == [False, True] and not (x > 3).all(1).requires_grad


def test_var_std_corrections():
    x = tapegrad.tensor([1.0, 2.0, 3.0, 6.0])
    a = np.array([1.0, 2.0, 3.0, 6.0])
    assert math.isclose(x.var().item(), a.var(ddof=1), rel_tol=1e-6)
    assert math.isclose(x.var(correction=0).item(), a.var(), rel_tol=1e-6)
    assert math.isclose(tapegrad.var(x, False).item(), a.var(), rel_tol=1e-6)
    assert math.isclose(x.std(unbiased=False).item(), a.std(), rel_tol=1e-6)
    assert math.isclose(x.var(correction=2).item(), a.var(ddof=2), rel_tol=1e-6)
    assert x.var().dtype is tapegrad.float32
    with np.errstate(all="ignore"):
        assert math.isnan(tapegrad.tensor([1.0]).var().item())
    with pytest.raises(RuntimeError, match="var.*floating point"):
        tapegrad.tensor([1, 2]).var()


def test_logsumexp_is_stable_and_its_gradient_is_softmax():
    x = tapegrad.tensor([[1000.0, 1000.0], [-1000.0, 0.0]], requires_grad=True)
    y = tapegrad.logsumexp(x, dim=1)
    assert np.allclose(y.detach().numpy(), [1000.0 + math.log(2.0), 0.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0.5], [0.0, 1.0]], atol=1e-4)  # ulp of 1000 in float32
    neg = tapegrad.tensor([-math.inf, -math.inf]).logsumexp(0)
    assert neg.item() == -math.inf
    assert tapegrad.logsumexp(tapegrad.zeros(2, 0), 1).tolist() == [-math.inf, -math.inf]


@pytest.mark.parametrize("p", ["fro", 2, 3, 1.5, 1])
def test_norm_gradient_at_zero_is_zero(p):
    x = tapegrad.zeros(2, 3, requires_grad=True)
    y = tapegrad.norm(x, p=p, dim=1)
    y.sum().backward()
    assert y.tolist() == [0.0, 0.0] and x.grad.tolist() == [[0.0] * 3] * 2


def test_norm_orders_and_errors():
    x = tapegrad.tensor([[3.0, -4.0], [0.0, 1.0]])
    assert x.norm().item() == pytest.approx(math.sqrt(26))
    assert x.norm(p=math.inf).item() == 4.0 and x.norm(p=-math.inf, dim=1).tolist() == [3.0, 0.0]
    assert x.norm(p=0).item() == 3.0 and x.norm(p=1, dim=0, keepdim=True).shape == (1, 2)
    with pytest.raises(RuntimeError, match="norm.*'nuc'"):
        x.norm(p="nuc")
    with pytest.raises(RuntimeError, match="norm.*floating point"):
        tapegrad.tensor([1, 2]).norm()


def test_reduction_errors_name_the_op():
    x = tapegrad.zeros(2, 3)
    with pytest.raises(IndexError, match=r"sum: dimension out of range .*got 2"):
        x.sum(2)
    with pytest.raises(RuntimeError, match="amax: dim 1 appears multiple times"):
        x.amax((1, -1))
    with pytest.raises(IndexError, match=r"max\(\): expected a non-empty reduction.*\(0, 3\)"):
        tapegrad.zeros(0, 3).max()
    with pytest.raises(IndexError, match="argmin"):
        tapegrad.zeros(2, 0).argmin(dim=1)
    assert tapegrad.zeros(0, 3).amax(dim=1).shape == (0,)


def _max_min_gradients(device):
    """First derivatives (taken with create_graph) of the tie-splitting reductions on ``device``."""
    x0 = [[3.0, 1.0, 3.0], [0.0, 0.0, 0.0]]
    out = []
    for f in (lambda x: x.max(), lambda x: x.amin(dim=1), lambda x: tapegrad.amax(x, dim=0, keepdim=True),
              lambda x: x.norm(p=float("inf"))):
        x = tapegrad.tensor(x0, dtype=tapegrad.float64, device=device, requires_grad=True)
        g, = tapegrad.autograd.grad(f(x).sum(), [x], create_graph=True)
        out.append(g.detach().cpu().numpy().tolist())
    return out


def test_tie_splitting_vjp_under_create_graph_stays_on_cuda():
    """The tie count is built on the input's device (numba's CUDA simulator here), not from a host constant."""
    from simulated import json_from_simulated_cuda
    got = json_from_simulated_cuda("_max_min_gradients('cuda')", "from test_reduction_semantics import _max_min_gradients")
    assert got == _max_min_gradients("cpu")


@pytest.mark.parametrize("name", ["any", "all"])
def test_any_all_over_no_dims_reduce_nothing_like_torch(name):
    torch = pytest.importorskip("torch")
    x = [[1.0, -1.0, 2.0], [0.0, 3.0, -0.5]]
    for dim in ((), []):
        got = getattr(tapegrad, name)(tapegrad.tensor(x) > 0, dim=dim)
        want = getattr(torch, name)(torch.tensor(x) > 0, dim=dim)
        assert got.tolist() == want.tolist() and got.dtype is tapegrad.bool
