"""LBFGS: iterates, losses and evaluation counts equal torch's in float64 (with and without the strong-Wolfe
line search, short histories, evaluation limits), one hand-computed iteration, state dicts, errors."""
import numpy as np
import pytest

import tapegrad
from tapegrad import optim

# (options, steps): 20 iterations per step along the Rosenbrock valley amplify last-bit differences (of dot
# products, of the loss's sums) to ~1e-6 by step 3, so the long configurations are compared after one step.
CONFIGS = [
    (dict(), 1),
    (dict(line_search_fn="strong_wolfe"), 1),
    (dict(line_search_fn="strong_wolfe", history_size=3, max_iter=8), 3),
    (dict(lr=0.3, history_size=2, max_iter=7), 3),
    (dict(lr=0.5, max_iter=10, max_eval=6, line_search_fn="strong_wolfe"), 3),
    (dict(tolerance_change=1e-2, max_iter=50), 1),
    (dict(tolerance_grad=1.0, line_search_fn="strong_wolfe"), 2),
]
IDS = ["default", "wolfe", "wolfe-h3", "lr-h2", "max_eval", "tolerance_change", "tolerance_grad"]
P0 = (np.array([-1.2, 1.0, 0.5]), np.array([[0.3, -0.4], [0.8, 0.1]]))


def _problem(lib, p0=P0):
    """A Rosenbrock valley in the first tensor plus a quartic bowl in the second (two parameters)."""
    a, b = (lib.tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in p0)

    def loss_fn():
        r = 100 * ((a[1:] - a[:-1] ** 2) ** 2).sum() + ((1 - a[:-1]) ** 2).sum()
        return r + ((b - 0.5) ** 4).sum() + (b * b).sum()
    return [a, b], loss_fn


def _run(lib, kw, steps=3, opt=None, params=None):
    if params is None:
        params, loss_fn = _problem(lib)
    else:
        a, b = params

        def loss_fn():
            r = 100 * ((a[1:] - a[:-1] ** 2) ** 2).sum() + ((1 - a[:-1]) ** 2).sum()
            return r + ((b - 0.5) ** 4).sum() + (b * b).sum()
    opt = lib.optim.LBFGS(params, **kw) if opt is None else opt

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    losses = [opt.step(closure).item() for _ in range(steps)]
    return params, opt, losses


@pytest.mark.parametrize("kw,steps", CONFIGS, ids=IDS)
def test_iterates_losses_and_counts_equal_torchs(kw, steps):
    torch = pytest.importorskip("torch")
    ours, oopt, olosses = _run(tapegrad, kw, steps)
    theirs, topt, tlosses = _run(torch, kw, steps)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(olosses, tlosses, rtol=1e-10)
    so, st = oopt.state[ours[0]], topt.state[theirs[0]]
    assert (so["func_evals"], so["n_iter"]) == (st["func_evals"], st["n_iter"])
    if "tolerance_change" in kw or "tolerance_grad" in kw:
        assert so["n_iter"] < steps * kw.get("max_iter", 20)            # the tolerance really stopped a step
    assert sorted(so) == sorted(st)
    assert len(so["old_dirs"]) == len(st["old_dirs"])
    np.testing.assert_allclose(so["d"].numpy(), st["d"].numpy(), rtol=1e-8, atol=1e-10)


def test_first_iteration_by_hand():
    # n_iter 1: d = -g, t = min(1, 1 / |g|_1) * lr, one update, no closure after the last iteration.
    params, opt, _ = _run(tapegrad, dict(lr=0.5, max_iter=1), steps=1)
    a0, b0 = P0
    ga = np.zeros(3)
    ga[:-1] += -400 * a0[:-1] * (a0[1:] - a0[:-1] ** 2) - 2 * (1 - a0[:-1])
    ga[1:] += 200 * (a0[1:] - a0[:-1] ** 2)
    gb = 4 * (b0 - 0.5) ** 3 + 2 * b0
    t = min(1.0, 1.0 / (np.abs(ga).sum() + np.abs(gb).sum())) * 0.5
    np.testing.assert_allclose(params[0].detach().numpy(), a0 - t * ga, rtol=1e-14)
    np.testing.assert_allclose(params[1].detach().numpy(), b0 - t * gb, rtol=1e-14)
    assert opt.state[params[0]]["func_evals"] == 1


def test_strong_wolfe_reaches_the_rosenbrock_minimum():
    params, _, losses = _run(tapegrad, dict(line_search_fn="strong_wolfe", max_iter=100), steps=2)
    np.testing.assert_allclose(params[0].detach().numpy(), [1.0, 1.0, 1.0], atol=1e-4)
    assert losses[-1] < 0.2


def test_state_dict_round_trip_continues_the_same_iterates(tmp_path):
    kw = dict(line_search_fn="strong_wolfe", history_size=4, max_iter=4)
    whole, _, _ = _run(tapegrad, kw, steps=4)
    half, opt, _ = _run(tapegrad, kw, steps=2)
    tapegrad.save(opt.state_dict(), tmp_path / "lbfgs.tg")
    params = [p.detach().clone().requires_grad_() for p in half]
    opt2 = optim.LBFGS(params, **kw)
    opt2.load_state_dict(tapegrad.load(tmp_path / "lbfgs.tg"))
    _run(tapegrad, kw, steps=2, opt=opt2, params=params)
    for p, q in zip(params, whole):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_errors():
    w = tapegrad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [w]}, {"params": [tapegrad.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(ValueError, match="learning rate"):
        optim.LBFGS([w], lr=-1.0)
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([w]).step(None)
