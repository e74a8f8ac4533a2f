"""Which error an in-place op on an inference tensor raises outside inference mode.

PyTorch checks a leaf that requires grad first when its op records, that is when an operand
is a normal tensor (a bool mask, a 0-d value included) or a number that add_/sub_/mul_/div_
wrap as a tensor: "a leaf Variable that requires grad is being used in an in-place
operation." Otherwise (operands that are inference tensors or numbers of other ops, no
operand, under no_grad, a view) its inference tensor error: "Inplace update to inference
tensor outside InferenceMode is not allowed."""

import numbers

from .. import grad_mode as _gm
from ..tensor import Tensor

# The functions ``ops/inplace.apply`` runs for the ops whose number operand PyTorch wraps as a
# tensor (add_, sub_, mul_, div_), and those of the random fills (uniform_ & co.: drawn values,
# no operand): registered by the modules that define them.
WRAPS_NUMBERS = set()
DRAWS = set()


def error(x, operands=None):
    """The error for an in-place op on the inference tensor ``x`` outside inference mode;
    ``operands``: ``(fn, args, kwargs)`` of the op (``ops/inplace.apply``), None if unknown."""
    from .inplace import INFERENCE_MSG, LEAF_MSG

    if operands is not None and getattr(operands[0], "__name__", None) == "index_put" and \
            len(operands[1]) >= 2 and isinstance(operands[1][0], (tuple, list)):
        from .inference_saves import refuse_saved_key  # (an inference index: saved first)

        refuse_saved_key(x, tuple(operands[1][0]), operands[1][1])
    if operands is not None and x._rg and x._seg is None and x._base is None and \
            _gm._state.grad_enabled:
        fn, args, kwargs = operands
        if fn in DRAWS:
            return RuntimeError(INFERENCE_MSG)
        values = (*args, *kwargs.values())
        if any([isinstance(a, Tensor) and not a._inference for a in values]) or (
                fn in WRAPS_NUMBERS and any([isinstance(a, numbers.Number) and
                                            not isinstance(a, Tensor) for a in args])):
            return RuntimeError(LEAF_MSG)
    return RuntimeError(INFERENCE_MSG)
