"""Behaviour of NNRegressor: sklearn integration, shapes, dtypes, training records."""

import copy
import dataclasses
import types
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknnfit import NNRegressor
from sknnfit.bases import LaurentPolynomial
from sknnfit.estimators import MAX_AUTO_MEMBERS, MEMBER_SHARE, STAGE_T
from sknnfit.exceptions import (
    ConvergenceWarning,
    ExtrapolationWarning,
    NetworkNotUsedWarning,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sknnfit.exceptions.ExtrapolationWarning",
    "ignore::sklearn.exceptions.ConvergenceWarning",
)


#: This module's network for ``small_nn``: wider and longer-trained than its default.
NN16 = {"hidden_layer_sizes": (16,), "max_epochs": 5}


def test_fits_a_smooth_function_well(smooth_data):
    X, y = smooth_data
    model = NNRegressor(max_epochs=150, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.99


def test_one_dimensional_y_gives_one_dimensional_predictions(small_nn, smooth_data):
    X, y = smooth_data
    pred = small_nn(**NN16).fit(X, y).predict(X)
    assert pred.shape == (120,)
    assert pred.dtype == np.float64


@pytest.mark.parametrize("n_outputs", [1, 19])
def test_two_dimensional_y_keeps_its_shape(small_nn, smooth_data, n_outputs):
    X, y = smooth_data
    Y = np.column_stack([y * (k + 1) for k in range(n_outputs)])
    model = small_nn(**NN16).fit(X, Y)
    assert model.n_outputs_ == n_outputs
    assert model.predict(X).shape == (120, n_outputs)


def test_targets_are_standardised_per_output(small_nn, smooth_data):
    X, y = smooth_data
    Y = np.column_stack([y, 1e6 * y + 5e6])
    model = small_nn(hidden_layer_sizes=(16,), max_epochs=80).fit(X, Y)
    np.testing.assert_allclose(model.y_mean_, Y.mean(axis=0))
    np.testing.assert_allclose(model.y_scale_, Y.std(axis=0))
    pred = model.predict(X)
    # Both outputs are learnt on the same scale: the huge one is fitted as well
    # as the small one.
    r0 = np.abs(pred[:, 0] - Y[:, 0]).mean() / Y[:, 0].std()
    r1 = np.abs(pred[:, 1] - Y[:, 1]).mean() / Y[:, 1].std()
    assert r0 < 0.3 and abs(r1 - r0) < 0.05


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_accepts_float_and_int_inputs(small_nn, smooth_data, dtype):
    X, y = smooth_data
    Xd = (X * 10).astype(dtype)
    pred = small_nn(**NN16).fit(Xd, y).predict(Xd)
    assert np.isfinite(pred).all()


def test_dataframe_input_records_feature_names(small_nn, smooth_data):
    X, y = smooth_data
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    model = small_nn(**NN16).fit(df, y)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_array_equal(model.predict(df), model.predict(X))


def test_fitted_attributes(small_nn, smooth_data):
    X, y = smooth_data
    model = small_nn(hidden_layer_sizes=(16,), max_epochs=7).fit(X, y)
    assert model.n_features_in_ == 3
    assert model.n_epochs_ == 7
    assert len(model.loss_curve_) == 7
    assert model.validation_loss_curve_ is None
    assert model.device_ == "cpu"
    # 120 rows: optimizer="auto" picks full-batch L-BFGS.
    assert model.optimizer_ == "lbfgs"
    assert model.batch_size_ == 120
    assert model.best_epoch_ == 7
    assert isinstance(model.net_.module_, torch.nn.Module)


def test_early_stopping_holds_out_data_and_restores_best_weights(small_nn, smooth_data):
    X, y = smooth_data
    model = small_nn(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        patience=3,
        max_epochs=300,
        lr=0.05,
        validation_fraction=0.2,
    ).fit(X, y)
    assert model.n_epochs_ < 300
    assert len(model.validation_loss_curve_) == model.n_epochs_
    best = int(np.argmin(model.validation_loss_curve_)) + 1
    assert model.best_epoch_ == best
    # The restored weights reproduce the best validation loss, not the last one.
    assert min(model.validation_loss_curve_) <= model.validation_loss_curve_[-1]


def test_no_validation_split_without_early_stopping(small_nn, smooth_data):
    X, y = smooth_data
    model = small_nn(**NN16).fit(X, y)
    assert model.net_.train_split is None
    assert "valid_loss" not in model.net_.history[-1]


def test_lbfgs_with_nothing_held_out_stops_once_its_training_loss_is_flat():
    # On 20 noisy rows a 16x16 network's float32 L-BFGS loss stops moving by
    # its 6th epoch; 300 epochs would end at the same loss to the last digit.
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (20, 1))
    y = np.sin(x[:, 0]) + rng.normal(0.0, 0.2, 20)

    def fit(optimizer, max_epochs):
        return NNRegressor(
            (16, 16),
            optimizer=optimizer,
            early_stopping=False,
            max_epochs=max_epochs,
            random_state=0,
        ).fit(x, y)

    model = fit("lbfgs", 300)
    assert model.stages_[0]["stop"] == "flat"
    assert 10 < model.n_epochs_ < 300
    lowest = np.minimum.accumulate(model.loss_curve_)
    assert lowest[-1] > lowest[-11] * (1 - 1e-5)  # the last `patience` epochs
    # A stochastic optimizer's flat-looking loss is not a stop: its epochs run.
    adamw = fit("adamw", 30)
    assert adamw.n_epochs_ == 30 and adamw.stages_[0]["stop"] == "max_epochs"


def test_convergence_warning_when_still_improving(smooth_data):
    X, y = smooth_data
    with pytest.warns(ConvergenceWarning, match="max_epochs=10"):
        NNRegressor(
            hidden_layer_sizes=(8,),
            max_epochs=10,
            lr=1e-2,
            lr_schedule="none",
            random_state=0,
        ).fit(X, y)


def test_extrapolation_warning_gives_fraction_outside(small_nn, smooth_data):
    X, y = smooth_data
    model = small_nn(**NN16).fit(X, y)
    X_out = X.copy()
    X_out[:30, 0] = 5.0
    with pytest.warns(ExtrapolationWarning, match=r"25\.0% of the rows"):
        model.predict(X_out)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        model.predict(X)


def test_random_state_none_varies(small_nn, smooth_data):
    X, y = smooth_data
    a = small_nn(**NN16, random_state=None).fit(X, y).predict(X)
    b = small_nn(**NN16, random_state=None).fit(X, y).predict(X)
    assert not np.array_equal(a, b)


def test_thread_count_is_restored(small_nn, smooth_data):
    X, y = smooth_data
    before = torch.get_num_threads()
    small_nn(**NN16, n_threads=1).fit(X, y).predict(X)
    assert torch.get_num_threads() == before


def test_clone_and_params_round_trip():
    model = NNRegressor(hidden_layer_sizes=(4, 4), lr=0.01, net_params={"a": 1})
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert twin.net_params is not model.net_params
    twin.set_params(lr=0.5)
    assert twin.lr == 0.5 and model.lr == 0.01


def test_pipeline_and_grid_search(small_nn, smooth_data):
    X, y = smooth_data
    pipe = Pipeline([("scale", StandardScaler()), ("nn", small_nn(**NN16))])
    search = GridSearchCV(
        pipe,
        {"nn__hidden_layer_sizes": [(8,), (16,)], "nn__lr": [1e-3, 1e-2]},
        cv=2,
        n_jobs=2,
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"nn__hidden_layer_sizes", "nn__lr"}
    assert search.predict(X).shape == (120,)


def test_log_input_transform_for_decade_spanning_columns():
    rng = np.random.default_rng(1)
    X = np.column_stack([10 ** rng.uniform(-3, 3, 300), rng.uniform(1, 2, 300)])
    y = np.log10(X[:, 0]) + X[:, 1]
    model = NNRegressor(max_epochs=60, random_state=0).fit(X, y)
    assert model.log_columns_ == [0]
    assert model.score(X, y) > 0.99
    # A value <= 0 in a column whose log was appended: its log is floored.
    with pytest.warns(ExtrapolationWarning, match="training minimum"):
        assert np.isfinite(model.predict(np.array([[-1.0, 1.5]]))).all()


