"""A leaf is accumulated as soon as its gradient is complete when some leaf has a post-accumulate-grad
hook (Note [ready leaves] in autograd/engine.py): hooks fire in PyTorch 2.13's order, with its values."""
import warnings

import pytest

import tapegrad
from tapegrad.autograd.graph import queue_callback


def _torch():
    return pytest.importorskip("torch")


def _queue(lib):
    if lib is tapegrad:
        return queue_callback
    return lib.autograd.Variable._execution_engine.queue_callback


def _val(t):
    return None if t is None else [round(v, 10) for v in t.reshape(-1).tolist()]


class Log:
    """Records every hook and callback of one backward with what it saw of every leaf's ``.grad``."""

    def __init__(self, lib, leaves):
        self.lib, self.leaves, self.events = lib, leaves, []

    def grads(self):
        return tuple(_val(t.grad) for t in self.leaves.values())

    def post(self, name, callback=False):
        def hook(t):
            self.events.append(("post", name, _val(t.grad), self.grads()))
            if callback:
                _queue(self.lib)(lambda: self.events.append(("callback", name, self.grads())))
        self.leaves[name].register_post_accumulate_grad_hook(hook)

    def tensor(self, name, t, scale=None):
        def hook(g):
            self.events.append(("hook", name, _val(g), self.grads()))
            return None if scale is None else g * scale
        t.register_hook(hook)


def _leaves(lib, n, size=2):
    names = "abcdefgh"[:n]
    return {k: lib.tensor([1.0 + i + j / 4 for j in range(size)], dtype=lib.float64, requires_grad=True)
            for i, k in enumerate(names)}


def _both(fn):
    """``fn(lib)`` with tapegrad and with torch: the two event logs."""
    torch = _torch()
    return fn(tapegrad), fn(torch)


def test_a_leaf_is_ready_as_soon_as_its_last_feeder_ran():
    def fn(lib):
        L = _leaves(lib, 3)
        log = Log(lib, L)
        for k in L:
            log.post(k)
        ab = L["a"] * L["b"]
        log.tensor("ab", ab)
        (ab * L["c"]).sum().backward()
        return log.events
    ours, theirs = _both(fn)
    # c is done after the last multiply, before the hook on a*b runs and before a and b get theirs.
    assert [e[:2] for e in ours] == [("post", "c"), ("hook", "ab"), ("post", "a"), ("post", "b")]
    assert ours == theirs


def test_a_leaf_used_by_several_nodes_and_at_several_depths():
    def fn(lib):
        L = _leaves(lib, 3)
        log = Log(lib, L)
        for k in L:
            log.post(k)
        a, b, c = L["a"], L["b"], L["c"]
        y = a * b                   # a deep down and again near the top
        log.tensor("y", y)
        z = (y * c + a) * b
        log.tensor("z", z)
        (z * c).sum().backward()
        return log.events
    ours, theirs = _both(fn)
    assert ours == theirs
    names = [e[1] for e in ours]
    assert names.index("c") < names.index("y") < names.index("a")


