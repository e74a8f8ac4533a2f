"""``torch.nn.modules.dropout``'s names: tapegrad's classes under PyTorch's module path."""
# ruff: noqa: F401 (PyTorch's private bases: imported by name, not in __all__)

from ..linear import Dropout
from ..spatial import (Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout,
                       _DropoutNd)

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]
