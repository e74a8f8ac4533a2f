"""``Module.compile``: PyTorch's in-place compilation of a module's calls by ``tg.compile``
(the public ``tapegrad.compile``, a layer above ``nn``, loaded on first use)."""


class CompileMethod:
    """``Module.compile`` (every ``Module`` is a ``CompileMethod``)."""

    def compile(self, *args, **kwargs):
        """Compile this module's ``forward`` in place with ``tg.compile(forward, *args,
        **kwargs)`` (PyTorch's ``torch.compile`` arguments); calls run its hooks around the
        compiled forward. Returns None."""
        import tapegrad

        forward = type(self).forward.__get__(self)
        object.__setattr__(self, "forward", tapegrad.compile(forward, *args, **kwargs))
