"""Self-tests that tell a training problem from a modelling problem."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from .exceptions import ExtrapolationWarning


def identity_check(estimator, X, *, test_size=0.2, threshold=0.01, random_state=0):
    """Fit ``X -> X`` and report how well the estimator reproduces its inputs.

    Seed 000's advice: before blaming the function, check that the training set-up
    can learn the identity on the same inputs. A set-up that cannot (unscaled
    columns, a stalled optimizer, a bottleneck layer) will not fit anything harder.

    Parameters
    ----------
    estimator : regressor
        Unfitted estimator to test; it is cloned, the original is untouched.
        It must accept multi-output targets.
    X : array-like of shape (n_samples, n_features)
        The inputs you want to fit a function on.
    test_size : float, default=0.2
        Share of rows held out to score the reproduction.
    threshold : float, default=0.01
        A column passes when its held-out nRMSE is below this.
    random_state : int, default=0
        Seed of the split.

    Returns
    -------
    report : pandas.DataFrame
        One row per input column with ``column``, ``nrmse`` and ``passed``; the
        overall verdict is in ``report.attrs["passed"]`` and the mean nRMSE in
        ``report.attrs["nrmse"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sknnfit.diagnostics import identity_check
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> identity_check(LinearRegression(), X).attrs["passed"]
    True
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features); got shape {X.shape}. "
            "Use X.reshape(-1, 1) for a single feature."
        )
    X_train, X_test = train_test_split(
        X, test_size=test_size, random_state=random_state
    )
    model = clone(estimator)
    with warnings.catch_warnings():
        # The held-out rows may leave the training box by a hair; that is not
        # what this check is about.
        warnings.simplefilter("ignore", ExtrapolationWarning)
        model.fit(X_train, X_train)
        pred = np.asarray(model.predict(X_test)).reshape(X_test.shape)
    std = X_test.std(axis=0)
    rmse = np.sqrt(((pred - X_test) ** 2).mean(axis=0))
    nrmse = np.where(std > 0, rmse / np.where(std > 0, std, 1.0), rmse)
    report = pd.DataFrame(
        {"column": np.arange(X.shape[1]), "nrmse": nrmse, "passed": nrmse < threshold}
    )
    report.attrs["passed"] = bool(report["passed"].all())
    report.attrs["nrmse"] = float(nrmse.mean())
    return report


def outside_fraction(estimator, X):
    """Fraction of rows of ``X`` outside the training box of a fitted NNRegressor.

    The same rule as the ``ExtrapolationWarning`` of ``predict``: outside by more
    than 1% of a column's training range.

    Parameters
    ----------
    estimator : NNRegressor or an estimator wrapping one in ``regressor_``
        Fitted estimator with ``x_min_`` and ``x_max_``.
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    fraction : float
    """
    inner = estimator
    while not hasattr(inner, "x_min_") and hasattr(inner, "regressor_"):
        inner = inner.regressor_
    if not hasattr(inner, "_outside_rows"):
        raise ValueError(
            "outside_fraction needs a fitted NNRegressor (or a wrapper with one in "
            "regressor_); fit the estimator first."
        )
    outside = inner._outside_rows(np.asarray(X, dtype=np.float64))
    return float(outside.mean()) if len(outside) else 0.0
