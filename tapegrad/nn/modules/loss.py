"""``torch.nn.modules.loss``'s names: tapegrad's classes under PyTorch's module path."""
# ruff: noqa: F401 (PyTorch's private bases: imported by name, not in __all__)

from ..loss import (L1Loss, NLLLoss, NLLLoss2d, PoissonNLLLoss, GaussianNLLLoss, KLDivLoss,
                    MSELoss, BCELoss, BCEWithLogitsLoss, HingeEmbeddingLoss, MultiLabelMarginLoss,
                    SmoothL1Loss, HuberLoss, SoftMarginLoss, CrossEntropyLoss,
                    MultiLabelSoftMarginLoss, CosineEmbeddingLoss, MarginRankingLoss,
                    MultiMarginLoss, TripletMarginLoss, TripletMarginWithDistanceLoss, CTCLoss,
                    _Loss, _WeightedLoss)

__all__ = [
    "L1Loss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "MSELoss",
    "BCELoss", "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss", "SmoothL1Loss",
    "HuberLoss", "SoftMarginLoss", "CrossEntropyLoss", "MultiLabelSoftMarginLoss",
    "CosineEmbeddingLoss", "MarginRankingLoss", "MultiMarginLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss", "CTCLoss",
]
