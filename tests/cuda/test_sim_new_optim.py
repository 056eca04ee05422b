"""The optimizers added with swa_utils/LBFGS, and activation checkpointing with dropout, on device='cuda':
steps equal the CPU's, state stays on the device, the recomputation restores the device generator."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn, optim
from tapegrad.utils.checkpoint import checkpoint

OPTIMIZERS = {
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "adadelta": lambda ps: optim.Adadelta(ps, weight_decay=0.01),
    "adamax": lambda ps: optim.Adamax(ps, lr=0.01),
    "nadam": lambda ps: optim.NAdam(ps, lr=0.01, decoupled_weight_decay=True, weight_decay=0.1),
    "radam": lambda ps: optim.RAdam(ps, lr=0.01, betas=(0.9, 0.9)),
    "asgd": lambda ps: optim.ASGD(ps, lr=0.05, t0=1),
    "rprop": lambda ps: optim.Rprop(ps, lr=0.01),
}


def _mlp():
    return nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3))


def _pair():
    cpu, gpu = _mlp(), _mlp()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    return cpu, gpu


def _data(dev):
    rng = np.random.default_rng(0)
    return (tapegrad.tensor(rng.normal(size=(7, 5)).astype(np.float32), device=dev),
            tapegrad.tensor(rng.integers(0, 3, 7), device=dev))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_match_cpu(name):
    runs = {}
    for model, dev in zip(_pair(), ("cpu", "cuda")):
        opt = OPTIMIZERS[name](model.parameters())
        xb, yb = _data(dev)
        for _ in range(3):
            opt.zero_grad()
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
        runs[dev] = [p.detach().cpu().numpy() for p in model.parameters()], opt
    for g, c in zip(runs["cuda"][0], runs["cpu"][0]):
        np.testing.assert_allclose(g, c, rtol=1e-5, atol=1e-6)
    for p, st in runs["cuda"][1].state.items():
        for k, v in st.items():
            if isinstance(v, tapegrad.Tensor) and v.shape == p.shape:
                assert v.is_cuda, k


def test_lbfgs_matches_cpu():
    out = []
    for model, dev in zip(_pair(), ("cpu", "cuda")):
        opt = optim.LBFGS(model.parameters(), max_iter=5, line_search_fn="strong_wolfe")
        xb, yb = _data(dev)

        def closure():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            return loss
        opt.step(closure)
        out.append([p.detach().cpu().numpy() for p in model.parameters()])
    for g, c in zip(*out):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-5)


def test_checkpoint_with_dropout_on_cuda_equals_the_plain_call():
    grads = []
    for ck in (False, True):
        tapegrad.manual_seed(0)
        model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Dropout(0.5), nn.Linear(16, 3)).to("cuda")
        x, _ = _data("cuda")
        tapegrad.manual_seed(1)
        y = checkpoint(model, x, use_reentrant=False) if ck else model(x)
        tapegrad.rand(3, device="cuda")
        y.pow(2).sum().backward()
        after = tapegrad.rand(3, device="cuda").cpu().numpy()
        grads.append(([p.grad.cpu().numpy() for p in model.parameters()], after))
    for a, b in zip(grads[0][0], grads[1][0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(grads[0][1], grads[1][1])
