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
    int_args  positions (in the call) of integer index tensors, inserted among the float inputs
    index_args ``lambda shapes, kwargs: strategy of tuple of NumPy int arrays`` for those positions
    atol, rtol tolerances for the float64 finite-difference comparison
    eps       finite-difference step (raise it for ops that round internally)
    dtypes    dtype names the forward harness runs (the gradient harness always uses float64)
    fwd_atol, fwd_rtol  forward tolerances in float32 (float64 uses 1e-6 times them)
    examples  deterministic ``Example`` cases run besides the random draws (structural
              cases random draws rarely hit: every permutation, ties, bounds, repeated
              indices, size-0 and size-1 dims)
    torch_fn  ``torch_fn(torch, *tensors, **kwargs)``: the same call in PyTorch, the oracle
              for ``Example(kink=True)`` gradients
    out_device the device every output lands on when it is not the inputs' (a transfer op)

The harnesses (tests/ops/test_op_forward.py, test_op_grads.py) take a
``device``: a case is drawn on the CPU and moved there with ``on_device``,
which keeps its layout. tests/cuda/test_sim_op_db.py runs the same harness
functions with ``device="cuda"``.

The harnesses draw the float inputs with ``tapegrad.testing.tensors`` (so
sometimes non-contiguous) in ``domain``, call ``fn(*tensors, **kwargs)`` and
``ref(*arrays, **kwargs)`` with the integer arrays inserted at ``int_args``.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

SPECS = []


@dataclass
class Example:
    """One deterministic case of an OpSpec.

    ``inputs`` are array-likes in call order: integer ones become int64 index
    tensors, the others float tensors of the harness's dtype. ``kink=True``
    marks a point where finite differences are meaningless (a tie, a clamp
    bound): the gradient harness compares with ``spec.torch_fn`` there instead.
    """
    inputs: Sequence
    kwargs: dict = field(default_factory=dict)
    kink: bool = False


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
    int_args: Sequence[int] = field(default_factory=tuple)
    index_args: Optional[Callable] = None
    eps: float = 1e-6
    dtypes: Sequence[str] = ("float32", "float64")
    fwd_atol: float = 1e-6
    fwd_rtol: float = 1e-5
    examples: Sequence = field(default_factory=tuple)
    torch_fn: Optional[Callable] = None
    out_device: Optional[str] = None


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


def domains(spec, n):
    """The ``(low, high)`` domain (or element strategy) of each of the ``n`` float inputs."""
    return list(spec.domain) if isinstance(spec.domain, list) else [spec.domain] * n


def draw_case(data, spec, dtype):
    """Draw one case of ``spec`` with hypothesis ``data``: ``(tensors, arrays, kwargs)``.

    ``tensors`` are the call's arguments (float tensors of ``dtype``, sometimes
    non-contiguous, with integer index tensors at ``int_args``); ``arrays`` the
    same values as NumPy arrays for ``ref``. Cases ``avoid`` rejects are skipped
    with ``hypothesis.assume``.
    """
    import numpy as np
    import tapegrad
    from hypothesis import assume
    from tapegrad.testing import tensors
    shapes = data.draw(spec.shapes, label="shapes")
    kwargs = data.draw(spec.kwargs(shapes), label="kwargs") if spec.kwargs is not None else {}
    ts = [data.draw(tensors(tuple(s), dtype=dtype, elements=dom), label=f"input {i}")
          for i, (s, dom) in enumerate(zip(shapes, domains(spec, len(shapes))))]
    arrays = [t.numpy() for t in ts]
    if spec.int_args:
        idx = data.draw(spec.index_args(shapes, kwargs), label="index arrays")
        for p, a in sorted(zip(spec.int_args, idx), key=lambda pa: pa[0]):
            a = np.asarray(a, dtype=np.int64)
            ts.insert(p, tapegrad.from_numpy(a))
            arrays.insert(p, a)
    if spec.avoid is not None:
        assume(not spec.avoid(*arrays, **kwargs))
    return ts, arrays, kwargs


def example_params(specs, with_dtypes=False):
    """pytest params ``(spec, example)`` (with each of ``spec.dtypes`` when ``with_dtypes``), id'd by index."""
    import pytest
    out = []
    for s in specs:
        for i, ex in enumerate(s.examples):
            for d in (s.dtypes if with_dtypes else (None,)):
                args = (s, ex, d) if with_dtypes else (s, ex)
                out.append(pytest.param(*args, id=f"{s.name}-ex{i}" + (f"-{d}" if d else "")))
    return out


def example_case(ex, dtype):
    """``(tensors, arrays, kwargs)`` of an ``Example``, as ``draw_case`` returns them."""
    import numpy as np
    import tapegrad
    ts, arrays = [], []
    for a in ex.inputs:
        a = np.asarray(a)
        if a.dtype.kind in "iu":
            a = a.astype(np.int64)
        else:
            a = a.astype(dtype.np)
        arrays.append(a)
        ts.append(tapegrad.from_numpy(a.copy()))
    return ts, arrays, dict(ex.kwargs)


# ----------------------------------------------------------------- running a case on a device

def on_device(x, device):
    """``x`` on ``device`` with the same layout: a transposed or every-other-element view stays one.

    A tensor already there is returned as it is (the CPU harness runs the drawn
    tensors themselves); anything but a tensor passes through.
    """
    import numpy as np
    import tapegrad
    if not isinstance(x, tapegrad.Tensor) or x.device == tapegrad.device(device):
        return x
    a = x.detach().cpu().numpy()
    if a.ndim == 0 or a.flags.c_contiguous or a.size == 0:
        return tapegrad.from_numpy(np.array(a, order="C")).to(device)
    if a.T.flags.c_contiguous:
        return tapegrad.from_numpy(np.array(a.T, order="C")).to(device).permute(*range(a.ndim - 1, -1, -1))
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    return tapegrad.from_numpy(wide).to(device)[..., ::2]


def case_on_device(ts, kwargs, device):
    """The call's tensors and keyword arguments moved by ``on_device``."""
    return [on_device(t, device) for t in ts], {k: on_device(v, device) for k, v in kwargs.items()}


def host(x):
    """The values of tensor ``x`` as a NumPy array on the host."""
    return x.detach().cpu().numpy()


def assert_matches_cpu(name, dtype, got, want, what):
    """``got`` (computed on a device) equals ``want`` (the same call on the CPU) in dtype, shape and value.

    The tolerance is relative to the largest value: a device may sum in another order.
    """
    import numpy as np
    g, w = host(got), host(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (
        f"{name} ({dtype}) {what}: {got.device} gave {g.dtype}{g.shape}, cpu {w.dtype}{w.shape}")
    if w.dtype.kind != "f":
        np.testing.assert_array_equal(g, w, err_msg=f"{name} ({dtype}) {what} on {got.device} vs cpu")
        return
    scale = float(np.max(np.abs(w), initial=1.0)) if w.size else 1.0
    scale = scale if np.isfinite(scale) else 1.0
    rtol = 2e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale, equal_nan=True,
                               err_msg=f"{name} ({dtype}) {what} on {got.device} vs cpu")
