"""``inplace=True`` dropout writes into its input and returns it, as PyTorch; the gradient is the mask."""
import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

torch = pytest.importorskip("torch")

SHAPES = {"dropout": (4, 6), "dropout1d": (2, 3, 5), "dropout2d": (2, 3, 4, 4), "dropout3d": (1, 3, 2, 2, 2),
          "alpha_dropout": (4, 6), "feature_alpha_dropout": (2, 3, 4)}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_inplace_dropout_writes_into_a_non_leaf_input_and_the_gradient_is_the_mask(name):
    x = tg.tensor(np.random.default_rng(0).standard_normal(SHAPES[name]), requires_grad=True)
    y = x * 1.0
    out = getattr(F, name)(y, 0.5, True, True)
    assert out is y                                  # torch returns the input itself
    assert y._version[0] == 1
    scale = (out / x).detach().numpy()               # where the element was kept, dropped (or alpha-shifted)
    out.sum().backward()
    if "alpha" not in name:
        assert np.allclose(x.grad.numpy(), scale)
        assert set(np.unique(np.round(scale, 6))) <= {0.0, 2.0}
    tx = torch.tensor(np.random.default_rng(0).standard_normal(SHAPES[name]), requires_grad=True)
    ty = tx * 1.0
    assert getattr(torch.nn.functional, name)(ty, 0.5, True, True) is ty   # the same contract in torch


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_inplace_dropout_on_a_leaf_that_requires_grad_raises_as_torch_and_leaves_it_unchanged(name):
    x = tg.ones(SHAPES[name], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(F, name)(x, 0.5, True, True)
    assert x.detach().numpy().min() == 1.0 and x._version[0] == 0
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(torch.nn.functional, name)(torch.ones(SHAPES[name], requires_grad=True), 0.5, True, True)


def test_inplace_dropout_not_training_returns_the_input_untouched():
    x = tg.ones(3, 4)
    assert F.dropout(x, 0.5, False, True) is x and x._version[0] == 0
    m = tg.nn.Dropout(0.5, inplace=True)
    y = tg.ones(100)
    assert m(y) is y and 0 < float((y == 0).sum()) < 100
