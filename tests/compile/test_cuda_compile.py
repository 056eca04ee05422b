"""The compile harness on device='cuda': every op-database spec, compiled inside a small
forward+backward function, equals the eager run on the device (values and gradients), on the
tracing call and on two replays after the input values change.

As tests/compile/test_op_db_compile.py does on the CPU, with the case drawn on the CPU and moved
to the device keeping its layout (``op_db.on_device``: transposed or every-other-element views
stay views). A spec the trace cannot capture must fall back to eager with a recorded reason, and
its values must still equal eager; an op the GPU cannot run must raise the same
NotImplementedError compiled as eager (tests/cuda/test_sim_op_db.py checks it names the op).

The kernels need a GPU or numba's simulator, which is chosen when numba is imported: with a GPU
(or under ``NUMBA_ENABLE_CUDASIM=1``) the harness runs in this process; otherwise
``test_harness_under_simulator`` reruns this file under the simulator, one process per shard
(``TAPEGRAD_COMPILE_SHARD=i/n`` keeps every n-th spec from the i-th).
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import Phase, given, settings, strategies as st

import tapegrad
from op_db import draw_case, load_all, on_device
from test_op_db_compile import _body          # the same forward+backward function as on the CPU

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
N_SHARDS = 4
_HAS_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None


def _kernels_run_here():
    if not _HAS_NUMBA_CUDA:
        return False
    return SIMULATED or tapegrad.cuda.is_available()


HERE = _kernels_run_here()
if HERE and SIMULATED:
    sys.setswitchinterval(5e-4)         # as tests/cuda/conftest.py: simulated barriers poll the GIL

_shard = os.environ.get("TAPEGRAD_COMPILE_SHARD")
_i, _n = (int(v) for v in _shard.split("/")) if _shard else (0, 1)
SPECS = load_all()[_i::_n] if HERE else []
needs_kernels = pytest.mark.skipif(not HERE, reason="no GPU and not under the simulator "
                                                    "(test_harness_under_simulator runs this file there)")


def _leaves(ts, scale):
    """The case's tensors on cuda in the same layout, float ones scaled and made leaves that require grad."""
    out = []
    for t in ts:
        d = on_device(t, "cuda")
        if t.dtype.is_floating_point:
            with tapegrad.no_grad():
                d.mul_(scale)
            d.requires_grad_()
        out.append(d)
    return out


def _same(got, want, what, fused):
    g, w = got.detach().cpu().numpy(), want.detach().cpu().numpy()
    assert got.device == want.device and g.dtype == w.dtype and g.shape == w.shape, (
        f"{what}: compiled {got.device} {g.dtype}{g.shape}, eager {want.device} {w.dtype}{w.shape}")
    if fused and w.dtype.kind == "f":    # a fused kernel may round differently (issue 12: float tolerance)
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


REPLAYED = {}       # spec name -> True, or the first fallback reason, or "NotImplementedError: ..."


@needs_kernels
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
@settings(max_examples=1, deadline=None, phases=[Phase.generate])    # no shrinking: slow under the simulator
@given(data=st.data())
def test_compiled_equals_eager_on_cuda(spec, data):
    dtype = "float32" if "float32" in spec.dtypes else spec.dtypes[0]
    ts, _, kwargs = draw_case(data, spec, getattr(tapegrad, dtype))
    kwargs = {k: on_device(v, "cuda") for k, v in kwargs.items()}
    f = _body(spec, kwargs)
    cf = tapegrad.compile(f)
    for scale in (1.0, 0.75, 0.5):             # the first call traces, the others replay
        a, b = _leaves(ts, scale), _leaves(ts, scale)
        tapegrad.manual_seed(7)
        try:
            want = f(*a)
        except NotImplementedError as e:
            tapegrad.manual_seed(7)
            with pytest.raises(NotImplementedError) as got:
                cf(*b)
            assert str(got.value) == str(e), spec.name
            REPLAYED[spec.name] = f"NotImplementedError: {e}"
            return
        tapegrad.manual_seed(7)
        got = cf(*b)
        fused = "fused" in cf.program()     # fusion steps (when they come) may round otherwise
        assert len(got) == len(want), spec.name
        for i, (g, w) in enumerate(zip(got, want)):
            if isinstance(w, tapegrad.Tensor):
                _same(g, w, f"{spec.name} output {i} (scale {scale})", fused)
            else:
                assert g == w, spec.name
        for i, (x, y) in enumerate(zip(a, b)):
            assert (x.grad is None) == (y.grad is None), f"{spec.name}: gradient of input {i}"
            if x.grad is not None:
                _same(y.grad, x.grad, f"{spec.name} gradient of input {i} (scale {scale})", fused)
    s = cf.stats()
    assert s["traces"] + s["replays"] + s["eager_calls"] == 3
    assert s["replays"] == 2 or s["fallbacks"], s          # a spec that did not replay says why
    REPLAYED[spec.name] = s["replays"] == 2 or s["fallbacks"][0]


@needs_kernels
def test_most_specs_replay_on_cuda(capsys):
    """Guards the harness itself: it must exercise replays, not only fallbacks (run after the specs).

    Prints each spec that did not replay with its reason (``-s`` shows them)."""
    if len(REPLAYED) < len(SPECS):
        pytest.skip("needs the whole harness (or shard) in this session")
    with capsys.disabled():
        for k, v in sorted(REPLAYED.items()):
            if v is not True:
                print(f"\nnot replayed: {k}: {v}", end="")
    replayed = sum(v is True for v in REPLAYED.values())
    assert replayed > 0.6 * len(SPECS), {k: v for k, v in REPLAYED.items() if v is not True}


# ----------------------------------------------------------------- the launcher

@pytest.mark.long
@pytest.mark.skipif(HERE, reason="the kernels run in this process: the harness above runs here")
@pytest.mark.skipif(not _HAS_NUMBA_CUDA, reason='the cuda extra (numba-cuda) is not installed')
@pytest.mark.parametrize("shard", range(N_SHARDS), ids=[f"{i + 1}of{N_SHARDS}" for i in range(N_SHARDS)])
def test_harness_under_simulator(shard):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", TAPEGRAD_COMPILE_SHARD=f"{shard}/{N_SHARDS}")
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--no-header", "-rs",
                        os.path.relpath(__file__, ROOT)], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, f"simulated shard {shard} failed:\n{r.stdout[-8000:]}\n{r.stderr[-4000:]}"
    assert " passed" in r.stdout, r.stdout[-4000:]
    assert "needs the whole harness" not in r.stdout, r.stdout[-4000:]     # the replay count was checked
