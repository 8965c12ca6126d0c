"""The closed-form bases: ridge regression on the inputs or their polynomials.

:class:`~sknnfit.NNRegressor` fits one of these first and trains its network on
what it leaves; the ``poly`` baseline of the benchmark harness is the same
pipeline with a cross-validated penalty (:func:`poly_ridge` builds both).
:class:`PowerLaw` and :class:`LaurentPolynomial` are the others ``base="auto"``
tries where the inputs are positive: a product of powers of them, and a sum of
such products of small integer powers (``x``, ``1/x``, ``x**2``, ...), which a
polynomial only approximates.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import has_fit_parameter

from .exceptions import ExtrapolationWarning

BASES = ("auto", "linear", "poly2", "poly3", "none")

#: base="auto" needs this many training rows per base coefficient.
ROWS_PER_COEF = 20

#: base="auto" with held-out rows tries polynomial degrees up to this ...
MAX_AUTO_DEGREE = 8

#: ... and beyond it, up to this, polynomials that fit the held-out rows
#: exactly (on one to three inputs: four or more reach MAX_AUTO_FEATURES by
#: degree 8). A smooth function of one input is fitted to float64's digits by
#: degree 14-16 (clean sin on [-pi, pi], on a grid: degree 8 1.6e-4, 12 6e-8,
#: 16 9e-12), and monomials of standardised inputs still solve well there (20:
#: 5e-10). Where none is exact (noise) they do not compete with the network:
#: on noisy_sin a degree-10 polynomial tied with it on held-out rows and
#: replaced it, at a 1.2x higher RMSE on one seed of three.
MAX_EXACT_DEGREE = 16

#: ... whose features (bias excluded) number at most this, as the poly baseline.
MAX_AUTO_FEATURES = 500

#: ... and leave at least this many training rows per coefficient.
MIN_ROWS_PER_COEF = 3

#: Ridge penalties tried on the standardised features (leave-one-out) ...
ALPHAS = tuple(10.0**k for k in range(-8, 4))

#: ... and, for a polynomial already exact at the smallest of them, these: the
#: penalty bounds its precision (clean sin's degree 13-16 polynomials: 2e-8 on
#: a grid at 1e-8, 1e-11 at 1e-12). Only exact fits search them, so that the
#: bases under networks (and the networks) stay as they were: where the lower
#: penalties were tried everywhere, a real table's base moved by rounding and
#: its network by chance (college, seed 1: nRMSE 0.253 to 0.293).
EXACT_ALPHAS = tuple(10.0**k for k in range(-12, -7))

#: Each degree's ridge penalty is chosen by leave-one-out on at most this many
#: training rows (evenly spaced), then the polynomial is refitted at that
#: penalty on all of them: the penalty that is best for a sum of squares does
#: not grow with the rows (it is the noise's variance over the coefficients'),
#: and the search costs rows x features**2 for each penalty: on steep25x19's
#: 195,000 rows of 25 inputs, the candidates took 28-32 s with all rows and
#: 6.4 s with these (two threads).
SEARCH_ROWS = 20_000

#: The lowest degree whose held-out error is within this factor of the best
#: wins: a higher degree must earn its extrapolation risk.
DEGREE_TOLERANCE = 1.1


def resolve_base(kind, n_samples, n_features):
    """The base ``"auto"`` stands for, given the training set's size.

    ``"poly2"`` when there are at least :data:`ROWS_PER_COEF` rows per quadratic
    coefficient, else ``"linear"`` when there are that many per linear
    coefficient, else ``"none"``: a closed-form base with more coefficients than
    the data supports would interpolate the rows and leave the network nothing
    to learn.

    Examples
    --------
    >>> resolve_base("auto", n_samples=1000, n_features=3)
    'poly2'
    >>> resolve_base("auto", n_samples=100, n_features=3)
    'linear'
    """
    if kind != "auto":
        return kind
    n_quadratic = n_features + n_features * (n_features + 1) // 2 + 1
    if n_samples >= ROWS_PER_COEF * n_quadratic:
        return "poly2"
    if n_samples >= ROWS_PER_COEF * (n_features + 1):
        return "linear"
    return "none"


def poly_ridge(degree, ridge):
    """``PolynomialFeatures -> StandardScaler -> ridge`` as one Pipeline.

    Parameters
    ----------
    degree : int
        Polynomial degree (no bias column: the ridge model fits the intercept).
    ridge : sklearn regressor
        The linear model on the scaled polynomial features, e.g. ``Ridge`` or
        ``RidgeCV``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"poly"``, ``"scale"``, ``"ridge"``.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    pipeline = Pipeline(
        [
            ("poly", PolynomialFeatures(degree, include_bias=False)),
            ("scale", StandardScaler()),
            ("ridge", ridge),
        ]
    )
    # Its steps hand arrays to each other and to the caller, which indexes
    # them: NumPy whatever sklearn.set_config(transform_output=...) says.
    return pipeline.set_output(transform="default")


def n_base_features(n_features, degree):
    """Features of the degree-``degree`` polynomial base (bias excluded)."""
    return math.comb(n_features + degree, degree) - 1


