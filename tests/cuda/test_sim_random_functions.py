"""Random sampling on CUDA: each function draws from the CUDA stream (or a CUDA generator) and stays on the device."""
import math

import numpy as np
import pytest

import tapegrad


def _gen(seed):
    return tapegrad.Generator("cuda").manual_seed(seed)


def test_samplers_stay_on_cuda_and_repeat_per_cuda_generator():
    w = tapegrad.tensor([1.0, 0.0, 3.0], device="cuda")
    calls = [
        lambda g: tapegrad.multinomial(w, 6, replacement=True, generator=g),
        lambda g: tapegrad.multinomial(w, 2, generator=g),
        lambda g: tapegrad.bernoulli(tapegrad.full((8,), 0.5, device="cuda"), generator=g),
        lambda g: tapegrad.normal(tapegrad.zeros(4, device="cuda"), 1.0, generator=g),
        lambda g: tapegrad.normal(0.0, 1.0, (4,), device="cuda", generator=g),
        lambda g: tapegrad.poisson(tapegrad.full((4,), 3.0, device="cuda"), generator=g),
        lambda g: tapegrad.randint_like(tapegrad.zeros(4, device="cuda"), 5, generator=g),
    ]
    for call in calls:
        a = call(_gen(4))
        assert a.device.type == "cuda"
        assert a.tolist() == call(_gen(4)).tolist()
    assert set(tapegrad.multinomial(w, 50, replacement=True, generator=_gen(1)).tolist()) <= {0, 2}


@pytest.mark.parametrize("name,args", [("normal_", (1.0, 2.0)), ("uniform_", (-1.0, 3.0)), ("bernoulli_", (0.25,)),
                                       ("random_", (2, 6)), ("exponential_", (2.0,)), ("geometric_", (0.5,)),
                                       ("log_normal_", (0.0, 0.5)), ("cauchy_", ())])
def test_fills_on_cuda(name, args):
    x = tapegrad.zeros(400, device="cuda")
    v = x._version[0]
    out = getattr(x, name)(*args, generator=_gen(0))
    assert out is x and x.device.type == "cuda" and x._version[0] == v + 1
    y = getattr(tapegrad.zeros(400, device="cuda"), name)(*args, generator=_gen(0))
    assert x.tolist() == y.tolist()
    h = x.cpu().numpy()
    means = {"normal_": (1.0, 2.0), "uniform_": (1.0, 4 / math.sqrt(12)), "bernoulli_": (0.25, math.sqrt(0.1875)),
             "random_": (3.5, math.sqrt(35 / 12)), "exponential_": (0.5, 0.5), "geometric_": (2.0, math.sqrt(2))}
    if name in means:
        m, s = means[name]
        assert abs(h.mean() - m) < 5 * s / math.sqrt(400), h.mean()


def test_generator_of_the_other_device_raises():
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but found 'cuda'"):
        tapegrad.zeros(3).normal_(generator=_gen(0))
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
        tapegrad.multinomial(tapegrad.ones(3, device="cuda"), 1, generator=tapegrad.Generator())
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but found 'cuda'"):
        tapegrad.bernoulli(tapegrad.ones(3), generator=_gen(0))
    assert np.isfinite(tapegrad.zeros(3, device="cuda").normal_().cpu().numpy()).all()


def test_cuda_seeding_fork_rng_and_default_device():
    tapegrad.cuda.manual_seed(3)
    assert tapegrad.cuda.initial_seed() == 3
    s = tapegrad.cuda.get_rng_state()
    a = tapegrad.rand(3, device="cuda").tolist()
    tapegrad.cuda.set_rng_state(s)
    with tapegrad.random.fork_rng():
        tapegrad.rand(5, device="cuda")
    assert tapegrad.rand(3, device="cuda").tolist() == a
    with tapegrad.device("cuda"):
        x = tapegrad.zeros(2)
        assert x.device.type == "cuda" and repr(x) == "tensor([0., 0.])"
        assert repr(tapegrad.ones(1, device="cpu")) == "tensor([1.], device='cpu')"
        assert tapegrad.as_tensor(np.ones(2)).device.type == "cuda"       # as torch: to the default device
        assert tapegrad.arange(3).device.type == "cuda" and tapegrad.randn(2).device.type == "cuda"
    assert tapegrad.zeros(2).device.type == "cpu"
