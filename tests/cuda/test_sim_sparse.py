"""Sparse COO tensors on device='cuda' (ops/_sparse_array.py): the sparse primitives run on backend methods
(getitem, scatter_add), so sparse.mm, to_dense, coalesce and sparse embedding gradients with SGD and
SparseAdam give the CPU's numbers; the dense matmul kernel refuses a sparse operand, naming it."""
import numpy as np
import pytest

import tapegrad

IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]
VAL = [3.0, 4.0, 5.0, 1.0]


def _run(device):
    rng = np.random.RandomState(0)
    v = tapegrad.tensor(VAL, device=device, requires_grad=True)
    d = tapegrad.tensor(rng.randn(3, 2).astype(np.float32), device=device, requires_grad=True)
    s = tapegrad.sparse_coo_tensor(IDX, v, (2, 3))
    out = tapegrad.sparse.mm(s * 2 + s.coalesce(), d) + tapegrad.sparse.mm(s.t().t(), d)
    (out * tapegrad.tensor(rng.randn(2, 2).astype(np.float32), device=device)).sum().backward()
    c = s.coalesce()
    return [out, v.grad, d.grad, s.to_dense(), c._indices(), c._values(), tapegrad.sparse.sum(s)]


def test_sparse_mm_to_dense_coalesce_match_the_cpu():
    for got, want in zip(_run("cuda"), _run("cpu")):
        assert got.device.type == "cuda"
        np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kw", [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9)),
                                      ("SparseAdam", dict(lr=0.1))])
def test_sparse_embedding_steps_match_the_cpu(name, kw):
    def run(device):
        tapegrad.manual_seed(0)
        m = tapegrad.nn.Embedding(6, 3, sparse=True)
        m = m.to(device)
        opt = getattr(tapegrad.optim, name)(m.parameters(), **kw)
        for step in range(3):
            opt.zero_grad()
            m(tapegrad.tensor([[1, 4, 1], [step, 5, 4]], device=device)).pow(2).sum().backward()
            grad = m.weight.grad
            opt.step()
        return grad, m.weight.detach()

    (ga, wa), (gb, wb) = run("cuda"), run("cpu")
    assert ga.is_sparse and ga.device.type == "cuda"
    np.testing.assert_allclose(ga.to_dense().cpu().numpy(), gb.to_dense().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wa.cpu().numpy(), wb.numpy(), rtol=1e-5, atol=1e-6)


def test_dense_matmul_kernel_refuses_a_sparse_operand():
    s = tapegrad.sparse_coo_tensor(IDX, VAL, (2, 3), device="cuda")
    with pytest.raises(NotImplementedError, match="sparse_coo") as e:
        tapegrad.mm(s, tapegrad.ones(3, 2, device="cuda"))
    assert "matmul" in str(e.value)
    # other ops: the CUDA elementwise kernels refuse the sparse storage with a TypeError naming the op and it
    with pytest.raises((NotImplementedError, TypeError), match="exp: .*SparseCooArray_cuda"):
        s.exp()


def test_a_sparse_tensor_moves_to_cuda_and_its_gradient_comes_back():
    v = tapegrad.tensor(VAL, requires_grad=True)
    s = tapegrad.sparse_coo_tensor(IDX, v, (2, 3)).cuda()
    assert s.is_sparse and s.device.type == "cuda" and s._indices().device.type == "cuda"
    tapegrad.sparse.mm(s, tapegrad.ones(3, 2, device="cuda")).sum().backward()
    assert v.grad.device.type == "cpu"
    np.testing.assert_allclose(v.grad.numpy(), [2.0, 2.0, 2.0, 2.0])
    back = s.cpu()
    assert back.is_sparse and back.device.type == "cpu"
    np.testing.assert_allclose(back.to_dense().detach().numpy(), [[0, 0, 4], [4, 0, 5]])
