"""Index tensors made in inference mode, used outside it: PyTorch's indexing backwards
(IndexBackward0, IndexSelectBackward0, GatherBackward0, TakeBackward0) save the index, so a
recorded ``x[:, i]``, ``index_select(x, 0, i)`` or ``x.gather(0, i)`` of an ``x`` requiring
grad refuses an inference index ``i`` ("Inference tensors cannot be saved for backward"),
while an op whose inputs are all inference tensors records nothing."""

from .. import grad_mode as _gm
from ..tensor import Tensor

_state = _gm._state


def _records(x):
    return x._rg and _state.grad_enabled and not _state.inference


def indexed_input(x, key):
    """``x`` for ``x[key]`` (an advanced ``key``): ``x.detach()`` where PyTorch records nothing
    (``x`` and every index tensor are inference tensors), PyTorch's error where it would save
    an inference index tensor (a 0-d integer one is a number to it: not saved)."""
    if not _records(x):
        return x
    from .record import INFERENCE_SAVE_MSG, index_operand

    items = key if type(key) is tuple else (key,)
    if not any([isinstance(k, Tensor) and k._inference and k.ndim for k in items]):
        return x
    if x._inference and index_operand(key) is None and not _full_first(items):
        return x.detach()
    raise RuntimeError(INFERENCE_SAVE_MSG)


def _full_first(items):
    """Whether the key starts with full slices or ``...`` before its first tensor: PyTorch
    then indexes the tensor itself (``x[:, i]``, ``x[..., i]``), and refuses an inference index
    even where ``x`` is an inference tensor too (``x[i]``, ``x[1:, i]`` record nothing)."""
    for k in items:
        if isinstance(k, Tensor):
            return k is not items[0]
        if not (k is Ellipsis or type(k) is slice and k == slice(None)):
            return False
    return False


def refuse_inference_index(x, index):
    """PyTorch's error for ``index_select``/``gather``/``take`` of a normal ``x`` requiring
    grad with an inference ``index`` (its backward saves the index)."""
    if isinstance(index, Tensor) and index._inference and not x._inference and _records(x):
        from .record import INFERENCE_SAVE_MSG

        raise RuntimeError(INFERENCE_SAVE_MSG)
