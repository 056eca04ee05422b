"""Parity of every CudaBackend method with the NumPy backend on small, awkward shapes."""
import numpy as np
import pytest

from tapegrad.backend import CPU_BACKEND as NP
from tapegrad.cuda.kernels import elementwise as EW
from tapegrad.cuda.kernels import scalar_ops

RNG = np.random.default_rng(0)
# float ops here; the integer-only ones (bitwise) are checked by tests/backend_cases.py on integer arrays
UNARY = [n for n, (k, _, _) in scalar_ops.OPS.items() if k == 1 and n != "identity" and n not in scalar_ops.INT_ONLY]
BINARY = [n for n, (k, _, _) in scalar_ops.OPS.items() if k == 2 and n not in scalar_ops.INT_ONLY]


def _cuda(be, name):
    """The backend's method, or for a kernel only CudaArray's operators use (add, neg, ...) the kernel itself."""
    f = getattr(be, name, None)
    return f if f is not None else (lambda *args: EW.apply(name, args))


def _ref(name):
    """The NumPy backend's method, or NumPy's function for an operator-only kernel."""
    f = getattr(NP, name, None)
    return f if f is not None else getattr(np, {"neg": "negative"}.get(name, name))


def dev(be, a):
    return be.from_numpy(np.asarray(a))


def close(x, ref, tol=1e-5):
    got = x.get() if hasattr(x, "get") else x
    ref = np.asarray(ref)
    assert got.shape == ref.shape and got.dtype == ref.dtype, (got.shape, got.dtype, ref.shape, ref.dtype)
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol, equal_nan=True)


def sample(shape, dtype, lo=-2, hi=2):
    return RNG.uniform(lo, hi, shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", UNARY)
def test_unary(be, name, dtype):
    a = sample((3, 5), dtype)
    a[0, :3] = [0.0, 0.5, -2.5]
    ref = _ref(name)(a)
    close(_cuda(be, name)(dev(be, a)), ref, 1e-5 if dtype == np.float32 else 1e-12)
    # non-contiguous (transposed) input, and a size-0 dim
    close(_cuda(be, name)(dev(be, a).transpose((1, 0))), _ref(name)(a.T), 1e-5)
    close(_cuda(be, name)(dev(be, a[:0])), _ref(name)(a[:0]))


def test_log_sqrt_domain_edges(be):
    a = np.array([0.0, -1.0, 1.0], np.float32)
    with np.errstate(all="ignore"):
        for name in ("log", "sqrt", "log1p", "reciprocal"):
            close(_cuda(be, name)(dev(be, a)), _ref(name)(a))


@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcast(be, name):
    a = sample((4, 1, 3), np.float32, 0.5, 3)
    b = sample((2, 1), np.float32, 0.5, 3)
    b[0, 0] = a[0, 0, 0]                               # a tie for the comparisons
    ref = _ref(name)(a, b)
    close(_cuda(be, name)(dev(be, a), dev(be, b)), ref, 1e-5)
    # scalar operand on either side keeps float32 (NumPy 2: Python scalars are weak)
    close(_cuda(be, name)(dev(be, a), 2.0), _ref(name)(a, 2.0), 1e-5)
    close(_cuda(be, name)(np.float32(1.5), dev(be, b)), _ref(name)(np.float32(1.5), b), 1e-5)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_and_bool_ops(be, dtype):
    a = RNG.integers(-5, 6, (3, 4)).astype(dtype)
    b = RNG.integers(1, 4, (4,)).astype(dtype)
    names = ["add", "multiply", "maximum", "minimum", "equal", "less", "logical_and", "logical_xor"]
    if dtype != np.bool_:
        names += ["subtract", "floor_divide", "remainder", "neg", "abs", "sign"]
    for name in names:
        args = (a,) if name in ("neg", "abs", "sign") else (a, b)
        close(_cuda(be, name)(*[dev(be, x) for x in args]), _ref(name)(*args))
    for name in ("isnan", "isinf", "isfinite", "logical_not"):
        close(_cuda(be, name)(dev(be, a)), _ref(name)(a))


def test_operators_views_and_inplace(be):
    a = sample((2, 3, 4), np.float64)
    x = dev(be, a)
    v = x[:, 1:, ::2]                       # strided basic slice: a view, not a copy
    assert be.is_view(v) and v.buf is x.buf
    close(v * 2 - 1, a[:, 1:, ::2] * 2 - 1)
    close(np.float64(3.0) / (v + 4), 3.0 / (a[:, 1:, ::2] + 4))
    close((v > 0) & (v < 1), (a[:, 1:, ::2] > 0) & (a[:, 1:, ::2] < 1))
    close(-v ** 2, -a[:, 1:, ::2] ** 2)
    t = be.transpose(x, (2, 0, 1))
    assert be.is_view(t) and be.is_view(be.broadcast_to(dev(be, a[0, 0]), (5, 4)))
    assert be.broadcast_to(dev(be, a[0, 0]), (5, 4)).st == (0, 1)
    assert be.is_view(be.reshape(x, (6, 4))) and not be.is_view(x)
    close(be.reshape(t, (4, 6)), a.transpose(2, 0, 1).reshape(4, 6))
    y = dev(be, a)
    w = y[1]
    w += 1.0                                   # in place through a view writes the base
    a2 = a.copy()
    a2[1] += 1.0
    close(y, a2)
    assert v.__cuda_array_interface__["strides"] == a[:, 1:, ::2].strides
    assert v.__cuda_array_interface__["shape"] == (2, 2, 2)


@pytest.mark.parametrize("axis", [None, 0, 1, 2, (0, 2), (1, 2), -1])
@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "argmax", "argmin", "any", "all"])
def test_reductions(be, name, axis):
    if name.startswith("arg") and isinstance(axis, tuple):
        return
    a = sample((3, 5, 4), np.float32)
    a[1, 2, :] = a[1, 1, :]                           # ties: the first index wins
    for keepdims in (False, True):
        if name.startswith("arg") and keepdims and axis is None:
            continue
        ref = getattr(NP, name)(a, axis=axis, keepdims=keepdims)
        close(getattr(be, name)(dev(be, a), axis=axis, keepdims=keepdims), ref, 1e-5)
        # a non-contiguous input goes through the transposing copy
        ref_t = getattr(NP, name)(a.transpose(2, 0, 1), axis=axis, keepdims=keepdims)
        close(getattr(be, name)(be.transpose(dev(be, a), (2, 0, 1)), axis=axis, keepdims=keepdims), ref_t, 1e-5)


