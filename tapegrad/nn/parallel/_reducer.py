"""The gradient reducer of DistributedDataParallel: buckets, autograd hooks, the end-of-backward wait.

# Note [DDP buckets]
Parameters are packed into buckets in reverse registration order (roughly the order backward
produces their gradients), one dtype and device per bucket, the first capped at 1 MiB (or less) and the others
at ``bucket_cap_mb`` (as PyTorch). The parameters of one module (a Linear's weight and bias) are never
split across buckets: tapegrad's fused ops (``linear``) finish them in the same backward step, so a
bucket holding the bias of a layer whose weight went to the next bucket would wait for that whole
layer; a module larger than the cap gets a bucket of its own. Each bucket is one contiguous host
array; a parameter owns a slice.
A post-accumulate-grad hook copies the parameter's fresh ``.grad`` into its slice, divided by the
world size on the way (one pass, as PyTorch's ``mul_out`` into the bucket view; a ``.grad`` that
already is the slice, with ``gradient_as_bucket_view``, is divided in place); when the last slice of
a bucket arrives, the bucket's sum is started with a nonblocking MPI all-reduce. The engine runs
those hooks as soon as each parameter's gradient is complete (Note [ready leaves] in
autograd/engine.py), so a bucket is launched while the backward of earlier layers still runs. Buckets are
launched strictly in bucket order (a ready bucket waits for the ones before it), so every rank issues
the same sequence of collectives even when gradients arrive in a different order. A callback queued
on the backward pass (``autograd.graph.queue_callback``) runs when the backward ends: it launches
what is left (the buckets of parameters that got no gradient, zero-filled, with
``find_unused_parameters``), waits for every bucket and writes the average back into each ``.grad``
(one copy; none with ``gradient_as_bucket_view``). MPICH moves a nonblocking collective's data only
inside MPI calls (no progress thread by default), so each hook also tests the buckets in flight,
letting them advance between the layers' backward steps; the rest happens in the final wait.
"""
import numpy as np

from ...autograd.graph import queue_callback
from ...distributed._work import Work
from ..._tensor import Tensor

_FIRST_BUCKET_BYTES = 1 << 20


class _Bucket:
    __slots__ = ("flat", "params", "offsets", "pending", "work", "index")

    def __init__(self, index, params, dtype):
        self.index = index
        self.params = params
        self.offsets = []
        n = 0
        for p in params:
            self.offsets.append((n, p.numel()))
            n += p.numel()
        self.flat = np.zeros(n, dtype)
        self.pending = len(params)
        self.work = None


def build_buckets(params, cap_bytes, owners=None):
    """Group ``params`` (already in reverse registration order) into buckets (Note [DDP buckets]).

    ``owners`` names each parameter's module; consecutive parameters of one module stay together."""
    owners = owners or list(range(len(params)))
    units = []                      # runs of consecutive parameters of one module, dtype and device
    for p, owner in zip(params, owners):
        k = (owner, p._data.dtype, p.device.type)
        if units and units[-1][0] == k:
            units[-1][1].append(p)
        else:
            units.append((k, [p]))
    groups, cur, cur_bytes, key = [], [], 0, None
    for (_, dtype, dev), unit in units:
        size = sum(p.numel() for p in unit) * dtype.itemsize
        limit = min(_FIRST_BUCKET_BYTES, cap_bytes) if not groups else cap_bytes
        if cur and ((dtype, dev) != key or cur_bytes + size > limit):
            groups.append(cur)
            cur, cur_bytes = [], 0
        cur.extend(unit)
        cur_bytes += size
        key = (dtype, dev)
    if cur:
        groups.append(cur)
    return [_Bucket(i, g, g[0]._data.dtype) for i, g in enumerate(groups)]


def _host(t):
    d = t._data
    return d if type(d) is np.ndarray else t._backend.to_numpy(d)


