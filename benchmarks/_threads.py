"""Pin BLAS/OpenMP/PyTorch to a fixed thread count before NumPy is imported.

With two threads on two shared cores, any other process makes BLAS and PyTorch spin-waits
collapse 10-100x, so every benchmark runs with the same, fixed count (default 1). BLAS reads
these variables once, when NumPy loads it; if NumPy is already imported with other values we
re-exec the interpreter so the setting really takes effect.
"""
import os
import sys

ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "NUMBA_NUM_THREADS")


def threads_from_argv(argv, default=1):
    """The value of ``--threads N`` / ``--threads=N`` in ``argv`` (no argparse: NumPy-free)."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return default


def pin(n, reexec_argv):
    """Set the thread variables to ``n``; re-exec with ``reexec_argv`` if NumPy came first."""
    want = str(n)
    if all(os.environ.get(v) == want for v in ENV_VARS):
        return
    for v in ENV_VARS:
        os.environ[v] = want
    if "numpy" in sys.modules:
        os.execv(sys.executable, [sys.executable] + list(reexec_argv))


def blas_info():
    """A short 'library: threads' description of the loaded BLAS, when threadpoolctl is present."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    pools = [f"{p.get('internal_api')}:{p.get('num_threads')}" for p in threadpool_info()
             if p.get("user_api") == "blas"]
    return ", ".join(pools) or "none found"
