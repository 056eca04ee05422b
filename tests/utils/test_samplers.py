"""Samplers, DistributedSampler, dataset combinators and random_split against torch.utils.data.

Where the randomness is the same by construction (no shuffling, or torch's logic fed our permutation) the
index sequences must be equal; elsewhere the tests check the laws (a permutation, reproducible per seed) and
that errors have torch's types and messages.
"""
import warnings

import numpy as np
import pytest

import tapegrad
import tapegrad.utils.data as tud
from tapegrad.utils.data.distributed import partition


def _torch():
    return pytest.importorskip("torch")


def _outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:      # noqa: BLE001 -- compared with torch's
        return type(e), str(e)


def _same_error(ours, theirs):
    o, t = _outcome(ours), _outcome(theirs)
    assert o[0] is t[0] and o[0] != "ok", (o, t)
    assert t[1] in o[1], (o, t)


# ------------------------------------------------------------------ deterministic samplers
@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (1, 4, False), (0, 2, False)])
def test_sequential_and_batch_sampler_match_torch(n, bs, drop):
    torch = _torch()
    ours = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop)
    theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), bs, drop)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("kw", [dict(batch_size=0), dict(batch_size=2.0), dict(batch_size=True),
                                dict(drop_last=1), dict(drop_last=None)])
def test_batch_sampler_errors_match_torch(kw):
    torch = _torch()
    args = {"batch_size": 2, "drop_last": False, **kw}
    _same_error(lambda: tud.BatchSampler(range(3), **args), lambda: torch.utils.data.BatchSampler(range(3), **args))


# ------------------------------------------------------------------ DistributedSampler
CASES = [(n, r, drop) for n in (1, 5, 7, 8, 12) for r in (1, 2, 3, 4) for drop in (False, True)
         if not (drop and n < r)]


@pytest.mark.parametrize("n,replicas,drop", CASES)
def test_distributed_sampler_without_shuffle_matches_torch(n, replicas, drop):
    torch = _torch()
    for rank in range(replicas):
        ours = tud.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop)
        theirs = torch.utils.data.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False,
                                                     drop_last=drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("n,replicas,drop", [(7, 3, False), (7, 3, True), (10, 4, False), (2, 3, False)])
def test_distributed_sampler_with_shuffle_partitions_its_permutation_as_torch(monkeypatch, n, replicas, drop):
    torch = _torch()
    for epoch in (0, 3):
        perm = tapegrad.randperm(n, generator=tapegrad.Generator().manual_seed(5 + epoch)).tolist()
        # torch's own sampler, fed our permutation in place of its randperm
        monkeypatch.setattr(torch, "randperm", lambda k, generator=None, _p=perm: torch.tensor(_p))
        shares = []
        for rank in range(replicas):
            ours = tud.DistributedSampler(range(n), replicas, rank, shuffle=True, seed=5, drop_last=drop)
            theirs = torch.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=True, seed=5,
                                                         drop_last=drop)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            shares.append(list(ours))
        if not drop:
            assert sorted(set(i for s in shares for i in s)) == list(range(n))


def test_distributed_sampler_epochs_change_the_order_and_replicas_agree():
    a0 = tud.DistributedSampler(range(20), 2, 0, seed=1)
    a1 = tud.DistributedSampler(range(20), 2, 1, seed=1)
    first = list(a0)
    assert sorted(first + list(a1)) == list(range(20))
    a0.set_epoch(1)
    assert list(a0) != first
    assert list(tud.DistributedSampler(range(20), 2, 0, seed=1)) == first


def test_distributed_sampler_needs_a_process_group_or_explicit_ranks():
    with pytest.raises(RuntimeError, match="num_replicas was not given.*process group is not initialized"):
        tud.DistributedSampler(range(4))
    with pytest.raises(RuntimeError, match="rank was not given"):
        tud.DistributedSampler(range(4), num_replicas=2)


@pytest.mark.parametrize("rank", [2, -1])
def test_distributed_sampler_bad_rank_matches_torch(rank):
    torch = _torch()
    _same_error(lambda: tud.DistributedSampler(range(4), 2, rank),
                lambda: torch.utils.data.DistributedSampler(range(4), 2, rank))


def test_partition_pads_by_repeating_indices():
    assert [partition([4, 2], 5, r, drop_last=False) for r in range(5)] == [[4], [2], [4], [2], [4]]
    assert [partition([9, 8, 7], 2, r, drop_last=False) for r in (0, 1)] == [[9, 7], [8, 9]]


# ------------------------------------------------------------------ random samplers
def _gen(seed):
    return tapegrad.Generator().manual_seed(seed)


