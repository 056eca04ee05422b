"""Worker (under NUMBA_ENABLE_CUDASIM=1): collectives and DDP on CUDA tensors, staged through host memory."""
import json
import os
import sys
import traceback


import tapegrad
import tapegrad.distributed as dist
from tapegrad import nn
from tapegrad.nn.parallel import DistributedDataParallel as DDP


def main(out_dir):
    dist.init_process_group("mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    res = {}
    try:
        t = tapegrad.tensor([1.0, 2.0, 3.0], device="cuda") * (rank + 1)
        v = t._version[0]
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.device.type == "cuda" and t.cpu().tolist() == [1.5, 3.0, 4.5] and t._version[0] > v
        b = tapegrad.full((2, 2), float(rank), device="cuda", dtype=tapegrad.int64)
        dist.broadcast(b, src=1)
        assert b.cpu().tolist() == [[1, 1], [1, 1]]
        outs = [tapegrad.zeros(2, device="cuda") for _ in range(n)]
        w = dist.all_gather(outs, tapegrad.full((2,), float(rank), device="cuda"), async_op=True)
        w.wait()
        assert [o.cpu().tolist() for o in outs] == [[0.0, 0.0], [1.0, 1.0]]
        tapegrad.manual_seed(rank)
        model = DDP(nn.Linear(3, 2).to("cuda"))
        x = tapegrad.ones(4, 3, device="cuda") * (rank + 1)
        model(x).sum().backward()
        assert model.module.weight.grad.device.type == "cuda"
        assert model.module.weight.grad.cpu().tolist() == [[6.0] * 3] * 2      # (4 * 1 + 4 * 2) / 2
        assert model.module.bias.grad.cpu().tolist() == [4.0, 4.0]
        res["cuda"] = None
    except Exception:
        res["cuda"] = traceback.format_exc()[-2500:]
    dist.destroy_process_group()
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main(sys.argv[1])
