"""vmap's batching rules (Note [vmap by batching rules]): each rule's batched run equals the per-element
loop and torch.func.vmap on hypothesis inputs and in/out dims, and runs the function once; ops without a
rule take the per-op loop; host reads rerun the whole call as the loop; nesting; composition with grad."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tapegrad as tg
from tapegrad import func as tf
from tapegrad.func import _batching

torch = pytest.importorskip("torch")


def _mlp(m, x, w1, b1, w2):
    return m.nn.functional.linear(m.tanh(m.nn.functional.linear(x, w1, b1)), w2).sum(-1)


# name: (function of the namespace m, the inputs' logical shapes; "iC" = int64 in [0, C), "p" = positive)
CASES = {
    "unary": (lambda m: lambda x: x.exp() + x.tanh() * x.sigmoid() - x.abs().sqrt() + x.relu() - x.sin().neg(),
              [(2, 3)]),
    "unary_more": (lambda m: lambda x: m.log1p(x.abs()) + x.cos() * x.square() + m.erf(x) + x.floor(), [(3,)]),
    "binary_broadcast": (lambda m: lambda x, y: x * y + x / (y.abs() + 1) - m.maximum(x, y) + x ** 2 - 3 * y,
                         [(3,), (2, 3)]),
    "where_compare": (lambda m: lambda x, y: m.where(x > y, x, y * 2) + (x <= 0).to(x.dtype), [(2, 3), (3,)]),
    "matmul_mm": (lambda m: lambda a, b: a @ b, [(2, 3), (3, 4)]),
    "matmul_mv": (lambda m: lambda a, v: m.mv(a, v) + a @ v, [(2, 3), (3,)]),
    "matmul_vm": (lambda m: lambda v, b: m.matmul(v, b), [(3,), (3, 4)]),
    "dot": (lambda m: lambda v, w: m.dot(v, w) * v.sum(), [(3,), (3,)]),
    "bmm": (lambda m: lambda a, b: m.bmm(a, b), [(2, 2, 3), (2, 3, 2)]),
    "linear": (lambda m: lambda x, w, b: m.nn.functional.linear(x, w, b), [(2, 3), (4, 3), (4,)]),
    "reductions": (lambda m: lambda x: x.sum(0) + x.mean(-1).sum() + x.amax(1).mean() + x.prod(),
                   [(2, 3)]),
    "keepdim": (lambda m: lambda x: x - x.mean(-1, keepdim=True) + x.sum(dim=(0, 1), keepdim=True), [(2, 3)]),
    "max_dim": (lambda m: lambda x: x.max(dim=1).values * x.min(0)[0].sum(), [(2, 3)]),
    "argmax": (lambda m: lambda x: x.argmax(dim=-1), [(2, 3)]),
    "softmax_family": (lambda m: lambda x: m.softmax(x, dim=-1) + m.log_softmax(x, dim=0)
                       + m.logsumexp(x, dim=1, keepdim=True), [(2, 3)]),
    "views": (lambda m: lambda x: x.reshape(-1).view(3, 2).t().transpose(0, 1).unsqueeze(1).squeeze(1)
              .permute(1, 0), [(2, 3)]),
    "expand_stack_cat": (lambda m: lambda x, y: m.cat([m.stack([x, y], 0), x.unsqueeze(0).expand(2, 3)], 1),
                         [(3,), (3,)]),
    "flatten_flip": (lambda m: lambda x: x.flatten().flip(0).cumsum(0), [(2, 3)]),
    "slices": (lambda m: lambda x: x[1:, ::2] * x[0, None, :2] + x[:2, -1:] - x[..., 1][:2, None], [(3, 4)]),
    "cross_entropy": (lambda m: lambda x, t: m.nn.functional.cross_entropy(x, t), [(4, 3), "i3:(4,)"]),
    "cross_entropy_sum_none": (lambda m: lambda x, t: m.nn.functional.cross_entropy(x, t, reduction="sum")
                               + m.nn.functional.cross_entropy(x, t, reduction="none")[0], [(4, 3), "i3:(4,)"]),
    "layer_norm": (lambda m: lambda x: m.nn.functional.layer_norm(x, (3,), m.linspace(0.5, 1.5, 3, dtype=x.dtype),
                                                                  m.ones(3, dtype=x.dtype))
                   + m.nn.functional.layer_norm(x, (2, 3)), [(2, 3)]),
    "mse_loss": (lambda m: lambda x, y: m.nn.functional.mse_loss(x, y), [(2, 3), (2, 3)]),
    "mlp": (lambda m: lambda x, w1, b1, w2: _mlp(m, x, w1, b1, w2), [(3,), (5, 3), (5,), (2, 5)]),
}


def _arrays(rng, specs):
    out = []
    for s in specs:
        if isinstance(s, str):
            c, shape = s[1:].split(":")
            out.append(rng.integers(0, int(c), size=eval(shape)))
        else:
            out.append(rng.standard_normal(s))
    return out


def _batch(rng, a, d, n):
    """``n`` copies' worth of values with the batch dim at ``d``."""
    if d is None:
        return a
    if a.dtype.kind == "i":
        b = rng.integers(0, int(a.max()) + 1 if a.size else 1, size=(n,) + a.shape)
    else:
        b = rng.standard_normal((n,) + a.shape)
    return np.moveaxis(b, 0, d)


