"""Indexing behaviour the op_db harness cannot express: accumulation, views, in-place rules, errors, types."""
import numpy as np
import pytest

import tapegrad
from tapegrad.backend import _kernels


def test_repeated_indices_accumulate():
    x = tapegrad.zeros(4, 2, requires_grad=True)
    x[[0, 0, 3, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 3], [0, 0], [0, 0], [1, 1]])
    y = tapegrad.zeros(3, requires_grad=True)
    tapegrad.gather(y, 0, tapegrad.tensor([2, 2, 2, 1])).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 1, 3])


def test_bool_mask_gradient():
    x = tapegrad.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    (x[x > 0] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 0], [0, 2]])


@pytest.mark.parametrize("key", [
    (np.array([[0, 4], [4, 1]]),),
    (np.array([-1, 0, -1]), np.array([2])),
    (np.array([True, False, True, False, True]),),
    (np.array([1, 1]), 2, Ellipsis),
    (slice(None), np.array([0, 0, 2])),          # not the fast pattern: NumPy's add.at
    (np.array([3, 3]), slice(1, None)),
])
def test_scatter_kernel_matches_add_at(key):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(np.zeros((5, 3, 2))[key].shape)
    want = np.zeros((5, 3, 2))
    np.add.at(want, key, values)
    got = np.zeros((5, 3, 2))
    _kernels.add_at(got, key, values)
    np.testing.assert_allclose(got, want)


def test_basic_indexing_is_a_view_sharing_the_version_counter():
    x = tapegrad.zeros(3, 4)
    v = x[1, ::2]
    assert v._version is x._version
    v[0] = 7.0
    assert x[1, 0].item() == 7.0
    assert x._version[0] == 1
    w = x[[0, 1]]                 # advanced indexing copies
    w[0, 0] = 5.0
    assert x[0, 0].item() == 0.0


def test_setitem_on_leaf_requiring_grad_raises_and_leaves_it_unchanged():
    x = tapegrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 2.0
    assert x.tolist() == [1.0, 1.0, 1.0]
    with tapegrad.no_grad():
        x[0] = 2.0
    assert x.tolist() == [2.0, 1.0, 1.0] and x._version[:] == [1, "setitem"]


def test_setitem_records_on_non_leaf_and_value():
    x = tapegrad.ones(4, requires_grad=True)
    v = tapegrad.tensor(3.0, requires_grad=True)
    y = x * 2
    y[1:3] = v
    assert y.grad_fn is not None
    (y * tapegrad.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 0, 0, 8])
    assert v.grad.item() == 5.0


def test_setitem_after_save_is_detected_at_backward():
    x = tapegrad.ones(3, requires_grad=True)
    y = x * 2
    z = (y * y).sum()
    y[0] = 0.0
    with pytest.raises(RuntimeError, match="setitem"):
        z.backward()


def test_setitem_into_view_while_recording_rebases_the_base():
    # Note [copy slices] (ops/_copy_slices.py): was refused; now recorded on the base
    leaf = tapegrad.ones(2, 3, requires_grad=True)
    x = leaf * 2
    x[0][1] = 5.0
    x.sum().backward()
    np.testing.assert_allclose(x.detach().numpy(), [[2, 5, 2], [2, 2, 2]])
    np.testing.assert_allclose(leaf.grad.numpy(), [[2, 0, 2], [2, 2, 2]])


@pytest.mark.parametrize("key,err,match", [
    (1.5, IndexError, r"only integers, slices .*\(got float\)"),
    (tapegrad.tensor([0.0, 1.0]), IndexError, "long, int, byte or bool"),
    (5, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ([0, 9], IndexError, "index 9 is out of bounds for dimension 0 with size 3"),
    (np.array([True, False]), IndexError, r"shape of the mask \[2\] at index 0 does not match"),
    ((slice(None), slice(None, None, -1)), ValueError, "step must be greater than zero"),
])
def test_bad_keys_raise_clear_errors(key, err, match):
    x = tapegrad.zeros(3, 4)
    with pytest.raises(err, match=match):
        x[key]


def test_composed_index_op_errors():
    x = tapegrad.zeros(2, 3)
    with pytest.raises(RuntimeError, match="gather.*int64"):
        tapegrad.gather(x, 1, tapegrad.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        tapegrad.gather(x, 1, tapegrad.tensor([0]))
    with pytest.raises(IndexError, match="index_select.*1-D"):
        tapegrad.index_select(x, 0, tapegrad.tensor([[0]]))
    with pytest.raises(RuntimeError, match="bool mask"):
        tapegrad.masked_fill(x, tapegrad.tensor([1, 0, 1]), 1.0)
    with pytest.raises(RuntimeError, match="broadcastable"):
        tapegrad.masked_fill(x, tapegrad.ones(3, 3).bool(), 1.0)
    with pytest.raises(RuntimeError, match="source should have shape"):
        tapegrad.index_add(x, 0, tapegrad.tensor([0]), tapegrad.ones(2, 3))


def test_masked_fill_keeps_integer_dtype_and_takes_tensor_value_gradient():
    x = tapegrad.tensor([1, 2, 3])
    assert tapegrad.masked_fill(x, x > 1, 0).dtype is tapegrad.int64
    v = tapegrad.tensor(2.0, requires_grad=True)
    y = tapegrad.zeros(3).masked_fill(tapegrad.tensor([True, False, True]), v)
    y.sum().backward()
    assert v.grad.item() == 2.0


def test_nonzero_types_and_where_with_one_argument():
    x = tapegrad.tensor([[0, 3], [4, 0]])
    nz = x.nonzero()
    assert nz.dtype is tapegrad.int64 and nz.tolist() == [[0, 1], [1, 0]]
    rows, cols = tapegrad.nonzero(x, as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    assert [t.tolist() for t in tapegrad.where(x > 0)] == [[0, 1], [1, 0]]
    assert tuple(tapegrad.nonzero(tapegrad.tensor(0.0)).shape) == (0, 0)
    assert tuple(tapegrad.nonzero(tapegrad.tensor(2.0)).shape) == (1, 0)


def test_zero_dim_integer_tensor_indexes_like_an_int():
    x = tapegrad.arange(6.0).reshape(2, 3)
    y = x[tapegrad.tensor(1)]
    assert y.tolist() == [3.0, 4.0, 5.0] and y._version is x._version


@pytest.mark.parametrize("key", [(0, 0), (1, -1), (-1, 0)])
def test_an_all_integer_key_gives_a_0d_view_that_writes_through_like_torch(key):
    # NumPy gives a scalar copy for x[0, 0]; PyTorch a 0-d view: x[0, 0].fill_(5) changes x.
    torch = pytest.importorskip("torch")
    outs = []
    for lib in (tapegrad, torch):
        x = lib.zeros(2, 3)
        v = x[key]
        v.fill_(5)
        v.add_(1)
        outs.append(x.numpy().copy())
    np.testing.assert_array_equal(outs[0], outs[1])
    assert outs[0][key] == 6
