"""Error metrics for comparing regressors on the reference problems.

All metrics take ``y_true`` and ``y_pred`` of the same shape, 1-D
``(n_samples,)`` or 2-D ``(n_samples, n_outputs)``; a 1-D array and a
``(n_samples, 1)`` array are treated as the same single output. Metrics over
several outputs are computed per output and then averaged with equal weights,
so an output with large values cannot hide the errors of a small one.

Non-finite predictions (a diverged model) do not raise: the metrics that depend
on them come out as NaN or inf, so a benchmark can record the failure.
"""

import numpy as np
from sklearn.metrics import r2_score

from ..datasets import problem_info

__all__ = [
    "SCORE_KEYS",
    "count_extrema",
    "median_relative_error",
    "nrmse",
    "peak_nmae",
    "per_output_scores",
    "r2",
    "score_all",
]

SCORE_KEYS = (
    "rmse",
    "nrmse",
    "r2",
    "median_rel_error",
    "peak_nmae",
    "n_extrema",
    "rmse_inside",
    "rmse_outside",
)
"""Every key :func:`score_all` may return, in the order it returns them."""

# A column whose std is below this fraction of its magnitude is treated as
# constant: float rounding leaves a std of a few ulps, not exactly zero.
_CONSTANT_RTOL = 1e-12


