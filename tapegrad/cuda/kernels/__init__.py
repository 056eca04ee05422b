"""numba.cuda kernels of the CUDA backend, one module per kernel family.

Every kernel compiles lazily on first use and is cached by its key (op, dtype,
ndim, index width); ``signatures.py`` lists a representative signature of each
for the CPU-only PTX compile check.
"""
