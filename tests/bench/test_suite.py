import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sknnfit.bench.suite import (
    DEFAULT_MODELS,
    default_models,
    run_suite,
    suite_problems,
    suite_report,
)

ROOT = Path(__file__).resolve().parents[2]
TINY = {"I.14.3": {"n_train": 120, "n_test": 60}, "square": {"n_train": 80}}
FAST = ["poly", "lgbm"]


def _run(**kwargs):
    pytest.importorskip("lightgbm")
    return run_suite(
        ["formulas", "reference"],
        ["I.14.3", "square"],
        kwargs.pop("models", FAST),
        kwargs.pop("seeds", [0, 1]),
        problem_kwargs=TINY,
        progress=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def results():
    return _run()


def test_run_suite_gives_one_row_per_problem_model_seed(results):
    assert len(results) == 2 * 2 * 2
    assert list(results[["group", "problem", "model", "seed"]].iloc[0]) == [
        "formulas",
        "I.14.3",
        "poly",
        0,
    ]
    assert set(results["group"]) == {"formulas", "reference"}
    assert (results.loc[results["problem"] == "I.14.3", "n_train"] == 120).all()
    assert results["nrmse"].notna().all()
    for column in ("omp_num_threads", "pool_threads", "version_scikit-learn"):
        assert column in results
    assert (results["version_numpy"] == np.__version__).all()


def test_reuse_keeps_rows_not_rerun_and_replaces_the_rerun_model(results):
    old = results.copy()
    old.loc[old["model"] == "lgbm", "nrmse"] = -1.0  # marks the stale rows
    new = _run(models=["lgbm"], reuse=old)
    assert len(new) == len(results)
    assert (new.loc[new["model"] == "lgbm", "nrmse"] > 0).all()
    kept = new[new["model"] == "poly"].reset_index(drop=True)
    expected = old[old["model"] == "poly"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, expected)


def test_resume_skips_fits_already_done(results):
    partial = results[results["seed"] == 0]
    new = _run(reuse=partial, resume=True)
    assert len(new) == len(results)
    # seed 0 rows are the old ones, untouched; seed 1 rows were fitted now.
    pd.testing.assert_frame_equal(
        new[new["seed"] == 0].reset_index(drop=True), partial.reset_index(drop=True)
    )
    assert set(new[new["seed"] == 1]["model"]) == set(FAST)


def test_suite_report_without_and_with_the_default(results):
    text = suite_report(results)
    assert "No 'nn' rows yet" in text
    assert "| I.14.3" in text and "best baseline" in text
    as_default = results.replace({"model": {"poly": "nn"}})
    text = suite_report(as_default)
    assert "## Summary: nn against the best baseline per problem" in text
    assert "at or below best" in text and "nn / best" in text
    # Per group: 1 problem each; the ratio is nn's median over lgbm's.
    medians = as_default.groupby(["problem", "model"])["nrmse"].median()
    ratio = medians["square", "nn"] / medians["square", "lgbm"]
    assert f"{ratio:.4g}" in text
    # A group the default has not run in yet shows its baselines, no ratio.
    one_group = as_default["group"] == as_default["group"].iloc[0]
    partial = as_default[~(one_group & (as_default["model"] == "nn"))]
    text = suite_report(partial)
    assert "## Summary: nn" in text
    assert (
        text.count("nn / best")
        == partial.loc[partial["model"] == "nn", "group"].nunique()
    )


def test_suite_problems_filters_and_names_the_fix():
    assert suite_problems(["real"], ["mpg"]) == [("real", "mpg")]
    with pytest.raises(ValueError, match="add its group"):
        suite_problems(["real"], ["I.14.3"])
    with pytest.raises(ValueError, match="Did you mean"):
        suite_problems(["formulaz"])


def test_default_models_add_realmlp_only_with_pytabkit():
    names = default_models()
    assert names[: len(DEFAULT_MODELS)] == list(DEFAULT_MODELS)
    has = importlib.util.find_spec("pytabkit") is not None
    assert ("realmlp" in names) is has


def test_script_writes_csv_and_markdown_and_reuses(tmp_path, monkeypatch):
    pytest.importorskip("lightgbm")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    sys.modules.pop("suite", None)
    import suite as script

    args = ["--problems", "square", "noisy_sin", "--groups", "reference"]
    args += ["--seeds", "0", "--out", str(tmp_path)]
    script.main([*args, "--models", "poly"])
    first = pd.read_csv(tmp_path / "suite.csv")
    assert sorted(first["problem"]) == ["noisy_sin", "square"]
    script.main([*args, "--models", "lgbm", "--reuse"])
    both = pd.read_csv(tmp_path / "suite.csv")
    assert sorted(both["model"]) == ["lgbm", "lgbm", "poly", "poly"]
    text = (tmp_path / "suite.md").read_text()
    assert "--reuse" in text and "| square" in text
    with pytest.raises(SystemExit):
        script.main([*args, "--resume"])


def _rows(group, problem, nrmse, seconds):
    return [
        {
            "group": group,
            "problem": problem,
            "model": model,
            "seed": 0,
            "nrmse": value,
            "fit_seconds": seconds,
            "n_train": 10,
            "n_test": 5,
        }
        for model, value in nrmse.items()
    ]


def test_suite_report_counts_rounding_ties_and_sums_the_groups():
    df = pd.DataFrame(
        # Both at float64 rounding: a tie although nn's is 3% higher.
        _rows("formulas", "exact", {"nn": 3.8e-12, "poly": 3.7e-12}, 2.0)
        # Above rounding, 3% higher is behind.
        + _rows("formulas", "smooth", {"nn": 3.8e-4, "poly": 3.7e-4}, 40.0)
        + _rows("real", "table", {"nn": 0.5, "poly": 0.6}, 10.0)
    )
    summary = suite_report(df).split("## Per problem")[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    lines = {line.split("|")[1].strip(): line for line in rows}
    cells = [c.strip() for c in lines["formulas"].split("|")[2:6]]
    assert cells == ["2", "1", "2", "2"]  # problems, at or below, 1.05x, 1.1x
    total = [c.strip() for c in lines["all"].split("|")[2:8]]
    assert total == ["3", "2", "3", "3", "10", "40"]  # medians over problems


def test_suite_report_keeps_the_check_tables_out_of_the_all_row():
    df = pd.DataFrame(
        _rows("formulas", "smooth", {"nn": 3.8e-4, "poly": 3.7e-4}, 40.0)
        + _rows("real", "table", {"nn": 0.5, "poly": 0.6}, 10.0)
        + _rows("real-check", "other", {"nn": 0.9, "poly": 0.6}, 90.0)
    )
    summary = suite_report(df).split("## Per problem")[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    lines = {line.split("|")[1].strip(): line for line in rows}
    # The check group has its row; "all" sums what the defaults were chosen on.
    assert [c.strip() for c in lines["real-check"].split("|")[2:4]] == ["1", "0"]
    assert [c.strip() for c in lines["all"].split("|")[2:9]] == [
        "2",
        "1",
        "2",
        "2",
        "25",
        "40",
        "40",
    ]


def test_suite_report_gives_the_slowest_single_fit():
    slow = _rows("formulas", "smooth", {"nn": 3.8e-4, "poly": 3.7e-4}, 70.0)
    for row in slow:
        row["seed"] = 1
    df = pd.DataFrame(
        _rows("formulas", "smooth", {"nn": 3.8e-4, "poly": 3.7e-4}, 40.0)
        + slow
        + _rows("real", "table", {"nn": 0.5, "poly": 0.6}, 10.0)
    )
    summary = suite_report(df).split("## Per problem")[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    lines = {line.split("|")[1].strip(): line for line in rows}
    # The median over seeds is 55 s; the slowest single fit 70 s.
    assert [c.strip() for c in lines["formulas"].split("|")[6:9]] == ["55", "55", "70"]
    assert [c.strip() for c in lines["all"].split("|")[6:9]] == ["32.5", "55", "70"]