def _as_pair(y_true, y_pred):
    """Validate and return both arrays as float64 of shape (n_samples, n_outputs)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    for what, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.ndim not in (1, 2):
            raise ValueError(
                f"{what} must be 1-D (n_samples,) or 2-D (n_samples, n_outputs); "
                f"got shape {y.shape}."
            )
    t2 = y_true.reshape(len(y_true), -1)
    p2 = y_pred.reshape(len(y_pred), -1)
    if t2.shape != p2.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape; got y_true.shape = "
            f"{y_true.shape} and y_pred.shape = {y_pred.shape}. Predict on the "
            "test inputs that go with y_true."
        )
    if t2.shape[0] == 0 or t2.shape[1] == 0:
        raise ValueError(f"y_true is empty (shape {y_true.shape}).")
    if not np.all(np.isfinite(t2)):
        raise ValueError("y_true contains NaN or inf; metrics need finite targets.")
    return t2, p2


def _output_scale(y_true_2d):
    """Per-output std, with max(1, |mean|) in place of a (near) zero std."""
    std = y_true_2d.std(axis=0)
    abs_mean = np.abs(y_true_2d.mean(axis=0))
    constant = std <= _CONSTANT_RTOL * np.maximum(abs_mean, 1.0)
    return np.where(constant, np.maximum(abs_mean, 1.0), std)


def _rmse_per_output(t2, p2):
    return np.sqrt(np.mean((p2 - t2) ** 2, axis=0))


def nrmse(y_true, y_pred):
    """Root-mean-square error divided by the target's standard deviation.

    Computed per output and averaged over outputs. A value of 1 is what
    predicting the mean of ``y_true`` scores; 0 is a perfect fit.

    For a constant output (standard deviation zero up to rounding) the RMSE is
    divided by ``max(1, |mean(y_true)|)`` instead: an absolute error for
    constants of magnitude at most 1, a relative error for larger ones. This
    never divides by zero.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets.

    y_pred : array-like of the same shape as y_true
        Predicted targets.

    Returns
    -------
    score : float
        Mean over outputs of RMSE / std(y_true).

    Examples
    --------
    >>> from sknnfit.bench.metrics import nrmse
    >>> nrmse([0.0, 2.0], [1.0, 1.0])
    1.0
    """
    t2, p2 = _as_pair(y_true, y_pred)
    return float(np.mean(_rmse_per_output(t2, p2) / _output_scale(t2)))


def r2(y_true, y_pred):
    """Coefficient of determination, averaged over outputs with equal weights.

    This is :func:`sklearn.metrics.r2_score` with
    ``multioutput="uniform_average"``, except that non-finite predictions give
    NaN instead of raising.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets.

    y_pred : array-like of the same shape as y_true
        Predicted targets.

    Returns
    -------
    score : float
        R², at most 1.

    Examples
    --------
    >>> from sknnfit.bench.metrics import r2
    >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    1.0
    """
    t2, p2 = _as_pair(y_true, y_pred)
    if not np.all(np.isfinite(p2)):
        return float("nan")
    return float(r2_score(t2, p2, multioutput="uniform_average"))


def per_output_scores(y_true, y_pred):
    """nRMSE and R² of each output, before :func:`nrmse` and :func:`r2` average them.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets.

    y_pred : array-like of the same shape as y_true
        Predicted targets.

    Returns
    -------
    scores : dict of str to ndarray of shape (n_outputs,)
        ``"nrmse"`` (RMSE over the output's std, with :func:`nrmse`'s fallback
        for constant outputs) and ``"r2"`` (NaN for an output whose predictions
        are not finite, and, as :func:`sklearn.metrics.r2_score` gives, 0 or 1
        for a constant output). Their means are :func:`nrmse` and :func:`r2`.

    Examples
    --------
    >>> from sknnfit.bench.metrics import per_output_scores
    >>> scores = per_output_scores([[0.0, 1.0], [2.0, 3.0]], [[1.0, 1.0], [1.0, 3.0]])
    >>> scores["nrmse"].tolist(), scores["r2"].tolist()
    ([1.0, 0.0], [0.0, 1.0])
    """
    t2, p2 = _as_pair(y_true, y_pred)
    finite = np.all(np.isfinite(p2), axis=0)
    r2_each = np.full(t2.shape[1], np.nan)
    if finite.any():
        r2_each[finite] = r2_score(
            t2[:, finite], p2[:, finite], multioutput="raw_values"
        )
    return {"nrmse": _rmse_per_output(t2, p2) / _output_scale(t2), "r2": r2_each}


def median_relative_error(y_true, y_pred, eps=None):
    """Median of ``|y_pred - y_true| / max(|y_true|, eps)`` over all entries.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets.

    y_pred : array-like of the same shape as y_true
        Predicted targets.

    eps : float, default=None
        Floor of the denominator, so that targets at or near zero do not give
        infinite relative errors. None uses, per output, ``1e-6`` times the mean
        of ``|y_true|`` of that output (or ``1e-6`` if that mean is zero), which
        scales with the target and only matters for entries a million times
        smaller than is typical.

    Returns
    -------
    score : float
        Median relative error over all samples and outputs pooled together.

    Examples
    --------
    >>> from sknnfit.bench.metrics import median_relative_error
    >>> median_relative_error([1.0, 10.0, 100.0], [1.1, 11.0, 100.0])
    0.1
    """
    t2, p2 = _as_pair(y_true, y_pred)
    if eps is None:
        mean_abs = np.mean(np.abs(t2), axis=0)
        floor = 1e-6 * np.where(mean_abs > 0, mean_abs, 1.0)
    else:
        if not np.isfinite(eps) or eps <= 0:
            raise ValueError(f"eps must be a positive float or None; got {eps!r}.")
        floor = float(eps)
    rel = np.abs(p2 - t2) / np.maximum(np.abs(t2), floor)
    return float(np.median(rel))


def peak_nmae(y_true, y_pred, top=0.01):
    """Mean absolute error on each output's highest true values, over its std.

    For each output, the ``ceil(top * n_samples)`` rows with the largest true
    value of that output are selected (at least one row); the mean absolute
    error on them is divided by the output's standard deviation (with the same
    fallback for constant outputs as :func:`nrmse`). The result is averaged over
    outputs. It measures how well narrow peaks are reproduced, which a global
    RMSE can hide.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True targets.

    y_pred : array-like of the same shape as y_true
        Predicted targets.

    top : float, default=0.01
        Fraction of rows, in (0, 1], counted as the peak of each output.

    Returns
    -------
    score : float
        Mean over outputs of the normalised peak MAE.

    Examples
    --------
    >>> from sknnfit.bench.metrics import peak_nmae
    >>> peak_nmae([0.0, 0.0, 0.0, 4.0], [0.0, 0.0, 0.0, 2.0], top=0.25)
    1.1547005383792517
    """
    t2, p2 = _as_pair(y_true, y_pred)
    if not 0 < top <= 1:
        raise ValueError(f"top must be a fraction in (0, 1]; got {top!r}.")
    n_samples = t2.shape[0]
    k = min(n_samples, max(1, int(np.ceil(top * n_samples))))
    # Columnwise indices of the k largest true values.
    idx = np.argpartition(t2, n_samples - k, axis=0)[n_samples - k :]
    err = np.abs(np.take_along_axis(p2, idx, 0) - np.take_along_axis(t2, idx, 0))
    return float(np.mean(err.mean(axis=0) / _output_scale(t2)))


def count_extrema(y_pred_1d, rtol=1e-5, atol=0.0):
    """Count the strict local extrema of a curve sampled on an ordered grid.

    An extremum is a change of direction of the curve, counted only when the
    curve then moves back by more than ``tol = atol + rtol * max(|y|)`` from the
    turning point. Plateaus and wiggles smaller than ``tol``, such as float32
    rounding noise in a network's output, therefore add no extrema, however
    many grid points they span. The default ``rtol`` is about 100 float32 ulps.

    Parameters
    ----------
    y_pred_1d : array-like of shape (n_points,) or (n_points, 1)
        Values of the curve on a grid sorted by its input.

    rtol : float, default=1e-5
        Tolerance relative to the largest absolute value of the curve.

    atol : float, default=0.0
        Absolute tolerance added to the relative one.

    Returns
    -------
    n_extrema : int
        Number of local minima and maxima, endpoints excluded.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnfit.bench.metrics import count_extrema
    >>> x = np.linspace(-1, 9, 4001)
    >>> count_extrema(np.sin(x) / 2.5)
    3
    """
    y = np.asarray(y_pred_1d, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"count_extrema needs a single curve of shape (n_points,) or "
            f"(n_points, 1); got shape {y.shape}."
        )
    if not np.all(np.isfinite(y)):
        raise ValueError("count_extrema needs finite values; y contains NaN or inf.")
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0; got {rtol!r} and {atol!r}.")
    if y.size < 3:
        return 0
    tol = atol + rtol * np.max(np.abs(y))

    n_extrema = 0
    direction = 0  # +1 rising, -1 falling, 0 not yet known
    lo = hi = y[0]  # running min and max while the direction is unknown
    extreme = y[0]  # most extreme value since the last turn
    for v in y[1:]:
        if direction == 0:
            lo, hi = min(lo, v), max(hi, v)
            if v - lo > tol:
                direction, extreme = 1, v
            elif hi - v > tol:
                direction, extreme = -1, v
        elif direction * (v - extreme) > 0:
            extreme = v
        elif direction * (extreme - v) > tol:
            n_extrema += 1
            direction, extreme = -direction, v
    return n_extrema


def score_all(y_true, y_pred, *, X_test=None, problem=None):
    """Compute every metric that applies to a set of test predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True test targets.

    y_pred : array-like of the same shape as y_true
        Predicted test targets.

    X_test : array-like of shape (n_samples, n_features), default=None
        Test inputs. With a single feature, the curve is sorted by it before
        counting extrema; it is required for the inside/outside errors of
        problems with ``problem_info(problem)["extrapolation"]``.

    problem : str, default=None
        Name of the reference problem (see :data:`sknnfit.datasets.PROBLEMS`),
        which decides the problem-specific metrics.

    Returns
    -------
    scores : dict of str to float
        Always ``"rmse"`` (mean over outputs), ``"nrmse"``, ``"r2"``,
        ``"median_rel_error"``, ``"peak_nmae"``. Also:

        - ``"n_extrema"``: extrema of the predicted curve, see
          :func:`count_extrema`, when the problem is 1-D (``square``,
          ``noisy_sin``) or when ``X_test`` has a single feature. NaN when the
          predictions are not finite.
        - ``"rmse_inside"``, ``"rmse_outside"``: RMSE on the test points inside
          and outside the training range, for extrapolation problems
          (``square``); NaN when one side has no points.

        Keys appear in the order of :data:`SCORE_KEYS`.

    Examples
    --------
    >>> from sknnfit.datasets import make_problem
    >>> from sknnfit.bench.metrics import score_all
    >>> X, y, X_test, y_test = make_problem("square", n_train=10, n_test=9)
    >>> scores = score_all(y_test, 0 * y_test, X_test=X_test, problem="square")
    >>> sorted(scores)  # doctest: +NORMALIZE_WHITESPACE
    ['median_rel_error', 'n_extrema', 'nrmse', 'peak_nmae', 'r2', 'rmse',
     'rmse_inside', 'rmse_outside']
    """
    t2, p2 = _as_pair(y_true, y_pred)
    info = problem_info(problem) if problem is not None else None

    x = None
    if X_test is not None:
        X_test = np.asarray(X_test, dtype=np.float64)
        if X_test.ndim == 1:
            X_test = X_test[:, None]
        if X_test.ndim != 2 or X_test.shape[0] != t2.shape[0]:
            raise ValueError(
                f"X_test must have one row per target; got X_test.shape = "
                f"{X_test.shape} and y_true.shape = {np.shape(y_true)}."
            )
        if X_test.shape[1] == 1:
            x = X_test[:, 0]

    finite = bool(np.all(np.isfinite(p2)))
    scores = {
        "rmse": float(np.mean(_rmse_per_output(t2, p2))),
        "nrmse": nrmse(t2, p2),
        "r2": r2(t2, p2),
        "median_rel_error": median_relative_error(t2, p2),
        "peak_nmae": peak_nmae(t2, p2),
    }

    one_d = info["one_d"] if info is not None else x is not None
    if one_d and t2.shape[1] == 1:
        curve = p2[:, 0] if x is None else p2[np.argsort(x, kind="stable"), 0]
        scores["n_extrema"] = float(count_extrema(curve)) if finite else np.nan

    if info is not None and info["extrapolation"]:
        if x is None:
            raise ValueError(
                f"Problem {problem!r} scores inside and outside the training "
                "range, which needs the test inputs: pass X_test=X_test."
            )
        low, high = info["train_range"]
        inside = (x >= low) & (x <= high)
        for key, mask in (("rmse_inside", inside), ("rmse_outside", ~inside)):
            scores[key] = (
                float(np.mean(_rmse_per_output(t2[mask], p2[mask])))
                if mask.any()
                else np.nan
            )
    return scores
