"""In-place ops on views of tensors with history, against PyTorch (Note [copy slices] in ops/_copy_slices.py).

Each program runs under tapegrad and under torch on the same float64 input;
values, first gradients and (where torch supports it) second gradients must
agree. Errors are compared separately.
"""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _col_mul(T, x):
    y = x * 2
    y[:, 0].mul_(3)
    return y


def _narrow_add(T, x):
    y = x * 1
    y.narrow(1, 1, 2).add_(x[:, :2] * 2)
    return y


def _select_mul(T, x):
    y = x.cos()
    y[1].mul_(x[0])
    return y


def _transpose(T, x):
    y = x * 2
    y.t()[0].add_(1)
    y.transpose(0, 1)[1].mul_(x[:, 1])
    return y


def _view_of_view(T, x):
    y = x * x
    y.view(-1)[2:5].mul_(2)
    return y


def _reshape_view(T, x):
    y = x + 1
    y.reshape(2, 6)[1].div_(x[0, 0] + 3)
    return y


def _chain_permute(T, x):
    y = (x * 1).reshape(3, 2, 2).permute(2, 0, 1)
    y[1].mul_(x[:, :2])
    return y


def _several_in_a_row(T, x):
    y = x * 3
    v = y[:, 1:3]
    v.mul_(2)
    v.add_(x[:, :2], alpha=0.5)
    v.sub_(x[:, 2:] * x[:, 2:])
    v.div_(1.5)
    return y


def _clamp_view(T, x):
    y = x * 1
    y[1:, ::2].clamp_(-0.3, 0.4)
    return y


def _fill_zero_copy(T, x):
    y = x * 2
    y[0].fill_(0.5)
    y[1, 1:].zero_()
    y[2].copy_(x[0] * 4)
    return y


def _setitem_into_view(T, x):
    y = x * 2
    y[0][1:3] = x[1, :2] * 3
    y[:, 3][1] = 7.0
    return y


def _unsqueeze_squeeze(T, x):
    y = x.sin()
    y.unsqueeze(0)[0, 1].sub_(x[2])
    y.view(1, 3, 4).squeeze(0)[:, 0].mul_(x[:, 3])
    return y


def _sibling_views(T, x):
    y = x * 2
    a = y[0]
    b = y[:, 1]
    a.mul_(3)
    return b * b, y


def _base_then_view(T, x):
    y = x * 2
    v = y[1]
    y.mul_(x)
    return v, y


def _view_used_before_write(T, x):
    y = x * 2
    v = y[0]
    w = v + 1             # keeps the old history of v
    v.mul_(x[1])
    return w, v, y


def _base_without_grad(T, x):
    z = T.zeros(3, 3, dtype=T.float64)
    a = z[:, 1]
    b = z[2]
    a.copy_(x[:, 0] * 2)
    return z, b


def _view_mul_itself(T, x):
    y = x * 1
    v = y[:, 2]
    v.mul_(x[:, 0])
    v.add_(v.detach() * 0 + 1)      # a value that does not save v
    return y


def _zero_dim_base(T, x):
    y = (x * 2).sum()
    y.view(1).mul_(3)
    return y


def _zero_dim_view(T, x):
    y = x * 2
    y[0, 1].mul_(x[1, 1])
    return y


def _nested_views_and_siblings(T, x):
    y = x * 2
    e = y[1]
    e2 = e[0:2]
    e3 = y[:, 0]
    e2.add_(5)
    e.mul_(2)
    return y, e3, e2


PROGRAMS = [_col_mul, _narrow_add, _select_mul, _transpose, _view_of_view, _reshape_view, _chain_permute,
            _several_in_a_row, _clamp_view, _fill_zero_copy, _setitem_into_view, _unsqueeze_squeeze,
            _sibling_views, _base_then_view, _view_used_before_write, _base_without_grad, _view_mul_itself,
            _zero_dim_base, _zero_dim_view, _nested_views_and_siblings]

X = np.random.default_rng(0).uniform(-1, 1, (3, 4))


def _run(T, prog, order):
    x = T.tensor(X, dtype=T.float64, requires_grad=True)
    outs = prog(T, x)
    outs = outs if isinstance(outs, tuple) else (outs,)
    loss = sum((o * o).sum() + o.sum() for o in outs)
    vals = [o.detach().numpy().copy() for o in outs]
    (g,) = T.autograd.grad(loss, x, create_graph=order > 1)
    res = vals + [g.detach().numpy().copy()]
    if order > 1:
        (gg,) = T.autograd.grad((g * g).sum(), x)
        res.append(gg.numpy().copy())
    return res


