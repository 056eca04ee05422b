"""Every public function and Tensor method takes PyTorch's keyword names.

``torch.overrides.get_testing_overrides()`` maps torch's functions and Tensor
methods to lambdas with torch's parameter names. For each one tapegrad also
has (same namespace, same name), every parameter the lambda names must be
accepted by tapegrad's callable *by that name* (positional-or-keyword or
keyword-only; never positional-only or only through ``*args``). A Tensor
method's first parameter (self) is not compared. All mismatches are listed in
one failure message.

Where torch's callable is a Python function, its own signature is used
instead of the lambda, and the parameter kinds must match too
(keyword-only stays keyword-only). The lambdas of torch's builtins mark no
keyword-only parameters (``addmm``'s ``beta``/``alpha`` are keyword-only in
torch, not in its lambda), so kinds are not compared for those. Nor are they
always right about names: ``CORRECTED`` gives torch's real names where they
are not (each checked by calling torch 2.13 with those keywords and with the
lambda's, see test_corrections_are_torchs_real_names).
"""
import importlib
import inspect

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

NAMESPACES = ("torch", "torch.nn.functional", "torch.linalg", "torch.special", "torch.fft")

# Parameters compared nowhere: tapegrad writes no ``out=`` tensors (every result is a new tensor).
IGNORED = {"out"}

# (namespace, name) -> torch's real parameter names where the testing lambda is wrong.
CORRECTED = {
    ("torch", "swapaxes"): ("input", "axis0", "axis1"),          # lambda: dim0, dim1
    ("Tensor", "swapaxes"): ("self", "axis0", "axis1"),
    ("torch", "swapdims"): ("input", "dim0", "dim1"),            # lambda: axis0, axis1
    ("Tensor", "swapdims"): ("self", "dim0", "dim1"),
    ("torch", "where"): ("condition", "input", "other"),         # lambda: x, y
    ("Tensor", "where"): ("self", "condition", "other"),
    ("torch", "xlogy"): ("input", "other"),                      # lambda: x, y
    ("Tensor", "xlogy"): ("self", "other"),
    ("torch", "permute"): ("input", "dims"),                     # lambda: self, dim
    ("Tensor", "permute"): ("self", "dims"),
    ("torch", "broadcast_to"): ("input", "size"),                # lambda: self, size
    ("torch", "isinf"): ("input",),                              # lambda: tensor
    ("torch", "isfinite"): ("input",),
    ("torch", "relu"): ("input",),                               # lambda: inplace (torch.relu has none)
    ("Tensor", "relu"): ("self",),
    ("torch", "logsumexp"): ("input", "dim", "keepdim"),         # lambda: names (the Dimname overload)
    ("Tensor", "logsumexp"): ("self", "dim", "keepdim"),
    ("torch", "layer_norm"): ("input", "normalized_shape", "weight", "bias", "eps"),  # lambda: cudnn_enabled
    ("Tensor", "mm"): ("self", "mat2"),                          # lambda: out_dtype (the method has none)
    ("Tensor", "view"): ("self", "size"),                        # lambda: shape
    ("torch", "msort"): ("input",),                              # lambda: descending (msort has none)
    ("Tensor", "msort"): ("self",),
    ("Tensor", "topk"): ("self", "k", "dim", "largest", "sorted"),  # lambda: descending
    ("torch", "topk"): ("input", "k", "dim", "largest", "sorted"),
    ("Tensor", "put_"): ("self", "index", "source", "accumulate"),  # lambda: indices, tensor
    ("Tensor", "relu_"): ("self",),                              # lambda: inplace
    ("Tensor", "xlogy_"): ("self", "other"),                     # lambda: y
    ("torch", "diag_embed"): ("input", "offset", "dim1", "dim2"),  # lambda: diagonal
    ("Tensor", "diag_embed"): ("self", "offset", "dim1", "dim2"),
    ("Tensor", "fill_diagonal_"): ("self", "fill_value", "wrap"),  # lambda: value
    ("torch", "narrow_copy"): ("input", "dim", "start", "length"),  # lambda: self
    ("Tensor", "narrow_copy"): ("self", "dim", "start", "length"),  # lambda: dimension
    ("Tensor", "swapaxes_"): ("self", "axis0", "axis1"),         # lambda: dim0, dim1
    ("Tensor", "swapdims_"): ("self", "dim0", "dim1"),           # lambda: axis0, axis1
    ("torch", "isin"): ("elements", "test_elements", "assume_unique", "invert"),  # lambda: e, te
}

