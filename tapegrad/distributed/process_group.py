"""The default process group on MPI: ``init_process_group``, rank and size, ``barrier``, ``ReduceOp``.

A process group is a duplicate of an MPI communicator, so tapegrad's messages never mix with a
program's own mpi4py traffic on ``COMM_WORLD``. mpiexec is the rendezvous: rank and world size come
from the MPI environment, and no address, port or store is involved.
"""
import enum

from . import _mpi
from ._work import Work

__all__ = ["ReduceOp", "ProcessGroup", "GroupMember", "group", "is_available", "is_initialized",
           "is_mpi_available", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "get_backend", "barrier", "default_group"]


class RedOpType(enum.IntEnum):
    """PyTorch's reduction kinds, with its numbers."""
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """The reductions of ``all_reduce`` and ``reduce``: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX``
    and the bitwise ``BAND``, ``BOR``, ``BXOR`` (integer and bool tensors).

    Example:
        >>> from tapegrad.distributed import ReduceOp
        >>> ReduceOp.SUM, ReduceOp.AVG.name
        (<RedOpType.SUM: 0>, 'AVG')
    """
    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class ProcessGroup:
    """A group of processes that run collectives together: a private duplicate of an MPI communicator.

    Example:
        >>> import tapegrad.distributed as dist
        >>> from tapegrad.distributed.process_group import default_group
        >>> dist.init_process_group("mpi")
        >>> g = default_group()
        >>> g.rank(), g.size(), g.name()
        (0, 1, 'mpi')
        >>> dist.destroy_process_group()
    """

    def __init__(self, comm):
        self.comm = comm

    def rank(self):
        return self.comm.Get_rank()

    def size(self):
        return self.comm.Get_size()

    def name(self):
        return "mpi"

    def __repr__(self):
        return f"ProcessGroup(mpi, rank={self.rank()}, size={self.size()})"


class GroupMember:
    """``GroupMember.WORLD``: the default group (None before ``init_process_group``)."""
    WORLD = None
    NON_GROUP_MEMBER = -100


group = GroupMember         # torch.distributed.group.WORLD


def is_available():
    """Whether distributed training can run here: mpi4py (the ``distributed`` extra) is installed.

    It does not import mpi4py (nor initialise MPI).

    Example:
        >>> import tapegrad.distributed as dist
        >>> dist.is_available()
        True
    """
    return _mpi.available()


def is_mpi_available():
    """Whether the MPI backend is available (the only backend tapegrad has); as ``is_available``.

    Example:
        >>> import tapegrad.distributed as dist
        >>> dist.is_mpi_available() == dist.is_available()
        True
    """
    return _mpi.available()


def is_initialized():
    """Whether ``init_process_group`` has been called (and the group not destroyed since).

    Example:
        >>> import tapegrad.distributed as dist
        >>> dist.is_initialized()
        False
    """
    return GroupMember.WORLD is not None


_NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."


def default_group(group=None, what=None):
    """``group``, or the default process group; raises ValueError (PyTorch's message) when there is none.

    Example:
        >>> from tapegrad.distributed.process_group import default_group
        >>> default_group()
        Traceback (most recent call last):
            ...
        ValueError: Default process group has not been initialized, please make sure to call init_process_group.
    """
    if group is not None:
        if not isinstance(group, ProcessGroup):
            raise TypeError(f"{what or 'tapegrad.distributed'}: group must be a ProcessGroup or None, got "
                            f"{type(group).__name__}")
        return group
    if GroupMember.WORLD is None:
        raise ValueError(_NOT_INIT)
    return GroupMember.WORLD


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Initialise the default process group over MPI (every rank calls it; mpiexec started the ranks).

    Rank and world size are MPI's (``mpiexec -n N``); a ``rank``/``world_size`` given must agree with
    them. ``backend`` must be ``"mpi"`` (or None); ``init_method`` may be None or ``"env://"``: there is
    no rendezvous address, mpiexec already connected the processes. A program started without mpiexec
    is a group of one. ``timeout``, ``group_name``, ``pg_options`` and ``device_id`` are accepted and
    unused.

    Args:
        backend: ``"mpi"`` or None.
        init_method: None or ``"env://"``.
        world_size: -1, or the number of MPI processes.
        rank: -1, or this process's MPI rank.

    Example:
        >>> import tapegrad.distributed as dist
        >>> dist.init_process_group(backend="mpi")
        >>> dist.is_initialized(), dist.get_rank(), dist.get_world_size()
        (True, 0, 1)
        >>> dist.destroy_process_group()
    """
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(f"init_process_group: backend {backend!r} is not supported; tapegrad runs process "
                         "groups on MPI only: pass backend='mpi' and start the program with mpiexec")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: init_method {init_method!r} is not supported; with MPI, "
                         "mpiexec connects the processes: pass None or 'env://'")
    if store is not None:
        raise ValueError("init_process_group: a store is not supported with the MPI backend")
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    MPI = _mpi.mpi("init_process_group")
    world = MPI.COMM_WORLD
    for name, given, actual in (("world_size", world_size, world.Get_size()), ("rank", rank, world.Get_rank())):
        if given is not None and given != -1 and given != actual:
            raise ValueError(f"init_process_group: {name}={given} but MPI says {actual} (mpiexec -n sets the "
                             "world size and each process's rank); pass -1 or MPI's value")
    GroupMember.WORLD = ProcessGroup(world.Dup())


def destroy_process_group(group=None):
    """Free the default process group (or ``group``); ``is_initialized()`` is False afterwards.

    MPI itself stays initialised until the interpreter exits (mpi4py finalises it then).

    Example:
        >>> import tapegrad.distributed as dist
        >>> dist.init_process_group("mpi"); dist.destroy_process_group(); dist.is_initialized()
        False
    """
    g = default_group(group, "destroy_process_group")
    if g is GroupMember.WORLD:
        GroupMember.WORLD = None
    g.comm.Free()


def get_rank(group=None):
    """This process's rank in the group (0 ... world size - 1).

    Example:
        >>> import tapegrad.distributed as dist
        >>> dist.init_process_group("mpi"); r = dist.get_rank(); dist.destroy_process_group(); r
        0
    """
    return default_group(group, "get_rank").rank()


def get_world_size(group=None):
    """The number of processes in the group.

    Example:
        >>> import tapegrad.distributed as dist
        >>> dist.init_process_group("mpi"); n = dist.get_world_size(); dist.destroy_process_group(); n
        1
    """
    return default_group(group, "get_world_size").size()


def get_backend(group=None):
    """The group's backend name: always ``"mpi"``.

    Example:
        >>> import tapegrad.distributed as dist
        >>> dist.init_process_group("mpi"); b = dist.get_backend(); dist.destroy_process_group(); b
        'mpi'
    """
    return default_group(group, "get_backend").name()


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Block until every process of the group has reached the barrier (``async_op=True``: return a Work).

    Example:
        >>> import tapegrad.distributed as dist
        >>> dist.init_process_group("mpi"); dist.barrier(); dist.destroy_process_group()
    """
    g = default_group(group, "barrier")
    if async_op:
        return Work(g.comm.Ibarrier())
    g.comm.Barrier()
    return None
