"""Shape-op behaviour the registry-driven harnesses cannot express: views, copies, return types, errors."""
import numpy as np
import pytest

import tapegrad


def _shares(a, b):
    return np.shares_memory(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("make", [
    lambda x: x.view(3, 2), lambda x: x.reshape(-1), lambda x: x.transpose(0, 1), lambda x: x.permute(1, 0),
    lambda x: x.T, lambda x: x.unsqueeze(0), lambda x: x[None].squeeze(0), lambda x: x.flatten(),
    lambda x: x.narrow(1, 1, 2), lambda x: x.split(1, dim=1)[1], lambda x: x.chunk(2)[0], lambda x: x.unbind(1)[2],
])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_views_share_storage_and_the_version_counter(make, requires_grad):
    base = tapegrad.arange(6.0).reshape(2, 3)
    x = base.clone().requires_grad_(requires_grad) if requires_grad else base
    v = make(x)
    assert _shares(v, x)
    before = x._version[0]
    with tapegrad.no_grad():
        v.add_(1.0)
    assert x._version[0] == before + 1 and v._version is x._version


def test_expand_is_a_view_without_a_copy():
    x = tapegrad.tensor([[1.0], [2.0]])
    e = x.expand(2, 4)
    assert _shares(e, x) and e._version is x._version and e.shape == (2, 4)


@pytest.mark.parametrize("make", [lambda x: x.flip(0), lambda x: x.clone(), lambda x: x.repeat(1, 1),
                                  lambda x: tapegrad.cat([x]), lambda x: tapegrad.stack([x]), lambda x: x.mT.contiguous()])
def test_copies_do_not_share_storage(make):
    x = tapegrad.arange(6.0).reshape(2, 3)
    y = make(x)
    assert not _shares(y, x)
    y.add_(1.0)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_contiguous_returns_self_when_already_contiguous():
    x = tapegrad.zeros(2, 3)
    assert x.contiguous() is x
    t = x.T.contiguous()
    assert t is not x and t.shape == (3, 2)


def test_T_reverses_all_dims_and_mT_swaps_the_last_two():
    x = tapegrad.zeros(2, 3, 4)
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    assert tapegrad.zeros(3).T.shape == (3,)
    with pytest.raises(RuntimeError, match="mT.*1-D"):
        tapegrad.zeros(3).mT


def test_split_chunk_unbind_return_tuples_like_pytorch():
    x = tapegrad.arange(6)
    assert [t.tolist() for t in x.chunk(4)] == [[0, 1], [2, 3], [4, 5]]
    assert [t.tolist() for t in x.split([1, 0, 5])] == [[0], [], [1, 2, 3, 4, 5]]
    assert isinstance(x.split(4), tuple) and len(x.split(4)) == 2
    assert [t.shape for t in tapegrad.zeros(2, 3).unbind(1)] == [(2,)] * 3


def test_cat_gradient_when_only_some_inputs_need_it():
    a = tapegrad.ones(2, 2, requires_grad=True)
    b = tapegrad.zeros(2, 3)
    y = tapegrad.cat([b, a], dim=1)
    (y * tapegrad.arange(5.0)).sum().backward()
    assert a.grad.tolist() == [[3.0, 4.0], [3.0, 4.0]]


def test_unused_split_outputs_get_zero_gradient():
    x = tapegrad.ones(5, requires_grad=True)
    parts = x.split(2)
    (parts[1] * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 3.0, 3.0, 0.0]


def test_cat_promotes_and_skips_legacy_empty_1d():
    y = tapegrad.cat([tapegrad.zeros(2, 2), tapegrad.zeros(0), tapegrad.ones(1, 2, dtype=tapegrad.float64)])
    assert y.shape == (3, 2) and y.dtype is tapegrad.float64


def test_repeat_and_tile_semantics():
    x = tapegrad.tensor([[1, 2]])
    assert x.repeat(2, 1, 2).shape == (2, 1, 4)
    assert tapegrad.tile(x, (2,)).tolist() == [[1, 2, 1, 2]]
    assert x.expand(3, -1).shape == (3, 2) and x.expand_as(tapegrad.zeros(4, 1, 2)).shape == (4, 1, 2)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: tapegrad.zeros(2, 3).reshape(4, 2), RuntimeError, r"reshape: shape '\[4, 2\]' is invalid for input "
                                                               r"of size 6 \(input shape \(2, 3\)\)"),
    (lambda: tapegrad.zeros(2, 3).view(-1, -1), RuntimeError, "view: only one dimension can be inferred"),
    (lambda: tapegrad.cat([tapegrad.zeros(2, 3), tapegrad.zeros(3, 2)]), RuntimeError,
     r"cat: sizes of tensors must match except in dimension 0; got shapes \(2, 3\) and \(3, 2\)"),
    (lambda: tapegrad.cat([tapegrad.zeros(2, 3), tapegrad.zeros(2)]), RuntimeError,
     r"cat: tensors must have the same number of dimensions: got 2 and 1"),
    (lambda: tapegrad.cat([]), RuntimeError, "cat: expected a non-empty list"),
    (lambda: tapegrad.stack([tapegrad.zeros(2), tapegrad.zeros(3)]), RuntimeError,
     r"stack: expects each tensor to be equal size, but got \(2,\) at entry 0 and \(3,\) at entry 1"),
    (lambda: tapegrad.zeros(2, 3).expand(4, 3), RuntimeError,
     r"expand: the expanded size of the tensor \(4\) must match the existing size \(2\)"),
    (lambda: tapegrad.zeros(2, 3).permute(0), RuntimeError, r"permute: the number of dims \(1\)"),
    (lambda: tapegrad.zeros(2, 3).transpose(0, 2), IndexError, r"transpose: dimension out of range"),
    (lambda: tapegrad.zeros(2, 3).repeat(2), RuntimeError, "repeat: the number of repeat dims"),
    (lambda: tapegrad.zeros(5).split([2, 2]), RuntimeError, r"split: split_with_sizes expects split_sizes to sum "
                                                             r"exactly to 5"),
    (lambda: tapegrad.zeros(5).narrow(0, 3, 3), IndexError, r"narrow: start \(3\) \+ length \(3\) exceeds"),
    (lambda: tapegrad.broadcast_tensors(tapegrad.zeros(2, 3), tapegrad.zeros(4)), RuntimeError,
     r"broadcast_shapes: shapes \(2, 3\), \(4,\) cannot be broadcast"),
    (lambda: tapegrad.zeros(2).unsqueeze(3), IndexError, "unsqueeze: dimension out of range"),
    (lambda: tapegrad.zeros(2, 3).flatten(1, 0), RuntimeError, "flatten: start_dim"),
])
def test_bad_input_raises_naming_the_op_and_shapes(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