def test_a_value_below_zero_reaches_the_base_as_it_is():
    # x spans decades, so its log is appended; the exact polynomial base must
    # still see x = -2 itself, not the training minimum.
    x = np.geomspace(0.01, 3.0, 300)
    model = NNRegressor(random_state=0).fit(x[:, None], x**2 - x + 1)
    assert model.log_columns_ == [0] and model.base_kind_.startswith("poly")
    with pytest.warns(ExtrapolationWarning, match="column itself keeps its value"):
        got = model.predict(np.array([[-2.0], [0.0], [1.0]]))
    np.testing.assert_allclose(got, [7.0, 1.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "lbfgs", "signagree"])
def test_every_optimizer_trains(small_nn, smooth_data, optimizer):
    X, y = smooth_data
    model = small_nn(
        hidden_layer_sizes=(16,), optimizer=optimizer, max_epochs=3, lr=1e-2
    ).fit(X, y)
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize(
    "schedule", ["none", "linear", "onecycle", "wsd", "cosine", "plateau"]
)
@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_schedules_and_losses(small_nn, smooth_data, schedule, loss):
    X, y = smooth_data
    model = small_nn(
        hidden_layer_sizes=(16,), lr_schedule=schedule, loss=loss, max_epochs=3
    ).fit(X, y)
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize(
    "activation", ["relu", "leaky_relu", "tanh", "gelu", "silu", "sin"]
)
def test_every_activation_trains(small_nn, smooth_data, activation):
    X, y = smooth_data
    model = small_nn(hidden_layer_sizes=(16,), activation=activation, max_epochs=3).fit(
        X, y
    )
    assert np.isfinite(model.predict(X)).all()


def test_verbose_shows_progress_bar(small_nn, smooth_data, capsys):
    X, y = smooth_data
    small_nn(hidden_layer_sizes=(16,), verbose=1, max_epochs=2).fit(X, y)
    err = capsys.readouterr().err
    assert "2/2" in err and "loss=" in err


def test_silent_by_default(small_nn, smooth_data, capsys):
    X, y = smooth_data
    small_nn(**NN16).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_net_params_escape_hatch_is_applied_and_not_mutated(small_nn, smooth_data):
    X, y = smooth_data
    params = {"optimizer__eps": 1e-5, "module__sin_w0": 2.0}
    model = small_nn(
        **NN16, net_params=params, activation="sin", optimizer="adamw"
    ).fit(X, y)
    assert model.net_.optimizer_.param_groups[0]["eps"] == 1e-5
    assert model.net_.module_.hidden[1].w0 == 2.0
    assert params == {"optimizer__eps": 1e-5, "module__sin_w0": 2.0}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_predicts_like_cpu(small_nn, smooth_data):
    X, y = smooth_data
    model = small_nn(**NN16, device="cuda").fit(X, y)
    assert model.device_ == "cuda"
    assert next(model.net_.module_.parameters()).is_cuda
    assert np.isfinite(model.predict(X)).all()


def test_log_appended_for_columns_spanning_more_than_a_decade(small_nn):
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.uniform(1000, 50000, 200),  # 1.7 decades: logged (seed 001's x3)
            rng.uniform(500, 1000, 200),  # a factor of 2: not logged
            rng.uniform(-1, 1, 200),  # signed: never logged
        ]
    )
    model = small_nn(hidden_layer_sizes=(16,), max_epochs=1).fit(X, X[:, 0])
    assert model.log_columns_ == [0]
    assert model.input_transformer_.transform(X[:3]).shape == (3, 4)


def test_auto_architecture_is_recorded_and_built(smooth_data):
    X, y = smooth_data
    model = NNRegressor(max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.hidden_layer_sizes_ == (128, 128, 128)
    assert model.precision_ == "float32"
    widths = [
        m.out_features for m in model.net_.module_.hidden if hasattr(m, "out_features")
    ]
    assert widths == [128, 128, 128]
    assert model.net_.module_.precision == "float32"


def test_default_threads_leave_pytorch_alone(small_nn, smooth_data, monkeypatch):
    X, y = smooth_data

    def refuse(n):
        raise AssertionError(f"set_num_threads({n}) with n_threads=None")

    monkeypatch.setattr(torch, "set_num_threads", refuse)
    model = small_nn(**NN16, n_threads=None).fit(X, y)
    model.predict(X)
    assert NNRegressor().n_threads is None


def test_max_epochs_auto_is_recorded():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (64, 1))
    model = NNRegressor((4,), optimizer="adam", early_stopping=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, X[:, 0] ** 2)
    # 64 rows in batches of 32: 2 steps per epoch, so the 400-epoch cap binds.
    assert model.max_epochs_ == 400
    assert model.n_epochs_ == 400


# ------------------------------------------------------------------ precision


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_precision_sets_the_training_arithmetic(
    small_nn, smooth_data, precision, monkeypatch
):
    import sknnfit._auto as auto_module

    monkeypatch.setattr(auto_module, "native_bfloat16", lambda device: True)
    X, y = smooth_data
    seen = []

    def probe(module, inputs, output):
        seen.append((module.training, output.dtype))

    original = torch.nn.Linear.forward

    def forward(self, x):
        out = original(self, x)
        probe(self, (x,), out)
        return out

    monkeypatch.setattr(torch.nn.Linear, "forward", forward)
    # The CPU's predict path (float64 copies); a GPU's keeps float32.
    model = small_nn(**NN16, precision=precision, optimizer="adam", device="cpu")
    model.fit(X, y)
    monkeypatch.setattr(torch.nn.Linear, "forward", original)
    training = {dtype for is_training, dtype in seen if is_training}
    expected = torch.bfloat16 if precision == "bfloat16" else torch.float32
    assert training == {expected}
    assert model.net_.module_.precision == precision
    # Predictions are computed at full precision and are finite either way: the
    # network's part equals a float64 copy of the module run by hand.
    pred = model.predict(X)
    assert pred.dtype == np.float64
    assert np.isfinite(pred).all()
    Xt = torch.from_numpy(model.input_transformer_.transform(X))
    module64 = copy.deepcopy(model.net_.module_).double().eval()
    with torch.no_grad():
        out = module64(Xt).numpy()[:, 0]
    base = model.base_.predict(Xt.numpy()[:, : model.n_features_in_])
    scaled = base + model.residual_scale_[0] * out
    expected = model.y_mean_[0] + model.y_scale_[0] * scaled
    np.testing.assert_allclose(pred, expected, rtol=1e-12, atol=1e-12)


def test_bfloat16_training_still_fits(small_nn, smooth_data, monkeypatch):
    import sknnfit._auto as auto_module

    monkeypatch.setattr(auto_module, "native_bfloat16", lambda device: True)
    X, y = smooth_data
    full = small_nn(hidden_layer_sizes=(32, 32), max_epochs=150, optimizer="adam")
    mixed = clone(full).set_params(precision="bfloat16")
    r2_full = full.fit(X, y).score(X, y)
    r2_mixed = mixed.fit(X, y).score(X, y)
    assert r2_mixed > 0.95, r2_mixed
    assert abs(r2_full - r2_mixed) < 0.03
    # Different arithmetic, so not the same weights.
    assert not np.array_equal(full.predict(X), mixed.predict(X))


