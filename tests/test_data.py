"""Dataset, TensorDataset and DataLoader: batching, shuffling, drop_last, seeding, collation."""
import numpy as np
import pytest

import tapegrad
from tapegrad.utils.data import DataLoader, Dataset, TensorDataset, default_collate


def _ds(n=10):
    return TensorDataset(tapegrad.arange(n * 2, dtype=tapegrad.float32).reshape(n, 2), tapegrad.arange(n))


def test_tensor_dataset_indexing_and_errors():
    ds = _ds()
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.item() == 3 and len(ds) == 10
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(tapegrad.zeros(3), tapegrad.zeros(4))
    with pytest.raises(TypeError, match="expected Tensors"):
        TensorDataset([1, 2])


def test_sequential_batches_and_drop_last():
    loader = DataLoader(_ds(), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == tapegrad.float32
    dl = DataLoader(_ds(), batch_size=4, drop_last=True)
    assert len(dl) == 2 and [len(b[1]) for b in dl] == [4, 4]


def test_batches_are_copies_not_views():
    ds = _ds()
    x, _ = next(iter(DataLoader(ds, batch_size=3)))
    x._data[...] = -1
    assert ds.tensors[0][0].tolist() == [0.0, 1.0]


def test_shuffle_covers_every_sample_and_changes_per_epoch():
    dl = DataLoader(_ds(20), batch_size=6, shuffle=True, seed=3)
    e1 = np.concatenate([y.numpy() for _, y in dl])
    e2 = np.concatenate([y.numpy() for _, y in dl])
    assert sorted(e1) == list(range(20)) and sorted(e2) == list(range(20))
    assert not np.array_equal(e1, e2)
    for x, y in dl:                      # inputs and targets stay paired
        np.testing.assert_array_equal(x.numpy()[:, 0], 2 * y.numpy())


def test_seeded_shuffle_is_reproducible():
    def order(**kw):
        return [y.tolist() for _, y in DataLoader(_ds(), batch_size=5, shuffle=True, **kw)]
    assert order(seed=1) == order(seed=1)
    assert order(generator=tapegrad.manual_seed(7)) == order(generator=7)
    tapegrad.manual_seed(5)
    a = order()
    tapegrad.manual_seed(5)
    assert order() == a
    with pytest.raises(TypeError, match="generator"):
        DataLoader(_ds(), generator="x")
    with pytest.raises(ValueError, match="either generator= or seed="):
        DataLoader(_ds(), generator=1, seed=1)


class Pairs(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": tapegrad.full((3,), float(i)), "y": i, "w": 0.5 * i}


def test_generic_dataset_collation():
    batches = list(DataLoader(Pairs(), batch_size=2))
    assert len(batches) == 3
    b = batches[0]
    assert b["x"].shape == (2, 3) and b["y"].dtype == tapegrad.int64 and b["w"].dtype == tapegrad.float32
    assert [s for s in DataLoader(Pairs(), batch_size=None)][4]["y"] == 4


def test_collate_errors_and_bad_arguments():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([tapegrad.zeros(2), tapegrad.zeros(3)])
    with pytest.raises(TypeError, match="batch must contain"):
        default_collate([object()])
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_ds(), batch_size=0)
    with pytest.raises(NotImplementedError, match="num_workers"):
        DataLoader(_ds(), num_workers=2)
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
