"""Sparse COO tensors against PyTorch: construction, properties, repr, coalescing, the supported ops,
gradients (to the values, the dense operand, a sparse leaf) and the errors of everything else."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]          # (0, 2) twice: uncoalesced
VAL = [3.0, 4.0, 5.0, 1.0]


def _both(indices=IDX, values=VAL, size=(2, 3), **kw):
    return (tapegrad.sparse_coo_tensor(indices, values, size, **kw),
            torch.sparse_coo_tensor(indices, values, size, **kw))


def _same(a, b, atol=1e-6):
    if b.is_sparse:
        assert a.is_sparse
        assert tuple(a.shape) == tuple(b.shape) and a._nnz() == b._nnz() and a.is_coalesced() == b.is_coalesced()
        np.testing.assert_array_equal(a._indices().numpy(), b._indices().numpy())
        np.testing.assert_allclose(a._values().detach().numpy(), b._values().detach().numpy(), atol=atol)
    else:
        assert not a.is_sparse
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol)


def test_properties_as_torch():
    s, t = _both()
    assert s.is_sparse and s.layout is tapegrad.sparse_coo and repr(s.layout) == "tapegrad.sparse_coo"
    assert tapegrad.ones(2).layout is tapegrad.strided and not tapegrad.ones(2).is_sparse
    for name in ("sparse_dim", "dense_dim", "_nnz", "is_coalesced", "dim", "numel"):
        assert getattr(s, name)() == getattr(t, name)(), name
    assert tuple(s.shape) == tuple(t.shape) and s.dtype == tapegrad.float32 and s.device.type == "cpu"
    assert tapegrad.ones(2, 3).sparse_dim() == 0 and tapegrad.ones(2, 3).dense_dim() == 2
    assert s.coalesce().is_coalesced() and not s.requires_grad and s.is_leaf


@pytest.mark.parametrize("make", [
    lambda lib: lib.sparse_coo_tensor(IDX, VAL, (2, 3)),
    lambda lib: lib.sparse_coo_tensor(IDX, VAL, (2, 3)).coalesce(),
    lambda lib: lib.sparse_coo_tensor(IDX, VAL),
    lambda lib: lib.sparse_coo_tensor(IDX, VAL, (2, 3), dtype=lib.float64, requires_grad=True),
    lambda lib: lib.sparse_coo_tensor(IDX, lib.tensor(VAL, requires_grad=True), (2, 3)) * 2,
    lambda lib: lib.sparse_coo_tensor(lib.zeros(2, 0, dtype=lib.int64), lib.zeros(0), (2, 2)),
    lambda lib: lib.ones(2, 3, 2).to_sparse(2),
    lambda lib: lib.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse(),
])
def test_repr_as_torch(make):
    want = repr(make(torch)).replace("torch.", "tapegrad.")
    got = repr(make(tapegrad))
    # grad_fn names are tapegrad's own
    want, got = (x.split("grad_fn=")[0].rstrip(" ,\n") for x in (want, got))
    assert got == want


def test_sparse_coo_tensor_infers_size_and_dense_dims():
    v = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    s = tapegrad.sparse_coo_tensor([[0, 4, 2]], tapegrad.tensor(v))
    t = torch.sparse_coo_tensor([[0, 4, 2]], torch.tensor(v))
    assert tuple(s.shape) == tuple(t.shape) == (5, 2)
    assert s.dense_dim() == 1 and s.sparse_dim() == 1
    _same(s.to_dense(), t.to_dense())


@pytest.mark.parametrize("args, kwargs", [
    (([[0, 5]], [1.0, 2.0], (3,)), {}),
    (([[0, 1]], [1.0, 2.0, 3.0], (3,)), {}),
    (([[0, 1]], [1.0, 2.0], (1, 4)), {}),
    (([[0, -1]], [1.0, 2.0], (3,)), {}),
])
def test_construction_errors_as_torch(args, kwargs):
    with pytest.raises(RuntimeError):
        torch.sparse_coo_tensor(*args, **kwargs, check_invariants=True)
    with pytest.raises(RuntimeError):
        tapegrad.sparse_coo_tensor(*args, **kwargs)


def test_coalesce_indices_values_as_torch():
    s, t = _both()
    _same(s.coalesce(), t.coalesce())
    _same(s.coalesce().indices(), t.coalesce().indices())
    _same(s.coalesce().values(), t.coalesce().values())
    for name in ("indices", "values"):
        with pytest.raises(RuntimeError, match="uncoalesced"):
            getattr(t, name)()
        with pytest.raises(RuntimeError, match=f"Cannot get {name} on an uncoalesced tensor"):
            getattr(s, name)()
    with pytest.raises(RuntimeError, match="coalesce expected sparse coordinate tensor layout but got Strided"):
        tapegrad.ones(2).coalesce()
    assert tapegrad.ones(2).to_dense() is not None


def test_to_sparse_to_dense_round_trip():
    x = np.array([[[0, 0], [1, 0]], [[0, 0], [0, 0]], [[2, 3], [0, 4]]], np.float32)
    for sd in (None, 1, 2, 3):
        a, b = tapegrad.tensor(x).to_sparse(*(() if sd is None else (sd,))), torch.tensor(x).to_sparse(
            *(() if sd is None else (sd,)))
        _same(a, b)
        _same(a.to_dense(), b.to_dense())


@pytest.mark.parametrize("op", [
    lambda s, c, lib: s + s, lambda s, c, lib: c + c, lambda s, c, lib: c - s, lambda s, c, lib: s * 2,
    lambda s, c, lib: 3 * c, lambda s, c, lib: c / 4, lambda s, c, lib: -s, lambda s, c, lib: c.t(),
    lambda s, c, lib: s.transpose(0, 1), lambda s, c, lib: lib.sparse.sum(s), lambda s, c, lib: lib.sparse.sum(s, 0),
    lambda s, c, lib: lib.sparse.sum(s, (1,)), lambda s, c, lib: lib.sparse.sum(s, (0, 1)),
    lambda s, c, lib: lib.ones(2, 3) + s,
])
def test_supported_ops_as_torch(op):
    s, t = _both()
    got, want = op(s, s.coalesce(), tapegrad), op(t, t.coalesce(), torch)
    if want.is_sparse:
        _same(got.coalesce(), want.coalesce())
        _same(got.to_dense(), want.to_dense())
    else:
        _same(got, want)


def test_mm_matmul_and_spmm_values():
    rng = np.random.RandomState(0)
    d = rng.randn(3, 4).astype(np.float32)
    s, t = _both()
    want = torch.sparse.mm(t, torch.tensor(d))
    for got in (tapegrad.sparse.mm(s, tapegrad.tensor(d)), tapegrad.spmm(s, tapegrad.tensor(d)),
                tapegrad.mm(s, tapegrad.tensor(d)), s @ tapegrad.tensor(d), tapegrad.matmul(s, tapegrad.tensor(d))):
        _same(got, want, atol=1e-5)
    _same(tapegrad.tensor(d).t() @ s.t(), torch.tensor(d).t() @ t.t(), atol=1e-5)
    _same(s @ tapegrad.tensor(d[:, 0]), t @ torch.tensor(d[:, 0]), atol=1e-5)


def _grads(lib, kind):
    rng = np.random.RandomState(1)
    d0 = rng.randn(3, 2)
    v = lib.tensor(VAL, dtype=lib.float64, requires_grad=True)
    d = lib.tensor(d0, requires_grad=True)
    s = lib.sparse_coo_tensor(IDX, v, (2, 3))
    if kind == "sparse.mm":
        out = lib.sparse.mm(s, d)
    elif kind == "mm":
        out = lib.mm(s, d)
    elif kind == "matmul_t":
        out = (d.t() @ s.t()).t()
    elif kind == "to_dense":
        out = (s * 3).to_dense() @ d
    elif kind == "coalesce_values":
        out = s.coalesce().values()[:, None] * d[:1]
    elif kind == "sum":
        out = lib.sparse.sum(s + s.coalesce(), 1).to_dense()[:, None] * d[:2]
    out = out.to_dense() if out.is_sparse else out
    (out * lib.tensor(rng.randn(*out.shape))).sum().backward()
    return v.grad, d.grad


@pytest.mark.parametrize("kind", ["sparse.mm", "mm", "matmul_t", "to_dense", "coalesce_values", "sum"])
def test_gradients_to_values_and_dense_operand_as_torch(kind):
    for got, want in zip(_grads(tapegrad, kind), _grads(torch, kind)):
        _same(got, want, atol=1e-10)


@pytest.mark.parametrize("kind", ["sparse.mm", "mm", "to_dense", "sum_all"])
def test_gradient_of_a_sparse_leaf_as_torch(kind):
    d0 = np.random.RandomState(2).randn(3, 2)

    def run(lib):
        s = lib.sparse_coo_tensor(IDX, VAL, (2, 3), dtype=lib.float64, requires_grad=True)
        d = lib.tensor(d0)
        out = {"sparse.mm": lambda: lib.sparse.mm(s, d), "mm": lambda: lib.mm(s, d),
               "to_dense": lambda: s.to_dense() * 2, "sum_all": lambda: lib.sparse.sum(s)}[kind]()
        out.sum().backward()
        return s.grad

    got, want = run(tapegrad), run(torch)
    assert got.is_sparse == want.is_sparse
    if want.is_sparse:
        _same(got.coalesce(), want.coalesce(), atol=1e-12)
    _same(got.to_dense(), want.to_dense(), atol=1e-12)


def test_sparse_gradients_accumulate_and_zero_as_torch():
    def run(lib):
        s = lib.sparse_coo_tensor(IDX, VAL, (2, 3), requires_grad=True)
        d = lib.ones(3, 2)
        lib.sparse.mm(s, d).sum().backward()
        lib.sparse.mm(s, d * 2).sum().backward()
        first = s.grad.to_dense().clone()
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        opt.param_groups[0]["params"] = [s]
        opt.zero_grad(set_to_none=False)
        return first, s.grad

    (a, ga), (b, gb) = run(tapegrad), run(torch)
    _same(a, b)
    assert ga.is_sparse and ga._nnz() == gb._nnz() == 0


@pytest.mark.parametrize("call, name", [
    (lambda s: s.exp(), "exp"), (lambda s: s.sum(0), "sum"), (lambda s: s.reshape(6), "reshape"),
    (lambda s: s * tapegrad.ones(2, 1, 1), "multiply"), (lambda s: s[0], "getitem"), (lambda s: tapegrad.flip(s, (0,)), "flip"),
    (lambda s: s + 1, "add"), (lambda s: tapegrad.relu(s), "relu"), (lambda s: s.max(), "max"),
    (lambda s: s.abs(), "abs"), (lambda s: s < 1, "less"),
])
def test_other_ops_raise_naming_the_op_and_the_layout(call, name):
    s = tapegrad.sparse_coo_tensor(IDX, VAL, (2, 3))
    with pytest.raises(NotImplementedError, match="sparse_coo") as e:
        call(s)
    assert name in str(e.value)


def test_host_reads_refuse_sparse_tensors_as_torch():
    s, t = _both()
    for name in ("numpy", "tolist"):
        with pytest.raises((TypeError, RuntimeError)):
            getattr(t, name)()
        with pytest.raises(TypeError, match="Sparse layout"):
            getattr(s, name)()


def test_dtype_conversion_as_torch():
    s, t = _both()
    _same(s.to(tapegrad.float64), t.to(torch.float64))
    assert s.double().dtype == tapegrad.float64


def test_sparse_times_dense_is_sparse_as_torch():
    s, t = _both()
    d = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    for x in (d, d[0], d[:, :1]):
        _same(s * tapegrad.tensor(x), t * torch.tensor(x))


def test_sparse_mm_needs_a_sparse_first_operand_and_a_dense_second():
    s = tapegrad.sparse_coo_tensor(IDX, VAL, (2, 3))
    with pytest.raises(NotImplementedError, match="sparse"):
        tapegrad.sparse.mm(s, s.t())
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        tapegrad.sparse.mm(s, tapegrad.ones(2, 2))
    np.testing.assert_allclose(tapegrad.sparse.mm(tapegrad.ones(2, 3), tapegrad.ones(3, 1)).numpy(), 3.0)


def test_double_backward_through_sparse_ops_is_refused():
    v = tapegrad.tensor(VAL, requires_grad=True)
    out = tapegrad.sparse.mm(tapegrad.sparse_coo_tensor(IDX, v, (2, 3)), tapegrad.ones(3, 1)).sum()
    with pytest.raises(NotImplementedError, match="create_graph"):
        tapegrad.autograd.grad(out, v, create_graph=True)


@pytest.mark.parametrize("call", [lambda s, lib: s.clone(), lambda s, lib: s.to(lib.float64),
                                  lambda s, lib: s.double().cpu(), lambda s, lib: s.to("cpu")])
def test_clone_and_moves_keep_the_layout_and_the_gradient_as_torch(call):
    def run(lib):
        v = lib.tensor(VAL, requires_grad=True)
        s = lib.sparse_coo_tensor(IDX, v, (2, 3))
        out = call(s, lib)
        lib.sparse.mm(out, lib.ones(3, 1, dtype=out.dtype)).sum().backward()
        return out, v.grad

    (a, ga), (b, gb) = run(tapegrad), run(torch)
    assert a.dtype == getattr(tapegrad, str(b.dtype).split(".")[1])
    _same(a, b)
    _same(ga, gb)


def test_a_move_to_the_same_device_and_dtype_is_the_tensor_itself():
    s = tapegrad.sparse_coo_tensor(IDX, VAL, (2, 3))
    assert s.to("cpu") is s and s.cpu() is s and s.to(tapegrad.float32) is s
    c = s.clone()
    assert c is not s and c._values()._data is not s._data.values
