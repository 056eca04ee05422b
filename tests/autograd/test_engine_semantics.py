"""Engine semantics, each checked against PyTorch 2.13: accumulation, roots, multi-output Functions, versions,
retain_graph, hook order, retain_grad, allow_unused/materialize_grads and ``inputs=``."""
import warnings

import pytest

import tapegrad


@pytest.fixture(params=["tapegrad", "torch"])
def lib(request):
    if request.param == "torch":
        return pytest.importorskip("torch")
    return tapegrad


def test_grad_accumulates_out_of_place_under_create_graph(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    old = x.grad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # torch warns about the x <-> x.grad cycle
        (x * x).sum().backward(create_graph=True)
    assert old.tolist() == [2.0, 4.0]           # the first .grad was not written to
    assert x.grad is not old and x.grad.tolist() == [4.0, 8.0]
    assert x.grad.grad_fn is not None           # and the sum is on the tape: differentiable
    (g,) = lib.autograd.grad(x.grad.sum(), x)
    assert g.tolist() == [2.0, 2.0]


def test_first_grad_under_create_graph_is_differentiable(lib):
    x = lib.tensor([3.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x ** 3).sum().backward(create_graph=True)
    assert x.grad.tolist() == [27.0] and x.grad.grad_fn is not None
    (g,) = lib.autograd.grad(x.grad.sum(), x)
    assert g.tolist() == [18.0]


def test_the_same_leaf_twice_as_a_root_accumulates_both_seeds(lib):
    x = lib.ones(2, requires_grad=True)
    lib.autograd.backward([x, x], [lib.tensor([1.0, 2.0]), lib.tensor([10.0, 20.0])])
    assert x.grad.tolist() == [11.0, 22.0]
    y = x * 1
    lib.autograd.backward([y, y], [lib.tensor([1.0, 2.0]), lib.tensor([10.0, 20.0])])
    assert x.grad.tolist() == [22.0, 44.0]


def _split(lib):
    class Split(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return ga * 2 + gb * 3
    return Split


def test_one_output_of_a_multi_output_function_used_twice(lib):
    x = lib.ones(2, requires_grad=True)
    a, b = _split(lib).apply(x)
    (a * 5 + a * 7 + b).sum().backward()       # a's gradient: 5 + 7, summed before backward sees it
    assert x.grad.tolist() == [(5 + 7) * 2 + 3] * 2


def test_accumulating_into_a_grad_a_graph_saved_bumps_its_version(lib):
    x = lib.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    w = lib.ones(3, requires_grad=True)
    z = (w * x.grad).sum()                      # saves x.grad for w's gradient
    (x * 2).sum().backward()                    # in place into x.grad: version 1
    assert x.grad.tolist() == [4.0] * 3
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_retain_graph_allows_reuse_and_its_default_follows_create_graph(lib):
    x = lib.tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [12.0]
    with pytest.raises(RuntimeError, match="(?i)backward through the graph a second time"):
        y.backward()
    y = (x * x).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)    # create_graph keeps the graph by default
    (g2,) = lib.autograd.grad(y, x)
    assert g.tolist() == g2.tolist() == [4.0]
    with pytest.raises(RuntimeError, match="(?i)backward through the graph a second time"):
        lib.autograd.grad(y, x)


def test_hook_order_tensor_hooks_then_retain_grad_then_post_accumulate(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()                              # registered first, still runs after y's hooks
    y.register_hook(lambda g: g * 5)
    order = []
    x.register_hook(lambda g: order.append(("x1", g.tolist())) or g + 1)
    x.register_post_accumulate_grad_hook(lambda t: order.append(("post", t.grad.tolist())))
    x.register_hook(lambda g: order.append(("x2", g.tolist())))
    y.sum().backward()
    assert y.grad.tolist() == [5.0] * 3
    assert order == [("x1", [10.0] * 3), ("x2", [11.0] * 3), ("post", [11.0] * 3)]
    assert x.grad.tolist() == [11.0] * 3
    lib.autograd.grad((x * 2).sum(), x)          # leaves .grad alone: no post-accumulate call
    assert [o[0] for o in order] == ["x1", "x2", "post", "x1", "x2"]
    (x * 1).sum().backward(inputs=[x])
    assert order[-1] == ("post", [13.0] * 3)


def test_post_accumulate_hook_only_on_leaves(lib):
    x = lib.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_retained_non_leaf_grad_accumulates_across_backwards(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward(retain_graph=True)
    first = y.grad
    assert first.tolist() == [4.0] * 3
    (y * y).sum().backward()
    assert y.grad.tolist() == [8.0] * 3
    assert x.grad.tolist() == [16.0] * 3


def test_grad_allow_unused_and_materialize_grads(lib):
    a = lib.ones(2, requires_grad=True)
    b = lib.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="(?i)not.*used in the graph"):
        lib.autograd.grad((a * 2).sum(), [a, b])
    ga, gb = lib.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
    assert ga.tolist() == [2.0, 2.0] and gb is None
    ga, gb = lib.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)
    assert gb.tolist() == [0.0, 0.0] and gb.dtype == b.dtype
    with pytest.raises(ValueError, match="allow_unused"):
        lib.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True, allow_unused=False)
    assert a.grad is None and b.grad is None


def test_grad_only_inputs_is_deprecated_and_ignored(lib):
    a = lib.ones(2, requires_grad=True)
    b = lib.ones(2, requires_grad=True)
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        (g,) = lib.autograd.grad((a * b).sum(), a, only_inputs=False)
    assert g.tolist() == [1.0, 1.0] and a.grad is None and b.grad is None


def test_backward_inputs_accumulates_only_into_those_tensors(lib):
    a = lib.ones(2, requires_grad=True)
    b = lib.ones(2, requires_grad=True)
    (a * b * 3).sum().backward(inputs=[a])
    assert a.grad.tolist() == [3.0, 3.0] and b.grad is None
    (a * b * 3).sum().backward(inputs=[a, b])
    assert a.grad.tolist() == [6.0, 6.0] and b.grad.tolist() == [3.0, 3.0]
    y = a * 3                                    # a non-leaf in inputs gets a .grad, the leaf none
    a.grad = None
    (y * y).sum().backward(inputs=[y])
    assert y.grad.tolist() == [6.0, 6.0] and a.grad is None


def test_grad_is_grads_batched_is_refused_clearly():
    x = tapegrad.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="is_grads_batched"):
        tapegrad.autograd.grad(x * 2, x, tapegrad.ones(3, 2), is_grads_batched=True)


def test_grads_under_create_graph_do_not_alias_each_other_or_the_seed(lib):
    m = lib
    x = m.zeros(2, requires_grad=True)
    y = m.zeros(2, requires_grad=True)
    v = m.tensor([1.0, 2.0])
    (x + y).backward(v, create_graph=True)
    with m.no_grad():
        x.grad.mul_(10)
    assert y.grad.tolist() == [1.0, 2.0] and v.tolist() == [1.0, 2.0]
    x2 = m.ones(3, requires_grad=True)
    (x2 * 2).sum().backward(create_graph=True)
    with m.no_grad():
        x2.grad.zero_()                  # a broadcast seed must not leave a read-only .grad
    assert x2.grad.tolist() == [0.0] * 3
