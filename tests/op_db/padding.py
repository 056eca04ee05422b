"""OpSpecs for nn.functional.pad (nn/_functional/padding.py): every mode, negative pads, values, unbatched inputs."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tapegrad.nn import functional as TF

from . import Example, OpSpec, add


@st.composite
def _mode_shapes(draw):
    nd = draw(st.integers(1, 3))
    return (tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2)))) +
            tuple(draw(st.integers(1, 4 if nd < 3 else 3)) for _ in range(nd)),)


def _mode_kwargs(shapes):
    (shape,) = shapes

    @st.composite
    def kw(draw):
        mode = draw(st.sampled_from(["reflect", "replicate", "circular"]))
        nd = draw(st.integers(max(1, len(shape) - 2), min(3, len(shape) - 1)))
        pad = []
        for n in reversed(shape[len(shape) - nd:]):
            hi = {"reflect": n - 1, "replicate": 3, "circular": n}[mode]
            lo = -(n // 2) if mode != "replicate" else -(n // 2)
            pad += [draw(st.integers(lo, hi)), draw(st.integers(lo, hi))]
        for k in range(nd):
            n = shape[len(shape) - 1 - k]
            kept = n - max(-pad[2 * k], 0) - max(-pad[2 * k + 1], 0)
            if kept < 1 or (mode == "circular" and max(pad[2 * k], pad[2 * k + 1]) > kept):
                pad[2 * k:2 * k + 2] = [0, 0]
        return {"pad": tuple(pad), "mode": mode}
    return kw()


def _ref_index(mode, n, before, after):
    i = np.arange(-before, n + after)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i >= n, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    kept = np.arange(n)[max(-before, 0):n - max(-after, 0)]        # circular: PyTorch crops, then wraps
    return np.take(kept, np.arange(-max(before, 0), len(kept) + max(after, 0)), mode="wrap")


def ref_pad(x, pad, mode="constant", value=None):
    out = x
    for k in range(len(pad) // 2):
        d = x.ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        if mode == "constant":
            n = out.shape[d]
            out = np.take(out, np.arange(max(-before, 0), n - max(-after, 0)), axis=d)
            widths = [(0, 0)] * x.ndim
            widths[d] = (max(before, 0), max(after, 0))
            out = np.pad(out, widths, constant_values=0 if value is None else value)
        else:
            out = np.take(out, _ref_index(mode, out.shape[d], before, after), axis=d)
    return out


def _constant_kwargs(shapes):
    (shape,) = shapes
    n = len(shape)
    pads = st.integers(0, n).flatmap(lambda k: st.tuples(*[st.integers(-1, 2)] * (2 * k)))
    return st.fixed_dictionaries({"pad": pads.filter(lambda p: all(
        shape[n - 1 - i // 2] + p[i - i % 2] + p[i - i % 2 + 1] >= 0 for i in range(len(p)))),
        "value": st.sampled_from([None, 0.0, -1.5])})


_TORCH = lambda torch, x, **kw: torch.nn.functional.pad(x, **kw)   # noqa: E731

add(OpSpec("pad_constant", lambda x, **kw: TF.pad(x, **kw), ref_pad,
           st.tuples(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3)), _constant_kwargs,
           covers=("pad_axis", "cat", "narrow"), torch_fn=_TORCH,
           examples=(Example([np.ones((2, 3))], {"pad": (-1, -2)}), Example([np.ones((2, 3))], {"pad": (1, 0, 0, 2),
                                                                                                 "value": 4.0}))))
add(OpSpec("pad_modes", lambda x, **kw: TF.pad(x, **kw), ref_pad, _mode_shapes(), _mode_kwargs,
           covers=("getitem",), torch_fn=_TORCH,
           examples=tuple(Example([np.arange(12.0).reshape(1, 3, 4)], {"pad": p, "mode": m})
                          for m, p in (("reflect", (-1, 2)), ("circular", (-1, 2)), ("circular", (4, 4)),
                                       ("replicate", (3, -2)), ("reflect", (3, 0, 2, 2))))))
