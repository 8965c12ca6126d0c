"""The shared results formatting: summaries, text tables and Markdown tables."""

import numpy as np
import pandas as pd
import pytest

from sknnfit.bench.report import (
    format_number,
    format_per_target,
    format_results,
    format_summary,
    format_warnings,
    markdown_table,
    per_target_summary,
    summarize,
)


@pytest.fixture
def runs():
    """Three seeds of two models on one problem, as compare() returns them."""
    return pd.DataFrame(
        {
            "problem": "p",
            "model": ["a", "a", "a", "b", "b", "b"],
            "seed": [0, 1, 2, 0, 1, 2],
            "nrmse": [0.1, 0.3, 0.2, 1.0, 1.0, 1.0],
            "r2": np.nan,
            "fit_seconds": [1.0, 2.0, 3.0, 0.5, 0.5, 0.5],
            "warnings": ["", "W x1", "", "", "", ""],
            "warning_messages": ["", "W: slow | W: late", "", "", "", ""],
        }
    )


def test_format_results_shows_columns_and_each_warning_once():
    df = pd.DataFrame(
        {
            "model": ["a", "b"],
            "rmse": [0.123456, 2.0],
            "warning_messages": ["W: one | W: two", "W: one"],
        }
    )
    text = format_results(df, ["model", "rmse"])
    assert "0.1235" in text and "rmse" in text
    assert "warning_messages" not in text
    assert text.count("warning: W: one") == 1 and "warning: W: two" in text


def test_summarize_skips_metrics_that_are_nan_everywhere(runs):
    summary = summarize(runs)
    assert summary["model"].tolist() == ["a", "b"]
    assert summary["n_warnings"].tolist() == [1, 0]
    assert "r2_median" not in summary
    assert summary["nrmse_median"].tolist() == [0.2, 1.0]


def test_format_summary_cells_are_median_and_half_range(runs):
    text = format_summary(summarize(runs))
    lines = text.splitlines()
    assert lines[0] == "p"
    assert "nrmse" in lines[1] and "fit_seconds" in lines[1] and "r2" not in lines[1]
    assert "0.2 ±0.1" in lines[3]  # median 0.2 of 0.1..0.3
    assert "1 ±0" in lines[4]
    assert lines[3].split()[-1] == "1"  # warned runs


def test_format_summary_leaves_the_range_out_for_one_run(runs):
    text = format_summary(summarize(runs[runs["seed"] == 0]))
    assert "±" not in text


def test_format_warnings_lists_seeds_per_message(runs):
    text = format_warnings(runs)
    assert text.splitlines() == [
        "Warnings raised during fit/predict (also in results.csv):",
        "  p / a (seeds [1]): W: slow",
        "  p / a (seeds [1]): W: late",
    ]
    assert format_warnings(runs.assign(warning_messages="")) == ""


def test_format_warnings_cuts_long_messages():
    df = pd.DataFrame(
        {"problem": "p", "model": "m", "seed": [0], "warning_messages": ["x" * 200]}
    )
    line = format_warnings(df, max_chars=20).splitlines()[1]
    assert line.endswith(": " + "x" * 17 + "...")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (0.5, "0.5"), (123456.0, "1.235e+05"), (np.inf, "-"), (None, "-")],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_markdown_table_aligns_numbers_right_and_text_left():
    frame = pd.DataFrame(
        {
            "name": ["a", "bb"],
            "n": [1, 20],
            "x": [0.123456, np.nan],
            "ok": [True, False],
        }
    )
    assert markdown_table(frame).splitlines() == [
        "| name |  n |      x | ok    |",
        "|:-----|---:|-------:|:------|",
        "| a    |  1 | 0.1235 | True  |",
        "| bb   | 20 |    nan | False |",
    ]


def test_markdown_table_takes_formats_per_column():
    frame = pd.DataFrame({"rate": [12345.6], "ratio": [1.5]})
    text = markdown_table(frame, floatfmt=".2g", formats={"rate": "{:,.0f}"})
    assert text.splitlines()[2] == "| 12,346 |   1.5 |"
    text = markdown_table(frame, formats={"ratio": lambda v: f"{v:.2f}x"})
    assert text.splitlines()[2].endswith("| 1.50x |")


def two_target_predictions():
    y = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 40.0], [3.0, 30.0]])
    return {
        ("p", "nn", seed): {
            "y_test": y,
            "y_pred": y + np.array([0.1 * (seed + 1), 5.0]),
        }
        for seed in range(3)
    } | {("p", "cut", 0): {"y_test": y, "y_pred": None}}


def test_per_target_summary_reduces_each_target_over_seeds():
    table = per_target_summary(two_target_predictions(), {"p": ["a", "b"]})
    assert table[["model", "target", "n_runs"]].values.tolist() == [
        ["nn", "a", 3],
        ["nn", "b", 3],
    ]
    std_a = np.std([0.0, 1.0, 2.0, 3.0])
    assert table["nrmse_min"][0] == pytest.approx(0.1 / std_a)
    assert table["nrmse_median"][0] == pytest.approx(0.2 / std_a)
    assert table["nrmse_max"][0] == pytest.approx(0.3 / std_a)
    # The second target's error is the same every seed.
    assert table["r2_min"][1] == table["r2_max"][1] < 1


def test_per_target_summary_names_targets_by_default_and_checks_names():
    table = per_target_summary(two_target_predictions())
    assert table["target"].tolist() == ["y0", "y1"]
    with pytest.raises(ValueError, match=r"gives 1 names for problem 'p'.*2 targets"):
        per_target_summary(two_target_predictions(), ["a"])


def test_format_per_target_shows_problems_with_several_targets_only():
    text = format_per_target(per_target_summary(two_target_predictions(), ["a", "b"]))
    assert text.startswith("p, per target")
    assert "nrmse" in text and "r2" in text and " a " in text and " b " in text
    y = np.arange(4.0)
    one = per_target_summary({("q", "nn", 0): {"y_test": y, "y_pred": y}})
    assert format_per_target(one) == ""
