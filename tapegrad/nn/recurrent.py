"""Recurrent layers with PyTorch's API: ``RNNCell``, ``LSTMCell``, ``GRUCell`` and the
multi-layer, optionally bidirectional ``RNN``, ``LSTM`` and ``GRU``.

Each step is composed of recorded ops (two ``linear`` maps, the gates' nonlinearities), so the
gradients, higher derivatives and ``tg.func`` transforms come from those ops' own rules. The
gate layouts, parameter names and shapes, initialisation U(±1/sqrt(hidden_size)) and the shapes
of inputs, states and outputs are PyTorch's, so a ``state_dict`` moves across unchanged.
"""

import math
import numbers
import warnings

from .. import creation
from ..ops import elementwise as A
from ..ops.join import cat, stack
from ..tensor import Tensor
from . import functional as F
from . import init
from .linear import _empty
from .module import Module
from .parameter import Parameter
from .utils.packed import PackedSequence, packed_like, pad_packed_sequence, step_masks

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _rnn_tanh_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    return A.tanh(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh))


def _rnn_relu_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    return A.relu(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh))


def _lstm_cell(x, state, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    """Gates in PyTorch's order (input, forget, cell, output) along the 4H rows; ``w_hr``:
    the hidden state projected to ``proj_size`` (LSTMs with projections)."""
    h, c = state
    i, f, g, o = (F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = A.sigmoid(f) * c + A.sigmoid(i) * A.tanh(g)
    h = A.sigmoid(o) * A.tanh(c)
    return (h if w_hr is None else F.linear(h, w_hr)), c


def _gru_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """Gates in PyTorch's order (reset, update, new); the reset gate scales ``W_hn h + b_hn``."""
    xr, xz, xn = F.linear(x, w_ih, b_ih).chunk(3, -1)
    hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = A.sigmoid(xr + hr)
    z = A.sigmoid(xz + hz)
    n = A.tanh(xn + r * hn)
    return (1.0 - z) * n + z * h


_CELLS = {"RNN_TANH": _rnn_tanh_cell, "RNN_RELU": _rnn_relu_cell, "LSTM": _lstm_cell,
          "GRU": _gru_cell}


def _mode(name, nonlinearity):
    if name != "RNN":
        return name
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


def _uniform_init(module, hidden_size):
    k = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for p in module.parameters():
        init.uniform_(p, -k, k)


class RNNCellBase(Module):
    """The base of the cells. Constructed as PyTorch's, ``RNNCellBase(input_size, hidden_size,
    bias, num_chunks)`` (a subclass without a ``_name``: a cell of one's own, whose ``forward``
    it writes), it makes the weights of ``num_chunks`` gates."""

    _name = None

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None, num_chunks=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        if self._name is None:  # (PyTorch's 4th argument: num_chunks)
            self._mode = None
            rows = (nonlinearity if num_chunks is None else num_chunks) * hidden_size
        else:
            self._mode = _mode(self._name, nonlinearity)
            rows = _GATES[self._mode] * hidden_size
        if self._name == "RNN":
            self.nonlinearity = nonlinearity
        self.weight_ih = Parameter(_empty((rows, input_size), dtype, device))
        self.weight_hh = Parameter(_empty((rows, hidden_size), dtype, device))
        if bias:
            self.bias_ih = Parameter(_empty((rows,), dtype, device))
            self.bias_hh = Parameter(_empty((rows,), dtype, device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self, self.hidden_size)

    def forward(self, input, hx=None):
        if self._mode is None:
            return Module.forward(self, input, hx)
        x = input if isinstance(input, Tensor) else creation.tensor(input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got "
                             f"{x.ndim}D instead")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[-1]} expected "
                               f"{self.input_size}")
        batched = x.ndim == 2
        if not batched:
            x = x.unsqueeze(0)
        if hx is None:
            zeros = creation.zeros((x.shape[0], self.hidden_size), dtype=x.dtype,
                                   device=x.device)
            hx = (zeros, zeros) if self._mode == "LSTM" else zeros
        else:
            if not batched:
                hx = tuple(h.unsqueeze(0) for h in hx) if self._mode == "LSTM" else \
                    hx.unsqueeze(0)
            for k, h in enumerate(hx if self._mode == "LSTM" else (hx,)):  # (PyTorch's checks)
                if h.shape[0] != x.shape[0]:
                    raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match "
                                       f"hidden{k} batch size {h.shape[0]}")
                if h.ndim != 2 or h.shape[1] != self.hidden_size:
                    raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got "
                                       f"{h.shape[1] if h.ndim > 1 else h.shape[0]}, expected "
                                       f"{self.hidden_size}")
        out = _CELLS[self._mode](x, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                                 self.bias_hh)
        if not batched:
            out = tuple(o.squeeze(0) for o in out) if self._mode == "LSTM" else out.squeeze(0)
        return out

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self._name == "RNN" and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu)."""

    _name = "RNN"


class LSTMCell(RNNCellBase):
    """One LSTM step: returns ``(h', c')``."""

    _name = "LSTM"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)


class GRUCell(RNNCellBase):
    """One GRU step."""

    _name = "GRU"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)


_TORCH_MODES = {"RNN_TANH": ("RNN", "tanh"), "RNN_RELU": ("RNN", "relu"),
                "LSTM": ("LSTM", "tanh"), "GRU": ("GRU", "tanh")}
_TORCH_ARGS = ("mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
               "dropout", "bidirectional", "proj_size", "device", "dtype")


class RNNBase(Module):
    """Layers of cells over a sequence: ``(L, N, H_in)`` (``(N, L, H_in)`` with
    ``batch_first``, or unbatched ``(L, H_in)``); states ``(D * num_layers, N, H)``. Also made
    as PyTorch's, ``RNNBase(mode, input_size, hidden_size, ...)`` with ``mode`` one of
    'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU' (its ``mode`` attribute)."""

    _name = None

    def __init__(self, *args, **kwargs):
        if (args and isinstance(args[0], str)) or "mode" in kwargs:
            kwargs = {**dict(zip(_TORCH_ARGS, args)), **kwargs}
            args, mode = (), kwargs.pop("mode")
            if mode not in _TORCH_MODES:
                raise ValueError("Unrecognized RNN mode: " + str(mode))
            self._name, kwargs["nonlinearity"] = _TORCH_MODES[mode]
        self._build(*args, **kwargs)

    def _build(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
               batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
               dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or \
                isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        for name, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and self._name != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self._mode = self.mode = _mode(self._name, nonlinearity)
        if self._name == "RNN":
            self.nonlinearity = nonlinearity
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        rows = _GATES[self._mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        out = proj_size or hidden_size  # (the width of h: projected, or the hidden size)
        for layer in range(num_layers):
            width = input_size if layer == 0 else out * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = [("weight_ih", (rows, width)), ("weight_hh", (rows, out))]
                if bias:
                    shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(_empty(shape, dtype, device)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self, self.hidden_size)

    def flatten_parameters(self):
        """Nothing to do: the weights are used where they are (PyTorch packs them for cuDNN)."""

    @property
    def all_weights(self):
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i : i + per]] for i in range(0, len(names), per)]

    def _layer_params(self, layer, suffix):
        b = (getattr(self, f"bias_ih_l{layer}{suffix}"), getattr(self, f"bias_hh_l{layer}{suffix}")) \
            if self.bias else (None, None)
        hr = (getattr(self, f"weight_hr_l{layer}{suffix}"),) if self.proj_size else ()
        return (getattr(self, f"weight_ih_l{layer}{suffix}"),
                getattr(self, f"weight_hh_l{layer}{suffix}"), *b, *hr)

    def forward(self, input, hx=None):
        """``input``: a tensor, or a ``PackedSequence`` (then the output is one too, and each
        sequence's state stops at its own last step)."""
        packed = input if isinstance(input, PackedSequence) else None
        masks = None
        if packed is not None:
            input, lengths = pad_packed_sequence(packed)  # (time-major, the original order)
            masks = step_masks(lengths, input.shape[0], input.device)
        x = input if isinstance(input, Tensor) else creation.tensor(input)
        if x.ndim not in (2, 3):
            raise ValueError(f"{self._name}: Expected input to be 2D or 3D, got {x.ndim}D "
                             "instead")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        batched = x.ndim == 3
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first and packed is None:
            x = x.transpose(0, 1)
        if x.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        lstm = self._mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        state_shape = (self.num_layers * directions, x.shape[1], self.hidden_size)
        h_shape = state_shape[:2] + (self.proj_size or self.hidden_size,)
        if hx is None:
            h0 = creation.zeros(h_shape, dtype=x.dtype, device=x.device)
            hx = (h0, creation.zeros(state_shape, dtype=x.dtype, device=x.device)) if lstm \
                else h0
        else:
            _check_state_dims(hx, lstm, batched)
            if not batched:
                hx = tuple(h.unsqueeze(1) for h in hx) if lstm else hx.unsqueeze(1)
            for k, (h, want) in enumerate(zip(hx if lstm else (hx,), (h_shape, state_shape))):
                if tuple(h.shape) != want:
                    where = f"hidden[{k}]" if lstm else "hidden"
                    raise RuntimeError(f"Expected {where} size {want}, got {list(h.shape)}")
        cell = _CELLS[self._mode]
        steps = x.unbind(0)
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                k = layer * directions + d
                state = (hx[0][k], hx[1][k]) if lstm else hx[k]
                params = self._layer_params(layer, suffix)
                seq = []
                for t in (range(len(steps)) if d == 0 else reversed(range(len(steps)))):
                    new = cell(steps[t], state, *params)
                    state = new if masks is None else _keep(masks[t], new, state)
                    seq.append(state[0] if lstm else state)
                if d == 1:
                    seq.reverse()
                outs.append(seq)
                finals.append(state)
            steps = [ys[0] if directions == 1 else _cat_last(ys) for ys in zip(*outs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                steps = F.dropout(_stack(steps), self.dropout, True).unbind(0)
        output = _stack(steps)
        if lstm:
            h_n = _stack([s[0] for s in finals])
            c_n = _stack([s[1] for s in finals])
        else:
            h_n = _stack(finals)
        if packed is not None:
            output = packed_like(output, packed)
        elif not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            if lstm:
                c_n = c_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if lstm else (output, h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:  # (no nonlinearity: PyTorch's RNN does not show it)
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


_RNNBase, _CellBase = RNNBase, RNNCellBase  # (the names they had)


def _check_state_dims(hx, lstm, batched):
    """PyTorch's check that given states have the input's batchedness (3-D or 2-D)."""
    want = 3 if batched else 2
    states = hx if lstm else (hx,)
    if all(h.ndim == want for h in states):
        return
    kind = "batched 3-D" if batched else "unbatched 2-D"
    if lstm:
        raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                           f"({states[0].ndim}-D, {states[1].ndim}-D) tensors")
    raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {hx.ndim}-D "
                       "tensor")


def _stack(ts):
    return stack(list(ts), 0)


def _keep(mask, new, old):
    """The state after a step: ``new`` for the sequences that have the step, ``old`` (their
    final state, carried on) for those already ended."""
    if isinstance(new, tuple):
        return tuple(A.where(mask, n, o) for n, o in zip(new, old))
    return A.where(mask, new, old)


def _cat_last(ts):
    return cat(list(ts), -1)


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu)."""

    _name = "RNN"


class LSTM(RNNBase):
    """LSTM layers; ``forward`` returns ``(output, (h_n, c_n))``."""

    _name = "LSTM"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, "tanh", bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """GRU layers; ``forward`` returns ``(output, h_n)``."""

    _name = "GRU"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, proj_size=0):
        super().__init__(input_size, hidden_size, num_layers, "tanh", bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)
