"""``torch.nn.modules.channelshuffle``'s names: tapegrad's classes under PyTorch's module path."""

from ..spatial import ChannelShuffle

__all__ = ["ChannelShuffle"]
