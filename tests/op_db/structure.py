"""OpSpecs for tapegrad/ops/structure.py: tril, triu (composed of where)."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad

from . import Example, OpSpec, add
from .elementwise import named, same


def matrices():
    """One shape with at least two dims (batch dims in front), sides 0 to 4."""
    return st.tuples(hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4))


def diagonal_kwargs(shapes):
    r, c = shapes[0][-2:]
    return st.fixed_dictionaries({"diagonal": st.integers(-r - 1, c + 1)})


_EXAMPLES = (Example([np.arange(12.0).reshape(3, 4)], {"diagonal": 0}),
             Example([np.arange(12.0).reshape(4, 3)], {"diagonal": -2}),
             Example([np.arange(6.0).reshape(1, 2, 3)], {"diagonal": 5}),
             Example([np.zeros((0, 3))], {"diagonal": 0}))

for _name, _np in (("tril", np.tril), ("triu", np.triu)):
    add(OpSpec(_name, (lambda n: lambda x, diagonal: getattr(tapegrad, n)(x, diagonal=diagonal))(_name),
               (lambda f: lambda x, diagonal: f(x, diagonal))(_np), matrices(), diagonal_kwargs,
               covers=("where",), examples=_EXAMPLES, torch_fn=named(_name)))
    add(OpSpec(f"{_name}_method", (lambda n: lambda x, diagonal: getattr(x, n)(diagonal))(_name),
               (lambda f: lambda x, diagonal: f(x, diagonal))(_np), matrices(), diagonal_kwargs,
               covers=("where",), torch_fn=same((lambda n: lambda x, diagonal: getattr(x, n)(diagonal))(_name))))
