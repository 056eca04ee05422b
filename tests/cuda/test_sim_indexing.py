"""Indexing on device='cuda' follows PyTorch's rules and errors, as on the CPU (tests/ops/test_indexing_torch.py)."""
import numpy as np
import pytest

import tapegrad


def test_ints_select_before_advanced_indices_and_setitem_takes_the_same_key():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = tapegrad.tensor(a, device="cuda", requires_grad=True)
    y = x[0, :, [0, 1]]
    assert tuple(y.shape) == (3, 2)
    np.testing.assert_array_equal(y.detach().cpu().numpy(), a[0][:, [0, 1]])
    assert tuple(x[True, :, [0, 1]].shape) == (2, 2, 4)
    z = x * 1
    v = tapegrad.ones(3, 2, device="cuda", requires_grad=True)
    z[0, :, [0, 1]] = v
    (z * tapegrad.tensor(a, device="cuda")).sum().backward()
    want = a.copy()
    want[0, :, :2] = 0
    np.testing.assert_array_equal(x.grad.cpu().numpy(), want)
    np.testing.assert_array_equal(v.grad.cpu().numpy(), a[0][:, :2])


@pytest.mark.parametrize("fn,err,match", [
    (lambda x, i: x[:, i], IndexError, "index 7 is out of bounds for dimension 0 with size 3"),
    (lambda x, i: x[0, 5], IndexError, "index 5 is out of bounds for dimension 1 with size 3"),
    (lambda x, i: x[..., ::-1], ValueError, "step must be greater than zero"),
    (lambda x, i: tapegrad.gather(x, 1, i.reshape(1, 2)), RuntimeError,
     r"gather\(\): index 7 is out of bounds for dimension 1 with size 3"),
    (lambda x, i: tapegrad.index_select(x, 1, -i), IndexError, r"index_select\(\): index -7 is out of bounds"),
    (lambda x, i: tapegrad.index_add(x, 1, i, tapegrad.ones(2, 2, device="cuda")), IndexError,
     r"index_add\(\): index 7 is out of bounds for dimension 1 with size 3"),
    (lambda x, i: tapegrad.scatter_add(x, 1, i.reshape(1, 2), tapegrad.ones(1, 2, device="cuda")), RuntimeError,
     r"scatter_add\(\): index 7 is out of bounds for dimension 1 with size 3"),
    (lambda x, i: tapegrad.nn.functional.embedding(i - 8, x), IndexError,
     r"embedding\(\): index -8 is out of bounds for dimension 0 with size 2"),
])
def test_out_of_range_indices_name_the_op_value_and_size(fn, err, match):
    x = tapegrad.zeros(2, 3, device="cuda")
    with pytest.raises(err, match=match):
        fn(x, tapegrad.tensor([0, 7], device="cuda"))
