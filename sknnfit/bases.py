"""The closed-form bases: ridge regression on the inputs or their polynomials.

:class:`~sknnfit.NNRegressor` fits one of these first and trains its network on
what it leaves; the ``poly`` baseline of the benchmark harness is the same
pipeline with a cross-validated penalty (:func:`poly_ridge` builds both).
"""

from __future__ import annotations

BASES = ("auto", "linear", "poly2", "poly3", "none")

#: base="auto" needs this many training rows per base coefficient.
ROWS_PER_COEF = 20


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

    return Pipeline(
        [
            ("poly", PolynomialFeatures(degree, include_bias=False)),
            ("scale", StandardScaler()),
            ("ridge", ridge),
        ]
    )


def make_base(kind, alpha=1e-6):
    """The closed-form model the network's residual is measured against.

    ``NNRegressor(base=...)`` fits this ridge model first, in float64 on the
    transformed inputs, and trains the network on what it leaves. A linear base
    makes identity maps and linear trends exact; a polynomial base keeps
    polynomial behaviour outside the training data, where a network on its own
    extrapolates roughly linearly (``base="poly2"`` fits ``y = x**2`` on
    [-4, 4] from data on [-2, 2]).

    Parameters
    ----------
    kind : {"linear", "poly2", "poly3", "none"}
        ``"none"`` returns None.
    alpha : float, default=1e-6
        Ridge penalty on standardised features; small, only to keep collinear
        columns solvable.

    Returns
    -------
    base : sklearn estimator or None
    """
    from sklearn.linear_model import Ridge

    if kind == "none":
        return None
    if kind == "linear":
        return Ridge(alpha=alpha)
    if kind in ("poly2", "poly3"):
        return poly_ridge(int(kind[-1]), Ridge(alpha=alpha))
    raise ValueError(f"base must be one of {BASES}; got {kind!r}.")