def test_random_sampler_permutes_and_repeats_per_generator_seed():
    s = tud.RandomSampler(range(9), generator=_gen(3))
    a = list(s)
    assert sorted(a) == list(range(9)) and len(s) == 9
    assert list(tud.RandomSampler(range(9), generator=_gen(3))) == a
    assert list(s) != a                      # the generator moved on: a new order next epoch
    long = list(tud.RandomSampler(range(4), num_samples=10, generator=_gen(0)))
    assert len(long) == 10 and sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3]
    rep = list(tud.RandomSampler(range(3), replacement=True, num_samples=70, generator=_gen(0)))
    assert len(rep) == 70 and set(rep) == {0, 1, 2}


def test_random_sampler_without_generator_follows_the_global_seed():
    tapegrad.manual_seed(4)
    a = list(tud.RandomSampler(range(12)))
    tapegrad.manual_seed(4)
    assert list(tud.RandomSampler(range(12))) == a


@pytest.mark.parametrize("kw", [dict(replacement=1), dict(num_samples=0), dict(num_samples=2.5),
                                dict(data_source=[])])
def test_random_sampler_errors_match_torch(kw):
    torch = _torch()
    args = {"data_source": range(3), **kw}
    _same_error(lambda: tud.RandomSampler(**args), lambda: torch.utils.data.RandomSampler(**args))


def test_subset_random_sampler_permutes_its_indices():
    s = tud.SubsetRandomSampler([10, 20, 30, 40], generator=_gen(1))
    a = list(s)
    assert sorted(a) == [10, 20, 30, 40] and len(s) == 4
    assert list(tud.SubsetRandomSampler([10, 20, 30, 40], generator=_gen(1))) == a


def test_weighted_random_sampler_draws_in_proportion_to_the_weights():
    w = [1.0, 0.0, 3.0, 4.0]
    draws = list(tud.WeightedRandomSampler(w, 8000, generator=_gen(0)))
    freq = np.bincount(draws, minlength=4) / 8000
    np.testing.assert_allclose(freq, np.array(w) / 8, atol=0.02)
    assert list(tud.WeightedRandomSampler(w, 50, generator=_gen(2))) == \
        list(tud.WeightedRandomSampler(w, 50, generator=_gen(2)))
    no_rep = list(tud.WeightedRandomSampler(w, 3, replacement=False, generator=_gen(0)))
    assert sorted(no_rep) == [0, 2, 3]
    assert sorted(tud.WeightedRandomSampler(w, 4, replacement=False))[-1] == 3
    # heavier weights come first more often without replacement
    firsts = [next(iter(tud.WeightedRandomSampler([1.0, 9.0], 2, replacement=False, generator=_gen(s))))
              for s in range(200)]
    assert 0.8 < np.mean(np.array(firsts) == 1) < 0.97


@pytest.mark.parametrize("args", [([1.0, 2.0], 0, True), ([1.0, 2.0], True, True), ([1.0, 2.0], 2, 1),
                                  ([[1.0, 2.0]], 2, True)])
def test_weighted_random_sampler_argument_errors_match_torch(args):
    torch = _torch()
    _same_error(lambda: tud.WeightedRandomSampler(*args), lambda: torch.utils.data.WeightedRandomSampler(*args))


@pytest.mark.parametrize("args", [([1.0, -1.0], 1, True), ([0.0, 0.0], 1, True), ([1.0, 0.0], 3, False),
                                  ([float("nan"), 1.0], 1, True)])
def test_weighted_random_sampler_draw_errors_match_torch(args):
    torch = _torch()
    _same_error(lambda: list(tud.WeightedRandomSampler(*args)),
                lambda: list(torch.utils.data.WeightedRandomSampler(*args)))


# ------------------------------------------------------------------ datasets and random_split
@pytest.mark.parametrize("n,lengths", [(10, [0.5, 0.3, 0.2]), (7, [0.5, 0.5]), (11, [0.1, 0.2, 0.7]),
                                       (5, [1 / 3, 1 / 3, 1 / 3]), (3, [0.25, 0.25, 0.25, 0.25]), (6, [2, 4])])
