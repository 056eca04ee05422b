"""Linear-algebra behaviour beyond the harness: frozen operands, errors, double backward, torch parity."""
import numpy as np
import pytest

import tapegrad


def _rand(*shape):
    return tapegrad.tensor(np.random.default_rng(len(shape)).standard_normal(shape))


@pytest.mark.parametrize("sa,sb", [((3,), (2, 3, 4)), ((2, 1, 3, 4), (5, 4, 2)), ((5, 3, 4), (4,)), ((3,), (3,))])
def test_matmul_with_a_frozen_operand(sa, sb):
    a = _rand(*sa).requires_grad_()
    b = _rand(*sb)
    w = _rand(*np.broadcast_shapes(np.matmul(np.zeros(sa), np.zeros(sb)).shape))
    (a @ b * w).sum().backward()
    a2, b2 = a.detach().requires_grad_(), b.detach().requires_grad_()
    (a2 @ b2 * w).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), a2.grad.numpy())
    assert a.grad.shape == a.shape
    assert b.grad is None and not b.requires_grad


def test_matmul_vjp_skips_the_frozen_operand(monkeypatch):
    from tapegrad.backend import CPU_BACKEND
    calls = []
    orig = CPU_BACKEND.matmul
    monkeypatch.setattr(CPU_BACKEND, "matmul", lambda x, y: calls.append(1) or orig(x, y))
    a = _rand(2, 3).requires_grad_()
    (a @ _rand(3, 4)).sum().backward()
    assert len(calls) == 2          # the forward and one product for a's gradient


@pytest.mark.parametrize("fn,args,match", [
    (tapegrad.mm, ((2, 3, 1), (1, 2)), "mm: expected 2-D"),
    (tapegrad.mm, ((2, 3), (4, 5)), r"cannot be multiplied \(2x3 and 4x5\)"),
    (tapegrad.bmm, ((2, 2, 3), (3, 3, 4)), "bmm"),
    (tapegrad.bmm, ((2, 3), (3, 4)), r"bmm: batch1 must be a 3D tensor, got shape \(2, 3\)"),
    (tapegrad.dot, ((2,), (3,)), "inconsistent tensor size"),
    (tapegrad.dot, ((2, 2), (2,)), "1D tensors expected"),
    (tapegrad.outer, ((2, 2), (2,)), "1D tensors expected"),
    (tapegrad.matmul, ((), (2,)), "at least 1 dimension"),
    (tapegrad.matmul, ((2, 3), (4, 5)), "matmul"),
])
def test_shape_errors_name_the_op(fn, args, match):
    with pytest.raises((RuntimeError, ValueError), match=match):
        fn(*[tapegrad.zeros(*s) for s in args])


def test_dot_requires_one_dtype():
    with pytest.raises(RuntimeError, match="same dtype"):
        tapegrad.dot(tapegrad.ones(2), tapegrad.ones(2, dtype=tapegrad.float64))


@pytest.mark.parametrize("eq,shapes,match", [
    ("ij,jk->ik", [(2, 3)], "names 2 operands"),
    ("ij->ik", [(2, 3)], "appear in no input"),
    ("ij,jk->ik", [(2, 3), (4, 5)], "subscript 'j' has size"),
    ("ijk->i", [(2, 3)], "do not match"),
    ("i1->i", [(2, 3)], "invalid subscript"),
    ("ij->ii", [(2, 3)], "repeats"),
])
def test_einsum_errors(eq, shapes, match):
    with pytest.raises((ValueError, RuntimeError), match=match):
        tapegrad.einsum(eq, *[tapegrad.zeros(*s) for s in shapes])


def test_einsum_trace_double_backward():
    x = _rand(3, 3).requires_grad_()
    g, = tapegrad.autograd.grad((tapegrad.einsum("ii->i", x) ** 3).sum(), [x], create_graph=True)
    h, = tapegrad.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(h.numpy(), np.diag(6 * np.diag(x.detach().numpy())), rtol=1e-12)


def test_einsum_keeps_float32_and_is_public():
    assert tapegrad.einsum("ij->j", tapegrad.ones(2, 3)).dtype is tapegrad.float32
    assert tapegrad.ones(2, 3).mm(tapegrad.ones(3, 1)).shape == (2, 1)


