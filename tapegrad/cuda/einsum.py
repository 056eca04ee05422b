"""``einsum`` on CudaArray for one or two operands, composed of views, sums and one batched matmul.

The einsum op (ops/linalg.py) hands the backend normalized equations: explicit
letters (``...`` expanded), an explicit ``->`` and at most two operands, so a
chain of three is already split into pairs. Here:

1. a letter repeated within one operand (``'ii'``) reads a diagonal: a view
   whose stride is the sum of the repeated dims' strides (no copy);
2. letters of one operand that neither the output nor the other operand uses
   are summed away first;
3. with two operands, every letter is batch (both operands and the output),
   contracted (both, not the output) or free (one operand and the output);
   size-1 dims broadcast against the other operand as views. The operands
   become ``(batch, M, K)`` and ``(batch, K, N)`` and one batched matmul
   contracts them; the result is reshaped and transposed to the output order.
"""
import numpy as np

from .kernels import elementwise as E
from .kernels import matmul as MM
from .kernels import movement as M
from .kernels import reduce as RD


def _prod(xs):
    n = 1
    for x in xs:
        n *= x
    return n


def _diagonal(x, term):
    """``x`` viewed with one dim per distinct letter of ``term``, repeated letters read on the diagonal."""
    letters = "".join(dict.fromkeys(term))
    if len(letters) == len(term):
        return x, term
    shape, st = [], []
    for c in letters:
        dims = [d for d, t in enumerate(term) if t == c]
        n = x.shape[dims[0]]
        if any(x.shape[d] != n for d in dims):
            raise ValueError(f"einsum: subscript {c!r} is repeated in {term!r} over dims of different sizes "
                             f"{[x.shape[d] for d in dims]}")
        shape.append(n)
        st.append(sum(x.st[d] for d in dims))
    return x._view(tuple(shape), tuple(st)), letters


def _sum_unused(x, term, keep):
    """Sum away the letters of ``term`` not in ``keep``."""
    axes = tuple(d for d, c in enumerate(term) if c not in keep)
    if not axes:
        return x, term
    return RD.reduce("sum", x, axes, False), "".join(c for c in term if c in keep)


def _permute(x, term, order):
    return M.transpose(x, tuple(term.index(c) for c in order)) if term != order else x


def _broadcast(x, term, letters, sizes):
    """``x`` (letters ``term``) as a view over ``letters`` in that order, size-1 and missing dims broadcast."""
    x = _permute(x, term, "".join(c for c in letters if c in term))
    shape = []
    k = 0
    for c in letters:
        if c in term:
            shape.append(x.shape[k])
            k += 1
        else:
            shape.append(1)
    st = iter(x.st)
    x = x._view(tuple(shape), tuple(next(st) if c in term else 0 for c in letters))
    return M.broadcast_to(x, tuple(sizes[c] for c in letters))


def einsum(equation, *operands):
    """NumPy's ``einsum`` for one or two operands with explicit output subscripts."""
    eq = equation.replace(" ", "")
    if "->" not in eq or "." in eq or not 1 <= len(operands) <= 2:
        raise NotImplementedError(f"einsum: the CUDA backend takes one or two operands with explicit letters and "
                                  f"'->' (tapegrad.einsum normalizes equations to that form); got {equation!r} "
                                  f"with {len(operands)} operand(s)")
    lhs, rhs = eq.split("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: equation {equation!r} names {len(terms)} operands but {len(operands)} were given")
    xs = []
    for x, t in zip(operands, terms):
        if len(t) != x.ndim:
            raise ValueError(f"einsum: subscripts {t!r} do not match an operand of shape {x.shape}")
        xs.append(_diagonal(x, t))
    if len(xs) == 1:
        (x, t), = xs
        y, t = _sum_unused(x, t, rhs)
        # A copy whenever the result would still share memory with the operand, as an op's output must.
        return E.copy(_permute(y, t, rhs)) if y is x or y.base is not None or t != rhs else y
    (a, ta), (b, tb) = xs
    a, ta = _sum_unused(a, ta, rhs + tb)
    b, tb = _sum_unused(b, tb, rhs + ta)
    sizes = {}
    for x, t in ((a, ta), (b, tb)):
        for c, n in zip(t, x.shape):
            m = sizes.get(c, 1)
            if n != 1 and m != 1 and n != m:
                raise ValueError(f"einsum: subscript {c!r} has sizes {m} and {n} in {equation!r}")
            sizes[c] = max(n, m) if min(n, m) == 1 else n
    batch = "".join(c for c in rhs if c in ta and c in tb)
    contr = "".join(c for c in ta if c in tb and c not in rhs)
    free_a = "".join(c for c in rhs if c in ta and c not in tb)
    free_b = "".join(c for c in rhs if c in tb and c not in ta)
    dtype = np.result_type(a.dtype, b.dtype)
    a = _broadcast(E.astype(a, dtype), ta, batch + free_a + contr, sizes)
    b = _broadcast(E.astype(b, dtype), tb, batch + contr + free_b, sizes)
    nb, m, k, n = (_prod(sizes[c] for c in s) for s in (batch, free_a, contr, free_b))
    out = MM.matmul(M.reshape(a, (nb, m, k)), M.reshape(b, (nb, k, n)))
    out = M.reshape(out, tuple(sizes[c] for c in batch + free_a + free_b))
    return _permute(out, batch + free_a + free_b, rhs)
