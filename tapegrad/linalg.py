"""``tapegrad.linalg``: PyTorch's ``torch.linalg`` (batched over leading dims, float32/float64).

Decompositions and matrix functions with gradients (ops/linalg_decomp.py),
their checks and result tuples (ops/linalg_funcs.py), and the composed
functions and norms (ops/linalg_extra.py).

Example:
    >>> import tapegrad
    >>> from tapegrad import linalg
    >>> A = tapegrad.tensor([[4.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> linalg.det(A).backward()
    >>> A.grad
    tensor([[ 3., -1.],
            [-1.,  4.]])
"""
from .ops.linalg import matmul
from .ops.linalg_decomp import LinAlgError
from .ops.linalg_funcs import (inv, inv_ex, det, slogdet, solve, cholesky, cholesky_ex, qr, svd, svdvals, eigh,
                               eigvalsh, matrix_exp, matrix_power)
from .ops.linalg_extra import (pinv, matrix_rank, lstsq, vector_norm, matrix_norm, norm, cross, vecdot, multi_dot,
                               diagonal)

__all__ = ["LinAlgError", "matmul", "inv", "inv_ex", "det", "slogdet", "solve", "cholesky", "cholesky_ex", "qr", "svd",
           "svdvals", "eigh", "eigvalsh", "matrix_exp", "matrix_power", "pinv", "matrix_rank", "lstsq", "vector_norm",
           "matrix_norm", "norm", "cross", "vecdot", "multi_dot", "diagonal"]