def _loop(f, xs, in_dims, out_dims):
    """The reference: f per batch element, stacked (what vmap means)."""
    n = next(x.shape[d] for x, d in zip(xs, in_dims) if d is not None)
    outs = [f(*[x if d is None else x.select(d, i) for x, d in zip(xs, in_dims)]) for i in range(n)]
    return tg.stack(outs, out_dims)


def _counted(f):
    calls = [0]

    def g(*a):
        calls[0] += 1
        return f(*a)
    return g, calls


def _close(got, want):
    want = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_rule_equals_loop_and_torch_and_runs_once(name, data):
    make, specs = CASES[name]
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    arrays = _arrays(rng, specs)
    n = data.draw(st.integers(1, 4), "batch")
    dims = [data.draw(st.one_of(st.none(), st.integers(-a.ndim - 1, a.ndim)), f"in_dim{i}")
            for i, a in enumerate(arrays)]
    if all(d is None for d in dims):
        dims[0] = 0
    if name in ("cross_entropy", "cross_entropy_sum_none"):
        dims[1] = dims[1] if dims[1] is None else dims[1] % 2     # an int target's batch dim before its one dim
    out_dim = data.draw(st.sampled_from([0, -1]), "out_dim")
    xs = [_batch(rng, a, d, n) for a, d in zip(arrays, dims)]
    f, calls = _counted(make(tg))
    before = dict(_batching.COUNTS)
    got = tf.vmap(f, in_dims=tuple(dims), out_dims=out_dim)(*[tg.tensor(x) for x in xs])
    assert calls[0] == 1, "the batched run calls the function once"
    assert _batching.COUNTS["batched"] == before["batched"] + 1
    assert _batching.COUNTS["per_op"] == before["per_op"] and _batching.COUNTS["loop"] == before["loop"]
    _close(got, _loop(make(tg), [tg.tensor(x) for x in xs], dims, out_dim))
    want = torch.func.vmap(make(torch), in_dims=tuple(dims), out_dims=out_dim)(*[torch.tensor(x) for x in xs])
    _close(got, want)


@pytest.mark.parametrize("name", ["mlp", "linear", "softmax_family", "slices", "cross_entropy", "bmm"])
def test_gradients_flow_through_the_batched_run(name):
    make, specs = CASES[name]
    rng = np.random.default_rng(1)
    xs = [_batch(rng, a, 0, 3) for a in _arrays(rng, specs)]
    dims = (0,) * len(xs)
    ours = [tg.tensor(x, requires_grad=x.dtype.kind == "f") for x in xs]
    theirs = [torch.tensor(x, requires_grad=x.dtype.kind == "f") for x in xs]
    before = _batching.COUNTS["batched"]
    (tf.vmap(make(tg), in_dims=dims)(*ours) ** 2).sum().backward()
    assert _batching.COUNTS["batched"] == before + 1
    (torch.func.vmap(make(torch), in_dims=dims)(*theirs) ** 2).sum().backward()
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            _close(a.grad, b.grad)


def test_an_op_without_a_rule_runs_the_per_op_loop():
    assert tg.ops.registry.REGISTRY["linalg_det"].batch is None
    x = np.random.default_rng(2).standard_normal((3, 4, 3))

    def make(m):
        return lambda a: m.linalg.det(a * 2) * a.sum()
    f, calls = _counted(make(tg))
    before = dict(_batching.COUNTS)
    got = tf.vmap(f, in_dims=1, out_dims=0)(tg.tensor(x))
    assert calls[0] == 1 and _batching.COUNTS["per_op"] == before["per_op"] + 1
    assert _batching.COUNTS["loop"] == before["loop"]
    _close(got, torch.func.vmap(make(torch), in_dims=1)(torch.tensor(x)))


