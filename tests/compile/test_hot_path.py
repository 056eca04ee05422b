"""The compiled training step's hot path: shortcuts that must leave every value bit for bit as before."""
import numpy as np
import pytest

from tapegrad.backend import _kernels as K
from tapegrad.compile import outplan


def _bits(a):
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(32, 10), (128, 256), (1000, 3), (7, 1), (0, 5), (4097, 33)])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_bias_gradient_sum_has_the_bits_of_np_sum(dtype, shape, layout):
    # outplan's linear VJP sums the bias gradient with np.add.reduce (no fromnumeric wrapper): the bits of
    # the eager op's np.sum, with and without out=, whatever the layout of g
    g = (np.random.default_rng(0).standard_normal(shape) * 1e3).astype(dtype)
    g = {"C": g, "F": np.asfortranarray(g), "strided": np.repeat(g, 2, axis=0)[::2]}[layout]
    want = np.sum(g, axis=(0,))
    out = np.empty(shape[1], dtype)
    got = outplan._sum(g, axis=(0,), out=out)
    assert got is out
    np.testing.assert_array_equal(_bits(got), _bits(want))
    fresh = outplan._sum(g, axis=(0,))
    assert fresh.dtype == want.dtype and fresh.shape == want.shape
    np.testing.assert_array_equal(_bits(fresh), _bits(want))


@pytest.mark.parametrize("n", [1, 3, 4, 5, 8, 9, 13, 17])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multi_sgd_of_any_group_size_equals_single_tensor_updates(n, momentum, dtype):
    # the one-call path for groups of at most 8 (kernel4 or kernel8, unused slots padded) and the chunked
    # loop above 8: each parameter gets exactly sgd_update_'s bits, none is skipped or updated twice
    rng = np.random.default_rng(n)
    shapes = [(i % 3 + 1, i % 4 + 2) if i % 2 else (i + 1,) for i in range(n)]
    ps = [rng.standard_normal(s).astype(dtype) for s in shapes]
    gs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    bs = [rng.standard_normal(s).astype(dtype) for s in shapes]
    multi = [a.copy() for a in ps], [b.copy() for b in bs]
    single = [a.copy() for a in ps], [b.copy() for b in bs]
    kw = dict(momentum=momentum, dampening=0.1, weight_decay=0.01, nesterov=False, maximize=False)
    K.sgd_update_multi_(multi[0], gs, multi[1] if momentum else None, 0.05, **kw)
    for p, g, b in zip(single[0], gs, single[1]):
        K.sgd_update_(p, g, b if momentum else None, 0.05, **kw)
    for a, b in zip(multi[0] + multi[1], single[0] + single[1]):
        np.testing.assert_array_equal(_bits(a), _bits(b))
    assert not all(np.array_equal(a, b) for a, b in zip(multi[0], ps))


@pytest.mark.parametrize("mean", [True, False])
@pytest.mark.parametrize("kind", ["int32", "big-endian", "strided", "metadata", "uint8"])
def test_cross_entropy_gradient_kernel_takes_targets_of_any_integer_layout(kind, mean):
    # ce_rows_grad_reduced tests the targets' dtype by identity with int64: any other integer dtype or
    # layout (an equal dtype object included) converts, and the gradient is that of plain int64 targets
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 5)).astype(np.float32)
    t = rng.integers(0, 5, 9)
    t[3] = -100
    other = {"int32": t.astype(np.int32), "big-endian": t.astype(">i8"), "strided": np.repeat(t, 2)[::2],
             "metadata": t.astype(np.dtype(np.int64, metadata={"a": 1})),
             "uint8": np.where(t < 0, 200, t).astype(np.uint8)}[kind]
    ignore = 200 if kind == "uint8" else -100
    want = K.ce_rows_grad_reduced(x, t, -100, np.float32(0.5), mean)
    got = K.ce_rows_grad_reduced(x, other, ignore, np.float32(0.5), mean)
    np.testing.assert_array_equal(_bits(got), _bits(want))
    assert np.abs(want).sum() > 0 and not want[3].any()
