"""Version shims and the private library APIs sknnfit leans on, in one place.

Each entry says why it is here and when it can go. Everything else in sknnfit
imports these names from here, so a library change touches one file.
"""

from __future__ import annotations

import sys

import numpy as np
import sklearn

# scikit-learn's parameter-constraint classes (Interval, StrOptions, HasMethods)
# and the fit context that checks them are private API, but they are how every
# scikit-learn estimator declares its parameters; scikit-learn-contrib projects
# use them the same way. Can go when scikit-learn makes them public.
from sklearn.base import _fit_context
from sklearn.linear_model import Ridge
from sklearn.linear_model import RidgeCV as _RidgeCV
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight

__all__ = [
    "HasMethods",
    "Interval",
    "RidgeCV",
    "StrOptions",
    "TorchDevice",
    "_check_sample_weight",
    "_fit_context",
    "_safe_indexing",
    "fused_adam_supported",
]


class _LazyTorchDevice(type):
    def __instancecheck__(cls, val):
        torch = sys.modules.get("torch")
        return torch is not None and isinstance(val, torch.device)


class TorchDevice(metaclass=_LazyTorchDevice):
    """Stands for ``torch.device`` in parameter constraints, without importing torch.

    ``import sknnfit`` declares NNRegressor's constraints before torch is loaded;
    a value can only be a ``torch.device`` if torch is loaded already. Named
    ``torch.device`` so that scikit-learn's message says so. Can go if
    scikit-learn's constraints accept a lazily named type.
    """


TorchDevice.__module__, TorchDevice.__qualname__ = "torch", "device"


def _torch_version():
    import torch

    return tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])


def fused_adam_supported(cls, device):
    """Whether ``cls(fused=True)`` (Adam or AdamW) runs on ``device``.

    Fused CPU kernels arrived in torch 2.4; CUDA had them before. Can go when
    the torch floor in pyproject is 2.4.
    """
    import inspect

    if "fused" not in inspect.signature(cls).parameters:
        return False
    if str(device).startswith("cuda"):
        return True
    return _torch_version() >= (2, 4)


def _sklearn_version():
    return tuple(int(p) for p in sklearn.__version__.split(".")[:2])


class RidgeCV(_RidgeCV):
    """scikit-learn's ``RidgeCV``, with exact coefficients on scikit-learn < 1.9.

    Before 1.9, the leave-one-out path for dense inputs with more rows than
    columns (``gcv_mode="svd"``) divides by alpha, and with alphas near 1e-8 its
    coefficients are off by 1e-5 relative or worse (scikit-learn issue 32459,
    fixed in 1.9): the polynomial baseline then extrapolates x**2 to 6.7 at 3
    instead of 9. Here the coefficients are refitted by ``Ridge`` at the chosen
    ``alpha_``. Can go when the scikit-learn floor in pyproject is 1.9 (which
    needs Python 3.11).
    """

    def fit(self, X, y, sample_weight=None, **params):
        super().fit(X, y, sample_weight=sample_weight, **params)
        if (
            _sklearn_version() < (1, 9)
            and self.cv is None
            and np.ndim(self.alpha_) == 0
        ):
            exact = Ridge(alpha=self.alpha_, fit_intercept=self.fit_intercept)
            exact.fit(X, y, sample_weight=sample_weight)
            self.coef_, self.intercept_ = exact.coef_, exact.intercept_
        return self
