"""Tests for sknnfit.target_transforms: the target transformers and their rules."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sknnfit.exceptions import ClippedPredictionWarning
from sknnfit.target_transforms import (
    TARGETS,
    AsinhTransformer,
    QuantileTargetTransformer,
    auto_target,
    make_target_transformer,
)

KINDS = [k for k in TARGETS if k != "auto"]

# ---------------------------------------------------------------------- round trips

_FINITE = {"allow_nan": False, "allow_infinity": False, "allow_subnormal": False}

# Thirty-six decades of magnitude and zero; smaller magnitudes only test float
# underflow (a variance of 1e-400 is 0), which no target transform can help.
_MODERATE = st.floats(-1e6, 1e6, **_FINITE).map(lambda v: v if abs(v) > 1e-30 else 0.0)

#: Values each kind accepts, over a wide range of magnitudes.
ELEMENTS = {
    "standard": _MODERATE,
    "log": st.floats(1e-100, 1e100, **_FINITE),
    "log1p": st.floats(-1.0, 1e100, exclude_min=True, **_FINITE),
    "asinh": st.floats(-1e100, 1e100, **_FINITE),
    "rank": _MODERATE,
    "rank_normal": _MODERATE,
}
SHAPES = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=12)


def assert_round_trip(y, back, kind):
    """Assert ``back`` is ``y`` up to the round-off of ``kind``'s way there and back."""
    # Linear maps (standard, rank) lose about eps * max|y| in absolute terms;
    # log and asinh lose about eps * log(max|y|) in relative terms.
    atol = 1e-9 * np.abs(y).max()
    if kind == "rank_normal":
        # QuantileTransformer's normal output maps values within 1e-7 (here:
        # standard deviations) of the smallest or largest quantile to that end.
        atol += 1e-7 * np.ptp(y)
    np.testing.assert_allclose(back, y, rtol=1e-9, atol=atol)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_transformer_inverse_undoes_transform(kind, data):
    y = data.draw(hnp.arrays(np.float64, SHAPES, elements=ELEMENTS[kind]))
    y2 = y.reshape(len(y), -1)
    transformer = make_target_transformer(kind, y2)
    z = transformer.fit_transform(y2)
    assert np.isfinite(z).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = transformer.inverse_transform(z)
    assert_round_trip(y2, back, kind)


# ---------------------------------------------------------------------- domains


@pytest.mark.parametrize(
    ("kind", "y", "match"),
    [
        (
            "log",
            [1.0, -3.2, 5.0],
            r"target='log' needs y > 0; got min\(y\) = -3\.2\. Use target='asinh' "
            r"for signed targets or 'log1p' for y > -1\.",
        ),
        ("log", [0.0, 1.0, 2.0], r"target='log' needs y > 0; got min\(y\) = 0\."),
        (
            "log1p",
            [1.0, -1.0, 5.0],
            r"target='log1p' needs y > -1; got min\(y\) = -1\. Use target='asinh'",
        ),
    ],
)
def test_log_targets_reject_y_outside_their_domain(kind, y, match):
    with pytest.raises(ValueError, match=match):
        make_target_transformer(kind, y)


def test_log_target_names_the_offending_output():
    y = np.array([[1.0, 2.0], [3.0, -7.5], [5.0, 6.0]])
    with pytest.raises(ValueError, match=r"min\(y\) = -7\.5 \(output 1\)"):
        make_target_transformer("log", y)


def test_standard_target_refuses_y_too_large_to_standardise():
    y = np.array([1.0, -3.0, 2.0]) * 1e300  # the squares overflow float64
    with pytest.raises(
        ValueError, match=r"target='standard' cannot standardise.*asinh"
    ):
        make_target_transformer("standard", y)
    make_target_transformer("standard", y / 1e160)  # squares of 1e140 are finite


def test_auto_target_takes_asinh_where_y_cannot_be_standardised():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings from the rules
        assert auto_target(y) == "standard"
        assert auto_target(y * 1e300) == "asinh"
        assert auto_target(np.column_stack([y, y * 1e300])) == "asinh"


@pytest.mark.parametrize("target", ["auto", "logarithm"])
def test_unknown_or_unresolved_target_is_rejected(target):
    with pytest.raises(ValueError, match=r"Unknown target .*auto_target\(y\)"):
        make_target_transformer(target, [1.0, 2.0])


# ---------------------------------------------------------------------- no-data form


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_samples", [3, 2500])
def test_settings_given_directly_build_what_the_data_would(kind, n_samples):
    y = np.linspace(1.0, 2.0, n_samples)
    from_data = make_target_transformer(kind, y)
    direct = make_target_transformer(kind, n_quantiles=min(1000, n_samples))
    assert type(direct) is type(from_data)
    assert repr(direct.get_params()) == repr(from_data.get_params())


def test_without_y_nothing_is_checked_and_ranks_keep_1000_quantiles():
    assert make_target_transformer("rank").n_quantiles == 1000
    assert isinstance(make_target_transformer("log"), FunctionTransformer)
    # Without y there is no domain to check against.
    make_target_transformer("log").fit(np.array([[2.0]]))


