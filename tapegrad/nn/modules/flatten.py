"""``torch.nn.modules.flatten``'s names: tapegrad's classes under PyTorch's module path."""

from ..shaping import Flatten, Unflatten

__all__ = ["Flatten", "Unflatten"]
