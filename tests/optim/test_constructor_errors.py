"""Bad optimizer and scheduler constructions, run against torch and tapegrad: same exception type and phrase.

Each case is ``(id, build, expected)``: ``build(lib)`` constructs something with ``lib`` bound to torch or
tapegrad; ``expected`` is ``None`` (both accept it) or ``(ExceptionType, key phrase)``. Where torch is
installed the table is also checked against torch itself, so a case cannot encode a wrong belief about it.
"""
import math
import warnings

import pytest

import tapegrad

NAN = math.nan


def _p(lib):
    return lib.nn.Parameter(lib.ones(2, dtype=lib.float64))


def _opt(name, **kw):
    return lambda lib: getattr(lib.optim, name)([_p(lib)], **kw)


def _sched(name, *args, groups=1, **kw):
    def build(lib):
        opt = lib.optim.SGD([{"params": [_p(lib)]} for _ in range(groups)], lr=0.1)
        return getattr(lib.optim.lr_scheduler, name)(opt, *args, **kw)
    return build


def _tensor(*v):
    return lambda lib: lib.tensor(list(v) if len(v) > 1 else v[0])


def _with_tensor(name, key, make, **kw):
    return lambda lib: getattr(lib.optim, name)([_p(lib)], **{key: make(lib)}, **kw)


def _two_groups(lib):
    w = _p(lib)
    return lib.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)


def _non_leaf(lib):
    return lib.optim.Adam([_p(lib) * 2])


def _non_leaf_retained(lib):
    y = _p(lib) * 2
    y.retain_grad()
    return lib.optim.Adam([y])


def _named_mixed(lib):
    lin = lib.nn.Linear(2, 1)
    return lib.optim.SGD([("w", lin.weight), lin.bias], lr=0.1)


def _names_then_plain(lib):
    opt = lib.optim.SGD(list(lib.nn.Linear(2, 1).named_parameters()), lr=0.1)
    opt.add_param_group({"params": [_p(lib)]})


def _group_not_dict(lib):
    lib.optim.SGD([_p(lib)], lr=0.1).add_param_group([_p(lib)])


def _step_twice(build):
    def run(lib):
        s = build(lib)
        s.optimizer.step()
        s.step()
    return run


