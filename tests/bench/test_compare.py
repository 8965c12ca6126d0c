import importlib
import signal
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline

from sknnfit import NNRegressor
from sknnfit.bench import MODELS, compare, make_model, summarize
from sknnfit.bench.metrics import SCORE_KEYS
from sknnfit.bench.models import _seeded
from sknnfit.datasets import PROBLEMS
from sknnfit.exceptions import FitInterruptedWarning

# Tiny problems and models: each fit takes well under a second.
SMALL = {"n_train": 200, "n_test": 101}


def tiny_nn(**params):
    return NNRegressor((8, 8), max_epochs=5, **params)


def fast_models():
    return {"nn": tiny_nn(), "rf": RandomForestRegressor(n_estimators=5)}


@pytest.fixture(scope="module")
def user_data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(150, 3))
    y = X[:, 0] ** 2 + X[:, 1]
    return X, y


class Failing(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("boom")

    def predict(self, X):
        return np.zeros(len(X))


def test_compare_gives_one_row_per_problem_model_seed():
    df = compare(
        ["square", "formula5"],
        fast_models(),
        seeds=2,
        problem_kwargs=SMALL,
        progress=False,
    )
    assert len(df) == 2 * 2 * 2
    assert list(df.columns) == [
        "problem",
        "model",
        "seed",
        "n_train",
        "n_test",
        *SCORE_KEYS,
        "fit_seconds",
        "predict_seconds",
        "warnings",
        "warning_messages",
        "interrupted",
    ]
    assert not df["interrupted"].any() and df["interrupted"].dtype == bool
    assert "interrupted" not in df.attrs
    assert df[["problem", "model", "seed"]].values.tolist()[:4] == [
        ["square", "nn", 0],
        ["square", "nn", 1],
        ["square", "rf", 0],
        ["square", "rf", 1],
    ]
    assert (df["n_train"] == 200).all() and (df["n_test"] == 101).all()
    assert (df["fit_seconds"] > 0).all() and (df["predict_seconds"] > 0).all()
    square = df[df["problem"] == "square"]
    assert square["rmse_outside"].notna().all()
    # Metrics that do not apply are NaN, not missing columns.
    assert df.loc[df["problem"] == "formula5", "rmse_outside"].isna().all()


def test_compare_splits_user_data_80_20_by_seed(user_data):
    df = compare(user_data, ["poly"], seeds=(0, 1), progress=False)
    assert df["problem"].tolist() == ["data", "data"]
    assert df["n_train"].tolist() == [120, 120]
    assert df["n_test"].tolist() == [30, 30]
    # Different seeds split differently.
    assert df["rmse"].iloc[0] != df["rmse"].iloc[1]


def test_compare_cv_gives_one_row_per_fold(user_data):
    df = compare({"mine": user_data}, "poly", seeds=2, cv=3, progress=False)
    assert len(df) == 2 * 3
    assert df["fold"].tolist() == [0, 1, 2, 0, 1, 2]
    assert (df["n_test"] == 50).all()


def test_compare_accepts_model_names_and_named_estimators(user_data):
    df = compare(
        user_data,
        ["poly", MLPRegressor(hidden_layer_sizes=(4,), max_iter=20)],
        progress=False,
    )
    assert df["model"].tolist() == ["poly", "MLPRegressor"]


def test_fit_warnings_are_recorded_in_a_column(user_data):
    df = compare(
        user_data,
        {"short": MLPRegressor(hidden_layer_sizes=(4,), max_iter=2)},
        progress=False,
    )
    assert "ConvergenceWarning x" in df["warnings"].iloc[0]
    assert "Maximum iterations" in df["warning_messages"].iloc[0]


def test_seeded_sets_nested_random_states():
    from sknnfit.targets import TargetTransformRegressor

    model = Pipeline(
        [("nn", TargetTransformRegressor(tiny_nn(random_state=None), target="auto"))]
    )
    seeded = _seeded(model, 7)
    assert seeded.get_params()["nn__regressor__random_state"] == 7
    assert model.get_params()["nn__regressor__random_state"] is None  # a clone


def test_same_seed_gives_same_metrics(user_data):
    models = {"rf": RandomForestRegressor(n_estimators=5)}  # random_state=None
    first = compare(user_data, models, progress=False)
    second = compare(user_data, models, progress=False)
    pd.testing.assert_series_equal(first["rmse"], second["rmse"])


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="Valid models are: 'nn', 'nn-auto-target'"):
        compare("square", ["nn", "forest"], progress=False)
    with pytest.raises(ValueError, match="Did you mean 'poly'"):
        make_model("polly")


