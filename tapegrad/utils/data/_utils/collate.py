"""``default_collate`` and ``default_convert``, as ``torch.utils.data._utils.collate``."""
import collections.abc
import copy

import numpy as np

from ...._tensor import Tensor

__all__ = ["default_collate", "default_convert"]


_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def default_collate(batch):
    """Merge a list of samples into a batch, recursing through mappings, namedtuples and sequences (PyTorch's rules).

    Tensors are stacked along a new first dimension with the differentiable ``stack`` (a batch of samples that
    require grad keeps their history); NumPy arrays and NumPy scalars become tensors of their dtype; Python
    floats become float64, ints int64, bools bool; strings and bytes come back as given. A mapping keeps its type,
    a namedtuple its type, a tuple becomes a list.

    Example:
        >>> import tapegrad
        >>> from tapegrad.utils.data import default_collate
        >>> default_collate([(tapegrad.ones(2), 0), (tapegrad.zeros(2), 1)])
        [tensor([[1., 1.],
                [0., 0.]]), tensor([0, 1])]
        >>> default_collate([0.5, 1.5]).dtype
        tapegrad.float64
    """
    if not batch:
        raise ValueError("default_collate: cannot collate an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        from ....ops.joining import stack
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "SaUO":           # PyTorch refuses arrays of strings and objects
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        from ...._creation import as_tensor
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        from ...._creation import tensor
        return tensor(np.asarray(batch))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, float):
        from ...._creation import tensor
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, int):                   # bools included: a batch of bools is a bool tensor
        from ...._creation import tensor
        return tensor(batch)
    if isinstance(elem, collections.abc.Mapping):
        return _same_mapping(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):      # namedtuple
        return type(elem)(*(default_collate(col) for col in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(b) != n for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size, got "
                               f"lengths {[len(b) for b in batch]}")
        cols = [default_collate(col) for col in zip(*batch)]
        return cols if isinstance(elem, tuple) else _same_sequence(elem, cols)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays and scalars inside ``data`` into tensors, keeping the structure (PyTorch's rules).

    This is what an unbatched ``DataLoader`` (``batch_size=None``) applies to each sample: tensors stay as
    they are, mappings and namedtuples keep their type, tuples become lists, anything else is returned as is.

    Example:
        >>> import numpy as np
        >>> from tapegrad.utils.data import default_convert
        >>> default_convert((np.zeros(2, dtype=np.float32), 3, "a"))
        [tensor([0., 0.]), 3, 'a']
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)) and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and data.dtype.kind in "SaUO":
            return data
        from ...._creation import as_tensor
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data


def _same_mapping(elem, items):
    """``items`` in a mapping of ``elem``'s type where that type allows it (OrderedDict, defaultdict...)."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(items)
            return clone
        return type(elem)(items)
    except TypeError:
        return items


def _same_sequence(elem, items):
    """``items`` in a sequence of ``elem``'s type where that type allows it, else a list."""
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, v in enumerate(items):
                clone[i] = v
            return clone
        return type(elem)(items)
    except TypeError:
        return items
