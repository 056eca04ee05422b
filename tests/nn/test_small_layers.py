"""Small layers against PyTorch's: channel-wise and alpha dropout, Embedding's extras, EmbeddingBag, Bilinear,
Unflatten, PairwiseDistance and CosineSimilarity (values, gradients, parameters, repr, errors)."""
import math
import warnings

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.nn import functional as F

torch = pytest.importorskip("torch")

R = np.random.default_rng(3)


# ----------------------------------------------------------------- dropout
@pytest.mark.parametrize("fn, shape, batched", [("dropout1d", (8, 6, 5), True), ("dropout1d", (6, 5), False),
                                                ("dropout2d", (4, 6, 3, 3), True),
                                                ("dropout3d", (3, 4, 2, 2, 2), True),
                                                ("dropout3d", (4, 2, 2, 2), False),
                                                ("feature_alpha_dropout", (8, 6, 5), True)])
def test_feature_dropout_masks_whole_channels(fn, shape, batched):
    tapegrad.manual_seed(0)
    x = tapegrad.tensor(R.uniform(1.0, 2.0, shape), requires_grad=True)
    y = getattr(F, fn)(x, 0.5, training=True)
    y.backward(tapegrad.ones(*shape))
    g = x.grad.numpy()
    lead = 2 if batched else 1
    per_channel = g.reshape(int(np.prod(shape[:lead])), -1)
    # the gradient is the mask's scale: constant over each channel, and both kept and dropped channels occur
    assert np.all(per_channel == per_channel[:, :1])
    assert len(set(per_channel[:, 0].round(12))) == 2
    assert tuple(y.shape) == shape


def test_dropout_scales_match_torch():
    """Each mask takes the two values PyTorch's takes (the RNG streams differ, the arithmetic must not)."""
    x = np.ones((400, 3, 2))
    for fn, train_kw in (("dropout1d", {}), ("alpha_dropout", {"training": True}),
                         ("feature_alpha_dropout", {"training": True})):
        for p in (0.2, 0.5):
            got = set(np.round(getattr(F, fn)(tapegrad.tensor(x), p, **train_kw).numpy().ravel(), 10))
            want = set(np.round(getattr(torch.nn.functional, fn)(torch.tensor(x), p, **train_kw).numpy().ravel(),
                                10))
            assert got == want, (fn, p)


def test_alpha_dropout_keeps_selu_statistics():
    tapegrad.manual_seed(1)
    z = tapegrad.randn(200000, dtype=tapegrad.float64)
    scale, alpha = 1.0507009873554805, 1.6732632423543772
    x = scale * tapegrad.where(z > 0, z, alpha * (z.exp() - 1))          # SELU of a standard normal
    y = F.alpha_dropout(x, 0.3, training=True)
    assert abs(y.mean().item() - x.mean().item()) < 0.02
    assert abs(y.std().item() - x.std().item()) < 0.02


