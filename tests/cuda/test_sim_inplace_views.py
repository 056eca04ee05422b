"""In-place ops on views on device='cuda' rebase the base as on the CPU (Note [copy slices] in ops/_copy_slices.py)."""
import numpy as np

import tapegrad


def _program(dev):
    x = tapegrad.tensor(np.random.default_rng(0).uniform(-1, 1, (3, 4)), requires_grad=True, device=dev)
    y = x * 2
    y[:, 1].mul_(x[:, 0])
    y.t()[2].add_(1)
    v = y.view(-1)[3:6]
    v[1] = 5.0
    s = y[0]                    # a sibling view, refreshed by the next write
    y[1:, 3].clamp_(-0.5, 0.5)
    ((y * y).sum() + (s * s).sum()).backward()
    return y.detach().cpu().numpy(), x.grad.cpu().numpy()


def test_writes_into_views_match_the_cpu():
    for got, want in zip(_program("cuda"), _program("cpu")):
        np.testing.assert_allclose(got, want, rtol=1e-12)
