"""Forward-mode tangents through in-place writes on views (Note [forward views] in
tapegrad/autograd/_forward_views.py, Note [copy slices] in tapegrad/ops/_copy_slices.py).

Each case writes in place into a view of ``y = x * 2`` (or into ``y`` itself while views of it are
alive), with the base dual or not, the written value dual or not, in grad mode with history (of the
base and the value, or of the value only), in grad mode without, and under ``no_grad``; then the
tangents of the base, of the written view, of a view made after the write and of a sibling view made
before it are compared with torch.autograd.forward_ad (the oracle), and, with history, so are the
gradients of a backward pass.
"""
import contextlib

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.autograd.forward_ad as fwAD

torch = pytest.importorskip("torch")
tfwAD = torch.autograd.forward_ad


# name -> fn(y, w) returning the view that was written (y: the (3, 4) base; w: a (3, 4) value).
CASES = {
    "mul_basic_index": lambda y, w: y[0].mul_(3),
    "add_slice": lambda y, w: y[1:].add_(w[:2]),
    "add_alpha_step": lambda y, w: y[:, ::2].add_(w[:, 1::2], alpha=-2),
    "copy_narrow": lambda y, w: y.narrow(1, 1, 2).copy_(w[:, :2]),
    "mul_transpose": lambda y, w: y.t()[1:].mul_(w.t()[:3]),
    "fill_transpose_row": lambda y, w: y.t()[1].fill_(5.0),
    "zero_view_flat": lambda y, w: y.view(12)[2:5].zero_(),
    "mul_reshape": lambda y, w: y.reshape(2, 6).mul_(w.reshape(2, 6)),
    "add_diagonal": lambda y, w: y.diagonal().add_(w[0, :3]),
    "mul_chain": lambda y, w: y[:, None][1][0, 1:].mul_(w[0, 1:]),
    "mul_unsqueeze_index": lambda y, w: y[:, None][0].mul_(3),
    "copy_scalar_element": lambda y, w: y[2, 3].copy_(w[0, 0]),
    "clamp_column": lambda y, w: y[:, 0].clamp_(max=2.5),
    "masked_fill_row": lambda y, w: y[1].masked_fill_(y[1] > 4.0, 0.5),
}


def _setitem_view(y, w):
    v = y[:, 1]
    v[0:2] = w[0, :2]
    return v


def _setitem_view_plain(y, w):
    v = y[1:, 2]
    v[1] = 7.0
    return v


def _setitem_base(y, w):
    v = y[1]                        # alive while the base is written
    y[1, 1:3] = w[2, :2]
    return v


def _base_written(y, w):
    v = y[0]
    y.mul_(w)
    return v


def _sibling(y, w):
    v = y[:, 1]
    y[0].add_(w[0])
    return v


CASES.update({"setitem_view": _setitem_view, "setitem_view_plain": _setitem_view_plain,
              "setitem_base": _setitem_base, "base_written": _base_written, "sibling_view": _sibling})

X = np.arange(12.0).reshape(3, 4) / 4 + 1
TX = np.sin(np.arange(12.0)).reshape(3, 4)
W = np.cos(np.arange(12.0)).reshape(3, 4) + 2
TW = np.arange(12.0).reshape(3, 4)[::-1].copy() / 3


def _run(lib, ad, case, base_dual, value_dual, mode):
    """Run one case under ``lib`` (tapegrad or torch); returns the tangents (NumPy or None) and grads."""
    rg = mode in ("history", "value_history")        # value_history: only the written value requires grad
    x0 = lib.tensor(X, dtype=lib.float64, requires_grad=mode == "history")
    w0 = lib.tensor(W, dtype=lib.float64, requires_grad=rg)
    with ad.dual_level():
        x = ad.make_dual(x0, lib.tensor(TX, dtype=lib.float64)) if base_dual else x0
        w = ad.make_dual(w0, lib.tensor(TW, dtype=lib.float64)) if value_dual else w0
        y = x * 2
        ctx = lib.no_grad() if mode == "no_grad" else contextlib.nullcontext()
        with ctx:
            v = CASES[case](y, w)
        later = y[2]

        def tan(t):
            r = ad.unpack_dual(t).tangent
            return None if r is None else r.detach().numpy().copy()
        out = {"y": tan(y), "v": tan(v), "later": tan(later), "y_primal": y.detach().numpy().copy(),
               "v_primal": v.detach().numpy().copy()}
        if rg:
            loss = (y * y).sum() + (v * v).sum() + later.sum()
            if not loss.requires_grad:              # the value never reached y
                return out
            loss.backward()
            out["x_grad"] = None if x0.grad is None else x0.grad.numpy().copy()
            out["w_grad"] = None if w0.grad is None else w0.grad.numpy().copy()
    return out