@pytest.mark.parametrize("prog", PROGRAMS, ids=[p.__name__.strip("_") for p in PROGRAMS])
@pytest.mark.parametrize("order", [1, 2])
def test_values_and_gradients_match_torch(prog, order):
    want = _run(torch, prog, order)
    got = _run(tg, prog, order)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_the_view_and_the_base_get_new_histories():
    x = tg.ones(2, 3, requires_grad=True)
    y = x * 2
    before = y.grad_fn
    v = y[:, 0]
    v.mul_(3)
    assert v._base is y and y.grad_fn is not before and v.requires_grad
    assert y._version[0] == 1 and v._version is y._version
    v.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[6, 0, 0], [6, 0, 0]])


def _leaf_view_write(T):
    x = T.ones(2, 3, requires_grad=True)
    x[0].mul_(2)


def _saved_base(T):
    y = T.ones(2, 3, requires_grad=True) * 2
    s = y * y
    y[0].mul_(2)
    s.sum().backward()


def _saved_view(T):
    y = T.ones(2, 3, requires_grad=True) * 2
    v = y.t()[1]
    s = v * v
    y[:, 1].add_(1)
    s.sum().backward()


def _saved_old_view_value(T):
    y = T.ones(2, 3, requires_grad=True) * 2
    v = y[1]
    s = v.sin()           # saves v
    v.view(3)[0:2].mul_(3)
    s.sum().backward()


def _no_grad_view(T):
    y = T.ones(2, 3, requires_grad=True) * 2
    with T.no_grad():
        v = y[0]
    v.mul_(2)


def _split_output(T):
    y = T.ones(2, 4, requires_grad=True) * 2
    y.split(2, dim=1)[1].mul_(3)


def _split_sizes_output(T):
    y = T.ones(2, 4, requires_grad=True) * 2
    y.split([1, 3], dim=1)[1][0] = 5.0


def _chunk_output(T):
    y = T.ones(2, 4, requires_grad=True) * 2
    y.chunk(2, 1)[0].add_(1)


def _unbind_output(T):
    y = T.ones(2, 4, requires_grad=True) * 2
    y.unbind(0)[1].zero_()


@pytest.mark.parametrize("prog,match", [
    (_split_output, "Output 1 of Split is a view and is being modified inplace"),
    (_split_sizes_output, "is a view and is being modified inplace. This view is the output of a function that "
                          "returns multiple views"),      # a view of an output: torch names its Select
    (_chunk_output, "Output 0 of Split is a view and is being modified inplace"),
    (_unbind_output, "Output 1 of Unbind is a view and is being modified inplace"),
    (_leaf_view_write, "a view of a leaf Variable that requires grad is being used in an in-place operation"),
    (_saved_base, "modified by an inplace operation"),
    (_saved_view, "modified by an inplace operation"),
    (_saved_old_view_value, "modified by an inplace operation"),
    (_no_grad_view, "no_grad mode"),
], ids=lambda p: getattr(p, "__name__", "")[1:])
def test_errors_match_torch(prog, match):
    with pytest.raises(RuntimeError, match=match):
        prog(torch)
    with pytest.raises(RuntimeError, match=match):
        prog(tg)


def test_saved_value_error_names_both_ops():
    y = tg.ones(2, 3, requires_grad=True) * 2
    s = y * y
    y[0].mul_(2)
    with pytest.raises(RuntimeError, match="by mul_: a tensor saved by multiply"):
        s.sum().backward()


def test_failed_write_into_a_view_changes_nothing():
    x = tg.ones(2, 3, requires_grad=True)
    y = x * 2
    fn, version = y.grad_fn, y._version[0]
    with pytest.raises(RuntimeError, match="add_"):
        y[0].add_(tg.ones(4))
    assert y.grad_fn is fn and y._version[0] == version
    np.testing.assert_allclose(y.detach().numpy(), 2)


def test_leaf_view_write_under_no_grad_is_allowed():
    x = tg.ones(2, 3, requires_grad=True)
    with tg.no_grad():
        x[0].mul_(2)
    assert x.grad_fn is None
    np.testing.assert_allclose(x.detach().numpy(), [[2, 2, 2], [1, 1, 1]])