def test_dropout_eval_unbatched_and_errors():
    x = tapegrad.ones(3, 4)
    for m in (nn.Dropout1d(), nn.Dropout2d(), nn.Dropout3d(), nn.AlphaDropout(), nn.FeatureAlphaDropout()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # dropout2d/3d's warnings about a 2-D input
            assert m.eval()(x).tolist() == x.tolist()
        assert repr(m) == repr(getattr(torch.nn, type(m).__name__)())
    assert F.alpha_dropout(x, 0.5) is x                        # training defaults to False, as PyTorch's
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(tapegrad.ones(2, 2, 2, 2))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(tapegrad.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(tapegrad.ones(3), training=True)
    assert F.dropout2d(tapegrad.ones(2, 3, 4, 4), 1.0).sum().item() == 0.0


# ----------------------------------------------------------------- Embedding
def test_embedding_max_norm_renormalizes_used_rows_in_place_as_torch():
    w = R.standard_normal((6, 3)) * 2
    idx = np.array([[0, 2, 2], [5, 0, 1]])
    for norm_type in (2.0, 1.0, 3.0):
        ours, theirs = tapegrad.tensor(w), torch.tensor(w)
        got = F.embedding(tapegrad.tensor(idx), ours, max_norm=1.0, norm_type=norm_type)
        want = torch.nn.functional.embedding(torch.tensor(idx), theirs, max_norm=1.0, norm_type=norm_type)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)     # rows 0, 1, 2, 5 changed
        np.testing.assert_array_equal(ours.numpy()[[3, 4]], w[[3, 4]])


def test_embedding_module_extras_match_torch():
    w = R.standard_normal((7, 3))
    idx = np.array([[1, 2, 1], [6, 1, 0]])
    kw = {"padding_idx": 0, "max_norm": 1.5, "norm_type": 2.0, "scale_grad_by_freq": True}
    m = nn.Embedding(7, 3, **kw)
    t = torch.nn.Embedding(7, 3, **kw)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(w))
    m.weight.data.copy_(tapegrad.tensor(w))
    go = np.linspace(0.5, 1.5, 18).reshape(2, 3, 3)
    m(tapegrad.tensor(idx)).backward(tapegrad.tensor(go))
    t(torch.tensor(idx)).backward(torch.tensor(go))
    # float32 parameters: a rounding apart at most
    np.testing.assert_allclose(m.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(m.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-6)
    assert repr(m) == repr(t)
    assert repr(nn.Embedding(5, 3, norm_type=1.0)) == repr(torch.nn.Embedding(5, 3, norm_type=1.0))


def test_embedding_from_pretrained_shares_and_freezes():
    w = tapegrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    e = nn.Embedding.from_pretrained(w, padding_idx=1)
    assert not e.weight.requires_grad and e.padding_idx == 1
    assert e(tapegrad.tensor([1])).tolist() == [[3.0, 4.0]]           # the padding row is not zeroed
    w[0, 0] = 9.0
    assert e.weight[0, 0].item() == 9.0                                # storage shared, as PyTorch
    e2 = nn.Embedding.from_pretrained(w, freeze=False)
    assert e2.weight.requires_grad
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w.numpy()), padding_idx=1)
    assert repr(e) == repr(t)
    with pytest.raises(ValueError, match="2-D"):
        nn.Embedding.from_pretrained(tapegrad.ones(3))
    assert nn.Embedding(3, 2, sparse=True).sparse is True        # sparse gradients: tests/sparse/
    assert nn.Embedding(3, 2, sparse=False).sparse is False


# ----------------------------------------------------------------- EmbeddingBag
BAG_W = R.standard_normal((6, 3))


@pytest.mark.parametrize("mode, case", [(m, c) for m in ("sum", "mean", "max")
                                        for c in ("offsets", "2d", "last_offset", "padding", "max_norm")]
                         + [("sum", "weights")])
def test_embedding_bag_matches_torch(mode, case):
    idx, kw, call = np.array([1, 2, 4, 5, 4, 3, 2, 0]), {}, {"offsets": np.array([0, 2, 2, 5])}
    if case == "2d":
        idx, call = idx.reshape(2, 4), {}
    elif case == "last_offset":
        kw, call = {"include_last_offset": True}, {"offsets": np.array([0, 3, 3, 8])}
    elif case == "padding":
        kw = {"padding_idx": 2}
    elif case == "max_norm":      # the used rows renormalized in place first (checked through the grads' table)
        kw = {"max_norm": 1.0, "norm_type": 1.5}
    elif case == "weights":       # with mode="sum" only (the error of the others is tested below)
        call["per_sample_weights"] = R.uniform(0.5, 1.5, idx.shape).astype(np.float32)   # the table's dtype
    res = []
    for lib in (tapegrad, torch):
        m = lib.nn.EmbeddingBag(6, 3, mode=mode, **kw)
        with (torch.no_grad() if lib is torch else tapegrad.no_grad()):
            m.weight.copy_(lib.tensor(BAG_W))
        args = {k: lib.tensor(v, requires_grad=k == "per_sample_weights") for k, v in call.items()}
        out = m(lib.tensor(idx), **args)
        out.backward(lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape))))
        extra = [args["per_sample_weights"].grad.numpy()] if "per_sample_weights" in args else []
        res.append([out.detach().numpy(), m.weight.grad.numpy(), m.weight.detach().numpy()] + extra + [repr(m)])
    for g, w in zip(res[0][:-1], res[1][:-1]):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)       # float32 parameters
    assert res[0][-1] == res[1][-1]


def test_embedding_bag_entries_past_the_last_offset():
    """With include_last_offset, the last bag ends at the last offset, as PyTorch 2.13's float32 sum does. (Its
    float64 sum and its max mode read on to the end of the input, and its float32 sum's backward sends those
    entries a gradient its forward did not use: PyTorch disagrees with itself there.)"""
    w = tapegrad.tensor(BAG_W, requires_grad=True)
    idx, offs = tapegrad.tensor([0, 1, 2, 3]), tapegrad.tensor([0, 1, 2])
    for mode in ("sum", "max"):
        out = F.embedding_bag(idx, w, offs, mode=mode, include_last_offset=True)
        np.testing.assert_allclose(out.detach().numpy(), BAG_W[[0, 1]], rtol=1e-12)
    w32 = BAG_W.astype(np.float32)
    got = F.embedding_bag(idx, tapegrad.tensor(w32), offs, mode="sum", include_last_offset=True)
    want = torch.nn.functional.embedding_bag(torch.tensor([0, 1, 2, 3]), torch.tensor(w32), torch.tensor([0, 1, 2]),
                                             mode="sum", include_last_offset=True)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    w.grad = None
    F.embedding_bag(idx, w, offs, mode="sum", include_last_offset=True).sum().backward()
    assert np.all(w.grad.numpy()[[2, 3]] == 0)


