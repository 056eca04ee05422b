"""OpSpecs for pooling through nn.functional: max/avg pooling (1-3 d), lp_pool, adaptive pooling, max_unpool.

Shapes are tiny (full Jacobians; the CUDA simulator runs the same specs).
Max pooling avoids ties in random draws (finite differences would cross
them) and checks them in kink examples against PyTorch: the gradient goes to
the first maximum of each window. The NumPy references loop over windows.
"""
import itertools

import numpy as np
from hypothesis import strategies as st

from tapegrad.nn import functional as TF

from . import Example, OpSpec, add
from .reduction import GAP


def _t(v, nd):
    return (v,) * nd if isinstance(v, int) else tuple(v)


def _out(n, k, s, p, d, ceil):
    o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    return o - 1 if ceil and (o - 1) * s >= n + p else o


def _unbatch(nd, fn):
    """Run a reference over (N, C, *S), adding the batch dim an unbatched input lacks."""
    def ref(x, *a, **kw):
        if x.ndim == nd + 1:
            return fn(x[None], *a, **kw)[0].astype(x.dtype)
        return fn(x, *a, **kw).astype(x.dtype)
    return ref


def _windows(sp, k, s, p, d, out):
    """Per output position: the in-input coordinates of its window (per dim) and the padded window's size."""
    for pos in itertools.product(*(range(o) for o in out)):
        coords = [[i * si - pi + j * di for j in range(ki)] for i, ki, si, pi, di in zip(pos, k, s, p, d)]
        yield pos, [[c for c in cs if 0 <= c < n] for cs, n in zip(coords, sp)], coords


