"""``torch.nn.modules.lazy``'s names: tapegrad's classes under PyTorch's module path."""

from ..lazy import LazyModuleMixin

__all__ = ["LazyModuleMixin"]
