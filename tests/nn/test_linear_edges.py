"""nn.Linear with zero features, as PyTorch (the oracle) allows it: an empty weight, the output is the bias."""
import importlib
import warnings

import numpy as np
import pytest


def _lib(name):
    return pytest.importorskip("torch") if name == "torch" else importlib.import_module(name)


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("in_features, out_features", [(0, 3), (3, 0), (0, 0)])
def test_linear_with_zero_features(lib_name, in_features, out_features):
    lib = _lib(lib_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # torch: "Initializing zero-element tensors is a no-op"
        m = lib.nn.Linear(in_features, out_features)
    assert tuple(m.weight.shape) == (out_features, in_features)
    assert tuple(m.bias.shape) == (out_features,)
    x = lib.ones(2, in_features, requires_grad=True)
    y = m(x)
    assert tuple(y.shape) == (2, out_features)
    np.testing.assert_array_equal(y.detach().numpy(), np.broadcast_to(m.bias.detach().numpy(), (2, out_features)))
    y.sum().backward()
    assert tuple(m.bias.grad.shape) == (out_features,) and tuple(x.grad.shape) == (2, in_features)
