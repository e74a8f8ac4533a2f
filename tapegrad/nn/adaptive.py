"""``nn.AdaptiveLogSoftmaxWithLoss``: PyTorch's adaptive softmax (Grave et al., "Efficient
softmax approximation for GPUs"): frequent classes in a head, rarer ones in tail clusters, each
cluster reached through one head logit and scored by a smaller projection."""

from collections import namedtuple
from itertools import pairwise

import numpy as np

from .. import creation
from .. import ops as O
from ..ops.elementwise import where
from ..ops.record import as_tensor
from ..ops.join import cat
from . import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module, _size

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Classes below ``cutoffs[0]`` are scored by the head (with one more logit per cluster);
    cluster ``i`` (classes ``cutoffs[i]`` to ``cutoffs[i + 1]``) by a projection to
    ``in_features // div_value ** (i + 1)`` features, added to its head log-probability.
    ``forward(input, target)`` gives each target's log-probability and their mean negated."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1 \
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        kw = {"device": device, "dtype": dtype}
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **kw),
                                        Linear(hsz, osz, bias=False, **kw)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        x, t = as_tensor(input_), as_tensor(target_)
        if t.ndim == 1:
            if x.shape[0] != t.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if x.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found "
                                   f"inputs with size {_size(x.shape)}")
        elif t.ndim == 0:
            if x.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found "
                                   f"inputs with size {_size(x.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = t.ndim > 0
        if not batched:
            x, t = O.unsqueeze(x, 0), O.unsqueeze(t, 0)
        tv = np.asarray(t.detach().cpu().numpy(), np.int64)
        gather = tv.copy()  # (the head's column per row: its class, or its cluster's logit)
        output = creation.zeros((tv.shape[0],), dtype=x.dtype, device=x.device)
        used = 0
        for i, (low, high) in enumerate(pairwise([0] + self.cutoffs)):
            rows = np.flatnonzero((tv >= low) & (tv < high))
            if rows.size == 0:
                continue
            if i > 0:
                at = creation.tensor(rows, device=x.device)
                logp = F.log_softmax(self.tail[i - 1](O.index_select(x, 0, at)), dim=1)
                rel = creation.tensor((tv[rows] - low)[:, None], device=x.device)
                output = output.index_add(0, at, O.squeeze(logp.gather(1, rel), 1))
                gather[rows] = self.shortlist_size + i - 1
            used += rows.size
        if used != tv.shape[0]:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{tv.min()}, {tv.max()}] were found. ")
        head_logprob = F.log_softmax(self.head(x), dim=1)
        at = creation.tensor(gather[:, None], device=x.device)
        output = output + O.squeeze(head_logprob.gather(1, at), 1)
        loss = O.mean(-output)
        return _ASMoutput(output if batched else O.squeeze(output, 0), loss)

    def _get_full_log_prob(self, input, head_output):
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster_logprob +
                         O.unsqueeze(head_logprob[:, self.shortlist_size + i], 1))
        return cat(parts, 1)

    def log_prob(self, input):
        """The log-probability of every class, ``(N, n_classes)``."""
        x = as_tensor(input)
        return self._get_full_log_prob(x, self.head(x))

    def predict(self, input):
        """The most probable class of each row (the head's, unless it names a cluster)."""
        x = as_tensor(input)
        head_output = self.head(x)
        output = O.argmax(head_output, 1)
        outside = output >= self.shortlist_size
        if not bool(outside.any()):
            return output
        full = O.argmax(self._get_full_log_prob(x, head_output), 1)  # (row by row, as PyTorch)
        return where(outside, full, output)
