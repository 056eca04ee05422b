"""tapegrad.Generator("cuda"): the device stream (Philox) seeded, saved and restored, apart from the global one."""
import pytest

import tapegrad


def test_cuda_generator_repeats_per_seed_and_restores_its_state():
    g = tapegrad.Generator("cuda").manual_seed(5)
    assert g.device.type == "cuda"
    a = tapegrad.rand(4, device="cuda", generator=g).tolist()
    assert tapegrad.rand(4, device="cuda", generator=tapegrad.Generator("cuda").manual_seed(5)).tolist() == a
    state = g.get_state()
    b = tapegrad.randperm(6, device="cuda", generator=g).tolist()
    assert sorted(b) == list(range(6))
    assert tapegrad.randperm(6, device="cuda", generator=g.set_state(state)).tolist() == b
    assert tapegrad.Generator("cuda").set_state(state).initial_seed() == 5


def test_cuda_generator_draws_leave_the_global_cuda_stream_alone():
    g = tapegrad.Generator("cuda").manual_seed(2)
    tapegrad.manual_seed(1)
    x = tapegrad.randn(3, device="cuda").tolist()
    tapegrad.manual_seed(1)
    tapegrad.rand(5, device="cuda", generator=g)
    assert tapegrad.randn(3, device="cuda").tolist() == x


def test_generator_device_must_match_the_tensor():
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"):
        tapegrad.rand(2, device="cuda", generator=tapegrad.Generator())
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but found 'cuda'"):
        tapegrad.randperm(2, generator=tapegrad.Generator("cuda"))
    with pytest.raises(RuntimeError, match="state of size"):
        tapegrad.Generator("cuda").set_state(tapegrad.Generator().get_state())
