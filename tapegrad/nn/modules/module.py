"""``torch.nn.modules.module``'s names: tapegrad's classes under PyTorch's module path."""

from ..module import Module

__all__ = ["Module"]
