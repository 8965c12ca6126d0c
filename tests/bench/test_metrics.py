import numpy as np
import pytest
from sklearn.metrics import r2_score

from sknnfit.bench.metrics import (
    SCORE_KEYS,
    count_extrema,
    median_relative_error,
    nrmse,
    peak_nmae,
    per_output_scores,
    r2,
    score_all,
)
from sknnfit.datasets import make_problem


def test_nrmse_hand_computed_1d():
    # std of y_true is 1, rmse is sqrt((1 + 1) / 2) = 1.
    assert nrmse([0.0, 2.0], [1.0, 1.0]) == pytest.approx(1.0)
    assert nrmse([0.0, 2.0], [0.0, 2.0]) == 0.0


def test_nrmse_averages_outputs_with_equal_weight():
    y_true = np.array([[0.0, 0.0], [2.0, 200.0]])
    # Output 0: rmse 1, std 1. Output 1: rmse 0, std 100.
    y_pred = np.array([[1.0, 0.0], [1.0, 200.0]])
    assert nrmse(y_true, y_pred) == pytest.approx(0.5)


def test_nrmse_constant_output_uses_max_one_abs_mean():
    assert nrmse([5.0, 5.0], [6.0, 4.0]) == pytest.approx(1.0 / 5.0)
    assert nrmse([0.0, 0.0], [0.5, -0.5]) == pytest.approx(0.5)
    # Float rounding leaves a tiny nonzero std; still treated as constant.
    value = np.full(7, 0.1) * 3
    assert np.isfinite(nrmse(value, value + 1e-3))


def test_nrmse_accepts_column_vector_against_1d():
    assert nrmse(np.array([[0.0], [2.0]]), [1.0, 1.0]) == pytest.approx(1.0)


def test_r2_matches_sklearn_uniform_average():
    rng = np.random.RandomState(0)
    y_true = rng.normal(size=(30, 3))
    y_pred = y_true + rng.normal(scale=0.3, size=(30, 3))
    expected = r2_score(y_true, y_pred, multioutput="uniform_average")
    assert r2(y_true, y_pred) == pytest.approx(expected)


def test_r2_is_nan_for_non_finite_predictions():
    assert np.isnan(r2([1.0, 2.0, 3.0], [1.0, np.nan, 3.0]))


def test_median_relative_error_hand_computed():
    assert median_relative_error([1.0, 10.0, 100.0], [1.1, 11.0, 100.0]) == (
        pytest.approx(0.1)
    )


def test_median_relative_error_guards_zero_targets():
    # Mean |y| is 1, so the floor is 1e-6 and the zero target gives 1e-3 / 1e-6.
    score = median_relative_error([0.0, 1.5, 1.5], [1e-3, 1.5, 1.5])
    assert score == 0.0
    rel = median_relative_error([0.0], [1e-3], eps=1e-2)
    assert rel == pytest.approx(0.1)
    assert np.isfinite(median_relative_error([0.0, 0.0], [1.0, 1.0]))


def test_median_relative_error_rejects_bad_eps():
    with pytest.raises(ValueError, match="eps must be a positive float"):
        median_relative_error([1.0], [1.0], eps=0.0)


def test_peak_nmae_uses_only_the_top_rows_of_each_output():
    y_true = np.zeros((100, 2))
    y_true[-1] = [10.0, 1.0]
    y_pred = y_true.copy()
    y_pred[:-1] += 5.0  # errors off the peak must not count
    y_pred[-1, 0] = 8.0  # peak error 2 on output 0 only
    expected = np.mean([2.0 / y_true[:, 0].std(), 0.0])
    assert peak_nmae(y_true, y_pred, top=0.01) == pytest.approx(expected)


def test_peak_nmae_takes_at_least_one_row_and_validates_top():
    assert peak_nmae([0.0, 0.0, 0.0, 4.0], [0.0, 0.0, 0.0, 2.0], top=1e-9) == (
        pytest.approx(2.0 / np.sqrt(3.0))
    )
    with pytest.raises(ValueError, match=r"top must be a fraction in \(0, 1\]"):
        peak_nmae([1.0, 2.0], [1.0, 2.0], top=0.0)


def test_count_extrema_on_sin_grid():
    x = np.linspace(-1, 9, 4001)
    assert count_extrema(np.sin(x) / 2.5) == 3
    assert count_extrema(x**2) == 1
    assert count_extrema(x) == 0
    assert count_extrema((np.sin(x) / 2.5)[:, None]) == 3


