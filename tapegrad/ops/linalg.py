"""Linear algebra: matmul (1-D, 2-D, batched N-D with broadcasting), mm, bmm, dot, outer, einsum."""
import math

from .registry import op, apply
from .graph_math import backend_array, lift
from . import _jvp


@op("matmul", save=("a", "b"), tensors=2)
def matmul_op(be, a, b):
    return be.matmul(a, b)


@matmul_op.vjp
def _(F, ctx, g, a, b):
    n = ctx.needs
    a_nd, b_nd = a.ndim, b.ndim
    # Promote 1-D operands to matrices so one formula covers every case.
    if a_nd == 1:
        a = F.reshape(a, (1,) + a.shape)
        g = F.reshape(g, g.shape[:-1] + (1, g.shape[-1])) if b_nd > 1 else F.reshape(g, (1,) + g.shape)
    if b_nd == 1:
        b = F.reshape(b, b.shape + (1,))
        g = F.reshape(g, g.shape + (1,))
    ga = gb = None
    if n[0]:
        ga = F.matmul(g, _mT(F, b))
        if a_nd == 1:
            ga = F.reshape(ga, ga.shape[:-2] + ga.shape[-1:])
    if n[1]:
        gb = F.matmul(_mT(F, a), g)
        if b_nd == 1:
            gb = F.reshape(gb, gb.shape[:-1])
    return ga, gb


matmul_op.jvp(_jvp.multilinear(matmul_op))


def _mT(F, x):
    nd = x.ndim
    return F.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def matmul(input, other):
    """Matrix product with NumPy/PyTorch semantics (1-D, 2-D, batched and broadcast).

    Example:
        >>> import tapegrad
        >>> a = tapegrad.ones(2, 3); b = tapegrad.ones(3, 4)
        >>> tapegrad.matmul(a, b).shape
        tapegrad.Size([2, 4])
    """
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{tuple(input.shape)} and {tuple(other.shape)}")
    msg = _matmul_mismatch(tuple(input.shape), tuple(other.shape))
    if msg:
        raise RuntimeError(f"matmul: {msg}")
    return apply(matmul_op, input, other)


def _mat_mismatch(rows, k, k2, m):
    return f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {k2}x{m})"


def _matmul_mismatch(a, b):
    """PyTorch's wording for a matmul of shapes ``a`` and ``b`` that do not fit, or None.

    Like PyTorch, an N-D first operand times a 1-D/2-D second one is folded into one
    matrix (so the message counts its rows), and otherwise the batch dims broadcast
    first and the product is a batched one.
    """
    k = a[-1]
    k2 = b[0] if len(b) == 1 else b[-2]
    if len(b) <= 2 and k == k2:
        return None
    if len(a) == 1 and len(b) == 1:
        return (f"inconsistent tensor size, expected tensor [{k}] and src [{k2}] to have the same number of "
                f"elements, but got {k} and {k2} elements respectively")
    if len(b) == 1:
        rows = math.prod(a[:-1])
        return f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({k2})"
    if len(b) == 2:
        return _mat_mismatch(math.prod(a[:-1]), k, k2, b[1])
    ba, bb = a[:-2], b[:-2]
    nd = max(len(ba), len(bb))
    ba, bb = (1,) * (nd - len(ba)) + ba, (1,) * (nd - len(bb)) + bb
    for i, (x, y) in enumerate(zip(ba, bb)):
        if x != y and x != 1 and y != 1:
            return f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton dimension {i}"
    if k == k2:
        return None
    batch = math.prod(max(x, y) if x and y else 0 for x, y in zip(ba, bb))
    return f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k}] but got: [{batch}, {k2}]."




def _shape(t):
    return tuple(t.shape)


def mm(input, mat2):
    """Matrix product of two 2-D tensors (no broadcasting; see ``matmul``).

    Example:
        >>> import tapegrad
        >>> tapegrad.mm(tapegrad.ones(2, 3), tapegrad.ones(3, 1))
        tensor([[3.],
                [3.]])
    """
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {_shape(input)} and {_shape(mat2)}; "
                           "use matmul for batched or 1-D operands")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x{input.shape[1]} "
                           f"and {mat2.shape[0]}x{mat2.shape[1]})")
    return apply(matmul_op, input, mat2)


