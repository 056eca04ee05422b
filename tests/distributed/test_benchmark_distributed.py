"""benchmarks/distributed.py runs end to end on a tiny budget and reports its figures (no timing asserted)."""
import json

import pytest

from benchmarks import distributed as bench


def test_distributed_benchmark_smoke(tmp_path, capsys):
    pytest.importorskip("mpi4py", reason="the distributed extra (mpi4py, mpich) is not installed")
    out = tmp_path / "dist.json"
    res = bench.main(["--steps", "2", "--repeats", "1", "--rounds", "1", "--comm-repeats", "2", "--batch", "16",
                      "--out", str(out)])
    text = capsys.readouterr().out
    assert "-n 1:" in text and "-n 2:" in text and "scaling -n 2 / -n 1" in text and "tg/raw" in text
    assert json.loads(out.read_text())["scaling"] == pytest.approx(res["scaling"])
    assert (res["one"]["world"], res["two"]["world"]) == (1, 2)
    assert res["one"]["samples_per_s"] > 0 and res["two"]["samples_per_s"] > 0
    # The MLP's 269,322 float32 parameters make two buckets: the last two layers under 1 MiB, then the first.
    assert res["two"]["bucket_numels"] == [68362, 200960] and sum(res["two"]["bucket_numels"]) == 269322
    for row in res["two"]["bandwidth"]:
        assert row["mpi4py Allreduce"] > 0 and row["tapegrad all_reduce"] > 0 and row["tapegrad async + wait"] > 0
        # like with like: blocking against blocking, async against mpi4py's own Iallreduce + Wait
        assert row["mpi4py Iallreduce + Wait"] > 0
        assert row["ratio"] == pytest.approx(row["tapegrad all_reduce"] / row["mpi4py Allreduce"])
        assert row["ratio_async"] == pytest.approx(row["tapegrad async + wait"] / row["mpi4py Iallreduce + Wait"])
        assert row["ratio_best"] == pytest.approx(row["tapegrad all_reduce best"] / row["mpi4py Allreduce best"])
    assert len(res["two"]["per_step"]) == 2 and res["scaling_p10"] > 0      # rank 0's 2 timed steps
    assert "by phase" in text and set(res["two"]["phases"]) == {"forward", "backward", "wait", "optimizer"}
    assert all(len(v) == 2 and min(v) >= 0 for v in res["two"]["phases"].values())
