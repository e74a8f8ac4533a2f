"""``torch.nn.modules.fold``'s names: tapegrad's classes under PyTorch's module path."""

from ..spatial import Fold, Unfold

__all__ = ["Fold", "Unfold"]
