"""Version shims and the private library APIs sknnfit leans on, in one place.

Each entry says why it is here and when it can go. Everything else in sknnfit
imports these names from here, so a library change touches one file.
"""

from __future__ import annotations

import sys

# scikit-learn's parameter-constraint classes (Interval, StrOptions, HasMethods)
# and the fit context that checks them are private API, but they are how every
# scikit-learn estimator declares its parameters; scikit-learn-contrib projects
# use them the same way. Can go when scikit-learn makes them public.
from sklearn.base import _fit_context
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "TorchDevice",
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