def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors with the same batch size (no broadcasting).

    Example:
        >>> import tapegrad
        >>> tapegrad.bmm(tapegrad.ones(4, 2, 3), tapegrad.ones(4, 3, 5)).shape
        tapegrad.Size([4, 2, 5])
    """
    for name, t in (("batch1", input), ("batch2", mat2)):
        if t.ndim != 3:
            raise RuntimeError(f"bmm: {name} must be a 3D tensor, got shape {_shape(t)}")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"bmm: Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    return apply(matmul_op, input, mat2)


def dot(input, other):
    """Inner product of two 1-D tensors of the same size and dtype.

    Example:
        >>> import tapegrad
        >>> tapegrad.dot(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([3.0, 4.0]))
        tensor(11.)
    """
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got shapes {_shape(input)} and {_shape(other)}")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError("dot: " + _matmul_mismatch(_shape(input), _shape(other)))
    if input.dtype is not other.dtype:
        raise RuntimeError(f"dot: expected both vectors to have same dtype, but found {input.dtype} and "
                           f"{other.dtype}")
    return apply(matmul_op, input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``.

    Example:
        >>> import tapegrad
        >>> tapegrad.outer(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([1.0, 10.0]))
        tensor([[ 1., 10.],
                [ 2., 20.]])
    """
    from .shape import reshape_op
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: 1D tensors expected, but got shapes {_shape(input)} and {_shape(vec2)}")
    return apply(reshape_op, input, shape=(input.shape[0], 1)) * vec2


# ----------------------------------------------------------------- einsum
# One primitive contracts one or two operands; einsum over more operands is a
# left-to-right chain of pairwise contractions, so every VJP is again an einsum
# of at most two operands (and grad-of-grad stays inside the same op).

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


# bind: the backend's einsum(equation, *operands) takes the equation first.
@op("einsum", save=("a", "b"), tensors=2, bind=lambda equation, a, b=None: ((a, b), {"equation": equation}))
def einsum_op(be, a, b, equation):
    return be.einsum(equation, a) if b is None else be.einsum(equation, a, b)


@einsum_op.vjp
def _(F, ctx, g, a, b, equation):
    lhs, rhs = equation.split("->")
    terms = lhs.split(",")
    ops = (a,) if len(terms) == 1 else (a, b)     # under create_graph a saved None arrives wrapped
    grads = []
    for i, (term, x) in enumerate(zip(terms, ops)):
        if not ctx.needs[i]:
            grads.append(None)
            continue
        other = [(terms[j], ops[j]) for j in range(len(ops)) if j != i]
        uniq = "".join(dict.fromkeys(term))
        avail = set(rhs).union(*[set(t) for t, _ in other])
        keep = "".join(c for c in uniq if c in avail)
        eq = ",".join([rhs] + [t for t, _ in other]) + "->" + keep
        gi = F.einsum(eq, g, *[o for _, o in other])
        size = {c: x.shape[term.index(c)] for c in uniq}
        if len(keep) < len(uniq):
            # Letters summed away in the forward: their gradient is broadcast back.
            gi = F.reshape(gi, shape=tuple(gi.shape[keep.index(c)] if c in keep else 1 for c in uniq))
            gi = F.broadcast_to(gi, shape=tuple(gi.shape[k] if c in keep else size[c] for k, c in enumerate(uniq)))
        if len(uniq) < len(term):
            gi = _to_diagonal(F, g, gi, term, uniq)
        grads.append(gi)
    return tuple(grads)


einsum_op.jvp(_jvp.multilinear(einsum_op))


