"""tapegrad.Generator: seeded streams, state round trips, and independence from the global stream."""
import pickle

import numpy as np
import pytest

import tapegrad
from tapegrad import Generator


def _draws(g):
    return (tapegrad.rand(4, generator=g).tolist(), tapegrad.randn(3, dtype=tapegrad.float64, generator=g).tolist(),
            tapegrad.randint(0, 100, (5,), generator=g).tolist(), tapegrad.randperm(7, generator=g).tolist())


def test_same_seed_same_draws_and_different_seeds_differ():
    assert _draws(Generator().manual_seed(4)) == _draws(Generator().manual_seed(4))
    assert _draws(Generator().manual_seed(4)) != _draws(Generator().manual_seed(5))
    # two fresh generators start from the same (torch's default) seed
    assert _draws(Generator()) == _draws(Generator())


def test_generator_draws_do_not_move_the_global_stream_nor_the_other_way():
    tapegrad.manual_seed(1)
    plain = tapegrad.rand(5).tolist()
    tapegrad.manual_seed(1)
    g = Generator().manual_seed(9)
    _draws(g)                                   # interleaved draws from another stream
    assert tapegrad.rand(5).tolist() == plain
    g1 = Generator().manual_seed(9)
    first = _draws(g1)
    tapegrad.manual_seed(2)
    tapegrad.rand(100)                          # global draws in between
    g2 = Generator().manual_seed(9)
    tapegrad.rand(7)
    assert _draws(g2) == first


def test_state_round_trip_restores_the_stream_and_the_initial_seed():
    g = Generator().manual_seed(123)
    tapegrad.rand(3, generator=g)
    state = g.get_state()
    assert state.dtype == tapegrad.uint8 and state.ndim == 1
    after = _draws(g)
    assert _draws(g.set_state(state)) == after
    other = Generator().set_state(state)
    assert other.initial_seed() == 123 and _draws(other) == after
    # the state is a copy: drawing more does not change it
    assert g.get_state().tolist() != state.tolist()


def test_default_generator_is_the_global_stream():
    assert tapegrad.manual_seed(7) is tapegrad.default_generator
    assert tapegrad.initial_seed() == 7 == tapegrad.default_generator.initial_seed()
    a = tapegrad.rand(3).tolist()
    tapegrad.default_generator.manual_seed(7)
    assert tapegrad.rand(3).tolist() == a
    tapegrad.manual_seed(7)
    assert tapegrad.rand(3, generator=tapegrad.default_generator).tolist() == a
    s = tapegrad.get_rng_state()
    b = tapegrad.randn(4).tolist()
    tapegrad.set_rng_state(s)
    assert tapegrad.randn(4).tolist() == b


def test_global_manual_seed_takes_int_of_its_argument_as_torch():
    torch = pytest.importorskip("torch")
    for lib in (tapegrad, torch):
        assert lib.manual_seed(2.7).initial_seed() == 2 and lib.manual_seed("5").initial_seed() == 5
        with pytest.raises(ValueError, match="Overflow"):
            lib.manual_seed(2 ** 64)


def test_seed_and_manual_seed_rules_match_torch():
    torch = pytest.importorskip("torch")
    for lib in (tapegrad, torch):
        g = lib.Generator()
        assert g.initial_seed() == 67280421310721 and g.device.type == "cpu"
        assert g.manual_seed(-1).initial_seed() == 2 ** 64 - 1
        assert g.manual_seed(2 ** 64 - 1).initial_seed() == 2 ** 64 - 1
        s = g.seed()
        assert isinstance(s, int) and g.initial_seed() == s
        with pytest.raises(ValueError, match="Overflow when unpacking long"):
            g.manual_seed(2 ** 64)
        for bad in (1.5, "3"):
            with pytest.raises(RuntimeError, match="manual_seed expected a long"):
                g.manual_seed(bad)


def test_set_state_errors_match_torchs_types():
    torch = pytest.importorskip("torch")
    for lib in (tapegrad, torch):
        g = lib.Generator()
        with pytest.raises(TypeError):
            g.set_state([1, 2])
        with pytest.raises(TypeError, match="ByteTensor"):
            g.set_state(lib.zeros(3))
        with pytest.raises(RuntimeError, match="size"):
            g.set_state(lib.zeros(3, dtype=lib.uint8))
    g = tapegrad.Generator().manual_seed(3)
    before = g.get_state().tolist()
    with pytest.raises(RuntimeError):
        g.set_state(tapegrad.zeros(3, dtype=tapegrad.uint8))
    assert g.get_state().tolist() == before           # nothing half-set


def test_generator_argument_is_checked():
    with pytest.raises(TypeError, match="randperm.*generator"):
        tapegrad.randperm(3, generator=5)
    with pytest.raises(TypeError, match="rand.*generator"):
        tapegrad.rand(3, generator=np.random.default_rng(0))


def test_a_pickled_generator_is_an_independent_copy():
    g = Generator().manual_seed(8)
    tapegrad.rand(2, generator=g)
    h = pickle.loads(pickle.dumps(g))
    assert h is not g and h.initial_seed() == 8
    assert _draws(h) == _draws(g)


def test_randperm_generator_keywords_as_torch():
    torch = pytest.importorskip("torch")
    import inspect
    for name in ("randperm",):
        ours = inspect.signature(getattr(tapegrad, name)).parameters["generator"]
        assert ours.kind is inspect.Parameter.KEYWORD_ONLY
    assert torch.randperm(3, generator=torch.Generator()).shape == tapegrad.randperm(3, generator=Generator()).shape
