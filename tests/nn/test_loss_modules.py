"""Loss modules against PyTorch's: values and input gradients for every reduction, weights, ignore_index,
the legacy ``size_average``/``reduce`` keywords (and their warnings), repr, buffers and argument errors."""
import warnings

import numpy as np
import pytest

import tapegrad
from tapegrad import nn
from tapegrad.nn import functional as F

torch = pytest.importorskip("torch")

R = np.random.default_rng(7)
X = R.standard_normal((4, 5))
Y = R.standard_normal((4, 5))
POS = np.abs(Y) + 0.1
PM = np.sign(R.standard_normal(4))
PM5 = np.sign(Y)
CLS = np.array([0, 4, 2, 2])
W5 = R.uniform(0.5, 2.0, 5)
CTC_LP = R.standard_normal((6, 2, 4))
ML_T = np.array([[3, 0, -1, 1, 2], [0, 1, 2, 3, 4], [-1, 0, 0, 0, 0], [4, -1, 2, 2, 2]])

# name -> (constructor kwargs, call arguments as (array, differentiable?) pairs, ints/floats as they go)
CASES = {
    "MSELoss": ({}, [(X, True), (Y, True)]),
    "L1Loss": ({}, [(X, True), (Y, True)]),
    "SmoothL1Loss": ({"beta": 0.5}, [(X, True), (Y, True)]),
    "HuberLoss": ({"delta": 0.7}, [(X, True), (Y, True)]),
    "KLDivLoss": ({"log_target": False}, [(X, True), (POS, True)]),
    "PoissonNLLLoss": ({"full": True}, [(X, True), (POS * 3, False)]),
    "GaussianNLLLoss": ({"full": True, "eps": 0.05}, [(X, True), (Y, True), (POS, True)]),
    "SoftMarginLoss": ({}, [(X, True), (PM5, False)]),
    "MultiLabelSoftMarginLoss": ({"weight": W5}, [(X, True), ((Y > 0) * 1.0, False)]),
    "CosineEmbeddingLoss": ({"margin": 0.2}, [(X, True), (Y, True), (PM, False)]),
    "MarginRankingLoss": ({"margin": 0.3}, [(X[:, 0], True), (Y[:, 0], True), (PM, False)]),
    "TripletMarginLoss": ({"margin": 0.5, "p": 1.0, "swap": True}, [(X, True), (Y, True), (X * 0.3 - Y, True)]),
    "HingeEmbeddingLoss": ({"margin": 0.5}, [(X, True), (PM5, False)]),
    "MultiMarginLoss": ({"p": 2, "margin": 0.8, "weight": W5}, [(X, True), (CLS, False)]),
    "MultiLabelMarginLoss": ({}, [(X, True), (ML_T, False)]),
    "CrossEntropyLoss": ({"weight": W5, "ignore_index": 2, "label_smoothing": 0.1}, [(X, True), (CLS, False)]),
    "NLLLoss": ({"weight": W5, "ignore_index": 4}, [(X, True), (CLS, False)]),
    "BCELoss": ({"weight": W5}, [(1 / (1 + np.exp(-X)), True), ((Y > 0) * 1.0, False)]),
    "BCEWithLogitsLoss": ({"weight": W5, "pos_weight": W5[::-1].copy()}, [(X, True), ((Y > 0) * 1.0, False)]),
}
WEIGHTED = {"weight", "pos_weight"}


def _build(lib, name, kwargs, reduction):
    kw = {k: (lib.tensor(v) if k in WEIGHTED else v) for k, v in kwargs.items()}
    if reduction is not None:
        kw["reduction"] = reduction
    return getattr(lib.nn, name)(**kw)


def _args(lib, args):
    return [lib.tensor(a, requires_grad=g) for a, g in args]


def _run(lib, module, args):
    xs = _args(lib, args)
    out = module(*xs)
    w = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
    (out * w).sum().backward()
    return out.detach().numpy(), [x.grad.numpy() for x in xs if x.requires_grad]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_module_matches_torch(name, reduction):
    kwargs, args = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # KLDivLoss's 'mean' warning, checked below
        got = _run(tapegrad, _build(tapegrad, name, kwargs, reduction), args)
        want = _run(torch, _build(torch, name, kwargs, reduction), args)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12, err_msg=f"{name} {reduction} value")
    assert got[0].shape == want[0].shape
    for i, (g, w) in enumerate(zip(got[1], want[1])):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=f"{name} {reduction} grad {i}")


