"""``Tensor.T`` and ``Tensor.mT`` with PyTorch's checks: ``T`` of a tensor that is not a matrix
warns once per process that it is deprecated (the identity on 0-d tensors, the reversed dims
otherwise), ``mT`` needs a matrix or a batch of them (the identity, with a warning, on 0-d)."""

import warnings

from ..ops import movement, transpose

_T_REVERSE = ("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
              "deprecated and it will throw an error in a future release. Consider `x.mT` to "
              "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
              "to reverse the dimensions of a tensor.")
_warned = set()  # the warnings given (PyTorch gives each once per process)


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, UserWarning, stacklevel=3)


def _T(self):
    if self.ndim == 0:
        _warn_once("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                   "these cases.")
    elif self.ndim != 2:
        _warn_once(_T_REVERSE)
    return movement.T(self)


def _mT(self):
    if self.ndim == 0:
        _warn_once("Tensor.mT is deprecated on 0-D tensors. This function is the identity in "
                   "these cases.")
        return movement.T(self)
    if self.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


def bind(T):
    T.T = property(_T)
    T.mT = property(_mT)