def test_reductions_long_rows_nan_and_empty(be):
    a = sample((3, 70), np.float64)                 # long rows: the block-per-row (and split) kernels
    a[2, 33] = np.nan
    for name in ("sum", "max", "argmax", "argmin", "min"):
        close(getattr(be, name)(dev(be, a), axis=1), getattr(NP, name)(a, axis=1), 1e-12)
    close(be.sum(dev(be, a[:2])), NP.sum(a[:2]), 1e-12)
    z = np.zeros((0, 3), np.float32)
    close(be.sum(dev(be, z), axis=0), NP.sum(z, axis=0))
    close(be.prod(dev(be, z)), NP.prod(z))
    with pytest.raises(ValueError):
        be.max(dev(be, z), axis=0)
    close(be.sum(dev(be, np.ones((2, 2), np.bool_))), NP.sum(np.ones((2, 2), np.bool_)))


@pytest.mark.parametrize("sa,sb", [((5, 3), (3, 7)), ((3,), (3, 2)), ((4, 3), (3,)), ((2, 1, 5, 3), (4, 3, 2)),
                                   ((1, 9), (9, 1)), ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((7,), (7,))])
def test_matmul(be, sa, sb):
    a, b = sample(sa, np.float32), sample(sb, np.float32)
    close(be.matmul(dev(be, a), dev(be, b)), NP.matmul(a, b), 1e-5)


def test_matmul_transposed_operands_and_float64(be):
    a, b = sample((6, 5), np.float64), sample((7, 6), np.float64)
    close(be.matmul(be.transpose(dev(be, a), (1, 0)), be.transpose(dev(be, b), (1, 0))), a.T @ b.T, 1e-12)
    c = sample((3, 6, 5), np.float64)
    close(be.matmul(be.transpose(dev(be, c), (0, 2, 1)), dev(be, a)), c.transpose(0, 2, 1) @ a, 1e-12)


