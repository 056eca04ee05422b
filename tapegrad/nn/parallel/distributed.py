"""``DistributedDataParallel``: data-parallel training across MPI processes, as ``torch.nn.parallel``.

Each process holds a replica of the model and feeds it its own share of every batch; the wrapper
makes the replicas start equal (rank 0's parameters and buffers are broadcast at construction, after
checking that every rank built the same shapes) and keeps them equal (gradients are averaged across
the processes during backward, Note [DDP buckets] in _reducer.py), so an optimizer step gives the same
parameters everywhere: the same as one process on the concatenated batch.
"""
from contextlib import contextmanager

from ..module import Module
from ..._tensor import Tensor
from ...tape.grad_mode import is_grad_enabled
from ...distributed import process_group as _pg
from ...distributed.collectives import broadcast
from ._reducer import Reducer

__all__ = ["DistributedDataParallel"]


def _tensors(obj, out):
    """The Tensors in a forward output (nested tuples, lists and dicts)."""
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors(o, out)
    return out


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training: gradients are averaged across all processes in backward.

    Start the processes with mpiexec and call ``tapegrad.distributed.init_process_group("mpi")`` first.
    During backward, gradients are packed into buckets of about ``bucket_cap_mb`` MiB (reverse
    registration order) and each bucket is all-reduced as soon as all its gradients are ready;
    the last ones are waited for when the backward ends, and every ``.grad`` then holds the average
    over the processes. ``state_dict`` keys carry the ``module.`` prefix, as PyTorch's.

    Args:
        module: the model; every rank must build it with the same parameter shapes and dtypes.
        device_ids, output_device, dim: accepted for PyTorch compatibility (single-device replicas).
        broadcast_buffers: broadcast rank 0's buffers before every forward that syncs gradients (BatchNorm
            statistics).
        process_group: the group to average over (default: the default group).
        bucket_cap_mb: bucket size in MiB (default 25).
        find_unused_parameters: allow parameters that get no gradient in a backward (their share is
            zero; a parameter no rank used keeps its ``.grad``). Without it such a parameter raises.
        gradient_as_bucket_view: leave each ``.grad`` as a view into its bucket (CPU), saving a copy.
        static_graph: accepted; the reducer needs no warm-up.

    Example:
        >>> import tapegrad, tapegrad.distributed as dist
        >>> from tapegrad import nn
        >>> from tapegrad.nn.parallel import DistributedDataParallel as DDP
        >>> dist.init_process_group("mpi")
        >>> model = DDP(nn.Linear(3, 1))
        >>> model(tapegrad.ones(4, 3)).sum().backward()
        >>> model.module.weight.grad
        tensor([[4., 4., 4.]])
        >>> list(model.state_dict())
        ['module.weight', 'module.bias']
        >>> dist.destroy_process_group()
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 init_sync=True, process_group=None, bucket_cap_mb=None, find_unused_parameters=False,
                 check_reduction=False, gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got {type(module).__name__}")
        group = _pg.default_group(process_group, "DistributedDataParallel")
        self.module = module
        self.process_group = group
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers is None or bool(broadcast_buffers)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self.require_backward_grad_sync = True
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        self._check_same_model(group, module)
        if init_sync:
            self._sync_module_states(group, module)
        self.reducer = Reducer([p for _, p in named], [n for n, _ in named], group, self.bucket_bytes_cap,
                               find_unused_parameters, gradient_as_bucket_view)

    @staticmethod
    def _signature(module):
        return ([(n, tuple(p.shape), str(p.dtype)) for n, p in module.named_parameters()] +
                [(n, tuple(b.shape), str(b.dtype)) for n, b in module.named_buffers()])

    def _check_same_model(self, group, module):
        """Every rank must hold the same parameter and buffer shapes; each rank raises the same error if not."""
        mine = self._signature(module)
        everyone = group.comm.allgather(mine)
        ref = everyone[0]
        for r, sig in enumerate(everyone[1:], 1):
            if sig == ref:
                continue
            for k in range(max(len(sig), len(ref))):
                a = ref[k] if k < len(ref) else None
                b = sig[k] if k < len(sig) else None
                if a != b:
                    break
            what = (lambda e: "nothing" if e is None else f"{e[0]} of shape {list(e[1])} and dtype {e[2]}")
            raise RuntimeError(
                f"DistributedDataParallel: the model differs across ranks: tensor #{k} of the parameters and "
                f"buffers is {what(a)} on rank 0 but {what(b)} on rank {r} (rank 0 has {len(ref)} tensors, "
                f"rank {r} has {len(sig)}); every rank must build the same model")

    def _sync_module_states(self, group, module):
        if group.size() == 1:
            return
        for t in list(module.parameters()) + list(module.buffers()):
            broadcast(t, src=0, group=group)

    def _sync_buffers(self):
        if self.broadcast_buffers and self.process_group.size() > 1:
            for b in self.module.buffers():
                broadcast(b, src=0, group=self.process_group)

    def forward(self, *inputs, **kwargs):
        # As PyTorch: a forward with grad mode on and outside no_sync() prepares the next backward's
        # reduction and first broadcasts rank 0's buffers.
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            self._sync_buffers()
            self.reducer.prepare()
        out = self.module(*inputs, **kwargs)
        if sync:
            # Queue the end-of-backward wait as soon as backward reaches an output, so a rank whose
            # parameters all miss a gradient still takes part in the reduction.
            for t in _tensors(out, []):
                if t.grad_fn is not None:
                    t.register_hook(self._output_hook)
        return out

    def _output_hook(self, grad):
        self.reducer.queue_once()

    @contextmanager
    def no_sync(self):
        """Inside this context, backward accumulates gradients locally with no communication.

        The first forward-backward outside it averages the accumulated gradients (gradient accumulation).

        Example:
            >>> import tapegrad, tapegrad.distributed as dist
            >>> from tapegrad import nn
            >>> dist.init_process_group("mpi")
            >>> model = tapegrad.nn.parallel.DistributedDataParallel(nn.Linear(2, 1))
            >>> with model.no_sync():
            ...     model(tapegrad.ones(1, 2)).sum().backward()
            >>> model(tapegrad.ones(1, 2)).sum().backward()
            >>> model.module.bias.grad
            tensor([2.])
            >>> dist.destroy_process_group()
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old
