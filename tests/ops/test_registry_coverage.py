"""The op database covers the registry: every op with a VJP is gradient-checked by some OpSpec."""
import pytest

from tapegrad.ops.registry import REGISTRY
from op_db import load_all


def _specs():
    return load_all()


def test_every_op_with_a_vjp_has_a_gradient_spec():
    covered = {name for s in _specs() if s.grad for name in s.covers}
    missing = sorted(n for n, d in REGISTRY.items() if d.vjp_fn is not None and n not in covered)
    if missing:
        pytest.fail(f"registered ops with a VJP that no OpSpec with grad=True covers: {', '.join(missing)}; "
                    "add an OpSpec (covers=(name,)) to tests/op_db/<family>.py")


def test_every_registered_op_has_a_spec():
    covered = {name for s in _specs() for name in s.covers}
    missing = sorted(n for n in REGISTRY if n not in covered)
    if missing:
        pytest.fail(f"registered ops that no OpSpec covers: {', '.join(missing)}")


def test_covers_name_registered_ops():
    unknown = sorted({(s.name, n) for s in _specs() for n in s.covers if n not in REGISTRY})
    if unknown:
        pytest.fail("OpSpecs cover ops that are not registered (typos?): "
                    + ", ".join(f"{s} covers {n!r}" for s, n in unknown))


def test_specs_are_complete():
    for s in _specs():
        # Forward-only functions outside the registry (nonzero: data-dependent shape) cover no op.
        assert s.covers or not s.grad, f"OpSpec {s.name} checks gradients but covers no registered op"
        assert s.grad or not s.gradgrad, f"OpSpec {s.name}: gradgrad=True needs grad=True"
        assert bool(s.int_args) == (s.index_args is not None), \
            f"OpSpec {s.name}: int_args and index_args go together"
