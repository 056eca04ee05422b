"""Products and rearrangements composed of existing ops: ``ger inner kron tensordot cross cdist roll rot90
fliplr flipud meshgrid cartesian_prod combinations``.

Each is composed of recorded ops (reshape, transpose, narrow, cat, flip,
matmul, index_select, norm), so its gradient at every order is theirs and
it runs on every device those ops run on.
"""
import itertools
import warnings

from .. import _creation
from .. import _dtype as D
from ._dims import wrap_dim
from . import joining as J
from . import linalg as L
from . import indexing as X

__all__ = ["ger", "inner", "kron", "tensordot", "cross", "cdist", "roll", "rot90", "fliplr", "flipud",
           "meshgrid", "cartesian_prod", "combinations"]

def ger(input, vec2):
    """The outer product of two 1-D tensors (the old name of ``outer``).

    Example:
        >>> import tapegrad
        >>> tapegrad.ger(tapegrad.tensor([1, 2]), tapegrad.tensor([3, 4]))
        tensor([[3, 4],
                [6, 8]])
    """
    return L.outer(input, vec2)


def tensordot(a, b, dims=2):
    """Contract ``a``'s and ``b``'s dims: the last ``dims`` of ``a`` with the first of ``b``, or two lists.

    Example:
        >>> import tapegrad
        >>> tapegrad.tensordot(tapegrad.ones(2, 3), tapegrad.ones(3, 4), dims=1).shape
        tapegrad.Size([2, 4])
        >>> tapegrad.tensordot(tapegrad.ones(2, 3), tapegrad.ones(3, 2), dims=([0, 1], [1, 0]))
        tensor(6.)
    """
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims} for shapes "
                               f"{tuple(a.shape)} and {tuple(b.shape)}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError(f"tensordot: dims must be an int or a pair of lists of dims, got {dims!r}")
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, got {da} and {db}")
        da = [wrap_dim(d, a.ndim, "tensordot") for d in da]
        db = [wrap_dim(d, b.ndim, "tensordot") for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    left = a.permute(*(fa + da)).reshape(-1, k)
    right = b.permute(*(db + fb)).reshape(k, -1)
    return L.matmul(left, right).reshape(tuple(a.shape[d] for d in fa) + tuple(b.shape[d] for d in fb))


def inner(input, other):
    """Sum over the last dims of both (a product with a 0-d operand); shape ``input[:-1] + other[:-1]``.

    Example:
        >>> import tapegrad
        >>> tapegrad.inner(tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([[1.0, 1.0], [0.0, 3.0]]))
        tensor([3., 6.])
    """
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


def kron(input, other):
    """The Kronecker product: blocks ``input[i, j] * other`` (dims aligned on the right).

    Example:
        >>> import tapegrad
        >>> tapegrad.kron(tapegrad.eye(2), tapegrad.tensor([[1.0, 2.0]]))
        tensor([[1., 2., 0., 0.],
                [0., 0., 1., 2.]])
    """
    nd = max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    a = input.reshape(tuple(v for s in sa for v in (s, 1)))
    b = other.reshape(tuple(v for s in sb for v in (1, s)))
    return (a * b).reshape(tuple(x * y for x, y in zip(sa, sb)))


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (None: the first dim of size 3), operands broadcast.

    Example:
        >>> import tapegrad
        >>> tapegrad.cross(tapegrad.tensor([1.0, 0.0, 0.0]), tapegrad.tensor([0.0, 1.0, 0.0]), dim=0)
        tensor([0., 0., 1.])
    """
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    shape = J.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        dim = next((d for d, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input (shapes {list(input.shape)} and "
                               f"{list(other.shape)})")
    d = wrap_dim(dim, len(shape), "cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[d]} and "
                           f"{other.shape[d]}")
    a = [input.narrow(d, i, 1) for i in range(3)]
    b = [other.narrow(d, i, 1) for i in range(3)]
    return J.cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], d)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The ``p``-norm distance between each row of ``x1`` (…, P, M) and each of ``x2`` (…, R, M): (…, P, R).

    ``compute_mode`` is accepted for PyTorch's signature; the distances are always computed directly.

    Example:
        >>> import tapegrad
        >>> tapegrad.cdist(tapegrad.tensor([[0.0, 0.0]]), tapegrad.tensor([[3.0, 4.0], [1.0, 0.0]]))
        tensor([[5., 1.]])
    """
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if not (x1.dtype.is_floating_point and x2.dtype.is_floating_point):
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}, X2 got: {x2.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: "
                           f"{x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == 0:      # a count of differing coordinates; PyTorch still records it, with zero gradients
        return (diff != 0).to(diff.dtype).sum(-1) + (diff * 0).sum(-1)
    from .statistics import norm
    return norm(diff, p=float(p), dim=-1)


def roll(input, shifts, dims=None):
    """Shift elements along ``dims`` by ``shifts``, wrapping around (the flattened tensor when dims is None).

    Example:
        >>> import tapegrad
        >>> tapegrad.roll(tapegrad.arange(5), 2)
        tensor([3, 4, 0, 1, 2])
        >>> tapegrad.arange(4).reshape(2, 2).roll(shifts=(1, 1), dims=(0, 1))
        tensor([[3, 2],
                [1, 0]])
    """
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return roll(input.reshape(-1), shifts, 0).reshape(tuple(input.shape))
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    out = input
    for s, dim in zip(shifts, dims):
        d = wrap_dim(dim, input.ndim, "roll")
        n = input.shape[d] if input.ndim else 1
        s = s % n if n else 0
        if s and input.ndim:
            out = J.cat([out.narrow(d, n - s, s), out.narrow(d, 0, n - s)], d)
    return out.clone() if out is input else out


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first dim towards the second.

    Example:
        >>> import tapegrad
        >>> tapegrad.rot90(tapegrad.tensor([[1, 2], [3, 4]]))
        tensor([[2, 4],
                [1, 3]])
    """
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = (wrap_dim(d, input.ndim, "rot90") for d in dims)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    k %= 4
    if k == 1:
        return J.flip(input, b).transpose(a, b)
    if k == 2:
        return J.flip(input, (a, b))
    if k == 3:
        return J.flip(input, a).transpose(a, b)
    return input.clone()


def fliplr(input):
    """Flip dim 1 (left/right); the input must have at least 2 dims.

    Example:
        >>> import tapegrad
        >>> tapegrad.fliplr(tapegrad.tensor([[1, 2], [3, 4]]))
        tensor([[2, 1],
                [4, 3]])
    """
    if input.ndim < 2:
        raise RuntimeError(f"Input must be >= 2-d. (got shape {list(input.shape)})")
    return J.flip(input, 1)


def flipud(input):
    """Flip dim 0 (up/down); the input must have at least 1 dim.

    Example:
        >>> import tapegrad
        >>> tapegrad.flipud(tapegrad.tensor([1, 2, 3]))
        tensor([3, 2, 1])
    """
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d. (got a 0-d tensor)")
    return J.flip(input, 0)


def _tensor_list(tensors, name):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return tuple(tensors)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 0-d/1-d tensors: ``indexing="ij"`` (the default) or ``"xy"``; expanded views.

    Example:
        >>> import tapegrad
        >>> gx, gy = tapegrad.meshgrid(tapegrad.tensor([1, 2]), tapegrad.tensor([3, 4, 5]), indexing="xy")
        >>> gx
        tensor([[1, 2],
                [1, 2],
                [1, 2]])
    """
    tensors = _tensor_list(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("torch.meshgrid: Expected at least one tensor as input")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                               f"a {t.ndim}D tensor of shape {list(t.shape)}")
    for t in tensors[1:]:
        if t.dtype is not tensors[0].dtype or t.device != tensors[0].device:
            raise RuntimeError("torch.meshgrid: Expected all tensors in the list to have the same dtype and device, "
                               f"got {tensors[0].dtype} on {tensors[0].device} and {t.dtype} on {t.device}")
    pos = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * len(tensors)
    for t, p in zip(tensors, pos):
        shape[p] = t.numel()
    out = []
    for t, p in zip(tensors, pos):
        view = [1] * len(tensors)
        view[p] = -1
        out.append(J.broadcast_to(t.reshape(view), tuple(shape)))
    return tuple(out)


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors as rows (a single tensor is returned as is).

    Example:
        >>> import tapegrad
        >>> tapegrad.cartesian_prod(tapegrad.tensor([1, 2]), tapegrad.tensor([3, 4]))
        tensor([[1, 3],
                [1, 4],
                [2, 3],
                [2, 4]])
    """
    tensors = _tensor_list(tensors, "cartesian_prod")
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return J.stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of a 1-D tensor's elements as rows (``itertools.combinations`` order).

    Example:
        >>> import tapegrad
        >>> tapegrad.combinations(tapegrad.tensor([1, 2, 3]))
        tensor([[1, 2],
                [1, 3],
                [2, 3]])
    """
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.narrow(0, 0, 0)
    make = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(make(range(input.shape[0]), r))
    if not rows:
        return input.narrow(0, 0, 0).reshape(0, r)
    cols = [_creation.tensor([row[j] for row in rows], dtype=D.int64, device=input.device) for j in range(r)]
    return J.stack([X.index_select(input, 0, c) for c in cols], 1)


METHODS = {n: globals()[n] for n in ("ger", "inner", "kron", "cross", "roll", "rot90", "fliplr", "flipud")}
