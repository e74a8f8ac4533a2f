"""``tapegrad.nn``: loss functions for the examples users run first (not a framework)."""

from . import functional

__all__ = ["functional"]