# Mismatches not fixed yet, each with the reason. The test fails on any other
# mismatch and on an entry here that no longer mismatches.
KNOWN = {
    # torch 2.13 implements bmm's out_dtype only on CUDA (CPU raises NotImplementedError); no mixed-precision bmm here.
    ("torch", "bmm", "out_dtype"): "CUDA-only mixed-precision overload",
    ("Tensor", "bmm", "out_dtype"): "CUDA-only mixed-precision overload",
    # tapegrad has no layouts (every tensor is strided) and no memory formats (every result is C-ordered).
    ("torch", "full_like", "layout"): "no layouts",
    **{("Tensor", m, "memory_format"): "no memory formats"
       for m in ("bool", "byte", "char", "contiguous", "cpu", "cuda", "double", "float", "half", "int", "long",
                 "short", "to")},
}
KNOWN[("Tensor", "bfloat16", "memory_format")] = "no memory formats"


def _tg_namespace(ns):
    try:
        return importlib.import_module("tapegrad" + ns[len("torch"):])
    except ImportError:
        return None


def _truth(fn, lam):
    """torch's own signature where it has one (functions written in Python), else the testing lambda."""
    if inspect.isfunction(fn):
        try:
            inspect.signature(fn)
            return fn
        except (TypeError, ValueError):
            pass
    return lam


def _pairs():
    """``(namespace, name, torch lambda, tapegrad callable)`` for every name both libraries have."""
    mods = {n: importlib.import_module(n) for n in NAMESPACES}
    out = []
    for fn, lam in torch.overrides.get_testing_overrides().items():
        name = getattr(fn, "__name__", None)
        if not name or (name.startswith("__") and name.endswith("__")):
            continue        # operators: Python calls them positionally, never by keyword
        if getattr(fn, "__objclass__", None) in (torch._C.TensorBase, torch.Tensor) \
                or getattr(torch.Tensor, name, None) is fn:
            ns, ours = "Tensor", getattr(tg.Tensor, name, None)
        else:
            ns = next((n for n, m in mods.items() if getattr(m, name, None) is fn), None)
            mod = _tg_namespace(ns) if ns else None
            ours = getattr(mod, name, None) if mod is not None else None
        if ours is None or not callable(ours) or isinstance(ours, type):
            continue
        out.append((ns, name, _truth(fn, lam), ours))
    return out


