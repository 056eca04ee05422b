"""OpSpecs for tapegrad/ops/linalg.py: matmul (1-D, 2-D, batched, broadcast), mm, bmm, dot, outer, einsum."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad

from . import Example, OpSpec, add
from .elementwise import named, same

# size-0 and size-1 dims, 1-D operands on either side, a broadcast batch
_MATMUL_EXAMPLES = (Example([np.zeros((2, 0)), np.zeros((0, 3))]), Example([np.zeros((0, 2)), np.ones((2, 3))]),
                    Example([[[1.5]], [[-2.0]]]), Example([[1.0, 2.0], [3.0, -1.0]]),
                    Example([[1.0, 2.0], [[3.0], [-1.0]]]), Example([[[1.0, 2.0]], [0.5, 3.0]]),
                    Example([np.arange(6.0).reshape(3, 1, 2) / 5, np.arange(4.0).reshape(2, 2) - 1]))


class Shapes(tuple):
    """Input shapes that also carry the einsum equation drawn with them."""
    equation = None


side = st.integers(0, 3)
batch = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1, max_side=3)


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(side), draw(side), draw(side)
    bs = draw(batch).input_shapes
    a = (k,) if draw(st.integers(0, 3)) == 0 else bs[0] + (n, k)
    b = (k,) if draw(st.integers(0, 3)) == 0 else bs[1] + (k, m)
    return a, b


add(OpSpec("matmul", lambda a, b: tapegrad.matmul(a, b), np.matmul, matmul_shapes(), covers=("matmul",),
           fwd_rtol=1e-4, fwd_atol=1e-5, examples=_MATMUL_EXAMPLES, torch_fn=named("matmul")))
add(OpSpec("matmul_operator", lambda a, b: a @ b, np.matmul, matmul_shapes(), covers=("matmul",),
           fwd_rtol=1e-4, fwd_atol=1e-5, torch_fn=same(lambda a, b: a @ b)))
add(OpSpec("mm", lambda a, b: a.mm(b), np.matmul,
           st.tuples(side, side, side).map(lambda s: ((s[0], s[1]), (s[1], s[2]))), covers=("matmul",),
           fwd_rtol=1e-4, fwd_atol=1e-5, torch_fn=same(lambda a, b: a.mm(b))))
add(OpSpec("bmm", lambda a, b: tapegrad.bmm(a, b), np.matmul,
           st.tuples(side, side, side, side).map(lambda s: ((s[3], s[0], s[1]), (s[3], s[1], s[2]))),
           covers=("matmul",), fwd_rtol=1e-4, fwd_atol=1e-5, torch_fn=named("bmm")))
add(OpSpec("dot", lambda a, b: a.dot(b), np.dot, st.integers(0, 5).map(lambda n: ((n,), (n,))), covers=("matmul",),
           fwd_rtol=1e-4, fwd_atol=1e-5, torch_fn=same(lambda a, b: a.dot(b))))
add(OpSpec("outer", lambda a, b: tapegrad.outer(a, b), np.outer,
           st.tuples(st.integers(0, 4), st.integers(0, 4)).map(lambda s: ((s[0],), (s[1],))),
           covers=("reshape", "multiply"), torch_fn=named("outer")))

# Equations: matrix products, traces and diagonals (repeated letters), broadcasting
# ellipses, implicit outputs, summed-away letters and chains of three operands.
EQUATIONS = ["ij,jk->ik", "ij,jk", "bij,bjk->bik", "ii->i", "ii->", "ii", "iij,j->ij", "iji->j", "ij->ji",
             "ij->", "i,j->ij", "ij,k->ik", "bi,bi->b", "...ij,...jk->...ik", "...i->...", "i...->...",
             "ij,jk,kl->il", "i,i,i->", "ab,bc,ca->"]


@st.composite
def einsum_shapes(draw):
    eq = draw(st.sampled_from(EQUATIONS))
    lhs = eq.split("->")[0]
    size = {c: draw(st.integers(1, 3)) for c in sorted(set(lhs) - set(",."))}
    n_ell = draw(st.integers(0, 2))
    ell = tuple(draw(st.integers(1, 3)) for _ in range(n_ell))
    shapes = []
    for term in lhs.split(","):
        if "..." in term:
            k = draw(st.integers(0, n_ell))
            e = tuple(1 if draw(st.booleans()) else s for s in ell[n_ell - k:])   # size-1 dims broadcast
            pre, post = term.split("...")
            shapes.append(tuple(size[c] for c in pre) + e + tuple(size[c] for c in post))
        else:
            shapes.append(tuple(size[c] for c in term))
    s = Shapes(shapes)
    s.equation = eq
    return s


add(OpSpec("einsum", lambda *xs, equation: tapegrad.einsum(equation, *xs),
           lambda *xs, equation: np.asarray(np.einsum(equation, *xs)), einsum_shapes(),
           lambda s: st.just({"equation": s.equation}), covers=("einsum",), fwd_rtol=1e-4, fwd_atol=1e-5,
           torch_fn=lambda torch, *xs, equation: torch.einsum(equation, *xs)))
add(OpSpec("einsum_list", lambda *xs, equation: tapegrad.einsum(equation, list(xs)),
           lambda *xs, equation: np.asarray(np.einsum(equation, *xs)), einsum_shapes(),
           lambda s: st.just({"equation": s.equation}), covers=("einsum",), fwd_rtol=1e-4, fwd_atol=1e-5,
           torch_fn=lambda torch, *xs, equation: torch.einsum(equation, list(xs))))


# linear: x (*, in) @ W.T + b, with and without bias (Note [linear primitive]).
@st.composite
def linear_shapes(draw, bias=True):
    batch_dims = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    i, o = draw(side), draw(side)
    x = batch_dims + (i,) if batch_dims or draw(st.booleans()) else (i,)
    return (x, (o, i), (o,)) if bias else (x, (o, i))


add(OpSpec("linear", lambda x, w, b: tapegrad.nn.functional.linear(x, w, b),
           lambda x, w, b: np.matmul(x, w.T) + b, linear_shapes(), covers=("linear",),
           fwd_rtol=1e-4, fwd_atol=1e-5, torch_fn=lambda torch, x, w, b: torch.nn.functional.linear(x, w, b)))
add(OpSpec("linear_nobias", lambda x, w: tapegrad.nn.functional.linear(x, w),
           lambda x, w: np.matmul(x, w.T), linear_shapes(bias=False), covers=("linear",),
           fwd_rtol=1e-4, fwd_atol=1e-5, torch_fn=lambda torch, x, w: torch.nn.functional.linear(x, w)))
