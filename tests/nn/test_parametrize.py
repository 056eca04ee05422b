"""nn.utils.parametrize and nn.utils.parametrizations against PyTorch: values, gradients, state_dict keys,
class swapping, caching, right_inverse, removal."""
import copy

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.nn.utils import parametrize, parametrizations

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(2)


def _np(t):
    return np.array(t.detach().tolist()) if hasattr(t, "tolist") else t


def _pair(make, *shape_args):
    ours, theirs = make(nn, *shape_args).double(), make(torch.nn, *shape_args).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.tensor(_np(p)))
    return ours, theirs


def _lin(N, *a):
    return N.Linear(*a)


def _symmetric(T):
    class Symmetric(T.nn.Module):
        def forward(self, x):
            return (x + x.transpose(0, 1)) / 2

        def right_inverse(self, a):
            return a * 1.0

    return Symmetric()


def _scale(T, k):
    class Scale(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.k = T.nn.Parameter(T.tensor(k, dtype=T.float64))

        def forward(self, x):
            return x * self.k

        def right_inverse(self, y):
            return y / self.k

    return Scale()


def _compare_training_step(ours, theirs, x):
    y, ty = ours(tapegrad.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(_np(y), _np(ty), rtol=1e-10, atol=1e-12)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    got = {k: _np(p.grad) for k, p in ours.named_parameters()}
    want = {k: q.grad.numpy() for k, q in theirs.named_parameters()}
    assert list(got) == list(want)
    for k in got:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12, err_msg=k)


def test_chained_parametrizations_values_grads_and_state_dict_match_torch():
    ours, theirs = _pair(_lin, 3, 3)
    for mod, T in ((ours, tapegrad), (theirs, torch)):
        parametrize.register_parametrization(mod, "weight", _symmetric(T)) if T is tapegrad else \
            torch.nn.utils.parametrize.register_parametrization(mod, "weight", _symmetric(T))
    parametrize.register_parametrization(ours, "weight", _scale(tapegrad, 3.0))
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _scale(torch, 3.0))
    assert type(ours).__name__ == type(theirs).__name__ == "ParametrizedLinear"
    keys = [(k, tuple(v.shape)) for k, v in ours.state_dict().items()]
    assert keys == [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert "parametrizations.weight.original" in dict(keys) and "parametrizations.weight.1.k" in dict(keys)
    assert ours.parametrizations.weight.original is ours.get_parameter("parametrizations.weight.original")
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=1e-12)
    _compare_training_step(ours, theirs, RNG.standard_normal((4, 3)))
    assert parametrize.is_parametrized(ours) and parametrize.is_parametrized(ours, "weight")
    assert not parametrize.is_parametrized(ours, "bias")
    assert parametrize.type_before_parametrizations(ours) is nn.Linear
    assert repr(ours).replace("tapegrad", "torch") == repr(theirs)


def test_assigning_the_tensor_runs_right_inverse_like_torch():
    ours, theirs = _pair(_lin, 3, 3)
    parametrize.register_parametrization(ours, "weight", _scale(tapegrad, 2.0))
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _scale(torch, 2.0))
    orig = ours.parametrizations.weight.original
    value = RNG.standard_normal((3, 3))
    ours.weight = tapegrad.tensor(value)
    theirs.weight = torch.tensor(value)
    assert ours.parametrizations.weight.original is orig
    np.testing.assert_allclose(_np(orig), _np(theirs.parametrizations.weight.original), rtol=1e-12)
    np.testing.assert_allclose(_np(ours.weight), value, rtol=1e-12)


def test_remove_parametrizations_both_ways_like_torch():
    for leave in (True, False):
        ours, theirs = _pair(_lin, 3, 3)
        w = ours.weight
        parametrize.register_parametrization(ours, "weight", _scale(tapegrad, 2.0))
        torch.nn.utils.parametrize.register_parametrization(theirs, "weight", _scale(torch, 2.0))
        parametrize.remove_parametrizations(ours, "weight", leave_parametrized=leave)
        torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight", leave_parametrized=leave)
        assert type(ours) is nn.Linear and not hasattr(ours, "parametrizations")
        assert ours.weight is w and isinstance(ours.weight, nn.Parameter)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=1e-12)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        parametrize.remove_parametrizations(ours, "weight")


