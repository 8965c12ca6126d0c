import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sknnfit.cli import DEFAULT_MAX_TRAIN, main

FAST = ["--n-train", "100", "--n-test", "101", "--no-progress"]


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.RandomState(0)
    df = pd.DataFrame(rng.uniform(-1, 1, size=(120, 3)), columns=["a", "b", "c"])
    df["y"] = df["a"] ** 2 + df["b"]
    df["y2"] = df["c"] - df["a"]
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    return path


def test_python_m_sknnfit_problems_lists_reference_problems():
    result = subprocess.run(
        [sys.executable, "-m", "sknnfit", "problems"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    for name in ("formula5", "square", "steep25x19"):
        assert name in result.stdout


def test_models_command_lists_names(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "nn-auto-target" in out and "hgb" in out


def test_compare_prints_table_and_writes_csv_and_pngs(tmp_path, capsys):
    out_dir = tmp_path / "out"
    args = ["compare", "--problem", "square", "--models", "nn,poly", "--seeds", "2"]
    status = main([*args, *FAST, "--out", str(out_dir)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "square: 100 training rows (of its 1000" in printed
    assert "nrmse" in printed and "poly" in printed
    results = pd.read_csv(out_dir / "results.csv")
    assert len(results) == 4
    assert set(results["model"]) == {"nn", "poly"}
    summary = pd.read_csv(out_dir / "summary.csv")
    assert summary["n_runs"].tolist() == [2, 2]
    for kind in ("pred_vs_true", "abs_error", "curves", "loss"):
        assert (out_dir / f"square_{kind}.png").stat().st_size > 1000


def test_compare_csv_uses_other_columns_as_features(csv_file, tmp_path, capsys):
    out_dir = tmp_path / "out"
    args = ["compare", "--csv", str(csv_file), "--target", "y", "--target", "y2"]
    args += ["--models", "poly,rf", "--out", str(out_dir), "--no-progress"]
    status = main(args)
    assert status == 0
    assert "120 rows, 3 features -> y, y2" in capsys.readouterr().out
    results = pd.read_csv(out_dir / "results.csv")
    assert results["problem"].tolist() == ["data", "data"]
    assert results["n_test"].tolist() == [24, 24]
    assert (out_dir / "data_pred_vs_true.png").exists()


def test_compare_csv_missing_target_lists_columns(csv_file, capsys):
    status = main(["compare", "--csv", str(csv_file), "--target", "price"])
    assert status == 2
    err = capsys.readouterr().err
    assert "Target column(s) ['price'] not found" in err
    assert "Available columns: ['a', 'b', 'c', 'y', 'y2']" in err


def test_compare_csv_non_numeric_feature_is_named(csv_file, capsys):
    df = pd.read_csv(csv_file)
    df["colour"] = "red"
    df.to_csv(csv_file, index=False)
    status = main(["compare", "--csv", str(csv_file), "--target", "y", "--no-plots"])
    assert status == 2
    err = capsys.readouterr().err
    assert "Feature column(s) ['colour']" in err and "not numeric" in err


def test_compare_csv_needs_target(csv_file, capsys):
    assert main(["compare", "--csv", str(csv_file)]) == 2
    assert "--target COLUMN" in capsys.readouterr().err


def test_unknown_model_lists_valid_ones(capsys):
    status = main(["compare", "--problem", "square", "--models", "nn,svm", *FAST])
    assert status == 2
    assert "Valid models are: 'nn'" in capsys.readouterr().err


def test_unknown_problem_lists_valid_ones(capsys):
    status = main(["compare", "--problem", "cube", *FAST])
    assert status == 2
    assert "Valid problems are: 'identity25'" in capsys.readouterr().err


def test_scheduler_needs_dask_backend(capsys):
    status = main(["compare", "--scheduler", "tcp://localhost:8786", *FAST])
    assert status == 2
    assert "--backend dask" in capsys.readouterr().err


def test_help_states_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--problem formula5" in out
    assert "--seeds 1" in out
    assert str(DEFAULT_MAX_TRAIN) in out


def test_ctrl_c_prints_and_writes_what_finished_and_exits_130(
    tmp_path, capsys, monkeypatch
):
    from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

    def interrupted_fit(self, X, y, **kwargs):
        raise KeyboardInterrupt  # a Ctrl-C during the hgb fit

    def never_fit(self, X, y, **kwargs):
        raise AssertionError("a fit after the Ctrl-C started")

    monkeypatch.setattr(HistGradientBoostingRegressor, "fit", interrupted_fit)
    monkeypatch.setattr(RandomForestRegressor, "fit", never_fit)
    out_dir = tmp_path / "out"
    args = ["compare", "--problem", "square", "--models", "poly,hgb,rf"]
    status = main([*args, "--seeds", "2", *FAST, "--out", str(out_dir)])
    assert status == 130
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "interrupted by the user" in captured.err
    # The partial table: poly's two seeds, hgb marked, rf absent.
    assert "poly " in captured.out and "hgb *" in captured.out
    table = captured.out.split("Test metrics")[1].splitlines()
    assert not any(line.startswith("rf ") for line in table)
    assert "3 of 6 fits finished" in captured.out
    assert "* square / hgb seed 0 was cut short" in captured.out
    results = pd.read_csv(out_dir / "results.csv")
    assert results[["model", "seed"]].values.tolist() == [
        ["poly", 0],
        ["poly", 1],
        ["hgb", 0],
    ]
    assert results["interrupted"].tolist() == [False, False, True]
    assert results["nrmse"].isna().tolist() == [False, False, True]
    summary = pd.read_csv(out_dir / "summary.csv")
    assert summary["model"].tolist() == ["poly", "hgb"]  # unmarked in the file
    assert (out_dir / "square_pred_vs_true.png").exists()


def test_ctrl_c_in_the_first_fit_exits_130(tmp_path, capsys, monkeypatch):
    from sknnfit.bench.baselines import PolynomialRegressor

    def interrupted_fit(self, X, y, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(PolynomialRegressor, "fit", interrupted_fit)
    out_dir = tmp_path / "out"
    args = ["compare", "--problem", "square", "--models", "poly", *FAST]
    assert main([*args, "--out", str(out_dir)]) == 130
    captured = capsys.readouterr()
    assert "hgb" not in captured.out and "Traceback" not in captured.err
    assert "interrupted by the user" in captured.err
    # The cut fit is still a row: what finished, and how, is written down.
    results = pd.read_csv(out_dir / "results.csv")
    assert results["interrupted"].tolist() == [True]
    assert not list(out_dir.glob("*.png"))  # nothing to draw


def test_ctrl_c_outside_the_fits_exits_130_without_traceback(capsys, monkeypatch):
    import sknnfit.bench

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sknnfit.bench, "compare", interrupted)
    assert main(["compare", "--problem", "square", "--models", "poly", *FAST]) == 130
    captured = capsys.readouterr()
    assert captured.err.strip() == "sknnfit compare: interrupted by the user"


def test_python_m_sknnfit_exits_130_on_ctrl_c(tmp_path):
    """A real SIGINT in a subprocess: status 130, partial results, no traceback."""
    code = (
        "import signal, sys\n"
        "from sklearn.ensemble import HistGradientBoostingRegressor as H\n"
        "H.fit = lambda self, X, y: signal.raise_signal(signal.SIGINT)\n"
        "from sknnfit.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    args = ["compare", "--problem", "square", "--models", "poly,hgb,rf", *FAST]
    result = subprocess.run(
        [sys.executable, "-c", code, *args, "--no-plots", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 130
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("sknnfit compare: interrupted by the user")
    results = pd.read_csv(tmp_path / "results.csv")
    assert results["model"].tolist() == ["poly", "hgb"]
