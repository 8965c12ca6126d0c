"""sknnfit.bases: which closed-form base "auto" means, and how each is built."""

import time
import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sknnfit import bases
from sknnfit.bases import (
    ALPHAS,
    BASES,
    ROWS_PER_COEF,
    LaurentPolynomial,
    PowerLaw,
    blend_bases,
    degree_of,
    exact_polynomial,
    fit_weighted,
    loo_polynomial,
    make_base,
    monomial_exponents,
    n_monomials,
    poly_ridge,
    polynomial_candidates,
    resolve_base,
    spaced_rows,
    would_overrun,
)
from sknnfit.datasets import make_problem
from sknnfit.exceptions import ExtrapolationWarning

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


# ---------------------------------------------------------------------- PowerLaw


def _powers(n=300, seed=0):
    """Log-uniform positive inputs and two products of their powers, one < 0."""
    rng = np.random.default_rng(seed)
    X = np.exp(rng.uniform(-3.0, 3.0, size=(n, 3)))
    y = np.c_[2.5 * X[:, 0] ** 1.5 / X[:, 1], -np.sqrt(X[:, 2]) * X[:, 0]]
    return X, y


def test_power_law_finds_a_product_of_powers_to_rounding():
    X, y = _powers()
    law = PowerLaw().fit(X, y)
    np.testing.assert_allclose(
        law.coef_, [[1.5, -1.0, 0.0], [1.0, 0.0, 0.5]], atol=1e-9
    )
    np.testing.assert_allclose(np.exp(law.intercept_), [2.5, 1.0], rtol=1e-9)
    np.testing.assert_array_equal(law.sign_, [1.0, -1.0])
    X_new, y_new = _powers(seed=1)
    np.testing.assert_allclose(law.predict(X_new), y_new, rtol=1e-9)


def test_power_law_works_in_the_units_it_is_given():
    """Standardised inputs, a column given as its log, a standardised target."""
    X, y = _powers()
    raw = PowerLaw().fit(X, y)
    Z = X.copy()
    Z[:, 2] = np.log(Z[:, 2])
    mean, scale = Z.mean(axis=0), Z.std(axis=0)
    y_mean, y_scale = y.mean(axis=0), y.std(axis=0)
    law = PowerLaw(
        x_offset=mean,
        x_scale=scale,
        logged=[False, False, True],
        y_offset=y_mean,
        y_scale=y_scale,
    ).fit((Z - mean) / scale, (y - y_mean) / y_scale)
    np.testing.assert_allclose(law.coef_, raw.coef_, atol=1e-9)
    got = law.predict((Z - mean) / scale) * y_scale + y_mean
    np.testing.assert_allclose(got, y, rtol=1e-9)


def test_power_law_weights_rows():
    X, y = _powers()
    y = y[:, 0].copy()
    y[:10] *= 100.0  # rows that a weight of 0 leaves out
    w = np.r_[np.zeros(10), np.ones(len(y) - 10)]
    law = PowerLaw().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(law.coef_, [[1.5, -1.0, 0.0]], atol=1e-9)
    assert not np.allclose(PowerLaw().fit(X, y).coef_, law.coef_)


def test_power_law_refuses_what_it_cannot_take():
    X, y = _powers()
    bad_x = X.copy()
    bad_x[3, 1] = 0.0
    with pytest.raises(ValueError, match=r"inputs > 0; column\(s\) \[1\]"):
        PowerLaw().fit(bad_x, y)
    flipped = y[:, 0].copy()
    flipped[5] = -1.0
    with pytest.raises(ValueError, match="one strict sign"):
        PowerLaw(refine=False).fit(X, flipped)
    split = np.r_[1.0, 2.0, 3.0, 0.0, -1.0, -2.0, -3.0]  # 3 rows a sign, 3 inputs
    with pytest.raises(ValueError, match="more than 3 rows of the sign"):
        PowerLaw().fit(X[:7], split)


