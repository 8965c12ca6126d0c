"""Input transforms: standardisation, and log for columns that span decades.

Built from scikit-learn's FunctionTransformer and StandardScaler; the only code of
our own is the rule that picks the log columns and the check that they stay
positive at predict time.
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

INPUT_TRANSFORMS = ("auto", "standard", "log", "none")

#: "auto" takes the log of strictly positive columns whose max/min exceeds this.
DECADES_RATIO = 10.0


def log_columns_rule(X):
    """Indices of strictly positive columns spanning more than a decade.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    columns : list of int
    """
    X = np.asarray(X, dtype=np.float64)
    lo, hi = X.min(axis=0), X.max(axis=0)
    # A ratio beyond float64 (a subnormal minimum) is inf: decades apart.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(lo > 0, hi / lo, 0.0)
    return [int(j) for j in np.flatnonzero((lo > 0) & (ratio > DECADES_RATIO))]


def _checked_log(X, columns):
    """The log of ``X[:, columns]``; raises if a value there is not positive."""
    sub = X[:, columns]
    if np.any(sub <= 0):
        bad = [columns[j] for j in np.flatnonzero((sub <= 0).any(axis=0))]
        raise ValueError(
            f"Column(s) {bad} were log-transformed at fit time (they were "
            "strictly positive and spanned decades) but now contain values "
            f"<= 0 (smallest: {sub.min():.6g}). Pass positive values, or refit "
            "with input_transform='standard'."
        )
    return np.log(sub)


def _log_columns(X, columns=()):
    X = np.array(X, dtype=np.float64, copy=True)
    if len(columns):
        X[:, columns] = _checked_log(X, columns)
    return X


def _append_log_columns(X, columns=()):
    """``X`` with the log of ``columns`` appended as extra columns."""
    X = np.asarray(X, dtype=np.float64)
    if not len(columns):
        return X.copy()
    return np.hstack([X, _checked_log(X, columns)])


def _exp_columns(X, columns=()):
    X = np.array(X, dtype=np.float64, copy=True)
    if len(columns):
        X[:, columns] = np.exp(X[:, columns])
    return X


def make_input_transformer(kind, X=None, *, log_columns=None):
    """Build the (unfitted) input transformer for ``input_transform=kind``.

    Parameters
    ----------
    kind : {"auto", "standard", "log", "none"}
        ``"auto"``: standardise every column, and append the standardised log of
        each strictly positive column spanning more than a decade (max/min >
        10). ``"standard"``: standardise only. ``"log"``: replace every strictly
        positive column by its log, then standardise. ``"none"``: pass through.
    X : ndarray of shape (n_samples, n_features), default=None
        Training inputs, used to choose the log columns; not needed when
        ``log_columns`` is given.
    log_columns : list of int, default=None
        The log columns, already chosen (for instance those of a fitted model
        whose statistics are restored afterwards); None chooses them from ``X``.
        ``"standard"`` and ``"none"`` take none.

    Returns
    -------
    transformer : sklearn Pipeline or FunctionTransformer
        Its ``transform`` returns a NumPy array whatever
        ``sklearn.set_config(transform_output=...)`` says.
    log_columns : list of int
        The columns that will be log-transformed.

    Examples
    --------
    >>> from sknnfit.features import make_input_transformer
    >>> transformer, columns = make_input_transformer("auto", log_columns=[1])
    >>> [name for name, _ in transformer.steps], columns
    (['log', 'scale'], [1])
    """
    if kind not in INPUT_TRANSFORMS:
        raise ValueError(
            f"input_transform must be one of {INPUT_TRANSFORMS}; got {kind!r}."
        )
    if log_columns is None:
        cols = _choose_log_columns(kind, X)
    else:
        cols = [int(j) for j in log_columns]
        if cols and kind in ("standard", "none"):
            raise ValueError(
                f"input_transform={kind!r} takes the log of no column; got "
                f"log_columns={cols}."
            )
    if kind == "none":
        return _numpy_output(FunctionTransformer(validate=False)), []
    steps = []
    if cols and kind == "auto":
        # Append the logs rather than replace the columns: a uniform column
        # on [0, 1] spans decades near 0 too, and the identity, linear
        # trends and bumps in x are simplest in x itself (seed 000), while
        # products and ratios are linear in log x (seed 001). The network gets
        # both; the closed-form base uses the first n_features columns.
        log = FunctionTransformer(
            _append_log_columns,
            kw_args={"columns": cols},
            validate=False,
            check_inverse=False,
        )
        steps.append(("log", log))
    elif cols:
        log = FunctionTransformer(
            _log_columns,
            inverse_func=_exp_columns,
            kw_args={"columns": cols},
            inv_kw_args={"columns": cols},
            validate=False,
            check_inverse=False,
        )
        steps.append(("log", log))
    steps.append(("scale", StandardScaler()))
    return _numpy_output(Pipeline(steps)), cols


def _numpy_output(transformer):
    """``transformer`` pinned to NumPy output, whatever ``set_config`` says.

    Its output feeds the network and the closed-form base, which index it as an
    array: under ``sklearn.set_config(transform_output="pandas")`` a DataFrame
    would break them, and a model fitted under one setting would warn about
    feature names when it predicts under the other.
    """
    return transformer.set_output(transform="default")


def _choose_log_columns(kind, X):
    """The log columns ``kind`` takes from the training inputs ``X``."""
    if kind in ("standard", "none"):
        return []
    if X is None:
        raise ValueError(
            f"input_transform={kind!r} chooses its log columns from X; pass X "
            "or log_columns."
        )
    if kind == "auto":
        return log_columns_rule(X)
    return [int(j) for j in np.flatnonzero(np.asarray(X).min(axis=0) > 0)]
