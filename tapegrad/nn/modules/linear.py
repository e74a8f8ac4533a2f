"""``torch.nn.modules.linear``'s names: tapegrad's classes under PyTorch's module path."""

from ..lazy import LazyLinear
from ..linear import Bilinear, Identity, Linear

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear"]