def test_movement(be):
    a = sample((2, 3, 4), np.float32)
    x = dev(be, a)
    close(be.concatenate([x, x[:, :1]], axis=1), np.concatenate([a, a[:, :1]], axis=1))
    close(be.stack([x, x], axis=2), np.stack([a, a], axis=2))
    close(be.flip(x, 1), np.flip(a, 1))
    close(be.flip(x, (0, 2)), np.flip(a, (0, 2)))
    close(be.tile(x, (2, 1, 1)), np.tile(a, (2, 1, 1)))
    close(be.squeeze(be.expand_dims(x, 1), 1), a)
    close(be.ascontiguousarray(be.transpose(x, (2, 1, 0))), np.ascontiguousarray(a.transpose(2, 1, 0)))
    close(be.narrow(x, 2, 1, 2), a[:, :, 1:3])
    close(be.pad_axis(x, 1, 1, 2), NP.pad_axis(a, 1, 1, 2))


def test_creation(be):
    close(be.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32))
    close(be.full((2,), 7, np.int64), np.full((2,), 7, np.int64))
    close(be.arange(1, 7, 2, np.int64), np.arange(1, 7, 2, dtype=np.int64))
    close(be.eye(3, 4, np.float64), np.eye(3, 4))
    close(be.astype(dev(be, np.array([1.7, -0.2, 0.0])), np.bool_), np.array([1.7, -0.2, 0.0]).astype(bool))
    close(be.copy(dev(be, np.arange(3))), np.arange(3))


@pytest.mark.parametrize("key", [
    (np.array([2, 0, 2]),), (slice(None), np.array([[1, 0], [3, 3]])), (np.array([0, 1]), slice(None), np.array([1, 1])),
    (np.array([True, False, True]),), (1, slice(1, 3), np.array([0, -1])), (Ellipsis, np.array([3, 0])),
    (slice(None), np.array([1, 2]), np.array([[0], [3]])), (None, 1, Ellipsis, 2)])
def test_getitem_and_scatter_add(be, key):
    a = sample((3, 4, 5), np.float64).transpose(0, 2, 1)        # shape (3, 5, 4), non-contiguous
    x = be.transpose(dev(be, np.ascontiguousarray(a.transpose(0, 2, 1))), (0, 2, 1))
    ref = a[key]
    close(be.getitem(x, key), ref)
    vals = RNG.normal(size=ref.shape)
    close(be.scatter_add(a.shape, key, dev(be, vals), np.float64), NP.scatter_add(a.shape, key, vals, np.float64),
          1e-12)


def test_getitem_with_device_indices_and_errors(be):
    a = sample((4, 3), np.float32)
    idx = dev(be, np.array([3, 3, 0]))
    close(be.getitem(dev(be, a), (idx,)), a[[3, 3, 0]])
    close(be.take(dev(be, a), idx, axis=0), np.take(a, [3, 3, 0], axis=0))
    close(be.getitem(dev(be, a), (dev(be, a > 0),)), a[a > 0])
    with pytest.raises(IndexError):
        be.getitem(dev(be, a), (dev(be, np.array([4])),))
    with pytest.raises(IndexError):
        be.getitem(dev(be, a), (7,))
    close(be.nonzero(dev(be, a > 0.5))[1], np.nonzero(a > 0.5)[1])


def test_along_axis(be):
    a = sample((3, 4), np.float32)
    idx = RNG.integers(0, 4, (3, 2))
    close(be.take_along_axis(dev(be, a), dev(be, idx), 1), np.take_along_axis(a, idx, 1))


def test_setitem(be):
    a = np.zeros((3, 4), np.float32)
    x = dev(be, a)
    be.setitem(x, (slice(None), 1), 5.0)
    be.setitem(x, (2,), dev(be, np.arange(4, dtype=np.float32)))
    a[:, 1] = 5.0
    a[2] = np.arange(4)
    close(x, a)


@pytest.mark.parametrize("key", [
    (slice(None, None, -1),), (1, slice(3, 0, -2)), (slice(None), slice(None, None, -2), np.array([0, 3])),
    (None, np.array([1, 0]), None, slice(None, None, -1)), (np.array([0, 1]), None, np.array([2, 0])),
    (np.array([0, 0, 1]), 1), (np.array([[True, False, True], [False, False, True]]),)])
