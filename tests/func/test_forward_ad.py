"""autograd.forward_ad (the JVP rules, Note [forward mode]) against torch.autograd.forward_ad on the same functions."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad as tg
import tapegrad.autograd.forward_ad as fwAD

from ._fns import CASES, IDS, draw_inputs


def _tangent_out(ad, m, f, arrays, tans):
    t = (lambda a: tg.tensor(a)) if m is tg else (lambda a: m.tensor(a))
    with ad.dual_level():
        duals = [ad.make_dual(t(a), t(v)) for a, v in zip(arrays, tans)]
        y = f(*duals)
        p, tan = ad.unpack_dual(y)
        return p.detach().numpy(), tan.detach().numpy()


@pytest.mark.parametrize("name,make,shapes", CASES, ids=IDS)
@settings(max_examples=4)
@given(data=st.data())
def test_forward_ad_matches_torch(name, make, shapes, data):
    torch = pytest.importorskip("torch")
    arrays = draw_inputs(data, shapes, st, hnp)
    tans = draw_inputs(data, shapes, st, hnp)
    p, t = _tangent_out(fwAD, tg, make(tg, lambda a: tg.tensor(a)), arrays, tans)
    tp, tt = _tangent_out(torch.autograd.forward_ad, torch, make(torch, lambda a: torch.tensor(a)), arrays, tans)
    np.testing.assert_allclose(p, tp, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t, tt, rtol=1e-9, atol=1e-10)


def test_unpack_of_duals_plain_tensors_and_outside_a_level():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64)
    v = tg.tensor([0.5, -1.0], dtype=tg.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        u = fwAD.unpack_dual(d)
        assert isinstance(u, tuple) and u._fields == ("primal", "tangent")
        assert u.primal.tolist() == [1.0, 2.0] and u.tangent is v
        assert fwAD.unpack_dual(x * 3).tangent is None             # depends on no dual
        z = fwAD.unpack_dual(d * 0 + x)
        assert z.tangent.tolist() == [0.0, 0.0]
        y = (d * d).sum()
        # several unpacks of one result (the graph is kept)
        assert fwAD.unpack_dual(y).tangent.item() == fwAD.unpack_dual(y).tangent.item() == 2 * (0.5 - 2.0)
        assert not fwAD.unpack_dual(y).primal.requires_grad
    assert fwAD.unpack_dual(d).tangent is None                     # the level is gone


def test_two_duals_and_reverse_mode_through_duals():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = tg.tensor([3.0, -1.0], dtype=tg.float64)
    with fwAD.dual_level():
        dx = fwAD.make_dual(x, tg.ones(2, dtype=tg.float64))
        dy = fwAD.make_dual(y, tg.tensor([0.0, 2.0], dtype=tg.float64))
        out = (dx * dy.exp()).sum()
        p, t = fwAD.unpack_dual(out)
        expect = np.exp([3.0, -1.0]).sum() + 2.0 * 2.0 * np.exp(-1.0)
        np.testing.assert_allclose(t.item(), expect, rtol=1e-12)
        assert p.requires_grad          # reverse mode to x still works through the dual
        p.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([3.0, -1.0]), rtol=1e-12)


def test_errors():
    with pytest.raises(RuntimeError, match="inside a dual level"):
        fwAD.make_dual(tg.ones(2), tg.ones(2))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="different size.*size \\[2\\].*size \\[3\\]"):
            fwAD.make_dual(tg.ones(2), tg.ones(3))
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(ValueError, match="floating point"):
            fwAD.make_dual(tg.tensor([1, 2]), tg.tensor([1, 2]))
