"""The guard of fits with too few rows to hold any out: K-fold cross-validation.

With held-out rows, ``NNRegressor``'s guard weighs the network against the
best closed-form model on them. Below that size (``early_stopping="auto"``
holds nothing out) the same weighing is done on out-of-fold predictions: the
network, as the fit would train it, and the closed-form models are each fitted
on all folds but one and predict the one left out. The network is blended in
only where it beats the closed-form model out of fold on its own.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np
from sklearn.base import clone

from .bases import loo_polynomial

#: Folds of the cross-validation (fewer where the rows are fewer).
CV_FOLDS = 5

#: Rows of positive weight needed to cross-validate at all.
MIN_CV_ROWS = 3


@dataclasses.dataclass
class CrossValidated:
    """What the cross-validated guard measured and chose.

    Attributes
    ----------
    kind : str
        The closed-form model weighed against the network: ``"mean"``, or the
        kind (``"linear"``, ``"poly3"``, ...) :func:`loo_polynomial` picks on
        every row.
    model : fitted base or None
        That model fitted on every row, on the base's inputs (None: the mean).
    weight : ndarray of shape (n_outputs,)
        The network's weight per output (0: the closed-form model alone).
    scores : dict of str to float
        Out-of-fold RMSE of each, in standard deviations of y
        (``validation_rmse_``).
    """

    kind: str
    model: object
    weight: np.ndarray
    scores: dict


def cross_validate(est, X, y, w, Xb, seed, deadline=None):
    """Weigh ``est``'s network against closed-form models by K-fold CV.

    Parameters
    ----------
    est : NNRegressor
        The estimator being fitted; its input and target statistics are set.
        Each fold trains ``clone(est)`` with ``guard=False`` (which trains the
        network as this fit will, without this cross-validation).
    X : ndarray of shape (n_samples, n_features)
        Validated inputs, in their units.
    y : ndarray
        Targets as ``fit`` got them.
    w : ndarray of shape (n_samples,) or None
        Sample weights; rows of weight 0 are never predicted out of fold.
    Xb : ndarray of shape (n_samples, n_features)
        The base's inputs (standardised columns).
    seed : int
        Of the folds' permutation.
    deadline : float or None
        A :func:`time.monotonic` time (``max_time``): each fold's network gets
        an equal share of what is left, the final fit one share too. None: no
        limit.

    Returns
    -------
    result : CrossValidated or None
        None where there are fewer than :data:`MIN_CV_ROWS` rows of positive
        weight, or no time is left.
    """
    positive = np.flatnonzero(w > 0) if w is not None else np.arange(len(X))
    if len(positive) < MIN_CV_ROWS:
        return None
    k = min(CV_FOLDS, len(positive))
    params = {"guard": False, "verbose": 0}
    if deadline is not None:
        share = (deadline - time.monotonic()) / (k + 1)
        if share <= 0:
            return None
        params["max_time"] = share
    folds = np.array_split(np.random.default_rng(seed).permutation(positive), k)
    y2 = y.reshape(len(y), -1)
    yt = est._standardise(y2)
    network, mean, poly = (np.zeros_like(yt) for _ in range(3))
    for test in folds:
        train = np.setdiff1d(np.arange(len(X)), test)
        wt = None if w is None else w[train]
        net = clone(est).set_params(**params)
        with warnings.catch_warnings():
            # The fold's own warnings (extrapolation to the left-out rows, a
            # short fit) are about a model that is not kept.
            warnings.simplefilter("ignore")
            net.fit(X[train], y[train], sample_weight=wt)
            pred = net.predict(X[test]).reshape(len(test), -1)
        network[test] = est._standardise(pred)
        mean[test] = np.average(yt[train], axis=0, weights=wt)
        found = loo_polynomial(Xb[train], yt[train], sample_weight=wt)
        poly[test] = mean[test] if found is None else _predict(found[1], Xb[test])
    w_rows = None if w is None else w[positive]

    def rmse(pred):
        return est._held_out_rmse(pred[positive], yt[positive], w_rows)

    scores = {"mean": rmse(mean), "network": rmse(network)}
    found = loo_polynomial(Xb, yt, sample_weight=w)
    kind, model, closed = "mean", None, mean
    if found is not None:
        scores[found[0]] = rmse(poly)
        if scores[found[0]] < scores["mean"]:
            kind, model, closed = found[0], found[1], poly
    if scores["network"] >= scores[kind]:
        # The network kept is trained on every row: another draw than the
        # folds', and on so few rows they differ most where no row is. One
        # that loses out of fold gets no weight, however small the blend's.
        weight = np.zeros(yt.shape[1])
    else:
        weight = est._network_weight(
            network[positive], closed[positive], yt[positive], w_rows
        )
    if weight.any() and not (weight == 1).all():
        scores["blend"] = rmse(weight * network + (1 - weight) * closed)
    return CrossValidated(kind, model, weight, scores)


def _predict(model, X):
    """A fitted base's prediction, 2-D."""
    return model.predict(X).reshape(len(X), -1)
