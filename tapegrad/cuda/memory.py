"""Device memory: a caching pool behind numba's External Memory Manager (EMM) plugin API.

An autograd tape makes many short-lived temporaries; numba's default manager
calls cuMemAlloc for each and frees in synchronizing batches. ``BlockPool``
keeps freed blocks in per-size bins and hands them out again. It relies on
the single-stream rule: every kernel runs on the default stream, so a block
freed on the host may be reused at once — a later kernel that writes it is
ordered after every earlier kernel that read it.

The pool's bookkeeping is plain Python (tested without a GPU); ``PoolEMM``
plugs it into numba and is installed only on a real GPU (``_nb.USE_POOL``).
``memory_allocated`` counts the bytes of live tensors on every path.
"""
import weakref

_MIN_BLOCK = 512
_STATS = {"allocated": 0, "peak": 0}


def round_size(nbytes):
    """Size class of a request: multiples of 512 B up to 1 MiB, then powers of two (bounded waste)."""
    if nbytes <= 1 << 20:
        return max(_MIN_BLOCK, (nbytes + _MIN_BLOCK - 1) // _MIN_BLOCK * _MIN_BLOCK)
    return 1 << (nbytes - 1).bit_length()


class BlockPool:
    """Free lists of device blocks by size class over a raw ``malloc``/``free`` pair."""

    def __init__(self, malloc, free):
        self._malloc = malloc
        self._free = free
        self.bins = {}            # size class -> [handle, ...]
        self.reserved = 0         # bytes obtained from the driver and not yet released
        self.in_use = 0

    def acquire(self, nbytes):
        """Return ``(handle, size_class)``; reuses a cached block when one of that class is free."""
        size = round_size(nbytes)
        free = self.bins.get(size)
        if free:
            handle = free.pop()
        else:
            try:
                handle = self._malloc(size)
            except MemoryError:
                self.release_cached()       # give cached blocks back, then retry once
                handle = self._malloc(size)
            self.reserved += size
        self.in_use += size
        return handle, size

    def release(self, handle, size):
        """Return a block to its bin (no driver call)."""
        self.in_use -= size
        self.bins.setdefault(size, []).append(handle)

    def release_cached(self):
        """Free every cached block back to the driver; returns the bytes released."""
        n = 0
        for size, handles in self.bins.items():
            for h in handles:
                self._free(h)
                n += size
        self.bins.clear()
        self.reserved -= n
        return n


def _track(buf, nbytes):
    _STATS["allocated"] += nbytes
    if _STATS["allocated"] > _STATS["peak"]:
        _STATS["peak"] = _STATS["allocated"]
    weakref.finalize(buf, _untrack, nbytes)


def _untrack(nbytes):
    _STATS["allocated"] -= nbytes


def alloc(n, dtype):
    """A fresh 1-D device buffer of ``n`` elements (pooled on a GPU)."""
    from . import _nb
    buf = _nb.device_array(max(n, 1), dtype)
    _track(buf, n * buf.dtype.itemsize)
    return buf


def memory_allocated():
    return _STATS["allocated"]


def max_memory_allocated():
    return _STATS["peak"]


def reset_peak_memory_stats():
    _STATS["peak"] = _STATS["allocated"]


_POOL = [None]


def empty_cache():
    """Release cached, unused blocks to the driver (tensors stay valid)."""
    pool = _POOL[0]
    return pool.release_cached() if pool is not None else 0


def memory_reserved():
    pool = _POOL[0]
    return pool.reserved if pool is not None else _STATS["allocated"]


def install_pool():
    """Make numba allocate through ``BlockPool``; must run before the first CUDA context."""
    from numba import cuda
    from numba.cuda.cudadrv import driver

    class PoolEMM(cuda.HostOnlyCUDAMemoryManager):
        """EMM plugin: device allocations come from the pool; host/pinned ones stay numba's."""

        def initialize(self):
            super().initialize()
            _POOL[0] = BlockPool(self._raw_malloc, self._raw_free)

        def _raw_malloc(self, size):
            try:
                return driver.driver.cuMemAlloc(size)
            except driver.CudaAPIError as e:
                raise MemoryError(f"cuMemAlloc({size}) failed: {e}") from e

        @staticmethod
        def _raw_free(ptr):
            driver.driver.cuMemFree(ptr)

        def memalloc(self, size):
            pool = _POOL[0]
            handle, klass = pool.acquire(size)
            # As numba's own manager does: an auto-freeing pointer, handed out as an owned view.
            mem = driver.AutoFreePointer(weakref.proxy(self.context), handle, size,
                                         finalizer=lambda: pool.release(handle, klass))
            return mem.own()

        def get_memory_info(self):
            free, total = driver.driver.cuMemGetInfo()
            return driver.MemoryInfo(free=free, total=total)

        def get_ipc_handle(self, memory):
            raise NotImplementedError("IPC handles are not supported by tapegrad's memory pool")

        def reset(self):
            super().reset()
            if _POOL[0] is not None:
                _POOL[0].release_cached()

        @property
        def interface_version(self):
            return 1

    cuda.set_memory_manager(PoolEMM)
