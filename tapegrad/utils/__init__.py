"""``tapegrad.utils``: data loading (``utils.data``), checkpoints (``utils.serialization``) and activation
checkpointing (``utils.checkpoint``).

Example:
    >>> import tapegrad
    >>> from tapegrad.utils.data import TensorDataset, DataLoader
    >>> loader = DataLoader(TensorDataset(tapegrad.zeros(10, 2)), batch_size=4)
    >>> [batch[0].shape[0] for batch in loader]
    [4, 4, 2]
"""
from . import data, serialization, checkpoint

__all__ = ["data", "serialization", "checkpoint"]