def _ref_max(nd):
    def ref(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        k = _t(kernel_size, nd)
        s = k if stride is None else _t(stride, nd)
        p, d = _t(padding, nd), _t(dilation, nd)
        sp = x.shape[2:]
        out = tuple(_out(*a, ceil_mode) for a in zip(sp, k, s, p, d))
        y = np.empty(x.shape[:2] + out, x.dtype)
        for pos, inside, _ in _windows(sp, k, s, p, d, out):
            y[(Ellipsis,) + pos] = x[(Ellipsis,) + np.ix_(*inside)].reshape(x.shape[:2] + (-1,)).max(-1)
        return y
    return _unbatch(nd, ref)


def _ref_avg(nd):
    def ref(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
        k = _t(kernel_size, nd)
        s = k if stride is None else _t(stride, nd)
        p = _t(padding, nd)
        sp = x.shape[2:]
        out = tuple(_out(n, ki, si, pi, 1, ceil_mode) for n, ki, si, pi in zip(sp, k, s, p))
        y = np.empty(x.shape[:2] + out, x.dtype)
        for pos, inside, coords in _windows(sp, k, s, p, (1,) * nd, out):
            total = x[(Ellipsis,) + np.ix_(*inside)].reshape(x.shape[:2] + (-1,)).sum(-1)
            padded = np.prod([min(cs[-1] + 1, n + pi) - cs[0] for cs, n, pi in zip(coords, sp, p)])
            div = divisor_override or (padded if count_include_pad else np.prod([len(c) for c in inside]))
            y[(Ellipsis,) + pos] = total / div
        return y
    return _unbatch(nd, ref)


def _bounds(n, o):
    return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


def _ref_adaptive(nd, reduce):
    def ref(x, output_size):
        out = tuple(n if o is None else o for n, o in zip(x.shape[2:], _t(output_size, nd)))
        y = np.empty(x.shape[:2] + out, x.dtype)
        for pos in itertools.product(*(range(o) for o in out)):
            sl = tuple(slice(*_bounds(n, o)[i]) for n, o, i in zip(x.shape[2:], out, pos))
            y[(Ellipsis,) + pos] = reduce(x[(Ellipsis,) + sl].reshape(x.shape[:2] + (-1,)), -1)
        return y
    return _unbatch(nd, ref)


@st.composite
def _pool_shapes(draw, nd, lo=3):
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    return (batch + (draw(st.integers(1, 2)),) + tuple(draw(st.integers(lo, 5 if nd < 3 else 4)) for _ in range(nd)),)


def _pool_kwargs(nd, dilation=True, avg=False):
    @st.composite
    def kwargs(draw, shapes):
        sp = shapes[0][-nd:]
        k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
        d = tuple(draw(st.integers(1, 2)) if dilation else 1 for _ in range(nd))
        k = tuple(min(ki, (n - 1) // di + 1) for ki, n, di in zip(k, sp, d))     # the window fits the input
        s = draw(st.one_of(st.none(), st.tuples(*[st.integers(1, 2)] * nd)))
        p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
        kw = {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": draw(st.booleans())}
        if dilation:
            kw["dilation"] = d
        if avg:
            kw["count_include_pad"] = draw(st.booleans())
            if nd > 1 and draw(st.booleans()):
                kw["divisor_override"] = draw(st.integers(1, 5))
        return kw
    return kwargs


def _torch(name):
    return lambda torch, *a, **kw: getattr(torch.nn.functional, name)(*a, **kw)


def _top2_close(vals):
    v = np.sort(vals.reshape(vals.shape[:2] + (-1,)), -1)
    return v.shape[-1] > 1 and bool(np.any(v[..., -1] - v[..., -2] < GAP))


def _max_ties(nd):
    """True when some window's two largest values are within GAP (finite differences would cross the tie)."""
    def avoid(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        x = x[None] if x.ndim == nd + 1 else x
        k = _t(kernel_size, nd)
        s = k if stride is None else _t(stride, nd)
        p, d = _t(padding, nd), _t(dilation, nd)
        out = tuple(_out(*a, ceil_mode) for a in zip(x.shape[2:], k, s, p, d))
        return any(_top2_close(x[(Ellipsis,) + np.ix_(*inside)])
                   for _, inside, _ in _windows(x.shape[2:], k, s, p, d, out))
    return avoid


def _adaptive_ties(nd):
    def avoid(x, output_size):
        x = x[None] if x.ndim == nd + 1 else x
        out = _t(output_size, nd)
        return any(_top2_close(x[(Ellipsis,) + tuple(slice(*_bounds(n, o)[i])
                                                      for n, o, i in zip(x.shape[2:], out, pos))])
                   for pos in itertools.product(*(range(o) for o in out)))
    return avoid


_BIG = {1: (20, 17), 2: (6, 5), 3: (5, 3)}        # (side, kernel): windows of more than 16 taps
_TIE2 = np.array([[[[1., 1., 0.], [1., 2., 2.], [0., 2., 1.]]]])
for _nd in (1, 2, 3):
    _tie = {1: _TIE2.reshape(1, 1, 9), 2: _TIE2, 3: np.stack([_TIE2, _TIE2[..., ::-1]], 2)}[_nd]
    add(OpSpec(f"max_pool{_nd}d", lambda x, _f=getattr(TF, f"max_pool{_nd}d"), **kw: _f(x, **kw), _ref_max(_nd),
               _pool_shapes(_nd), _pool_kwargs(_nd), avoid=_max_ties(_nd),
               covers=("max_pool_indices", "getitem", "index_put_add", "reshape"), torch_fn=_torch(f"max_pool{_nd}d"),
               examples=(Example([_tie], {"kernel_size": 2, "stride": 1}, kink=True),
                         Example([_tie], {"kernel_size": 3, "padding": 1, "stride": 2, "ceil_mode": True}, kink=True),
                         Example([np.ones((2, 2) + (3,) * _nd)], {"kernel_size": 2, "stride": 1}, kink=True),
                         # more than 16 taps: the argmax path (ops/pooling.py)
                         Example([np.round(np.linspace(-2, 2, 2 * _BIG[_nd][0] ** _nd)).reshape(
                                     (1, 2) + (_BIG[_nd][0],) * _nd)],
                                 {"kernel_size": _BIG[_nd][1], "padding": 1}, kink=True))))
    add(OpSpec(f"avg_pool{_nd}d", lambda x, _f=getattr(TF, f"avg_pool{_nd}d"), **kw: _f(x, **kw), _ref_avg(_nd),
               _pool_shapes(_nd), _pool_kwargs(_nd, dilation=False, avg=True), covers=("conv", "conv_transpose"),
               torch_fn=_torch(f"avg_pool{_nd}d"), atol=1e-5, fwd_atol=1e-5))
    add(OpSpec(f"adaptive_avg_pool{_nd}d", lambda x, _f=getattr(TF, f"adaptive_avg_pool{_nd}d"), **kw: _f(x, **kw),
               _ref_adaptive(_nd, np.mean), _pool_shapes(_nd, lo=1),
               lambda shapes, nd=_nd: st.fixed_dictionaries(
                   {"output_size": st.integers(1, 4) if nd == 1 else
                    st.tuples(*[st.one_of(st.none(), st.integers(1, 4))] * nd)}),
               covers=("matmul", "reshape"), torch_fn=_torch(f"adaptive_avg_pool{_nd}d"), fwd_atol=1e-5))

for _nd in (1, 2):
    add(OpSpec(f"adaptive_max_pool{_nd}d", lambda x, _f=getattr(TF, f"adaptive_max_pool{_nd}d"), **kw: _f(x, **kw),
               _ref_adaptive(_nd, np.max), _pool_shapes(_nd, lo=1),
               lambda shapes, nd=_nd: st.fixed_dictionaries({"output_size": st.tuples(*[st.integers(1, 4)] * nd)}),
               avoid=_adaptive_ties(_nd), covers=("adaptive_max_pool_indices", "getitem", "index_put_add"),
               torch_fn=_torch(f"adaptive_max_pool{_nd}d"),
               examples=(Example([_TIE2.reshape((1, 1) + ((9,) if _nd == 1 else (3, 3)))], {"output_size": 2},
                                 kink=True),
                         Example([np.round(np.linspace(-2, 2, 50)).reshape((1, 2) + ((25,) if _nd == 1 else (5, 5)))],
                                 {"output_size": 1}, kink=True))))


def _ref_lp(nd):
    def ref(x, norm_type, kernel_size, stride=None, ceil_mode=False):
        s = _ref_avg(nd)(x ** norm_type, kernel_size, stride, 0, ceil_mode)
        return ((s * np.prod(_t(kernel_size, nd))) ** (1.0 / norm_type)).astype(x.dtype)
    return ref


for _nd in (1, 2):
    add(OpSpec(f"lp_pool{_nd}d", lambda x, _f=getattr(TF, f"lp_pool{_nd}d"), **kw: _f(x, **kw), _ref_lp(_nd),
               _pool_shapes(_nd), lambda shapes: st.fixed_dictionaries(
                   {"norm_type": st.sampled_from([1.0, 2.0, 3.0]), "kernel_size": st.integers(1, 3),
                    "stride": st.one_of(st.none(), st.integers(1, 2)), "ceil_mode": st.booleans()}),
               domain=(0.5, 2.0), covers=("power", "conv"), torch_fn=_torch(f"lp_pool{_nd}d"), atol=1e-5,
               fwd_atol=1e-5))


# max_unpool: each window's value lands at one position of it (indices drawn per window, no repeats)
def _unpool_index(nd):
    def index_args(shapes, kwargs):
        return st.integers(0, 2 ** 31).map(lambda seed: (_draw_unpool_index(shapes[0], nd, seed),))
    return index_args


def _draw_unpool_index(shape, nd, seed):
    rng = np.random.default_rng(seed)
    sp = shape[-nd:]
    out_sp = tuple(2 * n for n in sp)
    taps = rng.integers(0, 2, size=shape + (nd,))
    coords = [2 * np.arange(n).reshape((-1,) + (1,) * (nd - 1 - i)) + taps[..., i] for i, n in enumerate(sp)]
    flat = coords[0]
    for i in range(1, nd):
        flat = flat * out_sp[i] + coords[i]
    return flat


def _ref_unpool(nd):
    def ref(x, idx, kernel_size):
        lead = x.shape[:-nd]
        out = np.zeros(lead + (int(np.prod([2 * n for n in x.shape[-nd:]])),), x.dtype)
        np.put_along_axis(out, idx.reshape(lead + (-1,)), x.reshape(lead + (-1,)), -1)
        return out.reshape(lead + tuple(2 * n for n in x.shape[-nd:]))
    return ref


for _nd in (1, 2):
    add(OpSpec(f"max_unpool{_nd}d", lambda x, i, _f=getattr(TF, f"max_unpool{_nd}d"), **kw: _f(x, i, **kw),
               _ref_unpool(_nd), _pool_shapes(_nd, lo=1), lambda shapes: st.just({"kernel_size": 2}),
               int_args=(1,), index_args=_unpool_index(_nd), covers=("setitem",),
               torch_fn=_torch(f"max_unpool{_nd}d")))