# ops whose batched run takes the per-op loop or the whole-call loop: still equal to torch.func.vmap
OTHERS = {
    "einsum": lambda m: lambda x: m.einsum("ij,kj->ik", x, x),
    "sort": lambda m: lambda x: m.sort(x, -1).values + x.topk(2, -1).values.sum(),
    "index_select": lambda m: lambda x: m.index_select(x, 1, m.tensor([0, 3]))[:2] + x[m.tensor([2, 0])][:, :2],
    "nll_loss": lambda m: lambda x: m.nn.functional.nll_loss(m.log_softmax(x, -1), m.tensor([0, 1, 4, 2])),
    "diagonal_argsort": lambda m: lambda x: m.diagonal(x) * m.argsort(x[0]).to(x.dtype)[:4],
    "layer_norm_batched_weight": lambda m: lambda x: m.nn.functional.layer_norm(x, (5,), x[0], x[1]),
}


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_ops_without_a_rule_stay_correct(name):
    x = np.random.default_rng(12).standard_normal((4, 3, 5))
    got = tf.vmap(OTHERS[name](tg), in_dims=1)(tg.tensor(x))
    _close(got, torch.func.vmap(OTHERS[name](torch), in_dims=1)(torch.tensor(x)))


def test_a_host_read_reruns_the_whole_call_as_the_loop():
    x = np.random.default_rng(4).standard_normal((5, 3))

    def g(a):
        return a * 2 if float(a.sum()) > 0 else -a     # data-dependent control flow: only the loop can do it
    f, calls = _counted(g)
    before = _batching.COUNTS["loop"]
    got = tf.vmap(f)(tg.tensor(x))
    assert _batching.COUNTS["loop"] == before + 1 and calls[0] == 1 + 5
    _close(got, np.stack([r * 2 if r.sum() > 0 else -r for r in x]))


def test_in_place_on_a_batched_tensor_reruns_as_the_loop():
    x = np.random.default_rng(5).standard_normal((3, 2))

    def g(a):
        b = a * 1
        b.mul_(3)
        return b + 1
    got = tf.vmap(g)(tg.tensor(x))
    _close(got, x * 3 + 1)


def test_in_place_write_of_a_batched_value_into_a_captured_tensor_loops_and_writes_once_per_element():
    acc = tg.zeros(3, dtype=tg.float64)

    def g(a):
        acc.add_(a)             # the batched run cannot write one value per element: it must not write at all
        return a * 2
    x = np.random.default_rng(10).standard_normal((4, 3))
    before = _batching.COUNTS["loop"]
    got = tf.vmap(g)(tg.tensor(x))
    assert _batching.COUNTS["loop"] == before + 1
    _close(got, x * 2)
    _close(acc, x.sum(0))


@pytest.mark.parametrize("body", [lambda a: a.unsqueeze(0).squeeze_(0) * 2, lambda a: (a * 1).t_() + 1,
                                  lambda a: _set_data(a * 1, a * 3)])
def test_in_place_metadata_changes_of_a_batched_tensor_loop(body):
    x = np.random.default_rng(11).standard_normal((4, 2, 2))
    before = _batching.COUNTS["loop"]
    got = tf.vmap(body)(tg.tensor(x))
    assert _batching.COUNTS["loop"] == before + 1
    _close(got, _loop(body, [tg.tensor(x)], [0], 0))


def _set_data(t, v):
    t.data = v
    return t


@pytest.mark.parametrize("outer,inner", [((0, None), (None, 0)), ((1, 0), (0, 1)), ((0, 0), (0, 0))])
def test_nested_vmaps_run_once(outer, inner):
    rng = np.random.default_rng(6)
    shapes = {((0, None), (None, 0)): [(4, 3), (5, 3)], ((1, 0), (0, 1)): [(2, 4, 3), (4, 3, 2)],
              ((0, 0), (0, 0)): [(4, 2, 3), (4, 2, 3)]}[(outer, inner)]
    a, b = (rng.standard_normal(s) for s in shapes)

    def make(m):
        return lambda x, y: (m.softmax(x * y, dim=-1) * x).sum(-1) + (x @ y) * 0.5
    f, calls = _counted(make(tg))
    got = tf.vmap(tf.vmap(f, in_dims=inner), in_dims=outer)(tg.tensor(a), tg.tensor(b))
    assert calls[0] == 1
    want = torch.func.vmap(torch.func.vmap(make(torch), in_dims=inner), in_dims=outer)(torch.tensor(a),
                                                                                      torch.tensor(b))
    _close(got, want)


def test_nested_output_that_ignores_the_inner_batch():
    x, y = np.random.default_rng(7).standard_normal((2, 3, 4))

    def make(m):
        return lambda a, b: (a.sum() * 2, b * a.sum())
    got = tf.vmap(tf.vmap(make(tg), in_dims=(None, 0), out_dims=(0, 1)), in_dims=(0, None))(tg.tensor(x),
                                                                                            tg.tensor(y))
    want = torch.func.vmap(torch.func.vmap(make(torch), in_dims=(None, 0), out_dims=(0, 1)), in_dims=(0, None))(
        torch.tensor(x), torch.tensor(y))
    for g, w in zip(got, want):
        _close(g, w)


