"""Failures across ranks end quickly and say what happened: no hang, no silent divergence."""
import time

from ._mpirun import mpirun


def test_one_rank_raising_aborts_the_job_with_its_error():
    t0 = time.monotonic()
    r = mpirun("ddp_failures", "abort", timeout=60)      # a hang would fail here after 60 s
    elapsed = time.monotonic() - t0
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "ValueError: boom from rank 1" in out, out
    assert "rank 0 finished" not in out
    assert elapsed < 30, f"the job took {elapsed:.1f} s to abort"


def test_mismatched_models_are_detected_at_construction_on_every_rank():
    r = mpirun("ddp_failures", "mismatch", timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = sorted(line for line in r.stdout.splitlines() if line.startswith("rank "))
    assert len(lines) == 2 and all("caught: DistributedDataParallel: the model differs across ranks" in line
                                   for line in lines), r.stdout
    for line in lines:
        assert "0.weight of shape [4, 3]" in line and "0.weight of shape [5, 3] and dtype tapegrad.float32 on rank 1" \
            in line, line
