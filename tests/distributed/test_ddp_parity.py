"""DistributedDataParallel on 2 ranks equals one process fed the concatenated batch (the issue's parity test)."""
import numpy as np
import pytest

from ._mpirun import mpirun_ok

CASES = ["float64-sgd", "float64-adam", "float32-sgd", "float32-adam"]
# float64 agrees to rounding (the batch is summed in two halves instead of one); float32 to its precision.
TOL = {"float64": 1e-15, "float32": 1e-6}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return mpirun_ok("ddp_parity", tmp_path_factory.mktemp("parity"))


def _max_rel(a, b):
    return max(float(np.max(np.abs(np.subtract(x, y)) / (1 + np.abs(y)))) for x, y in zip(a, b))


@pytest.mark.parametrize("case", CASES)
def test_two_ranks_match_one_process_and_each_other(results, case):
    r0, r1 = results
    assert r0[case + "-ddp"] == r1[case + "-ddp"], "the ranks' parameters are not bit-identical"
    err = _max_rel(r0[case + "-ddp"], r0[case + "-ref"])
    assert err <= TOL[case.split("-")[0]], f"{case}: DDP differs from one process by {err:.3g}"
    assert len(r0[case + "-buckets"]) >= 3 and sum(r0[case + "-buckets"]) == 6     # uneven buckets were used


@pytest.mark.parametrize("case", CASES)
def test_control_without_synchronisation_differs(results, case):
    r0, r1 = results
    assert r0[case + "-control"] != r1[case + "-control"]
    assert _max_rel(r0[case + "-control"], r0[case + "-ref"]) > 1e-3
