"""``DistributedSampler``, as ``torch.utils.data.distributed``: each replica reads its own share of a dataset."""
import importlib
import math

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _process_group(what):
    """``tapegrad.distributed`` when it exists and is initialised (looked up lazily: it is a later package)."""
    try:
        dist = importlib.import_module("tapegrad.distributed")
    except ImportError:
        dist = None
    ready = dist is not None and getattr(dist, "is_available", lambda: True)() and \
        getattr(dist, "is_initialized", lambda: False)()
    if not ready:
        raise RuntimeError(f"DistributedSampler: {what} was not given and the default process group is not "
                           "initialized; pass num_replicas= and rank= explicitly, or call "
                           "tapegrad.distributed.init_process_group first")
    return dist


def partition(indices, num_replicas, rank, drop_last):
    """Replica ``rank``'s share of ``indices`` (a list), as torch assigns it.

    Without ``drop_last`` the list is padded by repeating it from the start until it divides evenly; with it,
    the tail that does not divide evenly is cut. Replica ``r`` then takes every ``num_replicas``-th index from
    position ``r``.

    Example:
        >>> partition([0, 1, 2, 3, 4], 2, 1, drop_last=False), partition([0, 1, 2, 3, 4], 2, 1, drop_last=True)
        ([1, 3, 0], [1, 3])
    """
    n = len(indices)
    num_samples = math.ceil((n - num_replicas) / num_replicas) if drop_last and n % num_replicas else \
        math.ceil(n / num_replicas)
    total = num_samples * num_replicas
    indices = list(indices)
    if not drop_last:
        pad = total - n
        indices += indices[:pad] if pad <= n else (indices * math.ceil(pad / n))[:pad]
    else:
        indices = indices[:total]
    return indices[rank:total:num_replicas]


class DistributedSampler(Sampler):
    """Restrict loading to one replica's share of ``dataset`` (for data-parallel training).

    Every replica must use the same ``seed``; call ``set_epoch(epoch)`` before each epoch so the shuffle
    changes (the order is ``randperm(len(dataset))`` from a generator seeded with ``seed + epoch``).

    Args:
        dataset: a sized dataset.
        num_replicas: number of replicas (default: the world size of ``tapegrad.distributed``).
        rank: this replica's rank in ``[0, num_replicas)`` (default: the rank in ``tapegrad.distributed``).
        shuffle: shuffle the indices each epoch (default True).
        seed: the shuffle seed shared by all replicas.
        drop_last: drop the tail instead of padding with repeated indices.

    Example:
        >>> from tapegrad.utils.data import DistributedSampler
        >>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in (0, 1)]
        [[0, 2, 4], [1, 3, 0]]
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = _process_group("num_replicas").get_world_size()
        if rank is None:
            rank = _process_group("rank").get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            from ..._creation import randperm
            from ..._generator import Generator
            indices = randperm(n, generator=Generator().manual_seed(self.seed + self.epoch)).tolist()
        else:
            indices = list(range(n))
        return iter(partition(indices, self.num_replicas, self.rank, self.drop_last))

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Set the epoch, which (with ``seed``) decides the next shuffle; same on every replica.

        Example:
            >>> from tapegrad.utils.data import DistributedSampler
            >>> s = DistributedSampler(range(8), num_replicas=2, rank=0)
            >>> a = list(s); s.set_epoch(1); b = list(s); s.set_epoch(0)
            >>> list(s) == a, len(b)
            (True, 4)
        """
        self.epoch = epoch
