"""sknnfit.bench.small: tables too small to hold rows out."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression

from sknnfit.bench import small


def test_draw_makes_noisy_and_clean_tables_of_the_same_points():
    X, y, X_test, f_test, noise = small.draw("plane", 15, seed=3)
    Xc, yc, _, _, _ = small.draw("plane", 15, seed=3, noisy=False)
    assert X.shape == (15, 2) and X_test.shape == (small.N_TEST, 2)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_allclose(yc, X[:, 0] - 2 * X[:, 1])
    assert noise == pytest.approx(small.NOISE * f_test.std())
    assert 0.3 * noise < np.std(y - yc) < 3 * noise
    # Pure noise has no spread of its own: the noise is NOISE x 1.
    assert small.draw("pure noise", 15, seed=0)[4] == small.NOISE


def test_run_scores_every_model_and_summary_compares_them(monkeypatch):
    models = {"sknnfit": DummyRegressor(), "poly": LinearRegression()}
    models["line"] = LinearRegression()
    monkeypatch.setattr(small, "default_models", lambda seed: dict(models))
    frame = small.run(["line", "pure noise"], sizes=(15, 30), seeds=(0,))
    # Pure noise runs noisy only: 2 + 1 tables of line and noise, x 2 sizes.
    assert len(frame) == 3 * 2 * 3
    assert set(frame.model) == {"sknnfit", "poly", "line"}
    line = frame[(frame.function == "line") & ~frame.noisy]
    assert (line[line.model == "line"].over_noise < 1e-9).all()  # exact
    table = small.summary(frame)
    row = table[(table.function == "line") & table.noisy].iloc[0]
    assert row.worst_ratio > 5  # the mean is far off a line
    assert row.within_1_1x == "0/2"
    assert isinstance(table, pd.DataFrame) and "sknnfit fit s (median)" in table
