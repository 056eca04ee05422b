"""Forward mode by the ops' JVP rules (Note [forward mode] in tapegrad/autograd/forward_ad.py).

Every op-database spec that exercises an op with a JVP rule: the tangent of the spec's call under
``forward_ad`` equals torch.autograd.forward_ad's (the oracle) and the double-vjp result, on the
spec's own hypothesis draws (broadcasting, index tensors, keyword arguments). Then int/float mixes,
the fallback for ops without a rule, ``no_grad``, in-place ops on duals, and the cost of
``unpack_dual`` (the rule path runs the engine zero times).
"""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad as tg
import tapegrad.autograd.forward_ad as fwAD
from tapegrad.autograd import engine
from tapegrad.ops.registry import REGISTRY
from op_db import draw_case, load_all

torch = pytest.importorskip("torch")

SPECS = load_all()
RULED = {n for n, d in REGISTRY.items() if d.jvp_fn is not None}
# Forward AD through sparse COO ops falls back to the double vjp, which sparse ops refuse
# (NotImplementedError, test_forward_ad_through_sparse_ops_raises_naming_them); they are not compared here.
SPARSE = {"sparse_coo", "sparse_mm", "sparse_to_dense", "sparse_values", "embedding_sparse"}
CASES = [s for s in SPECS if s.torch_fn is not None and s.grad and "float64" in s.dtypes and set(s.covers) & RULED
         and s.name != "ctc_loss" and not set(s.covers) & SPARSE]

# Differentiable ops that declare no JVP rule: their tangents come from the double-vjp trick on their own
# node (forward_ad._local). Give an op a rule (ops/_jvp.py kinds, or @op.jvp) and take it off this list.
FALLBACK = {
    "batch_norm", "binary_cross_entropy", "cross_entropy", "ctc_loss", "cumprod", "layer_norm", "linalg_cholesky",
    "linalg_det", "linalg_eigh", "linalg_inv", "linalg_qr", "linalg_slogdet", "linalg_solve", "linalg_svd",
    "logcumsumexp", "matrix_exp", "prod", "vector_norm",
} | SPARSE

# Specs where torch's forward AD is no oracle: spec name -> why. There the tangent is compared with the
# double-vjp result only.
_NO_FWAD = "torch 2.13 raises NotImplementedError: forward AD is not implemented for "
TORCH_NO_FWAD = {
    "scaled_dot_product_attention_gqa": _NO_FWAD + "_scaled_dot_product_flash_attention_for_cpu",
    "embedding_bag": _NO_FWAD + "_embedding_bag", "embedding_bag_2d": _NO_FWAD + "_embedding_bag",
    "multi_margin_loss": _NO_FWAD + "multi_margin_loss",
    "multilabel_margin_loss": _NO_FWAD + "multilabel_margin_loss_forward",
    "grid_sample": _NO_FWAD + "grid_sampler_2d", "cdist": _NO_FWAD + "_cdist_forward",
    "grid_sample_bicubic": _NO_FWAD + "grid_sampler_2d",
    "scatter_reduce_prod": "torch 2.13's forward AD gives a zero tangent for scatter_reduce(reduce='prod') while its "
                           "own reverse-mode gradient agrees with tapegrad's (tests/ops/test_op_torch_parity.py)",
}
# Draws where torch's tangent is wrong: spec name -> (predicate on the drawn arrays and kwargs, why); there
# the tangent is compared with the double-vjp result only.
_DIM_EMPTY = "torch 2.13: {}(dim=()) reduces every dim forward but differentiates as if it reduced none"
TORCH_WRONG_DRAWS = {
    "var": (lambda x, dim=None, **kw: dim == (), _DIM_EMPTY.format("var")),
    "std": (lambda x, dim=None, **kw: dim == (), _DIM_EMPTY.format("std")),
}
# Draws stepped around: spec name -> (predicate on the drawn arrays and kwargs, why).
STEP_AROUND = {
    "logsumexp": (lambda x, **kw: x.size == 0, "torch 2.13's tangent of logsumexp over an empty tensor is nan "
                  "(tapegrad: 0, the tangent of the constant -inf)"),
}
# Looser tolerances against torch: spec name -> (rtol, why).
TOLERANCES = {
    "hardsigmoid": (1e-7, "torch 2.13 multiplies by 1/6 rounded to float32 in every dtype"),
    "digamma": (1e-9, "torch 2.13's polygamma(1, x) is accurate to about 4e-10 relative"),
}
# Specs whose op has no double backward (gradgrad=False): the double-vjp reference cannot run, so the
# tangent is compared with torch only; where the fallback needs that double backward, tapegrad raises
# NotImplementedError naming the op, as torch's forward AD raises (test_fallback_without_double_backward_raises).
RAISES = {"ctc_loss"}