def test_unknown_problem_lists_valid_names():
    with pytest.raises(ValueError, match="Valid problems are: 'identity25'"):
        compare("sqaure", ["poly"], progress=False)


def test_bad_problem_kwargs_name_the_accepted_keys():
    with pytest.raises(ValueError, match="n_train"):
        compare("square", "poly", problem_kwargs={"rows": 10}, progress=False)


def test_problem_kwargs_per_problem():
    df = compare(
        ["square", "noisy_sin"],
        "poly",
        problem_kwargs={"square": {"n_train": 50, "n_test": 11}, "noisy_sin": SMALL},
        progress=False,
    )
    assert df["n_train"].tolist() == [50, 200]


def test_errors_record_keeps_going(user_data):
    df = compare(
        user_data, {"bad": Failing(), "poly": "poly"}, errors="record", progress=False
    )
    assert df["error"].tolist() == ["RuntimeError: boom", ""]
    assert np.isnan(df["rmse"].iloc[0]) and np.isfinite(df["rmse"].iloc[1])
    with pytest.raises(RuntimeError, match="boom"):
        compare(user_data, {"bad": Failing()}, progress=False)


def test_return_predictions_holds_arrays_and_loss_curve():
    from sknnfit.targets import TargetTransformRegressor

    # base="none": a polynomial fits square exactly, and no epoch would run.
    tt = TargetTransformRegressor(tiny_nn(base="none", guard=False), target="auto")
    models = {"tt": tt, "rf": "rf"}
    _, preds = compare(
        "square", models, problem_kwargs=SMALL, return_predictions=True, progress=False
    )
    assert list(preds) == [("square", "tt", 0), ("square", "rf", 0)]
    entry = preds["square", "tt", 0]
    assert entry["y_pred"].shape == entry["y_test"].shape == (101,)
    assert entry["X_test"].shape == (101, 1)
    assert entry["train_range"] == (-2.0, 2.0)
    assert len(entry["loss_curve"]) == len(entry["validation_curve"]) == 5
    assert preds["square", "rf", 0]["loss_curve"] is None
    assert preds["square", "rf", 0]["validation_curve"] is None


def test_summarize_gives_median_and_range_per_problem_model():
    df = compare(
        "square", {"rf": RandomForestRegressor(n_estimators=5)}, seeds=3,
        problem_kwargs=SMALL, progress=False,
    )  # fmt: skip
    summary = summarize(df)
    assert summary.shape[0] == 1
    assert summary["n_runs"].iloc[0] == 3
    for stat in ("median", "min", "max"):
        assert f"nrmse_{stat}" in summary.columns
    row = summary.iloc[0]
    assert row["nrmse_min"] <= row["nrmse_median"] <= row["nrmse_max"]
    assert row["nrmse_median"] == pytest.approx(df["nrmse"].median())


def test_models_table_names_nn_and_baselines():
    assert {"nn", "nn-auto-target", "poly", "hgb", "rf"} <= set(MODELS)
    assert set(PROBLEMS) >= {"square", "formula5"}


def test_local_worker_processes_match_sequential_run(user_data):
    models = {"rf": RandomForestRegressor(n_estimators=5)}
    sequential = compare(user_data, models, seeds=2, progress=False)
    parallel = compare(user_data, models, seeds=2, n_jobs=2, progress=False)
    timings = ["fit_seconds", "predict_seconds"]
    pd.testing.assert_frame_equal(
        sequential.drop(columns=timings), parallel.drop(columns=timings)
    )


def test_dask_backend_matches_local():
    distributed = pytest.importorskip("dask.distributed")
    models = {"nn": tiny_nn(), "rf": RandomForestRegressor(n_estimators=5)}
    kwargs = {"seeds": 2, "problem_kwargs": SMALL, "progress": False}
    local = compare("square", models, **kwargs)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = compare("square", models, backend="dask", scheduler=client, **kwargs)
    timings = ["fit_seconds", "predict_seconds"]
    pd.testing.assert_frame_equal(
        local.drop(columns=timings), remote.drop(columns=timings), rtol=1e-10
    )


