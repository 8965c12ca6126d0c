"""The benchmark scripts' own logic (their measurements live in benchmarks/results)."""

import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def goals():
    return load("goals")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("precision=bfloat16", ("precision", "bfloat16")),
        ("linear_skip=True", ("linear_skip", True)),
        ("lr=0.01", ("lr", 0.01)),
        ("hidden_layer_sizes=(64, 64)", ("hidden_layer_sizes", (64, 64))),
        (" n_ensemble = 2", ("n_ensemble", 2)),
    ],
)
def test_goals_param_parses_literals_and_bare_words(goals, text, expected):
    assert goals.parse_param(text) == expected


@pytest.mark.parametrize("text", ["precision", "=bfloat16", ""])
def test_goals_param_without_a_name_says_how(goals, text):
    with pytest.raises(argparse.ArgumentTypeError, match="NAME=VALUE"):
        goals.parse_param(text)


def test_goals_recipe_names_its_files_apart_from_the_default(goals):
    assert goals.recipe_name({}) == ("sknnfit-default", "goals")
    label, stem = goals.recipe_name({"precision": "bfloat16", "lr": 0.01})
    assert label == "sknnfit-precision-bfloat16_lr-0.01"
    assert stem == "goals_precision-bfloat16_lr-0.01"
    # Characters that do not belong in a file name are dropped.
    assert goals.recipe_name({"hidden_layer_sizes": (64, 64)})[1] == (
        "goals_hidden_layer_sizes-6464"
    )


def test_goals_recipe_model_carries_the_parameters(goals):
    model = goals.default_model(precision="bfloat16", linear_skip=True)
    assert model.target == "auto"
    assert model.regressor.precision == "bfloat16"
    assert model.regressor.linear_skip is True
    assert goals.default_model().regressor.precision == "auto"


def test_goal_table_checks_every_seed(goals):
    df = pd.DataFrame(
        {
            "problem": ["noisy_sin"] * 3,
            "rmse": [0.003, 0.0034, 0.0036],
            "n_extrema": [3, 3, 3],
            "fit_seconds": [1.0, 2.0, 3.0],
        }
    )
    table = goals.goal_table(df).set_index("metric")
    assert table.loc["rmse", "all seeds meet it"] == "no"  # 0.0036 > 0.0035
    assert table.loc["n_extrema", "all seeds meet it"] == "yes"
    assert table.loc["rmse", "median"] == pytest.approx(0.0034)
    assert table.loc["rmse", "max fit s"] == 3.0


def test_precision_summary_takes_the_best_of_repeats_per_width():
    precision = load("precision")
    df = pd.DataFrame(
        {
            "width": [128] * 4 + [192] * 2,
            "parameters": [1000] * 4 + [2000] * 2,
            "rows": [100] * 6,
            "threads": [1] * 6,
            "precision": ["float32", "bfloat16"] * 3,
            "seconds_per_epoch": [1.2, 0.8, 1.0, 0.7, 2.0, 1.0],
        }
    )
    table = precision.summary(df).set_index("hidden")
    row = table.loc["3 x 128"]
    assert row["float32 s/epoch"] == 1.0
    assert row["bfloat16 s/epoch"] == 0.7
    assert row["speed-up"] == pytest.approx(1.0 / 0.7)
    assert row["bfloat16 ns per row x parameter"] == pytest.approx(0.7 / 1e5 * 1e9)
    assert table.loc["3 x 192", "speed-up"] == pytest.approx(2.0)
    assert table.loc["3 x 192", "threads"] == 1


def test_precision_summary_compares_thread_counts_with_one_thread():
    precision = load("precision")
    df = pd.DataFrame(
        {
            "width": [128] * 4,
            "parameters": [1000] * 4,
            "rows": [100] * 4,
            "threads": [1, 1, 2, 2],
            "precision": ["float32", "bfloat16"] * 2,
            "seconds_per_epoch": [1.2, 0.8, 0.6, 0.5],
        }
    )
    table = precision.summary(df).set_index("threads")
    assert table.loc[1, "float32 vs 1 thread"] == pytest.approx(1.0)
    assert table.loc[2, "float32 vs 1 thread"] == pytest.approx(2.0)
    assert table.loc[2, "bfloat16 vs 1 thread"] == pytest.approx(1.6)
    assert table.loc[2, "speed-up"] == pytest.approx(1.2)


