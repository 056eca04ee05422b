"""The structure functions on device='cuda': views share device memory, index/mask tensors stay on the device.

Values and gradients of every differentiable one run through the op database
(tests/cuda/test_sim_op_db.py); this file covers what specs cannot: views
written through, non-differentiable results and device-mixing errors.
"""
import numpy as np
import pytest

import tapegrad


def _t(a):
    return tapegrad.tensor(np.asarray(a), device="cuda")


@pytest.mark.parametrize("make", [lambda x: x.diagonal(1), lambda x: x.t().diagonal(), lambda x: x.unfold(1, 2, 2),
                                  lambda x: x.as_strided((2, 2), (1, 3), 1), lambda x: x.select(0, 1)],
                         ids=["diagonal", "diagonal_of_t", "unfold", "as_strided", "select"])
def test_views_share_device_memory(make):
    x = _t(np.arange(12.0).reshape(3, 4))
    v = make(x)
    want = make(tapegrad.arange(12.0).reshape(3, 4)).numpy() * 2
    x.mul_(2)
    assert v.device.type == "cuda"
    np.testing.assert_array_equal(v.cpu().numpy(), want)


def test_integer_results_on_the_device():
    x = _t(np.array([[3, 1], [2, 4]]))
    assert tapegrad.trace(x).cpu().item() == 7
    assert tapegrad.repeat_interleave(_t(np.array([2, 0, 1]))).cpu().tolist() == [0, 0, 2]
    assert tapegrad.combinations(_t(np.array([1, 2, 3]))).cpu().tolist() == [[1, 2], [1, 3], [2, 3]]
    y = x.clone().fill_diagonal_(9)
    assert y.device.type == "cuda" and y.cpu().tolist() == [[9, 1], [2, 9]]
    z = _t(np.zeros(4)).scatter_reduce(0, _t(np.array([1, 1, 3])), _t(np.array([2.0, 5.0, -1.0])), "amax",
                                       include_self=False)
    assert z.cpu().tolist() == [0.0, 5.0, 0.0, -1.0]


@pytest.mark.parametrize("call", [lambda x: tapegrad.take(x, tapegrad.tensor([0])),
                                  lambda x: x.masked_select(tapegrad.tensor([True, False])),
                                  lambda x: x.index_fill(0, tapegrad.tensor([0]), 1.0),
                                  lambda x: x.scatter(0, tapegrad.tensor([1]), 2.0)],
                         ids=["take", "masked_select", "index_fill", "scatter"])
def test_index_on_another_device_raises_naming_both(call):
    with pytest.raises(RuntimeError, match="cuda.*cpu|cpu.*cuda"):
        call(_t(np.zeros(2)))
