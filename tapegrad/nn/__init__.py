"""``tapegrad.nn``: modules, parameters, layers, losses, ``functional`` and ``init``, as in ``torch.nn``.

Example:
    >>> import tapegrad
    >>> from tapegrad import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> loss = nn.CrossEntropyLoss()(model(tapegrad.randn(5, 4)), tapegrad.tensor([0, 1, 2, 0, 1]))
    >>> loss.backward()
    >>> model[0].weight.grad.shape
    tapegrad.Size([8, 4])
"""
from .parameter import Parameter
from .module import Module
from . import functional, init
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all

from . import utils, parallel  # noqa: E402
from .parallel import DataParallel  # noqa: E402

__all__ = ["Parameter", "Module", "functional", "init"] + list(_modules_all)
__all__ += ["utils", "parallel", "DataParallel"]
