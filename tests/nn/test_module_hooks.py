"""Module hooks against PyTorch: forward (pre-)hooks, full backward (pre-)hooks, global hooks, removal.

Each scenario is written once against a framework ``T`` (tapegrad or torch),
logs what the hooks saw (names, order, arguments as NumPy arrays) and the two
logs are compared.
"""
import warnings

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
W1, B1 = RNG.standard_normal((4, 3)), RNG.standard_normal(4)
W2, B2 = RNG.standard_normal((2, 4)), RNG.standard_normal(2)
X = RNG.standard_normal((5, 3))


def _arr(v):
    if v is None:
        return None
    if isinstance(v, (tuple, list)):
        return tuple(_arr(x) for x in v)
    if hasattr(v, "detach"):
        return np.array(v.detach().tolist())
    return v


def _same(a, b):
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b):
        if isinstance(x, tuple):
            assert isinstance(y, tuple) and len(x) == len(y), (x, y)
            _same(x, y)
        elif isinstance(x, np.ndarray):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)
        else:
            assert x == y, (a, b)


def _seq(T):
    m = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.Tanh(), T.nn.Linear(4, 2)).double()
    with T.no_grad():
        for p, v in zip(m.parameters(), (W1, B1, W2, B2)):
            p.copy_(T.tensor(v))
    return m


def _both(scenario):
    return scenario(tapegrad), scenario(torch)


def _flatten(log):
    return [x for entry in log for x in entry]


def test_forward_hook_order_arguments_and_replacement():
    def scenario(T):
        log = []
        m = _seq(T)
        lin = m[0]
        lin.register_forward_pre_hook(lambda mod, args: log.append(("pre", _arr(args))))
        lin.register_forward_pre_hook(lambda mod, args: log.append(("pre-first",)), prepend=True)
        lin.register_forward_pre_hook(lambda mod, args, kw: log.append(("pre-kw", sorted(kw))), with_kwargs=True)
        lin.register_forward_hook(lambda mod, args, out: log.append(("fwd", _arr(args), _arr(out))))
        lin.register_forward_hook(lambda mod, args, kw, out: out * 2, with_kwargs=True)
        lin.register_forward_hook(lambda mod, args, out: log.append(("after-double", _arr(out))))
        m[1].register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
        m[1].register_forward_pre_hook(lambda mod, args: log.append(("tanh-in", _arr(args))))
        y = m(T.tensor(X))
        log.append(("y", _arr(y)))
        return log

    got, want = _both(scenario)
    assert [e[0] for e in got] == [e[0] for e in want] == ["pre-first", "pre", "pre-kw", "fwd", "after-double",
                                                            "tanh-in", "y"]
    _same(got, want)


def test_with_kwargs_pre_hook_rewrites_args_and_kwargs():
    class Scale(tapegrad.nn.Module):
        def forward(self, x, *, k=1.0):
            return x * k

    class TScale(torch.nn.Module):
        def forward(self, x, *, k=1.0):
            return x * k

    for cls, T in ((Scale, tapegrad), (TScale, torch)):
        m = cls()
        m.register_forward_pre_hook(lambda mod, args, kw: ((args[0] + 1,), {"k": 3.0}), with_kwargs=True)
        assert m(T.ones(2), k=5.0).tolist() == [6.0, 6.0]
        m2 = cls()
        m2.register_forward_pre_hook(lambda mod, args, kw: 7, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
            m2(T.ones(2))


def test_always_call_hook_runs_when_forward_raises():
    def scenario(T):
        log = []

        class Boom(T.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m = Boom()
        m.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)
        m.register_forward_hook(lambda mod, args, out: log.append(("plain",)))
        with pytest.raises(ValueError, match="boom"):
            m(T.ones(1))
        return log

    got, want = _both(scenario)
    assert got == want == [("always", None)]


def test_handles_remove_and_work_as_context_managers():
    for T in (tapegrad, torch):
        log = []
        lin = T.nn.Linear(2, 2)
        h1 = lin.register_forward_hook(lambda *a: log.append(1), always_call=True, with_kwargs=False)
        h2 = lin.register_forward_pre_hook(lambda *a: log.append(2), with_kwargs=True)
        lin(T.ones(1, 2))
        h1.remove()
        h2.remove()
        h2.remove()                                    # twice is harmless
        lin(T.ones(1, 2))
        with lin.register_forward_hook(lambda *a: log.append(3)):
            lin(T.ones(1, 2))
        lin(T.ones(1, 2))
        assert log == [2, 1, 3]
        assert not lin._forward_hooks and not lin._forward_hooks_always_called
        assert not lin._forward_pre_hooks_with_kwargs


def _bw_scenario(T, input_requires_grad=True):
    log = []
    m = _seq(T)
    for name, mod in [("seq", m), ("lin0", m[0]), ("tanh", m[1]), ("lin2", m[2])]:
        mod.register_full_backward_pre_hook(lambda mod, go, name=name: log.append((name, "pre", _arr(go))))
        mod.register_full_backward_hook(lambda mod, gi, go, name=name: log.append((name, "full", _arr(gi),
                                                                                   _arr(go))))
    x = T.tensor(X, requires_grad=input_requires_grad)
    w = T.tensor(RNG.standard_normal((5, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (m(x) * w).sum().backward()
    log.append(("param grads", tuple(_arr(p.grad) for p in m.parameters())))
    if input_requires_grad:
        log.append(("x.grad", _arr(x.grad)))
    return log


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_see_torchs_grad_input_and_grad_output(input_requires_grad):
    state = RNG.bit_generator.state
    got = _bw_scenario(tapegrad, input_requires_grad)
    RNG.bit_generator.state = state
    want = _bw_scenario(torch, input_requires_grad)
    names = [e[:2] for e in got if isinstance(e[1], str)]
    assert names == [e[:2] for e in want if isinstance(e[1], str)]
    first = [("seq", "pre"), ("lin2", "pre")] if input_requires_grad else [("seq", "pre"), ("seq", "full")]
    assert names[:2] == first
    _same(got, want)


def test_backward_hooks_on_linear_and_replacement_of_gradients():
    def scenario(T):
        log = []
        lin = T.nn.Linear(3, 4).double()
        with T.no_grad():
            lin.weight.copy_(T.tensor(W1))
            lin.bias.copy_(T.tensor(B1))
        lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
        lin.register_full_backward_hook(lambda mod, gi, go: log.append((_arr(gi), _arr(go))))
        lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] + 1,))
        x = T.tensor(X, requires_grad=True)
        lin(x).pow(2).sum().backward()
        log.append((_arr(x.grad), _arr(lin.weight.grad), _arr(lin.bias.grad)))
        return log

    got, want = _both(scenario)
    _same(_flatten(got), _flatten(want))


def test_backward_hook_errors_match_torch():
    for T in (tapegrad, torch):
        lin = T.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
            lin(T.ones(1, 2, requires_grad=True)).sum().backward()
        lin = T.nn.Linear(2, 2)
        lin.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
        with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2, but expected 1"):
            lin(T.ones(1, 2, requires_grad=True)).sum().backward()


def test_backward_hook_output_grad_fn_name_matches_torch():
    for T in (tapegrad, torch):
        lin = T.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda *a: None)
        assert lin(T.ones(1, 2)).grad_fn.name() == "BackwardHookFunctionBackward"