@pytest.mark.parametrize("eq,shapes", [("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ii->", [(3, 3)]),
                                       ("...ij,...jk", [(1, 2, 3), (4, 3, 2)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
                                       ("iij,j->ij", [(3, 3, 2), (2,)])])
def test_einsum_matches_torch(eq, shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(s) for s in shapes]
    ts = [tapegrad.tensor(a, requires_grad=True) for a in arrs]
    rs = [torch.tensor(a, requires_grad=True) for a in arrs]
    out, ref = tapegrad.einsum(eq, *ts), torch.einsum(eq, *rs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    (out ** 2).sum().backward()
    (ref ** 2).sum().backward()
    for t, r in zip(ts, rs):
        np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), rtol=1e-12, atol=1e-12)


# (op, shape of the first operand, shape of the second): shapes that do not fit, in every layout
_MISMATCHES = [("matmul", (2, 3), (4, 5)), ("@", (2, 3), (4, 5)), ("mm", (2, 3), (4, 5)),
               ("matmul", (3,), (4,)), ("matmul", (3,), (4, 5)), ("matmul", (2, 3), (4,)),
               ("matmul", (6, 2, 3), (4, 5)), ("matmul", (6, 2, 3), (4,)), ("matmul", (1, 2, 3), (4, 5)),
               ("matmul", (6, 2, 3), (6, 4, 5)), ("@", (3,), (6, 4, 5)), ("matmul", (2, 3), (6, 4, 5)),
               ("matmul", (2, 1, 2, 3), (3, 4, 5)), ("matmul", (2, 2, 3), (2, 1, 4, 5)),
               ("matmul", (6, 2, 3), (5, 3, 5)), ("matmul", (2, 6, 2, 3), (5, 3, 5)),
               ("matmul", (0, 2, 3), (4, 5)), ("matmul", (2, 3), (3, 0, 4, 5)),
               ("bmm", (2, 2, 3), (2, 4, 5)), ("bmm", (2, 2, 3), (3, 3, 5)), ("dot", (3,), (4,)),
               ("linear", (2, 3), (5, 4)), ("linear", (3,), (5, 4)), ("linear", (6, 2, 3), (5, 4)),
               ("Linear", (2, 3), (5, 4))]


def _mismatch_message(lib, opname, sa, sb, device="cpu"):
    a, b = lib.ones(sa, device=device), lib.ones(sb, device=device)
    call = {"@": lambda: a @ b, "linear": lambda: lib.nn.functional.linear(a, b),
            "Linear": lambda: lib.nn.functional.linear(a, b)}.get(opname) or (lambda: getattr(lib, opname)(a, b))
    try:
        call()
    except RuntimeError as e:
        return str(e)
    raise AssertionError(f"{opname}{sa}, {sb} did not raise")


@pytest.mark.parametrize("opname,sa,sb", _MISMATCHES)
def test_shape_mismatch_messages_are_pytorchs(opname, sa, sb):
    """PyTorch's wording (no NumPy gufunc jargon), prefixed with the op's name once."""
    torch = pytest.importorskip("torch")
    want = _mismatch_message(torch, opname, sa, sb)
    got = _mismatch_message(tapegrad, opname, sa, sb)
    name = {"@": "matmul", "Linear": "linear"}.get(opname, opname)
    assert got == f"{name}: {want}"
    assert "gufunc" not in got and got.count(name) == 1 + want.count(name)


def test_shape_mismatch_messages_on_cuda_match_the_cpu():
    """The check runs on shapes before any kernel: the same messages on CUDA (numba's simulator here)."""
    from simulated import json_from_simulated_cuda
    want = [_mismatch_message(tapegrad, *c) for c in _MISMATCHES if c[0] != "Linear"]
    got = json_from_simulated_cuda("[_mismatch_message(tapegrad, *c, device='cuda') for c in _MISMATCHES "
                                   "if c[0] != 'Linear']",
                                   "import tapegrad; from test_linalg_semantics import _MISMATCHES, _mismatch_message")
    assert got == want