def test_busy_core_spins_a_process_only_inside_the_block(monkeypatch):
    precision = load("precision")
    started = []
    real_popen = precision.subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(precision.subprocess, "Popen", popen)
    monkeypatch.setattr(precision.time, "sleep", lambda s: None)
    with precision.busy_core(False):
        assert started == []
    with precision.busy_core(True):
        assert len(started) == 1
        assert started[0].poll() is None  # spinning
    assert started[0].poll() is not None  # killed and reaped on exit


def test_targets_runs_through_compare_and_swaps_log_for_asinh():
    from sknnfit import NNRegressor

    targets = load("targets")
    df = targets.run(
        ("noisy_sin",),
        ("standard", "log"),
        (0,),
        60,
        n_test=41,
        regressor=NNRegressor((4,), max_epochs=2),
    )
    assert list(df.columns) == targets.COLUMNS
    assert df["target"].tolist() == ["standard", "asinh"]  # noisy_sin is signed
    assert df["seed"].tolist() == [0, 0]
    assert df["r2"].notna().all()


def test_throughput_table_names_and_formats_the_columns():
    throughput = load("throughput")
    df = pd.DataFrame(
        {
            "workload": ["w"],
            "batch": [64],
            "sknnfit": [12345.6],
            "skorch_usual": [1000.0],
            "plain_loop": [20000.0],
            "vs_plain": [0.617],
            "vs_skorch": [12.3],
            "flop_limit": [1e7],
            "of_flop_limit": [0.001],
        }
    )
    header, rule, row = throughput.to_markdown(df).splitlines()
    assert "skorch usual" in header and "sknnfit/limit" in header
    assert rule.startswith("|:---") and rule.endswith("-:|")
    assert "12,346" in row and "0.62x" in row and "10,000,000" in row


def test_small_writes_its_table_under_the_label(monkeypatch, tmp_path):
    from sklearn.linear_model import LinearRegression

    from sknnfit.bench import small

    models = ("sknnfit", "poly", "line")
    fake = lambda seed: {label: LinearRegression() for label in models}  # noqa: E731
    monkeypatch.setattr(small, "default_models", fake)
    argv = ["--functions", "line", "--sizes", "15", "--seeds", "0"]
    frame = load("small").main([*argv, "--label", "x", "--out", str(tmp_path)])
    assert len(frame) == 2 * 3  # noisy and clean, three models
    text = (tmp_path / "small_x.md").read_text()
    assert "python benchmarks/small.py --functions line" in text
    assert (tmp_path / "small_x.csv").exists()


@pytest.fixture(scope="module")
def schedule():
    return load("schedule")


def test_schedule_pairs_the_two_schedules_per_seed(schedule):
    table = schedule.run_case("square", 200, (0, 1))
    assert list(table["seed"]) == [0, 1]
    assert (table["optimizer"] == "auto").all()
    assert (table["n_train"] == 200).all()
    assert (table["kind"] == "noise-free").all()
    pd.testing.assert_series_equal(
        table["ratio"], table["linear"] / table["onecycle"], check_names=False
    )


def test_schedule_splits_a_table_given_as_data(schedule):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(size=100), "b": rng.choice(["u", "v"], 100)})
    y = X["a"].to_numpy() * 2 + (X["b"] == "u")
    table = schedule.run_case("toy", None, (0,), data=(X, y))
    assert list(table["kind"]) == ["real table"]
    assert list(table["n_train"]) == [80]  # compare's 80/20 split


def test_schedule_report_gives_a_mean_per_kind(schedule):
    table = pd.DataFrame(
        {
            "problem": ["I.40.1", "I.40.1-noise1", "I.40.1-noise10", "diamonds"],
            "kind": ["noise-free", "noisy", "noisy", "real table"],
            "ratio": [0.5, 2.0, 8.0, 1.0],
        }
    )
    text = schedule.report(table, "python benchmarks/schedule.py")
    assert "- all: 1.682 over 4 fits" in text
    assert "- noise-free: 0.500 over 1 fits" in text
    assert "- noisy: 4.000 over 2 fits" in text
    assert "- real table: 1.000 over 1 fits" in text
    assert "Command: `python benchmarks/schedule.py`" in text
