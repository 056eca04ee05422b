"""Integer-result scans and sorting ops on CUDA equal the CPU's: unique, unique_consecutive, bincount,
histc, bucketize, searchsorted, argsort, count_nonzero, and the index outputs of sort/topk/median/mode/cummax.

(The differentiable ones run through tests/cuda/test_sim_op_db.py.)
"""
import numpy as np
import pytest

import tapegrad

INTS = np.array([[3, 1, 3, 0], [2, 2, -1, 2], [0, 0, 0, 5]], np.int64)
FLOATS = np.array([[0.5, np.nan, -1.0, 0.5], [2.0, 2.0, -0.0, 0.0], [np.nan, 1.0, np.nan, -3.0]], np.float32)
SEQ = np.array([-1.0, 0.0, 0.0, 2.0, 5.0])


def _both(fn, *arrays):
    cpu = fn(*[tapegrad.tensor(a) for a in arrays])
    gpu = fn(*[tapegrad.tensor(a, device="cuda") for a in arrays])
    cpu = cpu if isinstance(cpu, tuple) else (cpu,)
    gpu = gpu if isinstance(gpu, tuple) else (gpu,)
    assert len(cpu) == len(gpu)
    for c, g in zip(cpu, gpu):
        assert g.device.type == "cuda" and g.dtype == c.dtype and tuple(g.shape) == tuple(c.shape)
        np.testing.assert_array_equal(g.cpu().numpy(), c.numpy())


@pytest.mark.parametrize("name,fn,arrays", [
    ("unique", lambda x: tapegrad.unique(x, return_inverse=True, return_counts=True), (INTS,)),
    ("unique_dim", lambda x: tapegrad.unique(x, dim=1, return_inverse=True, return_counts=True), (INTS,)),
    ("unique_consecutive", lambda x: tapegrad.unique_consecutive(x, return_inverse=True, return_counts=True),
     (INTS,)),
    ("bincount", lambda x: tapegrad.bincount(x.reshape(-1).clamp(min=0), minlength=8), (INTS,)),
    ("bincount_weights", lambda x, w: tapegrad.bincount(x, w), (np.array([1, 3, 3, 0]), np.array([0.5, 1, 2, 3.0]))),
    ("histc", lambda x: tapegrad.histc(x, bins=5, min=-2, max=3), (FLOATS,)),
    ("searchsorted", lambda s, v: tapegrad.searchsorted(s, v, right=True), (SEQ, FLOATS.astype(np.float64))),
    ("searchsorted_rows", lambda s, v: tapegrad.searchsorted(s, v), (np.sort(INTS, 1), INTS[:, :2].copy())),
    ("bucketize", lambda v, s: tapegrad.bucketize(v, s), (FLOATS.astype(np.float64), SEQ)),
    ("argsort", lambda x: tapegrad.argsort(x, dim=0, descending=True, stable=True), (FLOATS,)),
    ("count_nonzero", lambda x: tapegrad.count_nonzero(x, dim=1), (INTS,)),
    ("sort", lambda x: tapegrad.sort(x, 1), (FLOATS,)),
    ("topk", lambda x: tapegrad.topk(x, 2, largest=False), (INTS,)),
    ("median", lambda x: tapegrad.median(x, 1), (FLOATS,)),
    ("nanmedian", lambda x: tapegrad.nanmedian(x, 0), (FLOATS,)),
    ("mode", lambda x: tapegrad.mode(x, 1), (INTS,)),
    ("cummax", lambda x: tapegrad.cummax(x, 1), (FLOATS,)),
    ("cummin", lambda x: tapegrad.cummin(x, 0), (INTS,)),
], ids=lambda p: p if isinstance(p, str) else "")
def test_matches_cpu(name, fn, arrays):
    _both(fn, *arrays)