def test_power_law_steps_fit_noise_that_flips_the_sign_of_small_values():
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 5.0, size=(2000, 2))
    exact = X[:, 0] / X[:, 1] ** 2  # from 0.04 to 5
    y = exact + rng.normal(0.0, 0.1, size=len(X))
    assert (y < 0).sum() > 20
    law = PowerLaw().fit(X, y)
    np.testing.assert_allclose(law.coef_, [[1.0, -2.0]], atol=0.05)
    assert np.sqrt(np.mean((law.predict(X).ravel() - exact) ** 2)) < 0.01


def test_power_law_takes_values_at_or_below_zero_as_the_training_minimum():
    X, y = _powers()
    law = PowerLaw().fit(X, y)
    X_new = X[:2].copy()
    X_new[0, 0] = -1.0
    floor = X_new.copy()
    floor[0, 0] = X[:, 0].min()
    with pytest.warns(ExtrapolationWarning, match=r"Column\(s\) \[0\] were > 0"):
        got = law.predict(X_new)
    np.testing.assert_array_equal(got, law.predict(floor))


def test_make_base_builds_an_unfitted_power_law():
    assert type(make_base("power")) is PowerLaw


def test_gauss_newton_keeps_the_last_fit_where_float64_overflows():
    from sknnfit.bases import _gauss_newton

    rng = np.random.default_rng(0)
    design = np.c_[np.ones(50), rng.normal(size=50)]
    theta = np.array([460.0, 0.0])  # predicts about 1e200: its square overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning escapes either
        got = _gauss_newton(design, rng.normal(size=50), np.ones(50), theta)
    np.testing.assert_array_equal(got, theta)


# ------------------------------------------------------- polynomial_candidates


def test_spaced_rows_spread_over_all_rows_in_order():
    some = spaced_rows(1000, 10)
    assert len(some) == 10 and some[0] == 0 and some[-1] == 999
    assert np.all(np.diff(some) > 0)
    assert np.arange(5)[spaced_rows(5, 10)].tolist() == [0, 1, 2, 3, 4]


def test_candidates_search_the_penalty_on_spaced_rows_and_fit_all_rows(monkeypatch):
    from sknnfit import _compat

    monkeypatch.setattr(bases, "SEARCH_ROWS", 100)
    seen = []
    fit = _compat.RidgeCV.fit

    def spy(self, X, y, sample_weight=None, **params):
        seen.append(len(X))
        return fit(self, X, y, sample_weight=sample_weight, **params)

    monkeypatch.setattr(_compat.RidgeCV, "fit", spy)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2))
    y = (X @ [1.0, -2.0] + rng.normal(0.0, 3.0, size=3000))[:, None]
    candidates = polynomial_candidates(X, y, X[:500], y[:500])
    assert seen and set(seen) == {100}
    linear = candidates["linear"][0]
    some = spaced_rows(len(X), 100)
    search = RidgeCV(alphas=ALPHAS, gcv_mode="svd").fit(X[some], y[some])
    assert linear.alpha == search.alpha_
    on_all = Ridge(alpha=search.alpha_).fit(X, y)
    np.testing.assert_allclose(linear.coef_, on_all.coef_, rtol=1e-10)


def test_candidates_weigh_the_search_rows_too(monkeypatch):
    monkeypatch.setattr(bases, "SEARCH_ROWS", 300)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 2))
    y = (X @ [1.0, 2.0] + rng.normal(0.0, 0.1, size=2000))[:, None]
    w = np.ones(2000)
    w[::3] = 0.0  # rows of no weight, whose targets are wild
    y[::3] += rng.normal(0.0, 1e3, size=(len(y[::3]), 1))
    linear = polynomial_candidates(X, y, X[:100], y[:100], sample_weight=w)["linear"][0]
    some = spaced_rows(len(X), 300)
    search = RidgeCV(alphas=ALPHAS, gcv_mode="svd")
    search.fit(X[some], y[some], sample_weight=w[some])
    assert linear.alpha == search.alpha_
    np.testing.assert_allclose(np.ravel(linear.coef_), [1.0, 2.0], atol=0.02)


