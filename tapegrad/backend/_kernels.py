"""numba kernels for the CPU backend where NumPy has no fast path. Imported lazily."""
import math

import numba
import numpy as np


@numba.vectorize(["float32(float32)", "float64(float64)"], cache=False)
def erf(x):
    return math.erf(x)


def add_at(out, key, values):
    """``out[key] += values`` with repeated indices accumulating (NumPy's ``add.at``)."""
    np.add.at(out, key, values)
