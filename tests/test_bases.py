"""sknnfit.bases: which closed-form base "auto" means, and how each is built."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sknnfit.bases import (
    BASES,
    ROWS_PER_COEF,
    blend_bases,
    degree_of,
    fit_weighted,
    make_base,
    poly_ridge,
    resolve_base,
)

# ------------------------------------------------------------------ resolve_base


@pytest.mark.parametrize(
    ("n_samples", "n_features", "expected"),
    [
        # 3 features: 10 quadratic coefficients (3 + 6 + 1), 4 linear ones.
        (ROWS_PER_COEF * 10, 3, "poly2"),
        (ROWS_PER_COEF * 10 - 1, 3, "linear"),
        (ROWS_PER_COEF * 4, 3, "linear"),
        (ROWS_PER_COEF * 4 - 1, 3, "none"),
        # 1 feature: 3 quadratic coefficients, 2 linear ones.
        (60, 1, "poly2"),
        (40, 1, "linear"),
        (39, 1, "none"),
        (1, 25, "none"),
    ],
)
def test_auto_needs_enough_rows_per_coefficient(n_samples, n_features, expected):
    assert resolve_base("auto", n_samples, n_features) == expected


@pytest.mark.parametrize("kind", ["linear", "poly2", "poly3", "none"])
def test_explicit_bases_are_kept_whatever_the_size(kind):
    assert resolve_base(kind, n_samples=1, n_features=100) == kind
    assert resolve_base(kind, n_samples=10**6, n_features=1) == kind


# ------------------------------------------------------------------ make_base


def test_none_is_no_base():
    assert make_base("none") is None


def test_linear_is_a_ridge_with_the_given_penalty():
    base = make_base("linear", alpha=0.5)
    assert isinstance(base, Ridge) and base.alpha == 0.5
    assert make_base("linear").alpha == 1e-6


@pytest.mark.parametrize("kind", ["poly2", "poly3"])
def test_poly_bases_are_poly_ridge_pipelines_of_their_degree(kind):
    base = make_base(kind, alpha=1e-3)
    assert list(base.named_steps) == ["poly", "scale", "ridge"]
    assert base.named_steps["poly"].degree == int(kind[-1])
    assert base.named_steps["ridge"].alpha == 1e-3


def test_unknown_base_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"base must be one of .*'auto'.*got 'cubic'"):
        make_base("cubic")


def test_every_listed_base_but_auto_is_built():
    assert all(
        make_base(kind) is not None for kind in BASES if kind not in ("auto", "none")
    )


def test_each_base_fits_its_own_kind_of_function_exactly():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(200, 2))
    linear = 1.5 * X[:, 0] - X[:, 1] + 0.25
    square = X[:, 0] ** 2 - X[:, 0] * X[:, 1]
    cube = X[:, 0] ** 3
    assert make_base("linear").fit(X, linear).score(X, linear) > 1 - 1e-9
    assert make_base("linear").fit(X, square).score(X, square) < 0.5
    assert make_base("poly2").fit(X, square).score(X, square) > 1 - 1e-9
    assert make_base("poly2").fit(X, cube).score(X, cube) < 0.99
    assert make_base("poly3").fit(X, cube).score(X, cube) > 1 - 1e-9


# ------------------------------------------------------------------ poly_ridge


def test_poly_ridge_steps():
    ridge = RidgeCV()
    pipe = poly_ridge(3, ridge)
    poly, scale, last = (step for _, step in pipe.steps)
    assert isinstance(poly, PolynomialFeatures)
    assert poly.degree == 3 and poly.include_bias is False
    assert isinstance(scale, StandardScaler)
    assert last is ridge


def test_poly_ridge_scales_the_polynomial_features():
    X = np.linspace(1, 100, 50)[:, None]
    pipe = poly_ridge(2, Ridge(alpha=1e-6)).fit(X, X[:, 0] ** 2)
    features = pipe[:-1].transform(X)
    assert features.shape == (50, 2)  # x, x**2: no bias column
    np.testing.assert_allclose(features.std(axis=0), 1.0)


@pytest.mark.parametrize(
    "first, second, kind",
    [
        ("linear", "poly3", "poly3"),
        ("poly2", "poly5", "poly5"),
        ("poly4", "linear", "poly4"),
        ("none", "poly3", "poly3"),
        ("linear", "none", "linear"),
        ("poly3", "poly3", "poly3"),
    ],
)
def test_blend_predicts_the_weighted_sum_per_output(first, second, kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = np.c_[np.sin(X[:, 0]) + X[:, 1] ** 2, X[:, 2] ** 3 - X[:, 0]]
    a, b = make_base(first), make_base(second)
    for model in (a, b):
        if model is not None:
            fit_weighted(model, X, y)
    weight = np.array([0.3, 0.8])
    got_kind, blend = blend_bases(a, b, weight)
    assert got_kind == kind == f"poly{degree_of(blend)}".replace("poly1", "linear")

    def pred(model):
        return 0.0 if model is None else model.predict(X)

    expected = weight * pred(a) + (1 - weight) * pred(b)
    np.testing.assert_allclose(blend.predict(X), expected, rtol=0, atol=1e-12)
    # The inputs are left as they were.
    assert blend is not a and blend is not b


def test_blend_of_no_bases_is_no_base():
    assert blend_bases(None, None, np.array([0.5])) == ("none", None)
