"""Collectives on Tensors with PyTorch's signatures, on MPI (blocking, or nonblocking with ``async_op=True``).

# Note [collective buffers]
A collective works in place on the tensor's storage and bumps its version counter when it is
issued. MPI reads and writes host memory: a C-contiguous NumPy storage is handed to MPI as it is;
any other storage is staged through a contiguous host copy that is written back when the
operation completes (``wait()``, ``is_completed()``, or at once for a blocking call). CUDA tensors
take that path too (device -> host -> MPI -> host -> device); a CUDA-aware MPI could be given the
device pointers directly later, without the two copies. Data-moving collectives (broadcast,
gathers, scatter) move raw bytes, so every dtype goes through unchanged; reductions use MPI's
typed operations (bool reduces with logical or/and, as PyTorch's SUM/MAX and PRODUCT/MIN do on bool).
"""
import numpy as np

from .._tensor import Tensor
from . import _mpi
from .process_group import ReduceOp, RedOpType, default_group
from ._work import Work

__all__ = ["Work", "all_reduce", "broadcast", "all_gather", "reduce", "gather", "scatter"]


def _check_tensor(t, what, name="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: {name} must be a Tensor, got {type(t).__name__}")


class _Buf:
    """A host view of a tensor's storage for MPI, and the write-back that ends a collective on it."""
    __slots__ = ("tensor", "host", "staged")

    def __init__(self, t, read=True):
        self.tensor = t
        data = t._data
        if type(data) is np.ndarray and data.flags.c_contiguous and data.flags.writeable:
            self.host, self.staged = data, False
        else:
            be = t._backend
            h = be.to_numpy(data) if read else np.empty(tuple(data.shape), data.dtype)
            self.host, self.staged = np.array(h, order="C", copy=True) if read else h, True

    def bytes(self):
        return self.host.reshape(-1).view(np.uint8)

    def write_back(self):
        if self.staged:
            t = self.tensor
            be = t._backend
            be.setitem(t._data, Ellipsis, self.host if type(t._data) is np.ndarray else be.from_numpy(self.host))


def _bump(*tensors):
    for t in tensors:
        t._version[0] += 1


def _run(request_fn, async_op, finish, blocking_fn=None):
    """Start a nonblocking MPI operation and return its Work (``async_op``); else run the blocking one
    (``blocking_fn``, cheaper than start + wait in MPICH for small messages) or start and wait."""
    if async_op:
        return Work(request_fn(), finish)
    if blocking_fn is None:
        Work(request_fn(), finish).wait()
        return None
    blocking_fn()
    if finish is not None:
        finish()
    return None


_MPI_OPS = {RedOpType.SUM: "SUM", RedOpType.AVG: "SUM", RedOpType.PRODUCT: "PROD", RedOpType.MIN: "MIN",
            RedOpType.MAX: "MAX", RedOpType.BAND: "BAND", RedOpType.BOR: "BOR", RedOpType.BXOR: "BXOR"}
_BOOL_OPS = {RedOpType.SUM: "LOR", RedOpType.MAX: "LOR", RedOpType.PRODUCT: "LAND", RedOpType.MIN: "LAND",
             RedOpType.BAND: "LAND", RedOpType.BOR: "LOR", RedOpType.BXOR: "LXOR"}


_OP_CACHE = {}       # (op, dtype) -> MPI.Op: the checks below once per pair, not on every call


def _mpi_op(MPI, op, dtype, what):
    key = (op, dtype)
    try:
        return _OP_CACHE[key]
    except (KeyError, TypeError):   # TypeError: an unhashable op, refused below
        pass
    mop = _check_op(MPI, op, dtype, what)
    _OP_CACHE[key] = mop
    return mop


