"""utils.checkpoint: gradients equal the uncheckpointed ones (and torch's), dropout draws the same mask in the
recomputation, the generator stream is left as it was, parameters get gradients when the inputs need none,
keyword arguments, several outputs, autograd.grad, and the call's activations are not kept."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.utils.checkpoint import checkpoint, checkpoint_sequential


def _block(lib, seed=0):
    rng = np.random.default_rng(seed)
    l1, l2 = lib.nn.Linear(4, 8), lib.nn.Linear(8, 3)
    with lib.no_grad():
        for p in (*l1.parameters(), *l2.parameters()):
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    return l1, l2


def _params(*mods):
    return [p for m in mods for p in m.parameters()]


def _grads(params):
    out = [p.grad.numpy().copy() for p in params]
    for p in params:
        p.grad = None
    return out


@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_gradients_equal_the_uncheckpointed_ones_and_torchs(x_requires_grad):
    torch = pytest.importorskip("torch")
    results = []
    for lib, ck in ((tapegrad, None), (tapegrad, checkpoint), (torch, torch.utils.checkpoint.checkpoint)):
        l1, l2 = _block(lib)
        x = lib.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4), requires_grad=x_requires_grad)

        def f(t, scale):
            return l2(l1(t).tanh() * scale).sigmoid()
        y = f(x, 2.0) if ck is None else ck(f, x, scale=2.0, use_reentrant=False)
        (y * y).sum().backward()
        results.append((y.detach().numpy(), _grads(_params(l1, l2)), None if x.grad is None else x.grad.numpy()))
    for ours in results[:2]:
        np.testing.assert_allclose(ours[0], results[2][0], rtol=1e-6)
        for a, b in zip(ours[1], results[2][1]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        if x_requires_grad:
            np.testing.assert_allclose(ours[2], results[2][2], rtol=1e-5, atol=1e-6)
        else:
            assert ours[2] is None
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)                                 # the same arithmetic, bit for bit


def _dropout_run(ck, preserve=True):
    l1, l2 = _block(tapegrad)
    drop = nn.Dropout(0.5)
    x = tapegrad.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))

    def f(t):
        return l2(drop(l1(t).tanh()))
    tapegrad.manual_seed(3)
    y = f(x) if ck is None else ck(f, x, use_reentrant=False, preserve_rng_state=preserve)
    tapegrad.rand(4)                                    # a draw between the forward and the backward
    (y * y).sum().backward()
    after = tapegrad.rand(4).numpy()                    # the stream after backward
    return y.detach().numpy(), _grads(_params(l1, l2)), after


def test_dropout_draws_the_same_mask_in_the_recomputation():
    y0, g0, after0 = _dropout_run(None)
    y1, g1, after1 = _dropout_run(checkpoint)
    np.testing.assert_array_equal(y0, y1)
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(after0, after1)      # the recomputation left the generator where it was


def test_without_preserve_rng_state_the_recomputation_draws_a_new_mask():
    _, g0, _ = _dropout_run(None)
    _, g1, _ = _dropout_run(checkpoint, preserve=False)
    assert any(not np.array_equal(a, b) for a, b in zip(g0, g1))


def test_intermediate_activations_are_not_kept():
    l1, l2 = _block(tapegrad)
    x = tapegrad.ones(5, 4)
    seen = []

    def f(t):
        h = l1(t).tanh()                 # tanh saves its output array; l2's matmul saves it too
        seen.append(weakref.ref(h._data))
        return l2(h)
    y_plain = f(x)
    gc.collect()
    assert seen[0]() is not None         # without checkpoint, the graph keeps the activation alive
    del y_plain
    gc.collect()
    assert seen[0]() is None
    y = checkpoint(f, x, use_reentrant=False)
    gc.collect()
    assert seen[1]() is None             # with it, only the output (and the inputs) stay
    assert y.grad_fn is not None and y.requires_grad
    y.sum().backward()                   # the recomputation makes a third activation, gone after backward
    gc.collect()
    assert len(seen) == 3 and seen[2]() is None
    assert l1.weight.grad is not None


def test_autograd_grad_through_a_checkpoint():
    l1, l2 = _block(tapegrad)
    x = tapegrad.ones(2, 4, requires_grad=True)
    y = checkpoint(lambda t: l2(l1(t).relu()), x, use_reentrant=False)
    gw, gx = tapegrad.autograd.grad(y.sum(), [l1.weight, x])
    want_w, want_x = tapegrad.autograd.grad(l2(l1(x).relu()).sum(), [l1.weight, x])
    np.testing.assert_array_equal(gw.numpy(), want_w.numpy())
    np.testing.assert_array_equal(gx.numpy(), want_x.numpy())
    assert l1.weight.grad is None


def test_several_outputs_and_a_non_differentiable_one():
    l1, _ = _block(tapegrad)
    x = tapegrad.ones(3, 4)

    def f(t):
        h = l1(t)
        return h.tanh(), h.argmax(1), h.sum()
    a, idx, s = checkpoint(f, x, use_reentrant=False)
    assert not idx.requires_grad and idx.dtype == tapegrad.int64
    (a.sum() + 2 * s).backward()
    got = l1.weight.grad.numpy().copy()
    l1.weight.grad = None
    a, _, s = f(x)
    (a.sum() + 2 * s).backward()
    np.testing.assert_array_equal(got, l1.weight.grad.numpy())
    # an unused output's gradient is zero
    l1.weight.grad = None
    _, _, s = checkpoint(f, x, use_reentrant=False)
    s.backward()
    np.testing.assert_allclose(l1.weight.grad.numpy(), np.full((8, 4), 3.0), rtol=1e-6)


def test_nothing_requiring_grad_gives_a_plain_result():
    x = tapegrad.ones(2, 3)
    y = checkpoint(lambda t: t * 2, x, use_reentrant=False)
    assert y.grad_fn is None and not y.requires_grad
    with tapegrad.no_grad():
        lin = nn.Linear(3, 3)
        assert checkpoint(lin, x, use_reentrant=False).grad_fn is None


def test_use_reentrant_true_keeps_torchs_restrictions():
    torch = pytest.importorskip("torch")
    for lib, ck in ((tapegrad, checkpoint), (torch, torch.utils.checkpoint.checkpoint)):
        lin = lib.nn.Linear(3, 3)
        x = lib.ones(2, 3)
        with pytest.raises(ValueError, match="Unexpected keyword arguments: k"):
            ck(lambda t, k: lin(t) * k, x, k=2.0, use_reentrant=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            y = ck(lin, x, use_reentrant=True)
        assert any("None of the inputs have requires_grad=True" in str(m.message) for m in w), lib.__name__
        assert not y.requires_grad
        with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
            ck(lin, x.requires_grad_())


def test_checkpoint_sequential_equals_the_plain_network_and_torch():
    torch = pytest.importorskip("torch")
    out = []
    for lib, seq_ck in ((tapegrad, None), (tapegrad, checkpoint_sequential),
                        (torch, torch.utils.checkpoint.checkpoint_sequential)):
        rng = np.random.default_rng(0)
        net = lib.nn.Sequential(*[m for _ in range(3) for m in (lib.nn.Linear(4, 4), lib.nn.Tanh())],
                                lib.nn.Linear(4, 1))
        with lib.no_grad():
            for p in net.parameters():
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        x = lib.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
        y = net(x) if seq_ck is None else seq_ck(net, 3, x, use_reentrant=False)
        y.pow(2).sum().backward()
        out.append((y.detach().numpy(), _grads(list(net.parameters()))))
    for ours in out[:2]:
        np.testing.assert_allclose(ours[0], out[2][0], rtol=1e-5)
        for a, b in zip(ours[1], out[2][1]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="Unexpected keyword arguments"):
        checkpoint_sequential(nn.Sequential(nn.Tanh()), 1, tapegrad.ones(1), use_reentrant=False, foo=1)


def test_a_captured_tensor_with_history_must_be_an_argument():
    w = tapegrad.ones(3, requires_grad=True)
    h = w * 2                                           # recorded before the call, captured by the function
    with pytest.raises(NotImplementedError, match="pass it as an argument"):
        checkpoint(lambda t: t * h, tapegrad.ones(3), use_reentrant=False)
    y = checkpoint(lambda t, c: t * c, tapegrad.ones(3), h, use_reentrant=False)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0, 2.0])


def test_double_backward_through_a_checkpoint():
    # grad of a gradient: the recomputation under create_graph is recorded on the arguments themselves
    res = []
    for ck in (None, checkpoint):
        l1, _ = _block(tapegrad)
        x = tapegrad.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4), requires_grad=True)

        def f(t):
            return l1(t).tanh()
        y = f(x) if ck is None else ck(f, x, use_reentrant=False)
        (gx,) = tapegrad.autograd.grad(y.pow(2).sum(), x, create_graph=True)
        gx.pow(2).sum().backward()
        res.append((gx.detach().numpy(), x.grad.numpy(), l1.weight.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.abs(res[1][1]).max() > 0.1
