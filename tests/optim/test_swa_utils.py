"""optim.swa_utils against torch: AveragedModel (SWA mean, EMA through avg_fn and multi_avg_fn, buffers copied
or averaged), SWALR sequences and state dicts, update_bn.

BatchNorm is being built elsewhere; update_bn is tested on ``_BatchNormStandIn``, a tiny module with the
surface torch's update_bn relies on (``running_mean``/``running_var``/``num_batches_tracked`` buffers,
``momentum`` with None meaning a cumulative average, ``reset_running_stats``), compared with torch's update_bn
on a real ``torch.nn.BatchNorm1d``.
"""
import numpy as np
import pytest

import tapegrad
from tapegrad.optim import swa_utils


class _BatchNormStandIn(tapegrad.nn.Module):
    def __init__(self, n, momentum=0.1, eps=1e-5):
        super().__init__()
        self.momentum = momentum
        self.eps = eps
        self.register_buffer("running_mean", tapegrad.zeros(n))
        self.register_buffer("running_var", tapegrad.ones(n))
        self.register_buffer("num_batches_tracked", tapegrad.tensor(0))

    def reset_running_stats(self):
        self.running_mean.fill_(0.0)
        self.running_var.fill_(1.0)
        self.num_batches_tracked.fill_(0)

    def forward(self, x):
        if self.training:
            with tapegrad.no_grad():
                self.num_batches_tracked += 1
                f = 1.0 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.copy_((1 - f) * self.running_mean + f * x.mean(0))
                self.running_var.copy_((1 - f) * self.running_var + f * x.var(0, unbiased=True))
            mean, var = x.mean(0), x.var(0, unbiased=False)
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / (var + self.eps).sqrt()


def _model(lib, bn=False):
    rng = np.random.default_rng(0)
    layers = [lib.nn.Linear(3, 4)]
    if bn:
        layers.append(_BatchNormStandIn(4) if lib is tapegrad else lib.nn.BatchNorm1d(4, affine=False))
    layers += [lib.nn.Tanh(), lib.nn.Linear(4, 2)]
    m = lib.nn.Sequential(*layers)
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    return m


def _perturb(lib, model, k):
    """A deterministic 'training step' k: every parameter moves by a fixed amount; buffers change too."""
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.add_(lib.tensor(np.sin(np.arange(p.numel(), dtype=np.float32) + 3 * k + i).reshape(tuple(p.shape))))
        for b in model.buffers():
            if b.is_floating_point():
                b.mul_(0.9).add_(0.1 * k)


AVERAGING = {
    "swa": lambda sw: {},
    "ema-multi": lambda sw: dict(multi_avg_fn=sw.get_ema_multi_avg_fn(0.9)),
    "ema-multi-small-decay": lambda sw: dict(multi_avg_fn=sw.get_ema_multi_avg_fn(0.3)),
    "ema-avg_fn": lambda sw: dict(avg_fn=sw.get_ema_avg_fn(0.8)),
    "swa-multi": lambda sw: dict(multi_avg_fn=sw.get_swa_multi_avg_fn()),
    "swa-avg_fn": lambda sw: dict(avg_fn=sw.get_swa_avg_fn()),
}


# torch's swa multi_avg_fn raises on an integer buffer (num_batches_tracked: "Integer division with addcdiv"),
# so that one combination is not compared
COMBOS = [(h, b) for h in AVERAGING for b in (False, True) if not (h == "swa-multi" and b)]


@pytest.mark.parametrize("how,use_buffers", COMBOS,
                         ids=[f"{h}-{'average' if b else 'copy'}-buffers" for h, b in COMBOS])
def test_averaged_model_equals_torchs(how, use_buffers):
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tapegrad, torch):
        model = _model(lib, bn=True)
        avg = lib.optim.swa_utils.AveragedModel(model, use_buffers=use_buffers, **AVERAGING[how](lib.optim.swa_utils))
        for k in range(5):
            _perturb(lib, model, k)
            avg.update_parameters(model)
        out.append(({n: t.detach().numpy().copy() for n, t in avg.state_dict().items()},
                    avg.eval()(lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))).detach().numpy()))
    assert sorted(out[0][0]) == sorted(out[1][0])
    for name, v in out[1][0].items():
        np.testing.assert_allclose(out[0][0][name], v, rtol=1e-6, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-5, atol=1e-6)


