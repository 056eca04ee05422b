"""Optimizer trajectories against torch on the paths plain tests miss: non-contiguous parameters and gradients,
every option, the first step, a state_dict round trip mid-training, and the fused kernels vs the fallback.

Gradients are a fixed function of the parameters (computed in NumPy), handed to both libraries in the same
memory layout, so both follow one trajectory; float64 runs agree with torch to ~1e-12.
"""
import numpy as np
import pytest

import tapegrad
from tapegrad import optim
from tapegrad.backend import CPU_BACKEND

STEPS = 8
SHAPE = (3, 4)

CONFIGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.7, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CONFIGS]

# Layouts of (parameter, gradient): "c" contiguous; "t" a transposed view; "alt" a transposed gradient on
# even steps and a contiguous one on odd steps (a momentum buffer made from the first keeps its layout).
LAYOUTS = [("c", "c"), ("t", "t"), ("t", "c"), ("c", "t"), ("c", "alt"), ("t", "alt")]


def _grad(p):
    return 2.0 * p * np.linspace(0.5, 2.0, p.size).reshape(p.shape) + np.sin(3 * p)


def _p0(dtype=np.float64):
    return np.random.default_rng(0).standard_normal(SHAPE).astype(dtype)


def _layout(lib, a, kind, step=0):
    """``a`` as a ``lib`` tensor in layout ``kind`` (a transposed view still holds the same values)."""
    if kind == "t" or (kind == "alt" and step % 2 == 0):
        return lib.tensor(np.ascontiguousarray(a.T)).t()
    return lib.tensor(np.ascontiguousarray(a))


def _param(lib, a, kind):
    p = _layout(lib, a, kind).detach().requires_grad_()
    assert p.is_leaf and tuple(p.shape) == a.shape
    return p


def _run(lib, name, kw, layout=("c", "c"), steps=STEPS, dtype=np.float64, opt=None, p=None):
    p = _param(lib, _p0(dtype), layout[0]) if p is None else p
    opt = getattr(lib.optim, name)([p], **kw) if opt is None else opt
    for i in range(steps):
        a = p.detach().numpy()
        p.grad = _layout(lib, _grad(a).astype(a.dtype), layout[1], i)
        opt.step()
    return p, opt


