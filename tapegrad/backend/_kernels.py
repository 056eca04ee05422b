"""numba kernels for the CPU backend where NumPy has no fast path. Imported lazily."""
import math

import numba
import numpy as np


@numba.vectorize(["float32(float32)", "float64(float64)"], cache=False)
def erf(x):
    return math.erf(x)


@numba.njit(cache=False, nogil=True)
def _add_rows(out, rows, vals):
    # out[rows[i], :] += vals[i, :], sequentially, so repeated rows accumulate.
    m = out.shape[1]
    for i in range(rows.shape[0]):
        r = rows[i]
        for j in range(m):
            out[r, j] += vals[i, j]


def _leading_int_arrays(key, ndim):
    """The integer index arrays if ``key`` is (int arrays/ints..., full slices...), else None.

    That is the common advanced key: embedding lookups, index_select along
    dim 0, gather; for it the scatter is one pass of ``_add_rows`` over rows.
    Bool masks become their nonzero() index arrays, as NumPy does.
    """
    lead = []
    i = 0
    n = len(key)
    while i < n:
        k = key[i]
        if isinstance(k, np.ndarray):
            if k.dtype == np.bool_:
                lead.extend(np.nonzero(k))
            elif k.dtype.kind in "iu":
                lead.append(k)
            else:
                return None
        elif type(k) is int:
            lead.append(k)
        else:
            break
        i += 1
    if not lead or all(type(k) is int for k in lead) or len(lead) > ndim:
        return None
    for k in key[i:]:
        if not (k is Ellipsis or (type(k) is slice and k == slice(None))):
            return None
    return lead


def add_at(out, key, values):
    """``out[key] += values`` with repeated indices accumulating (NumPy's ``add.at``)."""
    lead = _leading_int_arrays(key if type(key) is tuple else (key,), out.ndim)
    if lead is None or not out.flags.c_contiguous:
        np.add.at(out, key, values)
        return
    k = len(lead)
    dims = out.shape[:k]
    idx = np.broadcast_arrays(*[np.asarray(a) for a in lead])
    bshape = idx[0].shape
    rest = out.shape[k:]
    m = math.prod(rest)
    nrow = math.prod(bshape)
    if m == 0 or nrow == 0:
        return
    # ravel_multi_index refuses negatives; wrap them once (the forward already checked bounds).
    idx = [np.where(a < 0, a + s, a) if a.size and a.min() < 0 else a for a, s in zip(idx, dims)]
    rows = np.ravel_multi_index(idx, dims).reshape(-1)
    vals = np.ascontiguousarray(np.broadcast_to(values, bshape + rest)).reshape(nrow, m)
    _add_rows(out.reshape(math.prod(dims), m), rows, vals.astype(out.dtype, copy=False))
