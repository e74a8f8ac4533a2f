"""``tg.compile(module)``: the module wrapped as PyTorch's ``OptimizedModule``, and the checks of
``torch.compile``'s other arguments.

The wrapper is a module whose only child is the compiled one (``_orig_mod``: its parameters and
state-dict keys carry that prefix, as PyTorch's), whose other attributes it reads and writes
through to it, and whose ``forward`` is the compiled call of that module (its hooks included).
"""

from ..nn.module import Module

MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def check_arguments(model, mode, options):
    """PyTorch's refusals of ``torch.compile``'s arguments (``backend``, ``dynamic`` and the
    options' values select among PyTorch's compilers: tapegrad has one, so they are taken and
    change nothing)."""
    if model is not None and not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified "
                           "at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")


class OptimizedModule(Module):
    """``module`` compiled: calls run ``compiled(module)``, every other attribute is the
    module's."""

    _own = frozenset(("_orig_mod", "forward", "_started"))

    def __init__(self, mod, compiled):
        object.__setattr__(self, "_started", False)
        super().__init__()
        self._started = True
        self._orig_mod = mod  # (registered as the only child)
        self.forward = compiled

    @property
    def training(self):
        return self._orig_mod.training

    @training.setter
    def training(self, value):
        if self.__dict__.get("_started"):  # (Module.__init__'s default is the module's own)
            self._orig_mod.training = value

    def __len__(self):
        if hasattr(type(self._orig_mod), "__len__"):
            return len(self._orig_mod)
        raise TypeError(f"{type(self._orig_mod).__name__} does not support len()")

    def __getattr__(self, name):
        if name == "_orig_mod":
            return self.__dict__["_modules"]["_orig_mod"]
        return getattr(self._orig_mod, name)

    def __setattr__(self, name, value):
        if hasattr(type(self), name) or name in OptimizedModule._own:
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        if hasattr(type(self), name) or name in OptimizedModule._own:
            return super().__delattr__(name)
        return delattr(self._orig_mod, name)

    def __dir__(self):
        own = self._orig_mod.__dir__()
        return own + [a for a in super().__dir__() if a not in own]
