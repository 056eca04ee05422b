"""``tapegrad.optim``: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop, LBFGS,
learning-rate schedulers (``lr_scheduler``) and weight averaging (``swa_utils``), as in ``torch.optim``.

Example:
    >>> import tapegrad
    >>> model = tapegrad.nn.Linear(2, 1)
    >>> opt = tapegrad.optim.Adam(model.parameters(), lr=1e-2)
    >>> loss = model(tapegrad.ones(4, 2)).pow(2).mean()
    >>> opt.zero_grad(); loss.backward(); opt.step()
"""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adadelta import Adadelta
from .adamax import Adamax
from .nadam import NAdam
from .radam import RAdam
from .lbfgs import LBFGS
from .asgd import ASGD
from .rprop import Rprop
from . import lr_scheduler
from .sparse_adam import SparseAdam
from . import swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler", "swa_utils",
           "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS", "ASGD", "Rprop"]
__all__ += ["SparseAdam"]