def _check_op(MPI, op, dtype, what):
    try:
        op = RedOpType(op)
    except ValueError:
        raise ValueError(f"{what}: unsupported reduction {op!r}; supported: "
                         f"{', '.join('ReduceOp.' + o.name for o in RedOpType)}") from None
    kind = dtype.kind
    if kind == "b":
        if op is RedOpType.AVG:
            raise TypeError(f"{what}: ReduceOp.AVG is not supported for a bool tensor")
        return getattr(MPI, _BOOL_OPS[op])
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and kind not in "iu":
        raise TypeError(f"{what}: ReduceOp.{op.name} needs an integer or bool tensor, got {dtype}")
    if op is RedOpType.AVG and kind != "f":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating point tensor, got {dtype} (use SUM and divide)")
    return getattr(MPI, _MPI_OPS[op])


def _reduce_finish(buf, op, size):
    def finish():
        if op == RedOpType.AVG:
            np.divide(buf.host, size, out=buf.host, casting="unsafe")
        buf.write_back()
    return finish


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across all processes in place: every rank ends with the same result.

    Args:
        tensor: the input and output, on every rank (same shape and dtype everywhere).
        op: a ``ReduceOp`` (SUM, AVG, PRODUCT, MIN, MAX; BAND, BOR, BXOR for integers and bool).
        group: the process group (default: the default group).
        async_op: return a ``Work`` handle instead of waiting.

    Returns:
        a ``Work`` when ``async_op``, else None.

    Example:
        >>> import tapegrad, tapegrad.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> t = tapegrad.tensor([1, 5]); dist.all_reduce(t, op=dist.ReduceOp.MAX); t
        tensor([1, 5])
        >>> dist.destroy_process_group()
    """
    _check_tensor(tensor, "all_reduce")
    g = default_group(group, "all_reduce")
    MPI = _mpi.mpi()
    mop = _mpi_op(MPI, op, tensor._data.dtype, "all_reduce")
    buf = _Buf(tensor)
    tensor._version[0] += 1
    # Straight to mpi4py (no closures on the way): this is the call whose bandwidth is compared with
    # raw mpi4py in benchmarks/distributed.py, on buckets where microseconds show.
    if async_op:
        return Work(g.comm.Iallreduce(MPI.IN_PLACE, buf.host, op=mop), _reduce_finish(buf, op, g.size()))
    g.comm.Allreduce(MPI.IN_PLACE, buf.host, op=mop)
    if buf.staged or op == RedOpType.AVG:
        _reduce_finish(buf, op, g.size())()
    return None


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` across all processes into rank ``dst``'s tensor (the others' are left unchanged).

    Example:
        >>> import tapegrad, tapegrad.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> t = tapegrad.tensor([2.0]); dist.reduce(t, dst=0, op=dist.ReduceOp.PRODUCT); t
        tensor([2.])
        >>> dist.destroy_process_group()
    """
    _check_tensor(tensor, "reduce")
    g = default_group(group, "reduce")
    dst = _root(dst, group_dst, g, "reduce", "dst")
    MPI = _mpi.mpi()
    mop = _mpi_op(MPI, op, tensor._data.dtype, "reduce")
    buf = _Buf(tensor)
    if g.rank() == dst:
        _bump(tensor)
        return _run(lambda: g.comm.Ireduce(MPI.IN_PLACE, buf.host, op=mop, root=dst), async_op,
                    _reduce_finish(buf, op, g.size()))
    return _run(lambda: g.comm.Ireduce(buf.host, None, op=mop, root=dst), async_op, None)


