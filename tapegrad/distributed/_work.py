"""``Work``: the handle of a collective started with ``async_op=True``."""

__all__ = ["Work"]


class Work:
    """The handle of a collective started with ``async_op=True``: ``wait()`` until it is done.

    Example:
        >>> import tapegrad, tapegrad.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> t = tapegrad.tensor([1.0, 2.0])
        >>> w = dist.all_reduce(t, async_op=True)
        >>> w.wait(), w.is_completed(), t
        (True, True, tensor([1., 2.]))
        >>> dist.destroy_process_group()
    """

    def __init__(self, request, finish=None):
        self._request = request
        self._finish = finish
        self._done = False

    def _complete(self):
        self._done = True
        self._request = None
        if self._finish is not None:
            f, self._finish = self._finish, None
            f()

    def wait(self, timeout=None):
        """Block until the collective has completed and its results are in the tensors; returns True."""
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def is_completed(self):
        """Whether the collective has completed (finishing it if MPI says it has); does not block."""
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed()

    def exception(self):
        return None
