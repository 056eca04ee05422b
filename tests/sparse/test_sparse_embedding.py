"""``nn.Embedding``/``EmbeddingBag``/``F.embedding`` with ``sparse=True`` and the optimizers that step with
sparse gradients (``SGD``, ``SparseAdam``), against PyTorch on identical weights."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

W0 = np.random.RandomState(0).randn(7, 3).astype(np.float32)


def _emb(lib, cls="Embedding", **kw):
    m = getattr(lib.nn, cls)(7, 3, sparse=True, **kw)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(W0))
    return m


def _same_sparse(a, b, atol=1e-6):
    assert a.is_sparse and b.is_sparse
    assert tuple(a.shape) == tuple(b.shape) and a._nnz() == b._nnz() and a.is_coalesced() == b.is_coalesced()
    np.testing.assert_array_equal(a._indices().numpy(), b._indices().numpy())
    np.testing.assert_allclose(a._values().numpy(), b._values().numpy(), atol=atol)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 3}, {"max_norm": 1.0}])
def test_embedding_weight_grad_is_the_uncoalesced_sparse_tensor_of_torch(kw):
    idx = [[1, 3, 1], [0, 5, 3]]

    def run(lib):
        m = _emb(lib, **kw)
        out = m(lib.tensor(idx))
        (out * lib.tensor(np.arange(18.0, dtype=np.float32).reshape(2, 3, 3))).sum().backward()
        first = m.weight.grad
        first = lib.sparse_coo_tensor(first._indices(), first._values().clone(), first.shape)
        m(lib.tensor(idx[0])).sum().backward()            # accumulates: indices and values concatenated
        return first, m.weight.grad, m.weight.detach()

    (first_a, acc_a, w_a), (first_b, acc_b, w_b) = run(tapegrad), run(torch)
    _same_sparse(first_a, first_b)
    # accumulated: the same gradient (PyTorch sometimes merges entries of equal index when it accumulates)
    assert acc_a.is_sparse and not acc_a.is_coalesced()
    np.testing.assert_allclose(acc_a.to_dense().numpy(), acc_b.to_dense().numpy(), atol=1e-6)
    np.testing.assert_allclose(w_a.numpy(), w_b.numpy(), atol=1e-6)


def test_functional_embedding_sparse_as_torch():
    def run(lib):
        w = lib.tensor(W0, requires_grad=True)
        lib.nn.functional.embedding(lib.tensor([4, 4, 0]), w, sparse=True).pow(2).sum().backward()
        return w.grad

    _same_sparse(run(tapegrad), run(torch))


@pytest.mark.parametrize("kw, args", [
    ({"mode": "mean", "padding_idx": 2}, lambda lib: (lib.tensor([0, 2, 1, 2, 5]), lib.tensor([0, 2]))),
    ({"mode": "sum"}, lambda lib: (lib.tensor([[0, 2, 1], [2, 2, 5]]),)),
    ({"mode": "sum"}, lambda lib: (lib.tensor([[0, 2, 1], [2, 2, 5]]), None, lib.tensor([[1.0, 2, 3], [4, 5, 6]]))),
    ({"mode": "mean"}, lambda lib: (lib.tensor([0, 2, 1, 6]), lib.tensor([0, 1, 1]))),
])
def test_embedding_bag_sparse_grad_as_torch(kw, args):
    def run(lib):
        m = _emb(lib, "EmbeddingBag", **kw)
        m(*args(lib)).pow(2).sum().backward()
        return m.weight.grad

    _same_sparse(run(tapegrad), run(torch), atol=1e-5)


def test_sparse_embedding_errors_as_torch():
    for lib in (tapegrad, torch):
        with pytest.raises(ValueError, match="max mode does not support sparse weights"):
            _emb(lib, "EmbeddingBag", mode="max")(lib.tensor([[0, 1]]))
        m = _emb(lib, scale_grad_by_freq=True)
        out = m(lib.tensor([1, 1])).sum()
        with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
            out.backward()
    assert repr(_emb(tapegrad)) == repr(_emb(torch)) == "Embedding(7, 3, sparse=True)"


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("SparseAdam", dict(lr=0.1)),
    ("SparseAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, maximize=True)),
]


@pytest.mark.parametrize("name, kw", OPTIMIZERS)
def test_trajectories_with_sparse_gradients_equal_torch(name, kw):
    def run(lib):
        m = _emb(lib)
        head = lib.nn.Linear(3, 1)
        with lib.no_grad():
            head.weight.copy_(lib.tensor([[0.5, -0.25, 1.0]]))
            head.bias.fill_(0.1)
        opt = getattr(lib.optim, name)(m.parameters(), **kw)
        losses = []
        for step in range(6):
            idx = lib.tensor([[1, 3, 1], [step % 7, 5, 3]])
            opt.zero_grad()
            loss = (head(m(idx)) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        state = {k: v for k, v in opt.state.get(m.weight, {}).items() if v is not None}
        return np.array(losses), m.weight.detach().numpy(), state

    (la, wa, sa), (lb, wb, sb) = run(tapegrad), run(torch)
    np.testing.assert_allclose(la, lb, rtol=1e-5)
    np.testing.assert_allclose(wa, wb, atol=2e-6)
    assert sorted(sa) == sorted(sb)
    for k in sb:
        if k == "step":
            assert int(sa[k]) == int(sb[k])
        elif sb[k].is_sparse:
            np.testing.assert_allclose(sa[k].to_dense().numpy(), sb[k].to_dense().numpy(), atol=2e-6)
        else:
            np.testing.assert_allclose(sa[k].numpy(), sb[k].numpy(), atol=2e-6)


def test_sparse_adam_leaves_untouched_rows_and_their_moments_alone():
    m = _emb(tapegrad)
    opt = tapegrad.optim.SparseAdam(m.parameters(), lr=0.1)
    m(tapegrad.tensor([2, 4])).sum().backward()
    opt.step()
    moved = np.flatnonzero(np.any(m.weight.detach().numpy() != W0, axis=1)).tolist()
    assert moved == [2, 4]
    assert np.flatnonzero(opt.state[m.weight]["exp_avg"].numpy().any(1)).tolist() == [2, 4]


def test_optimizer_errors_as_torch():
    for lib in (tapegrad, torch):
        w = lib.nn.Parameter(lib.ones(3))
        (w * w).sum().backward()
        with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
            lib.optim.SparseAdam([w]).step()
        for kw, msg in ((dict(lr=-1.0), "Invalid learning rate"), (dict(eps=0.0), "Invalid epsilon value"),
                        (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
                        (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1")):
            with pytest.raises(ValueError, match=msg):
                lib.optim.SparseAdam([w], **kw)
        m = _emb(lib)
        m(lib.tensor([1])).sum().backward()
        with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
            lib.optim.SGD(m.parameters(), lr=0.1, weight_decay=0.1).step()
    s = tapegrad.sparse_coo_tensor([[0]], [1.0], (2,))
    with pytest.raises(ValueError, match="SparseAdam requires dense parameter tensors"):
        tapegrad.optim.SparseAdam([s])


def test_clip_grad_norm_on_sparse_grads_raises_as_torch():
    for lib in (tapegrad, torch):
        m = _emb(lib)
        m(lib.tensor([1, 2])).sum().backward()
        with pytest.raises(NotImplementedError):
            lib.nn.utils.clip_grad_norm_(m.parameters(), 0.5)


def test_tied_sparse_and_dense_uses_sum_to_a_dense_grad_as_torch():
    def run(lib):
        m = _emb(lib)
        out = m(lib.tensor([1, 2])).sum() + (m.weight * 2).sum()
        out.backward()
        return m.weight.grad

    a, b = run(tapegrad), run(torch)
    assert not a.is_sparse and not b.is_sparse
    np.testing.assert_allclose(a.numpy(), b.numpy())


def test_dense_into_an_existing_sparse_grad_is_refused_not_lost():
    m = _emb(tapegrad)
    m(tapegrad.tensor([1])).sum().backward()
    with pytest.raises(NotImplementedError, match="zero the grad first"):
        (m.weight * 2).sum().backward()
    m.weight.grad = None
    (m.weight * 2).sum().backward()                  # a dense first gradient, then a sparse one: dense, as torch
    m(tapegrad.tensor([1, 1])).sum().backward()
    want = np.full((7, 3), 2.0)
    want[1] += 2.0
    assert not m.weight.grad.is_sparse
    np.testing.assert_allclose(m.weight.grad.numpy(), want)
