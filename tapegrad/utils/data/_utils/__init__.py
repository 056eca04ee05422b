"""The DataLoader's internals, as ``torch.utils.data._utils``: ``collate``, ``fetch``, ``worker``."""
from . import collate, fetch, worker  # noqa: F401
