"""``tapegrad.utils``: activation checkpointing (``tapegrad.utils.checkpoint``), datasets and
mini-batches (``tapegrad.utils.data``)."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
