"""GPU support: none. ``HAS_CUDA`` is always ``False`` (``implicit.gpu.HAS_CUDA``); Alternator
trains on the CPU's cores."""

HAS_CUDA = False
HAS_RMM = False

__all__ = ["HAS_CUDA", "HAS_RMM"]