def test_count_extrema_ignores_float_noise():
    rng = np.random.RandomState(0)
    x = np.linspace(-1, 9, 4001)
    curve = np.sin(x) / 2.5
    noisy = (curve + rng.normal(scale=1e-7, size=x.size)).astype(np.float32)
    assert count_extrema(noisy) == 3
    plateau = np.float32(3.0) + rng.normal(scale=1e-7, size=500).astype(np.float32)
    assert count_extrema(plateau) == 0
    assert count_extrema(np.ones(10)) == 0


def test_count_extrema_counts_real_wiggles():
    x = np.linspace(0, 1, 1001)
    assert count_extrema(x + 0.05 * np.sin(40 * np.pi * x)) > 30


def test_count_extrema_rejects_2d_and_nan():
    with pytest.raises(ValueError, match=r"got shape \(3, 2\)"):
        count_extrema(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        count_extrema([1.0, np.nan, 2.0])


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(
        ValueError, match=r"y_true.shape = \(3,\).*y_pred.shape = \(2,\)"
    ):
        nrmse([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        r2(np.zeros((4, 2)), np.zeros((4, 3)))


def test_score_all_square_has_inside_and_outside_errors():
    _, _, X_test, y_test = make_problem("square", n_test=9)
    y_pred = y_test.copy()
    outside = np.abs(X_test[:, 0]) > 2
    y_pred[outside] += 1.0
    scores = score_all(y_test, y_pred, X_test=X_test, problem="square")
    assert list(scores) == [k for k in SCORE_KEYS if k in scores]
    assert set(scores) == set(SCORE_KEYS)
    assert scores["rmse_inside"] == 0.0
    assert scores["rmse_outside"] == pytest.approx(1.0)
    assert scores["n_extrema"] == 1


def test_score_all_square_needs_x_test():
    _, _, _, y_test = make_problem("square", n_test=9)
    with pytest.raises(ValueError, match="pass X_test=X_test"):
        score_all(y_test, y_test, problem="square")


def test_score_all_noisy_sin_counts_extrema_of_prediction():
    _, _, X_test, y_test = make_problem("noisy_sin", n_test=2001)
    scores = score_all(y_test, y_test, X_test=X_test, problem="noisy_sin")
    assert scores["n_extrema"] == 3
    assert scores["nrmse"] == 0.0
    assert "rmse_inside" not in scores


def test_score_all_sorts_by_x_before_counting_extrema():
    _, _, X_test, y_test = make_problem("noisy_sin", n_test=2001)
    order = np.random.RandomState(0).permutation(len(y_test))
    scores = score_all(y_test[order], y_test[order], X_test=X_test[order])
    assert scores["n_extrema"] == 3


def test_score_all_multi_output_has_only_general_metrics():
    _, _, X_test, y_test = make_problem("steep25x19", n_test=200)
    scores = score_all(y_test, y_test + 0.1, X_test=X_test, problem="steep25x19")
    assert set(scores) == {"rmse", "nrmse", "r2", "median_rel_error", "peak_nmae"}
    assert scores["rmse"] == pytest.approx(0.1)


def test_score_all_records_diverged_predictions_as_nan():
    _, _, X_test, y_test = make_problem("square", n_test=9)
    y_pred = np.full_like(y_test, np.nan)
    scores = score_all(y_test, y_pred, X_test=X_test, problem="square")
    assert np.isnan(scores["r2"])
    assert np.isnan(scores["n_extrema"])
    assert np.isnan(scores["rmse"])


def test_per_output_scores_average_to_nrmse_and_r2():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(50, 3)) * [1.0, 10.0, 100.0]
    pred = y + rng.normal(size=(50, 3)) * [0.1, 5.0, 1.0]
    scores = per_output_scores(y, pred)
    assert scores["nrmse"].shape == scores["r2"].shape == (3,)
    assert np.mean(scores["nrmse"]) == pytest.approx(nrmse(y, pred))
    assert np.mean(scores["r2"]) == pytest.approx(r2(y, pred))
    # The middle output is the worst, which the average hides.
    assert np.argmax(scores["nrmse"]) == 1 and np.argmin(scores["r2"]) == 1


def test_per_output_r2_is_nan_only_where_predictions_diverged():
    y = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 4.0]])
    pred = y.copy()
    pred[0, 1] = np.inf
    scores = per_output_scores(y, pred)
    assert scores["r2"][0] == 1.0 and np.isnan(scores["r2"][1])
    assert scores["nrmse"][0] == 0.0 and scores["nrmse"][1] == np.inf
