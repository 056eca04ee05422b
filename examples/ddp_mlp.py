"""The MLP demo (examples/mlp.py), data-parallel over MPI processes with DistributedDataParallel.

Each rank reads its share of every epoch through a DistributedSampler and runs the model on it; the
gradients are averaged across ranks in backward, so with N ranks each rank takes 1/N of the global
batch and the run follows the one-process run step for step (same global batches, same updates):

    mpiexec -n 2 python -m mpi4py examples/ddp_mlp.py          # 2 ranks; Open MPI: add --mca btl self,vader
    UCX_TLS=self,sm .venv/bin/mpiexec.gforker -n 2 .venv/bin/python -m mpi4py examples/ddp_mlp.py
    python examples/ddp_mlp.py                                  # one process: the reference

``python -m mpi4py`` makes an exception on one rank abort the whole job instead of hanging it.
Rank 0 prints the progress, saves a checkpoint of the plain model (``model.module.state_dict()``),
and every rank reloads it after a barrier.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))       # examples/mlp.py, as a module
from mlp import ACTIVATIONS, OPTIMIZERS, DEFAULT_LR, load_digits, make_mlp, accuracy, torch  # noqa: E402

import tapegrad.distributed as dist                                     # noqa: E402
from tapegrad import nn, optim                                          # noqa: E402
from tapegrad.nn.parallel import DistributedDataParallel as DDP         # noqa: E402
from tapegrad.utils.data import DataLoader, TensorDataset, DistributedSampler  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, nargs="*", default=[128, 64])
    ap.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu")
    ap.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=32, help="the global batch, split evenly across the ranks")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs", help="directory for the checkpoint (default runs/)")
    args = ap.parse_args(argv)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]

    dist.init_process_group(backend="mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise SystemExit(f"--batch-size {args.batch_size} must be a multiple of the {world} ranks")
    say = print if rank == 0 else (lambda *a, **k: None)

    torch.manual_seed(args.seed + rank)          # different on purpose: DDP broadcasts rank 0's weights
    (xtr, ytr), (xte, yte) = load_digits(args.seed)
    mean, std = xtr.mean(0), xtr.std(0)
    std[std == 0] = 1.0
    xtr, xte = (xtr - mean) / std, (xte - mean) / std
    n_classes = int(max(ytr.max(), yte.max())) + 1
    train = TensorDataset(torch.tensor(xtr), torch.tensor(ytr))
    x_test, y_test = torch.tensor(xte), torch.tensor(yte)
    sampler = DistributedSampler(train, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size // world, sampler=sampler)

    model = DDP(make_mlp(xtr.shape[1], args.hidden, n_classes, args.activation))
    opt = OPTIMIZERS[args.optimizer](model.parameters(), lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    say(f"digits: {len(xtr)} training images ({len(sampler)} per rank) and {len(xte)} test images; {world} rank(s), "
        f"global batch {args.batch_size} ({args.batch_size // world} per rank), {args.optimizer} lr={lr}")

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        total = torch.zeros(2, dtype=torch.float64)          # loss sum and count, summed over ranks below
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += torch.tensor([loss.item() * len(yb), len(yb)], dtype=torch.float64)
        sched.step()
        dist.all_reduce(total)
        acc = accuracy(model.module, x_test, y_test)
        say(f"epoch {epoch:2d}/{args.epochs}  loss {total[0].item() / total[1].item():.4f}  test accuracy {acc:.4f}")
    elapsed = time.perf_counter() - start
    say(f"final test accuracy: {acc:.4f} ({world} rank(s), training took {elapsed:.1f} s)")

    ckpt = os.path.join(args.out, "ddp_mlp_checkpoint.tg")
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        torch.save({"model": model.module.state_dict(), "epoch": args.epochs}, ckpt)
    dist.barrier()                                # the file is complete before any rank reads it
    fresh = make_mlp(xtr.shape[1], args.hidden, n_classes, args.activation)
    fresh.load_state_dict(torch.load(ckpt)["model"])
    reloaded = accuracy(fresh, x_test, y_test)
    say(f"saved {ckpt}; reloaded on every rank, test accuracy {reloaded:.4f}")
    dist.destroy_process_group()
    return {"test_acc": acc, "reloaded_acc": reloaded, "rank": rank, "world": world, "seconds": elapsed}


if __name__ == "__main__":
    main()
