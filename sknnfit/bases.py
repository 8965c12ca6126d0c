"""The closed-form bases: ridge regression on the inputs or their polynomials.

:class:`~sknnfit.NNRegressor` fits one of these first and trains its network on
what it leaves; the ``poly`` baseline of the benchmark harness is the same
pipeline with a cross-validated penalty (:func:`poly_ridge` builds both).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.utils.validation import has_fit_parameter

BASES = ("auto", "linear", "poly2", "poly3", "none")

#: base="auto" needs this many training rows per base coefficient.
ROWS_PER_COEF = 20

#: base="auto" with held-out rows tries polynomial degrees up to this ...
MAX_AUTO_DEGREE = 8

#: ... whose features (bias excluded) number at most this, as the poly baseline.
MAX_AUTO_FEATURES = 500

#: ... and leave at least this many training rows per coefficient.
MIN_ROWS_PER_COEF = 3

#: Ridge penalties tried on the standardised features (leave-one-out).
ALPHAS = tuple(10.0**k for k in range(-8, 4))

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
    X, y, X_valid, y_valid, *, sample_weight=None, valid_weight=None
):
    """Fit the mean, the linear model and polynomials; score them on held-out rows.

    Degrees go up to :data:`MAX_AUTO_DEGREE`, while the features number at most
    :data:`MAX_AUTO_FEATURES` and there are :data:`MIN_ROWS_PER_COEF` training
    rows per coefficient. Each picks its ridge penalty from :data:`ALPHAS` by
    leave-one-out on the training rows (``RidgeCV``), and is refitted by
    ``Ridge`` at that penalty (what :func:`make_base` of its kind builds).

    Parameters
    ----------
    X, y : ndarray
        Training rows (standardised inputs, 2-D standardised targets).
    X_valid, y_valid : ndarray
        Held-out rows.
    sample_weight, valid_weight : ndarray of shape (n,) or None

    Returns
    -------
    candidates : dict of str to (model, float)
        For each kind (``"none"``, ``"linear"``, ``"poly2"``, ...), in
        increasing degree: the fitted model (None for ``"none"``, whose
        prediction is the weighted mean of ``y``) and its held-out mean squared
        error.
    """
    from ._compat import RidgeCV

    n_train, n_features = X.shape
    candidates = {}
    for degree in range(MAX_AUTO_DEGREE + 1):
        n_coef = n_base_features(n_features, degree) + 1
        if degree > 0 and (
            n_coef - 1 > max(MAX_AUTO_FEATURES, n_features)
            or n_train < MIN_ROWS_PER_COEF * n_coef
        ):
            break
        kind = _kind(degree)
        if degree == 0:
            model = None
            pred = np.zeros_like(y_valid) + np.average(y, axis=0, weights=sample_weight)
        else:
            search = make_base(kind, ridge=RidgeCV(alphas=ALPHAS, gcv_mode="svd"))
            fit_weighted(search, X, y, sample_weight)
            model = fit_weighted(make_base(kind, _alpha(search)), X, y, sample_weight)
            pred = model.predict(X_valid).reshape(y_valid.shape)
        with np.errstate(over="ignore", invalid="ignore"):
            err = np.average((pred - y_valid) ** 2, axis=0, weights=valid_weight)
        score = float(np.mean(err)) if np.isfinite(err).all() else math.inf
        candidates[kind] = (model, score)
    return candidates


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


def _alpha(model):
    ridge = model.steps[-1][1] if hasattr(model, "steps") else model
    return float(ridge.alpha_)


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
    kind : {"linear", "poly2", "poly3", ..., "none"}
        ``"none"`` returns None; ``"polyN"`` is degree N.
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
