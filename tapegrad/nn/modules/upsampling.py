"""``torch.nn.modules.upsampling``'s names: tapegrad's classes under PyTorch's module path."""

from ..interpolate import Upsample, UpsamplingNearest2d, UpsamplingBilinear2d

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
