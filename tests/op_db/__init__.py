"""The op database: one ``OpSpec`` per public op, driving the forward and gradient harnesses.

Each family file (``elementwise.py``, ``reduction.py`` ...) appends specs to
``SPECS`` with ``add(OpSpec(...))``. ``test_registry_coverage`` fails when a
registered differentiable op is covered by no spec, so adding an op means
adding a spec here, and no new test file.

An ``OpSpec``:
    name      unique id of the spec (test ids)
    fn        the tapegrad callable: ``fn(*tensors, **kwargs)``
    ref       the NumPy reference: ``ref(*arrays, **kwargs)`` (None: skip the forward check)
    shapes    a hypothesis strategy of a tuple of shapes, one per tensor input
    kwargs    ``lambda shapes: strategy of dict`` (keyword arguments; default: no kwargs)
    domain    ``(low, high)`` for every input, or a list of them per input
    avoid     ``lambda *arrays, **kwargs: bool``: True rejects the draw (kinks, ties, poles)
    covers    registry op names this spec exercises (for the coverage test)
    grad      check first derivatives      gradgrad  check second derivatives
    int_args  positions that are integer index tensors (drawn by ``index_args``)
    index_args ``lambda shapes, kwargs: strategy of tuple of NumPy int arrays`` for those positions
    atol, rtol tolerances for the float64 finite-difference comparison
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

SPECS = []


@dataclass
class OpSpec:
    name: str
    fn: Callable
    ref: Optional[Callable]
    shapes: Any
    kwargs: Optional[Callable] = None
    domain: Any = (-2.0, 2.0)
    avoid: Optional[Callable] = None
    covers: Sequence[str] = field(default_factory=tuple)
    grad: bool = True
    gradgrad: bool = True
    atol: float = 1e-5
    rtol: float = 1e-4
    extra: dict = field(default_factory=dict)


def add(spec):
    if any(s.name == spec.name for s in SPECS):
        raise ValueError(f"duplicate OpSpec name {spec.name!r}")
    SPECS.append(spec)
    return spec


def load_all():
    """Import every family file so SPECS is complete."""
    import importlib
    import pkgutil
    for m in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{m.name}")
    return SPECS
