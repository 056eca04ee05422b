"""nn.RNN, nn.LSTM, nn.GRU, nn.GRUCell and nn.utils.rnn against PyTorch on identical weights.

Every configuration compares outputs, final states, and the gradients of the
input, the initial states and every parameter, in float64 so that differences
are the implementation's, not float32 rounding.
"""
import numpy as np
import pytest

import tapegrad
from tapegrad.nn.utils import rnn as grnn

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn


def _pair(name, *args, **kwargs):
    torch.manual_seed(0)
    tm = getattr(torch.nn, name)(*args, dtype=torch.float64, **kwargs)
    gm = getattr(tapegrad.nn, name)(*args, dtype=tapegrad.float64, **kwargs)
    gm.load_state_dict({k: tapegrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return tm, gm


def _leaf(fw, a):
    return fw.tensor(a, dtype=fw.float64, requires_grad=True)


def _close(got, want, what):
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=what)


def _loss(out, state):
    """A loss that weighs every output and final state differently, so no gradient is symmetric."""
    parts = [out] + (list(state) if isinstance(state, tuple) else [state])
    total = 0
    for k, p in enumerate(parts):
        total = total + ((p * (k + 1.5)) ** 2).sum() + p.sum()
    return total


def _compare(tm, gm, t_in, g_in, t_leaves, g_leaves, t_hx=None, g_hx=None, unpack=None):
    to, ts = tm(t_in) if t_hx is None else tm(t_in, t_hx)
    go, gs = gm(g_in) if g_hx is None else gm(g_in, g_hx)
    if unpack is not None:
        to, go = unpack(to, go)
    _close(go, to, "output")
    for k, (g, t) in enumerate(zip(gs if isinstance(gs, tuple) else (gs,), ts if isinstance(ts, tuple) else (ts,))):
        _close(g, t, f"final state {k}")
    _loss(to, ts).backward()
    _loss(go, gs).backward()
    for k, (g, t) in enumerate(zip(g_leaves, t_leaves)):
        _close(g.grad, t.grad, f"input/state gradient {k}")
    gparams = dict(gm.named_parameters())
    for n, p in tm.named_parameters():
        _close(gparams[n].grad, p.grad, f"gradient of {n}")


CONFIGS = [
    ("RNN", {}),
    ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
    ("RNN", dict(bias=False, batch_first=True)),
    ("GRU", {}),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", dict(bias=False)),
    ("LSTM", {}),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(bias=False, batch_first=True)),
    ("LSTM", dict(proj_size=2)),
    ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True, batch_first=True)),
]
IDS = [f"{n}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for n, kw in CONFIGS]


def _states(name, kw, n_batch, rng, batched=True):
    dirs = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    hid = 5
    out = kw.get("proj_size", 0) or hid
    lead = (dirs * layers, n_batch) if batched else (dirs * layers,)
    shapes = [lead + (out,)] + ([lead + (hid,)] if name == "LSTM" else [])
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("with_states", [False, True], ids=["zero-states", "given-states"])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_padded_batches_match_torch(name, kw, with_states):
    tm, gm = _pair(name, 4, 5, **kw)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 4) if kw.get("batch_first") else (6, 3, 4))
    tx, gx = _leaf(torch, x), _leaf(tapegrad, x)
    t_hx = g_hx = None
    t_leaves, g_leaves = [tx], [gx]
    if with_states:
        st = _states(name, kw, 3, rng)
        ts, gs = [_leaf(torch, s) for s in st], [_leaf(tapegrad, s) for s in st]
        t_hx, g_hx = (tuple(ts), tuple(gs)) if name == "LSTM" else (ts[0], gs[0])
        t_leaves, g_leaves = t_leaves + ts, g_leaves + gs
    _compare(tm, gm, tx, gx, t_leaves, g_leaves, t_hx, g_hx)


@pytest.mark.parametrize("name,kw", [CONFIGS[1], CONFIGS[4], CONFIGS[7], CONFIGS[10]],
                         ids=[IDS[1], IDS[4], IDS[7], IDS[10]])
def test_unbatched_input_matches_torch(name, kw):
    tm, gm = _pair(name, 4, 5, **kw)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4))
    st = _states(name, kw, None, rng, batched=False)
    tx, gx = _leaf(torch, x), _leaf(tapegrad, x)
    ts, gs = [_leaf(torch, s) for s in st], [_leaf(tapegrad, s) for s in st]
    t_hx, g_hx = (tuple(ts), tuple(gs)) if name == "LSTM" else (ts[0], gs[0])
    _compare(tm, gm, tx, gx, [tx] + ts, [gx] + gs, t_hx, g_hx)


