import numpy as np
import pytest

from sknnfit.bench.precision_goals import (
    clean_sin,
    epoch_cost,
    goal_table,
    precision_goals,
    stage_curves,
)

TINY = {"hidden_layer_sizes": (8,), "max_epochs": 3, "guard": False}


@pytest.fixture(scope="module")
def curves():
    return stage_curves("clean_sin", [0, 1], n_stages=2, n_train=120, n_test=41, **TINY)


def test_clean_sin_is_noise_free_on_an_even_grid():
    X, y, X_test, y_test = clean_sin(3, n_train=50, n_test=11)
    assert X.shape == (50, 1) and X_test.shape == (11, 1)
    np.testing.assert_array_equal(y, np.sin(X[:, 0]))
    np.testing.assert_array_equal(y_test, np.sin(X_test[:, 0]))
    np.testing.assert_allclose(np.diff(X_test[:, 0]), 2 * np.pi / 10)
    assert X_test[0, 0] == -np.pi and X_test[-1, 0] == np.pi


def test_stage_curves_give_one_row_per_seed_and_stage(curves):
    assert list(curves[["seed", "stage"]].itertuples(index=False, name=None)) == [
        (0, 1),
        (0, 2),
        (1, 1),
        (1, 2),
    ]
    for column in ("rmse", "nrmse", "validation_rmse", "stage_seconds", "epochs"):
        assert curves[column].notna().all(), column
    assert (curves["n_stages"] == "2").all()
    assert (curves["n_train"] == 120).all()


def test_stage_curves_score_partial_sums(curves):
    # Stage 1 leaves the second stage out: with guard=False it predicts
    # differently from the whole model, and the held-out RMSE of stages_
    # goes with each row.
    for _, fit in curves.groupby("seed"):
        assert fit["rmse"].iloc[0] != fit["rmse"].iloc[1]
        assert fit["validation_rmse"].is_unique


def test_stage_curves_cut_the_network_inside_a_target_transform():
    curves = stage_curves(
        "formula5", [0], n_stages=2, n_train=300, n_test=100, target="auto", **TINY
    )
    assert list(curves["stage"]) == [1, 2]
    assert "'target': 'auto'" in curves.loc[0, "params"]
    assert curves.loc[0, "rmse"] != curves.loc[1, "rmse"]


def test_goals_take_auto_fits_from_the_curves_and_fit_the_rest():
    curves = stage_curves("clean_sin", [0], n_stages="auto", n_train=120, **TINY)
    fits = precision_goals(
        [0], problems=["clean_sin", "noisy_sin"], curves=curves, **TINY
    )
    assert list(fits["setting"]) == [
        "default",
        "float64",
        "n_stages=auto",
        "n_stages=1",
    ]
    assert list(fits["source"]) == ["stage_curves", "fit", "fit", "fit"]
    assert fits.loc[0, "rmse"] == curves["rmse"].iloc[-1]
    assert fits.loc[1, "precision"] == "float64"
    table = goal_table(fits)

    def cells(problem, setting, column):
        rows = (table["problem"] == problem) & (table["setting"] == setting)
        return list(table.loc[rows, column])

    assert cells("clean_sin", "default", "met") in (["yes"], ["no"])
    assert cells("formula5", "target=auto", "measured")[0] == "not measured in this run"
    assert "stages kept" in cells("noisy_sin", "auto vs n_stages=1", "measured")[0]
    assert "not run here" in cells("steep25x19", "default", "measured")[0]


def test_epoch_cost_is_relative_to_float32():
    cost = epoch_cost(("float64",), n_train=200, epochs=2, hidden_layer_sizes=(8,))
    assert list(cost["precision"]) == ["float32", "float64"]
    assert cost.loc[0, "ratio_to_float32"] == 1.0
    assert (cost["seconds_per_epoch"] > 0).all()
    assert cost["native_bfloat16"].dtype == bool
