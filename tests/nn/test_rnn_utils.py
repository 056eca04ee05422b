"""nn.utils.rnn (pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence) against PyTorch."""
import numpy as np
import pytest

import tapegrad
from tapegrad.nn.utils import rnn as grnn

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn

LENGTHS = [2, 5, 3]


def _seqs(fw):
    rng = np.random.default_rng(0)
    return [fw.tensor(rng.standard_normal((n, 2)), requires_grad=True) for n in LENGTHS]


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch_with_gradients(batch_first, padding_side):
    ts, gs = _seqs(torch), _seqs(tapegrad)
    tp = trnn.pad_sequence(ts, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    gp = grnn.pad_sequence(gs, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    np.testing.assert_array_equal(_np(gp), _np(tp))
    w = np.arange(tp.numel(), dtype=np.float64).reshape(tuple(tp.shape))
    (tp * torch.tensor(w)).sum().backward()
    (gp * tapegrad.tensor(w)).sum().backward()
    for g, t in zip(gs, ts):
        np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_round_trip_matches_torch(enforce_sorted):
    order = sorted(range(3), key=lambda i: -LENGTHS[i]) if enforce_sorted else range(3)
    ts, gs = _seqs(torch), _seqs(tapegrad)
    ts, gs = [ts[i] for i in order], [gs[i] for i in order]
    tpk = trnn.pack_sequence(ts, enforce_sorted=enforce_sorted)
    gpk = grnn.pack_sequence(gs, enforce_sorted=enforce_sorted)
    np.testing.assert_array_equal(_np(gpk.data), _np(tpk.data))
    assert gpk.batch_sizes.tolist() == tpk.batch_sizes.tolist()
    for g, t in ((gpk.sorted_indices, tpk.sorted_indices), (gpk.unsorted_indices, tpk.unsorted_indices)):
        assert (g is None and t is None) or g.tolist() == t.tolist()
    tpad, tl = trnn.pad_packed_sequence(tpk, batch_first=True, total_length=6)
    gpad, gl = grnn.pad_packed_sequence(gpk, batch_first=True, total_length=6)
    np.testing.assert_array_equal(_np(gpad), _np(tpad))
    assert gl.tolist() == tl.tolist() and gl.dtype == tapegrad.int64
    w = np.linspace(-1, 1, tpad.numel()).reshape(tuple(tpad.shape))
    (tpad * torch.tensor(w)).sum().backward()
    (gpad * tapegrad.tensor(w)).sum().backward()
    for g, t in zip(gs, ts):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_pack_padded_sequence_takes_lengths_as_list_or_tensor():
    x = np.random.default_rng(1).standard_normal((5, 3, 2))
    tp = trnn.pack_padded_sequence(torch.tensor(x), torch.tensor([5, 3, 2]))
    for lengths in ([5, 3, 2], tapegrad.tensor([5, 3, 2])):
        gp = grnn.pack_padded_sequence(tapegrad.tensor(x), lengths)
        np.testing.assert_array_equal(_np(gp.data), _np(tp.data))
        assert gp.batch_sizes.tolist() == tp.batch_sizes.tolist() and gp.sorted_indices is None


def test_packing_errors_match_torch():
    x = tapegrad.zeros(4, 2, 1)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        grnn.pack_padded_sequence(x, [2, 3])
    with pytest.raises(RuntimeError, match="greater than 0"):
        grnn.pack_padded_sequence(x, [3, 0])
    packed = grnn.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        grnn.pad_packed_sequence(packed, total_length=2)


def test_a_torch_state_dict_converted_through_numpy_reproduces_outputs():
    torch.manual_seed(0)
    tm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    gm = tapegrad.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    gm.load_state_dict({k: tapegrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((5, 2, 3)).astype(np.float32)
    want = tm(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(_np(gm(tapegrad.tensor(x))[0]), want, rtol=1e-5, atol=1e-6)