def _outs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _float(t):
    return t.dtype.is_floating_point


def _tangents(ts, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(t.shape) if _float(t) else None for t in ts]


def _tg_forward(fn, ts, tans, kwargs):
    with fwAD.dual_level():
        args = [fwAD.make_dual(t, tg.from_numpy(v)) if v is not None else t for t, v in zip(ts, tans)]
        res = []
        for o in _outs(fn(*args, **kwargs)):
            if isinstance(o, tg.Tensor) and _float(o):
                p, t = fwAD.unpack_dual(o)
                res.append(np.zeros(tuple(o.shape)) if t is None else t.numpy())
        return res


def _torch_forward(torch_fn, ts, tans, kwargs):
    import torch.autograd.forward_ad as tfw
    with tfw.dual_level():
        args = []
        for t, v in zip(ts, tans):
            x = torch.from_numpy(t.numpy().copy())
            args.append(tfw.make_dual(x, torch.from_numpy(v)) if v is not None else x)
        res = []
        for o in _outs(torch_fn(torch, *args, **kwargs)):
            if isinstance(o, torch.Tensor) and o.is_floating_point():
                t = tfw.unpack_dual(o).tangent
                res.append(np.zeros(tuple(o.shape)) if t is None else t.numpy())
        return res


def _double_vjp(fn, ts, tans, kwargs):
    """``J v`` by two reverse passes over the whole call: the reference the rules must equal."""
    leaves = [t.detach().requires_grad_(True) if v is not None else t for t, v in zip(ts, tans)]
    outs = [o for o in _outs(fn(*leaves, **kwargs)) if isinstance(o, tg.Tensor) and _float(o)]
    ins = [x for x, v in zip(leaves, tans) if v is not None]
    vs = [tg.from_numpy(v) for v in tans if v is not None]
    res = []
    for o in outs:
        if not o.requires_grad:
            res.append(np.zeros(tuple(o.shape)))
            continue
        u = tg.zeros_like(o).requires_grad_(True)
        g = tg.autograd.grad([o], ins, [u], create_graph=True, allow_unused=True)
        pairs = [(gi, v) for gi, v in zip(g, vs) if gi is not None and gi.requires_grad]
        if not pairs:
            res.append(np.zeros(tuple(o.shape)))
            continue
        (jv,) = tg.autograd.grad([p for p, _ in pairs], [u], [v for _, v in pairs], allow_unused=True)
        res.append(np.zeros(tuple(o.shape)) if jv is None else jv.numpy())
    return res


def _close(got, want, what, rtol=1e-8):
    assert len(got) == len(want), what
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-10, err_msg=what)


def test_every_ruled_op_is_checked_here():
    covered = set().union(*(set(s.covers) for s in CASES)) & RULED
    assert covered == RULED, f"ops with a JVP rule that no compared spec exercises: {sorted(RULED - covered)}"


def test_ops_without_rules_are_listed():
    missing = set(fwAD.ops_without_rules())
    assert missing == FALLBACK, (f"ops without a JVP rule changed: new {sorted(missing - FALLBACK)}, "
                                 f"now with a rule {sorted(FALLBACK - missing)} (update FALLBACK)")