def test_mlp_parameters_are_ready_layer_by_layer_as_torch():
    def fn(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 4), lib.nn.Tanh(),
                                lib.nn.Linear(4, 2))
        net.double()
        with lib.no_grad():
            for i, p in enumerate(net.parameters()):
                p.copy_(lib.linspace(-1, 1, p.numel(), dtype=lib.float64).reshape(p.shape) * (i + 1) / 7)
        order = []
        for name, p in net.named_parameters():
            p.register_post_accumulate_grad_hook(
                lambda t, name=name: order.append((name, [n for n, q in net.named_parameters() if q.grad is None])))
        def on_output(i):           # the activations: their hooks run between the layers' parameters
            def forward_hook(module, inputs, out):
                out.register_hook(
                    lambda g: order.append((f"tanh{i}", [n for n, q in net.named_parameters() if q.grad is None])))
            return forward_hook
        for i in (1, 3):
            net[i].register_forward_hook(on_output(i))
        x = lib.linspace(-2, 2, 15, dtype=lib.float64).reshape(5, 3)
        net(x).pow(2).sum().backward()
        return order, [_val(p.grad) for p in net.parameters()]
    ours, theirs = _both(fn)

    def by_layer(order):
        # tapegrad's linear is one node, so a layer's weight and bias are ready together (in input
        # order); torch's weight goes through a transpose node after addmm readies the bias.
        return [(name.split(".")[0], sorted(m for m in missing if m.split(".")[0] != name.split(".")[0]))
                for name, missing in order]
    assert by_layer(ours[0]) == by_layer(theirs[0])     # and what was still missing when each hook ran
    assert [n.split(".")[0] for n, _ in ours[0]] == ["4", "4", "tanh3", "2", "2", "tanh1", "0", "0"]
    assert ours[0][0][1] == ["0.weight", "0.bias", "2.weight", "2.bias", "4.bias"]
    for g, h in zip(ours[1], theirs[1]):
        assert g == pytest.approx(h, rel=1e-9)


def test_tensor_hooks_and_post_hooks_on_the_same_leaf():
    def fn(lib):
        L = _leaves(lib, 2)
        log = Log(lib, L)
        log.tensor("a", L["a"], scale=10)       # a tensor hook sees the total and its result lands in .grad
        log.post("a")
        log.tensor("b", L["b"])
        log.post("b")
        a, b = L["a"], L["b"]
        for extra in (0, 1):
            u = (a * 0.5).exp()
            log.tensor("u", u)
            (u * b + extra * b * b).sum().backward()
        return log.events
    ours, theirs = _both(fn)
    assert ours == theirs
    assert [e[:2] for e in ours] == [("hook", "b"), ("post", "b"), ("hook", "u"), ("hook", "a"), ("post", "a")] * 2
    assert ours[4][2] == pytest.approx([10 * v for v in ours[3][2]])     # the post hook sees the hook's result
    assert ours[9][2] == pytest.approx([10 * (v + w) for v, w in zip(ours[8][2], ours[3][2])])


def test_retain_graph_twice_accumulates_and_hooks_see_the_running_total():
    def fn(lib):
        L = _leaves(lib, 2)
        log = Log(lib, L)
        log.post("a")
        log.post("b")
        y = L["a"] * L["b"]
        log.tensor("y", y)
        loss = (y * L["b"]).sum()
        loss.backward(retain_graph=True)
        loss.backward()
        return log.events
    ours, theirs = _both(fn)
    assert ours == theirs
    assert [e[1] for e in ours] == ["y", "a", "b"] * 2
    assert ours[4][2] == [2 * v for v in ours[1][2]]       # the second backward's a.grad: twice the first


