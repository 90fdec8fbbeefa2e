"""CPU models, laid out as ``implicit.cpu``."""

from . import als

__all__ = ["als"]
