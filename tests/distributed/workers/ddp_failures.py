"""Worker: ``abort``: rank 1 raises while rank 0 waits in a collective (python -m mpi4py must end the job);
``mismatch``: the ranks build different models, and DDP's construction must say so on every rank."""
import sys

import tapegrad
import tapegrad.distributed as dist
from tapegrad import nn
from tapegrad.nn.parallel import DistributedDataParallel as DDP


def abort():
    dist.init_process_group("mpi")
    if dist.get_rank() == 1:
        raise ValueError("boom from rank 1")
    dist.all_reduce(tapegrad.ones(3))          # never completes: rank 1 is gone
    print("rank 0 finished the all_reduce", flush=True)


def mismatch():
    dist.init_process_group("mpi")
    rank = dist.get_rank()
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)) if rank == 0 else \
        nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2))
    try:
        DDP(model)
    except RuntimeError as e:
        # one write per line: two ranks share the pipe, and print() may write the text and the newline apart
        sys.stdout.write(f"rank {rank} caught: {e}\n")
        sys.stdout.flush()
    else:
        print(f"rank {rank}: no error", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    {"abort": abort, "mismatch": mismatch}[sys.argv[1]]()
