"""``torch.nn.modules.adaptive``'s names: tapegrad's classes under PyTorch's module path."""

from ..adaptive import AdaptiveLogSoftmaxWithLoss

__all__ = ["AdaptiveLogSoftmaxWithLoss"]
