"""Dotted-path access to a module tree: ``get_submodule``/``set_submodule``/``get_parameter``/
``get_buffer``, with PyTorch's errors. ``Module`` inherits these from ``SubmodulePaths``."""

from .parameter import Parameter


class SubmodulePaths:
    """The path methods of ``Module`` (every ``Module`` is a ``SubmodulePaths``)."""

    def get_submodule(self, target):
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            mod = _member(mod, item, SubmodulePaths, "nn.Module")
        return mod

    def set_submodule(self, target, module, strict=False):
        """Replace the submodule at ``target`` (or, unless ``strict``, add one under an existing
        parent)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, SubmodulePaths):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict or hasattr(parent, name):
            _member(parent, name, SubmodulePaths, "nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target):
        mod_path, _, name = target.rpartition(".")
        return _member(self.get_submodule(mod_path), name, Parameter, "nn.Parameter")

    def get_buffer(self, target):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        _member(mod, name)
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return mod._buffers[name]


_MISSING = object()


def _member(mod, name, kind=object, kind_name=""):
    """``mod``'s attribute ``name``, which must be a ``kind``, with PyTorch's errors."""
    value = getattr(mod, name, _MISSING)
    if value is _MISSING:
        raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
    if not isinstance(value, kind):
        raise AttributeError(f"`{name}` is not an {kind_name}")
    return value