def _sin_rows(n, seed, noise=0.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-np.pi, np.pi, size=(n, 1))
    y = np.sin(x) + noise * rng.normal(size=(n, 1))
    return x / (np.pi / np.sqrt(3.0)), y * np.sqrt(2.0)  # about unit variance


def test_candidates_above_the_auto_degree_only_where_exact():
    X, y = _sin_rows(1000, 0)
    Xv, yv = _sin_rows(300, 1)
    exact = polynomial_candidates(X, y, Xv, yv, exact_mse=1e-12)
    high = [k for k in exact if k[4:].isdigit() and int(k[4:]) > bases.MAX_AUTO_DEGREE]
    # Smooth in one input: degrees above 8 fit sin(x) to about 1e-11.
    assert high and all(exact[kind][1] <= 1e-12 for kind in high)
    assert min(score for _, score in exact.values()) < 1e-20
    assert exact["poly8"][1] > 1e-9  # what degree 8 leaves: far from exact
    capped = polynomial_candidates(X, y, Xv, yv)  # exact_mse=0: none is exact
    assert list(capped) == list(exact)[: len(capped)]
    assert max(int(k[4:]) for k in capped if k[4:].isdigit()) == bases.MAX_AUTO_DEGREE


def test_candidates_above_the_auto_degree_stop_on_noisy_data(monkeypatch):
    X, y = _sin_rows(1000, 0, noise=0.3)
    Xv, yv = _sin_rows(300, 1, noise=0.3)
    tried = []
    make = bases.make_base

    def spy(kind, *args, **kwargs):
        tried.append(kind)
        return make(kind, *args, **kwargs)

    monkeypatch.setattr(bases, "make_base", spy)
    candidates = polynomial_candidates(X, y, Xv, yv, exact_mse=1e-12)
    assert list(candidates)[-1] == f"poly{bases.MAX_AUTO_DEGREE}"
    # The held-out error stopped falling: at most two degrees beyond were tried.
    beyond = {
        k for k in tried if k[4:].isdigit() and int(k[4:]) > bases.MAX_AUTO_DEGREE
    }
    assert len(beyond) <= 2


def test_exact_polynomial_by_leave_one_out_on_few_rows():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(9, 1))
    y = x**2 - 0.3 * x
    kind, model = exact_polynomial(x, y, exact_mse=1e-12)
    assert kind == "poly2"
    np.testing.assert_allclose(model.predict(x).reshape(y.shape), y, atol=1e-10)
    # The form make_base builds, at the penalty leave-one-out chose.
    assert type(model) is type(make_base("poly2"))
    noisy = y + 0.01 * rng.normal(size=y.shape)
    assert exact_polynomial(x, noisy, exact_mse=1e-12) is None
    # Two rows to spare: 5 rows allow the 3 coefficients of degree 2, 4 do not.
    assert exact_polynomial(x[:5], y[:5], exact_mse=1e-12)[0] == "poly2"
    assert exact_polynomial(x[:4], y[:4], exact_mse=1e-12) is None


def test_loo_polynomial_takes_the_simplest_within_one_standard_error():
    rng = np.random.default_rng(6)
    x = rng.uniform(-1, 1, size=(15, 1))
    y = (2 * x[:, 0] + 1 + rng.normal(0, 0.2, 15))[:, None]
    # Here degree 11 has the lowest leave-one-out error, by chance.
    tried = list(bases._loo_searches(x, y, None))
    assert min(tried, key=lambda found: found[2])[0] == "poly11"
    kind, model, mse = loo_polynomial(x, y)
    assert kind == "linear" and mse == tried[0][2]
    assert type(model) is type(make_base("linear"))
    # A cubic second output needs degree 3 or more: the errors are over both.
    kind = loo_polynomial(x, np.c_[y, x**3 - x])[0]
    assert kind.startswith("poly") and int(kind[4:]) >= 3
    # The linear model on any 3 rows or more, even fewer than its coefficients:
    # its penalty stands in for them.
    assert loo_polynomial(x[:2], y[:2]) is None
    assert loo_polynomial(x[:3], y[:3])[0] == "linear"
    wide = rng.uniform(-1, 1, size=(15, 40))
    wide[:, 0] = x[:, 0]
    kind, model, mse = loo_polynomial(wide, y)
    assert kind == "linear" and mse < np.var(y)  # better than the mean


