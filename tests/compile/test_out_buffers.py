"""Note [out buffers] (compile/outplan.py): unfused linear, matmul and relu steps write into reused buffers."""

import numpy as np
import pytest

import tapegrad
import tapegrad.nn.functional as F
from tapegrad import nn
from tapegrad.compile import outplan
from test_memory_plan import _peak_bytes_of_replays as _peak_bytes


def _model(sizes, seed=0):
    tapegrad.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _trainer(sizes, set_to_none=True, seed=0):
    model = _model(sizes, seed)
    opt = tapegrad.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad(set_to_none=set_to_none)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()
    return model, step


def _batches(n, batch, features, classes, seed=1):
    rng = np.random.default_rng(seed)
    return [(tapegrad.from_numpy(rng.standard_normal((batch, features), dtype=np.float32)),
             tapegrad.from_numpy(rng.integers(0, classes, batch))) for _ in range(n)]


def _bits(a):
    return np.asarray(a).reshape(-1).view(np.uint8)


def _same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_array_equal(_bits(a), _bits(b))


def _buffers(c):
    prog = c._last
    return outplan.buffers(prog.steps) + outplan.buffers(prog.plain)


@pytest.mark.parametrize("fusion", [False, True])
@pytest.mark.parametrize("set_to_none", [True, False])
def test_mlp_replays_equal_eager_bit_for_bit(fusion, set_to_none):
    sizes = (24, 16, 16, 5)             # (8, 16) arrays: below the fusion threshold, nothing fuses
    m1, s1 = _trainer(sizes, set_to_none)
    m2, s2 = _trainer(sizes, set_to_none)
    c = tapegrad.compile(s1, options={"fusion": fusion})
    for x, y in _batches(6, 8, 24, 5):
        _same_bits(c(x, y).numpy(), s2(x, y).numpy())
        for p1, p2 in zip(m1.parameters(), m2.parameters()):
            _same_bits(p1.detach().numpy(), p2.detach().numpy())
            _same_bits(p1.grad.numpy(), p2.grad.numpy())
    assert c.stats()["replays"] >= 4
    assert _buffers(c), c.program()


def test_matmul_relu_replays_equal_eager_and_write_their_buffers():
    rng = np.random.default_rng(0)
    w1 = [tapegrad.tensor(rng.standard_normal((6, 9)), requires_grad=True) for _ in range(2)]
    w2 = [tapegrad.tensor(rng.standard_normal((9, 4)), requires_grad=True) for _ in range(2)]
    w1[1], w2[1] = w1[0].detach().clone().requires_grad_(), w2[0].detach().clone().requires_grad_()

    def make(a, b):
        def f(x):                       # .grad accumulates: in place once it exists
            out = (x @ a).relu() @ b
            out.sum().backward()
            return out.detach()
        return f
    c = tapegrad.compile(make(w1[0], w2[0]), options={"fusion": False})
    eager = make(w1[1], w2[1])
    for i in range(5):
        x = tapegrad.tensor(rng.standard_normal((5, 6)))
        _same_bits(c(x).numpy(), eager(x).numpy())
        _same_bits(w1[0].grad.numpy(), w1[1].grad.numpy())
        _same_bits(w2[0].grad.numpy(), w2[1].grad.numpy())
        if i >= 2:                      # replays: relu(x @ w1) was written into a buffer
            want = np.maximum(x.numpy() @ w1[0].detach().numpy(), 0)
            assert any(b.shape == want.shape and np.array_equal(b, want) for b in _buffers(c))
    names = c.program()
    assert "matmul" in names and "relu" in names, names


def test_buffers_are_the_same_arrays_on_every_replay():
    m, step = _trainer((24, 16, 16, 5))
    c = tapegrad.compile(step, options={"fusion": False})
    data = _batches(5, 8, 24, 5)
    for x, y in data[:3]:
        c(x, y)
    prog = c._last
    bufs = outplan.buffers(prog.steps)
    assert len(bufs) >= 3
    seen = []
    for x, y in data[3:]:
        c(x, y)
        assert c._last is prog
        after = outplan.buffers(prog.steps)
        assert len(after) == len(bufs) and all(a is b for a, b in zip(after, bufs))
        seen.append([b.copy() for b in bufs])
    # written in place: the contents follow the inputs
    assert any(not np.array_equal(a, b) for a, b in zip(*seen))


def test_values_that_share_no_lifetime_share_a_buffer():
    # the (8, 16) pre-activation of layer 1 dies at its relu; the gradient of layer 2's input is made later
    m, step = _trainer((24, 16, 16, 5))
    c = tapegrad.compile(step, options={"fusion": False})
    for x, y in _batches(3, 8, 24, 5):
        c(x, y)
    prog = c._last
    wrapped = [st for st in prog.steps if getattr(st[1], "buffers", None)]
    per_step = sum(len([b for b in st[1].buffers if b is not None]) for st in wrapped)
    assert len(outplan.buffers(prog.steps)) < per_step