def test_bfloat16_without_native_support_warns(small_nn, smooth_data, monkeypatch):
    import sknnfit._auto as auto_module

    X, y = smooth_data
    monkeypatch.setattr(auto_module, "native_bfloat16", lambda device: False)
    with pytest.warns(
        UserWarning, match=r"no native bfloat16.*precision='float32'"
    ) as record:
        small_nn(**NN16, precision="bfloat16").fit(X, y)
    assert record[0].filename == __file__  # points at the caller's fit
    monkeypatch.setattr(auto_module, "native_bfloat16", lambda device: True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        small_nn(**NN16, precision="bfloat16").fit(X, y)
        small_nn(**NN16, precision="float32").fit(X, y)  # float32 never asks
    assert not [w for w in caught if "bfloat16" in str(w.message)]


@pytest.mark.parametrize(("loss", "expected"), [("auto", "mse"), ("peak", "peak")])
def test_loss_auto_is_mse_on_its_own(small_nn, smooth_data, loss, expected):
    X, y = smooth_data
    model = small_nn(**NN16, loss=loss).fit(X, y)
    assert model.loss == loss
    assert model.loss_ == expected


@pytest.mark.filterwarnings("ignore:precision='bfloat16'")
@pytest.mark.parametrize(
    "params",
    [
        {"optimizer": "lbfgs"},
        {"optimizer": "adamw", "early_stopping": True, "validation_fraction": 0.2},
        {"optimizer": "adam", "multi_output": "separate", "n_ensemble": 2},
        {"optimizer": "signagree", "batch_growth": True, "loss": "peak"},
    ],
)
def test_bfloat16_works_with_every_training_mode(small_nn, smooth_data, params):
    X, y = smooth_data
    Y = np.c_[y, -y]
    model = small_nn(
        hidden_layer_sizes=(16,), precision="bfloat16", max_epochs=8, **params
    ).fit(X, Y)
    pred = model.predict(X)
    assert pred.shape == Y.shape
    assert np.isfinite(pred).all()
    assert all(net.module_.precision == "bfloat16" for _, net in model.nets_)


def test_constant_y_trains_no_epoch_and_is_exact(small_nn, smooth_data):
    X, _ = smooth_data
    model = NNRegressor(random_state=0).fit(X, np.full(len(X), 2.5))
    assert model.max_epochs_ == 0 and model.n_epochs_ == 0
    np.testing.assert_array_equal(model.predict(X), 2.5)


def test_exact_fit_emits_no_convergence_warning(smooth_data):
    X, _ = smooth_data
    y = X @ np.array([1.0, -2.0, 0.5]) + 3.0  # the linear base fits it exactly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = NNRegressor((16,), max_epochs=10, random_state=0).fit(X, y)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-6)


def test_a_row_predicts_the_same_alone_or_in_a_batch(small_nn, smooth_data):
    X, y = smooth_data
    model = small_nn(**NN16, device="cpu").fit(X, y)  # a GPU predicts in float32
    together = model.predict(X)
    alone = np.array([model.predict(X[i : i + 1])[0] for i in range(10)])
    # float64 BLAS sums in a batch-size dependent order: equal to rounding.
    np.testing.assert_allclose(alone, together[:10], rtol=1e-13, atol=1e-13)


def test_no_extrapolation_warning_on_an_ordinary_split():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1000, 20))
    y = X[:, 0]
    model = NNRegressor((8,), max_epochs=2, random_state=0).fit(X[:750], y[:750])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        model.predict(X[750:])
    # A heavy-tailed positive column is judged in decades (its log is an input).
    heavy = rng.lognormal(size=(1000, 3))
    model = NNRegressor((8,), max_epochs=2, random_state=0).fit(heavy[:750], y[:750])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        model.predict(heavy[750:])


def test_extrapolation_warning_on_seed_002s_wider_range():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (300, 1))
    model = NNRegressor((8,), max_epochs=2, random_state=0).fit(x, x[:, 0] ** 2)
    with pytest.warns(ExtrapolationWarning, match="quarter of a column's range"):
        model.predict(np.linspace(-4, 4, 101)[:, None])


# ------------------------------------------------------- held-out rows and guard


def _noise_data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, 3)), rng.normal(size=n)


def test_default_holds_rows_out_and_stops_on_them(smooth_data):
    X, y = smooth_data
    model = NNRegressor((16,), max_epochs=400, random_state=0).fit(X, y)
    assert model.early_stopping_ and model.patience_ == 10  # L-BFGS
    assert len(model.validation_loss_curve_) == model.n_epochs_ < 400
    assert set(model.validation_rmse_) >= {"mean", "network"}


def test_too_few_rows_to_hold_out_trains_on_all(normal_data):
    X, y = normal_data
    # guard=False: the guard would weigh the network out of fold (test_crossval).
    model = NNRegressor((8,), max_epochs=5, random_state=0, guard=False)
    model.fit(X[:40], y[:40])
    assert not model.early_stopping_
    assert model.validation_loss_curve_ is None and model.validation_rmse_ is None
    assert model.use_network_


def test_guard_on_pure_noise_predicts_with_a_closed_form_model():
    X, y = _noise_data()
    with pytest.warns(NetworkNotUsedWarning, match="guard=False"):
        model = NNRegressor((32,), max_epochs=50, random_state=0).fit(X, y)
    assert not model.use_network_
    scores = model.validation_rmse_
    assert min(scores, key=scores.get) != "network"
    X_test, y_test = _noise_data(seed=1)
    # Never far worse than the mean on new rows: the mean or a ridge model.
    mse = np.mean((model.predict(X_test) - y_test) ** 2)
    assert mse <= 1.1 * np.mean((y.mean() - y_test) ** 2)