def test_kl_div_batchmean_and_mean_warning():
    x, t = X, POS
    got = nn.KLDivLoss(reduction="batchmean")(tapegrad.tensor(x), tapegrad.tensor(t))
    want = torch.nn.KLDivLoss(reduction="batchmean")(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(tapegrad.tensor(x), tapegrad.tensor(t))
    with pytest.raises(ValueError, match="batchmean"):
        F.mse_loss(tapegrad.tensor(x), tapegrad.tensor(t), reduction="batchmean")


def test_ctc_loss_module_matches_torch_with_tuple_and_tensor_lengths():
    targets = np.array([[1, 2, 2], [3, 1, 0]])
    for lengths in (((6, 4), (3, 2)), "tensors"):
        res = []
        for lib in (tapegrad, torch):
            x = lib.tensor(CTC_LP, requires_grad=True)
            il, tl = ((6, 4), (3, 2)) if lengths != "tensors" else (lib.tensor([6, 4]), lib.tensor([3, 2]))
            loss = lib.nn.CTCLoss(blank=0, reduction="mean")(x.log_softmax(2), lib.tensor(targets), il, tl)
            loss.backward()
            res.append((loss.item(), x.grad.numpy()))
        np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-10)
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-8, atol=1e-12)


def test_ctc_loss_raw_log_probs_gradient_is_torch_s():
    """PyTorch's CTC gradient w.r.t. the log-probs themselves has an exp(lp) term (Note [ctc gradient])."""
    targets = np.array([1, 2, 3, 1])            # concatenated: lengths 2 and 2
    res = []
    for lib in (tapegrad, torch):
        lp = lib.tensor(CTC_LP, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(lp, lib.tensor(targets), [6, 5], [2, 2], reduction="sum")
        loss.backward()
        res.append(lp.grad.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-8, atol=1e-12)


def test_ctc_loss_zero_infinity_and_errors():
    x = tapegrad.tensor(CTC_LP).log_softmax(2).requires_grad_(True)
    t = tapegrad.tensor([[1, 1, 1], [2, 0, 0]])
    # sample 0 needs 5 steps for "1 1 1" and gets 2: impossible
    loss = F.ctc_loss(x, t, [2, 6], [3, 1], reduction="none")
    assert np.isinf(loss.tolist()[0])
    z = F.ctc_loss(x, t, [2, 6], [3, 1], reduction="none", zero_infinity=True)
    assert z.tolist()[0] == 0.0
    z.sum().backward()
    assert np.all(x.grad.numpy()[:, 0] == 0)
    with pytest.raises(RuntimeError, match="input_lengths to have value at most 6"):
        F.ctc_loss(x, t, [7, 6], [3, 1])
    with pytest.raises(RuntimeError, match="differ from blank"):
        F.ctc_loss(x, tapegrad.tensor([[0, 1, 1], [2, 0, 0]]), [6, 6], [3, 1])
    with pytest.raises(RuntimeError, match="concatenated targets"):
        F.ctc_loss(x, tapegrad.tensor([1, 2, 3]), [6, 6], [3, 1])
    with pytest.raises(NotImplementedError, match="create_graph"):
        tapegrad.autograd.grad(F.ctc_loss(x, t, [6, 6], [3, 1]), x, create_graph=True)


@pytest.mark.parametrize("size_average, reduce, want", [(None, False, "none"), (False, None, "sum"),
                                                        (True, True, "mean"), (False, False, "none"),
                                                        (None, True, "mean")])
def test_legacy_keywords_on_modules(size_average, reduce, want):
    for name in ("MSELoss", "L1Loss", "SmoothL1Loss", "KLDivLoss", "PoissonNLLLoss", "SoftMarginLoss",
                 "CosineEmbeddingLoss", "MarginRankingLoss", "TripletMarginLoss", "HingeEmbeddingLoss",
                 "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiLabelMarginLoss", "CrossEntropyLoss",
                 "NLLLoss", "BCELoss", "BCEWithLogitsLoss"):
        with pytest.warns(UserWarning, match=f"please use reduction='{want}' instead"):
            m = getattr(nn, name)(size_average=size_average, reduce=reduce)
        with pytest.warns(UserWarning):
            t = getattr(torch.nn, name)(size_average=size_average, reduce=reduce)
        assert m.reduction == t.reduction == want, name


LEGACY_F = {
    "mse_loss": [X, Y], "l1_loss": [X, Y], "smooth_l1_loss": [X, Y], "kl_div": [X, POS],
    "poisson_nll_loss": [X, POS], "soft_margin_loss": [X, PM5], "hinge_embedding_loss": [X, PM5],
    "multilabel_soft_margin_loss": [X, (Y > 0) * 1.0], "cosine_embedding_loss": [X, Y, PM],
    "margin_ranking_loss": [X[:, 0], Y[:, 0], PM], "triplet_margin_loss": [X, Y, -X],
    "multi_margin_loss": [X, CLS], "multilabel_margin_loss": [X, ML_T], "cross_entropy": [X, CLS],
    "nll_loss": [X, CLS], "binary_cross_entropy": [1 / (1 + np.exp(-X)), (Y > 0) * 1.0],
    "binary_cross_entropy_with_logits": [X, (Y > 0) * 1.0],
}


@pytest.mark.parametrize("name", sorted(LEGACY_F))
def test_legacy_keywords_on_functions(name):
    for kw, want in (({"reduce": False}, "none"), ({"size_average": False}, "sum")):
        with pytest.warns(UserWarning, match=f"reduction='{want}'"):
            got = getattr(F, name)(*[tapegrad.tensor(a) for a in LEGACY_F[name]], **kw)
        with pytest.warns(UserWarning):
            ref = getattr(torch.nn.functional, name)(*[torch.tensor(a) for a in LEGACY_F[name]], **kw)
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-10, err_msg=f"{name} {kw}")


