"""numba kernels of the chunked CPU convolution (backend/_conv_cpu.py). Imported lazily."""
import numba


@numba.njit(cache=True, nogil=True)
def col2im(taps, offs, acc):
    """``acc[c, n, offs[t]:offs[t] + L] = sum_t taps[c, t, n, :]``: ``taps`` (C, K, m, L), ``acc`` (C, m, span).

    Each accumulator row stays in L1 while its ``K`` taps are added: about 1.2 ms on the LeNet benchmark's
    second layer, where NumPy's ``K`` slice-adds over the chunk took 8. The inner loop indexes a slice from
    0 (not ``off + j``), so LLVM can drop the negative-index wraparound and vectorize it (5.7 ms otherwise).
    """
    c, k, m, lw = taps.shape
    for ci in range(c):
        for n in range(m):
            acc[ci, n, :] = 0
            for t in range(k):
                a = acc[ci, n, offs[t]:offs[t] + lw]
                b = taps[ci, t, n]
                for j in range(lw):
                    a[j] += b[j]
