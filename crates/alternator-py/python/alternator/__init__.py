"""Alternator: fast alternating least squares (ALS) recommenders.

Two APIs over one native engine (Rust, multithreaded, the GIL released while it works):

* ``implicit``'s: ``alternator.als.AlternatingLeastSquares`` (and
  ``alternator.cpu.als``, ``alternator.evaluation``, ``alternator.utils``,
  ``alternator.gpu``) with ``implicit`` 0.7.3's parameters, defaults, methods and npz files:
  replace ``implicit`` by ``alternator`` in the imports.
* Spark MLlib's, on pandas: :class:`alternator.ALS` → :class:`alternator.ALSModel`, and
  ``alternator.evaluation.RegressionEvaluator``.
"""

from . import als, cpu, evaluation, gpu, utils
from ._alternator import __version__
from .spark import ALS, ALSModel

__all__ = ["ALS", "ALSModel", "als", "cpu", "evaluation", "gpu", "utils", "__version__"]
