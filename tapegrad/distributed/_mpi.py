"""The one place that imports mpi4py: lazily, so ``import tapegrad`` (and ``tapegrad.distributed``) never does."""
import importlib.util
import os

_INSTALL = 'pip install "tapegrad[distributed]"'


def available():
    """Whether mpi4py can be imported (found without importing it)."""
    return importlib.util.find_spec("mpi4py") is not None


_MODULE = []


def mpi(what="tapegrad.distributed"):
    """The ``mpi4py.MPI`` module (importing it initialises MPI), or an ImportError naming the extra."""
    if _MODULE:
        return _MODULE[0]
    if not any(k in os.environ for k in ("PMI_RANK", "PMI_FD", "PMIX_RANK", "OMPI_COMM_WORLD_RANK")):
        # A process not started by mpiexec is a group of one: keep UCX to this machine's shared memory.
        os.environ.setdefault("UCX_TLS", "self,sm")
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"{what} runs on MPI through mpi4py, which is not installed: {_INSTALL} "
                          "(mpi4py>=4.1 and the mpich wheel)") from e
    _MODULE.append(MPI)
    return MPI
