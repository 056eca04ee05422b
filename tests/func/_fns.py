"""Functions written once against a namespace ``m`` (tapegrad or torch) for the transform tests.

Each case: ``(name, make, shapes)``; ``make(m, const)`` returns the function, with
``const`` turning a NumPy array into a constant tensor of ``m``; ``shapes`` are the
float64 inputs' shapes. Values are drawn in [-1.5, 1.5] away from any kink.
"""
import numpy as np

W = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
V = np.array([0.5, -1.0, 2.0])


def _mlp(m, const):
    w1, w2 = const(W), const(W.T)

    def f(x):
        return (x @ w1).tanh() @ w2
    return f


CASES = [
    ("sin_mul", lambda m, c: (lambda x: x.sin() * x), [(3,)]),
    ("tanh_exp", lambda m, c: (lambda x: x.tanh().exp()), [(2, 3)]),
    ("sum_squares", lambda m, c: (lambda x: (x * x).sum()), [(4,)]),
    ("mean_dim", lambda m, c: (lambda x: (x.exp() * x).mean(0)), [(2, 3)]),
    ("logsumexp", lambda m, c: (lambda x: m.logsumexp(x, dim=-1)), [(2, 3)]),
    ("softmax", lambda m, c: (lambda x: m.softmax(x, dim=-1)), [(2, 3)]),
    ("log_softmax", lambda m, c: (lambda x: m.log_softmax(x * 2, dim=0)), [(3, 2)]),
    ("matmul_const", lambda m, c: (lambda x: x @ c(W)), [(2, 3)]),
    ("matmul_pair", lambda m, c: (lambda x, y: x @ y), [(2, 3), (3, 2)]),
    ("index_gather", lambda m, c: (lambda x: x[[0, 2, 2]] * x[1]), [(3,)]),
    ("slice_diff", lambda m, c: (lambda x: (x[..., 1:] - x[..., :-1]) ** 2), [(2, 4)]),
    ("norm_div", lambda m, c: (lambda x: x / (x * x).sum().add(1.0).sqrt()), [(3,)]),
    ("cumsum_sigmoid", lambda m, c: (lambda x: m.sigmoid(x).cumsum(-1) * x), [(4,)]),
    ("pair_mix", lambda m, c: (lambda x, y: (x * y.cos()).sum(-1) + (x * c(V)).sum()), [(2, 3), (2, 3)]),
    ("mlp_tanh", _mlp, [(2, 3)]),
]
IDS = [c[0] for c in CASES]


def draw_inputs(data, shapes, st, hnp):
    """Float64 arrays of ``shapes`` drawn with hypothesis, values in [-1.5, 1.5]."""
    return [data.draw(hnp.arrays(np.float64, s, elements=st.floats(-1.5, 1.5, allow_nan=False)), label=f"x{i}")
            for i, s in enumerate(shapes)]


def scalar(f):
    """``f`` made scalar-valued with a fixed, uneven weighting (so grad/hessian see every output)."""
    def g(*xs):
        y = f(*xs)
        return (y * y.new_tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)))).sum()
    return g
