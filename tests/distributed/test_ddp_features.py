"""DistributedDataParallel on 2 ranks: buckets, unused parameters, no_sync, buffers, checkpoints, the sampler."""
import pytest

from ._mpirun import mpirun_ok

CHECKS = ["buckets_reverse_order_uneven_and_launched_from_hooks", "buckets_launch_while_the_backward_runs",
          "mixed_dtypes_get_separate_buckets",
          "unused_parameters", "no_sync_accumulates_locally_then_averages", "buffers_broadcast",
          "gradient_as_bucket_view", "state_dict_prefix_and_checkpoint_from_rank0", "errors"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return mpirun_ok("ddp_features", tmp_path_factory.mktemp("features"))


@pytest.mark.parametrize("check", CHECKS)
def test_ddp_feature_on_both_ranks(results, check):
    for rank, res in enumerate(results):
        assert check in res, f"rank {rank} did not run {check}"
        assert res[check] is None, f"rank {rank}: {res[check]}"


def test_sampler_partitions_every_index_once_per_epoch_as_torch(results):
    shares = [r["sampler"] for r in results]
    assert [(s["num_replicas"], s["rank"]) for s in shares] == [(2, 0), (2, 1)]
    import tapegrad
    from tapegrad.utils.data.distributed import partition
    for epoch in range(2):
        got = [s["epochs"][epoch]["sampler"] for s in shares]
        assert len(got[0]) == len(got[1]) == 6 and set(got[0] + got[1]) == set(range(11))   # 11 + 1 padded
        # torch's assignment of the epoch's permutation (seed + epoch); the permutation is tapegrad's own.
        perm = tapegrad.randperm(11, generator=tapegrad.Generator().manual_seed(3 + epoch)).tolist()
        for rank in range(2):
            assert got[rank] == partition(perm, 2, rank, drop_last=False)
            assert shares[rank]["epochs"][epoch]["loaded"] == [100 + i for i in got[rank]]
    assert shares[0]["epochs"][0]["sampler"] != shares[0]["epochs"][1]["sampler"]
    torch = pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for rank in range(2):
        for drop in (False, True):
            theirs = list(TorchSampler(range(11), num_replicas=2, rank=rank, shuffle=False, drop_last=drop))
            assert shares[rank]["plain"][str(drop)] == theirs