def test_dask_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ImportError, match=r'pip install "sknnfit\[dask\]"'):
        compare("square", "poly", backend="dask", progress=False)


def test_scheduler_without_dask_backend_is_rejected():
    with pytest.raises(ValueError, match='backend="dask"'):
        compare("square", "poly", scheduler="tcp://localhost:8786", progress=False)


def test_import_sknnfit_leaves_the_harness_unloaded():
    code = (
        "import sys, sknnfit; "
        "print(sorted(m for m in sys.modules if m.startswith('sknnfit.bench')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == "[]"


def test_sknnfit_compare_is_the_harness_function():
    import sknnfit

    assert sknnfit.compare is compare
    assert sknnfit.summarize is summarize


# ---------------------------------------------------------------------- Ctrl-C

TINY = {"n_train": 50, "n_test": 11}
FITTED = []  # (model, seed) of every fit of the fakes below, in this process


class Mean(RegressorMixin, BaseEstimator):
    """Predicts the mean; ``how`` says how its fit meets a Ctrl-C."""

    def __init__(self, how=None, random_state=None):
        self.how = how
        self.random_state = random_state

    def fit(self, X, y):
        FITTED.append((self.how, self.random_state))
        self.mean_ = float(np.mean(y))
        if self.how == "warn":  # NNRegressor: keeps its weights and says so
            warnings.warn("fit was interrupted", FitInterruptedWarning, stacklevel=2)
        elif self.how == "flag":  # interrupted_ only, no warning
            self.interrupted_ = True
        elif self.how == "raise":  # a second Ctrl-C, or any other model
            raise KeyboardInterrupt
        elif self.how == "sigint":  # a real Ctrl-C
            signal.raise_signal(signal.SIGINT)
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


class Wrapper(RegressorMixin, BaseEstimator):
    """A meta-estimator that exposes its fitted model as ``regressor_``."""

    def __init__(self, regressor):
        self.regressor = regressor

    def fit(self, X, y):
        self.regressor_ = clone(self.regressor).fit(X, y)
        return self

    def predict(self, X):
        return self.regressor_.predict(X)


@pytest.fixture
def fitted():
    FITTED.clear()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield FITTED
    signal.signal(signal.SIGINT, previous)


def _assert_stopped_at_the_cut(df, n_fits=6):
    """poly seeds 0-1 finished, cut seed 0 marked, nothing after it."""
    assert df[["model", "seed"]].values.tolist() == [
        ["poly", 0],
        ["poly", 1],
        ["cut", 0],
    ]
    assert df["interrupted"].tolist() == [False, False, True]
    assert df.attrs == {"interrupted": True, "n_fits": n_fits}
    cut = df.iloc[2]
    assert np.isnan(cut[list(SCORE_KEYS)].astype(float)).all()
    assert np.isnan(cut["fit_seconds"]) and np.isnan(cut["predict_seconds"])
    assert np.isfinite(df["nrmse"].iloc[:2]).all()


@pytest.mark.parametrize("how", ["warn", "flag", "raise", "sigint"])
def test_ctrl_c_stops_the_run_and_keeps_what_finished(fitted, how):
    models = {"poly": "poly", "cut": Mean(how), "after": Mean("after")}
    df = compare("square", models, seeds=2, problem_kwargs=TINY, progress=False)
    _assert_stopped_at_the_cut(df)
    assert fitted == [(how, 0)]  # the cut fit; neither its seed 1 nor "after"
    if how == "warn":
        assert "FitInterruptedWarning x1" in df["warnings"].iloc[2]


def test_interrupted_flag_is_read_inside_a_wrapper(fitted):
    models = {"poly": "poly", "cut": Wrapper(Mean("flag")), "after": Mean()}
    df = compare("square", models, seeds=2, problem_kwargs=TINY, progress=False)
    _assert_stopped_at_the_cut(df)
    assert fitted == [("flag", 0)]


def test_ctrl_c_keeps_finished_predictions_and_cv_folds(fitted, user_data):
    models = {"poly": "poly", "cut": Mean("raise")}
    df, preds = compare(
        user_data, models, seeds=2, cv=2, return_predictions=True, progress=False
    )
    assert df[["model", "seed", "fold"]].values.tolist() == [
        ["poly", 0, 0], ["poly", 0, 1], ["poly", 1, 0], ["poly", 1, 1], ["cut", 0, 0]
    ]  # fmt: skip
    assert df.attrs["n_fits"] == 8
    assert list(preds) == [
        tuple(key) for key in df[["problem", "model", "seed", "fold"]].values
    ]
    assert preds["data", "cut", 0, 0]["y_pred"] is None
    assert preds["data", "poly", 1, 1]["y_pred"].shape == (75,)
    # The frame summarizes: the cut fit's NaN metrics stay out of the medians.
    assert summarize(df)["nrmse_median"].isna().tolist() == [False, True]


def test_ctrl_c_with_errors_record(fitted, user_data):
    models = {"bad": Failing(), "cut": Mean("raise"), "after": Mean()}
    df = compare(user_data, models, errors="record", progress=False)
    assert df["error"].tolist() == ["RuntimeError: boom", ""]
    assert df["interrupted"].tolist() == [False, True]
    assert fitted == [("raise", 0)]


def test_real_nn_cut_by_ctrl_c_stops_the_run(fitted, monkeypatch):
    from sknnfit.training.stopping import BestWeights

    original = BestWeights.on_epoch_end

    def on_epoch_end(self, net, **kwargs):
        original(self, net, **kwargs)
        if len(net.history) == 2:
            raise KeyboardInterrupt  # as a Ctrl-C would, after epoch 2

    monkeypatch.setattr(BestWeights, "on_epoch_end", on_epoch_end)
    # base="none": a polynomial fits square exactly, and no epoch would run.
    models = {"poly": "poly", "cut": tiny_nn(base="none"), "after": Mean()}
    df = compare("square", models, seeds=2, problem_kwargs=TINY, progress=False)
    _assert_stopped_at_the_cut(df)
    assert "FitInterruptedWarning" in df["warnings"].iloc[2]
    assert fitted == []


def test_keyboard_interrupt_in_the_main_process_stops_a_parallel_run(monkeypatch):
    """With n_jobs, Ctrl-C reaches this process while it waits for results."""
    compare_module = importlib.import_module("sknnfit.bench.compare")

    class Interrupted:  # joblib's generator: one result, then the Ctrl-C
        def __init__(self, n_jobs, return_as):
            assert n_jobs == 2

        def __call__(self, calls):
            def results():
                function, args, kwargs = next(iter(calls))
                yield function(*args, **kwargs)
                raise KeyboardInterrupt

            return results()

    monkeypatch.setattr(compare_module, "Parallel", Interrupted)
    df = compare(
        "square", ["poly", "hgb"], seeds=2, problem_kwargs=TINY, n_jobs=2,
        progress=False,
    )  # fmt: skip
    assert df[["model", "seed"]].values.tolist() == [["poly", 0]]
    assert not df["interrupted"].any()
    assert df.attrs == {"interrupted": True, "n_fits": 4}


def test_cut_fit_in_a_worker_process_stops_the_run(tmp_path):
    models = {"cut": Mean("warn"), "poly": "poly"}
    df = compare(
        "square", models, seeds=2, problem_kwargs=TINY, n_jobs=2, progress=False
    )
    assert df.attrs == {"interrupted": True, "n_fits": 4}
    assert df["interrupted"].sum() == 1 and len(df) < 4


def test_compare_test_size_sets_the_split_of_user_data(user_data):
    df = compare(user_data, ["poly"], seeds=[0], test_size=0.25, progress=False)
    assert (df.loc[0, "n_train"], df.loc[0, "n_test"]) == (112, 38)
    df = compare(user_data, ["poly"], seeds=[0], test_size=30, progress=False)
    assert df.loc[0, "n_test"] == 30


@pytest.mark.parametrize("bad", [0.0, 1.0, 0, True, "0.2"])
def test_compare_rejects_bad_test_size(user_data, bad):
    with pytest.raises(ValueError, match="test_size must be a fraction"):
        compare(user_data, ["poly"], test_size=bad, progress=False)
