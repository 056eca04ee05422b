"""vmap: in_dims/out_dims (ints, None, pytrees), nesting, randomness modes, errors; values against torch.vmap."""
import numpy as np
import pytest

import tapegrad as tg
from tapegrad import func as tf

RNG = np.random.default_rng(3)
A = RNG.standard_normal((4, 3, 2))
B = RNG.standard_normal((2, 4))


def _pair(fn_of_m, *arrays, **vkw):
    """The vmapped result in tapegrad (and torch when installed, compared)."""
    got = tf.vmap(fn_of_m(tg), **vkw)(*[tg.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    torch = pytest.importorskip("torch")
    want = torch.func.vmap(fn_of_m(torch), **vkw)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a
                                                     for a in arrays])
    return got, want


def _same(got, want):
    if isinstance(got, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    if isinstance(got, dict):
        assert list(got) == list(want)
        for k in got:
            _same(got[k], want[k])
        return
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("in_dims,out_dims", [(0, 0), (1, 0), (2, 1), (-1, -1), (0, 2)])
def test_in_dims_and_out_dims_ints(in_dims, out_dims):
    def fn(m):
        return lambda x: m.softmax(x, dim=0) * x.sum()
    _same(*_pair(fn, A, in_dims=in_dims, out_dims=out_dims))


def test_none_and_pytree_in_dims_and_outputs():
    def fn(m):
        def f(x, p, s):
            y = x @ p["w"][0] + s
            return {"y": y, "t": (y.sum(), p["w"][1] * 2)}
        return f
    x, w0, w1 = RNG.standard_normal((2, 4)), RNG.standard_normal((2, 3)), RNG.standard_normal((4, 3))

    def run(m, f):
        t = (lambda a: tg.tensor(a)) if m is tg else (lambda a: m.tensor(a))
        return f(fn(m), in_dims=(1, {"w": [None, 0]}, None), out_dims={"y": 1, "t": (0, -1)})(
            t(x), {"w": [t(w0), t(w1)]}, 0.5)
    got = run(tg, tf.vmap)
    assert tuple(got["y"].shape) == (3, 4) and tuple(got["t"][1].shape) == (3, 4)
    np.testing.assert_allclose(got["y"].numpy(), (x.T @ w0 + 0.5).T, rtol=1e-12)
    torch = pytest.importorskip("torch")
    _same(got, run(torch, torch.func.vmap))


def test_out_dims_none_for_an_unbatched_output():
    def fn(m):
        return lambda x, w: (x * w, w.sum())
    got, want = _pair(fn, A[:, :, 0], A[0, :, 0], in_dims=(0, None), out_dims=(0, None))
    _same(got, want)
    assert got[1].dim() == 0
    with pytest.raises(ValueError, match="out_dims=None for an output that differs"):
        tf.vmap(lambda x: x * 2, out_dims=None)(tg.tensor(A))


def test_nested_vmap_is_an_outer_product_of_batches():
    def fn(m):
        return lambda x, y: (x * y).sum()
    x, y = RNG.standard_normal((3, 5)), RNG.standard_normal((4, 5))
    got = tf.vmap(tf.vmap(fn(tg), in_dims=(None, 0)), in_dims=(0, None))(tg.tensor(x), tg.tensor(y))
    np.testing.assert_allclose(got.numpy(), x @ y.T, rtol=1e-12)
    torch = pytest.importorskip("torch")
    want = torch.func.vmap(torch.func.vmap(fn(torch), in_dims=(None, 0)), in_dims=(0, None))(
        torch.tensor(x), torch.tensor(y))
    _same(got, want)


def test_vmap_of_jacrev_and_grad_of_vmap():
    def fn(m):
        return lambda x: (x.tanh() ** 2).sum()
    x = RNG.standard_normal((3, 4))
    got = tf.vmap(tf.jacrev(tf.grad(fn(tg))))(tg.tensor(x))
    torch = pytest.importorskip("torch")
    want = torch.func.vmap(torch.func.jacrev(torch.func.grad(fn(torch))))(torch.tensor(x))
    _same(got, want)
    g = tf.grad(lambda x: tf.vmap(fn(tg))(x).sum())(tg.tensor(x))
    w = torch.func.grad(lambda x: torch.func.vmap(fn(torch))(x).sum())(torch.tensor(x))
    _same(g, w)


def test_randomness_error_raises_and_restores_the_stream():
    x = tg.ones(3)
    for body in (lambda v: v + tg.rand(()), lambda v: tg.nn.functional.dropout(v, 0.5),
                 lambda v: v + tg.randn_like(v)):
        with pytest.raises(RuntimeError, match="randomness error mode"):
            tf.vmap(body)(x)
    tg.manual_seed(5)
    a = tg.rand(4)
    tg.manual_seed(5)
    with pytest.raises(RuntimeError):
        tf.vmap(lambda v: v + tg.rand(()))(x)
    assert tg.rand(4).tolist() == a.tolist()      # the stream is back and was not advanced


def test_randomness_same_and_different():
    x = tg.zeros(4, 2)
    same = tf.vmap(lambda v: v + tg.rand(2), randomness="same")(x)
    assert all(same[i].tolist() == same[0].tolist() for i in range(4))
    diff = tf.vmap(lambda v: v + tg.rand(2), randomness="different")(x)
    assert len({tuple(r) for r in diff.tolist()}) == 4
    tg.manual_seed(7)
    first = tg.rand(2)
    tg.manual_seed(7)
    assert tf.vmap(lambda v: v + tg.rand(2), randomness="same")(x)[2].tolist() == first.tolist()


def test_errors():
    x = tg.ones(3, 2)
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        tf.vmap(lambda a, b: a + b)(x, tg.ones(2, 2))
    with pytest.raises(ValueError, match="at least one input"):
        tf.vmap(lambda a: a, in_dims=(None,))(x)
    with pytest.raises(ValueError, match="expected `in_dims` to be int or a \\(potentially nested\\) tuple"):
        tf.vmap(lambda a: a, in_dims=None)(x)
    with pytest.raises(ValueError, match="in_dim=2 .* dimensionality 2"):
        tf.vmap(lambda a: a, in_dims=2)(x)
    with pytest.raises(ValueError, match="in_dims has structure with 2 entries but inputs has 1"):
        tf.vmap(lambda a: a, in_dims=(0, 0))(x)
    with pytest.raises(ValueError, match="non-Tensor"):
        tf.vmap(lambda a, b: a, in_dims=(0, 0))(x, 2.0)
    with pytest.raises(ValueError, match="must only return Tensors"):
        tf.vmap(lambda a: 1.0)(x)
    with pytest.raises(RuntimeError, match="randomness are 'error', 'different', or 'same'"):
        tf.vmap(lambda a: a, randomness="sometimes")
    with pytest.raises(ValueError, match="chunk_size"):
        tf.vmap(lambda a: a, chunk_size=0)
