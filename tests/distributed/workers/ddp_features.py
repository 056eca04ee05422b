"""Worker: DDP's buckets, unused parameters, no_sync, buffers, bucket views, checkpoints and the sampler.

Writes rank<r>.json {check: error or null} plus the sampler's indices.
"""
import json
import os
import sys
import traceback

import numpy as np

import tapegrad
import tapegrad.distributed as dist
from tapegrad import nn
from tapegrad.nn.parallel import DistributedDataParallel as DDP
from tapegrad.utils.data import DataLoader, DistributedSampler


def mlp(seed=0, dtype=tapegrad.float64):
    tapegrad.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 7), nn.Tanh(), nn.Linear(7, 5), nn.Tanh(), nn.Linear(5, 3)).to(dtype=dtype)


def local_grads(model, batches):
    """The gradients one process accumulates over ``batches`` (no DDP), as arrays."""
    for x in batches:
        (model(x) ** 2).sum().backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


def mean_over_ranks(arrays):
    out = []
    for a in arrays:
        t = tapegrad.tensor(a)
        dist.all_reduce(t)
        out.append(t.numpy() / dist.get_world_size())
    return out


class Branchy(nn.Module):
    """``a`` is used only on rank 0; ``b`` is never used; ``c`` always."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 2)
        self.b = nn.Linear(4, 2)
        self.c = nn.Linear(4, 2)

    def forward(self, x):
        y = self.c(x)
        return y + self.a(x) if dist.get_rank() == 0 else y


class Counting(nn.Module):
    def __init__(self, start):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.register_buffer("running", tapegrad.full((3,), float(start)))

    def forward(self, x):
        with tapegrad.no_grad():
            self.running.add_(x.mean(0))
        return self.fc(x)


def main(out_dir):
    dist.init_process_group("mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    res = {}
    rng = np.random.default_rng(rank)
    xs = [tapegrad.tensor(rng.standard_normal((4, 6))) for _ in range(3)]

    def check(name):
        def deco(fn):
            try:
                fn()
                res[name] = None
            except Exception:
                res[name] = traceback.format_exc()[-2500:]
        return deco

    @check("buckets_reverse_order_uneven_and_launched_from_hooks")
    def _():
        model = DDP(mlp(), bucket_cap_mb=500 / 2 ** 20)        # 500 bytes
        names = [k for k, _ in model.module.named_parameters()]
        order = [names[model.reducer.index[id(p)]] for b in model.reducer.buckets for p in b.params]
        assert order == names[::-1], order
        sizes = [len(b.params) for b in model.reducer.buckets]
        # bytes (24+120)+(40+280) | (56+336): a layer's bias and weight stay together (Note [DDP buckets])
        assert sizes == [4, 2], sizes
        launched = []
        inner = model.reducer._finalize

        def spy():
            launched.append(sum(b.work is not None for b in model.reducer.buckets))
            inner()
        model.reducer._finalize = spy
        (model(xs[0]) ** 2).sum().backward()
        assert launched == [2], launched        # every bucket was all-reduced from the hooks, before the end
        want = mean_over_ranks(local_grads(mlp(), xs[:1]))
        for p, w in zip(model.parameters(), want):
            np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-14, atol=1e-15)
        one = DDP(mlp(), bucket_cap_mb=25)
        assert [len(b.params) for b in one.reducer.buckets] == [6]
        (one(xs[0]) ** 2).sum().backward()
        for p, q in zip(one.parameters(), model.parameters()):
            assert np.array_equal(p.grad.numpy(), q.grad.numpy())

    @check("buckets_launch_while_the_backward_runs")
    def _():
        # One bucket per layer (Note [DDP buckets]): the last layer's is all-reduced from the hooks while
        # the first layers' backward has not run yet (Note [ready leaves] in autograd/engine.py).
        model = DDP(mlp(), bucket_cap_mb=56 * 8 / 2 ** 20)      # 448 bytes: layers of 392, 320, 144 bytes
        assert [len(b.params) for b in model.reducer.buckets] == [2, 2, 2]
        seen = []
        h = model.module[1].register_forward_hook(lambda m, inp, out: out.register_hook(
            lambda g: seen.append([b.work is not None for b in model.reducer.buckets])) and None)
        x = xs[0] * 1
        (model(x) ** 2).sum().backward()
        h.remove()
        assert seen == [[True, True, False]], seen      # at the first layer's output: two buckets in flight
        want = mean_over_ranks(local_grads(mlp(), xs[:1]))
        for p, w in zip(model.parameters(), want):
            np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-14, atol=1e-15)

    @check("mixed_dtypes_get_separate_buckets")
    def _():
        m = nn.Sequential(nn.Linear(3, 3).double(), nn.Linear(3, 3).double())
        m[1].float()
        model = DDP(m)
        assert [[str(p.dtype) for p in b.params] for b in model.reducer.buckets] == \
            [["tapegrad.float32", "tapegrad.float32"], ["tapegrad.float64", "tapegrad.float64"]]
        x = tapegrad.ones(2, 3, dtype=tapegrad.float64) * (rank + 1)
        model(x).float().sum().backward()
        assert m[1].bias.grad.tolist() == [2.0, 2.0, 2.0]

    @check("unused_parameters")
    def _():
        tapegrad.manual_seed(1)
        model = DDP(Branchy(), find_unused_parameters=True)
        x = tapegrad.ones(3, 4) * (rank + 1)
        model(x).sum().backward()
        a, b, c = model.module.a, model.module.b, model.module.c
        assert b.weight.grad is None and b.bias.grad is None       # no rank used it
        # a: only rank 0 contributes (x = 1): its gradient is 3 (rows) / 2 ranks on every rank.
        assert a.weight.grad.tolist() == [[1.5] * 4] * 2, a.weight.grad
        assert c.bias.grad.tolist() == [3.0, 3.0]
        assert c.weight.grad.tolist() == [[(3 * 1 + 3 * 2) / 2] * 4] * 2
        tapegrad.manual_seed(1)
        strict = DDP(Branchy())
        try:
            strict(x).sum().backward()
        except RuntimeError as e:
            msg = str(e)
        else:
            raise AssertionError("a parameter without a gradient was not reported")
        assert "b.weight" in msg and "find_unused_parameters=True" in msg, msg
        assert (rank == 0) == ("a.weight" not in msg), msg

    @check("no_sync_accumulates_locally_then_averages")
    def _():
        model = DDP(mlp(), bucket_cap_mb=0.0005)
        with model.no_sync():
            for x in xs[:2]:
                (model(x) ** 2).sum().backward()
        local = [p.grad.numpy().copy() for p in model.parameters()]
        ref_local = local_grads(mlp(), xs[:2])
        for g, w in zip(local, ref_local):
            assert np.array_equal(g, w)                    # nothing was communicated
        (model(xs[2]) ** 2).sum().backward()
        want = mean_over_ranks(local_grads(mlp(), xs))
        for p, w in zip(model.parameters(), want):
            np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-13, atol=1e-15)
        others = [tapegrad.zeros(*p.shape, dtype=p.dtype) for p in model.parameters() for _ in range(n)]
        for i, p in enumerate(model.parameters()):
            dist.all_gather(others[i * n:(i + 1) * n], p.grad)
        for i in range(len(want)):
            assert np.array_equal(others[i * n].numpy(), others[i * n + 1].numpy())   # bit-identical

    @check("buffers_broadcast")
    def _():
        model = DDP(Counting(start=10 * rank + 1))
        assert model.module.running.tolist() == [1.0] * 3                   # rank 0's, from construction
        assert np.array_equal(model.module.fc.weight.detach().numpy(), _rank0(model.module.fc.weight))
        model(tapegrad.full((2, 3), float(rank)))                          # each rank adds its own mean
        assert model.module.running.tolist() == [1.0 + rank] * 3
        model(tapegrad.zeros(2, 3))                                       # re-broadcast from rank 0 first
        assert model.module.running.tolist() == [1.0] * 3
        with model.no_sync():                                              # no sync: no broadcast
            model(tapegrad.full((2, 3), float(rank)))
        assert model.module.running.tolist() == [1.0 + rank] * 3
        off = DDP(Counting(start=0), broadcast_buffers=False)
        off(tapegrad.full((2, 3), float(rank)))
        off(tapegrad.zeros(2, 3))
        assert off.module.running.tolist() == [float(rank)] * 3

    @check("gradient_as_bucket_view")
    def _():
        a, b = DDP(mlp()), DDP(mlp(), gradient_as_bucket_view=True)
        for _ in range(2):
            for m in (a, b):
                (m(xs[0]) ** 2).sum().backward()
        for p, q in zip(a.parameters(), b.parameters()):
            np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-14)
        flat = b.reducer.buckets[0].flat
        assert all(np.shares_memory(p.grad.numpy(), flat) for p in b.parameters())

    @check("state_dict_prefix_and_checkpoint_from_rank0")
    def _():
        model = DDP(mlp(seed=rank))
        keys = list(model.state_dict())
        assert keys == ["module." + k for k in model.module.state_dict()], keys
        path = os.path.join(out_dir, "ckpt.tg")
        if rank == 0:
            with tapegrad.no_grad():
                model.module[0].bias.fill_(0.25)
            tapegrad.save(model.state_dict(), path)
        dist.barrier()
        fresh = DDP(mlp(seed=5))
        fresh.load_state_dict(tapegrad.load(path))
        assert fresh.module[0].bias.tolist() == [0.25] * 7
        shared = os.path.join(out_dir, "all_ranks.tg")        # every rank saves to one path at once
        for _ in range(5):
            tapegrad.save({"w": tapegrad.full((50000,), float(rank))}, shared)
        dist.barrier()
        w = tapegrad.load(shared)["w"]
        assert w.shape == (50000,) and w.min().item() == w.max().item() in (0.0, 1.0)   # one whole file

    @check("errors")
    def _():
        try:
            DDP(nn.Linear(2, 2).requires_grad_(False))
        except RuntimeError as e:
            assert "doesn't have any parameter" in str(e)
        else:
            raise AssertionError("no error for a module without trainable parameters")
        try:
            DDP(lambda x: x)
        except TypeError as e:
            assert "nn.Module" in str(e)
        else:
            raise AssertionError("no error for a non-module")

    sampler = DistributedSampler(range(11), shuffle=True, seed=3)       # replicas and rank from the group
    epochs = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        loader = DataLoader(list(range(100, 111)), batch_size=2, sampler=sampler)
        epochs.append({"sampler": list(sampler), "loaded": [int(v) for b in loader for v in b.tolist()]})
    plain = {str(drop): list(DistributedSampler(range(11), shuffle=False, drop_last=drop)) for drop in (False, True)}
    res["sampler"] = {"num_replicas": sampler.num_replicas, "rank": sampler.rank, "epochs": epochs, "plain": plain}
    dist.destroy_process_group()
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(res, f)


def _rank0(t):
    c = t.detach().clone()
    dist.broadcast(c, src=0)
    return c.numpy()


if __name__ == "__main__":
    main(sys.argv[1])