def test_random_split_lengths_match_torch(n, lengths):
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")         # the 0-length split warning, tested below
        ours = tud.random_split(range(n), lengths, generator=_gen(0))
        theirs = torch.utils.data.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
        again = tud.random_split(range(n), lengths, generator=_gen(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s.indices) == list(range(n))
    assert [s.indices for s in again] == [s.indices for s in ours]


@pytest.mark.parametrize("lengths", [[3, 4], [0.5, 0.6], [1.2, -0.2], [0.5, 0.5, 0.5]])
def test_random_split_errors_match_torch(lengths):
    torch = _torch()
    _same_error(lambda: tud.random_split(range(5), lengths), lambda: torch.utils.data.random_split(range(5), lengths))


def test_random_split_warns_about_an_empty_split():
    with pytest.warns(UserWarning, match="Length of split at index 3 is 0"):
        tud.random_split(range(3), [0.25, 0.25, 0.25, 0.25])


class _It(tud.IterableDataset):
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def test_dataset_combinators_behave_as_torchs():
    torch = _torch()
    T = torch.utils.data
    for lib in (tud, T):
        c = lib.ConcatDataset([[1, 2], [3], [4, 5, 6]])
        assert (len(c), c[0], c[2], c[5], c[-1], c.cumulative_sizes) == (6, 1, 3, 6, 6, [2, 3, 6])
        with pytest.raises(ValueError, match="absolute value of index"):
            c[-7]
        with pytest.raises(AssertionError, match="empty iterable"):
            lib.ConcatDataset([])
        s = lib.Subset(["a", "b", "c", "d"], [3, 1])
        assert (len(s), s[0], s[1]) == (2, "d", "b")
        st = lib.StackDataset([1, 2], ["x", "y"])
        assert st[1] == (2, "y") and len(st) == 2
        assert lib.StackDataset(a=[1, 2], b=[3, 4])[0] == {"a": 1, "b": 3}
        with pytest.raises(ValueError, match="Size mismatch"):
            lib.StackDataset([1], [1, 2])
        with pytest.raises(ValueError, match="At least one dataset"):
            lib.StackDataset()
    ch = tud.ChainDataset([_It([1, 2]), _It([3])])
    assert list(ch) == [1, 2, 3] and len(ch) == 3
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        tud.ConcatDataset([_It([1])])
    assert isinstance(_It([1]) + _It([2]), tud.ChainDataset)
    both = tud.TensorDataset(tapegrad.arange(3)) + tud.TensorDataset(tapegrad.arange(2))
    assert isinstance(both, tud.ConcatDataset) and len(both) == 5


def test_dataset_base_class_has_no_len_as_torch():
    torch = _torch()
    for lib in (tud, torch.utils.data):
        with pytest.raises(TypeError):
            len(lib.Dataset())
        with pytest.raises(NotImplementedError):
            lib.Dataset()[0]


# ------------------------------------------------------------------ DataLoader arguments
def _loader_cases():
    return [
        ("iterable-shuffle", lambda L: L.DataLoader(_It([1]) if L is tud else _TIt([1]), shuffle=True)),
        ("iterable-sampler", lambda L: L.DataLoader(_It([1]) if L is tud else _TIt([1]), sampler=[0])),
        ("iterable-batch_sampler", lambda L: L.DataLoader(_It([1]) if L is tud else _TIt([1]),
                                                          batch_sampler=[[0]])),
        ("bad-start-method", lambda L: L.DataLoader(range(3), num_workers=1, multiprocessing_context="nope")),
        ("bad-context", lambda L: L.DataLoader(range(3), num_workers=1, multiprocessing_context=3)),
        ("negative-prefetch", lambda L: L.DataLoader(range(3), num_workers=1, prefetch_factor=-1)),
        ("set-batch_size", lambda L: setattr(L.DataLoader(range(3)), "batch_size", 2)),
        ("set-sampler", lambda L: setattr(L.DataLoader(range(3)), "sampler", [0])),
    ]


_TIt = None


@pytest.mark.parametrize("case", [c[0] for c in _loader_cases()])
def test_loader_argument_errors_match_torch(case):
    torch = _torch()
    global _TIt

    class TorchIt(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter([1])
    _TIt = lambda items: TorchIt()   # noqa: E731
    fn = dict(_loader_cases())[case]
    o, t = _outcome(lambda: fn(tud)), _outcome(lambda: fn(torch.utils.data))
    assert o[0] is t[0] and o[0] != "ok", (o, t)
    # messages name the same option (torch prints the sampler object, ours too: compare the text before it)
    assert t[1].split(" got ")[0].split(", but")[0] in o[1], (o, t)


def test_loader_lengths_and_setting_other_attributes():
    loader = tud.DataLoader(range(10), batch_size=3)
    assert len(loader) == 4
    loader.num_workers = 0                  # not a guarded attribute
    assert len(tud.DataLoader(_It(list(range(10))), batch_size=4, drop_last=True)) == 2
    assert len(tud.DataLoader(_It(list(range(10))), batch_size=4)) == 3
    assert [b.tolist() for b in tud.DataLoader(_It(list(range(5))), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in tud.DataLoader(_It(list(range(5))), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]


def test_module_paths_are_torchs():
    from tapegrad.utils.data.dataloader import DataLoader
    from tapegrad.utils.data.sampler import RandomSampler
    from tapegrad.utils.data.dataset import Subset
    from tapegrad.utils.data.distributed import DistributedSampler
    from tapegrad.utils.data._utils.collate import default_collate
    assert DataLoader is tud.DataLoader and RandomSampler is tud.RandomSampler and Subset is tud.Subset
    assert DistributedSampler is tud.DistributedSampler and default_collate is tud.default_collate
    torch = _torch()
    missing = sorted(n for n in torch.utils.data.__all__ if "DataPipe" not in n and "datapipe" not in n
                     and not n.startswith("_") and n not in ("DataChunk", "argument_validation",
                                                             "runtime_validation", "runtime_validation_disabled",
                                                             "non_deterministic") and not hasattr(tud, n))
    assert missing == []

