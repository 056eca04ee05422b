"""Layers, activations, containers, recurrent cells and nn.init against NumPy references."""
import math

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.nn import functional as F
from tapegrad.testing import check_grad


def _np(t):
    return t.detach().numpy()


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_linear_default_init_and_forward():
    layer = nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)
    w, b = _np(layer.weight), _np(layer.bias)
    assert w.shape == (40, 50) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    # U(-bound, bound) has standard deviation bound / sqrt(3)
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    x = tapegrad.randn(7, 50)
    np.testing.assert_allclose(_np(layer(x)), _np(x) @ w.T + b, rtol=1e-5, atol=1e-6)
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(RuntimeError, match=r"linear: mat1 and mat2 shapes cannot be multiplied \(2x4 and 3x2\)"):
        nn.Linear(3, 2)(tapegrad.ones(2, 4))


def test_linear_gradients():
    x = tapegrad.randn(4, 3, dtype=tapegrad.float64)
    w = tapegrad.randn(2, 3, dtype=tapegrad.float64)
    b = tapegrad.randn(2, dtype=tapegrad.float64)
    check_grad(F.linear, x, w, b)


def test_sequential_indexing_slicing_iteration():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and seq[1] is list(seq)[1]
    sub = seq[:2]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is seq[0]
    assert seq(tapegrad.ones(5, 2)).shape == (5, 1)
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1"]
    seq.append(nn.Tanh())
    assert len(seq) == 3


def test_module_list_and_dict_register_parameters():
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    assert len(list(ml.parameters())) == 4 and len(list(md.parameters())) == 2
    assert "a" in md and list(md.keys()) == ["a"]


def test_activations_match_numpy():
    x = tapegrad.randn(4, 5)
    a = _np(x)
    np.testing.assert_allclose(_np(nn.ReLU()(x)), np.maximum(a, 0))
    np.testing.assert_allclose(_np(nn.Tanh()(x)), np.tanh(a), rtol=1e-6)
    np.testing.assert_allclose(_np(nn.Sigmoid()(x)), _sigmoid(a), rtol=1e-6)
    from math import erf
    gelu = a * 0.5 * (1 + np.vectorize(erf)(a / math.sqrt(2)))
    np.testing.assert_allclose(_np(nn.GELU()(x)), gelu, rtol=1e-5, atol=1e-6)
    e = np.exp(a - a.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(_np(nn.Softmax(dim=1)(x)), sm, rtol=1e-5)
    np.testing.assert_allclose(_np(nn.LogSoftmax(dim=1)(x)), np.log(sm), rtol=1e-5, atol=1e-6)
    assert nn.Softmax(dim=1)(x).dtype == tapegrad.float32
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


def test_flatten_and_identity():
    x = tapegrad.zeros(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Identity(7, foo=1)(x) is x
    with pytest.raises(IndexError, match="Flatten"):
        nn.Flatten(5)(x)


def test_dropout_train_and_eval():
    x = tapegrad.ones(2000, requires_grad=True)
    d = nn.Dropout(0.25)
    y = d(x)
    vals = _np(y)
    assert set(np.unique(vals)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (vals == 0).mean() < 0.3
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), vals)     # the gradient is the scaled mask
    d.eval()
    assert d(x) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0
    assert F.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_embedding_init_padding_and_grad():
    emb = nn.Embedding(200, 50, padding_idx=3)
    w = _np(emb.weight)
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.05 and abs(rest.std() - 1) < 0.05
    idx = tapegrad.tensor([[3, 5, 5], [0, 3, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 50)
    np.testing.assert_array_equal(_np(out), w[_np(idx)])
    out.sum().backward()
    g = _np(emb.weight.grad)
    assert np.all(g[3] == 0)
    np.testing.assert_array_equal(g[5], np.full(50, 2.0))
    np.testing.assert_array_equal(g[0], np.ones(50))
    with pytest.raises(RuntimeError, match="int64 or int32"):
        emb(tapegrad.ones(2))
    assert repr(emb) == "Embedding(200, 50, padding_idx=3)"


def test_one_hot():
    out = F.one_hot(tapegrad.tensor([2, 0, 1]))
    assert out.dtype == tapegrad.int64
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[2, 0, 1]])
    assert F.one_hot(tapegrad.tensor([[1]]), 4).shape == (1, 1, 4)
    with pytest.raises(RuntimeError, match="class values must be in"):
        F.one_hot(tapegrad.tensor([5]), 3)
    with pytest.raises(RuntimeError, match="index tensors"):
        F.one_hot(tapegrad.ones(2))


def _rnn_ref(cell, x, h):
    return np.tanh(x @ _np(cell.weight_ih).T + _np(cell.bias_ih) + h @ _np(cell.weight_hh).T + _np(cell.bias_hh))


def _lstm_ref(cell, x, h, c):
    gates = x @ _np(cell.weight_ih).T + _np(cell.bias_ih) + h @ _np(cell.weight_hh).T + _np(cell.bias_hh)
    i, f, g, o = np.split(gates, 4, axis=1)                 # PyTorch's gate order
    c2 = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c2), c2


