"""``nn.utils.parametrizations.orthogonal(orthogonal_map="cayley")`` against PyTorch: state dict, weights,
orthogonality, and a training step's gradients, at the start and away from it, square and rectangular."""
import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.nn.utils import parametrizations

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


def _step(ours, theirs, x):
    ours.zero_grad(), theirs.zero_grad()
    yo, yt = ours(tapegrad.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(_np(yo), _np(yt), rtol=1e-9, atol=1e-12)
    (yo ** 2).sum().backward()
    (yt ** 2).sum().backward()
    po, pt = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(po) == list(pt)
    for k in po:
        np.testing.assert_allclose(_np(po[k].grad), _np(pt[k].grad), rtol=1e-8, atol=1e-11, err_msg=k)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_cayley_matches_torch(shape):
    rng = np.random.default_rng(0)
    theirs = torch.nn.Linear(shape[1], shape[0]).double()
    ours = nn.Linear(shape[1], shape[0]).double()
    ours.load_state_dict({k: tapegrad.tensor(_np(v)) for k, v in theirs.state_dict().items()})
    parametrizations.orthogonal(ours, orthogonal_map="cayley")
    torch.nn.utils.parametrizations.orthogonal(theirs, orthogonal_map="cayley")
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    base = theirs.parametrizations.weight[0].base          # rectangular weights get random completing columns
    ours.parametrizations.weight[0].base.copy_(tapegrad.tensor(_np(base)))
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=1e-9, atol=1e-12)
    x = rng.standard_normal((3, shape[1]))
    _step(ours, theirs, x)
    with torch.no_grad():                                   # away from the starting point: the solve matters
        theirs.parametrizations.weight.original.add_(torch.tensor(0.4 * rng.standard_normal(shape)))
    ours.parametrizations.weight.original.data = tapegrad.tensor(_np(theirs.parametrizations.weight.original).copy())
    _step(ours, theirs, x)
    w = _np(ours.weight)
    small = min(shape)
    np.testing.assert_allclose(w @ w.T if shape[0] == small else w.T @ w, np.eye(small), atol=1e-10)
