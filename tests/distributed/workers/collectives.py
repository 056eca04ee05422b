"""Worker: every collective on every dtype and op across the ranks; writes rank<r>.json {check: error or null}."""
import json
import os
import sys
import traceback

import numpy as np

import tapegrad
import tapegrad.distributed as dist

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
OPS = ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"]


def values(rank, dt, shape=(2, 3)):
    """Rank ``rank``'s input: small values whose products and sums fit every dtype."""
    a = (np.arange(6).reshape(2, 3) + 2 * rank + 1) % 4
    if dt == "bool":
        a = (np.arange(6).reshape(2, 3) + rank) % 3 == 0
    return a.astype(dt).reshape(shape)


def expected(op, dt, n):
    xs = [values(r, dt) for r in range(n)]
    if dt == "bool":
        f = {"SUM": np.logical_or, "MAX": np.logical_or, "PRODUCT": np.logical_and, "MIN": np.logical_and,
             "BAND": np.logical_and, "BOR": np.logical_or, "BXOR": np.logical_xor}[op]
    else:
        f = {"SUM": np.add, "AVG": np.add, "PRODUCT": np.multiply, "MIN": np.minimum, "MAX": np.maximum,
             "BAND": np.bitwise_and, "BOR": np.bitwise_or, "BXOR": np.bitwise_xor}[op]
    out = xs[0]
    for x in xs[1:]:
        out = f(out, x)
    if op == "AVG":
        out = (out / n).astype(dt)
    return out


def raises(exc, fn):
    try:
        fn()
    except exc as e:
        return str(e)
    raise AssertionError(f"expected {exc.__name__}")


def main(out_dir):
    dist.init_process_group(backend="mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    results = {}

    def check(name, fn):
        try:
            fn()
            results[name] = None
        except Exception:
            results[name] = traceback.format_exc()[-2000:]

    def all_reduce_case(dt, op):
        def run():
            t = tapegrad.tensor(values(rank, dt))
            v = t._version[0]
            invalid = (op == "AVG" and dt[0] != "f") or (op in ("BAND", "BOR", "BXOR") and dt[0] == "f")
            if invalid:
                msg = raises(TypeError, lambda: dist.all_reduce(t, op=getattr(dist.ReduceOp, op)))
                assert "all_reduce" in msg and op in msg, msg
                assert np.array_equal(t.numpy(), values(rank, dt)), "a refused reduction changed the tensor"
                return
            assert dist.all_reduce(t, op=getattr(dist.ReduceOp, op)) is None
            got, want = t.numpy(), expected(op, dt, n)
            assert got.dtype == want.dtype and np.array_equal(got, want), (got, want)
            assert t._version[0] > v, "version counter not bumped"
        return run

    for dt in DTYPES:
        for op in OPS:
            check(f"all_reduce-{dt}-{op}", all_reduce_case(dt, op))

    def broadcast_case(dt):
        def run():
            t = tapegrad.tensor(values(rank, dt))
            dist.broadcast(t, src=n - 1)
            assert np.array_equal(t.numpy(), values(n - 1, dt))
        return run

    def all_gather_case(dt):
        def run():
            outs = [tapegrad.zeros(2, 3, dtype=getattr(tapegrad, dt)) for _ in range(n)]
            dist.all_gather(outs, tapegrad.tensor(values(rank, dt)))
            for r, o in enumerate(outs):
                assert np.array_equal(o.numpy(), values(r, dt)), (r, o)
        return run

    def gather_scatter_reduce_case(dt):
        def run():
            dst = n - 1
            gl = [tapegrad.zeros(2, 3, dtype=getattr(tapegrad, dt)) for _ in range(n)] if rank == dst else None
            dist.gather(tapegrad.tensor(values(rank, dt)), gl, dst=dst)
            if rank == dst:
                for r, o in enumerate(gl):
                    assert np.array_equal(o.numpy(), values(r, dt))
            t = tapegrad.zeros(2, 3, dtype=getattr(tapegrad, dt))
            sl = [tapegrad.tensor(values(r, dt)) for r in range(n)] if rank == 0 else None
            dist.scatter(t, sl, src=0)
            assert np.array_equal(t.numpy(), values(rank, dt))
            t = tapegrad.tensor(values(rank, dt))
            op = dist.ReduceOp.MAX
            dist.reduce(t, dst=dst, op=op)
            want = expected("MAX", dt, n) if rank == dst else values(rank, dt)
            assert np.array_equal(t.numpy(), want)
        return run

    for dt in DTYPES:
        check(f"broadcast-{dt}", broadcast_case(dt))
        check(f"all_gather-{dt}", all_gather_case(dt))
        check(f"gather_scatter_reduce-{dt}", gather_scatter_reduce_case(dt))

    def non_contiguous():
        base = tapegrad.tensor(values(rank, "float64").T.copy())         # (3, 2)
        view = base.t()                                                  # (2, 3), not contiguous
        assert not view.is_contiguous()
        dist.all_reduce(view)
        assert np.array_equal(view.numpy(), expected("SUM", "float64", n))
        assert np.array_equal(base.numpy(), expected("SUM", "float64", n).T), "the storage was not written"
        s = tapegrad.zeros(4)[::2]
        dist.broadcast(s, src=0) if rank else None
        if rank == 0:
            s.fill_(7.0)
            dist.broadcast(s, src=0)
        assert s.tolist() == [7.0, 7.0]

    def zero_d_and_async():
        t = tapegrad.tensor(float(rank + 1))
        w = dist.all_reduce(t, op=dist.ReduceOp.PRODUCT, async_op=True)
        assert w.wait() is True and w.is_completed()
        assert t.item() == float(np.prod(np.arange(1, n + 1)))
        u = tapegrad.ones(1000, dtype=tapegrad.float32) * (rank + 1)
        w = dist.all_reduce(u, op=dist.ReduceOp.AVG, async_op=True)
        while not w.is_completed():
            pass
        assert np.all(u.numpy() == (n + 1) / 2)
        outs = [tapegrad.zeros(3) for _ in range(n)]
        w = dist.all_gather(outs, tapegrad.full((3,), float(rank)), async_op=True)
        w.wait()
        assert [o.tolist() for o in outs] == [[float(r)] * 3 for r in range(n)]
        dist.barrier()
        dist.barrier(async_op=True).wait()

    def requires_grad_leaf_and_errors():
        p = tapegrad.ones(2, requires_grad=True)
        dist.all_reduce(p)                         # a collective is no autograd op: a leaf is fine, as in torch
        assert p.tolist() == [float(n)] * 2 and p.requires_grad
        msg = raises(ValueError, lambda: dist.all_gather([tapegrad.zeros(2)], tapegrad.zeros(2)))
        assert "list of 2 tensors" in msg, msg
        msg = raises(ValueError, lambda: dist.broadcast(tapegrad.zeros(1), src=n))
        assert "src=2" in msg, msg
        msg = raises(TypeError, lambda: dist.all_reduce(np.zeros(2)))
        assert "must be a Tensor" in msg, msg
        assert dist.get_backend() == "mpi" and dist.is_initialized()

    check("non_contiguous", non_contiguous)
    check("zero_d_and_async", zero_d_and_async)
    check("requires_grad_leaf_and_errors", requires_grad_leaf_and_errors)
    dist.destroy_process_group()
    assert not dist.is_initialized()
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1])
