"""The frameworks under test, and one MLP training step written once against the torch API.

``tapegrad`` and ``torch`` share the API, so the same code (``Trainer``) runs on both. Until
``tapegrad.nn``/``tapegrad.optim`` provide a piece (Linear/ReLU/Sequential, cross_entropy,
SGD/Adam), the tapegrad run falls back to the same math on raw tensors: weights (in, out),
a composed log-softmax with one-hot targets, and a manual in-place update on the parameters'
NumPy views. ``Trainer.path`` says which was used; it is printed in the table's note.
"""
from dataclasses import dataclass

import numpy as np

from .handwritten import MLP as HandMLP


@dataclass
class Config:
    quick: bool
    repeats: int
    warmup: int
    min_time: float
    threads: int
    torch: object = None          # the torch module, or None
    torch_missing: str = ""       # why torch is None


def load_torch(threads):
    """Import torch lazily, pinned to ``threads``; returns (module or None, reason)."""
    try:
        import torch
    except ImportError as e:
        return None, f"torch not installed ({e})"
    torch.set_num_threads(threads)
    return torch, ""


def _works(probe):
    """Whether ``probe()`` runs: pieces of tapegrad may exist before they work."""
    try:
        probe()
        return True
    except Exception:  # noqa: BLE001  any failure means "use the fallback"
        return False


def _probe_nn(fw):
    model = fw.nn.Sequential(fw.nn.Linear(3, 2), fw.nn.ReLU())
    model(fw.ones(1, 3)).sum().backward()


def _probe_loss(fw):
    logits = fw.zeros(2, 3, requires_grad=True)
    fw.nn.functional.cross_entropy(logits, fw.from_numpy(np.array([0, 2]))).backward()
    if logits.grad is None:
        raise RuntimeError("cross_entropy produced no gradient")


def _probe_optim(fw, opt_name):
    p = fw.zeros(2, requires_grad=True)
    opt = getattr(fw.optim, opt_name)([p], lr=0.1)
    opt.zero_grad(set_to_none=True)
    (p * p).sum().backward()
    opt.step()


class _ManualOpt:
    """SGD/Adam on the parameters' shared NumPy views, for a framework without ``optim``."""

    def __init__(self, params, kind, lr):
        self.params = params
        self.hand = HandMLP([1, 1], optimizer=kind, lr=lr)
        self.hand.params = [p.detach().numpy() for p in params]
        if kind == "adam":
            self.hand.m = [np.zeros_like(p) for p in self.hand.params]
            self.hand.v = [np.zeros_like(p) for p in self.hand.params]

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    def step(self):
        self.hand.update([p.grad.numpy().copy() for p in self.params])


class Trainer:
    """Model + loss + optimizer for ``fw`` (torch or tapegrad); ``step(x, y)`` is one SGD step."""

    def __init__(self, fw, sizes, optimizer="sgd", lr=0.01, seed=0):
        self.fw = fw
        fw.manual_seed(seed)
        parts = []
        if _works(lambda: _probe_nn(fw)):
            layers = []
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
                layers.append(fw.nn.Linear(a, b))
                if i < len(sizes) - 2:
                    layers.append(fw.nn.ReLU())
            self.model = fw.nn.Sequential(*layers)
            self.params = list(self.model.parameters())
            parts.append("nn")
        else:
            hand = HandMLP(sizes, seed=seed)
            self.params = [fw.tensor(p, requires_grad=True) for p in hand.params]
            self.model = self._raw_forward
            parts.append("raw tensors")
        self.fused_loss = _works(lambda: _probe_loss(fw))
        parts.append("cross_entropy" if self.fused_loss else "composed loss")
        opt_name = {"sgd": "SGD", "adam": "Adam"}[optimizer]
        if _works(lambda: _probe_optim(fw, opt_name)):
            self.opt = getattr(fw.optim, opt_name)(self.params, lr=lr)
            parts.append("optim")
        else:
            self.opt = _ManualOpt(self.params, optimizer, lr)
            parts.append("manual update")
        self.path = "+".join(parts)

    def _raw_forward(self, x):
        n_layers = len(self.params) // 2
        for i in range(n_layers):
            x = x @ self.params[2 * i] + self.params[2 * i + 1]
            if i < n_layers - 1:
                x = x.relu()
        return x

    def target(self, y):
        """Class indices ``y`` (NumPy int) in the form this trainer's loss takes."""
        if self.fused_loss:
            return self.fw.from_numpy(y.astype(np.int64))
        return self.fw.from_numpy(np.eye(self.n_classes, dtype=np.float32)[y])

    @property
    def n_classes(self):
        return self.params[-1].shape[0]

    def loss(self, logits, target):
        if self.fused_loss:
            return self.fw.nn.functional.cross_entropy(logits, target)
        logp = logits - logits.exp().sum(1, keepdim=True).log()
        return -(logp * target).sum() / logits.shape[0]

    def step(self, x, target):
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss(self.model(x), target)
        loss.backward()
        self.opt.step()
        return loss

    def predict(self, x):
        with self.fw.no_grad():
            return self.model(x).numpy().argmax(axis=1)
