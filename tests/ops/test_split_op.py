"""split/chunk/unbind as one multi-output node (Note [split as one node] in ops/split_node.py), against PyTorch."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((3, 7, 4))

# (name, call): each call works on both libraries' tensors.
FORMS = [
    ("split_int", lambda x: x.split(3, 1)),
    ("split_int_dim_neg", lambda x: x.split(2, -1)),
    ("split_sizes", lambda x: x.split([1, 4, 2], 1)),
    ("split_sizes_zero_piece", lambda x: x.split([0, 7, 0], 1)),
    ("split_one_piece", lambda x: x.split(9, 1)),
    ("split_fn", lambda x: (tg if isinstance(x, tg.Tensor) else torch).split(x, 2, dim=0)),
    ("split_keyword", lambda x: x.split(split_size=[2, 5], dim=1)),
    ("chunk", lambda x: x.chunk(3, 1)),
    ("chunk_fewer", lambda x: x.chunk(6, 0)),
    ("chunk_fn", lambda x: (tg if isinstance(x, tg.Tensor) else torch).chunk(x, 2, dim=2)),
    ("unbind", lambda x: x.unbind(1)),
    ("unbind_last", lambda x: x.unbind(-1)),
    ("unbind_fn", lambda x: (tg if isinstance(x, tg.Tensor) else torch).unbind(x, 0)),
]


def _pair(data=X):
    return tg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


def _weighted(pieces, use):
    """A loss that weights each used piece differently (so a misplaced gradient shows)."""
    total = None
    for i in use:
        term = (pieces[i] * (i + 1)).sin().sum()
        total = term if total is None else total + term
    return total


@pytest.mark.parametrize("name,call", FORMS, ids=[f[0] for f in FORMS])
def test_values_gradients_and_node_match_torch(name, call):
    a, b = _pair()
    pa, pb = call(a), call(b)
    assert isinstance(pa, tuple) and len(pa) == len(pb)
    for u, v in zip(pa, pb):
        assert tuple(u.shape) == tuple(v.shape)
        np.testing.assert_array_equal(u.detach().numpy(), v.detach().numpy())
        assert u.grad_fn.name() == v.grad_fn.name()         # SplitBackward0, SplitWithSizesBackward0, UnbindBackward0
        assert u.grad_fn is pa[0].grad_fn                   # one node for all the pieces
        assert u._version is a._version                     # views share the version counter
    _weighted(pa, range(len(pa))).backward()
    _weighted(pb, range(len(pb))).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("use", [(0,), (2,), (1,), (0, 2)])
@pytest.mark.parametrize("form", ["split", "unbind"])
def test_pieces_without_gradient_get_zeros(form, use):
    a, b = _pair()
    pa = a.split([2, 3, 2], 1) if form == "split" else a.unbind(0)
    pb = b.split([2, 3, 2], 1) if form == "split" else b.unbind(0)
    _weighted(pa, use).backward()
    _weighted(pb, use).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,call", [FORMS[2], FORMS[7], FORMS[10]], ids=["split_sizes", "chunk", "unbind"])
def test_second_order_through_create_graph(name, call):
    a, b = _pair()
    ga, = tg.autograd.grad(_weighted(call(a)[:2], (0, 1)), a, create_graph=True)
    gb, = torch.autograd.grad(_weighted(call(b)[:2], (0, 1)), b, create_graph=True)
    np.testing.assert_allclose(ga.detach().numpy(), gb.detach().numpy(), rtol=1e-12, atol=1e-12)
    # The first gradient is itself split: its pieces go through the multi-output node's VJP again.
    (call(ga)[0] * call(ga)[-1].sum()).sum().backward()
    (call(gb)[0] * call(gb)[-1].sum()).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_pieces_of_a_non_leaf_backpropagate_into_its_history():
    a, b = _pair()
    qa, ka, va = (a.exp() * 2).chunk(3, 1)         # sizes 3, 3, 1
    qb, kb, vb = (b.exp() * 2).chunk(3, 1)
    ((qa @ ka.transpose(1, 2)).sum() * va.sum()).backward()
    ((qb @ kb.transpose(1, 2)).sum() * vb.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10)


def test_hooks_and_retain_grad_on_a_piece():
    a, b = _pair()
    pa, pb = a.split(3, 1), b.split(3, 1)
    for p in (pa[1], pb[1]):
        p.retain_grad()
        p.register_hook(lambda g: g * 10)
    _weighted(pa, (0, 1)).backward()
    _weighted(pb, (0, 1)).backward()
    np.testing.assert_allclose(pa[1].grad.numpy(), pb[1].grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_backward_twice_needs_no_retain_graph_as_torch():
    # The node saves nothing, so (as PyTorch's) it can be run again.
    a, b = _pair()
    for x in (a, b):
        p = x.split(3, 1)
        p[0].sum().backward()
        p[2].sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize("form", ["split", "split_sizes", "chunk", "unbind"])
def test_in_place_on_a_piece_raises_as_torch(form):
    def run(lib, x):
        y = x * 1
        p = {"split": lambda: y.split(3, 1), "split_sizes": lambda: y.split([3, 4], 1),
             "chunk": lambda: y.chunk(2, 1), "unbind": lambda: y.unbind(1)}[form]()
        p[1].mul_(2)
    a, b = _pair()
    with pytest.raises(RuntimeError) as want:
        run(torch, b)
    with pytest.raises(RuntimeError) as got:
        run(tg, a)
    msg = str(want.value).split(". This view")[0]          # "Output 1 of SplitBackward0 is a view ..."
    assert msg.replace("Backward0", "") in str(got.value)
    assert a.grad is None


def test_in_place_on_a_piece_without_grad_writes_through():
    a = tg.tensor(X.copy())
    b = torch.tensor(X.copy())
    for x in (a, b):
        p = x.unbind(1)
        p[2].mul_(3)
        x.split(2, 2)[1].add_(1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_version_counter_is_shared_and_checked():
    a = tg.tensor(X, requires_grad=True)
    y = a * 1
    p = y.split(3, 1)
    z = p[0].exp()                      # saves its output, a new tensor; y's pieces are views of y
    w = p[1] * p[1]                     # saves p[1]
    v0 = p[1]._version[0]
    with tg.no_grad():
        y.add_(1)
    assert p[1]._version[0] == v0 + 1 and p[0]._version is y._version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()
    z.sum().backward()                  # exp saved its own output: still valid


def test_split_under_compile_matches_eager():
    def step(x, w):
        q, k, v = (x @ w).split(4, -1)
        loss = (q * k.tanh() + v).sum()
        loss.backward()
        return loss.detach()
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((2, 5, 3))
    ws = rng.standard_normal((3, 12))
    w1, w2 = tg.tensor(ws, requires_grad=True), tg.tensor(ws, requires_grad=True)
    f = tg.compile(step)
    for _ in range(3):
        w1.grad = w2.grad = None
        l1 = step(tg.tensor(xs), w1)
        l2 = f(tg.tensor(xs), w2)
        np.testing.assert_array_equal(l1.numpy(), l2.numpy())
        np.testing.assert_array_equal(w1.grad.numpy(), w2.grad.numpy())
    assert f.stats()["replays"] == 2 and not f.stats()["fallbacks"]     # traced once, then replayed