def test_given_n_quantiles_overrides_the_one_from_y():
    t = make_target_transformer("rank_normal", np.arange(50.0), n_quantiles=7)
    assert isinstance(t, Pipeline)
    assert isinstance(t.steps[0][1], StandardScaler)
    assert t.steps[1][1].n_quantiles == 7
    assert t.steps[1][1].output_distribution == "normal"


# ---------------------------------------------------------------------- auto


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.geomspace(0.1, 1e3, 50), "log"),  # positive, four decades
        (np.linspace(1.0, 50.0, 50), "standard"),  # positive, < two decades
        (np.r_[np.linspace(-1, 1, 49), 500.0], "asinh"),  # signed, one far tail
        (np.r_[np.zeros(30), np.geomspace(1, 1e6, 20)], "asinh"),  # zeros + tail
        (np.linspace(-3.0, 3.0, 50), "standard"),  # signed, light tails
        (np.r_[np.zeros(30), np.ones(20)], "standard"),  # mostly zeros, no tail
        (np.zeros(10), "standard"),
        # One output decides for all: positive with one spanning decades.
        (np.c_[np.linspace(1, 2, 50), np.geomspace(1, 1e3, 50)], "log"),
        (np.c_[np.linspace(-1, 1, 50), np.r_[np.ones(49), 1e4]], "asinh"),
        # x**2 spans decades only because it piles up near 0; its log is skewed
        # the other way, so it stays standard.
        (np.linspace(-2, 2, 201) ** 2, "standard"),
        (np.random.default_rng(0).lognormal(0.0, 2.0, 500), "log"),
    ],
)
def test_auto_picks_what_its_rule_says(y, expected):
    assert auto_target(y) == expected


def test_auto_compresses_a_target_a_few_extreme_values_scale():
    # One outlier is as skewed under asinh as without it, so only the outlier
    # rule sees it: without it, y's standard deviation falls 3e7-fold.
    y = np.random.default_rng(0).normal(size=300)
    assert auto_target(y) == "standard"
    y[-1] = 1e9
    assert auto_target(y) == "asinh"
    assert auto_target(np.c_[np.random.default_rng(1).normal(size=300), y]) == "asinh"


def test_auto_thresholds_are_strict():
    assert auto_target([1.0, 100.0]) == "standard"
    assert auto_target([1.0, 100.1]) == "log"


# ---------------------------------------------------------------------- the way back


@pytest.mark.parametrize("kind", ["rank", "rank_normal"])
def test_rank_transformers_warn_when_they_clip(kind):
    y = np.linspace(1.0, 4.0, 40).reshape(-1, 1)
    transformer = make_target_transformer(kind, y).fit(y)
    z = transformer.transform(y)
    z_new = np.array([[z.min() - 1.0], [z.mean()], [z.max() + 1.0], [z.max() + 2.0]])
    match = r"3 of 4 .*clipped.*\(1 to the minimum, 2 to the maximum\)"
    with pytest.warns(ClippedPredictionWarning, match=match) as record:
        back = transformer.inverse_transform(z_new)
    assert record[0].filename == __file__  # points at the caller, not the library
    np.testing.assert_allclose(back[[0, 2, 3], 0], [1.0, 4.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transformer.inverse_transform(z)


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("log", r"1 of 2 .*overflowed to infinity in exp \(target='log'\)"),
        ("log1p", r"1 of 2 .*overflowed to infinity in expm1"),
        ("asinh", r"1 of 2 .*overflowed to infinity in sinh"),
    ],
)
def test_overflow_on_the_way_back_warns_instead_of_returning_inf_silently(kind, match):
    y = np.linspace(1.0, 5.0, 20).reshape(-1, 1)
    transformer = make_target_transformer(kind, y).fit(y)
    with pytest.warns(RuntimeWarning, match=match):
        back = transformer.inverse_transform(np.array([[0.5], [1e3]]))
    assert np.isfinite(back[0, 0])
    assert np.isinf(back[1, 0])


# ---------------------------------------------------------------------- statistics


def test_asinh_scale_is_per_output_and_never_zero():
    y = np.c_[[-100.0, 1.0, 3.0], [0.0, 0.0, 5.0], [0.0, 0.0, 0.0]]
    assert_scale = AsinhTransformer().fit(y).scale_
    np.testing.assert_allclose(assert_scale, [3.0, 5.0, 1.0])


def test_transformers_fit_per_output_statistics():
    y = np.c_[np.linspace(0, 1, 30), np.linspace(-50, 1000, 30)]
    standard = make_target_transformer("standard", y).fit(y)
    np.testing.assert_allclose(standard.mean_, y.mean(axis=0))
    rank = make_target_transformer("rank", y).fit(y)
    assert isinstance(rank, QuantileTargetTransformer)
    assert rank.n_quantiles == 30
    np.testing.assert_allclose(rank.quantiles_[-1], y.max(axis=0))
