"""One training step of a LeNet-style CNN on 28x28 inputs, batch 64 (forward, cross-entropy, backward, SGD).

conv 1->32 3x3, relu, conv 32->64 3x3, relu, 2x2 max-pool, dropout, linear 9216->128, relu,
linear 128->10; SGD lr 0.01. The same code runs on tapegrad and torch (eager). The pool is
``F.max_pool2d`` where the framework has it, else the maximum of four strided views (same
values, and gradients away from ties); the note says which tapegrad used.
"""
import numpy as np

from ..harness import Row, compare

BATCH = 64


def _pool(fw, x):
    if hasattr(fw.nn.functional, "max_pool2d"):
        return fw.nn.functional.max_pool2d(x, 2), "max_pool2d"
    # the elementwise max of the four strided quarter views: amax over (3, 5) of a reshape is ~50x slower in NumPy
    top = fw.maximum(x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2])
    return fw.maximum(top, fw.maximum(x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2])), "max of 4 strided views"


def _step(fw, x0, y0):
    fw.manual_seed(0)
    nn = fw.nn
    conv1, conv2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
    fc1, fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)
    drop = nn.Dropout(0.25)
    params = [p for m in (conv1, conv2, fc1, fc2) for p in m.parameters()]
    opt = fw.optim.SGD(params, lr=0.01)
    x, y = fw.from_numpy(x0), fw.from_numpy(y0)
    how = []

    def step():
        h = fw.relu(conv2(fw.relu(conv1(x))))
        h, kind = _pool(fw, h)
        how[:] = [kind]
        h = fw.relu(fc1(drop(h).flatten(1)))
        loss = nn.functional.cross_entropy(fc2(h), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step, how


class HandCNN:
    """The same step in hand-differentiated NumPy: im2col through ``sliding_window_view`` and one matmul."""

    def __init__(self, seed=0, lr=0.01):
        rng = np.random.default_rng(seed)

        def u(fan_in, *shape):
            b = 1 / np.sqrt(fan_in)
            return rng.uniform(-b, b, shape).astype(np.float32)
        self.p = [u(9, 32, 9), u(9, 32), u(288, 64, 288), u(288, 64), u(9216, 9216, 128), u(9216, 128),
                  u(128, 128, 10), u(128, 10)]
        self.lr, self.rng = lr, rng

    @staticmethod
    def _cols(x):                    # (N, C, H, W) -> (N, C * 9, (H - 2) * (W - 2))
        v = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))
        n, c, oh, ow = v.shape[:4]
        return np.ascontiguousarray(v.transpose(0, 1, 4, 5, 2, 3)).reshape(n, c * 9, oh * ow), oh, ow

    def step(self, x, y):
        w1, b1, w2, b2, w3, b3, w4, b4 = self.p
        n = len(x)
        c1, h1, _ = self._cols(x)
        a1 = np.maximum(np.matmul(w1, c1) + b1[:, None], 0).reshape(n, 32, h1, h1)
        c2, h2, _ = self._cols(a1)
        a2 = np.maximum(np.matmul(w2, c2) + b2[:, None], 0).reshape(n, 64, h2, h2)
        q = a2.reshape(n, 64, h2 // 2, 2, h2 // 2, 2)
        pooled = q.max(axis=(3, 5))
        mask = (self.rng.random(pooled.shape, dtype=np.float32) >= 0.25) / np.float32(0.75)
        f = (pooled * mask).reshape(n, -1)
        h = np.maximum(f @ w3 + b3, 0)
        z = h @ w4 + b4
        e = np.exp(z - z.max(1, keepdims=True))
        dz = e / e.sum(1, keepdims=True)
        loss = -np.log(dz[np.arange(n), y]).mean()
        dz[np.arange(n), y] -= 1
        dz /= n
        dh = (dz @ w4.T) * (h > 0)
        df = ((dh @ w3.T).reshape(pooled.shape) * mask)[:, :, :, None, :, None]
        da2 = (np.where(q == pooled[:, :, :, None, :, None], df, 0).reshape(a2.shape) * (a2 > 0)).reshape(n, 64, -1)
        dc2 = np.matmul(w2.T, da2).reshape(n, 32, 3, 3, h2, h2)
        da1 = np.zeros((n, 32, h1, h1), np.float32)
        for i in range(3):
            for j in range(3):
                da1[:, :, i:i + h2, j:j + h2] += dc2[:, :, i, j]
        da1 = (da1 * (a1 > 0)).reshape(n, 32, -1)
        grads = [np.matmul(da1, c1.transpose(0, 2, 1)).sum(0), da1.sum((0, 2)),
                 np.matmul(da2, c2.transpose(0, 2, 1)).sum(0), da2.sum((0, 2)), f.T @ dh, dh.sum(0), h.T @ dz,
                 dz.sum(0)]
        for p, g in zip(self.p, grads):
            p -= self.lr * g.astype(np.float32)
        return loss


def run(cfg):
    import tapegrad
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((BATCH, 1, 28, 28), dtype=np.float32)
    y0 = rng.integers(0, 10, BATCH)
    row = Row("cnn", f"LeNet step b{BATCH} 28x28 sgd", "ms", 1e3)
    how = {}

    def build(fw):
        def b():
            fn, how[fw.__name__] = _step(fw, x0, y0)
            return fn
        return b
    hand = HandCNN()
    row.results = compare({"tapegrad": build(tapegrad), "numpy": lambda: (lambda: hand.step(x0, y0)),
                           "torch": build(cfg.torch) if cfg.torch is not None else cfg.torch_missing},
                          repeats=cfg.repeats, warmup=cfg.warmup, min_time=cfg.min_time)
    row.note = f"tapegrad pool: {''.join(how.get('tapegrad', ['?']))}"
    return [row]
