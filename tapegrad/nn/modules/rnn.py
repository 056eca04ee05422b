"""Recurrent cells (``RNNCell``, ``LSTMCell``, ``GRUCell``) and layers (``RNN``, ``LSTM``, ``GRU``).

A cell is one time step; loops over time are ordinary Python loops, and the
tape records whatever ran, so variable-length sequences need no padding. The
layers run whole sequences (padded or packed); their loops live in
``_rnn_layers.py`` and ``_rnn_scan.py`` (Note [two recurrent paths]).
"""
import math

from ... import _creation as C
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNN", "LSTM", "GRU"]


class _CellBase(Module):
    def __init__(self, input_size, hidden_size, bias, gates, device, dtype):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(C.empty(gates * hidden_size, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(C.empty(gates * hidden_size, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(C.empty(gates * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(C.empty(gates * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        k = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def _prepare(self, input, hx, name):
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input to be 1-D or 2-D, got {input.ndim}-D "
                             f"(shape {tuple(input.shape)})")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features, expected input_size="
                             f"{self.input_size}")
        batched = input.ndim == 2
        if not batched:
            input = input.reshape((1, self.input_size))
        n = input.shape[0]
        if hx is None:
            z = C.zeros(n, self.hidden_size, dtype=input.dtype, device=input.device)
            return input, None, z, batched
        return input, hx, None, batched

    def _hidden(self, h, n, batched, name):
        if not batched:
            if h.ndim != 1:
                raise ValueError(f"{name}: for an unbatched input, hidden state should be 1-D, got shape "
                                 f"{tuple(h.shape)}")
            h = h.reshape((1, h.shape[0]))
        if tuple(h.shape) != (n, self.hidden_size):
            raise ValueError(f"{name}: hidden state has shape {tuple(h.shape)}, expected {(n, self.hidden_size)}")
        return h

    def _gates(self, x, h):
        return F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s


class RNNCell(_CellBase):
    """An Elman cell: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu).

    Args:
        input_size: features of the input ``x``.
        hidden_size: features of the hidden state ``h``.
        bias: whether to use ``b_ih`` and ``b_hh``.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Example:
        >>> import tapegrad
        >>> cell = tapegrad.nn.RNNCell(3, 5)
        >>> h = None
        >>> for x in tapegrad.randn(4, 2, 3):      # a loop over time
        ...     h = cell(x, h)
        >>> h.shape
        tapegrad.Size([2, 5])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        x, h, z, batched = self._prepare(input, hx, "RNNCell")
        h = z if h is None else self._hidden(h, x.shape[0], batched, "RNNCell")
        pre = self._gates(x, h)
        out = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
        return out if batched else out.reshape((self.hidden_size,))


class LSTMCell(_CellBase):
    """A long short-term memory cell; returns ``(h', c')``. Gates are stacked in the order i, f, g, o.

    Example:
        >>> import tapegrad
        >>> cell = tapegrad.nn.LSTMCell(3, 4)
        >>> h, c = cell(tapegrad.randn(2, 3))
        >>> h.shape, c.shape
        (tapegrad.Size([2, 4]), tapegrad.Size([2, 4]))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, hc, z, batched = self._prepare(input, hx, "LSTMCell")
        if hc is None:
            h, c = z, z
        else:
            if not isinstance(hc, (tuple, list)) or len(hc) != 2:
                raise TypeError("LSTMCell: hx must be a tuple (h, c)")
            n = x.shape[0]
            h = self._hidden(hc[0], n, batched, "LSTMCell")
            c = self._hidden(hc[1], n, batched, "LSTMCell")
        gates = self._gates(x, h)
        H = self.hidden_size
        i = gates[:, :H].sigmoid()
        f = gates[:, H:2 * H].sigmoid()
        g = gates[:, 2 * H:3 * H].tanh()
        o = gates[:, 3 * H:].sigmoid()
        c2 = f * c + i * g
        h2 = o * c2.tanh()
        if not batched:
            return h2.reshape((H,)), c2.reshape((H,))
        return h2, c2


class GRUCell(_CellBase):
    """A gated recurrent unit cell; gates are stacked in the order r, z, n, as in PyTorch.

    ``h' = (1 - z) * n + z * h`` with ``n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))``.

    Example:
        >>> import tapegrad
        >>> cell = tapegrad.nn.GRUCell(3, 4)
        >>> cell(tapegrad.randn(2, 3)).shape
        tapegrad.Size([2, 4])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, h, z, batched = self._prepare(input, hx, "GRUCell")
        h = z if h is None else self._hidden(h, x.shape[0], batched, "GRUCell")
        H = self.hidden_size
        gi = F.linear(x, self.weight_ih, self.bias_ih)
        gh = F.linear(h, self.weight_hh, self.bias_hh)
        r = (gi[:, :H] + gh[:, :H]).sigmoid()
        u = (gi[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
        n = (gi[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
        h2 = n + u * (h - n)
        return h2 if batched else h2.reshape((H,))


from ._rnn_layers import RNNBase, RNN, LSTM, GRU  # noqa: E402,F401  (the layers, kept in their own file)
