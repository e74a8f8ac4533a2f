"""``torch.nn.modules.normalization``'s names: tapegrad's classes under PyTorch's module path."""

from ..conv_layers import LocalResponseNorm
from ..linear import LayerNorm
from ..normalization import GroupNorm, RMSNorm

__all__ = ["LocalResponseNorm", "LayerNorm", "GroupNorm", "RMSNorm"]
