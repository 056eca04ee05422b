"""``tapegrad.distributed``: process groups and collectives on MPI, with ``torch.distributed``'s names.

Processes are started by ``mpiexec`` (MPI is the rendezvous; no address or port is involved), and
mpi4py (the ``distributed`` extra: ``pip install "tapegrad[distributed]"``) is imported only when a
process group is made, never by ``import tapegrad``. On one machine, with the MPICH wheel::

    UCX_TLS=self,sm .venv/bin/mpiexec.gforker -n 2 .venv/bin/python -m mpi4py train.py

``UCX_TLS=self,sm`` keeps MPI's traffic in shared memory and the gforker launcher forks the ranks
locally without opening a network socket; ``python -m mpi4py`` makes an uncaught exception on one rank
abort the whole job (MPI_Abort) instead of leaving the others waiting in a collective. With Open MPI
the equivalent is ``mpiexec -n 2 --mca btl self,vader python -m mpi4py train.py`` (``self,sm`` from
Open MPI 5; add ``--allow-run-as-root`` when running as root). ``launch.mpiexec_command`` builds
this command line.

Example:
    >>> import tapegrad, tapegrad.distributed as dist
    >>> dist.init_process_group(backend="mpi")
    >>> t = tapegrad.ones(3)
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)    # one process: the sum is itself
    >>> t, dist.get_world_size()
    (tensor([1., 1., 1.]), 1)
    >>> dist.destroy_process_group()
"""
from .process_group import (ReduceOp, ProcessGroup, GroupMember, group, is_available, is_initialized,
                            is_mpi_available, init_process_group, destroy_process_group, get_rank,
                            get_world_size, get_backend, barrier)
from .collectives import Work, all_reduce, broadcast, all_gather, reduce, gather, scatter

__all__ = ["ReduceOp", "ProcessGroup", "GroupMember", "group", "is_available", "is_initialized",
           "is_mpi_available", "init_process_group", "destroy_process_group", "get_rank", "get_world_size",
           "get_backend", "barrier", "Work", "all_reduce", "broadcast", "all_gather", "reduce", "gather",
           "scatter"]