def test_reshape_that_copies_is_not_a_view():
    x = tg.ones(2, 3, requires_grad=True)
    y = x * 2
    r = y.t().reshape(6)          # a copy: writing into it leaves y alone, as in torch
    r.mul_(3)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), 2)
    np.testing.assert_allclose(x.grad.numpy(), 2)


def test_setitem_into_a_reshape_that_copied():
    x = tg.ones(2, 3, requires_grad=True)
    y = x * 2
    r = y.t().reshape(6)          # not a view of y: recorded as an ordinary setitem
    r[0] = 5.0
    (r * r).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), 2)
    np.testing.assert_allclose(x.grad.numpy(), [[0, 8, 8], [8, 8, 8]])


def test_base_in_any_memory_layout():
    a = np.asfortranarray(np.zeros((3, 4)))       # a column-major base: positions come from its strides
    z = tg.from_numpy(a)
    w = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64, requires_grad=True)
    z[1].copy_(w * 2)
    z.t()[3].mul_(3)
    (z * z).sum().backward()
    np.testing.assert_allclose(a, [[0, 0, 0, 0], [2, 4, 6, 24], [0, 0, 0, 0]])
    np.testing.assert_allclose(w.grad.numpy(), [8, 16, 24, 8 * 4 * 9])


def test_split_outputs_can_be_written_without_recording():
    x = tg.ones(2, 4, requires_grad=True)
    y = x * 2
    with tg.no_grad():
        y.split(2, 1)[0].add_(1)
    np.testing.assert_allclose(y.detach().numpy(), [[3, 3, 2, 2], [3, 3, 2, 2]])


# ----------------------------------------------------------------- random view chains (hypothesis)
hyp = pytest.importorskip("hypothesis")
st = hyp.strategies

# Each view step, as a function of (lib, tensor, a number from 0 to 99), applied when the tensor allows it.
_VIEW_STEPS = [
    ("slice", lambda T, t, k: t[k % t.shape[0]:] if t.ndim else t),
    ("step", lambda T, t, k: t[:, ::1 + k % 2] if t.ndim >= 2 else t),
    ("select", lambda T, t, k: t[k % t.shape[0]] if t.ndim >= 2 else t),
    ("narrow", lambda T, t, k: t.narrow(-1, k % t.shape[-1], 1 + (k // 7) % (t.shape[-1] - k % t.shape[-1]))
     if t.ndim else t),
    ("t", lambda T, t, k: t.transpose(0, -1) if t.ndim >= 2 else t),
    ("unsqueeze", lambda T, t, k: t.unsqueeze(k % (t.ndim + 1))),
    ("flatten", lambda T, t, k: t.view(-1) if t.is_contiguous() else t),
]
_WRITES = [
    lambda T, v, x: v.mul_(1.5),
    lambda T, v, x: v.add_(x.sum() * 0.25),
    lambda T, v, x: v.mul_(x.mean()),
    lambda T, v, x: v.sub_(v.detach().clone() * 0.5),
    lambda T, v, x: v.copy_(x.sum() * 2),
    lambda T, v, x: v.clamp_(-0.5, 0.7),
    lambda T, v, x: v.zero_(),
]


def _chain_program(T, steps, writes, x):
    y = x * x + 1
    v = y
    for i, k in steps:
        v = _VIEW_STEPS[i][1](T, v, k)
    for w in writes:
        if v.numel():
            _WRITES[w](T, v, x)
    return y, v


@hyp.given(steps=st.lists(st.tuples(st.integers(0, len(_VIEW_STEPS) - 1), st.integers(0, 99)), min_size=1,
                          max_size=4),
           writes=st.lists(st.integers(0, len(_WRITES) - 1), min_size=1, max_size=3))
def test_random_view_chains_match_torch(steps, writes):
    results = []
    for T in (torch, tg):
        x = T.tensor(np.arange(1.0, 13.0).reshape(3, 4) / 7.0, dtype=T.float64, requires_grad=True)
        y, v = _chain_program(T, steps, writes, x)
        loss = (y * y).sum() + (v * v).sum()
        (g,) = T.autograd.grad(loss, x)
        results.append((y.detach().numpy().copy(), v.detach().numpy().copy(), g.numpy().copy()))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