def test_spent_max_time_skips_refitting_the_guards_model(monkeypatch):
    X, noise = _noise_data()
    y = X[:, 0] + noise  # a linear model beats the network: the guard refits it
    refits = []
    refit = NNRegressor._refit_on_all_rows

    def spy(self, model, rows):
        refits.append(model)
        return refit(self, model, rows)

    monkeypatch.setattr(NNRegressor, "_refit_on_all_rows", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = NNRegressor((32,), max_epochs=50, random_state=0).fit(X, y)
        assert len(refits) == 1 and not kept.use_network_
        spent = NNRegressor((32,), max_epochs=50, max_time=1e-9, random_state=0)
        spent.fit(X, y)
    assert len(refits) == 1  # the limit was spent: no second refit
    assert not spent.use_network_ and np.isfinite(spent.predict(X)).all()


def test_max_time_cuts_the_closed_form_search(smooth_data, monkeypatch):
    X = smooth_data[0] + 2.0  # positive inputs: the Laurent polynomials apply
    y = np.exp(X[:, 0]) * X[:, 1]
    tried = []
    fit = LaurentPolynomial.fit

    def spy(self, *args, **kwargs):
        tried.append(self.degree)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(LaurentPolynomial, "fit", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        NNRegressor((16,), max_epochs=2, random_state=0).fit(X, y)
        assert tried  # without a limit the Laurent polynomials are tried
        tried.clear()
        spent = NNRegressor((16,), max_epochs=2, max_time=1e-9, random_state=0)
        spent.fit(X, y)
    assert not tried and spent.base_kind_ in ("none", "linear")
    assert np.isfinite(spent.predict(X)).all()


def test_guard_false_keeps_the_network():
    X, y = _noise_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetworkNotUsedWarning)
        model = NNRegressor((32,), max_epochs=50, guard=False, random_state=0)
        model.fit(X, y)
    assert model.use_network_


def test_an_exact_polynomial_trains_no_network(smooth_data):
    X, _ = smooth_data
    y = X[:, 0] ** 2 - 2 * X[:, 1] * X[:, 2] + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = NNRegressor((16,), random_state=0).fit(X, y)
    assert model.max_epochs_ == 0 and not model.use_network_
    assert model.base_kind_ == "poly2"
    np.testing.assert_allclose(model.predict(X), y, atol=1e-8)


def test_too_few_rows_to_hold_out_still_find_an_exact_polynomial():
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(20, 1))  # 4 rows would be held out: none are
    y = x[:, 0] ** 2 - x[:, 0]
    grid = np.linspace(-4, 4, 81)[:, None]  # far outside the rows too
    truth = grid[:, 0] ** 2 - grid[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = NNRegressor(random_state=0).fit(x, y)
    assert not model.early_stopping_ and model.max_epochs_ == 0
    assert model.base_kind_ == "poly2" and not model.use_network_
    np.testing.assert_allclose(model.predict(grid), truth, atol=1e-9)
    # Not exact (noise): the network is weighed out of fold (test_crossval),
    # and loses to a polynomial here.
    noisy = y + 0.1 * rng.normal(size=20)
    with pytest.warns(NetworkNotUsedWarning, match="out of fold"):
        model = NNRegressor((8,), max_epochs=5, random_state=0).fit(x, noisy)
    assert model.base_kind_.startswith("poly") and not model.use_network_
    # early_stopping=False asked for: a network, as before.
    model = NNRegressor((8,), max_epochs=5, early_stopping=False, random_state=0)
    assert model.fit(x, y).use_network_ and model.n_epochs_ == 5


def test_a_smooth_function_of_one_input_is_fitted_to_rounding_without_a_network():
    rng = np.random.default_rng(0)
    x = rng.uniform(-np.pi, np.pi, size=(1000, 1))
    grid = np.linspace(-3.1, 3.1, 2001)[:, None]  # inside the training rows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = NNRegressor(random_state=0).fit(x, np.sin(x[:, 0]))
    # A polynomial of a degree above 8 (clean sin's degree 8 leaves 1.6e-4).
    assert model.max_epochs_ == 0 and not model.use_network_
    assert int(model.base_kind_[4:]) > 8
    error = model.predict(grid) - np.sin(grid[:, 0])
    assert np.sqrt(np.mean(error**2)) < 1e-9


def _monomial(n=400, seed=0, noise=0.0):
    """q * v / r**2 with inputs over two decades (noise: relative, on y)."""
    rng = np.random.default_rng(seed)
    X = np.exp(rng.uniform(0.0, np.log(100.0), size=(n, 3)))
    y = X[:, 0] * X[:, 1] / X[:, 2] ** 2
    return X, y * (1.0 + noise * rng.normal(size=n))


def test_an_exact_power_law_trains_no_network():
    X, y = _monomial()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = NNRegressor((16,), random_state=0).fit(X, y)
    assert model.max_epochs_ == 0 and not model.use_network_
    assert model.base_kind_ == "power"
    np.testing.assert_allclose(model.base_.coef_, [[1.0, 1.0, -2.0]], atol=1e-9)
    X_new, y_new = _monomial(seed=1)
    np.testing.assert_allclose(model.predict(X_new), y_new, rtol=1e-9)


def test_a_power_law_better_than_the_network_on_held_out_rows_predicts_alone():
    X, y = _monomial(noise=0.01)
    with pytest.warns(NetworkNotUsedWarning, match=r"\(power: RMSE"):
        model = NNRegressor((16,), max_epochs=10, random_state=0).fit(X, y)
    scores = model.validation_rmse_
    assert model.base_kind_ == "power" and not model.use_network_
    assert scores["power"] < min(scores["network"], scores.get("blend", np.inf))


def test_no_power_law_where_an_input_is_not_positive():
    X, y = _monomial()
    X[7, 1] = 0.0
    model = NNRegressor((16,), max_epochs=2, random_state=0).fit(X, y)
    assert "power" not in model.validation_rmse_
    assert model.base_kind_ != "power"


def test_a_power_law_fits_noise_that_flips_the_sign_of_small_targets():
    X, y = _monomial(n=1000)
    y = y / y.std() + np.random.default_rng(1).normal(0.0, 0.1, size=len(y))
    assert (y < 0).sum() > 50
    with pytest.warns(NetworkNotUsedWarning, match=r"\(power: RMSE"):
        model = NNRegressor((16,), max_epochs=10, random_state=0).fit(X, y)
    assert model.base_kind_ == "power"
    np.testing.assert_allclose(model.base_.coef_, [[1.0, 1.0, -2.0]], atol=0.05)


def test_a_power_law_that_fits_worse_than_the_network_is_not_used(smooth_data):
    X, _ = _monomial()
    y = np.sin(np.log(X[:, 0])) * X[:, 1]  # positive inputs, mixed target signs
    y = np.abs(y) + 1.0  # positive, and no product of powers
    model = NNRegressor((32,), max_epochs=20, random_state=0).fit(X, y)
    scores = model.validation_rmse_
    assert scores["power"] > scores["network"]
    assert model.base_kind_ != "power" and model.use_network_


def test_guard_false_keeps_the_network_over_an_exact_power_law():
    X, y = _monomial()
    model = NNRegressor((16,), max_epochs=2, guard=False, random_state=0).fit(X, y)
    assert model.use_network_ and model.base_kind_ != "power"
    assert model.max_epochs_ == 2


def _sum_of_products(n=1000, seed=0, noise=0.0):
    """x0 * (x1 - x2) / x2**2 on [1, 5]: a sum of two products, no power law."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(1.0, 5.0, size=(n, 3))
    y = X[:, 0] * (X[:, 1] - X[:, 2]) / X[:, 2] ** 2
    return X, y + noise * y.std() * rng.normal(size=n)


def test_an_exact_sum_of_products_trains_no_network():
    X, y = _sum_of_products()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = NNRegressor((16,), random_state=0).fit(X, y)
    assert model.max_epochs_ == 0 and not model.use_network_
    assert model.base_kind_ == "laurent"
    assert model.validation_rmse_["laurent"] < 1e-9
    X_new, y_new = _sum_of_products(seed=1)
    np.testing.assert_allclose(model.predict(X_new), y_new, atol=1e-9)


def test_no_laurent_polynomial_is_tried_after_an_exact_power_law():
    X, y = _monomial(n=1000)  # q * v / r**2: degree 4 would fit it too
    model = NNRegressor((16,), max_epochs=2, random_state=0).fit(X, y)
    assert "laurent" not in model.validation_rmse_
    assert model.base_kind_ == "power"


def test_no_laurent_polynomial_where_an_input_is_not_positive():
    X, y = _sum_of_products()
    X[5, 2] = -1.0
    model = NNRegressor((16,), max_epochs=2, random_state=0).fit(X, y)
    assert "laurent" not in model.validation_rmse_
    assert model.base_kind_ != "laurent"


def test_a_laurent_polynomial_does_not_fit_noise():
    X, _ = _sum_of_products()
    y = np.random.default_rng(3).normal(size=len(X))
    with pytest.warns(NetworkNotUsedWarning):
        model = NNRegressor((16,), max_epochs=5, random_state=0).fit(X, y)
    scores = model.validation_rmse_
    assert scores["laurent"] > scores["mean"]
    assert model.base_kind_ != "laurent"


def test_a_laurent_polynomial_needs_rows_for_its_products():
    X, y = _sum_of_products(n=60)  # 48 training rows: degree 1 (7 products) only
    model = NNRegressor((16,), max_epochs=2, random_state=0).fit(X, y)
    assert model.validation_rmse_["laurent"] > 1e-3


def test_base_auto_is_chosen_on_held_out_rows(smooth_data):
    X, _ = smooth_data
    y = X[:, 0] + 0.5 * X[:, 1]  # linear: poly2 is no better
    y = y + np.sin(4 * X[:, 2])  # a part no polynomial of degree 2 fits
    model = NNRegressor((16,), max_epochs=5, random_state=0).fit(X, y)
    assert model.base_kind_ == "linear"


def test_validation_set_of_your_own(smooth_data):
    X, y = smooth_data
    model = NNRegressor((16,), max_epochs=5, random_state=0)
    model.fit(X[:100], y[:100], X_val=X[100:], y_val=y[100:])
    assert model.early_stopping_ and len(model.validation_loss_curve_) == 5
    # Every given row trains: the input scaler saw all 100.
    assert model.input_transformer_.named_steps["scale"].n_samples_seen_ == 100


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"X_val": np.zeros((3, 3))}, "no y_val"),
        ({"y_val": np.zeros(3)}, "no X_val"),
        ({"X_val": np.zeros((3, 3)), "y_val": np.zeros(4)}, "pass 3 rows"),
        ({"X_val": np.zeros((3, 2)), "y_val": np.zeros(3)}, "features"),
        ({"sample_weight_val": np.ones(3)}, "pass X_val and y_val"),
    ],
)
def test_bad_validation_sets_are_refused(small_nn, smooth_data, kwargs, match):
    X, y = smooth_data
    with pytest.raises(ValueError, match=match):
        small_nn().fit(X, y, **kwargs)


def test_max_time_stops_training(smooth_data):
    X, y = smooth_data
    model = NNRegressor(
        (16,),
        optimizer="adam",
        max_epochs=10**6,
        max_time=0.5,
        early_stopping=False,
        random_state=0,
    )
    model.fit(X, y)
    assert model.n_epochs_ < 10**6
    from sknnfit.training.stopping import stop_reason

    assert stop_reason(model.net_) == "max_time"


# ------------------------------------------------------------------ sample weights

FULL_BATCH_GD = {
    "hidden_layer_sizes": (8,),
    "optimizer": "sgd",
    "batch_size": 10**6,
    "lr": 0.05,
    "lr_schedule": "none",
    "max_epochs": 30,
    "early_stopping": False,
    "base": "poly2",
    "random_state": 0,
}


def test_integer_weights_equal_repeated_rows(smooth_data):
    X, y = smooth_data
    w = np.random.default_rng(1).integers(1, 4, len(X)).astype(float)
    weighted = NNRegressor(**FULL_BATCH_GD).fit(X, y, sample_weight=w)
    repeated = NNRegressor(**FULL_BATCH_GD).fit(
        np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int))
    )
    # Full-batch gradient descent: equal up to float32 summation order.
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), atol=1e-5)


def test_zero_weights_equal_dropped_rows(smooth_data):
    X, y = smooth_data
    w = (np.arange(len(X)) % 3 != 0).astype(float)
    weighted = NNRegressor(**FULL_BATCH_GD).fit(X, y, sample_weight=w)
    dropped = NNRegressor(**FULL_BATCH_GD).fit(X[w > 0], y[w > 0])
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X), atol=1e-5)


@pytest.mark.parametrize("n_weighted", [1, 5, 60])
def test_held_out_rows_are_drawn_from_the_weighted_rows(smooth_data, n_weighted):
    X, y = smooth_data
    w = (np.arange(len(X)) < n_weighted).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = NNRegressor((8,), max_epochs=3, random_state=0)
        model.fit(X, y, sample_weight=w)
    # 20% of 60 weighted rows is at least 10: held out; of 1 or 5, not.
    assert model.early_stopping_ == (n_weighted == 60)
    assert np.isfinite(model.predict(X)).all()


def test_weights_change_the_fit(smooth_data):
    X, y = smooth_data
    w = np.where(X[:, 0] > 0, 10.0, 0.1)
    plain = NNRegressor(**FULL_BATCH_GD).fit(X, y)
    weighted = NNRegressor(**FULL_BATCH_GD).fit(X, y, sample_weight=w)
    assert np.abs(plain.predict(X) - weighted.predict(X)).max() > 1e-3


@pytest.mark.parametrize(
    ("w", "match"),
    [
        (-np.ones(120), "(?i)negative"),
        (np.zeros(120), "non-zero"),
        (np.ones(7), "7"),
        (np.full(120, 1e200), "too large for float64.*Divide them"),
    ],
)
def test_bad_sample_weights_are_refused(small_nn, smooth_data, w, match):
    X, y = smooth_data
    with pytest.raises(ValueError, match=match):
        small_nn().fit(X, y, sample_weight=w)


def test_sample_weight_is_routed_through_a_pipeline(smooth_data):
    import sklearn

    X, y = smooth_data
    w = np.where(X[:, 0] > 0, 10.0, 0.1)
    with sklearn.config_context(enable_metadata_routing=True):
        nn = NNRegressor(**FULL_BATCH_GD).set_fit_request(sample_weight=True)
        scaler = StandardScaler().set_fit_request(sample_weight=False)
        pipe = Pipeline([("scale", scaler), ("nn", nn)])
        pipe.fit(X, y, sample_weight=w)
    direct = NNRegressor(**FULL_BATCH_GD).fit(
        StandardScaler().fit_transform(X), y, sample_weight=w
    )
    np.testing.assert_allclose(
        pipe.predict(X), direct.predict(StandardScaler().fit(X).transform(X)), atol=1e-6
    )


# ------------------------------------------------ warm start, partial_fit, names


def _wiggly(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.sin(3 * X[:, 0]) * X[:, 1]


@pytest.mark.parametrize(("optimizer", "epochs"), [("lbfgs", 10), ("adam", 60)])
def test_warm_start_goes_on_from_the_fitted_weights(optimizer, epochs):
    X, y = _wiggly()
    kw = {"hidden_layer_sizes": (16,), "max_epochs": epochs, "base": "none"}
    kw["guard"] = False  # a blended network is refitted from scratch
    model = NNRegressor(**kw, optimizer=optimizer, warm_start=True, random_state=0).fit(
        X, y
    )
    first = list(model.loss_curve_)
    scaler_mean = model.input_transformer_.named_steps["scale"].mean_.copy()
    model.fit(X, y)
    assert model.loss_curve_[: len(first)] == first
    assert model.n_iter_ == len(model.loss_curve_) > len(first)
    # It starts where the first fit ended, not where a fresh fit starts.
    fresh = NNRegressor(**kw, optimizer=optimizer, random_state=1).fit(X, y)
    assert model.loss_curve_[len(first)] < 0.5 * fresh.loss_curve_[0]
    assert model.loss_curve_[len(first)] < 2 * first[-1]
    # The scaling the weights were trained for stays.
    np.testing.assert_array_equal(
        model.input_transformer_.named_steps["scale"].mean_, scaler_mean
    )


def test_without_warm_start_fit_starts_over():
    X, y = _wiggly()
    model = NNRegressor((16,), max_epochs=5, guard=False, random_state=0)
    model.fit(X, y).fit(X, y)
    assert model.n_iter_ == len(model.loss_curve_) <= 5


def test_warm_start_after_the_guard_refits_from_scratch():
    X, y = _noise_data()
    model = NNRegressor((8,), max_epochs=20, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NetworkNotUsedWarning)
        model.fit(X, y)
        assert not model.use_network_
        with pytest.warns(UserWarning, match="fitting from scratch"):
            model.fit(X, y)
        # A model loaded from a file older than network_weight_ says only
        # use_network_, and is refitted from scratch all the same.
        model.fit(X, y)
        assert not model.use_network_
        del model.network_weight_
        with pytest.warns(UserWarning, match="fitting from scratch"):
            model.fit(X, y)


def test_partial_fit_over_chunks_approaches_a_full_fit():
    X, y = _wiggly(800)
    X_test, y_test = _wiggly(400, seed=1)
    model = NNRegressor((32,), random_state=0)
    for epoch in range(40):
        for rows in np.array_split(np.arange(len(X)), 4):
            model.partial_fit(X[rows], y[rows])
        if epoch == 0:
            early = np.mean((model.predict(X_test) - y_test) ** 2)
    assert model.optimizer_ == "adamw" and model.lr_schedule_ == "none"
    assert model.n_iter_ == 160 and not model.early_stopping_
    late = np.mean((model.predict(X_test) - y_test) ** 2)
    # The same training in one fit: 40 epochs over all rows, constant rate.
    full = NNRegressor(
        (32,),
        optimizer="adamw",
        lr_schedule="none",
        max_epochs=40,
        early_stopping=False,
        base=model.base_kind_,
        random_state=0,
    ).fit(X, y)
    full_mse = np.mean((full.predict(X_test) - y_test) ** 2)
    assert late < 0.5 * early
    assert late < 3 * full_mse


def test_partial_fit_checks_the_columns_and_outputs():
    X, y = _wiggly()
    model = NNRegressor((8,), random_state=0).partial_fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :1], y)
    with pytest.raises(ValueError, match="1 target"):
        model.partial_fit(X, np.c_[y, y])


def test_mlpregressor_names(smooth_data):
    X, y = smooth_data
    model = NNRegressor((16,), max_epochs=6, random_state=0).fit(X, y)
    assert model.n_iter_ == model.n_epochs_ == len(model.loss_curve_)
    assert model.best_loss_ == min(model.loss_curve_)
    assert model.best_validation_loss_ == min(model.validation_loss_curve_)
    with pytest.warns(FutureWarning, match="validation_loss_curve_"):
        assert model.validation_scores_ == model.validation_loss_curve_


def test_user_callbacks_run_after_sknnfits_own(smooth_data):
    from skorch.callbacks import Callback, EpochTimer

    class Count(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1

    X, y = smooth_data
    model = NNRegressor(
        (8,),
        max_epochs=4,
        early_stopping=False,
        callbacks=[("count", Count())],
        net_params={"callbacks": [EpochTimer()]},
        random_state=0,
    ).fit(X, y)
    names = [name for name, _ in model.net_.callbacks_]
    assert names.index("sknnfit_best") < names.index("count")
    assert "EpochTimer" in names
    assert dict(model.net_.callbacks_)["count"].epochs_ == 4


def test_quantile_loss_predicts_the_quantile():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (600, 2))
    y = X[:, 0] + rng.normal(0, 0.3, 600)
    model = NNRegressor((16,), loss="quantile", quantile=0.9, random_state=0)
    model.fit(X, y)
    assert model.use_network_  # the guard is off: its models estimate means
    assert 0.85 < np.mean(y < model.predict(X)) < 0.95


def test_weight_decay_acts_on_lbfgs(smooth_data):
    X, y = smooth_data
    kw = {"hidden_layer_sizes": (16,), "max_epochs": 10, "early_stopping": False}
    plain = NNRegressor(**kw, random_state=0).fit(X, y)
    decayed = NNRegressor(**kw, weight_decay=1.0, random_state=0).fit(X, y)
    assert decayed.optimizer_ == plain.optimizer_ == "lbfgs"

    def norm(model):
        return sum(float((p**2).sum()) for p in model.net_.module_.parameters())

    assert norm(decayed) < 0.5 * norm(plain)


# ------------------------------------------------------------------------ stages


def _clean_sin(n=600):
    X = np.random.default_rng(0).uniform(-np.pi, np.pi, (n, 1))
    return X, np.sin(X[:, 0])


def test_a_second_stage_fits_what_the_first_left():
    X, y = _clean_sin()
    grid = np.linspace(-3, 3, 301)[:, None]
    one = NNRegressor((32,), n_stages=1, guard=False, random_state=0).fit(X, y)
    two = NNRegressor((32,), n_stages=2, guard=False, random_state=0).fit(X, y)
    assert len(two.stage_nets_) == 1 and len(two.stages_) == 2
    assert two.stages_[1]["validation_rmse"] < two.stages_[0]["validation_rmse"]
    err_one = np.abs(one.predict(grid) - np.sin(grid[:, 0])).max()
    err_two = np.abs(two.predict(grid) - np.sin(grid[:, 0])).max()
    assert err_two < 0.3 * err_one


def test_auto_stages_are_tried_with_sines_first(monkeypatch):
    # On clean sin(x) the first network's residual oscillates: a sine stage
    # fits it.
    from sknnfit.modules import Sine

    X, y = _clean_sin()
    model = NNRegressor((32, 32), guard=False, random_state=0).fit(X, y)
    assert model.stages_[0]["activation"] == "silu"
    assert model.stages_[1]["activation"] == "sin"
    module = model.stage_nets_[0][0][1].module_
    assert any(isinstance(m, Sine) for m in module.modules())
    first, second = model.stages_[:2]
    assert second["validation_rmse"] < first["validation_rmse"] / 10
    assert all(stage["stop"] == "early_stopping" for stage in model.stages_)


def test_a_sine_stage_that_does_not_help_is_tried_with_the_first_activation(
    monkeypatch,
):
    import sknnfit.training as training

    tried = []
    train_net = training.train_net

    def spy(plan, *args, **kwargs):
        tried.append(plan.activation)
        return train_net(plan, *args, **kwargs)

    monkeypatch.setattr(training, "train_net", spy)
    # Only a SiLU stage counts as helping here.
    helps = NNRegressor._stage_helps
    monkeypatch.setattr(
        NNRegressor,
        "_stage_helps",
        lambda self, *a: tried[-1] == "silu" and helps(self, *a),
    )
    X, y = _clean_sin()
    model = NNRegressor((32, 32), guard=False, random_state=0).fit(X, y)
    # The first network, sines (at the usual band, then perhaps a wider one),
    # then its own activation.
    assert tried[:2] == ["silu", "sin"]
    assert tried[2:4] in (["silu", "sin"], ["sin", "silu"])
    assert all(stage["activation"] == "silu" for stage in model.stages_)


def test_a_fast_residual_gets_a_sine_trial_with_a_wider_first_layer(monkeypatch):
    import sknnfit.training as training
    from sknnfit._noise import residual_wavenumber
    from sknnfit.estimators import STAGE_ACTIVATION, WIDER_BAND

    tried, seen = [], []
    train_net = training.train_net

    def spy(plan, *args, **kwargs):
        scale = (plan.net_params or {}).get("module__first_scale", 1.0)
        tried.append((plan.activation, scale))
        return train_net(plan, *args, **kwargs)

    stage_trials = NNRegressor._stage_trials

    def trials(self, plan, rows, residual):
        band = residual_wavenumber(rows.X[:, : self.n_features_in_], residual)
        seen.append((band, list(stage_trials(self, plan, rows, residual))))
        return seen[-1][1]

    monkeypatch.setattr(training, "train_net", spy)
    monkeypatch.setattr(NNRegressor, "_stage_trials", trials)
    # Only a stage with a widened first layer counts as helping here.
    helps = NNRegressor._stage_helps
    monkeypatch.setattr(
        NNRegressor,
        "_stage_helps",
        lambda self, *a: tried[-1][1] > 1.0 and helps(self, *a),
    )
    X, y = _clean_sin()
    model = NNRegressor((32, 32), guard=False, random_state=0).fit(X, y)
    band, first_trials = seen[0]
    assert band >= WIDER_BAND  # what the first network leaves oscillates fast
    assert first_trials == [
        (STAGE_ACTIVATION, 1.0),
        (STAGE_ACTIVATION, pytest.approx(np.sqrt(band))),
        ("silu", 1.0),
    ]
    assert tried[1:3] == first_trials[:2]
    second = model.stages_[1]
    assert second["first_scale"] == pytest.approx(np.sqrt(band))
    assert second["validation_rmse"] < model.stages_[0]["validation_rmse"] / 1.1
    # The widened network predicts like the rest after a round trip.
    assert np.all(np.isfinite(model.predict(X)))


def test_fixed_stages_try_the_first_activation_only():
    model = NNRegressor(n_stages=2)
    plan = types.SimpleNamespace(activation="tanh")
    assert list(model._stage_trials(plan, None, None)) == [("tanh", 1.0)]


def test_auto_stages_measure_the_residual_only_when_the_first_trial_fails(
    monkeypatch,
):
    import sknnfit._noise as noise

    def unmeasured(*args, **kwargs):
        raise AssertionError("measured before the first trial was judged")

    monkeypatch.setattr(noise, "residual_wavenumber", unmeasured)
    trials = NNRegressor()._stage_trials(
        types.SimpleNamespace(activation="silu"), None, None
    )
    assert next(trials) == ("sin", 1.0)


def test_a_fixed_number_of_stages_keeps_the_first_activation():
    X, y = _clean_sin(300)
    model = NNRegressor((16,), n_stages=2, guard=False, random_state=0).fit(X, y)
    assert [stage["activation"] for stage in model.stages_] == ["silu", "silu"]


def _count_trainings(monkeypatch):
    """A list that grows by one for every network trained."""
    import sknnfit.training as training

    trained = []
    train_net = training.train_net

    def counting(*args, **kwargs):
        trained.append(1)
        return train_net(*args, **kwargs)

    monkeypatch.setattr(training, "train_net", counting)
    return trained


def test_auto_stages_stop_on_noise(monkeypatch):
    trained = _count_trainings(monkeypatch)
    X, y = _clean_sin()
    noisy = y + np.random.default_rng(1).normal(0, 0.2, len(y))
    model = NNRegressor((32,), guard=False, random_state=0).fit(X, noisy)
    assert model.stage_nets_ == [] and len(model.stages_) == 1
    assert model.best_epoch_ > 1  # not the rule of the next test
    # The residual is noise to its neighbours: no stage is even trained (the
    # networks trained are the members n_ensemble="auto" added).
    assert len(trained) == model.n_ensemble_ == len(model.nets_)
    X_new = np.random.default_rng(2).uniform(-np.pi, np.pi, (300, 1))
    y_new = np.sin(X_new[:, 0]) + np.random.default_rng(3).normal(0, 0.2, 300)
    assert model._looks_like_noise(X_new, (y_new - model.predict(X_new))[:, None])


def test_no_stage_is_tried_after_networks_that_overfit_from_the_first_epoch(
    monkeypatch,
):
    trained = _count_trainings(monkeypatch)
    # A small table, mostly noise: the held-out loss is lowest after the
    # first epoch and rises from there.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    y = X[:, 0] + rng.normal(0, 1.0, 200)
    model = NNRegressor(random_state=0).fit(X, y)
    assert model.best_epoch_ == 1 and model.n_epochs_ > 1
    assert len(trained) == model.n_ensemble_ == len(model.nets_)
    assert model.stage_nets_ == [] and len(model.stages_) == 1


def _stage_judge():
    model = NNRegressor()
    model.y_scale_ = np.ones(1)
    return model


def test_a_stage_is_kept_when_the_held_out_rows_show_its_gain_clearly():
    rng = np.random.default_rng(0)
    yv = rng.normal(size=(2000, 1))
    before = yv + rng.normal(0, 0.1, yv.shape)
    assert _stage_judge()._stage_helps(before, yv + 0.5 * (before - yv), yv, None)
    # 1.05x lower RMSE on every row: clear, but below STAGE_GAIN.
    assert not _stage_judge()._stage_helps(before, yv + (before - yv) / 1.05, yv, None)


def test_a_stage_fitted_to_noise_is_not_kept():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=(2000, 1))
    yv = truth + rng.normal(0, 0.3, truth.shape)  # held-out targets with noise
    wiggle = rng.normal(0, 0.1, truth.shape)  # what a stage learnt from noise
    assert not _stage_judge()._stage_helps(truth, truth + wiggle, yv, None)


def test_a_gain_on_one_held_out_row_is_not_clear():
    yv = np.zeros((50, 1))
    before = np.full((50, 1), 0.01)
    before[0] = 10.0
    after = before.copy()
    after[0] = 0.01  # the RMSE falls 300-fold, all of it on one row
    judge = _stage_judge()
    assert judge._held_out_rmse(after, yv) * 100 < judge._held_out_rmse(before, yv)
    assert not judge._stage_helps(before, after, yv, None)
    # A 10-fold fall on every row is clear.
    spread = np.random.default_rng(2).uniform(0.5, 1.5, (50, 1))
    assert judge._stage_helps(0.01 * spread, 0.001 * spread, yv, None)


def test_a_fall_on_every_row_is_clear_though_one_row_holds_most_of_the_error():
    yv = np.zeros((50, 1))
    before = np.random.default_rng(3).uniform(0.005, 0.01, (50, 1))
    before[0] = 10.0
    after = before / 6  # every row's error falls 6-fold
    judge = _stage_judge()
    fall = (before**2 - after**2)[:, 0]
    assert fall.mean() < STAGE_T * fall.std() / np.sqrt(len(fall))  # t fails
    assert judge._stage_helps(before, after, yv, None)
    # Half the rows better, half worse by as much: no clear gain by signs.
    mixed = before.copy()
    mixed[0] = 1.0
    mixed[1::2] *= 1.5
    assert judge._held_out_rmse(mixed, yv) * 1.1 < judge._held_out_rmse(before, yv)
    assert not judge._stage_helps(before, mixed, yv, None)
    # The signs count rows by their weight: half the rows 6-fold better, the
    # other half 1.2-fold worse is clear only where the worse ones hardly count.
    halves = before.copy()
    halves[::2] /= 6
    halves[1::2] *= 1.2
    assert not judge._stage_helps(before, halves, yv, None)
    w = np.where(np.arange(50) % 2 == 0, 1.0, 1e-6)
    assert judge._stage_helps(before, halves, yv, w)


def _plans_trained(monkeypatch, first_stop=None):
    """Record ``(plan, record, stall)`` of every network ``train_net`` trains.

    ``first_stop`` replaces the reason the first one stopped in its record.
    """
    import sknnfit.training as training

    plans = []
    train_net = training.train_net

    def recording(plan, data, group, seed, max_time=None, stall=None):
        net, record = train_net(plan, data, group, seed, max_time, stall)
        if first_stop is not None and not plans:
            record = dataclasses.replace(record, stop=first_stop)
        plans.append((plan, record, stall))
        return net, record

    monkeypatch.setattr(training, "train_net", recording)
    return plans


def test_auto_stages_share_the_first_stages_epochs(monkeypatch):
    plans = _plans_trained(monkeypatch)
    X, y = _clean_sin()
    model = NNRegressor((32,), max_epochs=150, guard=False, random_state=0)
    model.fit(X, y)
    assert len(plans) >= 2, "the clean sine should converge and try a stage"
    used = 0
    for plan, record, _ in plans:
        assert plan.max_epochs == 150 - used
        used += record.n_epochs
    assert used <= 150
    # An int: every stage trains for max_epochs.
    plans.clear()
    NNRegressor((32,), max_epochs=150, n_stages=2, guard=False, random_state=0).fit(
        X, y
    )
    assert [plan.max_epochs for plan, _, _ in plans] == [150, 150]


def test_auto_stages_need_two_patiences_of_epochs_left(monkeypatch):
    import sknnfit.training as training

    train_net = training.train_net
    calls = []

    def first_uses_almost_all(plan, *args, **kwargs):
        net, record = train_net(plan, *args, **kwargs)
        calls.append(plan)
        if len(calls) == 1:
            # Stopped early, but with fewer than two patiences left.
            left = 2 * plan.patience - 1
            curve = [1.0] * (plan.max_epochs - left)
            record = dataclasses.replace(
                record, loss_curve=curve, stop="early_stopping"
            )
        return net, record

    monkeypatch.setattr(training, "train_net", first_uses_almost_all)
    X, y = _clean_sin()
    model = NNRegressor((32,), max_epochs=150, guard=False, random_state=0)
    model.fit(X, y)
    assert len(calls) == 1 and model.stage_nets_ == []


def test_a_stalled_network_is_followed_by_stages(monkeypatch):
    plans = _plans_trained(monkeypatch, first_stop="stalled")
    X, y = _clean_sin()
    model = NNRegressor(
        (32,), max_epochs=150, guard=False, precision="float64", random_state=0
    )
    model.fit(X, y)
    assert len(plans) >= 2 and model.stages_[0]["stop"] == "stalled"
    # The stall stop: the gain a stage must show, with two patiences left.
    assert plans[0][2] == (1.1**2, 2 * model.patience_)


def test_a_stalled_network_trains_on_when_no_stage_is_kept(monkeypatch):
    import sknnfit.training as training

    _plans_trained(monkeypatch, first_stop="stalled")
    monkeypatch.setattr(NNRegressor, "_stage_helps", lambda self, *a: False)
    continue_net = training.continue_net
    resumed = []

    def spy(net, plan, data, group, seed, max_epochs, max_time=None):
        record = continue_net(net, plan, data, group, seed, max_epochs, max_time)
        resumed.append((max_epochs, record.n_epochs))
        return record

    monkeypatch.setattr(training, "continue_net", spy)
    X, y = _clean_sin()
    model = NNRegressor(
        (32,), max_epochs=150, guard=False, precision="float64", random_state=0
    )
    model.fit(X, y)
    assert model.stage_nets_ == [] and len(resumed) == 1
    left, ran = resumed[0]
    first = model.n_epochs_ - ran
    assert left == 150 - first
    assert model.stages_[0]["epochs"] == model.n_epochs_ == len(model.loss_curve_)
    assert 1 <= model.best_epoch_ <= model.n_epochs_


def test_only_float64_auto_stages_stop_networks_that_stall(monkeypatch):
    plans = _plans_trained(monkeypatch)
    X, y = _clean_sin(300)
    NNRegressor((16,), n_stages=2, max_epochs=30, random_state=0).fit(X, y)
    NNRegressor(
        (16,), n_stages=2, max_epochs=30, precision="float64", random_state=0
    ).fit(X, y)
    NNRegressor((16,), max_epochs=30, random_state=0).fit(X, y)
    assert {stall for _, _, stall in plans} == {None}


def _noisy_smooth(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(1500, 2))
    y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.3 * rng.normal(size=len(X))
    return X, y


def test_guard_blends_network_and_polynomial_on_noisy_data():
    X, y = _noisy_smooth()
    model = NNRegressor((32, 32), max_epochs=30, optimizer="adamw", random_state=0)
    model.fit(X, y)
    (weight,) = model.network_weight_
    assert 0 < weight < 1 and model.use_network_
    scores = model.validation_rmse_
    closed = min(v for k, v in scores.items() if k not in ("network", "blend"))
    assert scores["blend"] <= closed
    # The blend is folded into the base (the polynomial's degree) and scale.
    best = min(
        (k for k in scores if k not in ("network", "blend", "mean")), key=scores.get
    )
    assert model.base_kind_ == best


def test_a_blended_model_saves_and_exports_as_it_predicts(tmp_path):
    from sknnfit import load, save

    X, y = _noisy_smooth()
    model = NNRegressor((32, 32), max_epochs=30, optimizer="adamw", random_state=0)
    model.fit(X, y)
    assert 0 < model.network_weight_[0] < 1
    save(model, tmp_path / "m.sknnfit")
    loaded = load(tmp_path / "m.sknnfit")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.network_weight_, model.network_weight_)


def test_warm_start_after_a_blend_refits_from_scratch():
    X, y = _noisy_smooth()
    model = NNRegressor(
        (32, 32), max_epochs=30, optimizer="adamw", warm_start=True, random_state=0
    ).fit(X, y)
    assert model.network_weight_[0] < 1
    with pytest.warns(UserWarning, match="fitting from scratch"):
        model.fit(X, y)
    assert len(model.loss_curve_) <= 30


def test_stages_survive_save_and_load(tmp_path):
    from sknnfit import load, save

    X, y = _clean_sin(300)
    model = NNRegressor((16,), n_stages=2, guard=False, random_state=0).fit(X, y)
    save(model, tmp_path / "m.sknnfit")
    loaded = load(tmp_path / "m.sknnfit")
    assert len(loaded.stage_nets_) == 1
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_warm_start_drops_later_stages():
    X, y = _clean_sin(300)
    model = NNRegressor(
        (16,), n_stages=2, guard=False, warm_start=True, random_state=0
    ).fit(X, y)
    model.fit(X, y)
    assert model.stage_nets_ == [] and len(model.stages_) == 1


def test_float64_training_is_float64_throughout():
    X, y = _clean_sin(300)
    model = NNRegressor(
        (16,), precision="float64", max_epochs=5, early_stopping=False, random_state=0
    ).fit(X, y)
    assert model.precision_ == "float64"
    assert {p.dtype for p in model.net_.module_.parameters()} == {torch.float64}
    assert model.predict(X).dtype == np.float64
    assert np.isfinite(model.loss_curve_).all()


# ---------------------------------------------------------- n_ensemble="auto"


def _noisy_table(n=300, seed=0):
    """A small table whose targets are half noise: a network's seed matters."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + rng.normal(0, 1.0, n)
    return X, y


def test_auto_ensemble_adds_members_where_the_residual_is_noise(monkeypatch):
    plans = _plans_trained(monkeypatch)
    X, y = _noisy_table()
    model = NNRegressor(random_state=0).fit(X, y)
    assert model.stage_nets_ == [] and len(model.stages_) == 1
    assert 2 <= model.n_ensemble_ <= MAX_AUTO_MEMBERS
    assert len(model.nets_) == model.n_ensemble_
    # Each member trains at most the epochs the networks before it left.
    used = 0
    for plan, record, _ in plans:
        assert plan.max_epochs == model.max_epochs_ - used
        used += record.n_epochs
    # The prediction is the members' mean; their spread is there to read.
    pred, std = model.predict(X[:50], return_std=True)
    np.testing.assert_array_equal(pred, model.predict(X[:50]))
    assert std.shape == (50,) and (std > 0).all()


def test_auto_ensemble_trains_one_network_without_held_out_rows(monkeypatch):
    trained = _count_trainings(monkeypatch)
    X, y = _noisy_table()
    model = NNRegressor(early_stopping=False, max_epochs=20, random_state=0)
    model.fit(X, y)
    assert model.n_ensemble_ == 1 and len(model.nets_) == 1 and len(trained) == 1
    with pytest.raises(ValueError, match="n_ensemble='auto' trained one"):
        model.predict(X, return_std=True)


def test_auto_ensemble_adds_no_member_after_a_kept_stage():
    X, y = _clean_sin()
    model = NNRegressor((32,), guard=False, random_state=0).fit(X, y)
    assert model.stage_nets_, "the clean sine should keep a second stage"
    assert model.n_ensemble_ == 1 and len(model.nets_) == 1


def test_auto_ensemble_adds_no_member_where_the_guard_drops_the_network(monkeypatch):
    trained = _count_trainings(monkeypatch)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = 2 * X[:, 0] - X[:, 1] + rng.normal(0, 0.5, 300)  # linear: the base is right
    with pytest.warns(NetworkNotUsedWarning):
        model = NNRegressor(random_state=0).fit(X, y)
    assert not model.use_network_
    assert model.n_ensemble_ == 1 and len(trained) == 1


def test_auto_members_survive_save_and_load(tmp_path):
    from sknnfit import load, save

    X, y = _noisy_table()
    model = NNRegressor(random_state=0).fit(X, y)
    assert model.n_ensemble_ >= 2
    save(model, tmp_path / "m.sknnfit")
    loaded = load(tmp_path / "m.sknnfit")
    assert loaded.n_ensemble_ == model.n_ensemble_
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(
        loaded.predict(X, return_std=True)[1], model.predict(X, return_std=True)[1]
    )


def test_an_int_n_ensemble_trains_that_many_members():
    X, y = _noisy_table(120)
    model = NNRegressor((16,), n_ensemble=3, max_epochs=5, random_state=0)
    model.fit(X, y)
    assert model.n_ensemble_ == 3 and len(model.nets_) == 3


def test_a_member_pays_while_the_seeds_variance_is_a_clear_share_of_the_error():
    rng = np.random.default_rng(0)
    yv = rng.normal(size=(2000, 1))
    base = np.zeros_like(yv)
    # Members that agree: averaging more of them changes nothing.
    same = [yv + 0.3] * 2
    assert not _stage_judge()._member_pays(same, base, yv, None)
    # Members that differ by seed as much as the rest of their error: with m
    # members the error is B + v / m, and v / m is far above MEMBER_SHARE * B.
    spread = [yv + rng.normal(0, 0.3, yv.shape) for _ in range(2)]
    assert _stage_judge()._member_pays(spread, base, yv, None)
    # v / m just below and just above MEMBER_SHARE of B = 1 (a bias of 1).
    for factor, expected in ((0.9, False), (1.1, True)):
        v = factor * MEMBER_SHARE * 2  # the variance over seeds, m = 2
        dev = rng.choice([-1.0, 1.0], size=yv.shape) * np.sqrt(v / 2)
        pair = [yv + 1.0 + dev, yv + 1.0 - dev]  # unbiased variance v per row
        assert _stage_judge()._member_pays(pair, base, yv, None) is expected


# ---------------------------------------------------------------- uncertainty


def _ensemble_std(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, 1))
    y = np.sin(2 * X[:, 0]) + rng.normal(0, 0.1, n)
    model = NNRegressor(
        (32,), n_ensemble=3, guard=False, max_epochs=40, random_state=seed
    ).fit(X, y)
    grid = np.linspace(-2, 2, 101)[:, None]
    pred, std = model.predict(grid, return_std=True)
    np.testing.assert_array_equal(pred, model.predict(grid))
    assert std.shape == pred.shape and (std >= 0).all()
    return std.mean()


