"""Dataset, TensorDataset and DataLoader: batching, shuffling, drop_last, seeding, collation."""
import collections

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
    assert b["x"].shape == (2, 3) and b["y"].dtype == tapegrad.int64 and b["w"].dtype == tapegrad.float64
    assert [s for s in DataLoader(Pairs(), batch_size=None)][4]["y"] == 4


def test_collate_errors_and_bad_arguments():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([tapegrad.zeros(2), tapegrad.zeros(3)])
    with pytest.raises(TypeError, match="batch must contain"):
        default_collate([object()])
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_ds(), batch_size=0)
    assert DataLoader(_ds(), num_workers=2).num_workers == 2      # workers start only when iterated
    with pytest.raises(ValueError, match="non-negative"):
        DataLoader(_ds(), num_workers=-1)
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


# ------------------------------------------------------------------ default_collate against torch
Point = collections.namedtuple("Point", "x y")


def _samples(lib):
    """Batches (lists of samples) built with ``lib``; each is collated by both libraries."""
    return {
        "floats": [0.5, 1.5, -2.0],
        "ints": [1, 2, 3],
        "bools": [True, False],
        "int-then-float": [1, 2.5],
        "float-then-int": [1.5, 2],
        "strings": ["a", "bc"],
        "bytes": [b"a", b"b"],
        "np-float32-scalars": [np.float32(1.5), np.float32(2)],
        "np-float64-scalars": [np.float64(1.5), np.float64(2)],
        "np-int32-scalars": [np.int32(1), np.int32(2)],
        "np-bool-scalars": [np.bool_(True), np.bool_(False)],
        "np-arrays-float32": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
        "np-arrays-int32": [np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32)],
        "tensors-float64": [lib.ones(2, dtype=lib.float64), lib.zeros(2, dtype=lib.float64)],
        "tensors-int": [lib.tensor([1, 2]), lib.tensor([3, 4])],
        "tensors-0d": [lib.tensor(1.0), lib.tensor(2.0)],
        "tuples": [(lib.ones(2), 1, "a"), (lib.zeros(2), 2, "b")],
        "lists": [[1.0, 2], [3.0, 4]],
        "dicts": [{"x": lib.ones(1), "y": 0.5}, {"x": lib.zeros(1), "y": 1.5}],
        "ordered-dicts": [collections.OrderedDict(b=1, a=2.0), collections.OrderedDict(b=3, a=4.0)],
        "namedtuples": [Point(1.0, lib.ones(2)), Point(2.0, lib.zeros(2))],
        "nested": [{"a": [(1, {"z": np.float32(1)})], "s": "p"}, {"a": [(2, {"z": np.float32(2)})], "s": "q"}],
    }


