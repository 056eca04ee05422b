"""Worker: DDP on 2 ranks vs one process on the concatenated batch (SGD with momentum and Adam, f64 and f32).

Each rank starts from its own random initialisation (seed 100 + rank), so the parity also shows
that construction broadcast rank 0's parameters. Writes rank<r>.json with the parameters of the DDP
run, of a control run whose gradient synchronisation is disabled (everything under no_sync), and on
rank 0 of the single-process reference.
"""
import json
import os
import sys

import numpy as np

import tapegrad
import tapegrad.distributed as dist
from tapegrad import nn, optim
from tapegrad.nn.parallel import DistributedDataParallel as DDP

STEPS = 6
BATCH = 16          # per rank


def make_model(seed, dtype):
    tapegrad.manual_seed(seed)
    m = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 5))
    return m.to(dtype=dtype)


def make_opt(kind, params):
    if kind == "sgd":
        return optim.SGD(params, lr=0.1, momentum=0.9)
    return optim.Adam(params, lr=0.01)


def data(dtype, n_ranks):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((STEPS, n_ranks * BATCH, 20))
    y = rng.integers(0, 5, (STEPS, n_ranks * BATCH))
    return tapegrad.tensor(x, dtype=dtype), tapegrad.tensor(y)


def train(model, opt, xs, ys, sync=True):
    loss_fn = nn.CrossEntropyLoss()
    for x, y in zip(xs, ys):
        opt.zero_grad()
        if sync:
            loss_fn(model(x), y).backward()
        else:
            with model.no_sync():
                loss_fn(model(x), y).backward()
        opt.step()
    return [p.detach().numpy().astype(np.float64).ravel().tolist() for p in model.parameters()]


def main(out_dir):
    dist.init_process_group("mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    out = {}
    for dt_name in ("float64", "float32"):
        dtype = getattr(tapegrad, dt_name)
        x, y = data(dtype, n)
        mine = slice(rank * BATCH, (rank + 1) * BATCH)
        for kind in ("sgd", "adam"):
            key = f"{dt_name}-{kind}"
            ddp = DDP(make_model(100 + rank, dtype), bucket_cap_mb=0.002)      # several uneven buckets
            out[key + "-buckets"] = [len(b.params) for b in ddp.reducer.buckets]
            out[key + "-ddp"] = train(ddp, make_opt(kind, ddp.parameters()), x[:, mine], y[:, mine])
            ctl = DDP(make_model(100 + rank, dtype), bucket_cap_mb=0.002)
            out[key + "-control"] = train(ctl, make_opt(kind, ctl.parameters()), x[:, mine], y[:, mine], sync=False)
            if rank == 0:
                ref = make_model(100, dtype)
                out[key + "-ref"] = train(ref, make_opt(kind, ref.parameters()), x, y)
    dist.destroy_process_group()
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1])
