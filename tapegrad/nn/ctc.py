"""``F.ctc_loss``: the connectionist temporal classification loss, as PyTorch's.

The forward variable alpha (log space) over each sample's extended label sequence
``blank, l1, blank, l2, ..., blank`` is computed step by step with recorded ops (a gather of
the emissions, shifts, ``logsumexp`` of the two or three predecessors), so the gradient comes
from those ops. Unreachable states hold a large finite negative number instead of -inf (their
logsumexp stays differentiable); a sample whose alignments are all impossible gets an infinite
loss (zero with ``zero_infinity``), whose gradient is nan within its input length, as
PyTorch's (zero with ``zero_infinity``). The gradient with respect to ``log_probs`` is PyTorch's:
for the steps within each input length it adds ``exp(log_probs)`` to the derivative (PyTorch's
kernel returns ``exp(log_probs) - posterior``, which is the same once chained through a
``log_softmax``), and it is zero past the input lengths.
"""

import numpy as np

from .. import creation
from .. import ops as O
from ..device import host_array
from ..ops.record import as_tensor
from ..tensor import Tensor

__all__ = ["ctc_loss"]

_UNREACHABLE = -1e30  # (log-probability of a state no alignment reaches: exp() of it is 0)


def _ints(v, name):
    a = host_array(v._arr() if isinstance(v, Tensor) else v)
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"{name} must be integral")
    return a.astype(np.int64).reshape(-1)


def _labels(targets, target_lengths, batch):
    """Each sample's target labels, from padded (N, S) or concatenated 1-d targets."""
    t = _ints(targets, "targets")
    if isinstance(targets, Tensor) and targets.ndim == 2:
        t = t.reshape(targets.shape)
        if target_lengths.size and target_lengths.max() > t.shape[1]:
            raise RuntimeError(f"Expected tensor to have size at least "
                               f"{int(target_lengths.max())} at dimension 1, but got size "
                               f"{t.shape[1]} for argument #2 'targets' (while checking "
                               "arguments for ctc_loss_allocate_outputs)")
        return [t[n, :k] for n, k in enumerate(target_lengths)]
    ends = np.cumsum(target_lengths)
    if ends.size and ends[-1] != t.size:
        raise RuntimeError(f"Expected tensor to have size {int(ends[-1])} at dimension 0, but "
                           f"got size {t.size} for argument #2 'targets' (while checking "
                           "arguments for ctc_loss_allocate_outputs)")
    return [t[e - k:e] for e, k in zip(ends, target_lengths)]


def _extended(labels, blank):
    """Per sample, ``blank, l1, blank, l2, ..., blank`` padded with blanks to one width, and
    where the skip from ``s - 2`` is allowed (a label unlike the one two states back)."""
    width = 2 * max([len(lab) for lab in labels] + [0]) + 1
    ext = np.full((len(labels), width), blank, np.int64)
    for n, lab in enumerate(labels):
        ext[n, 1:2 * len(lab):2] = lab
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def _shift(alpha, k, fill):
    """``alpha`` moved ``k`` states right along the last dim, ``fill`` coming in."""
    return O.cat([fill[:, :k], alpha[:, :-k]], 1)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss of ``log_probs`` (T, N, C) (or unbatched (T, C)) for ``targets`` (N, S)
    padded or concatenated 1-d; ``reduction='mean'`` divides each loss by its target length
    before averaging over the batch."""
    lp = as_tensor(log_probs)
    batched = lp.ndim == 3
    if not batched:
        lp = O.unsqueeze(lp, 1)
        targets = O.unsqueeze(as_tensor(targets), 0)
    steps, batch, classes = lp.shape
    in_lens = _ints(input_lengths, "input_lengths")
    tgt_lens = _ints(target_lengths, "target_lengths")
    if in_lens.size != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tgt_lens.size != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    for k in in_lens:
        if k > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got "
                               f"value {int(k)} (while checking arguments for ctc_loss_allocate_outputs)")
    ext, skip = _extended(_labels(targets, tgt_lens, batch), blank)

    def on(mask):  # the masks made on the host go to the log-probabilities' device
        return creation.tensor(mask, device=lp.device)

    width = ext.shape[1]
    emit = O.gather(lp, 2, creation.tensor(np.broadcast_to(ext, (steps, batch, width)).copy()))
    fill = creation.full((batch, 2), _UNREACHABLE, dtype=lp.dtype, device=lp.device)
    unreachable = creation.full((batch, width), _UNREACHABLE, dtype=lp.dtype, device=lp.device)
    start = np.zeros((batch, width), bool)
    start[:, 0] = True
    start[:, 1] = tgt_lens > 0
    alpha = O.where(on(start), emit[0], unreachable)
    skip_mask = on(skip)
    for t in range(1, int(in_lens.max(initial=0))):
        prev = O.stack([alpha, _shift(alpha, 1, fill),
                        O.where(skip_mask, _shift(alpha, 2, fill), unreachable)], 0)
        new = O.logsumexp(prev, 0) + emit[t]
        alpha = O.where(on((t < in_lens)[:, None]), new, alpha)
    last = 2 * tgt_lens  # (the final blank; the last label before it, if any)
    ends = O.gather(alpha, 1, creation.tensor(np.stack([last, np.maximum(last - 1, 0)], 1)))
    ends = O.where(on(np.stack([np.ones(batch, bool), last > 0], 1)), ends, fill)
    nll = -O.logsumexp(ends, 1)
    valid = on((np.arange(steps)[:, None] < in_lens[None, :])[..., None])
    e = O.exp(lp)  # (PyTorch's gradient: exp(log_probs) added within the input lengths)
    nll = nll + O.sum(O.where(valid, e - e.detach(), 0.0), (0, 2))
    impossible = nll.detach() > -_UNREACHABLE / 2
    if bool(impossible.any()):
        nll = O.where(impossible, 0.0 if zero_infinity else float("inf"), nll)
        if not zero_infinity:  # PyTorch's gradient of an infinite loss: nan within its length
            d = O.where(valid & impossible[None, :, None], lp - lp.detach(), 0.0)
            nll = nll + O.sum(O.sqrt(d * d), (0, 2))  # (0 whose derivative is 0 / 0)
    if reduction == "none":
        return nll if batched else O.squeeze(nll, 0)
    if reduction == "sum":
        return O.sum(nll)
    if reduction == "mean":
        return O.mean(nll / on(np.maximum(tgt_lens, 1).astype(lp.dtype)))
    raise ValueError(f"{reduction} is not a valid value for reduction")