@pytest.mark.parametrize("layout", LAYOUTS, ids=["-".join(l) for l in LAYOUTS])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_trajectory_matches_torch(name, kw, layout):
    torch = pytest.importorskip("torch")
    ours, _ = _run(tapegrad, name, kw, layout)
    theirs, _ = _run(torch, name, kw, layout)
    if layout[0] == "t":
        assert not CPU_BACKEND.is_contiguous(ours._data)         # the strided path really ran
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("layout", [("c", "c"), ("t", "t")], ids=["contiguous", "strided"])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_first_step_is_bias_corrected(name, layout):
    # After one step m_hat = g and v_hat = g^2, so each entry moves by lr * g / (|g| + eps) exactly.
    lr, eps = 0.1, 1e-3
    p, _ = _run(tapegrad, name, dict(lr=lr, eps=eps, weight_decay=0.0), layout, steps=1)
    p0 = _p0()
    g = _grad(p0)
    np.testing.assert_allclose(p.detach().numpy(), p0 - lr * g / (np.abs(g) + eps), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("layout", [("c", "c"), ("t", "alt")], ids=["contiguous", "strided"])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_state_dict_round_trip_mid_training_continues_the_same_trajectory(name, kw, layout, tmp_path):
    whole, _ = _run(tapegrad, name, kw, layout)
    half, opt = _run(tapegrad, name, kw, layout, steps=STEPS // 2)
    tapegrad.save(opt.state_dict(), tmp_path / "opt.tg")
    p2 = _param(tapegrad, half.detach().numpy(), layout[0])
    opt2 = getattr(optim, name)([p2], lr=123.0)                    # hyperparameters come from the state dict
    opt2.load_state_dict(tapegrad.load(tmp_path / "opt.tg"))
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    for i in range(STEPS // 2, STEPS):
        p2.grad = _layout(tapegrad, _grad(p2.detach().numpy()), layout[1], i)
        opt2.step()
    np.testing.assert_array_equal(p2.detach().numpy(), whole.detach().numpy())


FUSED = [(n, kw) for n, kw in CONFIGS if n in ("SGD", "Adam", "AdamW") and not kw.get("amsgrad")]


@pytest.fixture
def no_fused(monkeypatch):
    """Take the fused kernels away from the CPU backend: every update runs the in-place operator code."""
    def off():
        monkeypatch.setattr(type(CPU_BACKEND), "sgd_update_", None)
        monkeypatch.setattr(type(CPU_BACKEND), "adam_update_", None)
        monkeypatch.setattr(type(CPU_BACKEND), "sgd_update_multi_", None)
        monkeypatch.setattr(type(CPU_BACKEND), "adam_update_multi_", None)
    return off


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kw", FUSED, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FUSED)])
def test_fused_and_fallback_updates_agree(name, kw, dtype, no_fused, monkeypatch):
    calls = []
    for attr in ("sgd_update_", "adam_update_", "sgd_update_multi_", "adam_update_multi_"):
        orig = getattr(CPU_BACKEND, attr)
        counted = staticmethod(lambda *a, _f=orig, **k: calls.append(1) or _f(*a, **k))
        monkeypatch.setattr(type(CPU_BACKEND), attr, counted)
    fused, _ = _run(tapegrad, name, kw, ("c", "c"), dtype=dtype)
    assert len(calls) == STEPS                                   # the fused kernel ran every step
    strided, _ = _run(tapegrad, name, kw, ("t", "t"), dtype=dtype)  # strided arrays take the fallback
    assert len(calls) == STEPS
    no_fused()
    fallback, _ = _run(tapegrad, name, kw, ("c", "c"), dtype=dtype)
    assert fused.dtype == fallback.dtype == strided.dtype == getattr(tapegrad, np.dtype(dtype).name)
    # Same formulas; the only freedom is rounding (Adam's kernel divides before or after the step size).
    rtol = 1e-14 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(fused.detach().numpy(), fallback.detach().numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(strided.detach().numpy(), fallback.detach().numpy())


def test_sgd_momentum_buffer_from_a_strided_gradient_is_not_dropped_by_the_fused_kernel():
    # step 1: a transposed gradient -> the fallback makes the buffer, with the gradient's layout;
    # step 2: a contiguous gradient -> the fused kernel must not run on a reshaped copy of that buffer.
    p, opt = _run(tapegrad, "SGD", dict(lr=0.1, momentum=0.9), ("c", "alt"), steps=2)
    p0 = _p0()
    g0 = _grad(p0)
    p1 = p0 - 0.1 * g0
    buf = 0.9 * g0 + _grad(p1)
    np.testing.assert_allclose(p.detach().numpy(), p1 - 0.1 * buf, rtol=1e-14)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), buf, rtol=1e-14)


def test_updates_write_through_a_strided_parameter_to_its_base():
    base = tapegrad.tensor(_p0().T.copy())
    p = base.t().detach().requires_grad_()
    p.grad = tapegrad.ones(*SHAPE, dtype=tapegrad.float64)
    optim.SGD([p], lr=0.5, momentum=0.9).step()
    np.testing.assert_array_equal(base.numpy(), _p0().T - 0.5)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.05, amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))],
                         ids=["Adam", "SGD", "RMSprop"])
def test_loaded_state_takes_each_parameters_dtype_as_in_torch(name, kw):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tapegrad, torch):
        _, opt64 = _run(lib, name, kw, steps=3)
        p32 = _param(lib, _p0(np.float32), "c")
        opt = getattr(lib.optim, name)([p32], **kw)
        opt.load_state_dict(opt64.state_dict())
        for k, v in opt.state[p32].items():
            if k != "step":
                assert v.dtype == lib.float32, (lib.__name__, k, v.dtype)
        results.append(_run(lib, name, kw, steps=3, opt=opt, p=p32)[0].detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,kw", [("SGD", dict(momentum=0.9, weight_decay=0.1)), ("Adam", dict(amsgrad=True)),
                                     ("AdamW", {}), ("Adam", {}), ("RMSprop", dict(centered=True))],
                         ids=["SGD", "Adam-amsgrad", "AdamW", "Adam-fused", "RMSprop"])
def test_tensor_hyperparameters_match_torch_and_are_read_every_step(name, kw):
    # A one-element Tensor lr (and Tensor betas) as torch allows; changing it in place changes later steps.
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tapegrad, torch):
        lr = lib.tensor(0.05, dtype=lib.float64)
        extra = dict(betas=(lib.tensor(0.8, dtype=lib.float64), lib.tensor(0.9, dtype=lib.float64))) \
            if name.startswith("Adam") else {}
        p, opt = _run(lib, name, dict(kw, lr=lr, **extra), steps=3)
        lr.mul_(0.5)
        out.append(_run(lib, name, kw, steps=3, opt=opt, p=p)[0].detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12, atol=1e-13)
