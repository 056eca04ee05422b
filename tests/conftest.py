"""Test configuration: hypothesis profiles ``ci`` (deterministic, bounded) and ``dev``.

The profile comes from ``HYPOTHESIS_PROFILE``; CI=true selects ``ci``.

Note [long tests first]: a test marked ``long`` (a simulated-CUDA subprocess shard, tens of seconds) is
moved to the front of the collection, and ``-n`` runs schedule with pytest-xdist's ``worksteal``
instead of its default ``load`` (unless ``--dist`` is given). ``load`` hands each worker a block of
consecutive tests up front and never takes them back: collected last, the long tests ended the run
on one worker while the other idled for minutes; collected first, they all land in the first
worker's block. With ``worksteal`` a worker that runs dry takes half of another's pending tests,
so the long tests start first, the short ones fill the gaps, and the workers finish together.
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
    explicit = any(a.startswith(("--dist", "-d")) for a in config.invocation_params.args)
    if getattr(config.option, "dist", "no") == "load" and not explicit:
        config.option.dist = "worksteal"            # Note [long tests first]
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