X8 = np.random.default_rng(8).standard_normal((5, 3))
W8 = np.random.default_rng(9).standard_normal((4, 3))


def _fx(m):
    return lambda x: (m.sin(x) * x).sum() + (x ** 3).sum()


def _fwx(m):
    return lambda w, x: (m.tanh(m.nn.functional.linear(x, w)) ** 2).sum()


# transforms inside vmap: the batched run differentiates the physical tensors (Note [gradients in a batched run])
COMPOSED = {
    "per_sample_grad": lambda T, m: T.vmap(T.grad(_fwx(m)), in_dims=(None, 0))(m.tensor(W8), m.tensor(X8)),
    "grad_two_argnums": lambda T, m: T.vmap(T.grad(_fwx(m), argnums=(0, 1)), in_dims=(None, 0))(m.tensor(W8),
                                                                                             m.tensor(X8)),
    "grad_of_grad": lambda T, m: T.vmap(T.grad(lambda x: T.grad(_fx(m))(x).sum()))(m.tensor(X8)),
    "grad_and_value": lambda T, m: T.vmap(T.grad_and_value(_fx(m)))(m.tensor(X8)),
    "vjp": lambda T, m: T.vmap(lambda x: T.vjp(lambda a: a.exp() * a, x)[1](x)[0])(m.tensor(X8)),
    "jacrev": lambda T, m: T.vmap(T.jacrev(lambda x: m.softmax(x, -1)))(m.tensor(X8)),
    "jacfwd": lambda T, m: T.vmap(T.jacfwd(lambda x: m.softmax(x, -1)))(m.tensor(X8)),
    "hessian": lambda T, m: T.vmap(T.hessian(_fx(m)))(m.tensor(X8)),
    "nested_vmap_grad": lambda T, m: T.vmap(T.vmap(T.grad(_fwx(m)), in_dims=(None, 0)), in_dims=(0, None))(
        m.tensor(np.stack([W8, 2 * W8])), m.tensor(X8)),
    "grad_of_vmap_grad": lambda T, m: T.grad(lambda w: T.vmap(T.grad(_fwx(m)), in_dims=(None, 0))(
        w, m.tensor(X8)).sum())(m.tensor(W8)),
}


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_transforms_inside_vmap_take_the_batched_path(name):
    before = dict(_batching.COUNTS)
    got = COMPOSED[name](tf, tg)
    assert _batching.COUNTS["batched"] > before["batched"] and _batching.COUNTS["loop"] == before["loop"]
    assert _batching.COUNTS["per_op"] == before["per_op"]
    want = COMPOSED[name](torch.func, torch)
    got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        _close(g, w)


def test_vmap_of_a_vjp_taken_outside_loops_and_matches_torch():
    def make(m):
        return lambda x: m.softmax(x * x, dim=-1) * x
    eye = np.eye(3)
    _, fn = tf.vjp(make(tg), tg.tensor(X8[0]))
    before = _batching.COUNTS["loop"]
    got = tf.vmap(fn)(tg.tensor(eye))[0]
    assert _batching.COUNTS["loop"] == before + 1
    _, tfn = torch.func.vjp(make(torch), torch.tensor(X8[0]))
    _close(got, torch.func.vmap(tfn)(torch.tensor(eye))[0])


def test_jacrev_and_grad_of_vmap():
    x = X8
    jac = tf.jacrev(lambda a: m_softmax(tg, a))(tg.tensor(x[0]))
    _close(jac, torch.func.jacrev(lambda a: m_softmax(torch, a))(torch.tensor(x[0])))
    before = _batching.COUNTS["batched"]
    g = tf.grad(lambda a: tf.vmap(lambda r: m_softmax(tg, r).sum(-1) * r.sum())(a).sum())(tg.tensor(x))
    assert _batching.COUNTS["batched"] == before + 1     # vmap inside grad takes the batched path
    want = torch.func.grad(lambda a: torch.func.vmap(lambda r: m_softmax(torch, r).sum(-1) * r.sum())(a).sum())(
        torch.tensor(x))
    _close(g, want)


def m_softmax(m, a):
    return m.softmax(a * a, dim=-1) * a


def test_a_batched_tensor_kept_past_its_vmap_raises_a_clear_error():
    kept = []

    def f(x):
        kept.append(x * 2)
        return x.sum()
    tf.vmap(f)(tg.ones(3, 2))
    with pytest.raises(RuntimeError, match="used after the vmap returned"):
        kept[0].numpy()
    with pytest.raises(RuntimeError, match="used after the vmap returned"):
        kept[0] + 1
