"""``add`` and ``sub`` with PyTorch's ``alpha``: ``input + alpha * other`` (``torch.add``,
``Tensor.add``; ``sub`` and ``subtract`` likewise), and ``other`` by keyword. The operators and
the op library's ``add``/``sub`` (what compositions call) stay the two-operand ops; these are
the public forms, compositions of those (so vmap and tg.compile follow them op by op).
"""

import numbers

from .. import grad_mode as _gm
from .. import tensor as _tensor_mod
from ..ops import elementwise as E
from ..tensor import Tensor

__all__ = ["add", "sub"]


def inference_only(*xs):
    """Whether a composite of the operands ``xs`` is one op in PyTorch whose tensor inputs are
    all inference tensors, used outside inference mode: it records nothing there, where the
    composition's steps with a number (``2 * a``) would (ops/record.untracked)."""
    if not _tensor_mod._inference_used or _gm._state.inference or \
            _gm._state.grad_enabled is not True:
        return False
    ts = [x for x in xs if isinstance(x, Tensor)]
    return bool(ts) and all([t._inference for t in ts])


def recorded_operands(*xs, saves=()):
    """The operands of a composite that is one op in PyTorch, where that op records (called
    where ``inference_only`` was False): PyTorch's error if it saves an inference tensor, and
    each inference tensor requiring grad passed through ``* 1`` (a recorded op of a number), so
    that the composition's steps of inference tensors only record as the one op does.
    ``saves`` are ``(index, readers)`` pairs: operand ``index`` is saved when one of the
    operands ``readers`` requires grad (None: always, as PyTorch saves an operand that two
    gradient formulas read)."""
    if not _tensor_mod._inference_used or _gm._state.inference or \
            not _gm._state.grad_enabled or not any([isinstance(x, Tensor) and x.requires_grad
                                                    for x in xs]):
        return xs
    for k, readers in saves:
        t = xs[k]
        if isinstance(t, Tensor) and t._inference and (readers is None or any(
                [isinstance(xs[r], Tensor) and xs[r].requires_grad for r in readers])):
            from ..ops.record import INFERENCE_SAVE_MSG

            raise RuntimeError(INFERENCE_SAVE_MSG)
    return tuple([x * 1 if isinstance(x, Tensor) and x._inference and x.requires_grad else x
                  for x in xs])


def _kind(t):
    """The dtype kind of an operand: a tensor's, or a Python number's as PyTorch types it."""
    dtype = getattr(t, "dtype", None)
    if dtype is not None:
        return dtype.kind
    if isinstance(t, bool):
        return "b"
    return "i" if isinstance(t, numbers.Integral) else "c" if isinstance(t, complex) else "f"


def _scaled(input, other, alpha):
    """``alpha * other``, with PyTorch's checks of ``alpha`` against the result's dtype."""
    kinds = _kind(input) + _kind(other)
    if alpha.__class__ is not int:  # (an int alpha passes every check but a Boolean result's)
        _check_alpha(alpha, kinds)
    if kinds == "bb":  # (a Boolean result: alpha is cast to bool)
        return other if alpha else E.mul(other, False)
    return other if alpha == 1 else E.mul(other, alpha)


def _check_alpha(alpha, kinds):
    if "c" not in kinds and isinstance(alpha, numbers.Complex) and \
            not isinstance(alpha, numbers.Real):
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex "
                           "number.")
    if isinstance(alpha, bool) and kinds != "bb":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if set(kinds) <= set("iub") and not isinstance(alpha, numbers.Integral):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")


def add(input, other, *, alpha=1):
    """``input + alpha * other``."""
    if alpha.__class__ is int and alpha == 1:  # (the common call: no checks to make)
        return E.add(input, other)
    if isinstance(other, Tensor) and inference_only(input, other):  # (a number: wrapped)
        with _gm.no_grad():
            return E.add(input, _scaled(input, other, alpha))
    return E.add(input, _scaled(input, other, alpha))


def sub(input, other, *, alpha=1):
    """``input - alpha * other``."""
    if alpha.__class__ is int and alpha == 1:
        return E.sub(input, other)
    if isinstance(other, Tensor) and inference_only(input, other):  # (a number: wrapped)
        with _gm.no_grad():
            return E.sub(input, _scaled(input, other, alpha))
    return E.sub(input, _scaled(input, other, alpha))
