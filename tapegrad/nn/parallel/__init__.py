"""``tapegrad.nn.parallel``: ``DataParallel`` (one device)."""
from .data_parallel import DataParallel

__all__ = ["DataParallel"]