def _kind(degree):
    return {0: "none", 1: "linear"}.get(degree, f"poly{degree}")


def polynomial_candidates(
    X,
    y,
    X_valid,
    y_valid,
    *,
    sample_weight=None,
    valid_weight=None,
    exact_mse=0.0,
    deadline=None,
):
    """Fit the mean, the linear model and polynomials; score them on held-out rows.

    Degrees go up to :data:`MAX_AUTO_DEGREE`, and beyond it up to
    :data:`MAX_EXACT_DEGREE` while the held-out error falls (:data:`STALL_DEGREES`
    degrees in a row that do not lower it end the search), keeping those that
    are exact (held-out mean squared error at most ``exact_mse``); always while
    the features number at most :data:`MAX_AUTO_FEATURES` and there are
    :data:`MIN_ROWS_PER_COEF` training rows per coefficient. Each picks its
    ridge penalty from :data:`ALPHAS` (and, where it is exact at the smallest, from
    :data:`EXACT_ALPHAS`, kept if the held-out error falls) by
    leave-one-out (``RidgeCV``) on at most :data:`SEARCH_ROWS` training rows,
    and is refitted on all of them by ``Ridge`` at that penalty (what
    :func:`make_base` of its kind builds). With a ``deadline``, no degree above
    1 is started that :func:`would_overrun` it.

    Parameters
    ----------
    X, y : ndarray
        Training rows (standardised inputs, 2-D standardised targets).
    X_valid, y_valid : ndarray
        Held-out rows.
    sample_weight, valid_weight : ndarray of shape (n,) or None
    exact_mse : float, default=0.0
        The held-out mean squared error at or below which a polynomial is
        exact: above :data:`MAX_AUTO_DEGREE` only exact ones are kept, and
        one exact at the smallest penalty of :data:`ALPHAS` tries
        :data:`EXACT_ALPHAS`.
    deadline : float or None, default=None
        A :func:`time.monotonic` time. The mean and the linear model are always
        fitted; a higher degree only if it is predicted to end before it.

    Returns
    -------
    candidates : dict of str to (model, float)
        For each kind (``"none"``, ``"linear"``, ``"poly2"``, ...), in
        increasing degree: the fitted model (None for ``"none"``, whose
        prediction is the weighted mean of ``y``) and its held-out mean squared
        error.
    """
    n_train, n_features = X.shape
    some = spaced_rows(n_train, SEARCH_ROWS)
    data = (X, y, X_valid, y_valid, sample_weight, valid_weight, some)
    candidates = {}
    best, stalled = math.inf, 0
    last = (0.0, 1)  # seconds and coefficients of the last degree fitted
    for degree in range(MAX_EXACT_DEGREE + 1):
        n_coef = n_base_features(n_features, degree) + 1
        if degree > 0 and (
            _too_wide(n_coef, n_features) or n_train < MIN_ROWS_PER_COEF * n_coef
        ):
            break
        if degree > MAX_AUTO_DEGREE and stalled >= STALL_DEGREES:
            break
        if degree > 1 and would_overrun(deadline, *last, n_coef):
            break
        kind = _kind(degree)
        began = time.monotonic()
        if degree == 0:
            model = None
            pred = np.zeros_like(y_valid) + np.average(y, axis=0, weights=sample_weight)
            score = held_out_mse(pred, y_valid, valid_weight)
        else:
            model, score, alpha = _ridge_polynomial(kind, ALPHAS, data)
            if score <= exact_mse and alpha == ALPHAS[0]:
                finer, finer_score, _ = _ridge_polynomial(kind, EXACT_ALPHAS, data)
                if finer_score < score:
                    model, score = finer, finer_score
        last = (time.monotonic() - began, n_coef)
        stalled = 0 if score < best else stalled + 1
        best = min(best, score)
        if degree <= MAX_AUTO_DEGREE or score <= exact_mse:
            candidates[kind] = (model, score)
    return candidates


#: Degrees in a row without a lower error that end a search for the best
#: degree (an odd or even function gains nothing from every other degree).
STALL_DEGREES = 2

#: :func:`exact_polynomial` tries a degree while the rows outnumber its
#: coefficients by at least this: each leave-one-out fit has a row to spare, so
#: predicting every left-out row to rounding is a test, not an interpolation.
LOO_SPARE_ROWS = 2


def exact_polynomial(X, y, *, sample_weight=None, exact_mse):
    """The lowest-degree polynomial that is exact by leave-one-out, or None.

    For fits without held-out rows (too few to hold any out): each degree up
    to :data:`MAX_EXACT_DEGREE` (within :data:`MAX_AUTO_FEATURES`) while there
    are at least :data:`LOO_SPARE_ROWS` more rows than coefficients (each
    left-out row is then predicted by a fit with a row to spare) picks its
    ridge penalty from :data:`EXACT_ALPHAS` and :data:`ALPHAS` by
    leave-one-out (``RidgeCV``) on every row; the first whose leave-one-out
    mean squared error is at most ``exact_mse`` is refitted at that penalty
    (what :func:`make_base` of its kind builds).

    Returns
    -------
    found : (str, Pipeline) or None
        The kind (``"linear"``, ``"poly2"``, ...) and the fitted model.
    """
    for kind, search, mse, _ in _loo_searches(X, y, sample_weight):
        if mse <= exact_mse:
            return kind, _refit_at_penalty(kind, search, X, y, sample_weight)
    return None