def test_candidates_past_the_deadline_are_the_mean_and_the_linear_model():
    X, y = _sin_rows(1000, 0)
    Xv, yv = _sin_rows(300, 1)
    late = polynomial_candidates(X, y, Xv, yv, deadline=time.monotonic() - 1.0)
    assert list(late) == ["none", "linear"]
    ample = polynomial_candidates(X, y, Xv, yv, deadline=time.monotonic() + 600.0)
    assert list(ample) == list(polynomial_candidates(X, y, Xv, yv))


def test_a_fit_that_would_end_after_the_deadline_overruns_it():
    assert not would_overrun(None, 1e9, 1, 2)
    # 1 s for 10 coefficients predicts 2 s for 20.
    assert not would_overrun(time.monotonic() + 60.0, 1.0, 10, 20)
    assert would_overrun(time.monotonic() + 1.5, 1.0, 10, 20)
    assert not would_overrun(time.monotonic() + 1.5, 1.0, 10, 10)
    assert would_overrun(time.monotonic() - 1.0, 0.0, 10, 10)  # already past


def _ridge_alpha(model):
    return (model.steps[-1][1] if hasattr(model, "steps") else model).alpha


def test_only_exact_polynomials_search_the_finer_penalties():
    rng = np.random.default_rng(0)
    X, Xv = rng.normal(size=(2000, 2)), rng.normal(size=(500, 2))
    cubic = lambda Z: (Z[:, :1] ** 3 - Z[:, :1] * Z[:, 1:]) / 3.0  # noqa: E731
    plain = polynomial_candidates(X, cubic(X), Xv, cubic(Xv))
    finer = polynomial_candidates(X, cubic(X), Xv, cubic(Xv), exact_mse=1e-12)
    assert _ridge_alpha(plain["poly3"][0]) == bases.ALPHAS[0]
    assert _ridge_alpha(finer["poly3"][0]) < bases.ALPHAS[0]
    assert finer["poly3"][1] < plain["poly3"][1]
    # Not exact (noise): the penalties, and so the models, are the same.
    y, yv = cubic(X) + rng.normal(size=(2000, 1)), cubic(Xv)
    noisy = polynomial_candidates(X, y, Xv, yv)
    again = polynomial_candidates(X, y, Xv, yv, exact_mse=1e-12)
    assert list(noisy) == list(again)
    for kind, (model, score) in noisy.items():
        assert again[kind][1] == score
        if model is not None:
            assert _ridge_alpha(again[kind][0]) == _ridge_alpha(model)


# ------------------------------------------------------------- LaurentPolynomial


@pytest.mark.parametrize("n_features", [1, 3, 6])
@pytest.mark.parametrize("degree", [1, 2, 5])
def test_monomial_exponents_are_every_small_power_up_to_the_degree(n_features, degree):
    from itertools import product

    got = monomial_exponents(n_features, degree)
    every = [
        p
        for p in product(range(-2, 3), repeat=n_features)
        if sum(map(abs, p)) <= degree
    ]
    assert len(got) == len(every) == n_monomials(n_features, degree)
    assert sorted(map(tuple, got.astype(int))) == sorted(every)
    np.testing.assert_array_equal(got[0], 0.0)  # the constant term first
    assert (np.diff(np.abs(got).sum(axis=1)) >= 0).all()


