"""``tapegrad.nn.parallel``: ``DistributedDataParallel`` (data parallel across MPI processes)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