def test_setitem_negative_steps_and_array_keys(be, key):
    a = sample((2, 3, 4), np.float64)
    ref = a.copy()
    v = RNG.normal(size=a[key].shape)
    ref[key] = v                                     # repeated indices: the last value wins, as in NumPy
    x = dev(be, a)
    be.setitem(x, key, dev(be, v))
    close(x, ref)
    close(be.getitem(dev(be, a), key), a[key])
    close(be.scatter_add(a.shape, key, dev(be, v), np.float64), NP.scatter_add(a.shape, key, v, np.float64), 1e-12)
    y = dev(be, a)
    be.setitem(y, key, 2.5)
    ref2 = a.copy()
    ref2[key] = 2.5
    close(y, ref2)


@pytest.mark.parametrize("eq,shapes", [
    ("ij,jk->ik", [(3, 4), (4, 2)]), ("ii->i", [(3, 3)]), ("ii->", [(2, 2)]), ("iij,j->ij", [(2, 2, 3), (3,)]),
    ("iji->j", [(3, 2, 3)]), ("ij->ji", [(2, 3)]), ("bi,bi->b", [(3, 2), (3, 2)]), ("i,j->ij", [(3,), (2,)]),
    ("ij,k->ik", [(2, 3), (4,)]), ("bij,bjk->bik", [(2, 3, 4), (1, 4, 2)]), ("ij,ik->jk", [(1, 3), (2, 1)]),
    ("ij,jk->", [(2, 0), (0, 3)])])
def test_einsum(be, eq, shapes):
    ops = [sample(s, np.float64) for s in shapes]
    close(be.einsum(eq, *[dev(be, o) for o in ops]), np.einsum(eq, *ops), 1e-12)
    if len(ops) == 1:
        close(be.einsum(eq, be.transpose(dev(be, np.ascontiguousarray(ops[0].T)), None)), np.einsum(eq, *ops), 1e-12)


def test_permutation(be):
    be.seed(4)
    for n in (0, 1, 2, 13, 33):
        p = be.permutation(n).get()
        assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(n))
    assert not np.array_equal(be.permutation(33).get(), be.permutation(33).get())
    be.seed(4)
    first = be.permutation(33).get()
    be.seed(4)
    assert np.array_equal(first, be.permutation(33).get())           # a seed fixes the permutation


def test_random(be):
    be.seed(3)
    u = be.rand((2000,), np.float32).get()
    be.seed(3)
    assert np.array_equal(u, be.rand((2000,), np.float32).get())     # a seed fixes the stream
    assert u.dtype == np.float32 and 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.03
    n = be.randn((2000,), np.float64).get()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    r = be.randint(-3, 4, (500,), np.int64).get()
    assert r.min() == -3 and r.max() == 3
    b = be.bernoulli(0.25, (2000,), np.float32).get()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.25) < 0.04
    assert not np.array_equal(be.rand((8,), np.float32).get(), be.rand((8,), np.float32).get())


def test_fused_optimizer_updates(be):
    p, g, buf = sample((7,), np.float32), sample((7,), np.float32), sample((7,), np.float32)
    P, G, BUF = dev(be, p), dev(be, g), dev(be, buf)
    be.sgd_update_(P, G, BUF, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=True)
    d = g + 0.01 * p
    b2 = 0.9 * buf + 0.9 * d
    close(BUF, b2.astype(np.float32), 1e-6)
    close(P, (p - 0.1 * (d + 0.9 * b2)).astype(np.float32), 1e-6)
    m, v = np.zeros(7, np.float32), np.zeros(7, np.float32)
    M_, V_ = dev(be, m), dev(be, v)
    P = dev(be, p)
    be.adam_update_(P, G, M_, V_, step=1, lr=0.01, weight_decay=0.1, decoupled=True)
    w = p * (1 - 0.01 * 0.1)
    m1, v1 = 0.1 * g, 0.001 * g * g
    close(P, (w - 0.01 / 0.1 * m1 / (np.sqrt(v1) / np.sqrt(0.001) + 1e-8)).astype(np.float32), 1e-5)


def test_unsupported_raise_naming_the_op(be):
    with pytest.raises(NotImplementedError, match="einsum"):
        be.einsum("ij,jk,kl->il", *[dev(be, np.ones((2, 2)))] * 3)     # tapegrad.einsum splits chains into pairs
    with pytest.raises(NotImplementedError, match="some_new_op"):
        be.some_new_op
