"""``AdaptiveMaxPool3d``/``F.adaptive_max_pool3d``, ``LPPool3d``/``F.lp_pool3d``, the ``F.*_with_indices`` names and
``ChannelShuffle``/``F.channel_shuffle`` against PyTorch: values, indices, input gradients, signatures and repr."""
import inspect

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.nn import functional as TF

torch = pytest.importorskip("torch")


def _run(fo, ft, x, index=False):
    xo, xt = tapegrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = fo(xo), ft(xt)
    if index:
        (yo, io), (yt, it) = yo, yt
        np.testing.assert_array_equal(io.numpy(), it.numpy())
    assert tuple(yo.shape) == tuple(yt.shape)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    yo.backward(tapegrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def _x(*shape):
    return np.random.default_rng(0).permutation(int(np.prod(shape))).reshape(shape) / 7.0     # no ties


@pytest.mark.parametrize("out,shape", [(2, (2, 3, 5, 6, 7)), ((1, 3, 2), (3, 4, 5, 6)), ((4, 4, 4), (1, 1, 4, 4, 4))])
def test_adaptive_max_pool3d_matches_torch(out, shape):
    x = _x(*shape)
    _run(lambda t: nn.AdaptiveMaxPool3d(out, return_indices=True)(t),
         lambda t: torch.nn.AdaptiveMaxPool3d(out, return_indices=True)(t), x, index=True)
    _run(lambda t: TF.adaptive_max_pool3d(t, out), lambda t: torch.nn.functional.adaptive_max_pool3d(t, out), x)
    assert repr(nn.AdaptiveMaxPool3d(out)) == repr(torch.nn.AdaptiveMaxPool3d(out))


@pytest.mark.parametrize("p,k,kw", [(2.0, 2, {}), (1.0, (2, 1, 3), {"stride": 1}), (3.0, 3, {"ceil_mode": True}),
                                    (float("inf"), 2, {})])
def test_lp_pool3d_matches_torch(p, k, kw):
    x = np.abs(_x(2, 2, 5, 4, 6)) + 0.5
    _run(lambda t: nn.LPPool3d(p, k, **kw)(t), lambda t: torch.nn.LPPool3d(p, k, **kw)(t), x)
    assert repr(nn.LPPool3d(p, k, **kw)) == repr(torch.nn.LPPool3d(p, k, **kw))


@pytest.mark.parametrize("name,shape,args", [
    ("max_pool1d_with_indices", (2, 3, 9), (3, 2, 1)), ("max_pool2d_with_indices", (1, 2, 6, 5), (2,)),
    ("max_pool3d_with_indices", (1, 1, 4, 4, 4), (2, 1, 0, 1, True)),
    ("adaptive_max_pool1d_with_indices", (2, 3, 7), (3,)),
    ("adaptive_max_pool2d_with_indices", (1, 2, 5, 7), ((2, 3),)),
    ("adaptive_max_pool3d_with_indices", (1, 2, 3, 4, 5), (2,)),
])
def test_with_indices_names_match_torch(name, shape, args):
    _run(lambda t: getattr(TF, name)(t, *args), lambda t: getattr(torch.nn.functional, name)(t, *args), _x(*shape),
         index=True)


@pytest.mark.parametrize("groups,shape", [(2, (2, 6, 3, 3)), (3, (1, 6, 4)), (1, (2, 4, 2, 2, 2))])
def test_channel_shuffle_matches_torch(groups, shape):
    x = _x(*shape)
    _run(lambda t: nn.ChannelShuffle(groups)(t), lambda t: torch.nn.ChannelShuffle(groups)(t), x)
    _run(lambda t: TF.channel_shuffle(t, groups), lambda t: torch.nn.functional.channel_shuffle(t, groups), x)
    assert repr(nn.ChannelShuffle(groups)) == repr(torch.nn.ChannelShuffle(groups))


def test_channel_shuffle_errors_like_torch():
    for shape, groups, match in (((1, 5, 2), 2, "divisible by groups"), ((4, 4), 2, "expects input with > 2 dims")):
        with pytest.raises(RuntimeError, match=match):
            TF.channel_shuffle(tapegrad.ones(*shape), groups)
        with pytest.raises(RuntimeError, match=match):
            torch.nn.functional.channel_shuffle(torch.ones(*shape), groups)


def test_signatures_and_module_paths_are_torchs():
    for name in ("AdaptiveMaxPool3d", "LPPool3d", "ChannelShuffle"):
        got = [(p.name, p.default) for p in inspect.signature(getattr(nn, name)).parameters.values()]
        want = [(p.name, p.default) for p in inspect.signature(getattr(torch.nn, name)).parameters.values()]
        assert got == want, name
    assert nn.modules.channelshuffle.ChannelShuffle is nn.ChannelShuffle
    assert nn.modules.pooling.LPPool3d is nn.LPPool3d and nn.modules.pooling.AdaptiveMaxPool3d is nn.AdaptiveMaxPool3d
    for name in ("lp_pool3d", "max_pool2d_with_indices", "adaptive_max_pool2d_with_indices"):
        got = [p.name for p in inspect.signature(getattr(TF, name)).parameters.values()]
        want = [p.name for p in inspect.signature(getattr(torch.nn.functional, name)).parameters.values()]
        assert got == want, name