@pytest.mark.parametrize("spec", CASES, ids=[s.name for s in CASES])
@settings(max_examples=3)
@given(data=st.data())
def test_rule_tangent_matches_torch_and_double_vjp(spec, data):
    ts, arrays, kwargs = draw_case(data, spec, tg.float64)
    assume(any(_float(t) for t in ts))
    if spec.name in STEP_AROUND:
        assume(not STEP_AROUND[spec.name][0](*arrays, **kwargs))
    tans = _tangents(ts, data.draw(st.integers(0, 2 ** 32 - 1), label="tangent seed"))
    got = _tg_forward(spec.fn, ts, tans, kwargs)
    if spec.gradgrad:
        _close(got, _double_vjp(spec.fn, ts, tans, kwargs), f"{spec.name}: rules vs double vjp")
    wrong = spec.name in TORCH_WRONG_DRAWS and TORCH_WRONG_DRAWS[spec.name][0](*arrays, **kwargs)
    if spec.name not in TORCH_NO_FWAD and not wrong:
        _close(got, _torch_forward(spec.torch_fn, ts, tans, kwargs), f"{spec.name}: rules vs torch forward AD",
               rtol=TOLERANCES.get(spec.name, (1e-8,))[0])


BINARY = [
    ("add", lambda m, a, b: a + b), ("sub", lambda m, a, b: a - b), ("mul", lambda m, a, b: a * b),
    ("div", lambda m, a, b: a / b), ("pow", lambda m, a, b: m.abs(a) ** b),
    ("maximum", lambda m, a, b: m.maximum(a, b)),
    ("where", lambda m, a, b: m.where(a > 0, a, b)), ("atan2", lambda m, a, b: m.atan2(a, b)),
    ("hypot", lambda m, a, b: m.hypot(a, b * 1.0)), ("clamp", lambda m, a, b: m.clamp(a, max=b)),
]


@pytest.mark.parametrize("name,f", BINARY, ids=[n for n, _ in BINARY])
@settings(max_examples=8)
@given(data=st.data())
def test_int_float_mixes_and_broadcasting(name, f, data):
    """One float dual and one integer (or float) tensor of a broadcastable shape, either order."""
    sa, sb = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    a = data.draw(hnp.arrays(np.float64, sa, elements=st.floats(0.5, 2.0)))
    b_int = data.draw(st.booleans())
    b = data.draw(hnp.arrays(np.int64 if b_int else np.float32, sb, elements=st.integers(1, 3)))
    swap = data.draw(st.booleans()) and name != "clamp"
    # At a tie x == max, torch 2.13's forward AD of clamp takes max's tangent while its reverse mode gives x
    # the gradient (x.grad 1, max.grad 0); tapegrad's tangent is the reverse mode's J v, so ties are skipped.
    assume(name != "clamp" or not np.any(np.broadcast_to(a, np.broadcast_shapes(sa, sb))
                                         == np.broadcast_to(b, np.broadcast_shapes(sa, sb))))
    va = np.random.default_rng(0).standard_normal(sa)
    with fwAD.dual_level():
        d = fwAD.make_dual(tg.from_numpy(a), tg.from_numpy(va))
        y = f(tg, tg.from_numpy(b), d) if swap else f(tg, d, tg.from_numpy(b))
        p, t = fwAD.unpack_dual(y)
    import torch.autograd.forward_ad as tfw
    with tfw.dual_level():
        d = tfw.make_dual(torch.from_numpy(a), torch.from_numpy(va))
        y2 = f(torch, torch.from_numpy(b), d) if swap else f(torch, d, torch.from_numpy(b))
        p2, t2 = tfw.unpack_dual(y2)
    assert str(p.dtype).split(".")[-1] == str(p2.dtype).split(".")[-1]
    assert t.dtype == p.dtype and tuple(t.shape) == tuple(p.shape)
    np.testing.assert_allclose(t.numpy(), t2.numpy(), rtol=1e-6, atol=1e-7)


class _Runs:
    """Counts engine runs (every backward pass and autograd.grad goes through engine.run)."""

    def __init__(self, monkeypatch):
        self.n = 0
        real = engine.run

        def run(*a, **k):
            self.n += 1
            return real(*a, **k)
        monkeypatch.setattr(engine, "run", run)


def _mlp(m, x, w):
    return (m.softmax(m.tanh(x @ w), -1) * x[:, :2].exp()).logsumexp(0).sum() + x.amax()


