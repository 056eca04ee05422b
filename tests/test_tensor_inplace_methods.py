"""In-place variants of every method that lacked one, and apply_/map_/resize_/sum_to_size/put_/put/masked_scatter,
against torch: values, gradients through the in-place write, versions and errors."""
import numpy as np
import pytest

import tapegrad
from tapegrad import _tensor_inplace

torch = pytest.importorskip("torch")

NAMES = sorted(_tensor_inplace.METHODS)


def _sample(mod, name):
    x, args = _tensor_inplace._SAMPLES.get(name[:-1], (_tensor_inplace._F, "()"))
    env = {"tapegrad": mod}
    return eval(x, env), eval(args, env)


@pytest.mark.parametrize("name", NAMES)
def test_inplace_variant_matches_torch(name):
    x, args = _sample(tapegrad, name)
    tx, targs = _sample(torch, name)
    v = x._version[0]
    out = getattr(x, name)(*args)
    want = getattr(tx, name)(*targs)
    assert out is x and x._version[0] == v + 1
    assert str(x.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    np.testing.assert_allclose(x.numpy(), want.numpy(), rtol=1e-6, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("name", ["exp_", "sigmoid_", "tanh_", "sqrt_", "reciprocal_", "sin_", "clamp_min_",
                                  "pow_", "lerp_", "addcmul_", "index_add_", "addmm_", "atan2_"])
def test_gradient_flows_through_the_inplace_write_as_torch(name):
    x, args = _sample(tapegrad, name)
    tx, targs = _sample(torch, name)
    leaf = x.clone().requires_grad_()
    tleaf = tx.clone().requires_grad_()
    y = leaf * 1.5
    ty = tleaf * 1.5
    getattr(y, name)(*args)
    getattr(ty, name)(*targs)
    assert y.grad_fn is not None
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), tleaf.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_inplace_variants_keep_torch_rules():
    with pytest.raises(RuntimeError, match="leaf Variable"):
        tapegrad.ones(2, requires_grad=True).exp_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        tapegrad.tensor([4, 9]).sqrt_()
    with pytest.raises(RuntimeError):
        torch.tensor([4, 9]).sqrt_()
    x = tapegrad.tensor([2.0, 3.0])
    assert x.mul_(x).tolist() == [4.0, 9.0]                      # self as the other operand
    y = tapegrad.tensor([2.0, 3.0])
    assert y.pow_(y).tolist() == [4.0, 27.0]
    base = tapegrad.tensor([[1.0, 4.0], [9.0, 16.0]])
    base[1].sqrt_()                                             # a view writes into its base
    assert base.tolist() == [[1.0, 4.0], [3.0, 4.0]]
    a = tapegrad.ones(2, requires_grad=True)
    e = a.exp()
    s = e.sin()                                                 # sin saves its input e
    e.exp_()
    with pytest.raises(RuntimeError, match="exp_"):             # the version check names the in-place op
        s.sum().backward()


def test_apply_and_map_as_torch():
    x = tapegrad.tensor([1.0, 2.0, 3.0])
    v = x._version[0]
    assert x.apply_(lambda t: t * t + 1).tolist() == [2.0, 5.0, 10.0] and x._version[0] == v + 1
    assert tapegrad.ones(3, dtype=tapegrad.int64).apply_(lambda t: t * 2.5).tolist() == \
        torch.ones(3, dtype=torch.int64).apply_(lambda t: t * 2.5).tolist()
    with pytest.raises(RuntimeError, match="requires grad"):
        tapegrad.ones(2, requires_grad=True).apply_(abs)
    m = tapegrad.ones(2, 3).map_(tapegrad.tensor([1.0, 2.0, 3.0]), lambda a, b: a * 10 + b)
    assert m.tolist() == torch.ones(2, 3).map_(torch.tensor([1.0, 2.0, 3.0]), lambda a, b: a * 10 + b).tolist()
    with pytest.raises(TypeError, match="Long"):
        tapegrad.ones(3).map_(tapegrad.ones(3, dtype=tapegrad.int64), max)
    with pytest.raises(RuntimeError):
        tapegrad.ones(3).map_(tapegrad.ones(2, 3), max)


def test_resize_as_torch():
    x = tapegrad.arange(6.0)
    y = x.resize_(2, 2)
    assert y is x and x.tolist() == torch.arange(6.0).resize_(2, 2).tolist()
    x = tapegrad.arange(6.0)
    x.resize_((2, 4))
    assert tuple(x.shape) == (2, 4) and x[0].tolist() == [0.0, 1.0, 2.0, 3.0] and x[1, :2].tolist() == [4.0, 5.0]
    x = tapegrad.arange(6.0)
    x.resize_(3)
    x[0] = 7.0
    assert x.tolist() == [7.0, 1.0, 2.0]
    for make in (lambda m: m.ones(3, requires_grad=True), lambda m: m.ones(3, requires_grad=True) * 1):
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            make(tapegrad).resize_(4)
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            make(torch).resize_(4)


@pytest.mark.parametrize("size", [(1, 3), (3,), (2, 1), (1, 1), (2, 3), (4, 3), (2, 2)])
def test_sum_to_size_as_torch(size):
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    try:
        want = torch.from_numpy(a).sum_to_size(*size)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="is not expandable"):
            tapegrad.tensor(a).sum_to_size(*size)
        return
    x = tapegrad.tensor(a, requires_grad=True)
    got = x.sum_to_size(size)
    assert got.tolist() == want.tolist()
    got.sum().backward()
    assert x.grad.tolist() == np.ones((2, 3)).tolist()


