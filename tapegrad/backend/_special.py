"""Scalar sources of the special functions NumPy lacks, one definition each for both devices.

Each is the body of ``f(a)`` over a number ``a``, with every constant wrapped
as ``T(...)`` (the compute type) and domain edges written out (the CUDA
simulator's ``math`` raises where a GPU returns inf or nan). The CPU backend
compiles them with ``numba.vectorize`` (``_kernels.py``, ``T = float``: float64
math), the CUDA backend into device functions (``cuda/kernels/scalar_ops.py``).
Names in scope: ``math``, ``T``, ``INF``, ``NAN``, ``PI``.
"""

LGAMMA = """
    if a != a:
        return a
    if abs(a) == T(INF):
        return T(INF)
    if a <= T(0) and a == math.floor(a):
        return T(INF)
    return math.lgamma(a)
"""

# psi(x): reflection below 0, recurrence up to x >= 10, then the asymptotic series (error < 1e-16 there).
DIGAMMA = """
    x = a
    if x != x:
        return x
    if x == T(INF):
        return x
    if x == T(-INF):
        return T(NAN)
    if x == T(0):
        return T(-INF)
    r = T(0)
    if x < T(0):
        if x == math.floor(x):
            return T(NAN)
        r = -T(PI) / math.tan(T(PI) * x)
        x = T(1) - x
    while x < T(10):
        r = r - T(1) / x
        x = x + T(1)
    f = T(1) / (x * x)
    s = f * (T(-1.0 / 12) + f * (T(1.0 / 120) + f * (T(-1.0 / 252) + f * (T(1.0 / 240) + f * T(-1.0 / 132)))))
    return r + math.log(x) - T(0.5) / x + s
"""

# psi'(x) (polygamma(1, x)): psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x) below 1/2, recurrence, asymptotic series.
TRIGAMMA = """
    x = a
    if x != x:
        return x
    if x == T(INF):
        return T(0)
    if x == T(-INF):
        return T(NAN)
    if x <= T(0) and x == math.floor(x):
        return T(INF)
    r = T(0)
    sign = T(1)
    if x < T(0.5):
        s = math.sin(T(PI) * x)
        r = T(PI) * T(PI) / (s * s)
        sign = T(-1)
        x = T(1) - x
    acc = T(0)
    while x < T(10):
        acc = acc + T(1) / (x * x)
        x = x + T(1)
    z = T(1) / x
    f = z * z
    acc = acc + z + f / T(2) + z * f * (T(1.0 / 6) - f * (T(1.0 / 30) - f * (T(1.0 / 42) - f * T(1.0 / 30))))
    return r + sign * acc
"""

# erfinv: M. Giles' single-precision approximation ("Approximating the erfinv function", GPU Computing
# Gems, 2011) as the start, then two Newton steps on erf(x) = a for full precision.
ERFINV = """
    if a != a:
        return a
    if a <= T(-1):
        return T(-INF) if a == T(-1) else T(NAN)
    if a >= T(1):
        return T(INF) if a == T(1) else T(NAN)
    w = -math.log((T(1) - a) * (T(1) + a))
    if w < T(5):
        w = w - T(2.5)
        p = T(2.81022636e-08)
        p = T(3.43273939e-07) + p * w
        p = T(-3.5233877e-06) + p * w
        p = T(-4.39150654e-06) + p * w
        p = T(0.00021858087) + p * w
        p = T(-0.00125372503) + p * w
        p = T(-0.00417768164) + p * w
        p = T(0.246640727) + p * w
        p = T(1.50140941) + p * w
    else:
        w = math.sqrt(w) - T(3)
        p = T(-0.000200214257)
        p = T(0.000100950558) + p * w
        p = T(0.00134934322) + p * w
        p = T(-0.00367342844) + p * w
        p = T(0.00573950773) + p * w
        p = T(-0.0076224613) + p * w
        p = T(0.00943887047) + p * w
        p = T(1.00167406) + p * w
        p = T(2.83297682) + p * w
    x = p * a
    for _ in range(2):
        d = T(1.1283791670955126) * math.exp(-x * x)
        if d > T(0):
            x = x - (math.erf(x) - a) / d
    return x
"""

ERFC = """
    return math.erfc(a)
"""

SOURCES = {"lgamma": LGAMMA, "digamma": DIGAMMA, "trigamma": TRIGAMMA, "erfinv": ERFINV, "erfc": ERFC}
