"""The multi-layer recurrent modules ``RNN``, ``LSTM`` and ``GRU`` (importable from ``nn.modules.rnn``).

Parameters, their names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ``weight_hr_l0``),
order and initialisation are PyTorch's, so ``load_state_dict`` of a PyTorch
state dict reproduces its outputs. The loops over time are in ``_rnn_scan.py``
(Note [two recurrent paths]).
"""
import math
import numbers
import warnings

from ... import _creation as C
from ..._tensor import Tensor
from ...ops import joining as _J
from ...ops.linalg import linear
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .._rnn_utils import PackedSequence
from ._rnn_scan import LSTMScan, steps

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (PyTorch's ``nn.RNNBase``)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}")
        for arg, val in (("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(val, int) or isinstance(val, bool):
                raise TypeError(f"{name}: {arg} should be of type int, got: {type(val).__name__}")
            if val <= 0:
                raise ValueError(f"{name}: {arg} must be greater than zero, got {val}")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for d in range(dirs):
                layer_in = input_size if layer == 0 else real_hidden * dirs
                shapes = [("weight_ih", (gate_size, layer_in)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                suffix = "_reverse" if d == 1 else ""
                names = []
                for base, shape in shapes:
                    pname = f"{base}_l{layer}{suffix}"
                    setattr(self, pname, Parameter(C.empty(*shape, dtype=dtype, device=device)))
                    names.append(pname)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch does."""
        k = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def flatten_parameters(self):
        """A no-op kept for PyTorch compatibility (there is no cuDNN weight buffer to compact)."""

    @property
    def all_weights(self):
        """The parameters per layer and direction, as lists in PyTorch's order."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ----------------------------------------------------------------- forward
    def _name(self):
        return type(self).__name__

    def _weights(self, layer, d):
        suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
        get = self._parameters.get
        return (get("weight_ih" + suffix), get("weight_hh" + suffix), get("bias_ih" + suffix),
                get("bias_hh" + suffix), get("weight_hr" + suffix))

    def _states(self, hx, batched, n, dtype, device, sorted_indices):
        """Initial states ``(h0, c0)`` shaped ``(layers * dirs, n, size)``; c0 is None except for LSTM."""
        dirs = 2 if self.bidirectional else 1
        out_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        lstm = self.mode == "LSTM"
        if hx is None:
            return None, None
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            h, c = hx
            want = 3 if batched else 2
            if h.ndim != want or c.ndim != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                                   f"({h.ndim}-D, {c.ndim}-D) tensors")
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{self._name()}: hx must be a Tensor, got {type(hx).__name__}")
            h, c = hx, None
            want = 3 if batched else 2
            if h.ndim != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {h.ndim}-D tensor")
        if not batched:
            h = h.unsqueeze(1)
            c = None if c is None else c.unsqueeze(1)
        if sorted_indices is not None:
            h = h.index_select(1, sorted_indices)
            c = None if c is None else c.index_select(1, sorted_indices)
        checks = [(h, (self.num_layers * dirs, n, out_size), "hidden[0]" if lstm else "hidden")]
        if lstm:
            checks.append((c, (self.num_layers * dirs, n, self.hidden_size), "hidden[1]"))
        for t, shape, what in checks:
            if tuple(t.shape) != shape:
                raise RuntimeError(f"{self._name()}: Expected {what} size {shape}, got {list(t.shape)}")
            if t.dtype != dtype or t.device != device:
                raise RuntimeError(f"{self._name()}: {what} has dtype {t.dtype} on {t.device}; expected the "
                                   f"input's {dtype} on {device}")
        return h, c

    def forward(self, input, hx=None):
        name = self._name()
        packed = isinstance(input, PackedSequence)
        if packed:
            x, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(b) for b in batch_sizes_t.tolist()]
            n = batch_sizes[0]
            batched = True
            if x.ndim != 2:
                raise ValueError(f"{name}: packed data must be 2-D, got {x.ndim}-D")
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: input must be a Tensor or a PackedSequence, got {type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D input instead")
            batched = input.ndim == 3
            sorted_indices = unsorted_indices = batch_sizes = None
            x = input if not batched else (input.transpose(0, 1) if self.batch_first else input)
            if not batched:
                x = x.unsqueeze(1)
            n = x.shape[1]
        if not packed and x.shape[0] == 0:
            raise RuntimeError(f"{name}: Expected sequence length to be larger than 0 in RNN (input shape "
                               f"{tuple(input.shape)})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.shape[-1]}")
        w0 = self.weight_ih_l0
        if x.dtype != w0.dtype or x.device != w0.device:
            raise RuntimeError(f"{name}: input has dtype {x.dtype} on {x.device}, but the weights are {w0.dtype} "
                               f"on {w0.device}; convert one of them")
        h0, c0 = self._states(hx, batched, n, x.dtype, x.device, sorted_indices)
        out, h_n, c_n = self._layers(x, h0, c0, batch_sizes)
        if packed:
            out = PackedSequence(out, batch_sizes_t, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                h_n = h_n.index_select(1, unsorted_indices)
                c_n = None if c_n is None else c_n.index_select(1, unsorted_indices)
        elif not batched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _layers(self, x, h0, c0, batch_sizes):
        dirs = 2 if self.bidirectional else 1
        n = batch_sizes[0] if batch_sizes is not None else x.shape[1]
        out_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        lstm = self.mode == "LSTM"
        fused = lstm and self.proj_size == 0 and batch_sizes is None
        nonlinearity = "relu" if self.mode == "RNN_RELU" else "tanh"
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
                hk = h0[k] if h0 is not None else C.zeros(n, out_size, dtype=x.dtype, device=x.device)
                ck = None
                if lstm:
                    ck = c0[k] if c0 is not None else C.zeros(n, self.hidden_size, dtype=x.dtype, device=x.device)
                xp = linear(x, w_ih, b_ih)
                if fused:
                    o, hn, cn = LSTMScan.apply(xp, w_hh, b_hh, hk, ck, d == 1)
                else:
                    o, hn, cn = steps(self.mode if lstm or self.mode == "GRU" else "RNN", xp, w_hh, b_hh, hk, ck,
                                      w_hr, d == 1, batch_sizes, nonlinearity)
                outs.append(o)
                finals_h.append(hn)
                finals_c.append(cn)
            x = outs[0] if dirs == 1 else _J.cat(outs, dim=-1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h_n = _J.stack(finals_h)
        c_n = _J.stack(finals_c) if lstm else None
        return x, h_n, c_n


class RNN(RNNBase):
    """A multi-layer Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu).

    Takes PyTorch's arguments, positionally in its order: ``input_size, hidden_size, num_layers=1,
    nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0, bidirectional=False``.
    ``forward(input, h_0=None)`` returns ``(output, h_n)``; ``input`` is ``(L, N, H_in)``
    (``(N, L, H_in)`` with ``batch_first``), unbatched ``(L, H_in)``, or a ``PackedSequence``.

    Example:
        >>> import tapegrad
        >>> rnn = tapegrad.nn.RNN(3, 5, num_layers=2)
        >>> out, h = rnn(tapegrad.randn(7, 2, 3))
        >>> out.shape, h.shape
        (tapegrad.Size([7, 2, 5]), tapegrad.Size([2, 2, 5]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            kwargs["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """A multi-layer long short-term memory RNN; gates stacked i, f, g, o as in PyTorch.

    Arguments as PyTorch's (``input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0``). ``forward(input, (h_0, c_0)=None)`` returns
    ``(output, (h_n, c_n))``. With ``proj_size > 0`` the hidden state is projected by ``weight_hr``.

    Example:
        >>> import tapegrad
        >>> lstm = tapegrad.nn.LSTM(3, 4, batch_first=True, bidirectional=True)
        >>> out, (h, c) = lstm(tapegrad.randn(2, 6, 3))
        >>> out.shape, h.shape, c.shape
        (tapegrad.Size([2, 6, 8]), tapegrad.Size([2, 2, 4]), tapegrad.Size([2, 2, 4]))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """A multi-layer gated recurrent unit RNN; gates stacked r, z, n as in PyTorch.

    Arguments as PyTorch's (``input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False``). ``forward(input, h_0=None)`` returns ``(output, h_n)``.

    Example:
        >>> import tapegrad
        >>> gru = tapegrad.nn.GRU(3, 4)
        >>> out, h = gru(tapegrad.randn(5, 3))       # unbatched
        >>> out.shape, h.shape
        (tapegrad.Size([5, 4]), tapegrad.Size([1, 4]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)
