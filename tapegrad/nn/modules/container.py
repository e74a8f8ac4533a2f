"""``torch.nn.modules.container``'s names: tapegrad's classes under PyTorch's module path."""

from ..container import Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]
