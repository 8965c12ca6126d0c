"""sknnfit: scikit-learn neural-network regressors that actually fit functions."""

from .bench import compare, summarize
from .estimators import NNRegressor
from .persistence import load, save
from .targets import TargetTransformRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "NNRegressor",
    "TargetTransformRegressor",
    "__version__",
    "compare",
    "load",
    "save",
    "summarize",
]
