"""Test configuration: hypothesis profiles ``ci`` (deterministic, bounded) and ``dev``.

The profile comes from ``HYPOTHESIS_PROFILE``; CI=true selects ``ci``.

Note [long tests first]: a test marked ``long`` (a simulated-CUDA subprocess shard, tens of seconds) is
moved to the front of the collection. pytest-xdist's default ``load`` scheduling deals the first
quarter of the collection round-robin to the workers and the rest on demand, so the long tests
start first, spread over the workers, and the short ones fill the gaps; collected last (as they
were), they ended the run on one worker while the other idled for minutes.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=20, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.register_profile(
    "dev", max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_configure(config):
    config.addinivalue_line("markers", "long: runs for tens of seconds (a subprocess suite); collected first, "
                                       "see Note [long tests first] in tests/conftest.py")


def pytest_collection_modifyitems(config, items):
    # Note [long tests first]: a stable sort keeps the collection order within each group.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(autouse=True)
def _seed():
    import tapegrad
    tapegrad.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(scope="session")
def device():
    """The device the op harnesses (tests/ops/test_op_forward.py, test_op_grads.py) run on.

    "cpu" here; tests/cuda/test_sim_op_db.py overrides it with "cuda" and runs the same
    harness functions there. Session-scoped, so hypothesis tests may take it.
    """
    return "cpu"
