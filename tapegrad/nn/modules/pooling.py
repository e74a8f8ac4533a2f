"""``torch.nn.modules.pooling``'s names: tapegrad's classes under PyTorch's module path."""
# ruff: noqa: F401 (PyTorch's private bases: imported by name, not in __all__)

from ..conv_layers import (MaxPool1d, MaxPool2d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d,
                           AvgPool1d, AvgPool2d, AvgPool3d, LPPool1d, LPPool2d, LPPool3d,
                           AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
                           AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d,
                           _MaxPool as _MaxPoolNd, _AvgPoolNd, _AdaptiveAvgPoolNd,
                           _AdaptiveMaxPoolNd, _LPPool as _LPPoolNd, _MaxUnpool as _MaxUnpoolNd)

__all__ = [
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
    "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
]
