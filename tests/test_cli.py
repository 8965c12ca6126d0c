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
    # No loss plot: square is a polynomial, which nn's automatic base fits
    # exactly, so the network trains no epoch (test_plots draws one).
    for kind in ("pred_vs_true", "abs_error", "curves"):
        assert (out_dir / f"square_{kind}.png").stat().st_size > 1000


def test_compare_csv_uses_other_columns_as_features(csv_file, tmp_path, capsys):
    out_dir = tmp_path / "out"
    args = ["compare", "--csv", str(csv_file), "--target", "y", "--target", "y2"]
    args += ["--models", "poly,rf", "--out", str(out_dir), "--no-progress"]
    status = main(args)
    assert status == 0
    printed = capsys.readouterr().out
    assert "120 rows, 3 features -> y, y2" in printed
    results = pd.read_csv(out_dir / "results.csv")
    assert results["problem"].tolist() == ["data", "data"]
    assert results["n_test"].tolist() == [24, 24]
    assert (out_dir / "data_pred_vs_true.png").exists()
    # Each target's scores, besides their average.
    assert "data, per target" in printed
    per_target = pd.read_csv(out_dir / "per_target.csv")
    assert per_target[["model", "target"]].values.tolist() == [
        ["poly", "y"],
        ["poly", "y2"],
        ["rf", "y"],
        ["rf", "y2"],
    ]
    summary = pd.read_csv(out_dir / "summary.csv")
    mean_nrmse = per_target.groupby("model", sort=False)["nrmse_median"].mean()
    np.testing.assert_allclose(mean_nrmse.to_numpy(), summary["nrmse_median"])


def test_compare_csv_missing_target_lists_columns(csv_file, capsys):
    status = main(["compare", "--csv", str(csv_file), "--target", "price"])
    assert status == 2
    err = capsys.readouterr().err
    assert "Target column(s) ['price'] not found" in err
    assert "Available columns: ['a', 'b', 'c', 'y', 'y2']" in err


@pytest.fixture
def table_file(tmp_path):
    """A semicolon-separated table with a text column and missing values."""
    rng = np.random.RandomState(0)
    n = 100
    df = pd.DataFrame(
        {
            "size": rng.uniform(1, 5, n),
            "colour": rng.choice(["red", "blue", "green"], n).astype(object),
            "age": rng.normal(size=n),
        }
    )
    df.loc[[3, 9], "size"] = np.nan
    df.loc[[4, 5], "colour"] = None
    df["y"] = np.nan_to_num(df["size"]) + 2.0 * (df["colour"] == "red") + 1.0
    df["y2"] = 2.0 * df["age"]
    path = tmp_path / "table.csv"
    df.to_csv(path, sep=";", index=False)
    return path