def test_steady_state_replays_of_the_large_mlp_step_allocate_no_large_arrays():
    # MLP 784-256-256-10, batch 128, .grad kept (zero_grad(set_to_none=False)): the smallest layer array is
    # 128 x 256 float32 = 128 KiB; what is left is the (128, 10) cross-entropy gradient and Python objects
    m, step = _trainer((784, 256, 256, 10), set_to_none=False)
    (x, y), = _batches(1, 128, 784, 10)
    c = tapegrad.compile(step)
    for _ in range(3):
        c(x, y)
    assert c.wait_for_kernels()
    c(x, y)
    assert _buffers(c)
    assert _peak_bytes(lambda: c(x, y)) < 64 * 1024     # 35 KiB measured; 1.6 MB without the buffers


def test_results_and_grads_never_alias_a_buffer():
    m, step = _trainer((24, 16, 16, 5), set_to_none=False)
    m2, eager = _trainer((24, 16, 16, 5), set_to_none=False)

    def fwd(model, x):
        return model[0](x)              # a linear layer's output returned to the caller
    data = _batches(6, 8, 24, 5)
    c = tapegrad.compile(step, options={"fusion": False})
    cf = tapegrad.compile(fwd, options={"fusion": False})
    outs, grads = [], []
    for x, y in data:
        c(x, y)
        eager(x, y)
        with tapegrad.no_grad():
            outs.append((cf(m, x), fwd(m, x).numpy().copy()))
        grads.append([(p.grad, p.grad.numpy().copy()) for p in m.parameters()])
    bufs = _buffers(c) + _buffers(cf)
    assert _buffers(c)
    for r, want in outs:                # every returned tensor kept its own values
        _same_bits(r.numpy(), want)
        assert not any(np.shares_memory(r.numpy(), b) for b in bufs)
    for p, p2 in zip(m.parameters(), m2.parameters()):
        assert not any(np.shares_memory(p.grad.numpy(), b) for b in bufs)
        _same_bits(p.grad.numpy(), p2.grad.numpy())
    # mutating a returned value or a .grad changes no later replay
    outs[-1][0].numpy()[...] = 7.0
    for p, p2 in zip(m.parameters(), m2.parameters()):
        p.grad.numpy()[...] = 0.5
        p2.grad.numpy()[...] = 0.5
    x, y = data[0]
    c(x, y)
    eager(x, y)
    for p, p2 in zip(m.parameters(), m2.parameters()):
        _same_bits(p.grad.numpy(), p2.grad.numpy())


def test_a_grad_set_to_none_between_replays_gets_a_fresh_array():
    # traced with .grad present (the gradients' buffers are added in place); at a replay that finds .grad
    # None the gradient is computed into a fresh array, handed to .grad, never a buffer
    m, step = _trainer((24, 16, 16, 5), set_to_none=False)
    m2, eager = _trainer((24, 16, 16, 5), set_to_none=False)
    c = tapegrad.compile(step, options={"fusion": False})
    data = _batches(6, 8, 24, 5)
    for x, y in data[:3]:
        c(x, y)
        eager(x, y)
    held = [p.grad for p in m.parameters()]
    for p in list(m.parameters()) + list(m2.parameters()):
        p.grad = None
    x, y = data[3]
    c(x, y)                             # the key traced first (.grad None at the call): zero_grad leaves None
    eager(x, y)
    bufs = _buffers(c)
    assert bufs
    for p, p2, h in zip(m.parameters(), m2.parameters(), held):
        assert p.grad is not h
        assert not any(np.shares_memory(p.grad.numpy(), b) for b in bufs)
        _same_bits(p.grad.numpy(), p2.grad.numpy())


def test_relu_of_a_differently_laid_out_argument_allocates_as_eager():
    # the guards do not fix strides: an F-ordered argument at a replay gets an F-ordered relu result, as in
    # eager mode, not the C-ordered buffer (a later GEMM on it may take another BLAS path)
    rng = np.random.default_rng(3)
    w = [tapegrad.tensor(rng.standard_normal((65, 17)).astype(np.float32), requires_grad=True) for _ in range(2)]
    w[1] = w[0].detach().clone().requires_grad_()

    def make(wt):
        def f(x):
            h = x.relu()
            out = h @ wt
            out.sum().backward()
            return out.detach()
        return f
    c = tapegrad.compile(make(w[0]), options={"fusion": False})
    eager = make(w[1])
    for order in ("C", "C", "C", "F", "C", "F"):
        a = np.asarray(rng.standard_normal((33, 65)).astype(np.float32), order=order)   # F: other GEMM bits
        _same_bits(c(tapegrad.from_numpy(a)).numpy(), eager(tapegrad.from_numpy(a)).numpy())
        _same_bits(w[0].grad.numpy(), w[1].grad.numpy())
    assert c.stats()["replays"] >= 3
    assert _buffers(c)