def _root(r, group_r, g, what, name):
    if r is None:
        r = group_r
    if r is None:
        raise ValueError(f"{what}: {name} must be given")
    if not 0 <= r < g.size():
        raise ValueError(f"{what}: {name}={r} is not a rank of the group (ranks 0..{g.size() - 1})")
    return int(r)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank, in place.

    Example:
        >>> import tapegrad, tapegrad.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> t = tapegrad.tensor([True, False]); dist.broadcast(t, src=0); t
        tensor([ True, False])
        >>> dist.destroy_process_group()
    """
    _check_tensor(tensor, "broadcast")
    g = default_group(group, "broadcast")
    src = _root(src, group_src, g, "broadcast", "src")
    buf = _Buf(tensor, read=g.rank() == src)
    if g.rank() != src:
        _bump(tensor)
    return _run(lambda: g.comm.Ibcast(buf.bytes(), root=src), async_op,
                buf.write_back if g.rank() != src else None, lambda: g.comm.Bcast(buf.bytes(), root=src))


def _check_list(tensor_list, tensor, n, what, name):
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != n:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list).__name__
        raise ValueError(f"{what}: {name} must be a list of {n} tensors (the world size), got {got}")
    for i, t in enumerate(tensor_list):
        _check_tensor(t, what, f"{name}[{i}]")
        if tuple(t.shape) != tuple(tensor.shape) or t.dtype is not tensor.dtype:
            raise ValueError(f"{what}: {name}[{i}] has shape {tuple(t.shape)} and dtype {t.dtype}, but the "
                             f"tensor has shape {tuple(tensor.shape)} and dtype {tensor.dtype}; they must match")


def _split_into(stacked, tensor_list):
    """The end of a gather: copy each rank's block of ``stacked`` (bytes) into its tensor."""
    def finish():
        for k, t in enumerate(tensor_list):
            b = _Buf(t, read=False)
            b.bytes()[...] = stacked[k]
            b.write_back()
    return finish


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Gather ``tensor`` from every rank into ``tensor_list`` (``tensor_list[r]`` gets rank r's) on every rank.

    Example:
        >>> import tapegrad, tapegrad.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> out = [tapegrad.zeros(2, dtype=tapegrad.int64)]
        >>> dist.all_gather(out, tapegrad.tensor([3, 4])); out
        [tensor([3, 4])]
        >>> dist.destroy_process_group()
    """
    _check_tensor(tensor, "all_gather")
    g = default_group(group, "all_gather")
    _check_list(tensor_list, tensor, g.size(), "all_gather", "tensor_list")
    send = _Buf(tensor).bytes()
    stacked = np.empty((g.size(), send.size), np.uint8)
    _bump(*tensor_list)
    return _run(lambda: g.comm.Iallgather(send, stacked), async_op, _split_into(stacked, tensor_list))


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Gather ``tensor`` from every rank into ``gather_list`` on rank ``dst`` (other ranks pass None).

    Example:
        >>> import tapegrad, tapegrad.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> out = [tapegrad.zeros(1)]
        >>> dist.gather(tapegrad.tensor([7.0]), out, dst=0); out
        [tensor([7.])]
        >>> dist.destroy_process_group()
    """
    _check_tensor(tensor, "gather")
    g = default_group(group, "gather")
    dst = _root(dst, group_dst, g, "gather", "dst")
    send = _Buf(tensor).bytes()
    if g.rank() != dst:
        if gather_list:
            raise ValueError("gather: gather_list must be given only on the destination rank")
        return _run(lambda: g.comm.Igather(send, None, root=dst), async_op, None)
    _check_list(gather_list, tensor, g.size(), "gather", "gather_list")
    stacked = np.empty((g.size(), send.size), np.uint8)
    _bump(*gather_list)
    return _run(lambda: g.comm.Igather(send, stacked, root=dst), async_op, _split_into(stacked, gather_list))


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank ``src`` sends ``scatter_list[r]`` to rank r, which receives it into ``tensor``.

    Example:
        >>> import tapegrad, tapegrad.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> t = tapegrad.zeros(2); dist.scatter(t, [tapegrad.tensor([1.0, 2.0])], src=0); t
        tensor([1., 2.])
        >>> dist.destroy_process_group()
    """
    _check_tensor(tensor, "scatter")
    g = default_group(group, "scatter")
    src = _root(src, group_src, g, "scatter", "src")
    recv = _Buf(tensor, read=False)
    if g.rank() == src:
        _check_list(scatter_list, tensor, g.size(), "scatter", "scatter_list")
        send = np.stack([_Buf(t).bytes() for t in scatter_list])
    else:
        if scatter_list:
            raise ValueError("scatter: scatter_list must be given only on the source rank")
        send = None
    _bump(tensor)
    return _run(lambda: g.comm.Iscatter(send, recv.bytes(), root=src), async_op, recv.write_back)
