"""``torch.nn.modules.pixelshuffle``'s names: tapegrad's classes under PyTorch's module path."""

from ..spatial import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]
