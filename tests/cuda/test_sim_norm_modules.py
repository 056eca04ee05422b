"""Normalization and activation modules on device='cuda': train steps then eval give the CPU's outputs,
gradients and buffers (running statistics updated in place on the device, the batch count)."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn

MODULES = {
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), (6, 3)),
    "BatchNorm2d_cumulative": (lambda: nn.BatchNorm2d(3, momentum=None), (2, 3, 2, 2)),
    "InstanceNorm1d_tracked": (lambda: nn.InstanceNorm1d(3, affine=True, track_running_stats=True), (2, 3, 4)),
    "LayerNorm": (lambda: nn.LayerNorm([3, 4]), (2, 3, 4)),
    "GroupNorm": (lambda: nn.GroupNorm(3, 6), (2, 6, 2)),
    "RMSNorm": (lambda: nn.RMSNorm(4), (3, 4)),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(3, alpha=0.5), (2, 4, 3)),
    "PReLU_per_channel": (lambda: nn.PReLU(3), (2, 3, 2)),
    "activations": (lambda: nn.Sequential(nn.ELU(), nn.Hardswish(), nn.Softplus(beta=2.0), nn.LeakyReLU(0.2),
                                          nn.Mish(), nn.Hardtanh(-1.5, 1.5), nn.LogSigmoid()), (3, 5)),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_steps_match_cpu(name):
    make, shape = MODULES[name]
    cpu = make()
    gpu = make()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    rng = np.random.default_rng(0)
    for training in (True, True, False):
        cpu.train(training)
        gpu.train(training)
        x = rng.normal(size=shape).astype(np.float32) * 2
        outs = {}
        for m, dev in ((cpu, "cpu"), (gpu, "cuda")):
            for p in m.parameters():
                p.grad = None
            xt = tapegrad.tensor(x, device=dev, requires_grad=True)
            y = m(xt)
            y.backward(tapegrad.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(np.float32),
                                       device=dev))
            assert y.device.type == dev
            outs[dev] = ([y.detach().cpu().numpy(), xt.grad.cpu().numpy()]
                         + [p.grad.cpu().numpy() for p in m.parameters()]
                         + [b.cpu().numpy() for b in m.buffers()])
        for got, want in zip(outs["cuda"], outs["cpu"]):
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6, err_msg=name)
    assert [b.device.type for b in gpu.buffers()] == ["cuda"] * len(list(gpu.buffers()))
