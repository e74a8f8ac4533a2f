"""``copy.deepcopy`` of a tensor, as PyTorch's ``Tensor.__deepcopy__``: leaves only; the copy
keeps ``requires_grad``, a deep copy of ``.grad`` and of the Python attributes, and tensors
that shared memory (a tensor and its views, within one deepcopy call) share the copied memory
in the same layout."""

import copy

import numpy as np

_NONLEAF = ("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
            "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
            "because of a torch.nn.utils.weight_norm usage, see "
            "https://github.com/pytorch/pytorch/pull/103001")


def _copied_array(a, memo):
    """A copy of the NumPy array ``a``; arrays viewing one buffer get views of one copy."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    key = ("tapegrad.storage", id(root))
    new_root = memo.get(key)
    if new_root is None:
        new_root = np.copy(root, order="K")  # (an owning array is dense: the layout is kept)
        memo[key] = new_root
        memo.setdefault(id(memo), []).append(root)  # (keeps id(root) from being reused)
    if root is a:
        return new_root
    if new_root.strides != root.strides or any(s < 0 for s in root.strides):
        return a.copy()  # (a root over a foreign buffer, not dense: no shared layout to keep)
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(a.shape, a.dtype, buffer=new_root, offset=offset, strides=a.strides)


def deepcopy_tensor(t, memo, make):
    """The deep copy of ``t``; ``make(array, requires_grad)`` builds a plain tensor."""
    if not t.is_leaf:
        raise RuntimeError(_NONLEAF)
    if id(t) in memo:
        return memo[id(t)]
    d = t._data
    data = _copied_array(d, memo) if isinstance(d, np.ndarray) else copy.deepcopy(d, memo)
    new = make(data, t._rg)
    memo[id(t)] = new
    if t._grad is not None:
        new.grad = copy.deepcopy(t._grad, memo)
    own = {k: v for k, v in t.__dict__.items() if k != "_data" and not hasattr(type(t), k)}
    if own:  # (attributes the user set; the rest of __dict__ is autograd state)
        new.__dict__.update(copy.deepcopy(own, memo))
    return new