def _torch_names(ns, name, lam):
    if (ns, name) in CORRECTED:
        names = CORRECTED[ns, name]
    else:
        names = tuple(p.name for p in inspect.signature(lam).parameters.values()
                      if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    if ns == "Tensor":
        names = names[1:]
    return [n for n in names if n not in IGNORED]


def _accepted(ns, ours):
    """The names ``ours`` accepts by keyword (None: any, it takes ``**kwargs``)."""
    params = list(inspect.signature(ours).parameters.values())
    if ns == "Tensor" and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _kinds(fn, ns):
    params = list(inspect.signature(fn).parameters.values())
    if ns == "Tensor":
        params = params[1:]
    return {p.name: p.kind for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _mismatches():
    found = {}
    for ns, name, lam, ours in _pairs():
        try:
            accepted = _accepted(ns, ours)
        except (TypeError, ValueError):
            found[ns, name, "*"] = "tapegrad's callable has no inspectable signature"
            continue
        if accepted is None:
            continue
        names = _torch_names(ns, name, lam)
        for n in names:
            if n not in accepted:
                found[ns, name, n] = f"torch's keywords {names}; tapegrad {inspect.signature(ours)}"
        if inspect.isfunction(lam) and lam.__name__ != "<lambda>":
            # torch's own signature: the kinds must match too (keyword-only stays keyword-only).
            theirs = _kinds(lam, ns)
            for n, kind in _kinds(ours, ns).items():
                if n in theirs and theirs[n] != kind and (ns, name, n) not in found:
                    found[ns, name, n] = (f"torch's {n} is {theirs[n].description}, tapegrad's "
                                          f"{kind.description}: torch {inspect.signature(lam)}; "
                                          f"tapegrad {inspect.signature(ours)}")
    return found


def test_the_comparison_covers_the_api():
    pairs = _pairs()
    assert len(pairs) > 400            # the overrides really map onto tapegrad's surface
    assert {"torch", "Tensor", "torch.nn.functional"} <= {ns for ns, *_ in pairs}
    assert sum(lam.__name__ != "<lambda>" for *_, lam, _ in pairs) > 50     # compared with torch's own signature


def test_mismatches_are_found(monkeypatch):
    monkeypatch.setattr(tg, "flip", lambda input, *dims: None)                       # dims only through *args
    monkeypatch.setattr(tg.nn.functional, "celu", lambda input, *, alpha=1.0, inplace=False: None)   # kind
    monkeypatch.setattr(tg.Tensor, "gather", lambda self, dim, idx: None)             # a renamed parameter
    found = _mismatches()
    assert {("torch", "flip", "dims"), ("torch.nn.functional", "celu", "alpha"), ("Tensor", "gather", "index"),
            ("Tensor", "gather", "sparse_grad")} <= set(found)
    assert "keyword-only" in found["torch.nn.functional", "celu", "alpha"]


def test_keyword_names_are_torchs():
    found = _mismatches()
    new = {k: v for k, v in found.items() if k not in KNOWN}
    stale = sorted(k for k in KNOWN if k not in found)
    lines = [f"  {ns}.{name}: keyword {param!r} not accepted ({why})" for (ns, name, param), why in sorted(new.items())]
    lines += [f"  KNOWN entry {k} no longer mismatches: remove it" for k in stale]
    head = f"{len(new)} keyword mismatches with torch, {len(stale)} stale KNOWN entries:\n"
    assert not lines, head + "\n".join(lines)


def test_corrections_are_stale_free():
    lambdas = {(ns, name): lam for ns, name, lam, _ in _pairs()}
    for key, names in CORRECTED.items():
        assert key in lambdas, f"CORRECTED entry {key} names nothing tapegrad and torch share"
        lam_names = tuple(inspect.signature(lambdas[key]).parameters)
        assert tuple(n for n in lam_names if n not in IGNORED) != names, f"torch's lambda for {key} is right now"


def test_corrections_are_torchs_real_names():
    x = torch.ones(2, 3)
    m = torch.ones(3, 3)
    ok = [lambda: torch.swapaxes(x, axis0=0, axis1=1), lambda: x.swapaxes(axis0=0, axis1=1),
          lambda: torch.swapdims(x, dim0=0, dim1=1), lambda: torch.where(x > 0, input=x, other=x),
          lambda: x.where(condition=x > 0, other=x), lambda: torch.xlogy(input=x, other=x),
          lambda: torch.permute(x, dims=(1, 0)), lambda: x.permute(dims=(1, 0)),
          lambda: torch.broadcast_to(input=x, size=(2, 2, 3)), lambda: torch.isinf(input=x),
          lambda: torch.logsumexp(x, dim=0, keepdim=True), lambda: x.view(size=(3, 2)),
          lambda: torch.layer_norm(x, (3,), weight=None, bias=None, eps=1e-5), lambda: torch.msort(input=x),
          lambda: x.topk(1, dim=0, largest=True, sorted=True), lambda: x.flatten().clone().put_(
              index=torch.tensor([0]), source=torch.tensor([9.0]), accumulate=False),
          lambda: x.clone().xlogy_(other=x), lambda: m.diag_embed(offset=0),
          lambda: m.clone().fill_diagonal_(fill_value=1.0), lambda: torch.narrow_copy(input=x, dim=0, start=0, length=1),
          lambda: x.narrow_copy(dim=0, start=0, length=1), lambda: m.clone().swapaxes_(axis0=0, axis1=1),
          lambda: m.clone().swapdims_(dim0=0, dim1=1)]
    ok.append(lambda: torch.isin(elements=x, test_elements=m, assume_unique=False, invert=False))
    for f in ok:
        f()
    refused = [lambda: torch.swapaxes(x, dim0=0, dim1=1), lambda: torch.swapdims(x, axis0=0, axis1=1),
               lambda: torch.where(x > 0, x=x, y=x), lambda: torch.xlogy(x=x, y=x),
               lambda: torch.permute(x, dim=(1, 0)), lambda: torch.broadcast_to(self=x, size=(2, 2, 3)),
               lambda: torch.isinf(tensor=x), lambda: torch.relu(x, inplace=False), lambda: x.relu(inplace=False),
               lambda: torch.logsumexp(x, names=0), lambda: torch.layer_norm(x, (3,), cudnn_enabled=True),
               lambda: m.mm(m, out_dtype=torch.float32), lambda: x.view(shape=(3, 2)),
               lambda: torch.msort(x, descending=True), lambda: x.topk(1, descending=True),
               lambda: torch.topk(x, 1, descending=True),
               lambda: x.flatten().clone().put_(indices=torch.tensor([0]), tensor=torch.tensor([9.0])),
               lambda: x.clone().relu_(inplace=True), lambda: x.clone().xlogy_(y=x),
               lambda: m.diag_embed(diagonal=0), lambda: m.clone().fill_diagonal_(value=1.0),
               lambda: torch.narrow_copy(self=x, dim=0, start=0, length=1),
               lambda: x.narrow_copy(dimension=0, start=0, length=1), lambda: m.clone().swapaxes_(dim0=0, dim1=1),
               lambda: m.clone().swapdims_(axis0=0, axis1=1)]
    refused.append(lambda: torch.isin(e=x, te=m))
    for f in refused:
        with pytest.raises(TypeError):
            f()


@pytest.mark.parametrize("call,want", [
    (lambda x: tg.flip(x, dims=(0,)), lambda x: x.flip(0)),
    (lambda x: x.flip(dims=[1]), lambda x: x.flip(1)),
    (lambda x: tg.reshape(x, shape=(3, 2)), lambda x: x.reshape(3, 2)),
    (lambda x: x.reshape(shape=[6]), lambda x: x.reshape(6)),
    (lambda x: x.view(size=(3, 2)), lambda x: x.view(3, 2)),
    (lambda x: tg.permute(x, dims=(1, 0)), lambda x: x.permute(1, 0)),
    (lambda x: x.permute(dims=[1, 0]), lambda x: x.t()),
    (lambda x: x.expand(size=(2, 2, 3)), lambda x: x.expand(2, 2, 3)),
    (lambda x: tg.broadcast_to(x, size=(2, 2, 3)), lambda x: x.expand(2, 2, 3)),
    (lambda x: tg.nn.functional.softmax(x, 1, 3, tg.float64), lambda x: x.double().softmax(1)),
    (lambda x: tg.nn.functional.log_softmax(x, 1, _stacklevel=5), lambda x: x.log_softmax(1)),
    (lambda x: tg.gather(x, 1, tg.tensor([[0], [2]]), sparse_grad=False), lambda x: tg.tensor([[0.0], [5.0]])),
])
def test_torch_keywords_work(call, want):
    x = tg.arange(6.0).reshape(2, 3)
    got, exp = call(x), want(x)
    assert got.dtype == exp.dtype and tuple(got.shape) == tuple(exp.shape)
    assert (got == exp).all()


@pytest.mark.parametrize("call", [
    lambda x: x.reshape(6, shape=(6,)), lambda x: x.permute(1, 0, dims=(1, 0)), lambda x: tg.flip(x, 0, dims=(0,)),
])
def test_shape_both_ways_is_refused(call):
    with pytest.raises(TypeError, match="multiple values"):
        call(tg.zeros(2, 3))


def test_gather_sparse_grad_true_is_refused():
    with pytest.raises(NotImplementedError, match="sparse_grad"):
        tg.gather(tg.zeros(2, 3), 1, tg.tensor([[0], [1]]), sparse_grad=True)
