"""Tensor: state, properties and the autograd API.

Math methods and operators are attached in ``_tensor_methods.py`` from the
public functions in ``ops/``, so each op is defined in exactly one place.
"""
import weakref

import numpy as np

from . import _dtype as D
from . import backend as B
from ._device import device as _device
from ._tensor_convert import HostConversions
from .tape.capture import effect as _effect

__all__ = ["Tensor"]

# id -> weak reference of the tensors given a post-accumulate-grad hook (Note [ready leaves] in
# autograd/engine.py); a tensor leaves it when it dies, or when a backward finds its hooks removed.
POST_HOOKED = {}


class Size(tuple):
    """A tensor's shape: a tuple that prints like ``torch.Size([2, 3])``."""
    __slots__ = ()

    def __repr__(self):
        return f"tapegrad.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


class Tensor(HostConversions):
    """An n-dimensional array that records differentiable ops on the tape.

    Create tensors with ``tapegrad.tensor``, ``zeros``, ``randn`` ... rather than
    this constructor.

    Example:
        >>> import tapegrad
        >>> x = tapegrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """
    __slots__ = ("_data", "_grad_fn", "_requires_grad", "_version", "__dict__", "__weakref__")
    # Note [rare fields] (tape/node.py): defaults that most tensors never change.
    _grad = None
    _hooks = None
    _post_hooks = None
    _output_nr = 0
    _base = None                   # the tensor a view was made from (Note [copy slices] in ops/_copy_slices.py)
    _views = None                  # weak references to a base's live views (idem)
    _multi_view = None             # (node name, output index) for split/chunk/unbind outputs (idem)
    __array_priority__ = 1000      # NumPy defers to our reflected operators

    def __init__(self, *args, device=None, requires_grad=False):
        # PyTorch's legacy constructor (tapegrad/_legacy.py): Tensor(2, 3) is uninitialised float32,
        # Tensor(data) copies data as float32, Tensor(t) aliases t.
        from ._creation import legacy_tensor
        t = legacy_tensor("Tensor", None, args, device)
        self._data = t._data
        self._grad_fn = None
        self._version = t._version
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, grad_fn, be=None, version=None):
        t = object.__new__(cls)
        t._data = data
        t._grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._version = version if version is not None else [0, None]
        return t

    @staticmethod
    def _coerce_array(a):
        """A NumPy array for a non-Tensor operand (list, ndarray, NumPy scalar), or None."""
        if isinstance(a, np.ndarray):
            return a
        if isinstance(a, (np.generic, list, tuple)):
            return np.asarray(a)
        return None

    @staticmethod
    def _coerce(x):
        if isinstance(x, Tensor):
            return x
        from ._creation import tensor as _tensor_fn
        return _tensor_fn(x)

    # ------------------------------------------------------------- properties
    @property
    def data(self):
        """The tensor's values as a new Tensor that shares storage but not history."""
        return self.detach()

    @data.setter
    @_effect    # Note [capture hook] (tape/capture.py): a trace records the assignment
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the size of one dimension.

        Example:
            >>> import tapegrad
            >>> tapegrad.zeros(2, 3).size(-1)
            3
        """
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        """The number of dimensions.

        Example:
            >>> import tapegrad
            >>> tapegrad.zeros(2, 3).dim()
            2
        """
        return self._data.ndim

    def numel(self):
        """The number of elements.

        Example:
            >>> import tapegrad
            >>> tapegrad.zeros(2, 3).numel()
            6
        """
        return int(self._data.size)

    def nelement(self):
        """Alias of ``numel``: the number of elements.

        Example:
            >>> import tapegrad
            >>> tapegrad.zeros(2, 3).nelement()
            6
        """
        return int(self._data.size)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    @property
    def dtype(self):
        return D.from_numpy_dtype(self._data.dtype)

    @property
    def _backend(self):
        """The array backend that owns this tensor's storage (``NumpyBackend``, ``CudaBackend``).

        One attribute for a chore that every layer above the tape needs; it is a lookup by the
        storage's array type, so recording an op stores nothing extra.

        Example:
            >>> import tapegrad
            >>> tapegrad.zeros(2)._backend.device_type
            'cpu'
        """
        return B.BY_TYPE[type(self._data)]

    @property
    def device(self):
        return _device(self._backend.device_type)

    @property
    def is_cuda(self):
        return self._backend.device_type == "cuda"

    def is_floating_point(self):
        """Whether the dtype is a floating point one (float16, float32, float64).

        Example:
            >>> import tapegrad
            >>> tapegrad.ones(2).is_floating_point(), tapegrad.arange(2).is_floating_point()
            (True, False)
        """
        return self._data.dtype.kind in D.FLOAT_KINDS      # Note [bfloat16 kind] in _dtype.py

    @property
    def grad_fn(self):
        """The node that produced this tensor, or None for a leaf."""
        return self._grad_fn          # the Node itself (Note [node view] in tape/node.py)

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    @_effect    # Note [capture hook] (tape/capture.py): a trace records the assignment
    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on a leaf in place; returns self.

        Example:
            >>> import tapegrad
            >>> tapegrad.ones(2).requires_grad_().requires_grad
            True
        """
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                                   "use .detach() to get a tensor without history")
            return self
        if requires_grad and self._data.dtype.kind not in D.FLOAT_KINDS:
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, "
                               f"got {self.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        return self._grad

    @grad.setter
    @_effect    # Note [capture hook] (tape/capture.py): a trace records the assignment
    def grad(self, value):
        # PyTorch's checks and messages (validate the assigned gradient against the tensor).
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.device != self.device:
                raise RuntimeError(f"attempting to assign a gradient with device type '{value.device.type}' to a "
                                   f"tensor with device type '{self.device.type}'. Please ensure that the "
                                   "gradient and the tensor are on the same device")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{value.dtype.name}' to a tensor "
                                   f"with dtype '{self.dtype.name}'. The gradient must match the tensor's dtype")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of "
                                   f"size '{list(self.shape)}'. Please ensure that the gradient and the tensor "
                                   "are the same size")
        self._grad = value

    def is_contiguous(self):
        """True if the elements are laid out densely in row-major order (a transpose is not).

        Example:
            >>> import tapegrad
            >>> x = tapegrad.zeros(2, 3)
            >>> x.is_contiguous(), x.T.is_contiguous(), x.T.contiguous().is_contiguous()
            (True, False, True)
        """
        return self._backend.is_contiguous(self._data)

    # ------------------------------------------------------------- autograd API
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves.

        Args:
            gradient: the gradient of the final objective with respect to this
                tensor; may be omitted for a single-element tensor.
            retain_graph: keep saved values so backward can run again
                (defaults to ``create_graph``).
            create_graph: record the backward pass, for higher-order gradients.
            inputs: only accumulate into these leaves.

        Example:
            >>> import tapegrad
            >>> x = tapegrad.tensor(3.0, requires_grad=True)
            >>> (x ** 2).backward()
            >>> x.grad
            tensor(6.)
        """
        from .autograd import backward as _backward
        _backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def detach(self):
        """A new tensor sharing storage (and version counter) but with no history.

        Example:
            >>> import tapegrad
            >>> tapegrad.ones(2, requires_grad=True).detach().requires_grad
            False
        """
        return Tensor._make(self._data, None, None, self._version)

    def detach_(self):
        """Detach this tensor from its history in place; returns self.

        Example:
            >>> import tapegrad
            >>> y = tapegrad.ones(2, requires_grad=True) * 2
            >>> y.detach_().requires_grad, y.grad_fn is None
            (False, True)
        """
        self._grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward.

        Example:
            >>> import tapegrad
            >>> x = tapegrad.ones(2, requires_grad=True)
            >>> y = x * 2; y.retain_grad(); y.sum().backward()
            >>> y.grad
            tensor([1., 1.])
        """
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        fn = self._grad_fn
        if fn is None:
            return
        if fn.retain is None:
            fn.retain = {}
        fn.retain[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        fn = self._grad_fn
        return fn is not None and fn.retain is not None and self._output_nr in fn.retain

    def register_hook(self, hook):
        """Register ``hook(grad) -> Tensor or None``, called with this tensor's gradient.

        Returns a handle whose ``remove()`` unregisters the hook.

        Example:
            >>> import tapegrad
            >>> x = tapegrad.ones(2, requires_grad=True)
            >>> h = x.register_hook(lambda g: g * 10)
            >>> (x * 1).sum().backward()
            >>> x.grad
            tensor([10., 10.])
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        fn = self._grad_fn
        if fn is None:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:
            if fn.hooks is None:
                fn.hooks = {}
            hooks = fn.hooks.setdefault(self._output_nr, {})
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor)``, called on a leaf after a backward accumulated into its ``.grad``.

        It runs after the tensor's gradient hooks, once per backward; ``autograd.grad``,
        which leaves ``.grad`` alone, does not call it. Returns a handle whose
        ``remove()`` unregisters it.

        Example:
            >>> import tapegrad
            >>> w = tapegrad.ones(2, requires_grad=True)
            >>> h = w.register_post_accumulate_grad_hook(lambda t: print("grad", t.grad))
            >>> (w * 3).sum().backward()
            grad tensor([3., 3.])
        """
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_hooks is None:
            self._post_hooks = {}
        key = id(self)      # Note [ready leaves] in autograd/engine.py: what makes a backward look for them
        POST_HOOKED[key] = weakref.ref(self, lambda r: POST_HOOKED.pop(key, None))
        return _HookHandle(self._post_hooks, hook)

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __repr__(self):
        from ._repr import tensor_repr
        return tensor_repr(self)

    def __reduce__(self):
        raise TypeError("tapegrad tensors are not picklable; use tapegrad.save (a format that cannot run code)")

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("only leaf tensors support deepcopy")
        t = Tensor._make(self._backend.copy(self._data), None)
        t._requires_grad = self._requires_grad
        t.__class__ = self.__class__
        memo[id(self)] = t
        return t


class _HookHandle:
    _next = [0]

    def __init__(self, hooks, fn):
        self.hooks = hooks
        self.id = _HookHandle._next[0]
        _HookHandle._next[0] += 1
        hooks[self.id] = fn

    def remove(self):
        self.hooks.pop(self.id, None)


def _wrap_dim(dim, ndim, opname):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{opname}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n

