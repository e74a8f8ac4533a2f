"""``tapegrad.utils``: activation checkpointing (``tapegrad.utils.checkpoint``)."""

from . import checkpoint

__all__ = ["checkpoint"]