INVALID_LR = (ValueError, "invalid learning rate")
CASES = [
    # learning rates: Adam, AdamW, RMSprop test ``not 0 <= lr`` (NaN fails); torch's SGD tests ``lr < 0``
    ("Adam-lr-nan", _opt("Adam", lr=NAN), INVALID_LR),
    ("AdamW-lr-nan", _opt("AdamW", lr=NAN), INVALID_LR),
    ("RMSprop-lr-nan", _opt("RMSprop", lr=NAN), INVALID_LR),
    ("SGD-lr-nan", _opt("SGD", lr=NAN), None),
    ("SGD-lr-negative", _opt("SGD", lr=-1e-3), INVALID_LR),
    ("Adam-lr-negative", _opt("Adam", lr=-1.0), INVALID_LR),
    ("RMSprop-lr-negative", _opt("RMSprop", lr=-1.0), INVALID_LR),
    ("Adam-lr-inf", _opt("Adam", lr=math.inf), None),
    ("SGD-lr-str", _opt("SGD", lr="0.1"), (TypeError, "not supported between")),
    ("SGD-no-lr-default", _opt("SGD"), None),
    # learning rate as a tensor: one element allowed, more refused
    ("SGD-lr-tensor-1", _with_tensor("SGD", "lr", _tensor(0.1)), None),
    ("Adam-lr-tensor-0d", _with_tensor("Adam", "lr", _tensor(0.1)), None),
    ("SGD-lr-tensor-2", _with_tensor("SGD", "lr", _tensor(0.1, 0.2)), (ValueError, "tensor lr must be 1-element")),
    ("Adam-lr-tensor-2", _with_tensor("Adam", "lr", _tensor(0.1, 0.2)), (ValueError, "tensor lr must be 1-element")),
    ("RMSprop-lr-tensor-2", _with_tensor("RMSprop", "lr", _tensor(0.1, 0.2)),
     (ValueError, "tensor lr must be 1-element")),
    # eps, weight decay, momentum, alpha, dampening
    ("Adam-eps-nan", _opt("Adam", eps=NAN), (ValueError, "invalid epsilon value")),
    ("AdamW-eps-negative", _opt("AdamW", eps=-1e-8), (ValueError, "invalid epsilon value")),
    ("RMSprop-eps-nan", _opt("RMSprop", eps=NAN), (ValueError, "invalid epsilon value")),
    ("Adam-wd-nan", _opt("Adam", weight_decay=NAN), (ValueError, "invalid weight_decay value")),
    ("AdamW-wd-negative", _opt("AdamW", weight_decay=-0.1), (ValueError, "invalid weight_decay value")),
    ("RMSprop-wd-nan", _opt("RMSprop", weight_decay=NAN), (ValueError, "invalid weight_decay value")),
    ("SGD-wd-negative", _opt("SGD", lr=0.1, weight_decay=-0.1), (ValueError, "invalid weight_decay value")),
    ("SGD-wd-nan", _opt("SGD", lr=0.1, weight_decay=NAN), None),
    ("SGD-wd-tensor", _with_tensor("SGD", "weight_decay", _tensor(0.1), lr=0.1), None),
    ("SGD-momentum-negative", _opt("SGD", lr=0.1, momentum=-0.5), (ValueError, "invalid momentum value")),
    ("SGD-momentum-nan", _opt("SGD", lr=0.1, momentum=NAN), None),
    ("RMSprop-momentum-nan", _opt("RMSprop", momentum=NAN), (ValueError, "invalid momentum value")),
    ("RMSprop-momentum-negative", _opt("RMSprop", momentum=-0.1), (ValueError, "invalid momentum value")),
    ("RMSprop-alpha-nan", _opt("RMSprop", alpha=NAN), (ValueError, "invalid alpha value")),
    ("RMSprop-alpha-negative", _opt("RMSprop", alpha=-0.1), (ValueError, "invalid alpha value")),
    ("RMSprop-alpha-above-1", _opt("RMSprop", alpha=2.0), None),
    ("SGD-dampening-negative", _opt("SGD", lr=0.1, momentum=0.9, dampening=-1.0), None),
    # Nesterov
    ("SGD-nesterov-no-momentum", _opt("SGD", lr=0.1, nesterov=True), (ValueError, "nesterov momentum requires")),
    ("SGD-nesterov-dampening", _opt("SGD", lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     (ValueError, "nesterov momentum requires")),
    ("SGD-nesterov-ok", _opt("SGD", lr=0.1, momentum=0.9, nesterov=True), None),
    # betas
    ("Adam-beta0-nan", _opt("Adam", betas=(NAN, 0.9)), (ValueError, "invalid beta parameter at index 0")),
    ("Adam-beta1-nan", _opt("Adam", betas=(0.9, NAN)), (ValueError, "invalid beta parameter at index 1")),
    ("Adam-beta0-one", _opt("Adam", betas=(1.0, 0.9)), (ValueError, "invalid beta parameter at index 0")),
    ("AdamW-beta1-one", _opt("AdamW", betas=(0.9, 1.0)), (ValueError, "invalid beta parameter at index 1")),
    ("Adam-beta0-negative", _opt("Adam", betas=(-0.1, 0.9)), (ValueError, "invalid beta parameter at index 0")),
    ("Adam-betas-int", _opt("Adam", betas=(0, 0.9)), (ValueError, "betas must be either both floats or both")),
    ("Adam-betas-one-item", _opt("Adam", betas=(0.9,)), (IndexError, "")),
    ("Adam-betas-tensors", lambda lib: lib.optim.Adam([_p(lib)], betas=(lib.tensor(0.9), lib.tensor(0.99))),
     None),
    ("AdamW-betas-mixed", lambda lib: lib.optim.AdamW([_p(lib)], betas=(lib.tensor(0.9), 0.99)),
     (ValueError, "betas must be either both floats or both")),
    # parameters
    ("empty-list", lambda lib: lib.optim.SGD([], lr=0.1), (ValueError, "optimizer got an empty parameter list")),
    ("empty-iterator", lambda lib: lib.optim.Adam(iter([])), (ValueError, "optimizer got an empty parameter list")),
    ("empty-checks-hyperparameters-first", lambda lib: lib.optim.Adam([], lr=NAN), INVALID_LR),
    ("SGD-empty-checks-hyperparameters-first", lambda lib: lib.optim.SGD([], lr=-1.0), INVALID_LR),
    ("RMSprop-empty-checks-hyperparameters-first", lambda lib: lib.optim.RMSprop([], alpha=NAN),
     (ValueError, "invalid alpha value")),
    ("tensor-not-iterable", lambda lib: lib.optim.SGD(_p(lib), lr=0.1),
     (TypeError, "should be an iterable of tensors or dicts")),
    ("set-in-group", lambda lib: lib.optim.SGD([{"params": {_p(lib)}}], lr=0.1),
     (TypeError, "ordered collections")),
    ("not-a-tensor", lambda lib: lib.optim.SGD([1.0], lr=0.1), (TypeError, "can only optimize tensors")),
    ("same-param-two-groups", _two_groups, (ValueError, "some parameters appear in more than one parameter group")),
    ("non-leaf", _non_leaf, (ValueError, "can't optimize a non-leaf tensor")),
    ("non-leaf-retains-grad", _non_leaf_retained, None),
    ("group-not-dict", _group_not_dict, (TypeError, "param_group must be a dict")),
    ("group-without-params", lambda lib: lib.optim.SGD([_p(lib)], lr=0.1).add_param_group({"lr": 0.1}),
     (KeyError, "params")),
    ("named-parameters", lambda lib: lib.optim.Adam(lib.nn.Linear(2, 1).named_parameters()), None),
    ("names-partly-missing", _named_mixed, (ValueError, "some param names are missing")),
    ("names-then-unnamed-group", _names_then_plain, (ValueError, "with/without names")),
    # PyTorch's implementation switches: accepted (one implementation here), contradictions refused as there
    ("SGD-foreach-fused-flags", _opt("SGD", lr=0.1, foreach=False, fused=None, differentiable=False), None),
    ("Adam-fused", _opt("Adam", fused=True), None),
    ("AdamW-capturable-foreach", _opt("AdamW", capturable=True, foreach=False), None),
    ("RMSprop-flags-positional", lambda lib: lib.optim.RMSprop([_p(lib)], 0.01, 0.99, 1e-8, 0.0, 0.0, False, False,
                                                                None, True), None),
    ("Adam-decoupled", _opt("Adam", decoupled_weight_decay=True), None),
    ("Adam-fused-and-foreach", _opt("Adam", fused=True, foreach=True), (RuntimeError, "cannot be `true` together")),
    ("SGD-fused-and-foreach", _opt("SGD", lr=0.1, fused=True, foreach=True),
     (RuntimeError, "cannot be `true` together")),
    ("Adam-unknown-kwarg", _opt("Adam", nesterov=True), (TypeError, "unexpected keyword argument")),
    # schedulers
    ("StepLR-not-optimizer", lambda lib: lib.optim.lr_scheduler.StepLR(object(), step_size=1),
     (TypeError, "is not an optimizer")),
    ("ExponentialLR-not-optimizer", lambda lib: lib.optim.lr_scheduler.ExponentialLR(object(), gamma=0.5),
     (TypeError, "is not an optimizer")),
    ("Cosine-not-optimizer", lambda lib: lib.optim.lr_scheduler.CosineAnnealingLR(object(), T_max=3),
     (TypeError, "is not an optimizer")),
    ("StepLR-resume-without-initial_lr", _sched("StepLR", step_size=1, last_epoch=3), (KeyError, "initial_lr")),
    ("ExponentialLR-resume-without-initial_lr", _sched("ExponentialLR", 0.5, last_epoch=0),
     (KeyError, "initial_lr")),
    ("LambdaLR-resume-without-initial_lr", _sched("LambdaLR", lambda e: 1.0, last_epoch=2),
     (KeyError, "initial_lr")),
    ("ExponentialLR-no-gamma", _sched("ExponentialLR"), (TypeError, "gamma")),
    ("StepLR-gamma-nan", _sched("StepLR", step_size=1, gamma=NAN), None),
    ("Cosine-eta_min-nan", _sched("CosineAnnealingLR", T_max=3, eta_min=NAN), None),
    ("LambdaLR-too-few", _sched("LambdaLR", [lambda e: 1.0], groups=2), (ValueError, "expected 2 lr_lambdas")),
    ("LambdaLR-too-many", _sched("LambdaLR", (lambda e: 1.0,) * 3, groups=2),
     (ValueError, "expected 2 lr_lambdas, but got 3")),
    ("LambdaLR-not-callable", _sched("LambdaLR", 3), (TypeError, "int")),
    ("LambdaLR-item-not-callable", _sched("LambdaLR", [lambda e: 1.0, "x"], groups=2), (TypeError, "str")),
]

# Deliberate differences, each checked on both sides: tapegrad refuses at construction what torch accepts and
# then fails on later (ZeroDivisionError at the first step() that uses it) or silently misuses.
STRICTER = [
    ("StepLR-step_size-0", _sched("StepLR", step_size=0), (ValueError, "step_size"),
     _step_twice(_sched("StepLR", step_size=0)), ZeroDivisionError),
    ("StepLR-step_size-negative", _sched("StepLR", step_size=-2), (ValueError, "step_size"), None, None),
    ("Cosine-T_max-0", _sched("CosineAnnealingLR", T_max=0), (ValueError, "T_max"),
     _step_twice(_sched("CosineAnnealingLR", T_max=0)), ZeroDivisionError),
    ("Cosine-T_max-negative", _sched("CosineAnnealingLR", T_max=-3), (ValueError, "T_max"), None, None),
    ("LambdaLR-not-optimizer", lambda lib: lib.optim.lr_scheduler.LambdaLR(object(), lambda e: 1.0),
     (TypeError, "is not an optimizer"), None, AttributeError),
    ("integer-parameter", lambda lib: lib.optim.SGD([lib.ones(2, dtype=lib.int64)], lr=0.1),
     (ValueError, "floating point"), None, None),
    ("group-lr-negative", lambda lib: lib.optim.SGD([_p(lib)], lr=0.1).add_param_group({"params": [_p(lib)],
                                                                                        "lr": -1.0}),
     INVALID_LR, None, None),
    ("differentiable-step", _opt("Adam", differentiable=True), (NotImplementedError, "differentiable=True"), None,
     None),
    ("group-betas-out-of-range", lambda lib: lib.optim.Adam([{"params": [_p(lib)], "betas": (0.9, 1.5)}]),
     (ValueError, "invalid beta parameter at index 1"), None, None),
]


def _outcome(lib, build):
    try:
        build(lib)
    except Exception as e:      # noqa: BLE001 -- the test compares whatever was raised
        return type(e), str(e)
    return None


def _check(outcome, expected, who):
    if expected is None:
        assert outcome is None, f"{who} raised {outcome}"
        return
    assert outcome is not None, f"{who} accepted it; expected {expected[0].__name__}"
    etype, msg = outcome
    assert etype is expected[0], f"{who} raised {etype.__name__}: {msg}"
    assert expected[1].lower() in msg.lower(), f"{who}'s message lacks {expected[1]!r}: {msg}"


@pytest.mark.parametrize("build,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tapegrad(build, expected):
    _check(_outcome(tapegrad, build), expected, "tapegrad")


@pytest.mark.parametrize("build,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_torch_agrees(build, expected):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check(_outcome(torch, build), expected, "torch")


@pytest.mark.parametrize("build,expected,later,torch_error", [c[1:] for c in STRICTER], ids=[c[0] for c in STRICTER])
def test_stricter_than_torch(build, expected, later, torch_error):
    _check(_outcome(tapegrad, build), expected, "tapegrad")
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = _outcome(torch, build)
        if later is not None:
            assert got is None
            got = _outcome(torch, later)
    assert (got and got[0]) is torch_error, got


@pytest.mark.parametrize("lib_name", ["tapegrad", "torch"])
def test_duplicate_parameter_in_a_group_warns(lib_name):
    lib = tapegrad if lib_name == "tapegrad" else pytest.importorskip("torch")
    w = _p(lib)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt = lib.optim.SGD([w, w], lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 2


def test_failed_add_param_group_changes_nothing():
    opt = tapegrad.optim.SGD([_p(tapegrad)], lr=0.1)
    before = [dict(g) for g in opt.param_groups]
    for bad in ({"params": [_p(tapegrad)], "lr": -1.0}, {"params": [_p(tapegrad) * 2]},
                {"params": opt.param_groups[0]["params"]}):
        with pytest.raises(ValueError):
            opt.add_param_group(bad)
    assert opt.param_groups == before


def test_named_parameters_land_in_param_names():
    lin = tapegrad.nn.Linear(2, 1)
    opt = tapegrad.optim.SGD(lin.named_parameters(), lr=0.1)
    g = opt.param_groups[0]
    assert g["param_names"] == ["weight", "bias"] and g["params"] == [lin.weight, lin.bias]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
