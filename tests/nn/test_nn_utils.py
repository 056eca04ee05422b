"""nn.utils against PyTorch: gradient clipping (norm types 1, 2, inf, 0.5, 0, -inf), value clipping,
total norms, parameter <-> vector conversion."""
import math
import warnings

import numpy as np
import pytest

import tapegrad
from tapegrad import nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1)


def _grads_pair(scales=(1.0, 1.0, 1.0), dtype="float64"):
    """The same three gradients on tapegrad and torch Parameters (one Parameter has no grad)."""
    shapes = [(3, 4), (4,), (2, 2, 2)]
    arrays = [RNG.standard_normal(s).astype(dtype) * k for s, k in zip(shapes, scales)]
    ours, theirs = [], []
    for a in arrays:
        p = nn.Parameter(tapegrad.zeros(a.shape, dtype=getattr(tapegrad, dtype)))
        p.grad = tapegrad.tensor(a)
        q = torch.nn.Parameter(torch.zeros(a.shape, dtype=getattr(torch, dtype)))
        q.grad = torch.tensor(a)
        ours.append(p)
        theirs.append(q)
    ours.append(nn.Parameter(tapegrad.zeros(2)))          # no grad: skipped
    theirs.append(torch.nn.Parameter(torch.zeros(2)))
    return ours, theirs


@pytest.mark.parametrize("norm_type", [1, 2, math.inf, 0.5, 0, -math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.3, 1e4])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _grads_pair()
    got = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    want = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert got.dtype == tapegrad.float64 and got.shape == ()
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    for p, q in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(np.array(p.grad.tolist()), q.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert ours[3].grad is None


def test_clip_grad_norm_float32_single_tensor_and_generator():
    ours, theirs = _grads_pair(dtype="float32")
    got = nn.utils.clip_grad_norm_(ours[0], 0.5)
    want = torch.nn.utils.clip_grad_norm_(theirs[0], 0.5)
    assert got.dtype == tapegrad.float32
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)
    np.testing.assert_allclose(np.array(ours[0].grad.tolist()), theirs[0].grad.numpy(), rtol=1e-6)
    m, tm = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    assert nn.utils.clip_grad_norm_(m.parameters(), 1.0).item() == torch.nn.utils.clip_grad_norm_(
        tm.parameters(), 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_nonfinite_norm_raises_only_when_asked():
    for T in (tapegrad, torch):
        p = T.nn.Parameter(T.zeros(2))
        p.grad = T.tensor([1.0, float("inf")])
        with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
            T.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        assert math.isinf(T.nn.utils.clip_grad_norm_([p], 1.0).item())


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    ours, theirs = _grads_pair(scales=(5.0, 0.1, 2.0))
    for norm_type in (2.0, 3.0, math.inf):
        got = nn.utils.get_total_norm([p.grad for p in ours[:3]], norm_type)
        want = torch.nn.utils.get_total_norm([q.grad for q in theirs[:3]], norm_type)
        np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    assert nn.utils.get_total_norm([]).item() == torch.nn.utils.get_total_norm([]).item() == 0.0
    nn.utils.clip_grads_with_norm_(ours, 1.0, tapegrad.tensor(7.0, dtype=tapegrad.float64))
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.0, torch.tensor(7.0, dtype=torch.float64))
    for p, q in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(np.array(p.grad.tolist()), q.grad.numpy(), rtol=1e-12)


def test_clipping_is_in_place_and_not_recorded():
    p = nn.Parameter(tapegrad.ones(3))
    (p * 10).sum().backward()
    g = p.grad
    nn.utils.clip_grad_norm_([p], 1.0)
    assert p.grad is g and g.grad_fn is None and not g.requires_grad


def test_clip_grad_value_matches_torch():
    ours, theirs = _grads_pair(scales=(3.0, 3.0, 3.0))
    assert nn.utils.clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours[:3], theirs[:3]):
        np.testing.assert_array_equal(np.array(p.grad.tolist()), q.grad.numpy())


