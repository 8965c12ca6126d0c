"""sknnfit: scikit-learn neural-network regressors that actually fit functions."""

from .estimators import NNRegressor

__version__ = "0.1.0.dev0"

__all__ = ["NNRegressor", "__version__"]
