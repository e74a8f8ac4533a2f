"""``torch.nn.utils.weight_norm`` and ``remove_weight_norm``, the older (deprecated) form of
weight normalisation: the parameter ``name`` is replaced by ``name_g`` and ``name_v`` and
recomputed as ``g * v / ||v||`` by a forward pre-hook before each call (state_dict keys
``weight_g``, ``weight_v``, which ``parametrizations.weight_norm`` also loads)."""

import warnings

from ..parameter import Parameter
from .parametrizations import _norm_except_dim

__all__ = ["weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g``, ``<name>_v``."""

    def __init__(self, name, dim):
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module, name, dim):
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(
            _norm_except_dim(weight.detach(), fn.dim)))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Replace ``module.<name>`` by ``g * v / ||v||`` (the norm over every dim but ``dim``;
    all of them for ``dim=None``), ``<name>_g`` and ``<name>_v`` trained in its place."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``module.<name>`` a parameter again, holding its current value."""
    return remove_hook_form(module, WeightNorm, name, "weight_norm")


def remove_hook_form(module, kind, name, label):
    """Remove ``module``'s forward pre-hook of class ``kind`` for parameter ``name`` (the older
    hook forms of weight_norm and spectral_norm), restoring the parameter; PyTorch's error
    where there is none."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"{label} of '{name}' not found in {module}")
