"""Process state: tapegrad.random (fork_rng...), threads, print options, determinism flags, the default device,
tapegrad.cuda's seeding functions without a GPU, and the tapegrad.backends flags."""
import pytest

import tapegrad

torch = pytest.importorskip("torch")


@pytest.fixture
def restore_printoptions():
    yield
    tapegrad.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def test_random_module_has_torch_random_names_and_fork_rng_restores_the_stream():
    for name in ("fork_rng", "manual_seed", "seed", "get_rng_state", "set_rng_state", "initial_seed",
                 "default_generator", "Generator"):
        assert hasattr(tapegrad.random, name) and hasattr(torch.random, name)
    tapegrad.random.manual_seed(7)
    assert tapegrad.random.initial_seed() == 7
    with tapegrad.random.fork_rng():
        inside = tapegrad.rand(3).tolist()
        tapegrad.manual_seed(99)                     # even a reseed inside is undone
    after = tapegrad.rand(3).tolist()
    assert after == inside and tapegrad.random.initial_seed() == 7
    with tapegrad.random.fork_rng(enabled=False):
        tapegrad.rand(3)
    assert tapegrad.rand(3).tolist() != after
    with pytest.raises(RuntimeError, match="device 0 only"):
        with tapegrad.random.fork_rng(devices=[1]):
            pass
    s = tapegrad.random.get_rng_state()
    a = tapegrad.randn(2).tolist()
    tapegrad.random.set_rng_state(s)
    assert tapegrad.randn(2).tolist() == a


def test_fork_rng_restores_even_when_the_block_raises():
    tapegrad.manual_seed(1)
    s = tapegrad.get_rng_state()
    with pytest.raises(ValueError):
        with tapegrad.random.fork_rng(devices=[]):
            tapegrad.rand(4)
            raise ValueError("boom")
    assert bool((tapegrad.get_rng_state() == s).all())


def test_num_threads_set_and_read_back_and_limit_blas():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    n = tapegrad.get_num_threads()
    try:
        tapegrad.set_num_threads(1)
        assert tapegrad.get_num_threads() == 1
        blas = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(k == 1 for k in blas)
    finally:
        tapegrad.set_num_threads(n)
    for bad in (0, -2):
        with pytest.raises(RuntimeError) as ours:
            tapegrad.set_num_threads(bad)
        with pytest.raises(RuntimeError) as theirs:
            torch.set_num_threads(bad)
        assert str(theirs.value) in str(ours.value)
    with pytest.raises(TypeError):
        tapegrad.set_num_threads(2.0)
    tapegrad.set_num_interop_threads(3)
    assert tapegrad.get_num_interop_threads() == 3


@pytest.mark.parametrize("opts", [dict(profile="default"), dict(precision=2), dict(sci_mode=True), dict(profile="short"),
                                  dict(profile="full", linewidth=40), dict(threshold=5, edgeitems=1, linewidth=20),
                                  dict(threshold=5, edgeitems=2), dict(threshold=10, linewidth=30),
                                  dict(precision=6, sci_mode=True, threshold=3), dict(edgeitems=0, threshold=3),
                                  dict(sci_mode=False, precision=1)])
def test_set_printoptions_changes_repr_as_torch(opts, restore_printoptions):
    g = torch.Generator().manual_seed(0)
    cases = [torch.arange(60.).reshape(3, 4, 5) / 7, torch.arange(50.) * 1000, torch.arange(30).reshape(5, 6),
             torch.randn(40, generator=g), torch.randn(2000, generator=g), torch.randn(6, 7, 3, generator=g),
             torch.tensor(1.5), torch.tensor([True, False]), torch.tensor([float("nan"), 1.0, float("inf")]),
             torch.tensor([1e-5, 1.0]), torch.zeros(2, 0), torch.zeros(0), torch.tensor([0.0, 0.0]),
             torch.zeros(0, dtype=torch.int64), torch.tensor([-3, 100]), torch.tensor([1e9, 1.5]),
             torch.tensor([True, True]), torch.arange(3000).reshape(30, 100), torch.ones(2, 1, 1)]
    # torch's suffix wrapping counts "torch.float64", ours "tapegrad.float64": with a dtype suffix, compare
    # with the suffix line breaks joined
    def join(s):
        return " ".join(s.replace("tapegrad.", "torch.").replace(",\n       ", ", ").split())

    tapegrad.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    x = torch.randn(3, 4, dtype=torch.float64, generator=g)
    for a in cases + [x]:
        want = repr(a)
        got = repr(tapegrad.tensor(a.numpy()))
        assert got.replace("tapegrad.", "torch.") == want or ("dtype=" in want and join(got) == join(want)), \
            (opts, got, want)
    got = repr(tapegrad.tensor(x.numpy(), requires_grad=True))
    assert join(got) == join(repr(x.requires_grad_())), got