def test_put_and_put_inplace_as_torch():
    for idx, src, acc in [([1, -1], [9.0, 8.0], False), ([1, 1, 4], [9.0, 8.0, 1.0], True),
                          ([[0], [5]], [[2.0], [3.0]], False)]:
        ours = tapegrad.zeros(2, 3).put_(tapegrad.tensor(idx), tapegrad.tensor(src), accumulate=acc)
        theirs = torch.zeros(2, 3).put_(torch.tensor(idx), torch.tensor(src), accumulate=acc)
        assert ours.tolist() == theirs.tolist()
        assert tapegrad.zeros(2, 3).put(tapegrad.tensor(idx), tapegrad.tensor(src), acc).tolist() == theirs.tolist()
    for idx, src, exc in [([6], [9.0], IndexError), ([1, 2], [9.0], IndexError),
                          ([1.0, 2.0], [9.0, 1.0], RuntimeError), ([1, 2], [9, 1], RuntimeError)]:
        with pytest.raises(exc):
            torch.zeros(2, 3).put_(torch.tensor(idx), torch.tensor(src))
        with pytest.raises(exc):
            tapegrad.zeros(2, 3).put_(tapegrad.tensor(idx), tapegrad.tensor(src))
    s = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    b = tapegrad.ones(4, requires_grad=True)
    out = b.put(tapegrad.tensor([0, 3]), s * 3)
    out.sum().backward()
    assert s.grad.tolist() == [3.0, 3.0] and b.grad.tolist() == [0.0, 1.0, 1.0, 0.0]


def test_masked_scatter_as_torch():
    mask = [True, False, True, False]
    got = tapegrad.zeros(4).masked_scatter_(tapegrad.tensor(mask), tapegrad.tensor([1.0, 2.0, 3.0]))
    assert got.tolist() == torch.zeros(4).masked_scatter_(torch.tensor(mask), torch.tensor([1.0, 2.0, 3.0])).tolist()
    got = tapegrad.zeros(2, 2).masked_scatter(tapegrad.tensor([True, False]), tapegrad.tensor([1.0, 2.0, 3.0]))
    want = torch.zeros(2, 2).masked_scatter(torch.tensor([True, False]), torch.tensor([1.0, 2.0, 3.0]))
    assert got.tolist() == want.tolist()
    for mk, src in [([True] * 4, [1.0, 2.0]), ([1, 0, 1, 0], [1.0, 2.0]), (mask, [1, 2])]:
        with pytest.raises(RuntimeError) as theirs:
            torch.zeros(4).masked_scatter_(torch.tensor(mk), torch.tensor(src))
        with pytest.raises(RuntimeError) as ours:
            tapegrad.zeros(4).masked_scatter_(tapegrad.tensor(mk), tapegrad.tensor(src))
        assert str(theirs.value).split(" but ")[0].split(",")[0][:30] in str(ours.value)
    src = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    x = tapegrad.zeros(3, requires_grad=True)
    y = x * 1
    y.masked_scatter_(tapegrad.tensor([False, True, True]), src * 2)
    y.sum().backward()
    assert src.grad.tolist() == [2.0, 2.0] and x.grad.tolist() == [1.0, 0.0, 0.0]