def test_parameters_to_vector_and_back_match_torch():
    ours, theirs = nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
    vec = RNG.standard_normal(8)
    nn.utils.vector_to_parameters(tapegrad.tensor(vec), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(vec), theirs.parameters())
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(np.array(p.tolist()), q.detach().numpy())
    v = nn.utils.parameters_to_vector(ours.parameters())
    np.testing.assert_array_equal(np.array(v.tolist()), vec)
    (v * tapegrad.arange(8.0, dtype=tapegrad.float64)).sum().backward()
    assert ours.bias.grad.tolist() == [6.0, 7.0]
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], ours.parameters())


def test_old_style_weight_norm_matches_torch():
    lin, tlin = nn.Linear(3, 4).double(), torch.nn.Linear(3, 4).double()
    with torch.no_grad():
        for p, q in zip(lin.parameters(), tlin.parameters()):
            q.copy_(torch.tensor(np.array(p.tolist())))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dim in (0, 1, None):
            a = nn.utils.weight_norm(nn.Linear(3, 4).double(), dim=dim)
            b = torch.nn.utils.weight_norm(torch.nn.Linear(3, 4).double(), dim=dim)
            assert [(k, tuple(v.shape)) for k, v in a.state_dict().items()] == \
                   [(k, tuple(v.shape)) for k, v in b.state_dict().items()]
        nn.utils.weight_norm(lin)
        torch.nn.utils.weight_norm(tlin)
    x = RNG.standard_normal((5, 3))
    y, ty = lin(tapegrad.tensor(x)), tlin(torch.tensor(x))
    np.testing.assert_allclose(np.array(y.tolist()), ty.detach().numpy(), rtol=1e-12)
    (y ** 2).sum().backward()
    (ty ** 2).sum().backward()
    for name in ("weight_g", "weight_v", "bias"):
        np.testing.assert_allclose(np.array(getattr(lin, name).grad.tolist()),
                                   getattr(tlin, name).grad.numpy(), rtol=1e-10)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), \
            pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(lin)
    nn.utils.remove_weight_norm(lin)
    torch.nn.utils.remove_weight_norm(tlin)
    assert list(lin.state_dict()) == list(tlin.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(np.array(lin.weight.tolist()), tlin.weight.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(lin)


def test_old_style_spectral_norm_matches_torch_given_the_same_start_vectors():
    lin, tlin = nn.Linear(5, 4).double(), torch.nn.Linear(5, 4).double()
    with torch.no_grad():
        for p, q in zip(lin.parameters(), tlin.parameters()):
            q.copy_(torch.tensor(np.array(p.tolist())))
    nn.utils.spectral_norm(lin)
    torch.nn.utils.spectral_norm(tlin)
    assert list(lin.state_dict()) == list(tlin.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    lin.weight_u.copy_(tapegrad.tensor(tlin.weight_u.numpy()))
    lin.weight_v.copy_(tapegrad.tensor(tlin.weight_v.numpy()))
    x = RNG.standard_normal((3, 5))
    for _ in range(3):                                   # power iteration runs in training mode
        y, ty = lin(tapegrad.tensor(x)), tlin(torch.tensor(x))
        np.testing.assert_allclose(np.array(y.tolist()), ty.detach().numpy(), rtol=1e-10)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(np.array(lin.weight_orig.grad.tolist()), tlin.weight_orig.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(np.array(lin.weight_u.tolist()), tlin.weight_u.numpy(), rtol=1e-10)
    nn.utils.remove_spectral_norm(lin)
    torch.nn.utils.remove_spectral_norm(tlin)
    assert list(lin.state_dict()) == list(tlin.state_dict())
    np.testing.assert_allclose(np.array(lin.weight.tolist()), tlin.weight.detach().numpy(), rtol=1e-10)


def test_deprecated_clip_grad_norm_warns_and_clips_like_torch():
    for T in (tapegrad, torch):
        p = T.nn.Parameter(T.zeros(2))
        p.grad = T.tensor([3.0, 4.0])
        with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
            assert T.nn.utils.clip_grad_norm(p, 1.0).item() == 5.0
        np.testing.assert_allclose(np.array(p.grad.tolist()), [0.6, 0.8], rtol=1e-6)