def test_legacy_positional_order_is_torch_s():
    # mse_loss(input, target, size_average, reduce, reduction): the third positional is size_average
    with pytest.warns(UserWarning, match="reduction='sum'"):
        got = F.mse_loss(tapegrad.tensor(X), tapegrad.tensor(Y), False)
    np.testing.assert_allclose(got.item(), ((X - Y) ** 2).sum(), rtol=1e-12)


def test_reprs_buffers_and_state_dict_match_torch():
    for name, (kwargs, _) in CASES.items():
        m, t = _build(tapegrad, name, kwargs, "sum"), _build(torch, name, kwargs, "sum")
        assert repr(m) == repr(t), name
        assert sorted(m.state_dict()) == sorted(t.state_dict()), name
        for k, v in t.state_dict().items():
            assert tuple(m.state_dict()[k].shape) == tuple(v.shape), (name, k)
    assert repr(nn.CTCLoss(blank=3)) == repr(torch.nn.CTCLoss(blank=3)) == "CTCLoss()"


def test_loss_argument_errors():
    x = tapegrad.tensor(X)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.SmoothL1Loss(reduction="avg")
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, x, tapegrad.tensor(-POS))
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, tapegrad.ones(4, 2))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, tapegrad.tensor(CLS), p=3)
    with pytest.raises(IndexError, match="target out of range"):
        F.multi_margin_loss(x, tapegrad.tensor([0, 5, 1, 1]))
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(x, x[:, 0], tapegrad.tensor(PM))
    with pytest.raises(RuntimeError, match="expects 2D input"):
        F.cosine_embedding_loss(x[0], x[0], tapegrad.tensor(PM))
    with pytest.warns(UserWarning, match="different to the input size"):
        F.smooth_l1_loss(x, x[0])


def test_huber_and_mse_weight_as_torch():
    w = R.uniform(0.5, 2.0, X.shape)
    for name in ("huber_loss", "mse_loss", "l1_loss"):
        for reduction in ("none", "mean", "sum"):
            got = getattr(F, name)(tapegrad.tensor(X), tapegrad.tensor(Y), reduction=reduction,
                                   weight=tapegrad.tensor(w))
            want = getattr(torch.nn.functional, name)(torch.tensor(X), torch.tensor(Y), reduction=reduction,
                                                     weight=torch.tensor(w))
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, err_msg=f"{name} {reduction}")


def test_gaussian_nll_var_broadcasting_as_torch():
    x, y = R.standard_normal((3, 2, 4)), R.standard_normal((3, 2, 4))
    for v in (np.abs(R.standard_normal((3, 2))), np.abs(R.standard_normal((3, 1, 4))), 0.5):
        tv = torch.tensor(v) if not isinstance(v, float) else v
        gv = tapegrad.tensor(v) if not isinstance(v, float) else v
        got = F.gaussian_nll_loss(tapegrad.tensor(x), tapegrad.tensor(y), gv, reduction="none")
        want = torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(y), tv, reduction="none")
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