def _same(name, got, want):
    if want is None:
        assert got is None, f"{name}: torch has no tangent, tapegrad has {got}"
        return
    assert got is not None, f"{name}: tapegrad has no tangent, torch has {want}"
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("mode", ["plain", "no_grad", "history", "value_history"])
@pytest.mark.parametrize("value_dual", [False, True], ids=["value", "dual_value"])
@pytest.mark.parametrize("base_dual", [False, True], ids=["base", "dual_base"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_inplace_write_into_view_matches_torch_forward_ad(case, base_dual, value_dual, mode):
    got = _run(tg, fwAD, case, base_dual, value_dual, mode)
    want = _run(torch, tfwAD, case, base_dual, value_dual, mode)
    assert set(got) == set(want)
    for k in want:
        _same(k, got[k], want[k])


def test_issue_example_base_tangent_after_view_mul():
    with fwAD.dual_level():
        x = fwAD.make_dual(tg.ones(3, dtype=tg.float64), tg.tensor([1., 2., 3.], dtype=tg.float64))
        y = x * 2
        y[0].mul_(3)
        np.testing.assert_array_equal(fwAD.unpack_dual(y).tangent.numpy(), [6., 4., 6.])


def test_view_written_twice_then_base_read():
    # a second write through another view starts from the base tangent the first write left
    with fwAD.dual_level():
        x = fwAD.make_dual(tg.ones(4, dtype=tg.float64), tg.tensor([1., 2., 3., 4.], dtype=tg.float64))
        y = x * 1
        a, b = y[:2], y[1:]
        a.mul_(2)
        b.mul_(3)
        np.testing.assert_array_equal(fwAD.unpack_dual(y).tangent.numpy(), [2., 12., 9., 12.])
        np.testing.assert_array_equal(fwAD.unpack_dual(a).tangent.numpy(), [2., 12.])


def test_write_into_view_of_make_dual_result_updates_it_not_the_primal():
    # make_dual returns a view of its primal; as in torch, that view is the base of its views' tangents
    x0 = tg.ones(3, dtype=tg.float64)
    with fwAD.dual_level():
        x = fwAD.make_dual(x0, tg.tensor([1., 2., 3.], dtype=tg.float64))
        y = x[:2]
        y.mul_(3)
        assert fwAD.unpack_dual(x0).tangent is None
        np.testing.assert_array_equal(fwAD.unpack_dual(x).tangent.numpy(), [3., 6., 3.])
        np.testing.assert_array_equal(fwAD.unpack_dual(y).tangent.numpy(), [3., 6.])
        x.mul_(2)
        assert fwAD.unpack_dual(x0).tangent is None
        np.testing.assert_array_equal(fwAD.unpack_dual(y).tangent.numpy(), [6., 12.])


def test_tangent_after_view_write_is_differentiable():
    # the base tangent built from the view's is recorded: jvp of a function then reverse mode through it
    x0 = tg.tensor([1., 2., 3.], dtype=tg.float64, requires_grad=True)
    with fwAD.dual_level():
        x = fwAD.make_dual(tg.ones(3, dtype=tg.float64), x0)
        y = x * 2
        y[1:].mul_(x[:2])
        t = fwAD.unpack_dual(y).tangent
    t.sum().backward()
    # t = [2 x0_0, 2 x0_1 * 1 + 2 * x0_0, 2 x0_2 + 2 x0_1]
    np.testing.assert_array_equal(x0.grad.numpy(), [4., 4., 2.])


@pytest.mark.parametrize("lib,ad", [(tg, fwAD), (torch, tfwAD)], ids=["tapegrad", "torch"])
def test_random_fill_of_a_view_zeroes_its_region_of_the_base_tangent(lib, ad):
    with ad.dual_level():
        x = ad.make_dual(lib.ones(2, 3, dtype=lib.float64), lib.full((2, 3), 2.0, dtype=lib.float64))
        y = x * 1
        v = y.t()[1]
        v.uniform_()
        np.testing.assert_array_equal(ad.unpack_dual(y).tangent.numpy(), [[2., 0., 2.], [2., 0., 2.]])
        np.testing.assert_array_equal(ad.unpack_dual(v).tangent.numpy(), [0., 0.])


@pytest.mark.parametrize("write", [lambda v, w: v.mul_(2), lambda v, w: v.add_(w),
                                   lambda v, w: v.__setitem__(0, w[0])], ids=["mul_", "add_", "setitem"])
def test_write_into_view_of_copied_reshape_raises_before_writing(write):
    # r = y.t().reshape(6) copies; r[0:3] is a view of that copy but its _base is y: the write could not
    # reach r's tangent, so it raises (naming the op) instead of leaving r's tangent wrong
    with fwAD.dual_level():
        x = fwAD.make_dual(tg.ones(2, 3, dtype=tg.float64), tg.arange(6.0, dtype=tg.float64).reshape(2, 3))
        r = (x * 1).t().reshape(6)
        v = r[0:3]
        w = fwAD.make_dual(tg.full((3,), 5.0, dtype=tg.float64), tg.ones(3, dtype=tg.float64))
        before = r.detach().numpy().copy()
        with pytest.raises(NotImplementedError, match=r"(mul_|add_|setitem): forward-mode AD .* reshape that "
                                                      r"copied"):
            write(v, w)
        np.testing.assert_array_equal(r.detach().numpy(), before)
        v.detach().mul_(2)                  # without tangents the write is fine
        np.testing.assert_array_equal(r.detach().numpy()[:3], before[:3] * 2)