def test_create_graph_post_hooks_see_a_differentiable_grad():
    def fn(lib):
        L = _leaves(lib, 2)
        seen = []
        a, b = L["a"], L["b"]
        for k, t in L.items():
            t.register_post_accumulate_grad_hook(
                lambda t, k=k: seen.append((k, t.grad.grad_fn is not None, _val(a.grad), _val(b.grad))))
        y = a * 2
        y.register_hook(lambda g: seen.append(("y", g.grad_fn is not None, _val(a.grad), _val(b.grad))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # torch warns about the leaf <-> .grad cycle
            (y * b).sum().backward(create_graph=True)
        during = list(seen)         # (tapegrad also runs y's hook below: it does not prune branches)
        (g,) = lib.autograd.grad((a.grad * b.grad).sum(), b)
        return during, _val(g)
    ours, theirs = _both(fn)
    assert ours == theirs
    assert [s[0] for s in ours[0]] == ["b", "y", "a"] and ours[0][1][2] is None


def test_autograd_grad_with_inputs_accumulates_nothing_and_runs_no_post_hooks():
    def fn(lib):
        L = _leaves(lib, 3)
        log = Log(lib, L)
        for k in L:
            log.post(k)
        log.tensor("a", L["a"])
        y = L["a"] * L["b"]
        log.tensor("y", y)
        grads = lib.autograd.grad((y * L["c"]).sum(), [L["a"], L["c"]])
        return log.events, [_val(g) for g in grads], log.grads()
    ours, theirs = _both(fn)
    assert ours == theirs
    assert [e[:2] for e in ours[0]] == [("hook", "y"), ("hook", "a")]
    assert ours[2] == (None, None, None)


def test_callbacks_queued_by_early_hooks_run_after_every_leaf():
    def fn(lib):
        L = _leaves(lib, 3)
        log = Log(lib, L)
        for k in L:
            log.post(k, callback=True)
        ((L["a"] * L["b"]) * L["c"]).sum().backward()
        return log.events
    ours, theirs = _both(fn)
    assert ours == theirs
    assert [e[:2] for e in ours] == [("post", "c"), ("post", "a"), ("post", "b"),
                                     ("callback", "c"), ("callback", "a"), ("callback", "b")]
    assert all(None not in e[2] for e in ours[3:])      # every callback sees every final .grad


def test_a_leaf_root_and_a_feeder_that_gets_no_gradient():
    def fn(lib):
        L = _leaves(lib, 3)
        log = Log(lib, L)
        for k in L:
            log.post(k)
        a, b, c = L["a"], L["b"], L["c"]
        y = a.detach() * 0 + (b * 2).relu()         # relu of a positive input: b's gradient flows
        log.tensor("y", y)
        lib.autograd.backward([a, (y * c).sum()], [lib.ones(2), None])
        return log.events
    ours, theirs = _both(fn)
    assert ours == theirs
    assert ours[0][:2] == ("post", "a")             # a root leaf is ready before the sweep starts


def test_without_post_hooks_leaves_still_finish_after_the_sweep():
    # No post-accumulate hook anywhere: the sweep is unchanged (leaf hooks run after every node hook).
    L = _leaves(tapegrad, 3)
    log = Log(tapegrad, L)
    for k in L:
        log.tensor(k, L[k])
    ab = L["a"] * L["b"]
    log.tensor("ab", ab)
    (ab * L["c"]).sum().backward()
    assert [e[1] for e in log.events] == ["ab", "c", "a", "b"]


def test_removed_and_dead_post_hooks_stop_the_readiness_walk():
    from tapegrad._tensor import POST_HOOKED
    a = tapegrad.ones(2, requires_grad=True)
    h = a.register_post_accumulate_grad_hook(lambda t: None)
    b = tapegrad.ones(2, requires_grad=True)
    b.register_post_accumulate_grad_hook(lambda t: None)
    assert id(a) in POST_HOOKED and id(b) in POST_HOOKED
    del b
    assert len([k for k in POST_HOOKED if k == id(a)]) == 1
    h.remove()
    (a * 2).sum().backward()
    assert id(a) not in POST_HOOKED and a.grad.tolist() == [2.0, 2.0]


def test_a_hooked_tensor_freed_while_the_backward_lists_them(monkeypatch):
    # A garbage collection inside the engine's listing of hooked tensors runs their weakref
    # callbacks, which remove entries: the listing starts again instead of failing the backward.
    from tapegrad.autograd import _ready
    from tapegrad._tensor import POST_HOOKED
    w = tapegrad.ones(2, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: None)
    other = tapegrad.ones(2, requires_grad=True)
    other.register_post_accumulate_grad_hook(lambda t: None)

    class Collecting(dict):
        def items(self):
            view = dict.items(self)

            def gen():
                for i, kv in enumerate(view):
                    if i == 0 and id(other) in self:
                        self.pop(id(other))         # what other's weakref callback does when it dies
                    yield kv
            return gen()
    hooked = Collecting(POST_HOOKED)
    monkeypatch.setattr(_ready, "_POST_HOOKED", hooked)
    (w * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0] and id(other) not in hooked and id(w) in hooked
