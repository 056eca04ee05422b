"""Process-wide settings, as torch's: thread counts and deterministic algorithms.

``set_num_threads`` limits the BLAS thread pools (NumPy's OpenBLAS/MKL, where the CPU backend's ``matmul``,
``einsum`` and convolutions run) through ``threadpoolctl`` when it is installed; without it the call only
records the number (BLAS reads its environment variables once, at load, so nothing else can change it from
inside the process). numba-compiled CPU kernels in tapegrad are single-threaded, so they are unaffected.

Note [determinism]: ``use_deterministic_algorithms`` is accepted and remembered, and changes nothing: every
tapegrad op already gives the same bits for the same inputs on every run. On the CPU, NumPy reductions and
``np.add.at`` scatters run in a fixed order; on CUDA no kernel uses float atomics (scatter-add, the backward of
gather and indexing, walks each output position's sources in order: tapegrad/cuda/kernels/indexing.py; the
block reductions combine in a fixed tree: kernels/reduce.py), and the matmul is tapegrad's own tiled kernel,
not a library that picks algorithms at run time. Unlike torch, no op raises in deterministic mode.
"""
import os

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads", "get_num_interop_threads",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled"]

_STATE = {"threads": None, "interop": None, "deterministic": False, "warn_only": False, "limiter": None}


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def _check_count(n, fn):
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{fn}(): argument 'nthreads' must be int, not {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{fn} expects a positive integer, got {n}")


def set_num_threads(nthreads):
    """Limit the threads of the CPU's BLAS (matmul, einsum, convolutions) to ``nthreads``.

    Uses ``threadpoolctl`` when installed; otherwise the number is only recorded (see the module's note).

    Example:
        >>> import tapegrad
        >>> n = tapegrad.get_num_threads()
        >>> tapegrad.set_num_threads(1); tapegrad.get_num_threads()
        1
        >>> tapegrad.set_num_threads(n)
    """
    _check_count(nthreads, "set_num_threads")
    tpc = _threadpoolctl()
    if tpc is not None:
        _STATE["limiter"] = tpc.threadpool_limits(limits=nthreads, user_api="blas")
    _STATE["threads"] = nthreads


def get_num_threads():
    """The number of CPU threads for BLAS: the last ``set_num_threads``, else what the BLAS pools use.

    Example:
        >>> import tapegrad
        >>> tapegrad.get_num_threads() >= 1
        True
    """
    if _STATE["threads"] is not None:
        return _STATE["threads"]
    tpc = _threadpoolctl()
    if tpc is not None:
        pools = [p["num_threads"] for p in tpc.threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return max(pools)
    return os.cpu_count() or 1


def set_num_interop_threads(nthreads):
    """Record the number of inter-op threads (tapegrad runs ops one after another: no effect).

    Example:
        >>> import tapegrad
        >>> tapegrad.set_num_interop_threads(2); tapegrad.get_num_interop_threads()
        2
    """
    _check_count(nthreads, "set_num_interop_threads")
    _STATE["interop"] = nthreads


def get_num_interop_threads():
    """The number recorded by ``set_num_interop_threads`` (default: the CPU count).

    Example:
        >>> import tapegrad
        >>> tapegrad.get_num_interop_threads() >= 1
        True
    """
    return _STATE["interop"] or os.cpu_count() or 1


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms; accepted and remembered, with no effect (Note [determinism]).

    Example:
        >>> import tapegrad
        >>> tapegrad.use_deterministic_algorithms(True); tapegrad.are_deterministic_algorithms_enabled()
        True
        >>> tapegrad.use_deterministic_algorithms(False)
    """
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' must be bool, not {type(mode).__name__}")
    if not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'warn_only' must be bool, not "
                        f"{type(warn_only).__name__}")
    _STATE["deterministic"], _STATE["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    """Whether ``use_deterministic_algorithms(True)`` is in force.

    Example:
        >>> import tapegrad
        >>> tapegrad.are_deterministic_algorithms_enabled()
        False
    """
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """Whether ``use_deterministic_algorithms(..., warn_only=True)`` is in force.

    Example:
        >>> import tapegrad
        >>> tapegrad.is_deterministic_algorithms_warn_only_enabled()
        False
    """
    return _STATE["warn_only"]
