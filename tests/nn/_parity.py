"""Module parity with PyTorch: same constructor, same weights, same inputs; compare everything observable.

``pair(name, *args, **kwargs)`` builds ``tapegrad.nn.<name>`` and ``torch.nn.<name>`` in float64 with
torch's initial state copied into ours (after checking ours starts from the same deterministic
values, or in the same bounds); ``step`` runs one forward and backward on both and compares the
output, the input gradient, every parameter gradient and every buffer.
"""
import inspect

import numpy as np

import tapegrad


def np_(t):
    return None if t is None else t.detach().cpu().numpy()


def same_signature(torch, name):
    """Our constructor takes torch's parameters, in torch's order, with torch's defaults."""
    ours = inspect.signature(getattr(tapegrad.nn, name))
    theirs = inspect.signature(getattr(torch.nn, name))
    got = [(p.name, p.default, p.kind) for p in ours.parameters.values()]
    want = [(p.name, p.default, p.kind) for p in theirs.parameters.values()]
    assert got == want, f"{name}: {got} != {want}"


def check_state(ours, theirs, tol=0.0):
    """state_dict keys (in order), shapes, dtypes and values agree."""
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for k in a:
        x, y = np_(a[k]), b[k].detach().numpy()
        assert x.shape == y.shape and x.dtype == y.dtype, (k, x.shape, x.dtype, y.shape, y.dtype)
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=k)


def pair(torch, name, *args, **kwargs):
    """(ours, torch's) built with the same arguments, both float64, ours loaded with torch's state."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(tapegrad.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    theirs = theirs.double()
    ours = ours.double()
    ours.load_state_dict({k: tapegrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def step(torch, ours, theirs, x, tol=1e-10, seed=0):
    """One forward and backward on both with the same input and output gradient; compare all."""
    xo = tapegrad.tensor(x, dtype=tapegrad.float64, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(np_(yo), yt.detach().numpy(), rtol=tol, atol=tol, err_msg="output")
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    yo.backward(tapegrad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(np_(xo.grad), xt.grad.numpy(), rtol=tol, atol=tol, err_msg="input grad")
    po, pt = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(po) == list(pt)
    for k in po:
        np.testing.assert_allclose(np_(po[k].grad), pt[k].grad.numpy(), rtol=tol, atol=tol, err_msg=k + " grad")
    check_state(ours, theirs, tol)
    return yo, yt