def test_unpack_dual_runs_no_backward(monkeypatch):
    rng = np.random.default_rng(1)
    x, w, v = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 4))
    runs = _Runs(monkeypatch)
    with fwAD.dual_level():
        y = _mlp(tg, fwAD.make_dual(tg.from_numpy(x), tg.from_numpy(v)), tg.from_numpy(w))
        t = fwAD.unpack_dual(y).tangent
        assert not fwAD._LEVELS[0].fallbacks
    assert runs.n == 0
    import torch.autograd.forward_ad as tfw
    with tfw.dual_level():
        t2 = tfw.unpack_dual(_mlp(torch, tfw.make_dual(torch.from_numpy(x), torch.from_numpy(v)),
                                  torch.from_numpy(w))).tangent
    np.testing.assert_allclose(t.numpy(), t2.numpy(), rtol=1e-10)


def test_func_jvp_runs_no_backward_and_hessian_stays_correct(monkeypatch):
    rng = np.random.default_rng(2)
    x, w, v = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 4))
    runs = _Runs(monkeypatch)
    out, t = tg.func.jvp(lambda a: _mlp(tg, a, tg.from_numpy(w)), (tg.from_numpy(x),), (tg.from_numpy(v),))
    j = tg.func.jacfwd(lambda a: _mlp(tg, a, tg.from_numpy(w)))(tg.from_numpy(x))
    assert runs.n == 0
    assert not t.requires_grad and not j.requires_grad
    f2 = lambda a: _mlp(torch, a, torch.from_numpy(w))      # noqa: E731
    _, t2 = torch.func.jvp(f2, (torch.from_numpy(x),), (torch.from_numpy(v),))
    np.testing.assert_allclose(t.numpy(), t2.numpy(), rtol=1e-10)
    np.testing.assert_allclose(j.numpy(), torch.func.jacfwd(f2)(torch.from_numpy(x)).numpy(), rtol=1e-10)
    h = tg.func.hessian(lambda a: _mlp(tg, a, tg.from_numpy(w)))(tg.from_numpy(x))
    np.testing.assert_allclose(h.numpy(), torch.func.hessian(f2)(torch.from_numpy(x)).numpy(), rtol=1e-9,
                               atol=1e-12)


def test_fallback_op_gets_its_tangent_by_double_vjp_on_its_node(monkeypatch):
    x = np.array([[1.5, -2.0, 0.5], [3.0, 1.0, -1.0]])
    v = np.array([[0.1, 0.2, -0.3], [1.0, 0.0, 2.0]])
    runs = _Runs(monkeypatch)
    with fwAD.dual_level():
        y = fwAD.make_dual(tg.from_numpy(x), tg.from_numpy(v)).exp().prod(1)      # prod has no rule
        t = fwAD.unpack_dual(y).tangent
        assert fwAD._LEVELS[0].fallbacks == {"prod": 1}
    assert runs.n == 2                  # the two reverse passes of that one node
    import torch.autograd.forward_ad as tfw
    with tfw.dual_level():
        t2 = tfw.unpack_dual(tfw.make_dual(torch.from_numpy(x), torch.from_numpy(v)).exp().prod(1)).tangent
    np.testing.assert_allclose(t.numpy(), t2.numpy(), rtol=1e-12)
    assert "prod" in fwAD.ops_without_rules() and "prod" in FALLBACK