def test_swa_mean_by_hand():
    model = _model(tapegrad)
    avg = swa_utils.AveragedModel(model)
    seen = []
    for k in range(4):
        _perturb(tapegrad, model, k)
        seen.append(model[0].weight.detach().numpy().copy())
        avg.update_parameters(model)
    np.testing.assert_allclose(avg.module[0].weight.detach().numpy(), np.mean(seen, axis=0), rtol=1e-6)
    assert int(avg.n_averaged) == 4 and avg.n_averaged.dtype == tapegrad.int64
    assert not any(p is q for p, q in zip(avg.parameters(), model.parameters()))     # a deep copy


def test_ema_by_hand_and_errors():
    model = _model(tapegrad)
    avg = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5))
    w = []
    for k in range(3):
        _perturb(tapegrad, model, k)
        w.append(model[0].weight.detach().numpy().copy())
        avg.update_parameters(model)
    np.testing.assert_allclose(avg.module[0].weight.detach().numpy(), 0.25 * w[0] + 0.25 * w[1] + 0.5 * w[2],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="Invalid decay"):
        swa_utils.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())


SWALR_CASES = [dict(swa_lr=0.05), dict(swa_lr=[0.05, 0.5], anneal_epochs=3, anneal_strategy="linear"),
               dict(swa_lr=0.2, anneal_epochs=0), dict(swa_lr=0.01, anneal_epochs=7, anneal_strategy="cos")]


def _swalr_run(lib, kw, steps=20, state=None):
    ps = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
    opt = lib.optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.3}], lr=0.1)
    s = lib.optim.swa_utils.SWALR(opt, **kw)
    if state is not None:
        opt.load_state_dict(state[0])
        s.load_state_dict(state[1])
    lrs = [s.get_last_lr()]
    for _ in range(steps):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr())
    return lrs, s, opt


@pytest.mark.parametrize("kw", SWALR_CASES, ids=["cos", "linear-per-group", "no-anneal", "cos-7"])
def test_swalr_sequences_equal_torchs_and_round_trip(kw):
    torch = pytest.importorskip("torch")
    ours, s, _ = _swalr_run(tapegrad, kw)
    theirs, ts, _ = _swalr_run(torch, kw)
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-13)
    skip = {"_get_lr_called_within_step"}
    assert sorted(set(s.state_dict()) - skip) == sorted(set(ts.state_dict()) - skip)
    _, s5, opt5 = _swalr_run(tapegrad, kw, steps=5)
    rest, _, _ = _swalr_run(tapegrad, dict(kw, anneal_strategy="linear" if kw.get("anneal_strategy") != "linear"
                                           else "cos"), steps=15, state=(opt5.state_dict(), s5.state_dict()))
    np.testing.assert_array_equal(np.array(rest), np.array(ours[5:]))   # the strategy comes from the state dict


def test_update_bn_equals_torchs_on_batchnorm1d():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((6, 3)).astype(np.float32) * (i + 1) for i in range(5)]
    stats = []
    for lib in (tapegrad, torch):
        model = _model(lib, bn=True)
        bn = model[1]
        model.eval()
        model(lib.ones(2, 3))                               # eval: stats untouched; then stale stats:
        with lib.no_grad():
            bn.running_mean.fill_(7.0)
        loader = [(lib.tensor(b), lib.zeros(6)) if i % 2 else lib.tensor(b) for i, b in enumerate(batches)]
        lib.optim.swa_utils.update_bn(loader, model)
        assert not model.training and bn.momentum == 0.1    # mode and momentum restored
        stats.append((bn.running_mean.numpy().copy(), bn.running_var.numpy().copy(), int(bn.num_batches_tracked)))
    np.testing.assert_allclose(stats[0][0], stats[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats[0][1], stats[1][1], rtol=1e-5, atol=1e-6)
    assert stats[0][2] == stats[1][2] == 5
    # the cumulative average: the mean of the five batch means of the layer's input
    model = _model(tapegrad, bn=True)
    swa_utils.update_bn([tapegrad.tensor(b) for b in batches], model)
    means = [model[0](tapegrad.tensor(b)).detach().numpy().mean(0) for b in batches]
    np.testing.assert_allclose(model[1].running_mean.numpy(), np.mean(means, axis=0), rtol=1e-5, atol=1e-6)