def test_embedding_bag_errors_and_from_pretrained():
    w = tapegrad.tensor(BAG_W)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(tapegrad.tensor([1, 2]), w)
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(tapegrad.tensor([1, 2]), w, tapegrad.tensor([1]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(tapegrad.tensor([[1, 2]]), w, per_sample_weights=tapegrad.ones(1, 2))
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        F.embedding_bag(tapegrad.tensor([[1, 2]]), w, mode="max", scale_grad_by_freq=True)
    with pytest.raises(ValueError, match="mode has to be one of"):
        nn.EmbeddingBag(3, 2, mode="min")
    bag = nn.EmbeddingBag.from_pretrained(w, mode="max")
    assert not bag.weight.requires_grad
    np.testing.assert_allclose(bag(tapegrad.tensor([[0, 1]])).numpy(), BAG_W[[0, 1]].max(0, keepdims=True))
    assert repr(bag) == repr(torch.nn.EmbeddingBag.from_pretrained(torch.tensor(BAG_W), mode="max"))


# ----------------------------------------------------------------- Bilinear, Unflatten, distances
def test_bilinear_matches_torch_and_initializes_as_torch():
    m = nn.Bilinear(3, 4, 2)
    t = torch.nn.Bilinear(3, 4, 2)
    bound = 1 / math.sqrt(3)
    assert np.all(np.abs(m.weight.detach().numpy()) <= bound) and np.all(np.abs(m.bias.detach().numpy()) <= bound)
    assert m.weight.detach().numpy().std() > bound / 4
    with torch.no_grad():
        t.weight.copy_(torch.tensor(m.weight.detach().numpy()))
        t.bias.copy_(torch.tensor(m.bias.detach().numpy()))
    x1, x2 = R.standard_normal((5, 2, 3)).astype(np.float32), R.standard_normal((5, 2, 4)).astype(np.float32)
    res = []
    for lib, mod in ((tapegrad, m), (torch, t)):
        a, b = lib.tensor(x1, requires_grad=True), lib.tensor(x2, requires_grad=True)
        out = mod(a, b)
        out.sum().backward()
        res.append([out.detach().numpy(), a.grad.numpy(), b.grad.numpy(), mod.weight.grad.numpy(),
                    mod.bias.grad.numpy()])
    for g, w in zip(*res):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert repr(m) == repr(t)
    assert sorted(m.state_dict()) == sorted(t.state_dict())
    assert repr(nn.Bilinear(1, 1, 1, bias=False)) == repr(torch.nn.Bilinear(1, 1, 1, bias=False))
    with pytest.raises(RuntimeError, match="do not match weight"):
        m(tapegrad.ones(5, 4), tapegrad.ones(5, 4))


def test_unflatten_as_torch():
    for dim, size in ((1, (2, 3)), (-1, (3, -1)), (0, [2, 3])):
        x = np.arange(24.0).reshape(4, 6)
        if dim == 0:
            x = x.T
        m, t = nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
        assert tuple(m(tapegrad.tensor(x)).shape) == tuple(t(torch.tensor(x)).shape)
        assert repr(m) == repr(t)
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, (2.0, 3))
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, 6)


def test_distance_modules_match_torch():
    x1, x2 = R.standard_normal((4, 5)), R.standard_normal((4, 5))
    for ours, theirs in ((nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
                         (nn.PairwiseDistance(p=1.0, eps=0.1, keepdim=True),
                          torch.nn.PairwiseDistance(p=1.0, eps=0.1, keepdim=True)),
                         (nn.CosineSimilarity(), torch.nn.CosineSimilarity()),
                         (nn.CosineSimilarity(dim=0, eps=3.0), torch.nn.CosineSimilarity(dim=0, eps=3.0))):
        res = []
        for lib, mod in ((tapegrad, ours), (torch, theirs)):
            a, b = lib.tensor(x1, requires_grad=True), lib.tensor(x2, requires_grad=True)
            out = mod(a, b)
            out.sum().backward()
            res.append([out.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
        for g, w in zip(*res):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13)
        assert repr(ours) == repr(theirs)
    assert nn.PairwiseDistance(p=3.0).norm == 3.0
