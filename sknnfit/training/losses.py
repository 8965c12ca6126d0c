"""Training losses: MSE, L1, Huber and pinball; the weights of "relative" and "peak"."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import torch
from torch import nn

#: The element-wise losses of :class:`WeightedLoss`.
KINDS = ("mse", "l1", "huber", "quantile")


def check_quantile(quantile):
    """``quantile`` as a float strictly between 0 and 1; else a ValueError."""
    if (
        not isinstance(quantile, numbers.Real)
        or isinstance(quantile, bool)
        or not 0.0 < quantile < 1.0
    ):
        raise ValueError(
            f"quantile must be a number strictly between 0 and 1; got {quantile!r}. "
            "Use 0.5 for the median, 0.9 for the 90th percentile."
        )
    return float(quantile)


class WeightedLoss(nn.Module):
    """MSE, L1, Huber or pinball loss with optional per-entry weights.

    ``forward(y_pred, y_true, weight=None)`` returns ``mean(weight *
    elementwise_loss)``; :class:`~sknnfit.training.net.FastNet` passes the
    batch's weights. The ``"relative"`` and ``"peak"`` losses of NNRegressor
    are built this way (see :func:`loss_weights`).

    Parameters
    ----------
    kind : {"mse", "l1", "huber", "quantile"}, default="mse"
        Element-wise loss. ``"quantile"`` is the pinball loss
        ``max(q * r, (q - 1) * r)`` of the residual ``r = y_true - y_pred``,
        minimised by the ``q``-quantile of ``y_true``, as in
        :class:`~sklearn.linear_model.QuantileRegressor` and
        ``HistGradientBoostingRegressor(loss="quantile")``.
    quantile : float, default=0.5
        The level ``q`` in (0, 1) of ``kind="quantile"``; ignored by the other
        kinds. At 0.5 the pinball loss is half the L1 loss.

    Examples
    --------
    >>> import torch
    >>> from sknnfit.training.losses import WeightedLoss
    >>> loss = WeightedLoss("quantile", quantile=0.9)
    >>> y_true = torch.tensor([1.0, 1.0])
    >>> float(loss(torch.tensor([0.0, 2.0]), y_true))  # (0.9 * 1 + 0.1 * 1) / 2
    0.5
    """

    def __init__(self, kind="mse", quantile=0.5):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
        self.kind = kind
        self.quantile = check_quantile(quantile)

    def forward(self, y_pred, y_true, weight=None):
        if self.kind == "mse":
            loss = (y_pred - y_true) ** 2
        elif self.kind == "l1":
            loss = (y_pred - y_true).abs()
        elif self.kind == "quantile":
            r = y_true - y_pred
            loss = torch.maximum(self.quantile * r, (self.quantile - 1.0) * r)
        else:
            loss = nn.functional.huber_loss(y_pred, y_true, reduction="none")
        if weight is not None:
            loss = loss * weight
        return loss.mean()


def make_criterion(name, *, quantile=0.5):
    """Return ``(criterion_class, kwargs)`` for the ``loss`` parameter.

    Parameters
    ----------
    name : str
        The ``loss`` parameter, resolved (not ``"auto"``).
    quantile : float, default=0.5
        Level in (0, 1) of ``loss="quantile"``; ignored by the other losses.

    Returns
    -------
    criterion : type
        :class:`WeightedLoss`.
    kwargs : dict
        Its keyword arguments, for skorch's ``criterion__`` prefix.

    Examples
    --------
    >>> from sknnfit.training.losses import make_criterion
    >>> make_criterion("quantile", quantile=0.9)[1]
    {'kind': 'quantile', 'quantile': 0.9}
    >>> make_criterion("relative")[1]
    {'kind': 'l1'}
    """
    if name == "quantile":
        return WeightedLoss, {"kind": "quantile", "quantile": check_quantile(quantile)}
    kind = {"mse": "mse", "mae": "l1", "huber": "huber", "relative": "l1"}
    return WeightedLoss, {"kind": kind.get(name, "mse")}


#: loss="relative" warns when more than this share of an output's targets is 0.
ZERO_TARGET_SHARE = 0.01


def _check_relative(absy):
    """Refuse or warn where a relative error is undefined: targets of 0.

    The weights are ``1 / (|y| + eps)`` with ``eps`` a thousandth of the median
    ``|y|``: a zero target weighs 1000 times a median one, and when at least
    half of them are 0 the median is 0 and those rows take the whole loss.
    """
    zero = (absy == 0).mean(axis=0)
    if np.median(absy, axis=0).min() == 0:
        raise ValueError(
            f"loss='relative' divides by |y|, but {zero.max():.0%} of the targets "
            "of an output are 0, where a relative error is undefined. Use "
            "loss='mse', 'mae' or 'huber', or shift y away from 0."
        )
    if zero.max() > ZERO_TARGET_SHARE:
        warnings.warn(
            f"loss='relative' divides by |y|, and {zero.max():.1%} of the targets "
            "of an output are 0: those rows weigh 1000 times a median row and "
            "dominate the fit. Use loss='mse', 'mae' or 'huber' unless the zeros "
            "must be matched exactly.",
            UserWarning,
            stacklevel=4,
        )


def loss_weights(name, y_orig, unit_scale, *, peak_weight=10.0):
    """Per-entry weights for the ``"relative"`` and ``"peak"`` losses, or None.

    Parameters
    ----------
    name : str
        The ``loss`` parameter.
    y_orig : ndarray of shape (n_samples, n_outputs)
        Targets in the user's units.
    unit_scale : ndarray of shape (n_outputs,)
        User units per unit of the network's target (so that a network error
        ``e`` is ``e * unit_scale`` in the user's units).
    peak_weight : float, default=10.0
        For ``"peak"``: weight of a row at the extreme of its output relative to
        a row at the median.

    Returns
    -------
    weights : ndarray of shape (n_samples, n_outputs) or None
        Normalised to mean 1 per output.

    Notes
    -----
    ``"relative"``: ``w = unit_scale / (|y| + eps)`` with ``eps`` = 1e-3 x the
    median ``|y|`` of the output, so the weighted L1 loss is the mean relative
    error ``|y_pred - y| / |y|`` (seed 001's loss) without dividing by zero.
    ``"peak"``: ``w = 1 + (peak_weight - 1) * r**2`` where ``r`` in [0, 1] is the
    distance of ``y`` from its median over the largest such distance, so the
    rare extreme rows of a steep target are not averaged away (seed 000).
    """
    if name == "relative":
        absy = np.abs(y_orig)
        _check_relative(absy)
        eps = 1e-3 * np.median(absy, axis=0) + 1e-12
        w = unit_scale / (absy + eps)
    elif name == "peak":
        dist = np.abs(y_orig - np.median(y_orig, axis=0))
        top = dist.max(axis=0)
        r = dist / np.where(top > 0, top, 1.0)
        w = 1.0 + (peak_weight - 1.0) * r**2
    else:
        return None
    w = w / w.mean(axis=0)
    return w.astype(np.float32)
