"""nn.LSTM (the fused one-node path) and nn.GRU (the composed path) on device='cuda' match the CPU.

Forward and backward: outputs, final states, input and parameter gradients.
"""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn


@pytest.mark.parametrize("name,kw", [("LSTM", {}), ("GRU", {"bidirectional": True})])
def test_recurrent_layer_on_cuda_matches_cpu(name, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 3)).astype(np.float32)
    cpu = getattr(nn, name)(3, 4, **kw)
    gpu = getattr(nn, name)(3, 4, **kw)
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    runs = {}
    for model, dev in ((cpu, "cpu"), (gpu, "cuda")):
        xx = tapegrad.tensor(x, device=dev, requires_grad=True)
        out, state = model(xx)
        h = state[0] if name == "LSTM" else state
        loss = (out * out).sum() + (h * 2).sum()
        if name == "LSTM":
            loss = loss + state[1].sum()
        loss.backward()
        runs[dev] = ([out.detach().cpu().numpy(), h.detach().cpu().numpy(), xx.grad.cpu().numpy()]
                     + [p.grad.cpu().numpy() for p in model.parameters()])
    assert out.device.type == "cuda"
    for got, want in zip(runs["cuda"], runs["cpu"]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
