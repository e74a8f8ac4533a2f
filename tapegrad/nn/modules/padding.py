"""``torch.nn.modules.padding``'s names: tapegrad's classes under PyTorch's module path."""

from ..spatial import PADDING_LAYERS

globals().update(PADDING_LAYERS)  # (ZeroPad2d, ReflectionPad1d, ...: made by one factory)
__all__ = sorted(PADDING_LAYERS)