class Reducer:
    """Averages the gradients of ``params`` across ``group`` during backward (Note [DDP buckets])."""

    def __init__(self, params, names, group, cap_bytes, find_unused, as_bucket_view):
        self.params = params
        self.names = names
        self.group = group
        self.find_unused = find_unused
        self.as_bucket_view = as_bucket_view
        self.buckets = build_buckets(list(reversed(params)), cap_bytes,
                                     [n.rpartition(".")[0] for n in reversed(names)])
        self.index = {id(p): i for i, p in enumerate(params)}
        self.where = {}
        for b in self.buckets:
            for j, p in enumerate(b.params):
                self.where[id(p)] = (b, j)
        self.expect = False          # a forward with sync on prepared a backward
        self.queued = False
        self.got = set()
        self.next_launch = 0
        self.scale = 1.0 / group.size()     # gradients are floating point: only those require grad
        self.in_flight = []
        self.handles = [p.register_post_accumulate_grad_hook(self._hook) for p in params]

    # ---------------------------------------------------------------- per iteration
    def prepare(self):
        """A forward with gradient sync on: the next backward reduces (PyTorch's prepare_for_backward)."""
        if self.queued:
            raise RuntimeError("DistributedDataParallel: the previous backward's reduction did not finish")
        self.expect = True
        self.got = set()
        self.next_launch = 0
        self.in_flight = []
        for b in self.buckets:
            b.pending = len(b.params)
            b.work = None

    def queue_once(self):
        if self.expect and not self.queued:
            self.queued = True
            queue_callback(self.finalize)

    def _hook(self, p):
        if not self.expect:
            return
        self.queue_once()
        if id(p) in self.got:
            return
        self.got.add(id(p))
        b, j = self.where[id(p)]
        off, n = b.offsets[j]
        g = _host(p.grad).reshape(-1)
        dst = b.flat[off:off + n]
        if np.shares_memory(g, dst):
            dst *= self.scale
        else:
            np.multiply(g, self.scale, out=dst)
        b.pending -= 1
        if b.pending == 0:
            self._launch_ready()
        elif self.in_flight:
            self._progress()

    def _progress(self):
        """Let MPI move the buckets in flight (Note [DDP buckets]); forget those that completed."""
        self.in_flight = [w for w in self.in_flight if not w.is_completed()]

    def _launch(self, b):
        from mpi4py import MPI      # only reached once a process group exists
        b.work = Work(self.group.comm.Iallreduce(MPI.IN_PLACE, b.flat, op=MPI.SUM))
        self.in_flight.append(b.work)

    def _launch_ready(self):
        while self.next_launch < len(self.buckets) and self.buckets[self.next_launch].pending == 0:
            self._launch(self.buckets[self.next_launch])
            self.next_launch += 1

    # ---------------------------------------------------------------- end of backward
    def finalize(self):
        try:
            self._finalize()
        finally:
            self.queued = False
            self.expect = False

    def _finalize(self):
        missing = [i for i, p in enumerate(self.params) if id(p) not in self.got]
        if missing and not self.find_unused:
            self._wait_launched()
            names = ", ".join(self.names[i] for i in missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise RuntimeError(
                f"DistributedDataParallel: {len(missing)} parameter(s) received no gradient in this backward "
                f"on rank {self.group.rank()}: {names}. Pass find_unused_parameters=True when the forward "
                "does not use every parameter, or make sure all forward outputs take part in the loss")
        for i in missing:            # zero contributions, so every rank's buckets are complete
            b, j = self.where[id(self.params[i])]
            off, n = b.offsets[j]
            b.flat[off:off + n] = 0
            b.pending -= 1
        self._launch_ready()
        used = None
        if self.find_unused:
            from mpi4py import MPI
            used = np.zeros(len(self.params), np.int32)
            used[[i for i, p in enumerate(self.params) if id(p) in self.got]] = 1
            self.group.comm.Allreduce(MPI.IN_PLACE, used, op=MPI.SUM)
        for b in self.buckets:
            b.work.wait()
            for p, (off, n) in zip(b.params, b.offsets):
                if used is not None and not used[self.index[id(p)]]:
                    continue            # no rank used it: its .grad stays as it was, as in PyTorch
                self._write_grad(p, b.flat[off:off + n])

    def _wait_launched(self):
        for b in self.buckets:
            if b.work is not None:
                b.work.wait()

    def _write_grad(self, p, avg):
        shape = tuple(p.shape)
        g = p.grad
        if g is None:
            data = p._backend.from_numpy(avg.reshape(shape).copy()) if type(p._data) is not np.ndarray \
                else avg.reshape(shape).copy()
            p.grad = Tensor._make(data, None)
            return
        if self.as_bucket_view and type(g._data) is np.ndarray:
            if not np.shares_memory(g._data, avg):
                p.grad = Tensor._make(avg.reshape(shape), None)
            else:
                g._version[0] += 1
            return
        if type(g._data) is np.ndarray:
            np.copyto(g._data, avg.reshape(shape))
        else:
            g._backend.setitem(g._data, Ellipsis, g._backend.from_numpy(avg.reshape(shape).copy()))
        g._version[0] += 1

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []
