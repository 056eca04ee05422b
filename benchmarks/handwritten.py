"""Hand-written NumPy forward+backward for every workload: the floor for a NumPy-based autograd.

Each function computes exactly the math of the corresponding model (same ops, same dtype,
float32 throughout), with the derivatives written by hand and no tape at all; a library on
NumPy cannot beat these except by fusing work NumPy cannot fuse.
"""
import numpy as np


def chain(x, w, blocks):
    """Forward+backward of ``blocks`` x [y + w, * w, tanh, exp], then sum; returns (gx, gw).

    Works on arrays of any shape and on NumPy scalars (the deep scalar chain).
    """
    saved = []
    y = x
    for _ in range(blocks):
        a = y + w
        t = np.tanh(a * w)
        y = np.exp(t)
        saved.append((a, t, y))
    y.sum()
    g = np.ones_like(y)
    gw = np.zeros_like(w)
    for a, t, e in reversed(saved):
        g = g * e
        g = g * (1 - t * t)
        gw += g * a
        g = g * w
        gw += g
    return g, gw


def matmul(a, b, g):
    """C = A @ B and its backward for output gradient ``g``: three bare BLAS calls."""
    c = a @ b
    return c, g @ b.T, a.T @ g


class MLP:
    """Linear-ReLU-...-Linear with softmax cross-entropy, SGD or Adam, hand-differentiated.

    Weights are stored (in, out) and initialised like ``torch.nn.Linear``
    (uniform in +-1/sqrt(fan_in)). Targets are class indices.
    """

    def __init__(self, sizes, seed=0, optimizer="sgd", lr=0.01, betas=(0.9, 0.999), eps=1e-8):
        rng = np.random.default_rng(seed)
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / np.sqrt(fan_in)
            self.params.append(rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32))
            self.params.append(rng.uniform(-bound, bound, (fan_out,)).astype(np.float32))
        self.optimizer, self.lr, self.betas, self.eps, self.t = optimizer, lr, betas, eps, 0
        if optimizer == "adam":
            self.m = [np.zeros_like(p) for p in self.params]
            self.v = [np.zeros_like(p) for p in self.params]
        elif optimizer != "sgd":
            raise ValueError(f"MLP: optimizer must be 'sgd' or 'adam', got {optimizer!r}")

    def forward(self, x):
        """Logits, and the activations the backward pass needs."""
        acts = [x]
        n_layers = len(self.params) // 2
        for i in range(n_layers):
            x = x @ self.params[2 * i] + self.params[2 * i + 1]
            if i < n_layers - 1:
                np.maximum(x, 0, out=x)
                acts.append(x)
        return x, acts

    def loss_and_grads(self, x, y):
        """Mean cross-entropy and the gradient of every parameter."""
        logits, acts = self.forward(x)
        z = logits - logits.max(axis=1, keepdims=True)
        ez = np.exp(z)
        s = ez.sum(axis=1, keepdims=True)
        n = x.shape[0]
        rows = np.arange(n)
        loss = float(np.log(s[:, 0]).sum() - z[rows, y].sum()) / n
        g = ez / s
        g[rows, y] -= 1
        g /= n
        grads = [None] * len(self.params)
        for i in range(len(self.params) // 2 - 1, -1, -1):
            h = acts[i]
            grads[2 * i] = h.T @ g
            grads[2 * i + 1] = g.sum(axis=0)
            if i > 0:
                g = g @ self.params[2 * i].T
                g *= h > 0
        return loss, grads

    def step(self, x, y):
        """One training step (forward, backward, in-place update); returns the loss."""
        loss, grads = self.loss_and_grads(x, y)
        self.update(grads)
        return loss

    def update(self, grads):
        """In place, the way torch.optim's single-tensor SGD/Adam do it; consumes ``grads``."""
        if self.optimizer == "sgd":
            for p, g in zip(self.params, grads):
                g *= self.lr
                p -= g
            return
        self.t += 1
        b1, b2 = self.betas
        c1, sqrt_c2 = 1 - b1 ** self.t, np.sqrt(1 - b2 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            g *= g
            g *= 1 - b2
            v *= b2
            v += g
            denom = np.sqrt(v, out=g)
            denom /= sqrt_c2
            denom += self.eps
            np.divide(m, denom, out=denom)
            denom *= self.lr / c1
            p -= denom

    def predict(self, x):
        return self.forward(x)[0].argmax(axis=1)
