"""OpSpecs for tapegrad/ops/conv.py through nn.functional: conv1d/2d/3d, conv_transpose1d/2d/3d, unfold, fold.

Shapes are tiny (the gradient harness builds full Jacobians, and the CUDA
simulator runs the same specs); groups, strides, dilations, padding strings,
unbatched inputs and an optional bias are drawn.
"""
import numpy as np
from hypothesis import strategies as st

from tapegrad.nn import functional as TF
from backend_cases import conv_ref, conv_transpose_ref

from . import Example, OpSpec, add

_CONV = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}
_CONVT = {1: TF.conv_transpose1d, 2: TF.conv_transpose2d, 3: TF.conv_transpose3d}
_KMAX = {1: 3, 2: 3, 3: 2}


@st.composite
def conv_shapes(draw, nd, transposed=False):
    """(x, w[, b]): x (N, G * ci, *S) or unbatched, w (O, ci, *K) (transposed: (G * ci, co, *K)) with S >= 2K - 1."""
    groups = draw(st.integers(1, 2))
    ci, co = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, _KMAX[nd])) for _ in range(nd))
    sp = tuple(draw(st.integers(1, 2)) if transposed else 2 * (ki - 1) + 1 + draw(st.integers(0, 2 if nd < 3 else 1))
               for ki in k)
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    x = batch + (groups * ci,) + sp
    w = ((groups * ci, co) if transposed else (groups * co, ci)) + k
    bias = draw(st.booleans())
    return (x, w, (groups * co,)) if bias else (x, w)


def _conv_kwargs(nd):
    def kwargs(shapes):
        x, w = shapes[:2]
        groups = x[-nd - 1] // w[1]
        stride = st.one_of(st.integers(1, 2), st.tuples(*[st.integers(1, 2)] * nd))
        dil = st.one_of(st.integers(1, 2), st.tuples(*[st.integers(1, 2)] * nd))
        pad = st.one_of(st.integers(0, 1), st.tuples(*[st.integers(0, 1)] * nd), st.just("valid"))
        plain = st.fixed_dictionaries({"stride": stride, "padding": pad, "dilation": dil, "groups": st.just(groups)})
        same = st.fixed_dictionaries({"padding": st.just("same"), "dilation": dil, "groups": st.just(groups)})
        return st.one_of(plain, same)
    return kwargs


def _tuple(v, nd):
    return (v,) * nd if isinstance(v, int) else tuple(v)


