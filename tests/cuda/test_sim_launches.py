"""Launch counts on CUDA (Note [launch counter] in tapegrad/cuda/_nb.py): the fused optimizer updates are
one kernel per parameter, and ``_nb.record_sites`` names where each launch came from."""
import numpy as np
import pytest

import tapegrad
import tapegrad.nn as nn
from tapegrad.cuda import _nb

OPTIMIZERS = {
    "sgd": lambda p: tapegrad.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "adam": lambda p: tapegrad.optim.Adam(p, lr=0.01, weight_decay=0.1),
    "adamw": lambda p: tapegrad.optim.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=False),
}


def _model(device):
    tapegrad.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).to(device)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_optimizer_step_is_one_kernel_per_parameter_and_equals_the_cpu(name):
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    models = {d: _model(d) for d in ("cpu", "cuda")}
    opts = {d: OPTIMIZERS[name](m.parameters()) for d, m in models.items()}
    for _ in range(3):                  # the first step sets the state up; later ones update it
        for d, m in models.items():
            opts[d].zero_grad()
            (m(tapegrad.tensor(x, device=d)) ** 2).sum().backward()
            with _nb.record_sites() as sites:
                opts[d].step()
    assert len(sites) == 4, sites
    for pc, pg in zip(models["cpu"].parameters(), models["cuda"].parameters()):
        np.testing.assert_allclose(pg.detach().cpu().numpy(), pc.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_record_sites_names_the_kernel_and_the_caller_outside_tapegrad_cuda():
    x = tapegrad.ones(3, device="cuda")
    before = tapegrad.cuda.launch_count()
    with _nb.record_sites() as sites:
        with _nb.record_sites() as inner:
            tapegrad.exp(x)
        x.sum()
    assert tapegrad.cuda.launch_count() - before == 2
    assert [k for k, _ in inner] == ["kernel"] and inner[0][1].startswith("tapegrad/ops/unary.py:")
    assert len(sites) == 1 and sites[0][1].startswith("tapegrad/ops/") and "/cuda/" not in sites[0][1]
    assert _nb.SITES[0] is None         # recording stops with the outermost block