def loo_polynomial(X, y, *, sample_weight=None):
    """The simplest polynomial as good as the best by leave-one-out, or None.

    The degrees and penalties of :func:`exact_polynomial`, searched until the
    leave-one-out mean squared error has not fallen for
    :data:`STALL_DEGREES` degrees in a row. The lowest degree whose error is
    within one standard error of the lowest (the rows' leave-one-out errors
    scatter; the "one standard error" rule of Breiman et al., 1984) is
    refitted at its penalty on every row: on few noisy rows of a line a
    quadratic often wins by chance. The linear model is tried whatever the
    rows (the penalty stands in for the rows its coefficients lack, as with
    more inputs than rows); None with fewer than 3 rows.

    Returns
    -------
    found : (str, Pipeline, float) or None
        The kind, the fitted model and its leave-one-out MSE.
    """
    if len(X) < 3:
        return None
    tried, best = [], 0
    for found in _loo_searches(X, y, sample_weight, any_line=True):
        tried.append(found)  # the line always is: never empty
        best = min(range(len(tried)), key=lambda i: tried[i][2])
        if len(tried) - 1 - best >= STALL_DEGREES:
            break
    errors = tried[best][3]
    within = tried[best][2] + np.std(errors, ddof=1) / np.sqrt(len(errors))
    kind, search, mse, _ = next(found for found in tried if found[2] <= within)
    return kind, _refit_at_penalty(kind, search, X, y, sample_weight), mse


def _loo_searches(X, y, sample_weight, any_line=False):
    """``(kind, fitted RidgeCV search, leave-one-out MSE, each row's squared
    leave-one-out error)`` for each degree the rows allow (see
    :func:`exact_polynomial`; ``any_line``: the linear model whatever the
    rows), lowest first; the errors at the penalty chosen, averaged over the
    outputs."""
    from ._compat import RidgeCV

    n_train, n_features = X.shape
    alphas = EXACT_ALPHAS + ALPHAS
    for degree in range(1, MAX_EXACT_DEGREE + 1):
        n_coef = n_base_features(n_features, degree) + 1
        short = n_train < n_coef + LOO_SPARE_ROWS and not (any_line and degree == 1)
        if _too_wide(n_coef, n_features) or short:
            return
        kind = _kind(degree)
        ridge = RidgeCV(alphas=alphas, gcv_mode="svd", store_cv_results=True)
        search = fit_weighted(make_base(kind, ridge=ridge), X, y, sample_weight)
        results = _ridge(search).cv_results_.reshape(n_train, -1, len(alphas))
        at = alphas.index(_alpha(search))
        yield kind, search, -_ridge(search).best_score_, results[:, :, at].mean(1)


def _refit_at_penalty(kind, search, X, y, sample_weight):
    """The base of ``kind`` refitted at the penalty ``search`` picked."""
    return fit_weighted(make_base(kind, _alpha(search)), X, y, sample_weight)


def would_overrun(deadline, seconds, size, next_size):
    """Whether a least-squares fit of ``next_size`` coefficients would end
    after ``deadline`` (a :func:`time.monotonic` time; None: never).

    Its time is predicted in proportion to the coefficients from the last
    fit's, ``seconds`` for ``size`` (between the cost of building the
    features, rows x coefficients, and of solving, rows x coefficients
    squared; on formula5's 80,000 training rows the next degree took 0.9-1.2
    times this prediction).
    """
    if deadline is None:
        return False
    return time.monotonic() + seconds * next_size / size > deadline


def _too_wide(n_coef, n_features):
    """Whether ``n_coef`` coefficients (bias included) pass
    :data:`MAX_AUTO_FEATURES` features (never for the linear model)."""
    return n_coef - 1 > max(MAX_AUTO_FEATURES, n_features)


def _ridge_polynomial(kind, alphas, data):
    """``(model, held-out MSE, penalty)`` of polynomial ``kind`` at the penalty
    of ``alphas`` leave-one-out picks on the search rows, refitted on every row.

    ``data``: ``(X, y, X_valid, y_valid, sample_weight, valid_weight, some)``.
    """
    from ._compat import RidgeCV

    X, y, X_valid, y_valid, sample_weight, valid_weight, some = data
    w_some = None if sample_weight is None else sample_weight[some]
    search = make_base(kind, ridge=RidgeCV(alphas=alphas, gcv_mode="svd"))
    fit_weighted(search, X[some], y[some], w_some)
    alpha = _alpha(search)
    model = fit_weighted(make_base(kind, alpha), X, y, sample_weight)
    pred = model.predict(X_valid).reshape(y_valid.shape)
    return model, held_out_mse(pred, y_valid, valid_weight), alpha


