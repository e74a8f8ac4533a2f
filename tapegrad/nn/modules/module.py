"""``torch.nn.modules.module``'s names: tapegrad's classes under PyTorch's module path."""

from ..global_hooks import (register_module_forward_hook, register_module_forward_pre_hook,
                            register_module_full_backward_hook,
                            register_module_full_backward_pre_hook)
from ..module import Module

__all__ = ["Module", "register_module_forward_hook", "register_module_forward_pre_hook",
           "register_module_full_backward_hook", "register_module_full_backward_pre_hook"]
