"""sknnfit: scikit-learn neural-network regressors that actually fit functions.

``import sknnfit`` loads the estimators only, without PyTorch: torch and skorch
are imported by the first ``fit`` or ``predict``, ``save`` and ``load`` by their
first use, and the benchmark harness (:mod:`sknnfit.bench`: ``compare``,
``summarize``, baselines, metrics, plots) the first time one of its names is
used, and ``export_onnx`` (:mod:`sknnfit.export`, with the onnx extra) by its
first use.
"""

from ._version import __version__
from .estimators import NNRegressor
from .targets import TargetTransformRegressor

__all__ = [
    "NNRegressor",
    "TargetTransformRegressor",
    "__version__",
    "compare",
    "export_onnx",
    "load",
    "save",
    "summarize",
]

_LAZY = {
    "compare": "sknnfit.bench",
    "summarize": "sknnfit.bench",
    "export_onnx": "sknnfit.export",
    "load": "sknnfit.persistence",
    "save": "sknnfit.persistence",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sknnfit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