def _describe(x):
    """A library-neutral description: container types, tensor dtypes/shapes/values, everything else as is."""
    if hasattr(x, "dtype") and hasattr(x, "shape") and not isinstance(x, np.ndarray):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), x.detach().numpy().tolist())
    if isinstance(x, dict):
        return (type(x).__name__, [(k, _describe(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_describe(v) for v in x])
    return (type(x).__name__, x)


@pytest.mark.parametrize("name", list(_samples(tapegrad)))
def test_default_collate_matches_torch(name):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    assert _describe(default_collate(_samples(tapegrad)[name])) == _describe(torch_collate(_samples(torch)[name]))


@pytest.mark.parametrize("name", list(_samples(tapegrad)))
def test_default_convert_matches_torch(name):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert
    from tapegrad.utils.data import default_convert
    ours, theirs = _samples(tapegrad)[name], _samples(torch)[name]
    assert _describe(default_convert(ours[0])) == _describe(torch_convert(theirs[0]))
    assert _describe(default_convert(ours)) == _describe(torch_convert(theirs))


def test_default_collate_floats_are_float64_ints_int64():
    assert default_collate([0.5, 1.0]).dtype == tapegrad.float64
    assert default_collate([1, 2]).dtype == tapegrad.int64
    assert default_collate([True, False]).dtype == tapegrad.bool
    assert default_collate([np.float32(1.0)]).dtype == tapegrad.float32


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_default_collate_keeps_the_history_of_samples_that_require_grad(lib_name):
    lib = tapegrad if lib_name == "tapegrad" else pytest.importorskip("torch")
    from_lib = default_collate if lib is tapegrad else __import__("torch").utils.data.default_collate
    w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    batch = from_lib([(w * 2, 0), (w * w, 1)])
    assert batch[0].requires_grad and batch[0].grad_fn is not None
    (batch[0] * lib.tensor([[1.0, 1.0], [3.0, 5.0]], dtype=lib.float64)).sum().backward()
    assert w.grad.tolist() == [2.0 + 6.0 * 1.0, 2.0 + 10.0 * 2.0]


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_default_collate_ragged_tensors_name_the_entries(lib_name):
    lib = tapegrad if lib_name == "tapegrad" else pytest.importorskip("torch")
    collate = default_collate if lib is tapegrad else __import__("torch").utils.data.default_collate
    for batch in ([lib.zeros(3), lib.zeros(2)], [np.zeros(3), np.zeros(3), np.zeros(2)]):
        with pytest.raises(RuntimeError, match="expects each tensor to be equal size") as info:
            collate(batch)
        assert "at entry 0" in str(info.value) and f"at entry {len(batch) - 1}" in str(info.value)


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("batch,error,phrase", [
    ([np.array(["a", "b"]), np.array(["c", "d"])], TypeError, "batch must contain tensors, numpy arrays"),
    ([np.array([object()]), np.array([object()])], TypeError, "batch must contain tensors, numpy arrays"),
    ([object(), object()], TypeError, "batch must contain tensors, numpy arrays"),
    ([None, None], TypeError, "batch must contain tensors, numpy arrays"),
    ([(1, 2), (3,)], RuntimeError, "each element in list of batch should be of equal size"),
    ([{"a": 1}, {"b": 2}], KeyError, "a"),
], ids=["str-array", "object-array", "object", "None", "ragged-tuples", "missing-key"])
def test_default_collate_errors_match_torch(lib_name, batch, error, phrase):
    lib = tapegrad if lib_name == "tapegrad" else pytest.importorskip("torch")
    collate = default_collate if lib is tapegrad else __import__("torch").utils.data.default_collate
    with pytest.raises(error, match=phrase):
        collate(batch)


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_loader_over_tensors_that_require_grad_keeps_history(lib_name):
    lib = tapegrad if lib_name == "tapegrad" else pytest.importorskip("torch")
    x = lib.arange(6.0, dtype=lib.float64).reshape(3, 2).requires_grad_()
    ds = (TensorDataset if lib is tapegrad else lib.utils.data.TensorDataset)(x, lib.arange(3))
    Loader = DataLoader if lib is tapegrad else lib.utils.data.DataLoader
    for kw in (dict(batch_size=2), dict(batch_size=2, sampler=[2, 0, 1])):
        xb, yb = next(iter(Loader(ds, **kw)))
        assert xb.requires_grad and not yb.requires_grad
        x.grad = None
        (xb * xb).sum().backward()
        rows = [0, 1] if "sampler" not in kw else [2, 0]
        expect = np.zeros((3, 2))
        expect[rows] = 2 * x.detach().numpy()[rows]
        np.testing.assert_array_equal(x.grad.numpy(), expect)


# ------------------------------------------------------------------ DataLoader arguments against torch
class _Unsized(Dataset):
    def __getitem__(self, i):
        return i

    def __len__(self):
        raise TypeError("object of type '_Unsized' has no len()")


class _Empty(Dataset):
    def __getitem__(self, i):
        raise IndexError(i)

    def __len__(self):
        return 0


LOADER_CASES = [
    ("batch_size-0", dict(batch_size=0), (ValueError, "batch_size should be a positive integer")),
    ("batch_size-negative", dict(batch_size=-3), (ValueError, "batch_size should be a positive integer")),
    ("batch_size-float", dict(batch_size=2.0), (ValueError, "batch_size should be a positive integer")),
    ("batch_size-bool", dict(batch_size=True), (ValueError, "batch_size should be a positive integer")),
    ("num_workers-negative", dict(num_workers=-1), (ValueError, "num_workers option should be non-negative")),
    ("timeout-negative", dict(timeout=-1), (ValueError, "timeout option should be non-negative")),
    ("prefetch-without-workers", dict(prefetch_factor=2), (ValueError, "prefetch_factor option could only")),
    ("persistent-without-workers", dict(persistent_workers=True), (ValueError, "persistent_workers option needs")),
    ("mp-context-without-workers", dict(multiprocessing_context="spawn"),
     (ValueError, "multiprocessing_context can only be used with multi-process loading")),
    ("drop_last-without-batching", dict(batch_size=None, drop_last=True),
     (ValueError, "mutually exclusive with drop_last")),
    ("drop_last-not-bool", dict(drop_last=1), (ValueError, "drop_last should be a boolean value")),
    ("sampler-and-shuffle", dict(sampler=[0, 1], shuffle=True), (ValueError, "mutually exclusive with shuffle")),
    ("batch_sampler-and-batch_size", dict(batch_sampler=[[0, 1]], batch_size=2),
     (ValueError, "batch_sampler option is mutually exclusive")),
    ("batch_sampler-and-drop_last", dict(batch_sampler=[[0, 1]], drop_last=True),
     (ValueError, "batch_sampler option is mutually exclusive")),
    ("batch_sampler-and-shuffle", dict(batch_sampler=[[0, 1]], shuffle=True),
     (ValueError, "batch_sampler option is mutually exclusive")),
    ("shuffle-unsized", dict(dataset="unsized", shuffle=True), (TypeError, "has no len")),
    ("shuffle-empty", dict(dataset="empty", shuffle=True), (ValueError, "num_samples should be a positive integer")),
    ("no-shuffle-unsized", dict(dataset="unsized"), None),
    ("worker_init_fn-single-process", dict(worker_init_fn=lambda i: None), None),
    ("pin_memory", dict(pin_memory=True, pin_memory_device="", in_order=False), None),
    ("shuffle-none", dict(shuffle=None), None),
]


def _loader_outcome(lib, kw):
    kw = dict(kw)
    which = kw.pop("dataset", "tensors")
    if which == "tensors":
        td = TensorDataset if lib is tapegrad else lib.utils.data.TensorDataset
        ds = td(lib.arange(4.0))
    else:
        ds = _Unsized() if which == "unsized" else _Empty()
    loader = DataLoader if lib is tapegrad else lib.utils.data.DataLoader
    try:
        loader(ds, **kw)
    except Exception as e:      # noqa: BLE001 -- compared below
        return type(e), str(e)
    return None


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("kw,expected", [c[1:] for c in LOADER_CASES], ids=[c[0] for c in LOADER_CASES])
def test_loader_arguments_match_torch(lib_name, kw, expected):
    lib = tapegrad if lib_name == "tapegrad" else pytest.importorskip("torch")
    got = _loader_outcome(lib, kw)
    if expected is None:
        assert got is None, got
    else:
        assert got is not None and got[0] is expected[0] and expected[1] in got[1], got


class _Rows:
    """A map-style dataset of ``(row tensor, label)`` built with ``lib`` (not a TensorDataset: the generic path)."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.lib.full((2,), float(i), dtype=self.lib.float64), i


@pytest.mark.parametrize("kw", [dict(batch_size=2, sampler=[3, 1, 0]), dict(batch_sampler=[[3], [0, 2, 1]]),
                                dict(batch_size=None, sampler=[2, 2]),
                                dict(batch_size=2, drop_last=True, sampler=[0, 1, 2])],
                         ids=["sampler", "batch_sampler", "sampler-unbatched", "sampler-drop_last"])
@pytest.mark.parametrize("dataset", ["tensors", "generic"])
def test_samplers_give_torchs_batches(kw, dataset):
    torch = pytest.importorskip("torch")

    def batches(lib):
        if dataset == "tensors":
            td = TensorDataset if lib is tapegrad else lib.utils.data.TensorDataset
            ds = td(lib.arange(8.0, dtype=lib.float64).reshape(4, 2), lib.arange(4))
        else:
            ds = _Rows(lib)
        loader = (DataLoader if lib is tapegrad else lib.utils.data.DataLoader)(ds, **kw)
        return len(loader), [_describe(b) for b in loader]

    assert batches(tapegrad) == batches(torch)
