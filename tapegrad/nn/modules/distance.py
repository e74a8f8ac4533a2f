"""``torch.nn.modules.distance``'s names: tapegrad's classes under PyTorch's module path."""

from ..shaping import PairwiseDistance, CosineSimilarity

__all__ = ["PairwiseDistance", "CosineSimilarity"]