def test_rnn_cell_init_forward_and_loop():
    cell = nn.RNNCell(3, 4)
    k = 1 / math.sqrt(4)
    assert all(float(p.abs().max()) <= k for p in cell.parameters())
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    xs = tapegrad.randn(5, 2, 3)
    h = None
    href = np.zeros((2, 4), np.float32)
    for x in xs:
        h = cell(x, h)
        href = _rnn_ref(cell, _np(x), href)
    np.testing.assert_allclose(_np(h), href, rtol=1e-5, atol=1e-6)
    assert cell(tapegrad.randn(3)).shape == (4,)                # unbatched
    assert nn.RNNCell(3, 4, nonlinearity="relu")(xs[0]).min() >= 0
    with pytest.raises(ValueError, match="input_size=3"):
        cell(tapegrad.randn(2, 5))
    with pytest.raises(ValueError, match="hidden state has shape"):
        cell(xs[0], tapegrad.zeros(3, 4))


def test_lstm_cell_forward_matches_reference_and_gradients():
    cell = nn.LSTMCell(3, 4).double()
    assert cell.weight_ih.shape == (16, 3) and cell.bias_hh.shape == (16,)
    x = tapegrad.randn(2, 3, dtype=tapegrad.float64)
    h0 = tapegrad.randn(2, 4, dtype=tapegrad.float64)
    c0 = tapegrad.randn(2, 4, dtype=tapegrad.float64)
    h, c = cell(x, (h0, c0))
    hr, cr = _lstm_ref(cell, _np(x), _np(h0), _np(c0))
    np.testing.assert_allclose(_np(h), hr, rtol=1e-10)
    np.testing.assert_allclose(_np(c), cr, rtol=1e-10)
    check_grad(lambda x, h, c: sum(t.sum() for t in cell(x, (h, c))), x, h0, c0)
    hu, cu = cell(x[0])
    assert hu.shape == (4,) and cu.shape == (4,)


def test_cells_match_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((nn.LSTMCell(3, 5), torch.nn.LSTMCell(3, 5)), (nn.RNNCell(3, 5), torch.nn.RNNCell(3, 5))):
        with torch.no_grad():
            for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
                q.copy_(torch.from_numpy(_np(p)))
        x = np.random.randn(4, 3).astype(np.float32)
        a = ours(tapegrad.tensor(x))
        b = theirs(torch.from_numpy(x))
        a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
        np.testing.assert_allclose(_np(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_init_functions():
    init = nn.init
    t = tapegrad.empty(30, 20)
    assert float(init.constant_(t, 0.5).sum()) == 300.0
    assert init.zeros_(t) is t and float(t.abs().sum()) == 0
    assert float(init.ones_(t).sum()) == 600
    a = math.sqrt(6 / 50)
    assert float(init.xavier_uniform_(t).abs().max()) <= a
    big = tapegrad.empty(400, 300)
    assert abs(_np(init.xavier_normal_(big, gain=2.0)).std() - 2 * math.sqrt(2 / 700)) < 0.005
    assert abs(_np(init.kaiming_normal_(big, nonlinearity="relu")).std() - math.sqrt(2 / 300)) < 0.003
    assert abs(_np(init.kaiming_normal_(big, mode="fan_out", nonlinearity="relu")).std()
               - math.sqrt(2 / 400)) < 0.003
    assert float(init.kaiming_uniform_(big, nonlinearity="relu").abs().max()) <= math.sqrt(6 / 300)
    n = _np(init.normal_(big, 3.0, 0.5))
    assert abs(n.mean() - 3) < 0.01 and abs(n.std() - 0.5) < 0.01
    assert float(init.uniform_(big, 2, 3).min()) >= 2
    assert init.calculate_gain("tanh") == 5 / 3 and init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(tapegrad.empty(3))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(big, mode="fan")
    with pytest.raises(TypeError, match="floating point"):
        init.normal_(tapegrad.zeros(2, dtype=tapegrad.int64))


def test_init_is_reproducible_and_not_recorded():
    p = nn.Parameter(tapegrad.empty(3, 3))
    tapegrad.manual_seed(1)
    a = _np(nn.init.normal_(p)).copy()
    tapegrad.manual_seed(1)
    b = _np(nn.init.normal_(p))
    np.testing.assert_array_equal(a, b)
    assert p.is_leaf and p.grad_fn is None