def test_global_hooks_run_before_module_hooks_and_are_removable():
    def scenario(T):
        from importlib import import_module
        mm = import_module(T.__name__ + ".nn.modules.module")
        log = []
        m = _seq(T)
        m[1].register_forward_hook(lambda mod, a, o: log.append(("local-fwd", type(mod).__name__)))
        m[1].register_full_backward_hook(lambda mod, gi, go: log.append(("local-bw", type(mod).__name__)))
        hs = [mm.register_module_forward_pre_hook(lambda mod, a: log.append(("g-pre", type(mod).__name__))),
              mm.register_module_forward_hook(lambda mod, a, o: log.append(("g-fwd", type(mod).__name__))),
              mm.register_module_full_backward_pre_hook(lambda mod, go: log.append(("g-bwpre",
                                                                                      type(mod).__name__))),
              mm.register_module_full_backward_hook(lambda mod, gi, go: log.append(("g-bw", type(mod).__name__)))]
        try:
            m(T.tensor(X, requires_grad=True)).sum().backward()
        finally:
            for h in hs:
                h.remove()
        m(T.tensor(X, requires_grad=True)).sum().backward()
        return log

    got, want = _both(scenario)
    assert got == want
    assert ("local-fwd", "Tanh") in got and got.count(("local-bw", "Tanh")) == 2


def test_calling_a_module_whose_init_skipped_super_names_the_fix():
    class NoInit(tapegrad.nn.Module):
        def __init__(self):
            pass

        def forward(self, x):
            return x

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) in NoInit.__init__"):
        NoInit()(tapegrad.ones(1))


@pytest.mark.parametrize("outputs", ["three", "unused-input", "lstm"])
def test_unused_outputs_and_inputs_reach_hooks_as_torch(outputs):
    """None at the outputs that got no gradient, zeros at the inputs, zeros flowing on (torch's behaviour)."""
    def scenario(T):
        log = []

        class Three(T.nn.Module):
            def forward(self, x, y):
                return x * 2, y * 3, x * y

        class UnusedInput(T.nn.Module):
            def forward(self, x, y):
                return x * 2

        if outputs == "lstm":
            m = T.nn.LSTMCell(3, 2).double()
            with T.no_grad():
                for p in m.parameters():
                    p.copy_(T.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape))))
        else:
            m = Three() if outputs == "three" else UnusedInput()
        m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", _arr(go))))
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", _arr(gi), _arr(go))))
        x = T.tensor(X[:, :3] if outputs == "lstm" else X[0], requires_grad=True)
        y = T.tensor(np.zeros((5, 2)) if outputs == "lstm" else X[1], requires_grad=True)
        out = m(x, (y, y)) if outputs == "lstm" else m(x, y)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
        log.append(("grads", _arr(x.grad), _arr(y.grad)))
        return log

    got, want = _both(scenario)
    _same(_flatten(got), _flatten(want))


def test_hooked_module_supports_double_backward_like_torch():
    def scenario(T):
        m = _seq(T)
        calls = []
        m[1].register_full_backward_hook(lambda mod, gi, go: calls.append(len(gi)))
        x = T.tensor(X, requires_grad=True)
        (g,) = T.autograd.grad(m(x).sum(), x, create_graph=True)
        (g * g).sum().backward()
        return [("calls", tuple(calls)), ("x.grad", _arr(x.grad)), ("w.grad", _arr(m[0].weight.grad))]

    got, want = _both(scenario)
    assert got[0] == want[0] == ("calls", (1,))
    _same(got, want)
