"""``torch.nn.modules.batchnorm``'s names: tapegrad's classes under PyTorch's module path."""
# ruff: noqa: F401 (PyTorch's private bases: imported by name, not in __all__)

from ..lazy import LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, _LazyNormBase
from ..normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _NormBase, _BatchNorm

__all__ = [
    "BatchNorm1d", "LazyBatchNorm1d", "BatchNorm2d", "LazyBatchNorm2d", "BatchNorm3d",
    "LazyBatchNorm3d",
]