def held_out_mse(pred, y_valid, valid_weight=None):
    """Mean squared error of predictions ``pred`` of ``y_valid``, weighted by
    row, averaged over outputs; inf if not finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        err = np.average((pred - y_valid) ** 2, axis=0, weights=valid_weight)
    return float(np.mean(err)) if np.isfinite(err).all() else math.inf


def best_candidate(candidates, max_degree=None):
    """The kind of the lowest degree within :data:`DEGREE_TOLERANCE` of the best.

    Only kinds up to ``max_degree`` compete (all for None): a higher degree must
    earn its extrapolation risk.
    """
    allowed = {
        kind: score
        for i, (kind, (_, score)) in enumerate(candidates.items())
        if max_degree is None or i <= max_degree
    }
    best = min(allowed.values())
    return next(k for k, v in allowed.items() if v <= DEGREE_TOLERANCE * best)


def spaced_rows(n_rows, most):
    """Indices of at most ``most`` of ``n_rows`` rows, evenly spaced, in order.

    All rows (a slice) when there are no more than ``most``.

    Examples
    --------
    >>> spaced_rows(10, 4)
    array([0, 3, 6, 9])
    >>> spaced_rows(3, 4)
    slice(None, None, None)
    """
    if n_rows <= most:
        return slice(None)
    return np.unique(np.linspace(0, n_rows - 1, most, dtype=int))


def fit_weighted(model, X, y=None, sample_weight=None):
    """Fit ``model`` (an estimator or a Pipeline) with row weights; the model.

    Each step of a Pipeline whose ``fit`` takes ``sample_weight`` gets it
    (the scalers and the ridge model); the steps are fitted one by one, so
    this works whether scikit-learn's metadata routing is enabled or not.
    """
    steps = model.steps if hasattr(model, "steps") else [(None, model)]
    for i, (_, step) in enumerate(steps):
        kwargs = {}
        if sample_weight is not None and has_fit_parameter(step, "sample_weight"):
            kwargs["sample_weight"] = sample_weight
        if i < len(steps) - 1:
            X = step.fit(X, y, **kwargs).transform(X)
        else:
            step.fit(X, y, **kwargs)
    return model


def _ridge(model):
    """The ridge model of ``model``: its last step, or itself."""
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _alpha(model):
    return float(_ridge(model).alpha_)


def make_base(kind, alpha=1e-6, *, ridge=None):
    """The closed-form model the network's residual is measured against.

    ``NNRegressor(base=...)`` fits this ridge model first, in float64 on the
    transformed inputs, and trains the network on what it leaves. A linear base
    makes identity maps and linear trends exact; a polynomial base keeps
    polynomial behaviour outside the training data, where a network on its own
    extrapolates roughly linearly (``base="poly2"`` fits ``y = x**2`` on
    [-4, 4] from data on [-2, 2]).

    Parameters
    ----------
    kind : {"linear", "poly2", "poly3", ..., "none", "power", "laurent"}
        ``"none"`` returns None; ``"polyN"`` is degree N; ``"power"`` an
        unfitted :class:`PowerLaw`, ``"laurent"`` an unfitted
        :class:`LaurentPolynomial`.
    alpha : float, default=1e-6
        Ridge penalty on standardised features; small, only to keep collinear
        columns solvable.
    ridge : sklearn regressor or None, default=None
        The linear model instead of ``Ridge(alpha=alpha)``.

    Returns
    -------
    base : sklearn estimator or None
    """
    from sklearn.linear_model import Ridge

    ridge = Ridge(alpha=alpha) if ridge is None else ridge
    if kind == "none":
        return None
    if kind == "power":
        return PowerLaw()  # fitted by NNRegressor, which knows the input units
    if kind == "laurent":
        return LaurentPolynomial()  # likewise
    if kind == "linear":
        return ridge
    if kind.startswith("poly") and kind[4:].isdigit() and int(kind[4:]) >= 2:
        return poly_ridge(int(kind[4:]), ridge)
    raise ValueError(f"base must be one of {BASES}; got {kind!r}.")


def degree_of(base):
    """Polynomial degree of a base of :func:`make_base` (0 for None)."""
    if base is None:
        return 0
    return base.named_steps["poly"].degree if hasattr(base, "named_steps") else 1


def _monomial_coefficients(base, n_terms, n_outputs):
    """``(intercept, coef)`` of ``base`` on the raw monomials, per output.

    The monomials are those of ``PolynomialFeatures`` (bias excluded), whose
    order is by degree: a lower degree's features are the first ones of a
    higher degree's, and degree 1's are the input columns (the linear base's).
    """
    intercept = np.zeros(n_outputs)
    coef = np.zeros((n_outputs, n_terms))
    if base is None:
        return intercept, coef
    if hasattr(base, "named_steps"):
        scale, ridge = base.named_steps["scale"], base.named_steps["ridge"]
        own = np.reshape(ridge.coef_, (n_outputs, -1)) / scale.scale_
        intercept += np.reshape(ridge.intercept_, n_outputs) - own @ scale.mean_
    else:
        own = np.reshape(base.coef_, (n_outputs, -1))
        intercept += np.reshape(base.intercept_, n_outputs)
    coef[:, : own.shape[1]] = own
    return intercept, coef


def blend_bases(first, second, weight):
    """One base predicting ``weight * first + (1 - weight) * second``, per output.

    Both are fitted bases of :func:`make_base` on the same inputs (None, the
    linear ridge model or a polynomial pipeline): the blend is a polynomial of
    the higher degree, built from their coefficients, not refitted.

    Parameters
    ----------
    first, second : fitted base or None
    weight : ndarray of shape (n_outputs,)
        Weight of ``first`` for each output.

    Returns
    -------
    kind : str
        The blend's kind (``"none"``, ``"linear"``, ``"poly3"``, ...).
    base : fitted base or None
        None when both are None (a zero prediction).
    """
    import copy

    weight = np.asarray(weight, dtype=np.float64)
    first_degree, second_degree = degree_of(first), degree_of(second)
    degree = max(first_degree, second_degree)
    if degree == 0:
        return "none", None
    base = copy.deepcopy(first if first_degree == degree else second)
    ridge = base.named_steps["ridge"] if degree > 1 else base
    b1, c1 = _monomial_coefficients(first, ridge.coef_.shape[-1], len(weight))
    b2, c2 = _monomial_coefficients(second, ridge.coef_.shape[-1], len(weight))
    intercept = weight * b1 + (1 - weight) * b2
    coef = weight[:, None] * c1 + (1 - weight)[:, None] * c2
    if degree > 1:  # back to the template's scaled polynomial features
        scale = base.named_steps["scale"]
        intercept = intercept + coef @ scale.mean_
        coef = coef * scale.scale_
    ridge.coef_ = coef.reshape(np.shape(ridge.coef_))
    ridge.intercept_ = intercept.reshape(np.shape(ridge.intercept_))
    return _kind(degree), base


class _PositiveInputs:
    """The units of the models of positive inputs, and their logs.

    :class:`PowerLaw` and :class:`LaurentPolynomial` take and return the units
    :class:`~sknnfit.NNRegressor`'s bases see: column ``j`` of ``X`` is ``(x_j -
    x_offset[j]) / x_scale[j]``, or that of ``log(x_j)`` where ``logged[j]``;
    the prediction is ``(y - y_offset) / y_scale``.
    """

    #: The model, as the messages name it.
    _WHAT = "a model of positive inputs"

    def _raw_rows(self, X, y2, sample_weight):
        """Set the units, ``x_floor_`` and ``n_features_in_``.

        Returns the raw inputs and targets of the rows of weight > 0, and the
        index of those rows.
        """
        n, m = X.shape[1], y2.shape[1]

        def given(value, default, size):
            return np.full(size, default) if value is None else np.asarray(value)

        self.x_offset_ = given(self.x_offset, 0.0, n).astype(np.float64)
        self.x_scale_ = given(self.x_scale, 1.0, n).astype(np.float64)
        self.logged_ = given(self.logged, False, n).astype(bool)
        self.y_offset_ = given(self.y_offset, 0.0, m).astype(np.float64)
        self.y_scale_ = given(self.y_scale, 1.0, m).astype(np.float64)
        keep = slice(None) if sample_weight is None else np.asarray(sample_weight) > 0
        x = X[keep] * self.x_scale_ + self.x_offset_
        bad = np.flatnonzero(~self.logged_ & ~(x > 0).all(axis=0))
        if bad.size:
            raise ValueError(
                f"{self._WHAT[0].upper()}{self._WHAT[1:]} needs inputs > 0; "
                f"column(s) {bad.tolist()} hold values <= 0."
            )
        self.x_floor_ = np.where(self.logged_, -np.inf, x.min(axis=0))
        self.n_features_in_ = n
        return x, y2[keep] * self.y_scale_ + self.y_offset_, keep

    def _logs(self, X):
        x = X * self.x_scale_ + self.x_offset_
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.logged_, x, np.log(np.where(x > 0, x, self.x_floor_)))

    def _warn_not_positive(self, X):
        """Warn where an input that is not logged is <= 0 (its log is floored)."""
        low = ~self.logged_ & (X * self.x_scale_ + self.x_offset_ <= 0).any(axis=0)
        if low.any():
            warnings.warn(
                f"Column(s) {np.flatnonzero(low).tolist()} were > 0 in training, "
                f"where the model is {self._WHAT} of them, but hold values <= 0 "
                "here: those were taken as the column's training minimum.",
                ExtrapolationWarning,
                stacklevel=4,  # predict, _inference.predict, NNRegressor.predict
            )


class PowerLaw(_PositiveInputs, RegressorMixin, BaseEstimator):
    """``y = sign * exp(intercept + coef @ log(x))``: a product of powers of ``x``.

    What a careful curve-fitter tries on a log-log plot: a formula such as
    ``q * v * B / p`` or ``sqrt(gamma * pr / rho)`` is a straight line in the
    logs of its positive inputs and target, so least squares on the logs finds
    it to rounding, where polynomials and networks only approximate it.

    It takes and returns the units :class:`~sknnfit.NNRegressor`'s bases see:
    column ``j`` of ``X`` is ``(x_j - x_offset[j]) / x_scale[j]``, or that of
    ``log(x_j)`` where ``logged[j]``; the prediction is ``(y - y_offset) /
    y_scale``. Every input that is not logged must be positive in ``fit``, and
    each target column of one strict sign, but for noise: with ``refine``, rows
    of the other sign are fitted too (the fit on the logs, where the steps
    start, takes those of the sign of most of the weight). A value <= 0 in
    ``predict`` is taken as its column's training minimum (the prediction is
    outside the training box, which :class:`~sknnfit.NNRegressor` warns
    about).

    Parameters
    ----------
    x_offset, x_scale : array-like of shape (n_features,) or None
        The input columns' affine map (None: 0 and 1).
    logged : array-like of bool of shape (n_features,) or None
        Columns that hold ``log(x)`` already (None: none).
    y_offset, y_scale : array-like of shape (n_outputs,) or None
        The target's affine map (None: 0 and 1).
    refine : bool, default=True
        Least squares of ``y`` itself, from that of ``log|y|`` (see ``fit``);
        False keeps the fit on the logs, the better one for noise that
        multiplies ``y``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_outputs, n_features)
        The exponents.
    intercept_, sign_ : ndarray of shape (n_outputs,)
        The log of the factor, and the target's sign.
    x_offset_, x_scale_, logged_, x_floor_ : ndarray of shape (n_features,)
        The input map as fitted, and each column's training minimum.
    y_offset_, y_scale_ : ndarray of shape (n_outputs,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).uniform(1, 5, size=(50, 2))
    >>> law = PowerLaw().fit(X, 3 * X[:, 0] ** 2 / np.sqrt(X[:, 1]))
    >>> np.round(law.coef_, 6), np.round(np.exp(law.intercept_), 6)
    (array([[ 2. , -0.5]]), array([3.]))
    """

    _WHAT = "a power law"

    def __init__(
        self,
        x_offset=None,
        x_scale=None,
        logged=None,
        y_offset=None,
        y_scale=None,
        *,
        refine=True,
    ):
        self.x_offset = x_offset
        self.x_scale = x_scale
        self.logged = logged
        self.y_offset = y_offset
        self.y_scale = y_scale
        self.refine = refine

    def fit(self, X, y, sample_weight=None):
        """Least squares of ``y`` by Gauss-Newton steps from that of ``log|y|``.

        The fit on the logs finds an exact power law to rounding; the steps
        from there (``refine``) minimise the squared error of ``y`` itself (the
        estimate for noise added to ``y``, which the logs of small values
        magnify).

        Raises
        ------
        ValueError
            If an input that is not logged holds a value <= 0, or a target
            column holds both signs or a 0 (with ``refine``: if no more than
            ``n_features`` rows have the sign of most of the weight).
        """
        X = np.asarray(X, dtype=np.float64)
        y2 = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
        n, m = X.shape[1], y2.shape[1]
        x, raw, keep = self._raw_rows(X, y2, sample_weight)
        root = np.ones(len(x))
        if sample_weight is not None:
            root = np.sqrt(np.asarray(sample_weight, dtype=np.float64)[keep])
        # The sign of most of the weight; the rows of the other sign (noise
        # around a power law near 0) only the steps on y itself can use.
        sign = np.where(
            np.sum(root[:, None] ** 2 * np.sign(raw), axis=0) < 0, -1.0, 1.0
        )
        agree = raw * sign > 0
        enough = agree.sum(axis=0) > n
        if not (agree.all() or (self.refine and enough.all())):
            raise ValueError(
                "A power law needs each target column of one strict sign (with "
                f"refine=True, more than {n} rows of the sign of most of them); "
                "some hold both signs or a 0."
            )
        self.sign_ = sign
        # A law of a few exponents needs no more rows: evenly spaced ones.
        some = spaced_rows(len(x), POWER_LAW_ROWS)
        logs = self._logs(X[keep][some])
        design = np.hstack([np.ones((len(logs), 1)), logs])
        raw, root, agree = raw[some], root[some], agree[some]
        solution = np.empty((n + 1, m))
        for j in range(m):
            rows = agree[:, j]
            solution[:, j] = np.linalg.lstsq(
                design[rows] * root[rows, None],
                np.log(raw[rows, j] * sign[j]) * root[rows],
                rcond=None,
            )[0]
            if self.refine:
                solution[:, j] = _gauss_newton(
                    design, raw[:, j] * sign[j], root, solution[:, j]
                )
        self.intercept_, self.coef_ = solution[0], solution[1:].T
        return self

    def predict(self, X):
        """The power law in the target's units of ``fit``, 2-D.

        Warns (:class:`~sknnfit.exceptions.ExtrapolationWarning`) where an
        input that is not logged is <= 0, and takes it as the training minimum.
        """
        X = np.asarray(X, dtype=np.float64)
        self._warn_not_positive(X)
        with np.errstate(over="ignore", invalid="ignore"):
            raw = self.sign_ * np.exp(self.intercept_ + self._logs(X) @ self.coef_.T)
            return (raw - self.y_offset_) / self.y_scale_


#: PowerLaw.fit fits at most this many rows (evenly spaced): a law of a few
#: exponents needs far fewer (its variance falls as 1 / rows), an exact one
#: is found on any of them, and steep25x19's 160,000 rows x 19 outputs took
#: 16 s with all of them.
POWER_LAW_ROWS = 20_000

#: PowerLaw.fit takes at most this many Gauss-Newton steps per output.
GAUSS_NEWTON_STEPS = 30


def _gauss_newton(design, target, root, theta):
    """``theta`` minimising ``sum((root * (target - exp(design @ theta)))**2)``.

    Each step solves the linearised least squares and is halved until the
    error falls (at most 10 times); it stops when a step gains less than 1e-8
    of the error, or where the step cannot be computed in float64.
    """

    def error(th):
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(np.sum((root * (target - np.exp(design @ th))) ** 2))
        return value if np.isfinite(value) else math.inf

    current = error(theta)
    for _ in range(GAUSS_NEWTON_STEPS):
        with np.errstate(over="ignore", invalid="ignore"):
            pred = np.exp(design @ theta)
            jacobian = (root * pred)[:, None] * design
            # The normal equations: a few columns, and each step is checked
            # below.
            gram = jacobian.T @ jacobian
            rhs = jacobian.T @ (root * (target - pred))
        if not (np.isfinite(gram).all() and np.isfinite(rhs).all()):
            break  # values beyond float64: keep the last finite fit
        try:
            step = np.linalg.lstsq(gram, rhs, rcond=None)[0]
        except np.linalg.LinAlgError:
            break
        for halving in range(10):
            candidate = theta + step * 0.5**halving
            new = error(candidate)
            if new < current:
                break
        else:
            break
        gain = current - new
        theta, current = candidate, new
        if gain <= 1e-8 * current:
            break
    return theta


#: A :class:`LaurentPolynomial`'s exponent of each input lies in
#: [-LAURENT_MAX_POWER, LAURENT_MAX_POWER]: the powers of physical formulas.
LAURENT_MAX_POWER = 2

#: LaurentPolynomial.fit solves on at most this many rows (evenly spaced): an
#: exact sum of products is found on any of them, and its least squares costs
#: rows x terms**2 (20,000 x 1,173 terms: 2 s on two cores).
LAURENT_ROWS = 20_000

#: LaurentPolynomial.fit refuses more products than this: its design matrix of
#: LAURENT_ROWS rows would take over 3 GB.
LAURENT_MOST_PRODUCTS = 20_000


def n_monomials(n_features, degree, max_power=LAURENT_MAX_POWER):
    """How many exponent vectors :func:`monomial_exponents` gives, without them.

    Examples
    --------
    >>> n_monomials(5, 5)
    1173
    """
    # Each column adds 0 (one way) or +-p (two ways) to the total degree.
    counts = np.zeros(degree + 1, dtype=np.int64)
    counts[0] = 1
    for _ in range(n_features):
        new = counts.copy()
        for power in range(1, max_power + 1):
            new[power:] += 2 * counts[: degree + 1 - power]
        counts = new
    return int(counts.sum())


def monomial_exponents(n_features, degree, max_power=LAURENT_MAX_POWER):
    """Integer exponent vectors ``p``: ``|p_j| <= max_power``, ``sum |p_j| <= degree``.

    Rows in increasing total degree, the zero vector (the constant term) first.

    Examples
    --------
    >>> monomial_exponents(2, 1)
    array([[ 0.,  0.],
           [-1.,  0.],
           [ 0., -1.],
           [ 0.,  1.],
           [ 1.,  0.]])
    """
    from itertools import combinations, product

    nonzero = [p for p in range(-max_power, max_power + 1) if p != 0]
    rows = [np.zeros(n_features, dtype=np.int64)]
    # Chosen by support, so the work follows the count, not n_features**degree.
    for k in range(1, min(degree, n_features) + 1):
        powers = [p for p in product(nonzero, repeat=k) if sum(map(abs, p)) <= degree]
        for columns in combinations(range(n_features), k):
            for p in powers:
                row = np.zeros(n_features, dtype=np.int64)
                row[list(columns)] = p
                rows.append(row)
    vectors = np.array(rows)
    order = np.lexsort((*vectors.T[::-1], np.abs(vectors).sum(axis=1)))
    return vectors[order].astype(np.float64)


class LaurentPolynomial(_PositiveInputs, RegressorMixin, BaseEstimator):
    """``y = sum_k c_k * prod_j x_j ** p_kj``: small powers of ``x`` and ``1/x``.

    What a careful curve-fitter tries after a power law: many physical formulas
    are a sum of a few such products (``kappa * (T2 - T1) * A / d``,
    ``x5 / x2 - (x1 - x2) / (2 * x3 * x4) * x2 / x1``), which a polynomial and
    a network only approximate. Least squares on every product of total degree
    (the sum of ``|p_kj|``) at most ``degree``, each power between
    -:data:`LAURENT_MAX_POWER` and :data:`LAURENT_MAX_POWER`, finds such a sum to
    rounding; on noisy data it has many coefficients, and held-out rows tell
    whether it is worth them.

    It takes and returns the units :class:`PowerLaw` does (``x_offset``,
    ``x_scale``, ``logged``, ``y_offset``, ``y_scale``); every input that is
    not logged must be positive in ``fit``. A value <= 0 in ``predict`` is
    taken as its column's training minimum, with an
    :class:`~sknnfit.exceptions.ExtrapolationWarning`.

    Parameters
    ----------
    degree : int, default=2
        The largest total degree of a product.
    x_offset, x_scale : array-like of shape (n_features,) or None
        The input columns' affine map (None: 0 and 1).
    logged : array-like of bool of shape (n_features,) or None
        Columns that hold ``log(x)`` already (None: none).
    y_offset, y_scale : array-like of shape (n_outputs,) or None
        The target's affine map (None: 0 and 1).

    Attributes
    ----------
    exponents_ : ndarray of shape (n_terms, n_features)
        The powers of each product (:func:`monomial_exponents`).
    log_centre_ : ndarray of shape (n_features,)
        The mean log of each input: the products are of ``x / exp(log_centre_)``,
        so that none overflows where a power law's would not.
    coef_ : ndarray of shape (n_outputs, n_terms)
        The coefficients of the products.
    x_offset_, x_scale_, logged_, x_floor_ : ndarray of shape (n_features,)
        The input map as fitted, and each column's training minimum.
    y_offset_, y_scale_ : ndarray of shape (n_outputs,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).uniform(1, 5, size=(200, 3))
    >>> y = X[:, 0] * (X[:, 1] - X[:, 2]) / X[:, 2] ** 2
    >>> model = LaurentPolynomial(degree=4).fit(X, y)
    >>> bool(np.abs(model.predict(X).ravel() - y).max() < 1e-9)
    True
    """

    _WHAT = "a Laurent polynomial"

    def __init__(
        self,
        degree=2,
        x_offset=None,
        x_scale=None,
        logged=None,
        y_offset=None,
        y_scale=None,
    ):
        self.degree = degree
        self.x_offset = x_offset
        self.x_scale = x_scale
        self.logged = logged
        self.y_offset = y_offset
        self.y_scale = y_scale

    def fit(self, X, y, sample_weight=None):
        """Least squares of ``y`` on the products, on at most :data:`LAURENT_ROWS` rows.

        The minimum-norm solution by SVD (``numpy.linalg.lstsq``), with each
        product scaled to unit root mean square: an exact sum is found to
        rounding however collinear the products are, where a ridge penalty,
        however small, would blur it. With fewer rows than products it
        interpolates them; :class:`~sknnfit.NNRegressor` tries a degree only
        with several rows per product, and judges it on held-out rows.

        Raises
        ------
        ValueError
            If an input that is not logged holds a value <= 0, the inputs span
            so many decades that a product overflows float64, or there are more
            than :data:`LAURENT_MOST_PRODUCTS` products.
        """
        X = np.asarray(X, dtype=np.float64)
        y2 = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
        products = n_monomials(X.shape[1], self.degree)
        if products > LAURENT_MOST_PRODUCTS:
            raise ValueError(
                f"A Laurent polynomial of degree {self.degree} in {X.shape[1]} "
                f"inputs has {products} products, more than the "
                f"{LAURENT_MOST_PRODUCTS} it fits; lower the degree."
            )
        _, raw, keep = self._raw_rows(X, y2, sample_weight)
        some = spaced_rows(len(raw), LAURENT_ROWS)
        logs = self._logs(X[keep][some])
        self.log_centre_ = logs.mean(axis=0)
        self.exponents_ = monomial_exponents(X.shape[1], self.degree)
        design = self._products(logs)
        with np.errstate(over="ignore", invalid="ignore"):
            scale = np.sqrt(np.mean(design**2, axis=0))
        if not (np.isfinite(scale).all() and (scale > 0).all()):
            raise ValueError(
                f"The inputs span too many decades for a Laurent polynomial of "
                f"degree {self.degree}: its products overflow float64."
            )
        root = np.ones((len(design), 1))
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)[keep][some]
            root = np.sqrt(w)[:, None]
        coef = np.linalg.lstsq(design / scale * root, raw[some] * root, rcond=None)[0]
        self.coef_ = (coef / scale[:, None]).T
        return self

    def _products(self, logs):
        with np.errstate(over="ignore", invalid="ignore"):
            return np.exp((logs - self.log_centre_) @ self.exponents_.T)

    def predict(self, X):
        """The sum of products in the target's units of ``fit``, 2-D.

        Warns (:class:`~sknnfit.exceptions.ExtrapolationWarning`) where an
        input that is not logged is <= 0, and takes it as the training minimum.
        """
        X = np.asarray(X, dtype=np.float64)
        self._warn_not_positive(X)
        with np.errstate(over="ignore", invalid="ignore"):
            raw = self._products(self._logs(X)) @ self.coef_.T
            return (raw - self.y_offset_) / self.y_scale_