@pytest.mark.parametrize("with_states", [False, True], ids=["zero-states", "given-states"])
@pytest.mark.parametrize("name,kw", [CONFIGS[0], CONFIGS[4], CONFIGS[7], CONFIGS[10]],
                         ids=[IDS[0], IDS[4], IDS[7], IDS[10]])
def test_packed_sequences_match_torch(name, kw, with_states):
    """Unsorted lengths (enforce_sorted=False): outputs, states at each sequence's true end, gradients."""
    kw = dict(kw, batch_first=True)
    tm, gm = _pair(name, 4, 5, **kw)
    rng = np.random.default_rng(3)
    lengths = [3, 6, 1, 6, 4]
    x = rng.standard_normal((5, 6, 4))
    tx, gx = _leaf(torch, x), _leaf(tapegrad, x)
    tp = trnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    gp = grnn.pack_padded_sequence(gx, tapegrad.tensor(lengths), batch_first=True, enforce_sorted=False)
    assert gp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert gp.sorted_indices.tolist() == tp.sorted_indices.tolist()
    assert gp.unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    t_hx = g_hx = None
    t_leaves, g_leaves = [tx], [gx]
    if with_states:
        st = _states(name, kw, 5, rng)
        ts, gs = [_leaf(torch, s) for s in st], [_leaf(tapegrad, s) for s in st]
        t_hx, g_hx = (tuple(ts), tuple(gs)) if name == "LSTM" else (ts[0], gs[0])
        t_leaves, g_leaves = t_leaves + ts, g_leaves + gs

    def unpack(to, go):
        assert isinstance(go, grnn.PackedSequence)
        assert go.batch_sizes.tolist() == to.batch_sizes.tolist()
        tpad, tl = trnn.pad_packed_sequence(to, batch_first=True, padding_value=-1.0, total_length=7)
        gpad, gl = grnn.pad_packed_sequence(go, batch_first=True, padding_value=-1.0, total_length=7)
        assert gl.tolist() == tl.tolist() == lengths
        return tpad, gpad
    _compare(tm, gm, tp, gp, t_leaves, g_leaves, t_hx, g_hx, unpack=unpack)


def test_gru_cell_matches_torch():
    torch.manual_seed(0)
    tc = torch.nn.GRUCell(3, 4, dtype=torch.float64)
    gc = tapegrad.nn.GRUCell(3, 4, dtype=tapegrad.float64)
    gc.load_state_dict({k: tapegrad.tensor(v.detach().numpy()) for k, v in tc.state_dict().items()})
    rng = np.random.default_rng(4)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    tx, th, gx, gh = _leaf(torch, x), _leaf(torch, h), _leaf(tapegrad, x), _leaf(tapegrad, h)
    to, go = tc(tx, th), gc(gx, gh)
    _close(go, to, "output")
    _loss(to, ()).backward()
    _loss(go, ()).backward()
    for g, t in ((gx, tx), (gh, th), (gc.weight_hh, tc.weight_hh), (gc.bias_ih, tc.bias_ih)):
        _close(g.grad, t.grad, "gradient")
    _close(gc(gx[0]), tc(tx[0]), "unbatched output")
    assert repr(gc) == repr(tc)
    assert repr(tapegrad.nn.GRUCell(3, 4, bias=False)) == repr(torch.nn.GRUCell(3, 4, bias=False))