def test_compare_csv_with_text_and_missing_values_runs_hgb(
    table_file, tmp_path, capsys
):
    out_dir = tmp_path / "out"
    args = ["compare", "--csv", str(table_file), "--target", "y", "--models", "hgb"]
    assert main([*args, "--out", str(out_dir), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "100 rows, 4 features (text column(s) ['colour'] encoded" in printed
    assert "missing value(s) imputed inside each model" in printed
    results = pd.read_csv(out_dir / "results.csv")
    assert results["model"].tolist() == ["hgb"]
    assert results["nrmse"].notna().all() and results["nrmse"][0] < 1


def test_compare_csv_text_target_is_named(csv_file, capsys):
    df = pd.read_csv(csv_file)
    df["colour"] = "red"
    df.to_csv(csv_file, index=False)
    status = main(["compare", "--csv", str(csv_file), "--target", "colour"])
    assert status == 2
    err = capsys.readouterr().err
    assert "Target column(s) ['colour']" in err and "not numeric" in err


def test_compare_csv_with_decimal_commas_says_so(tmp_path, capsys):
    path = tmp_path / "comma.csv"
    path.write_text("x;y\n" + "".join(f"{i};{i},5\n" for i in range(20)))
    assert main(["compare", "--csv", str(path), "--target", "y"]) == 2
    assert "decimal comma" in capsys.readouterr().err


def test_compare_csv_with_too_few_rows_is_refused_before_any_fit(tmp_path, capsys):
    path = tmp_path / "tiny.csv"
    pd.DataFrame({"x": np.arange(9.0), "y": np.arange(9.0) ** 2}).to_csv(
        path, index=False
    )
    assert main(["compare", "--csv", str(path), "--target", "y"]) == 2
    assert "has 9 rows: too few" in capsys.readouterr().err
    pd.DataFrame({"x": np.arange(12.0), "y": np.arange(12.0)}).to_csv(path, index=False)
    assert main(["compare", "--csv", str(path), "--target", "y", "--cv", "7"]) == 2
    assert "Pass at least 14" in capsys.readouterr().err


def test_one_fold_is_refused(csv_file, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--csv", str(csv_file), "--target", "y", "--cv", "1"])
    assert exit_info.value.code == 2
    assert "K >= 2 folds" in capsys.readouterr().err


def test_explicit_separator_is_used(table_file, capsys):
    from sknnfit.cli import load_csv

    X, y, features = load_csv(table_file, ["y"], sep=";")
    assert features == ["size", "colour", "age", "y2"] and y.shape == (100,)
    assert not pd.api.types.is_numeric_dtype(X["colour"])  # text stays text
    assert X["colour"].isna().sum() == 2 and X["size"].isna().sum() == 2
    # The wrong delimiter leaves one column, whose name lists the others.
    status = main(["compare", "--csv", str(table_file), "--target", "y", "--sep", ","])
    assert status == 2
    assert "--sep" in capsys.readouterr().err


def test_unwritable_out_is_refused_before_any_fit(
    csv_file, tmp_path, capsys, monkeypatch
):
    import sknnfit.bench

    def no_fit(*args, **kwargs):
        raise AssertionError("compare ran before --out was checked")

    monkeypatch.setattr(sknnfit.bench, "compare", no_fit)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    out = blocker / "results"
    args = ["compare", "--csv", str(csv_file), "--target", "y", "--models", "poly"]
    assert main([*args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"Cannot write to the output folder {str(out)!r}" in err
    assert "--out DIR" in err


def test_version_is_the_package_version(capsys):
    from sknnfit._version import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sknnfit {__version__}"


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
        # A shell's background job starts with SIGINT ignored; a terminal's
        # Ctrl-C reaches Python's own handler.
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
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


# ------------------------------------------------------------ fit and predict


@pytest.fixture
def tiny_models(monkeypatch):
    """sknnfit fit's model names, built small so a fit takes a second."""
    import sknnfit.bench
    from sknnfit import NNRegressor
    from sknnfit.targets import TargetTransformRegressor

    def make_model(name, *, random_state=0):
        nn = NNRegressor(
            hidden_layer_sizes=(8,), max_epochs=3, random_state=random_state
        )
        if name == "nn-auto-target":
            return TargetTransformRegressor(nn, target="auto")
        if name == "nn":
            return nn
        return real(name, random_state=random_state)

    real = sknnfit.bench.make_model
    monkeypatch.setattr(sknnfit.bench, "make_model", make_model)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", ["nn-auto-target", "nn"])
def test_fit_then_predict_round_trip(table_file, tmp_path, capsys, tiny_models, model):
    from sknnfit import load

    model_path = tmp_path / "model.sknnfit"
    args = ["fit", "--csv", str(table_file), "--target", "y", "--target", "y2"]
    assert main([*args, "--model", model, "-o", str(model_path)]) == 0
    assert "text column(s) ['colour'] encoded" in capsys.readouterr().out
    # New rows: another delimiter, columns reordered, the targets left out.
    new = pd.read_csv(table_file, sep=";").head(7)[["age", "colour", "size"]]
    new.loc[0, "colour"] = "purple"  # a category the model never saw
    new.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "predictions.csv"
    assert (
        main(["predict", str(model_path), str(tmp_path / "new.csv"), "-o", str(out)])
        == 0
    )
    assert "wrote 7 predictions of y, y2" in capsys.readouterr().out
    predictions = pd.read_csv(out, float_precision="round_trip")
    assert list(predictions.columns) == ["y", "y2"]
    expected = load(model_path).predict(new[["size", "colour", "age"]])
    np.testing.assert_array_equal(predictions.to_numpy(), expected)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predict_names_the_missing_columns(csv_file, tmp_path, capsys, tiny_models):
    model_path = tmp_path / "model.sknnfit"
    args = ["fit", "--csv", str(csv_file), "--target", "y", "--model", "nn"]
    assert main([*args, "-o", str(model_path)]) == 0
    pd.read_csv(csv_file).drop(columns=["b", "c"]).to_csv(tmp_path / "new.csv")
    args = ["predict", str(model_path), str(tmp_path / "new.csv")]
    assert main([*args, "-o", str(tmp_path / "p.csv")]) == 2
    err = capsys.readouterr().err
    assert "lacks the feature column(s) ['b', 'c']" in err
    assert "needs ['a', 'b', 'c', 'y2']" in err
    assert not (tmp_path / "p.csv").exists()


def test_fit_refuses_a_model_the_file_cannot_hold_before_fitting(
    csv_file, tmp_path, capsys, monkeypatch
):
    from sklearn.ensemble import HistGradientBoostingRegressor

    def no_fit(self, X, y):
        raise AssertionError("fitted a model that cannot be saved")

    monkeypatch.setattr(HistGradientBoostingRegressor, "fit", no_fit)
    args = ["fit", "--csv", str(csv_file), "--target", "y", "--model", "hgb"]
    assert main([*args, "-o", str(tmp_path / "m.sknnfit")]) == 2
    err = capsys.readouterr().err
    assert "--model hgb cannot be saved by sknnfit fit: sknnfit.save cannot" in err
    assert "joblib.dump" in err


def test_fit_refuses_an_unwritable_model_path_before_fitting(
    csv_file, tmp_path, capsys, monkeypatch
):
    import sknnfit.bench

    monkeypatch.setattr(sknnfit.bench, "make_model", lambda *a, **k: pytest.fail())
    target = tmp_path / "no_such_folder" / "m.sknnfit"
    args = ["fit", "--csv", str(csv_file), "--target", "y", "-o", str(target)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"Cannot write {str(target)!r}" in err and "does not exist" in err