def test_return_std_shrinks_with_more_data():
    assert _ensemble_std(2000) < 0.5 * _ensemble_std(40)


def test_return_std_needs_an_ensemble(small_nn, smooth_data):
    X, y = smooth_data
    with pytest.raises(ValueError, match="n_ensemble"):
        small_nn().fit(X, y).predict(X, return_std=True)


# ------------------------------------------------------------------ embedding


def test_embedding_periodic_gives_xs_columns_frequencies_that_adamw_steps(
    small_nn, smooth_data
):
    X, y = smooth_data
    X = np.c_[X, np.exp(3 * X[:, 0])]  # spans decades: its log is appended
    model = small_nn(embedding="periodic", optimizer="muon", guard=False).fit(X, y)
    assert model.periodic_inputs_ == 4 == model.n_features_in_
    module = model.net_.module_
    assert module.periodic.frequencies.shape == (4, 2)  # not the appended log
    # Muon steps the hidden matrices; the frequencies take AdamW's step.
    (muon,) = [g for g in model.net_.optimizer_.param_groups if g["muon"]]
    assert all(p is not module.periodic.frequencies for p in muon["params"])


def test_embedding_auto_and_none_give_no_periodic_features_to_small_data(
    small_nn, smooth_data
):
    for embedding in ("auto", "none"):
        model = small_nn(embedding=embedding).fit(*smooth_data)
        assert model.periodic_inputs_ == 0
        assert model.net_.module_.periodic is None