def test_dropout_between_layers_is_off_in_eval_and_on_in_training():
    tm, gm = _pair("LSTM", 4, 5, num_layers=2, dropout=0.5)
    tm.eval()
    gm.eval()
    x = np.random.default_rng(5).standard_normal((6, 3, 4))
    tx, gx = _leaf(torch, x), _leaf(tapegrad, x)
    _compare(tm, gm, tx, gx, [tx], [gx])
    gm.train()
    tapegrad.manual_seed(0)
    train_out = gm(tapegrad.tensor(x))[0]
    eval_out = gm.eval()(tapegrad.tensor(x))[0]
    assert not np.allclose(train_out.detach().numpy(), eval_out.detach().numpy())


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_state_dict_keys_shapes_and_repr_equal_torch(name, kw):
    tm = getattr(torch.nn, name)(4, 5, **kw)
    gm = getattr(tapegrad.nn, name)(4, 5, **kw)
    tsd, gsd = tm.state_dict(), gm.state_dict()
    assert list(gsd) == list(tsd)
    assert [tuple(v.shape) for v in gsd.values()] == [tuple(v.shape) for v in tsd.values()]
    assert repr(gm) == repr(tm)
    assert gm._flat_weights_names == tm._flat_weights_names
    assert [[tuple(p.shape) for p in ps] for ps in gm.all_weights] == \
        [[tuple(p.shape) for p in ps] for ps in tm.all_weights]
    gm.flatten_parameters()                  # a no-op, as on the CPU in PyTorch


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_default_init_is_uniform_in_one_over_sqrt_hidden(name):
    m = getattr(tapegrad.nn, name)(30, 16, num_layers=2)
    bound = 1 / np.sqrt(16)
    vals = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert vals.min() >= -bound and vals.max() <= bound
    assert vals.min() < -0.9 * bound and vals.max() > 0.9 * bound     # spread over the whole interval


def test_rnn_takes_torchs_positional_arguments():
    tm = torch.nn.RNN(4, 5, 2, "relu", False, True)
    gm = tapegrad.nn.RNN(4, 5, 2, "relu", False, True)
    assert repr(gm) == repr(tm)
    assert (gm.num_layers, gm.nonlinearity, gm.bias, gm.batch_first) == (2, "relu", False, True)


def test_lstm_layer_is_a_constant_number_of_nodes_whatever_the_length():
    """The fused LSTM path records one node per layer and direction, not a chain per step."""
    m = tapegrad.nn.LSTM(3, 4)

    def count(steps):
        out, _ = m(tapegrad.randn(steps, 2, 3))
        seen, stack = set(), [out.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            stack.extend(f for f, _ in fn.next_functions)
        return len(seen)
    assert count(40) == count(3) <= 6


def test_double_backward_through_the_fused_lstm_matches_torch():
    tm, gm = _pair("LSTM", 3, 4, bidirectional=True)
    x = np.random.default_rng(6).standard_normal((5, 2, 3))
    grads = []
    for fw, m in ((torch, tm), (tapegrad, gm)):
        xx = _leaf(fw, x)
        out, (h, c) = m(xx)
        (gx,) = fw.autograd.grad((out ** 2).sum() + (c ** 3).sum(), xx, create_graph=True)
        (gx ** 2).sum().backward()
        grads.append((gx, xx.grad, m.weight_hh_l0_reverse.grad))
    for g, t in zip(grads[1], grads[0]):
        _close(g, t, "grad of grad")


@pytest.mark.parametrize("call,exc,match", [
    (lambda m: m(tapegrad.randn(2, 3, 4, 4)), ValueError, "2D or 3D"),
    (lambda m: m(tapegrad.randn(5, 2, 3)), RuntimeError, "input_size. Expected 4, got 3"),
    (lambda m: m(tapegrad.randn(5, 2, 4), (tapegrad.zeros(1, 3, 5), tapegrad.zeros(1, 2, 5))), RuntimeError,
     r"hidden\[0\] size \(1, 2, 5\), got \[1, 3, 5\]"),
    (lambda m: m(tapegrad.randn(5, 4), (tapegrad.zeros(1, 1, 5), tapegrad.zeros(1, 1, 5))), RuntimeError,
     "unbatched 2-D input, hx and cx should also be 2-D"),
    (lambda m: m(tapegrad.randn(5, 2, 4, dtype=tapegrad.float64)), RuntimeError, "float64"),
    (lambda m: m(tapegrad.randn(0, 2, 4)), RuntimeError, "sequence length to be larger than 0"),
])
def test_bad_inputs_raise_naming_the_problem(call, exc, match):
    with pytest.raises(exc, match=match):
        call(tapegrad.nn.LSTM(4, 5))


@pytest.mark.parametrize("make,match", [
    (lambda: tapegrad.nn.GRU(4, 5, proj_size=2), "only supported for LSTM"),
    (lambda: tapegrad.nn.LSTM(4, 5, proj_size=5), "smaller than hidden_size"),
    (lambda: tapegrad.nn.RNN(4, 5, nonlinearity="gelu"), "Unknown nonlinearity"),
    (lambda: tapegrad.nn.LSTM(4, 5, dropout=1.5), "dropout should be a number"),
    (lambda: tapegrad.nn.LSTM(4, 0), "hidden_size must be greater than zero"),
])
def test_bad_constructor_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()