def test_cached_computes_once_and_registration_errors():
    calls = []

    class Count(nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 1.0

    lin = parametrize.register_parametrization(nn.Linear(2, 2), "weight", Count())
    calls.clear()
    with parametrize.cached():
        a, b = lin.weight, lin.weight
    assert a is b and len(calls) == 1
    lin.weight
    assert len(calls) == 2

    class Shrink(nn.Module):
        def forward(self, x):
            return x[:1]

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nope", Count())
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        copy.copy(lin).__getstate__()


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization_matches_torch(dim):
    ours, theirs = _pair(_lin, 3, 4)
    parametrizations.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    keys = [(k, tuple(v.shape)) for k, v in ours.state_dict().items()]
    assert keys == [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(_np(v), _np(theirs.state_dict()[k]), rtol=1e-12)
    _compare_training_step(ours, theirs, RNG.standard_normal((5, 3)))


def test_spectral_norm_parametrization_matches_torch_given_the_same_vectors():
    ours, theirs = _pair(_lin, 5, 4)
    parametrizations.spectral_norm(ours)
    torch.nn.utils.parametrizations.spectral_norm(theirs)
    keys = [(k, tuple(v.shape)) for k, v in ours.state_dict().items()]
    assert keys == [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    sn = ours.parametrizations.weight[0]
    tsn = theirs.parametrizations.weight[0]
    sn._u.copy_(tapegrad.tensor(tsn._u.numpy()))
    sn._v.copy_(tapegrad.tensor(tsn._v.numpy()))
    _compare_training_step(ours, theirs, RNG.standard_normal((3, 5)))
    np.testing.assert_allclose(_np(sn._u), tsn._u.numpy(), rtol=1e-10)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=1e-10)
    s = np.linalg.svd(_np(ours.weight), compute_uv=False)[0]
    assert abs(s - 1.0) < 1e-3


@pytest.mark.parametrize("shape,orth_map", [((4, 4), None), ((3, 5), None), ((5, 3), None), ((5, 3), "matrix_exp"),
                                            ((4, 4), "householder")])
def test_orthogonal_parametrization_matches_torch(shape, orth_map):
    ours, theirs = _pair(_lin, shape[1], shape[0])
    parametrizations.orthogonal(ours, orthogonal_map=orth_map)
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map=orth_map)
    keys = [(k, tuple(v.shape)) for k, v in ours.state_dict().items()]
    assert keys == [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    # A non-square weight is completed with random columns into the base: take torch's draw.
    ours.parametrizations.weight[0].base.copy_(tapegrad.tensor(theirs.parametrizations.weight[0].base.numpy()))
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(_np(v), _np(theirs.state_dict()[k]), rtol=1e-9, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=1e-9, atol=1e-12)
    _compare_training_step(ours, theirs, RNG.standard_normal((3, shape[1])))
    w = _np(ours.weight)
    small = min(shape)
    np.testing.assert_allclose(w @ w.T if shape[0] == small else w.T @ w, np.eye(small), atol=1e-10)
    # Away from the starting point too (where torch's householder map truncates diag(X) with .int()).
    with torch.no_grad():
        theirs.parametrizations.weight.original.add_(torch.tensor(0.3 * RNG.standard_normal(shape)))
    ours.parametrizations.weight.original.data = tapegrad.tensor(
        theirs.parametrizations.weight.original.detach().numpy().copy())
    ours.zero_grad()
    theirs.zero_grad()
    _compare_training_step(ours, theirs, RNG.standard_normal((3, shape[1])))


def test_orthogonal_maps_tapegrad_lacks_say_so():
    with pytest.raises(NotImplementedError, match="geqrf"):
        parametrizations.orthogonal(nn.Linear(3, 4), orthogonal_map="householder", use_trivialization=False)
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="nope")


def test_weight_norm_loads_an_old_style_checkpoint_like_torch():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = nn.utils.weight_norm(nn.Linear(3, 2).double())
    sd = old.state_dict()
    assert list(sd) == ["bias", "weight_g", "weight_v"]
    ours = parametrizations.weight_norm(nn.Linear(3, 2).double())
    theirs = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 2).double())
    assert repr(ours.load_state_dict(sd)) == "<All keys matched successfully>"
    assert repr(theirs.load_state_dict({k: torch.tensor(_np(v)) for k, v in sd.items()})) == \
        "<All keys matched successfully>"
    assert list(sd) == ["bias", "weight_g", "weight_v"]          # the caller's dict is left alone
    np.testing.assert_allclose(_np(ours.weight), _np(old.weight), rtol=1e-12)
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=1e-12)


def test_load_state_dict_pre_hooks_see_prefixes_like_torch():
    def run(T):
        seen = []
        net = T.nn.Sequential(T.nn.Linear(1, 1), T.nn.Sequential(T.nn.Linear(1, 1)))
        h = net[1][0].register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, meta, strict, missing, unexpected, errors: seen.append((type(mod).__name__,
                                                                                             prefix, strict)))
        net.load_state_dict(net.state_dict())
        h.remove()
        net.load_state_dict(net.state_dict())
        return seen

    assert run(tapegrad) == run(torch) == [("Linear", "1.0.", True)]


def test_deepcopy_of_a_parametrized_module_works_like_torch():
    for T in (tapegrad, torch):
        lin = T.nn.utils.parametrizations.weight_norm(T.nn.Linear(2, 2))
        c = copy.deepcopy(lin)
        assert type(c).__name__ == "ParametrizedLinear"
        assert list(c.state_dict()) == ["bias", "parametrizations.weight.original0",
                                        "parametrizations.weight.original1"]
        assert c.parametrizations.weight.original0 is not lin.parametrizations.weight.original0
        assert (c.weight == lin.weight).all()
        with pytest.raises(RuntimeError, match="only supported through state_dict"):
            lin.__getstate__()
