"""Target transformers, and the rules that choose and check them.

:class:`~sknnfit.targets.TargetTransformRegressor` learns on one of the scales
built here: :func:`make_target_transformer` builds the transformer of a target
kind, :func:`auto_target` picks the kind for ``target="auto"`` from the training
targets, and the transformers say so when the way back loses information
(clipping at the ends of a rank scale, overflow of ``exp``).
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    QuantileTransformer,
    StandardScaler,
)
from sklearn.utils import check_array
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

from ._outliers import outlying_targets
from .exceptions import ClippedPredictionWarning

__all__ = [
    "AUTO_LOG_SPAN",
    "AUTO_TAIL_RATIO",
    "TARGETS",
    "AsinhTransformer",
    "QuantileTargetTransformer",
    "auto_target",
    "make_target_transformer",
    "standardisable",
]

#: The values of ``TargetTransformRegressor(target=...)``.
TARGETS = ("standard", "log", "log1p", "asinh", "rank", "rank_normal", "auto")

#: ``target="auto"`` takes the log of positive targets whose max/min exceeds this
#: (two decades).
AUTO_LOG_SPAN = 100.0

#: ``target="auto"`` takes the asinh of targets whose largest magnitude exceeds
#: this many times the asinh scale (the median magnitude): beyond that asinh is
#: logarithmic (``asinh(100) = 5.3``), so it really compresses the tail.
AUTO_TAIL_RATIO = 100.0

#: Largest ratio of max|y| to the asinh scale; keeps ``y / scale`` and its sinh
#: finite for targets whose median magnitude is vanishingly small.
_MAX_ASINH_RATIO = 1e200

#: Most quantiles a rank target keeps; fewer when there are fewer training rows.
_MAX_QUANTILES = 1000


# ---------------------------------------------------------------------- transformers


_INTERNAL_DIRS = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.dirname(os.path.abspath(sklearn.__file__)) + os.sep,
)


def _outside_stacklevel():
    """``stacklevel`` for the caller of ``warnings.warn``, pointing past library code.

    The warnings of this module fire inside ``inverse_transform``, called by
    TransformedTargetRegressor, sometimes through a Pipeline: a fixed stacklevel
    would point at sknnfit or scikit-learn lines. (``skip_file_prefixes`` does
    this from Python 3.12.)
    """
    frame = sys._getframe(1)  # the function that calls warnings.warn
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL_DIRS):
        frame = frame.f_back
        level += 1
    return level


def _asinh_scale(y2):
    """Robust magnitude of each column of ``y2``: never 0, never infinite.

    The median of ``|y|``; where more than half the values are 0, the median of
    the non-zero ``|y|``; 1 for a column of zeros. Floored at
    ``max|y| / 1e200`` so that ``y / scale`` stays finite.
    """
    a = np.abs(y2)
    scale = np.median(a, axis=0)
    for j in np.flatnonzero(scale == 0):
        nonzero = a[:, j][a[:, j] > 0]
        scale[j] = np.median(nonzero) if nonzero.size else 1.0
    return np.maximum(scale, a.max(axis=0) / _MAX_ASINH_RATIO)


def _warn_overflow(z, y, inverse, target, limit):
    """Warn when the way back from the transformed scale overflowed to infinity."""
    n_inf = int((np.isinf(y) & np.isfinite(z)).sum())
    if n_inf:
        warnings.warn(
            f"{n_inf} of {y.size} predicted value(s) overflowed to infinity in "
            f"{inverse} (target={target!r}): the regressor predicted transformed "
            f"values beyond {limit}, the largest float64 {inverse} can map back. "
            "These rows of X are probably far outside the training data; check "
            "them, or use target='standard', which grows linearly.",
            RuntimeWarning,
            stacklevel=_outside_stacklevel(),
        )


def _exp(z):
    """``np.exp`` that warns, naming the cause, when a prediction overflows."""
    with np.errstate(over="ignore"):
        y = np.exp(z)
    _warn_overflow(z, y, "exp", "log", "log(y) = 709.78")
    return y


def _expm1(z):
    """``np.expm1`` that warns, naming the cause, when a prediction overflows."""
    with np.errstate(over="ignore"):
        y = np.expm1(z)
    _warn_overflow(z, y, "expm1", "log1p", "log1p(y) = 709.78")
    return y


class AsinhTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """``asinh(y / s)`` with a robust scale ``s`` fitted per column.

    The signed cousin of a log: linear for ``|y|`` well below ``s`` and
    logarithmic well above it, so targets of both signs with long tails get a
    compressed scale without any offset. ``s`` is the median of ``|y|`` of each
    column (the median of the non-zero ``|y|`` where more than half are 0, and 1
    for a column of zeros), so it is never 0 and the transform does not depend
    on the units of ``y``.

    This is a class of its own because
    :class:`~sklearn.preprocessing.FunctionTransformer` has no fit step: its
    ``func`` cannot learn ``s`` from the data. A
    :class:`~sklearn.preprocessing.RobustScaler` (without centring) followed by
    ``np.arcsinh`` would divide by the inter-quantile range, which is 0 for
    targets that are mostly zero and which RobustScaler then replaces by 1, a
    scale that depends on the units.

    Attributes
    ----------
    scale_ : ndarray of shape (n_features_in_,)
        The scale ``s`` of each column.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``fit`` got a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnfit.target_transforms import AsinhTransformer
    >>> y = np.array([[-1000.0], [-1.0], [0.0], [2.0], [5000.0]])
    >>> t = AsinhTransformer().fit(y)
    >>> t.scale_
    array([2.])
    >>> np.allclose(t.inverse_transform(t.transform(y)), y)
    True
    """

    def fit(self, X, y=None):
        """Fit the scale of each column.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Values to transform (the targets, when used by
            :class:`~sknnfit.targets.TargetTransformRegressor`).
        y : None
            Ignored.

        Returns
        -------
        self : AsinhTransformer
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=FLOAT_DTYPES)
        self.scale_ = _asinh_scale(X.astype(np.float64, copy=False))
        return self

    def transform(self, X):
        """Map ``X`` to ``asinh(X / scale_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Values to transform.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features)
            Transformed values.
        """
        check_is_fitted(self, "scale_")
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        return np.arcsinh(X / self.scale_)

    def inverse_transform(self, X):
        """Map ``X`` back to ``scale_ * sinh(X)``, warning on overflow.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Values on the transformed scale.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_features)
            Values on the original scale; infinite where ``sinh`` overflows, which
            a RuntimeWarning reports.
        """
        check_is_fitted(self, "scale_")
        Z = check_array(X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan")
        with np.errstate(over="ignore"):
            Y = self.scale_ * np.sinh(Z)
        _warn_overflow(Z, Y, "sinh", "asinh", "asinh(y / scale) = 710.5")
        return Y


class QuantileTargetTransformer(QuantileTransformer):
    """QuantileTransformer that warns when ``inverse_transform`` clips.

    :class:`~sklearn.preprocessing.QuantileTransformer` maps values beyond its
    fitted range back to the smallest or largest training quantile without a
    word. For predictions that hides that the regressor wanted to go past the
    training targets, so this subclass counts those values and warns with a
    :class:`~sknnfit.exceptions.ClippedPredictionWarning`. Parameters and
    behaviour are otherwise those of QuantileTransformer.

    Attributes
    ----------
    transformed_min_, transformed_max_ : ndarray of shape (n_features_in_,)
        The images of the smallest and largest quantile; ``inverse_transform``
        clips values outside this interval.
    """

    def fit(self, X, y=None):
        """Compute the quantiles and the ends of the transformed range.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Values to transform (the targets).
        y : None
            Ignored.

        Returns
        -------
        self : QuantileTargetTransformer
            The fitted transformer.
        """
        super().fit(X, y)
        ends = super().transform(self.quantiles_[[0, -1]])
        self.transformed_min_, self.transformed_max_ = ends[0], ends[1]
        return self

    def inverse_transform(self, X):
        """Map ``X`` back to the original scale, warning when values are clipped.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Values on the uniform or normal scale of ``output_distribution``.

        Returns
        -------
        Y : ndarray of shape (n_samples, n_features)
            Values on the original scale, within the training range.
        """
        check_is_fitted(self, "transformed_min_")
        Z = check_array(X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan")
        # Float round-off on the way back is not clipping.
        slack = 1e-9 * (self.transformed_max_ - self.transformed_min_)
        with np.errstate(invalid="ignore"):
            low = Z < self.transformed_min_ - slack
            high = Z > self.transformed_max_ + slack
        n_low, n_high = int(low.sum()), int(high.sum())
        if n_low or n_high:
            target = "rank" if self.output_distribution == "uniform" else "rank_normal"
            warnings.warn(
                f"{n_low + n_high} of {Z.size} predicted value(s) "
                f"({(n_low + n_high) / Z.size:.1%}) were clipped to the range of the "
                f"training targets ({n_low} to the minimum, {n_high} to the "
                f"maximum): target={target!r} maps back through the training "
                "quantiles and cannot predict beyond them. Use target='standard' "
                "or 'asinh' if predictions outside the training range matter.",
                ClippedPredictionWarning,
                stacklevel=_outside_stacklevel(),
            )
        return super().inverse_transform(Z)


# ---------------------------------------------------------------------- choosing


_DOMAINS = {
    "log": (
        0.0,
        "y > 0",
        "Use target='asinh' for signed targets or 'log1p' for y > -1.",
    ),
    "log1p": (-1.0, "y > -1", "Use target='asinh' for signed targets."),
}


def standardisable(y2):
    """Whether every output of the 2-D targets ``y2`` has a finite mean and
    standard deviation in float64 (beyond about 1e154 the squares overflow)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(
            np.isfinite(y2.mean(axis=0)).all() and np.isfinite(y2.std(axis=0)).all()
        )


def _check_target_domain(target, y2):
    """Raise a ValueError naming the smallest y when ``target`` cannot take it
    (or the largest, when ``"standard"`` cannot standardise it)."""
    if target == "standard" and not standardisable(y2):
        raise ValueError(
            "target='standard' cannot standardise y in float64 (max |y| = "
            f"{np.abs(y2).max():.3g}: its squares overflow). Use target='asinh' "
            "(or 'log' for y > 0, or 'auto'), or divide y by a constant."
        )
    if target not in _DOMAINS:
        return
    bound, need, fix = _DOMAINS[target]
    lowest = y2.min(axis=0)
    if (lowest > bound).all():
        return
    j = int(np.argmin(lowest))
    where = f" (output {j})" if y2.shape[1] > 1 else ""
    raise ValueError(
        f"target={target!r} needs {need}; got min(y) = {lowest[j]:.6g}{where}. {fix}"
    )


def auto_target(y):
    """The target kind that ``target="auto"`` picks for the training targets ``y``.

    One kind for all outputs, by this rule:

    1. ``"log"`` when every value is positive and some output spans more than
       two decades (``max / min > AUTO_LOG_SPAN = 100``) and its log is no more
       skewed than the output itself;
    2. else ``"asinh"`` when some output has a heavy tail: its largest
       magnitude exceeds ``AUTO_TAIL_RATIO = 100`` times the asinh scale (the
       median of ``|y|``; see :class:`AsinhTransformer`), and the asinh makes
       it no more skewed. This covers signed targets and non-negative targets
       with zeros;
    3. else ``"asinh"`` when a few extreme values set some output's scale
       (:func:`sknnfit._outliers.outlying_targets`: without the most extreme
       0.1% of the rows its standard deviation is a thousandth or less). One
       outlier is as skewed under any monotone transform, so rule 2 cannot see
       it; on the standard scale the other rows' variation would be lost;
    4. else ``"standard"``, unless y is too large to standardise in float64
       (beyond about 1e154 its squares overflow): then ``"asinh"``.

    The skewness condition keeps targets that span decades only because they
    pile up near zero (``y = x**2`` on [-2, 2]) on the standard scale:
    their log is skewed the other way, and exp would blow up every error.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Finite training targets.

    Returns
    -------
    target : {"log", "asinh", "standard"}
        The chosen kind.

    Examples
    --------
    >>> from sknnfit.target_transforms import auto_target
    >>> auto_target([1.0, 30.0, 2000.0])
    'log'
    >>> auto_target([-5000.0, -1.0, 0.5, 2.0, 3.0])
    'asinh'
    >>> auto_target([-1.0, 0.5, 2.0])
    'standard'
    """
    y = np.asarray(y, dtype=np.float64)
    y2 = y.reshape(len(y), -1)
    # Moments of huge targets overflow to inf: the rules read them as not skewed.
    with np.errstate(over="ignore", invalid="ignore"):
        if (y2 > 0).all():
            wide = y2.max(axis=0) > AUTO_LOG_SPAN * y2.min(axis=0)
            if (wide & _evens_out(y2, np.log(y2))).any():
                return "log"
        scale = _asinh_scale(y2)
        tail = np.abs(y2).max(axis=0) > AUTO_TAIL_RATIO * scale
        if (tail & _evens_out(y2, np.arcsinh(y2 / scale))).any():
            return "asinh"
        if outlying_targets(y2):
            return "asinh"
    return "standard" if standardisable(y2) else "asinh"


def _skewness(a):
    """Per-column sample skewness; 0 for a constant column."""
    centred = a - a.mean(axis=0)
    std = centred.std(axis=0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        skew = (centred**3).mean(axis=0) / std**3
    return np.where((std > 0) & np.isfinite(skew), skew, 0.0)


def _evens_out(y2, z2):
    """Per output: whether the transform ``z2`` of ``y2`` is no more skewed.

    A target spanning decades because its values pile up near zero (``y = x**2``
    on [-2, 2]) is not a multiplicative quantity: its log is skewed the other
    way and its exp would blow up every error; a log-normal-like target becomes
    symmetric. Only the latter gets the log (or asinh).
    """
    before = np.abs(_skewness(y2))
    return np.abs(_skewness(z2)) <= before * (1 + 1e-6) + 1e-12


# ---------------------------------------------------------------------- building


def make_target_transformer(target, y=None, *, n_quantiles=None):
    """Build the unfitted transformer for ``target``, checking ``y`` suits it.

    With ``y``, the targets are checked against the domain of ``target`` and the
    rank kinds keep ``min(1000, n_samples)`` quantiles. Without ``y``, nothing
    is checked and the settings that would come from it are given directly
    (``n_quantiles``), for instance to rebuild a transformer whose fitted
    statistics are restored afterwards.

    Parameters
    ----------
    target : {"standard", "log", "log1p", "asinh", "rank", "rank_normal"}
        Target kind (resolve ``"auto"`` with :func:`auto_target` first).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Finite training targets, for the domain check and the number of
        quantiles; None skips the check.
    n_quantiles : int, default=None
        Number of quantiles of ``"rank"`` and ``"rank_normal"``; ignored by the
        other kinds. None means ``min(1000, n_samples)`` of ``y``, or 1000
        without ``y``.

    Returns
    -------
    transformer : transformer
        An unfitted scikit-learn transformer, for 2-D targets, whose output is a
        NumPy array.

    Examples
    --------
    >>> from sknnfit.target_transforms import make_target_transformer
    >>> make_target_transformer("rank", [3.0, 1.0, 2.0]).n_quantiles
    3
    >>> make_target_transformer("rank", n_quantiles=3).n_quantiles
    3
    >>> make_target_transformer("log", [1.0, -2.0])
    Traceback (most recent call last):
    ...
    ValueError: target='log' needs y > 0; got min(y) = -2. Use target='asinh' for \
signed targets or 'log1p' for y > -1.
    """
    if y is not None:
        y = np.asarray(y, dtype=np.float64)
        _check_target_domain(target, y.reshape(len(y), -1))
        if n_quantiles is None:
            n_quantiles = min(_MAX_QUANTILES, len(y))
    if target == "standard":
        transformer = StandardScaler()
    elif target == "log":
        transformer = FunctionTransformer(
            func=np.log, inverse_func=_exp, check_inverse=False
        )
    elif target == "log1p":
        transformer = FunctionTransformer(
            func=np.log1p, inverse_func=_expm1, check_inverse=False
        )
    elif target == "asinh":
        transformer = AsinhTransformer()
    elif target in ("rank", "rank_normal"):
        transformer = _rank_transformer(
            target, _MAX_QUANTILES if n_quantiles is None else n_quantiles
        )
    else:
        raise ValueError(
            f"Unknown target {target!r}; expected one of {TARGETS[:-1]!r} "
            "(resolve 'auto' with auto_target(y) first)."
        )
    # y goes to the regressor, not to a DataFrame-aware next step: keep NumPy
    # whatever the global set_output configuration says.
    return transformer.set_output(transform="default")


def _rank_transformer(target, n_quantiles):
    """The transformer of ``"rank"`` (uniform) or ``"rank_normal"`` (normal)."""
    transformer = QuantileTargetTransformer(
        n_quantiles=n_quantiles,
        output_distribution="uniform" if target == "rank" else "normal",
        # Quantiles of all rows: one sort per output, cheap next to training,
        # and fit stays deterministic without a random_state.
        subsample=None,
    )
    if target == "rank":
        return transformer
    # QuantileTransformer's normal output maps every value within 1e-7 (in the
    # units of y) of the smallest or largest quantile to that end, which
    # collapses targets whose spread is below 1e-7. Ranks do not change under
    # standardisation, so standardise first; what is left is an error of at
    # most 1e-7 standard deviations at the ends.
    return make_pipeline(StandardScaler(), transformer)
