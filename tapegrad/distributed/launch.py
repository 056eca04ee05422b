"""The command line that starts ``n`` ranks of a Python script on this machine only.

Used by the tests, the example and the benchmark, so each starts MPI the same way: the ``mpiexec``
of the running interpreter's environment (the mpich wheel installs it beside ``python``), its
``gforker`` launcher when present (it forks the ranks locally and opens no network socket; Hydra's
``mpiexec`` is the fallback), ``python -m mpi4py`` (an uncaught exception on one rank aborts the job),
and ``UCX_TLS=self,sm`` (MPI's traffic stays in shared memory). For Open MPI's ``mpiexec``, pass
``--mca btl self,vader`` (``self,sm`` from Open MPI 5) and, as root, ``--allow-run-as-root``.
"""
import os
import sys
from pathlib import Path

__all__ = ["mpiexec_command"]


def mpiexec_command(n, argv, python=None):
    """``(command, env)`` that runs ``python -m mpi4py *argv`` on ``n`` local ranks.

    Args:
        n: the number of ranks.
        argv: the script and its arguments, as a list of strings.
        python: the interpreter (default: the running one); its directory must hold ``mpiexec``.

    Returns:
        the command as a list of strings, and the environment to run it in (a copy of ``os.environ``).

    Example:
        >>> import sys
        >>> from tapegrad.distributed.launch import mpiexec_command
        >>> cmd, env = mpiexec_command(2, ["train.py", "--epochs", "1"])
        >>> cmd[1:3], cmd[3] == sys.executable, cmd[4:], env["UCX_TLS"]
        (['-n', '2'], True, ['-m', 'mpi4py', 'train.py', '--epochs', '1'], 'self,sm')
    """
    python = python or sys.executable
    bindir = Path(python).parent
    launcher = next((bindir / name for name in ("mpiexec.gforker", "mpiexec") if (bindir / name).exists()), None)
    if launcher is None:
        raise FileNotFoundError(f"mpiexec_command: no mpiexec beside {python}; install the distributed extra "
                                '(pip install "tapegrad[distributed]", which brings the mpich wheel)')
    env = dict(os.environ, UCX_TLS="self,sm")
    for k in ("PMI_RANK", "PMI_FD", "PMI_SIZE", "PMIX_RANK"):      # a launcher inside a rank starts afresh
        env.pop(k, None)
    return [str(launcher), "-n", str(int(n)), str(python), "-m", "mpi4py", *map(str, argv)], env