def test_printoptions_errors_and_reset(restore_printoptions):
    with pytest.raises(ValueError, match="profile"):
        tapegrad.set_printoptions(profile="huge")
    tapegrad.set_printoptions(precision=1, sci_mode=True)
    tapegrad.set_printoptions(precision=3)                  # sci_mode is reset by every call, as torch
    assert repr(tapegrad.tensor([1.5, 2.25])) == "tensor([1.500, 2.250])"


def test_deterministic_flags_are_remembered():
    assert tapegrad.are_deterministic_algorithms_enabled() is False
    try:
        tapegrad.use_deterministic_algorithms(True, warn_only=True)
        assert tapegrad.are_deterministic_algorithms_enabled() is True
        assert tapegrad.is_deterministic_algorithms_warn_only_enabled() is True
        x = tapegrad.zeros(5).index_add(0, tapegrad.tensor([0, 0, 1]), tapegrad.ones(3)) \
            if hasattr(tapegrad.Tensor, "index_add") else tapegrad.ones(3)
        assert x.sum().item() == 3.0
    finally:
        tapegrad.use_deterministic_algorithms(False)
    assert not tapegrad.is_deterministic_algorithms_warn_only_enabled()
    with pytest.raises(TypeError, match="mode"):
        tapegrad.use_deterministic_algorithms(1)
    with pytest.raises(TypeError):
        torch.use_deterministic_algorithms(1)


def test_default_device_and_device_as_context_manager():
    assert tapegrad.get_default_device() == tapegrad.device("cpu")
    assert repr(tapegrad.get_default_device()) == repr(torch.get_default_device()).replace("torch.", "")
    with tapegrad.device("cpu") as d:
        assert d == tapegrad.device("cpu") and tapegrad.zeros(2).device.type == "cpu"
        assert tapegrad.get_default_device() == d
    tapegrad.set_default_device("cpu")
    try:
        assert tapegrad.tensor([1.0]).device.type == "cpu"
    finally:
        tapegrad.set_default_device(None)
    assert tapegrad.get_default_device().type == "cpu"
    if not tapegrad.cuda.is_available():
        tapegrad.set_default_device("cuda")
        try:
            with pytest.raises(RuntimeError):
                tapegrad.zeros(2)                           # factories now go to CUDA, which is not there
            assert tapegrad.zeros(2, device="cpu").device.type == "cpu"
            assert tapegrad.zeros_like(tapegrad.ones(2, device="cpu")).device.type == "cpu"
            assert tapegrad.get_default_device() == tapegrad.device("cuda")
        finally:
            tapegrad.set_default_device(None)
        with pytest.raises(RuntimeError):
            with tapegrad.device("cuda"):
                tapegrad.rand(2)
        assert tapegrad.rand(2).device.type == "cpu"         # the block's exit restored the CPU


def test_cuda_seeding_functions_without_a_gpu_are_silent_as_torch():
    assert tapegrad.cuda.device_count() in (0, 1)
    if tapegrad.cuda.is_available():
        tapegrad.cuda.manual_seed(3)
        assert tapegrad.cuda.initial_seed() == 3
        s = tapegrad.cuda.get_rng_state()
        a = tapegrad.rand(3, device="cuda").tolist()
        tapegrad.cuda.set_rng_state(s)
        assert tapegrad.rand(3, device="cuda").tolist() == a
    else:
        tapegrad.cuda.manual_seed(3)
        tapegrad.cuda.manual_seed_all(3)
        tapegrad.cuda.seed_all()
        with pytest.raises(RuntimeError):
            tapegrad.cuda.get_rng_state()
    with pytest.raises(ValueError):
        tapegrad.cuda.manual_seed(1 << 70)


def test_backends_flags_exist_as_in_torch():
    import tapegrad.backends.cudnn as cudnn
    for name in ("benchmark", "deterministic", "enabled", "allow_tf32"):
        assert getattr(cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert tapegrad.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    assert tapegrad.backends.mps.is_available() is False
    cudnn.benchmark = True
    try:
        assert tapegrad.backends.cudnn.benchmark is True
        with cudnn.flags(enabled=False):
            assert cudnn.enabled is False
        assert cudnn.enabled is True and cudnn.benchmark is True
    finally:
        cudnn.benchmark = False