def _to_diagonal(F, g, gi, term, uniq):
    """Place the gradient over unique letters onto the diagonal a repeated letter (``'ii'``) reads."""
    first = {}
    for p, c in enumerate(term):
        first.setdefault(c, p)
    gi = F.reshape(gi, shape=tuple(gi.shape[uniq.index(c)] if first[c] == p else 1 for p, c in enumerate(term)))
    be, arr = backend_array(gi)
    dt = arr.dtype
    mask = None
    for p, c in enumerate(term):
        q = first[c]
        if q != p:
            n = gi.shape[q]
            eye = be.reshape(be.eye(n, n, dt), tuple(n if k in (q, p) else 1 for k in range(len(term))))
            mask = eye if mask is None else mask * eye
    return gi * lift(F, mask, like=gi)


def _parse(equation, shapes):
    """Expand ``...`` and the implicit output: return (terms, rhs) with one letter per dimension."""
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise ValueError(f"einsum: equation {equation!r} has more than one '->'")
    lhs, rhs = eq.split("->") if "->" in eq else (eq, None)
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} names {len(terms)} operands but {len(shapes)} were given")
    used = set(c for c in eq if c.isalpha())
    bad = set(c for c in eq if not c.isalpha() and c not in ",->.")
    if bad or any(c not in _LETTERS for c in used):
        raise ValueError(f"einsum: invalid subscript(s) {sorted(bad or used - set(_LETTERS))} in {equation!r}; "
                         "use letters a-z, A-Z and '...'")
    free = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for t, s in zip(terms, shapes):
        if "..." in t:
            n_ell = max(n_ell, len(s) - (len(t) - 3))
    ell = "".join(free[:n_ell])
    out_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            if k < 0 or t.count("...") > 1:
                raise ValueError(f"einsum: subscripts {t!r} do not fit an operand of shape {tuple(s)}")
            t = t.replace("...", ell[n_ell - k:])
        if "." in t or len(t) != len(s):
            raise ValueError(f"einsum: subscripts {t!r} do not match an operand of shape {tuple(s)} "
                             f"({len(s)} dimensions)")
        out_terms.append(t)
    if rhs is None:
        counts = {}
        for t in out_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted((c for c, n in counts.items() if n == 1 and c not in ell),
                                   key=_LETTERS.index))
    else:
        if "." in rhs.replace("...", "") or rhs.count("...") > 1:
            raise ValueError(f"einsum: invalid output subscripts {rhs!r}")
        rhs = rhs.replace("...", ell)
        if len(set(rhs)) != len(rhs):
            raise ValueError(f"einsum: output subscript {rhs!r} repeats a letter")
        missing = set(rhs) - set("".join(out_terms))
        if missing:
            raise ValueError(f"einsum: output subscript(s) {sorted(missing)} appear in no input of {equation!r}")
    sizes = {}
    for t, s in zip(out_terms, shapes):
        for c, n in zip(t, s):
            m = sizes.get(c, 1)
            if n != 1 and m != 1 and n != m:
                raise RuntimeError(f"einsum: subscript {c!r} has size {n} in one operand and {m} in another "
                                   f"(shapes {[tuple(x) for x in shapes]}, equation {equation!r})")
            sizes[c] = max(n, m) if n == 1 or m == 1 else n
    return out_terms, rhs


def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum('ij,jk->ik', a, b)``; traces (``'ii->'``) and ``...`` work.

    Args:
        equation: subscripts per operand, comma separated, with an optional
            ``->`` output (implicit output: the letters used once, sorted).
        operands: the tensors (or one list of them).

    Example:
        >>> import tapegrad
        >>> a = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> tapegrad.einsum('ii->', a)
        tensor(5.)
        >>> tapegrad.einsum('ij,j->i', a, tapegrad.ones(2))
        tensor([3., 7.])
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: at least one operand is required")
    from .._tensor import Tensor
    operands = [o if isinstance(o, Tensor) else Tensor._coerce(o) for o in operands]
    terms, rhs = _parse(equation, [tuple(o.shape) for o in operands])
    if len(operands) == 1:
        return apply(einsum_op, operands[0], None, equation=f"{terms[0]}->{rhs}")
    acc, acc_t = operands[0], terms[0]
    for i in range(1, len(operands)):
        if i == len(operands) - 1:
            out = rhs
        else:
            later = set(rhs).union(*[set(t) for t in terms[i + 1:]])
            out = "".join(c for c in dict.fromkeys(acc_t + terms[i]) if c in later)
        acc = apply(einsum_op, acc, operands[i], equation=f"{acc_t},{terms[i]}->{out}")
        acc_t = out
    return acc