def test_tangents_flow_under_no_grad():
    x, v = tg.tensor([0.5, 1.0], dtype=tg.float64), tg.tensor([1.0, -2.0], dtype=tg.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        with tg.no_grad():
            y = (d.sin() * d).sum()
            z = d.exp().prod()                  # the fallback runs under no_grad too
        ty, tz = fwAD.unpack_dual(y).tangent, fwAD.unpack_dual(z).tangent
    xs = x.numpy()
    np.testing.assert_allclose(ty.item(), ((np.cos(xs) * xs + np.sin(xs)) * v.numpy()).sum(), rtol=1e-12)
    np.testing.assert_allclose(tz.item(), np.exp(xs.sum()) * v.numpy().sum(), rtol=1e-12)
    assert not y.requires_grad and not ty.requires_grad


INPLACE = [
    ("mul_", lambda m, d, c: d.mul_(c)), ("add_", lambda m, d, c: d.add_(c, alpha=2)),
    ("div_", lambda m, d, c: d.div_(c)), ("sub_", lambda m, d, c: d.sub_(c)),
    ("clamp_", lambda m, d, c: d.clamp_(-0.5, 0.5)),
    ("into_plain", lambda m, d, c: c.add_(d)),          # a plain tensor written with a dual becomes dual
    ("setitem_plain", lambda m, d, c: _setitem(c, slice(0, 2), d[1:] * 2)),
    ("setitem_dual", lambda m, d, c: _setitem(d, [0, 2], c[:2])),
    ("setitem_both", lambda m, d, c: _setitem(d, 1, d[0] * c[1])),
]


def _setitem(t, key, v):
    t[key] = v
    return t


@pytest.mark.parametrize("name,f", INPLACE, ids=[n for n, _ in INPLACE])
@pytest.mark.parametrize("no_grad", [False, True], ids=["grad", "no_grad"])
def test_inplace_on_duals_updates_the_tangent(name, f, no_grad):
    x = np.array([0.3, -1.2, 2.0])
    c = np.array([1.5, 2.0, -0.7])
    v = np.array([1.0, 0.5, -2.0])
    got = []
    import torch.autograd.forward_ad as tfw
    for m, ad in ((tg, fwAD), (torch, tfw)):
        with ad.dual_level(), (m.no_grad() if no_grad else m.enable_grad()):
            d = ad.make_dual(m.tensor(x).clone(), m.tensor(v))
            other = m.tensor(c).clone()
            res = f(m, d, other)
            got.append((res.detach().numpy().copy(), ad.unpack_dual(res).tangent.numpy().copy()))
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-12)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-12)


def test_reverse_mode_through_duals_and_levels_end():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, tg.ones(2, dtype=tg.float64))
        y = (d * d).sum()
        p, t = fwAD.unpack_dual(y)
        assert t.item() == 6.0 and p.requires_grad
        p.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert fwAD.unpack_dual(y).tangent is None
    from tapegrad.ops.registry import FWD_HOOK
    assert FWD_HOOK[0] is None                  # no level: apply's one check finds nothing


def test_fallback_without_double_backward_raises():
    """ctc_loss has no rule and no double backward: forward mode raises naming it, as torch's does."""
    import torch.autograd.forward_ad as tfw
    logp = np.log(np.full((4, 1, 3), 1 / 3))
    args = (np.array([[1, 2]]), np.array([4]), np.array([2]))
    with fwAD.dual_level():
        d = fwAD.make_dual(tg.from_numpy(logp), tg.ones(4, 1, 3, dtype=tg.float64))
        with pytest.raises(NotImplementedError, match="ctc_loss"):
            tg.nn.functional.ctc_loss(d, *(tg.from_numpy(a) for a in args))
    with tfw.dual_level():
        d = tfw.make_dual(torch.from_numpy(logp), torch.ones(4, 1, 3, dtype=torch.float64))
        with pytest.raises((NotImplementedError, RuntimeError)):
            torch.nn.functional.ctc_loss(d, *(torch.from_numpy(a) for a in args))


def test_forward_ad_through_sparse_ops_raises_naming_them():
    with fwAD.dual_level():
        v = fwAD.make_dual(tg.tensor([1.0, 2.0], dtype=tg.float64), tg.tensor([1.0, 0.0], dtype=tg.float64))
        with pytest.raises(NotImplementedError, match="sparse"):      # the tangent is made as the op runs
            tg.sparse_coo_tensor(tg.tensor([[0, 1], [1, 0]]), v, (2, 2))


@pytest.mark.parametrize("how", ["split", "chunk", "unbind"])
def test_tangents_flow_through_split_chunk_and_unbind_as_torch(how):
    x = np.random.default_rng(3).standard_normal((4, 6))
    t = np.random.default_rng(4).standard_normal((4, 6))

    def run(m, fw, x, t):
        with fw.dual_level():
            d = fw.make_dual(x, t)
            d = d * 1.5                      # a non-leaf with history, as in a model
            pieces = {"split": lambda: d.split(2, 1), "chunk": lambda: d.chunk(3, 1),
                      "unbind": lambda: d.unbind(0)}[how]()
            return [fw.unpack_dual(p).tangent.detach().numpy() for p in pieces]
    got = run(tg, fwAD, tg.tensor(x, requires_grad=True), tg.tensor(t))
    want = run(torch, torch.autograd.forward_ad, torch.tensor(x, requires_grad=True), torch.tensor(t))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b)
