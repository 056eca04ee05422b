"""Which out-of-range index PyTorch names: several index tensors are read together, element by element of
their broadcast shape, so the first bad element (not the first bad tensor) is named; a lone slice on a
0-d tensor checks its step first. Found by hypothesis in the ``dev`` profile (tests/ops/test_indexing_torch.py)."""
import warnings

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

KEYS = [
    ((1, 1), ([0, 1], [1])),
    ((2, 3, 4), (slice(None), [0, 5], [9, 0])),
    ((2, 3, 4), (slice(None), [5, 0], [0, 9])),
    ((2, 3, 4), ([[0], [7]], [[9, 0]])),
    ((2, 3, 4), (np.array([True, True]), [0, 9], [9, 0])),
    ((2, 3, 4), (None, [1, -3], 0, [-5, 0])),
    ((2, 3, 4), (Ellipsis, [[0, 3]], [[-1], [4]])),
    ((2, 3, 4), ([0, 1], slice(None), [0, 4])),
    ((), slice(None, None, -1)),
    ((), slice(None, None, 0)),
    ((), slice(1, None, -2)),
]


def _key(key, lib):
    wrap = lambda k: lib.tensor(k) if isinstance(k, np.ndarray) else k
    return tuple(wrap(k) for k in key) if isinstance(key, tuple) else wrap(key)


def _error(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except (IndexError, ValueError) as e:
        return type(e), str(e)
    return None


@pytest.mark.parametrize("shape,key", KEYS, ids=[f"{s}-{k}" for s, k in KEYS])
def test_getitem_names_the_same_bad_index_as_torch(shape, key):
    x = np.zeros(shape)
    want = _error(lambda: torch.tensor(x)[_key(key, torch)])
    assert want is not None
    assert _error(lambda: tapegrad.tensor(x)[_key(key, tapegrad)]) == want


@pytest.mark.parametrize("shape,key", KEYS, ids=[f"{s}-{k}" for s, k in KEYS])
def test_setitem_names_the_same_bad_index_as_torch(shape, key):
    x = np.zeros(shape)

    def put(lib):
        t = lib.tensor(x)
        t[_key(key, lib)] = 1.0
    want = _error(lambda: put(torch))
    assert want is not None
    t = tapegrad.tensor(x)
    got = _error(lambda: t.__setitem__(_key(key, tapegrad), 1.0))
    assert got == want
    assert not t.numpy().any()          # nothing written before the error