# ----------------------------------------------------------------- linear (a speed primitive)
# Note [linear primitive]: ``x @ W.T + b`` composed of transpose, matmul and add
# records three nodes; one node with one VJP halves the per-layer overhead of
# small MLPs. The composition is what the gradient harness checks it against.
# Note [linear folds batch dims]: an input (*, in) with several batch dims
# (a transformer's (N, T, in)) is multiplied as one (prod(*), in) matrix, and
# so is its gradient: NumPy's matmul would run one small GEMM per leading index
# (1024x128 @ 128x384: 1.5 ms folded, 2.4 ms batched on one core).

@op("linear", save=("x", "w"), tensors=3)
def linear_op(be, x, w, b=None):
    if x.ndim > 2:                  # Note [linear folds batch dims]
        lead = x.shape[:-1]
        out = be.reshape(be.matmul(be.reshape(x, (math.prod(lead), x.shape[-1])), be.transpose(w, (1, 0))),
                         lead + (w.shape[0],))
    else:
        out = be.matmul(x, be.transpose(w, (1, 0)))
    if b is not None:
        out += b                # in place: the matmul result is fresh, so one output allocation, not two
    return out


@linear_op.vjp
def _(F, ctx, g, x, w):
    n = ctx.needs
    gx = gw = gb = None
    if n[0]:
        if g.ndim > 2:
            rows = math.prod(g.shape[:-1])
            gx = F.reshape(F.matmul(F.reshape(g, shape=(rows, g.shape[-1])), w), shape=g.shape[:-1] + (w.shape[1],))
        else:
            gx = F.matmul(g, w)
    if n[1]:
        if g.ndim == 2:
            gw = F.matmul(F.transpose(g, axes=(1, 0)), x)
        else:                       # batched input (*, in): fold the batch dims
            rows = math.prod(g.shape[:-1])         # explicit: -1 is ambiguous for empty batches
            g2 = F.reshape(g, shape=(rows, g.shape[-1]))
            gw = F.matmul(F.transpose(g2, axes=(1, 0)), F.reshape(x, shape=(rows, x.shape[-1])))
    if len(n) < 3:                  # no bias given
        return gx, gw
    if n[2]:
        # A fresh (out,) array, so the engine neither reshapes a view nor copies it into .grad;
        # a 0-d bias still goes through sum_to.
        gb = F.sum(g, axis=tuple(range(g.ndim - 1))) if g.ndim > 1 else g
    return gx, gw, gb


linear_op.jvp(_jvp.affine(linear_op))


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: the affine map of ``nn.Linear``, as one recorded op.

    Args:
        input: ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: ``(out_features,)`` or None.

    Example:
        >>> import tapegrad
        >>> F = tapegrad.nn.functional
        >>> F.linear(tapegrad.ones(2, 3), tapegrad.ones(4, 3), tapegrad.zeros(4)).shape
        tapegrad.Size([2, 4])
    """
    if weight.ndim == 2 and input.ndim >= 1 and input.shape[-1] != weight.shape[1]:
        raise RuntimeError("linear: " + _mat_mismatch(math.prod(input.shape[:-1]), input.shape[-1],
                                                      weight.shape[1], weight.shape[0]))
    if weight.ndim != 2 or input.ndim < 1:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} cannot be multiplied by a weight of shape "
                           f"{tuple(weight.shape)} (expected input (*, {weight.shape[-1] if weight.ndim else '?'}) "
                           "and a 2-D weight (out_features, in_features))")
    if bias is None:
        return apply(linear_op, input, weight)
    if bias.ndim > 1 or (bias.ndim == 1 and bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"linear: bias of shape {tuple(bias.shape)} does not match out_features="
                           f"{weight.shape[0]}")
    return apply(linear_op, input, weight, bias)


__all__ = ["matmul", "mm", "bmm", "dot", "outer", "einsum"]
METHODS = {n: globals()[n] for n in __all__ if n != "einsum"}
