"""Defaults and small edges of Flatten, Dropout and the RNN cells, as in PyTorch (the oracle)."""
import importlib

import pytest


def _lib(name):
    return pytest.importorskip("torch") if name == "torch" else importlib.import_module(name)


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("start_dim", [0, -1])
def test_flatten_of_a_0d_tensor_is_one_element(lib_name, start_dim):
    lib = _lib(lib_name)
    y = lib.nn.Flatten(start_dim)(lib.tensor(3.0))
    assert tuple(y.shape) == (1,) and y.tolist() == [3.0]
    with pytest.raises(IndexError):
        lib.nn.Flatten()(lib.tensor(3.0))           # start_dim=1 is out of range for a 0-d input


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_dropout_defaults(lib_name):
    lib = _lib(lib_name)
    d = lib.nn.Dropout()
    assert d.p == 0.5 and d.inplace is False
    assert repr(d) == "Dropout(p=0.5, inplace=False)"


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell"])
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_cells_keep_their_bias_flag(lib_name, cell, bias):
    lib = _lib(lib_name)
    c = getattr(lib.nn, cell)(3, 4, bias=bias)
    assert c.bias is bias and c.input_size == 3 and c.hidden_size == 4
    assert (c.bias_ih is None) is (not bias)
    assert repr(c) == f"{cell}(3, 4" + ("" if bias else ", bias=False") + ")"