def _products(n=2000, seed=0):
    """formula5 (seed 001): three products of powers, inputs over 1 to 3 decades."""
    X, y, _, _ = make_problem("formula5", seed, n_train=n, n_test=1)
    return X, y


def test_laurent_polynomial_finds_a_sum_of_products_to_rounding():
    X, y = _products()
    model = LaurentPolynomial(degree=5).fit(X, y)
    X_new, y_new = _products(seed=1)
    got = model.predict(X_new).ravel()
    assert np.max(np.abs(got - y_new)) < 1e-8 * np.abs(y_new).max()
    # Degree 4 lacks x2**2 / (x1 * x3 * x4): no sum of its products is exact.
    short = LaurentPolynomial(degree=4).fit(X, y).predict(X_new).ravel()
    assert np.sqrt(np.mean((short - y_new) ** 2)) > 1e-3 * y_new.std()


def test_laurent_polynomial_works_in_the_units_it_is_given():
    """Standardised inputs, a column given as its log, two standardised targets."""
    X, y = _products(n=3000)
    y = np.c_[y, X[:, 0] / X[:, 1] + 3.0]
    Z = X.copy()
    Z[:, 3] = np.log(Z[:, 3])
    mean, scale = Z.mean(axis=0), Z.std(axis=0)
    y_mean, y_scale = y.mean(axis=0), y.std(axis=0)
    model = LaurentPolynomial(
        5,
        x_offset=mean,
        x_scale=scale,
        logged=[False, False, False, True, False],
        y_offset=y_mean,
        y_scale=y_scale,
    ).fit((Z - mean) / scale, (y - y_mean) / y_scale)
    assert model.coef_.shape == (2, n_monomials(5, 5))
    got = model.predict((Z - mean) / scale) * y_scale + y_mean
    np.testing.assert_allclose(got, y, rtol=1e-8, atol=1e-8 * np.abs(y).max())


def test_laurent_polynomial_weights_rows():
    X, y = _products(n=3000)  # more rows than its 1,173 products
    y = y.copy()
    y[:10] += 1e4  # rows that a weight of 0 leaves out
    w = np.r_[np.zeros(10), np.ones(len(y) - 10)]
    model = LaurentPolynomial(5).fit(X, y, sample_weight=w)
    exact = _products(n=3000)[1]
    assert np.max(np.abs(model.predict(X).ravel() - exact)) < 1e-6
    unweighted = LaurentPolynomial(5).fit(X, y).predict(X).ravel()
    assert np.max(np.abs(unweighted - exact)) > 1.0


def test_laurent_polynomial_refuses_what_it_cannot_take():
    X, y = _products(n=300)
    bad = X.copy()
    bad[3, 4] = 0.0
    with pytest.raises(ValueError, match=r"Laurent polynomial needs inputs > 0.*\[4\]"):
        LaurentPolynomial(2).fit(bad, y)
    wide = np.exp(np.random.default_rng(0).uniform(-300.0, 300.0, size=(50, 2)))
    with pytest.raises(ValueError, match="span too many decades"):
        LaurentPolynomial(2).fit(wide, wide[:, 0])
    many = np.ones((10, 40))
    with pytest.raises(ValueError, match=r"degree 5 in 40 inputs has \d+ products"):
        LaurentPolynomial(5).fit(many, many[:, 0])


def test_laurent_polynomial_takes_values_at_or_below_zero_as_the_training_minimum():
    X, y = _products(n=300)
    model = LaurentPolynomial(2).fit(X, y)
    X_new = X[:2].copy()
    X_new[1, 2] = 0.0
    floor = X_new.copy()
    floor[1, 2] = X[:, 2].min()
    with pytest.warns(ExtrapolationWarning, match=r"\[2\] .*Laurent polynomial"):
        got = model.predict(X_new)
    np.testing.assert_array_equal(got, model.predict(floor))


def test_make_base_builds_an_unfitted_laurent_polynomial():
    assert type(make_base("laurent")) is LaurentPolynomial