def _ref_conv(nd):
    def ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        unbatched = x.ndim == nd + 1
        x = x[None] if unbatched else x
        stride, dilation = _tuple(stride, nd), _tuple(dilation, nd)
        if padding == "same":
            totals = [d * (k - 1) for d, k in zip(dilation, w.shape[2:])]
            x = np.pad(x, ((0, 0), (0, 0)) + tuple((t // 2, t - t // 2) for t in totals))
            padding = 0
        padding = _tuple(0 if padding == "valid" else padding, nd)
        out = conv_ref(x, w, b, stride, padding, dilation, groups).astype(x.dtype)
        return out[0] if unbatched else out
    return ref


def _convt_kwargs(nd):
    def kwargs(shapes):
        x, w = shapes[:2]
        return _convt_config(nd, x[-nd:], w[2:], shapes[2][0] // w[1] if len(shapes) == 3 else None, w[0])
    return kwargs


@st.composite
def _convt_config(draw, nd, sp, k, groups, cin):
    if groups is None:
        groups = draw(st.sampled_from([g for g in (1, 2) if cin % g == 0]))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    opad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dil))
    pad = tuple(draw(st.integers(0, max(0, min(1, ((n - 1) * s + d * (ki - 1) + o) // 2))))
                for n, s, d, ki, o in zip(sp, stride, dil, k, opad))
    return {"stride": stride, "padding": pad, "output_padding": opad, "groups": groups, "dilation": dil}


def _ref_convt(nd):
    def ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        unbatched = x.ndim == nd + 1
        x = x[None] if unbatched else x
        out = conv_transpose_ref(x, w, b, _tuple(stride, nd), _tuple(padding, nd), _tuple(output_padding, nd),
                                 _tuple(dilation, nd), groups).astype(x.dtype)
        return out[0] if unbatched else out
    return ref


def _call(fn):
    return lambda x, w, b=None, **kw: fn(x, w, b, **kw)


def _torch_call(nd, name):
    return lambda torch, x, w, b=None, **kw: getattr(torch.nn.functional, f"{name}{nd}d")(x, w, b, **kw)


for _nd in (1, 2, 3):
    add(OpSpec(f"conv{_nd}d", _call(_CONV[_nd]), _ref_conv(_nd), conv_shapes(_nd), _conv_kwargs(_nd),
               covers=("conv", "conv_transpose", "conv_weight", "pad_axis"), atol=1e-5, fwd_atol=1e-5,
               torch_fn=_torch_call(_nd, "conv"),
               examples=(Example([np.ones((0, 2) + (3,) * _nd), np.ones((1, 2) + (2,) * _nd)]),
                         # 8 channels per group: the per-tap path of stride-1 convolutions (backend/_conv.py)
                         Example([np.linspace(-1, 1, 16 * 3 ** _nd).reshape((1, 16) + (3,) * _nd),
                                  np.linspace(1, -0.5, 16 * 2 ** _nd).reshape((2, 8) + (2,) * _nd)],
                                 {"groups": 2, "padding": "same"}))))
    # the transposed convolution's groups come from the bias when there is one (else drawn from the divisors)
    add(OpSpec(f"conv_transpose{_nd}d", _call(_CONVT[_nd]), _ref_convt(_nd), conv_shapes(_nd, transposed=True),
               _convt_kwargs(_nd), covers=("conv_transpose", "conv", "conv_weight"), atol=1e-5, fwd_atol=1e-5,
               torch_fn=_torch_call(_nd, "conv_transpose"),
               # output_padding >= stride (allowed below dilation): the input gradient's conv has windows to crop
               examples=(Example([np.linspace(-1, 1, 2 * 2 ** _nd).reshape((1, 2) + (2,) * _nd),
                                  np.linspace(0.5, -1, 2 * 2 ** _nd).reshape((2, 1) + (2,) * _nd)],
                                 {"stride": 1, "dilation": 2, "output_padding": 1}),
                         Example([np.linspace(-1, 1, 16 * 2 ** _nd).reshape((1, 16) + (2,) * _nd),
                                  np.linspace(1, -0.5, 16 * 2 ** _nd).reshape((16, 1) + (2,) * _nd)],
                                 {"groups": 2, "padding": 1, "dilation": 2}))))


def _ref_unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    k, d, p, s = (_tuple(v, 2) for v in (kernel_size, dilation, padding, stride))
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh, ow = ((n - di * (ki - 1) - 1) // si + 1 for n, ki, di, si in zip(xp.shape[2:], k, d, s))
    cols = [xp[:, :, i * d[0] + a * s[0], j * d[1] + b * s[1]]
            for a in range(oh) for b in range(ow) for i in range(k[0]) for j in range(k[1])]
    out = np.stack(cols, -1).reshape(x.shape[0], x.shape[1], oh * ow, k[0] * k[1])
    out = out.transpose(0, 1, 3, 2).reshape(x.shape[0], -1, oh * ow)
    return out[0] if unbatched else out


@st.composite
def _unfold_shapes(draw):
    return ((draw(st.sampled_from([(), (1,), (2,)])) + (draw(st.integers(1, 2)),)
             + (draw(st.integers(3, 5)), draw(st.integers(3, 5)))),)


def _unfold_kwargs(shapes):
    pair = st.one_of(st.integers(1, 2), st.tuples(st.integers(1, 2), st.integers(1, 2)))
    return st.fixed_dictionaries({"kernel_size": pair, "dilation": pair, "padding": st.integers(0, 1),
                                  "stride": pair})


add(OpSpec("unfold", lambda x, **kw: TF.unfold(x, **kw), _ref_unfold, _unfold_shapes(), _unfold_kwargs,
           covers=("unfold", "conv_transpose"),
           torch_fn=lambda torch, x, **kw: torch.nn.functional.unfold(x, **kw)))


def _ref_fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    unbatched = x.ndim == 2
    x = x[None] if unbatched else x
    k, d, p, s = (_tuple(v, 2) for v in (kernel_size, dilation, padding, stride))
    h, w = _tuple(output_size, 2)
    out = np.zeros((x.shape[0], x.shape[1] // (k[0] * k[1]), h + 2 * p[0], w + 2 * p[1]), x.dtype)
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    cols = x.reshape(x.shape[0], -1, k[0], k[1], oh, ow)
    for i in range(k[0]):
        for j in range(k[1]):
            for a in range(oh):
                for b in range(ow):
                    out[:, :, a * s[0] + i * d[0], b * s[1] + j * d[1]] += cols[:, :, i, j, a, b]
    out = out[:, :, p[0]:p[0] + h, p[1]:p[1] + w]
    return out[0] if unbatched else out


# fold's input shape follows from its arguments: two fixed configurations, channels and batch drawn
_FOLDS = {"fold": dict(output_size=(3, 4), kernel_size=2),                                 # 2 x 3 blocks of 4
          "fold_strided": dict(output_size=5, kernel_size=(2, 1), dilation=(1, 2), padding=(1, 0), stride=(2, 1))}
_FOLD_COLS = {"fold": (4, 6), "fold_strided": (2, 15)}     # (K, L)
for _name, _kw in _FOLDS.items():
    _kk, _blocks = _FOLD_COLS[_name]
    add(OpSpec(_name, lambda x, **kw: TF.fold(x, **kw), _ref_fold,
               st.tuples(st.builds(lambda b, c, kk=_kk, n=_blocks: b + (c * kk, n),
                                   st.sampled_from([(), (1,), (2,)]), st.integers(1, 2))),
               lambda shapes, kw=_kw: st.just(dict(kw)), covers=("conv_transpose",),
               torch_fn=lambda torch, x, **kw: torch.nn.functional.fold(x, **kw)))
