"""``torch.nn.modules.sparse``'s names: tapegrad's classes under PyTorch's module path."""

from ..embedding_bag import EmbeddingBag
from ..linear import Embedding

__all__ = ["Embedding", "EmbeddingBag"]
