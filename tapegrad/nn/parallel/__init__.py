"""``tapegrad.nn.parallel``: ``DataParallel`` (one device) and ``DistributedDataParallel`` (across MPI processes)."""
from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
