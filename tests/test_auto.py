"""The "auto" rules of NNRegressor, resolved by make_plan from the data's sizes."""

import dataclasses
import warnings

import pytest

import sknnfit._auto
from sknnfit import NNRegressor
from sknnfit._auto import Plan, fitted_plan, make_plan


def plan_for(n_train, n_outputs=19, n_inputs=50, **params):
    """The plan of NNRegressor(**params) for data of this size (no validation).

    Without periodic features unless asked: the costs below are those of the
    plain network.
    """
    params.setdefault("embedding", "none")
    return make_plan(
        NNRegressor(**params).get_params(),
        n_samples=n_train,
        n_train=n_train,
        n_features=n_inputs,
        n_inputs=n_inputs,
        n_outputs=n_outputs,
    )


@pytest.mark.parametrize(
    ("optimizer", "n_train", "hidden", "expected"),
    [
        # A small network: the step rule binds (batches of 1024 rows) ...
        ("adamw", 100_000, (8,), 400),  # 98 steps per epoch: capped at 400
        ("adamw", 200_000, (8,), 230),  # 196 steps: 45,000 / 196 rounded up
        # ... until the time budget does: 210 s / (977 steps x 2.0 ms).
        ("adamw", 1_000_000, (8,), 107),
        # 50 inputs, 19 outputs: 42,003 parameters (87,571 with three layers of
        # 192); a step of 1024 rows is 1.9 ms + 1.65e-10 s x 1024 x parameters.
        ("adamw", 10_000, (128, 128, 128), 400),  # 40 s / (10 x 9.0 ms) > 400
        ("adamw", 20_000, (128, 128, 128), 333),  # 60 s / (20 x 9.0 ms)
        ("adamw", 200_000, (128, 128, 128), 119),  # 210 s / (196 x 9.0 ms)
        ("adamw", 200_000, (192, 192, 192), 64),  # 210 s / (196 x 16.7 ms)
        ("adamw", 2_000_000, (128, 128, 128), 11),
        # L-BFGS: 200 epochs, fewer beyond its work cap (579 parameters here).
        ("lbfgs", 4_000, (8,), 200),
        ("lbfgs", 100_000, (8,), 43),  # 2.5e9 / (100,000 x 579)
    ],
)
def test_max_epochs_auto(optimizer, n_train, hidden, expected):
    params = {"optimizer": optimizer, "batch_size": 1024, "precision": "float32"}
    assert plan_for(n_train, hidden_layer_sizes=hidden, **params).max_epochs == expected
    given = plan_for(n_train, hidden_layer_sizes=hidden, max_epochs=7, **params)
    assert given.max_epochs == 7


@pytest.mark.parametrize("n_train", [2_000, 16_000, 60_000, 200_000, 2_000_000])
def test_max_epochs_auto_stays_within_a_time_budget_that_grows_with_the_data(n_train):
    from sknnfit._auto import MAX_SECONDS, MIN_SECONDS, epoch_seconds, time_budget

    # float32: where the CPU has native bfloat16, "auto" takes it on large data.
    plan = plan_for(
        n_train,
        hidden_layer_sizes=(128, 128, 128),
        optimizer="adamw",
        precision="float32",
    )
    n_parameters = 50 * 128 + 128 + 2 * (128 * 128 + 128) + 128 * 19 + 19
    steps = -(-n_train // plan.batch_size)
    spent = plan.max_epochs * epoch_seconds(steps, plan.batch_size, n_parameters)
    budget = time_budget(n_train)
    assert MIN_SECONDS <= budget <= MAX_SECONDS
    assert spent <= budget
    # One more pass would exceed it, unless the step rule stopped first.
    assert plan.max_epochs == 400 or spent + spent / plan.max_epochs > budget
    assert time_budget(2 * n_train) >= budget


def test_max_epochs_auto_counts_muons_newton_schulz_steps():
    from sknnfit._auto import (
        MUON_MATRIX_SECONDS,
        NEWTON_SCHULZ_SECONDS,
        epoch_seconds,
        muon_step_seconds,
        time_budget,
    )

    # The hidden matrices of 50 -> 192 -> 192 -> 192 -> 19: 50 x 192 and two
    # of 192 x 192; the output layer takes AdamW's step and costs nothing extra.
    widths = [50, 192, 192, 192, 19]
    units = 50**2 * 192 + 2 * 192**3
    expected = 3 * MUON_MATRIX_SECONDS + NEWTON_SCHULZ_SECONDS * units
    assert muon_step_seconds(widths) == pytest.approx(expected)
    params = {
        "hidden_layer_sizes": (192, 192, 192),
        "batch_size": 1024,
        "precision": "float32",  # not bfloat16 where the CPU has it natively
    }
    muon = plan_for(200_000, optimizer="muon", **params).max_epochs
    adamw = plan_for(200_000, optimizer="adamw", **params).max_epochs
    assert muon < adamw == 64
    per_epoch = epoch_seconds(196, 1024, 87_571) + 196 * expected
    assert muon == int(time_budget(200_000) // per_epoch)


def test_max_epochs_auto_counts_bfloat16_newton_schulz_steps_as_faster():
    from sknnfit._auto import (
        BFLOAT16_NS_SPEEDUP,
        MUON_MATRIX_SECONDS,
        NEWTON_SCHULZ_SECONDS,
        muon_step_seconds,
    )

    widths = [50, 192, 192, 192, 19]
    # In bfloat16 the two 192 x 192 matrices run their products faster; the
    # 50 x 192 one stays in float32.
    expected = 3 * MUON_MATRIX_SECONDS + NEWTON_SCHULZ_SECONDS * (
        50**2 * 192 + 2 * 192**3 / BFLOAT16_NS_SPEEDUP
    )
    assert muon_step_seconds(widths, "bfloat16") == pytest.approx(expected)
    assert muon_step_seconds(widths, "bfloat16") < muon_step_seconds(widths)


def test_max_epochs_auto_allows_more_work_in_bfloat16():
    params = {"hidden_layer_sizes": (192, 192, 192), "optimizer": "adamw"}
    params["batch_size"] = 1024
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # emulated bfloat16 here
        # The per-row cost / 3.5, 0.5 ms more a step:
        # 210 s / (196 x (1.9 + 0.5 + 14.8 / 3.5) ms).
        assert plan_for(200_000, precision="bfloat16", **params).max_epochs == 161
    assert plan_for(200_000, precision="float32", **params).max_epochs == 64


def test_bfloat16_epoch_costs_the_casts_and_less_per_row():
    from sknnfit._auto import (
        BFLOAT16_SPEEDUP,
        BFLOAT16_STEP_SECONDS,
        ROW_PARAMETER_SECONDS,
        STEP_SECONDS,
        epoch_seconds,
    )

    per_row = ROW_PARAMETER_SECONDS * 1024 * 100_000
    assert epoch_seconds(10, 1024, 100_000) == pytest.approx(
        10 * (STEP_SECONDS + per_row)
    )
    assert epoch_seconds(10, 1024, 100_000, "bfloat16") == pytest.approx(
        10 * (STEP_SECONDS + BFLOAT16_STEP_SECONDS + per_row / BFLOAT16_SPEEDUP)
    )
    # Small steps are dominated by their fixed cost, which the casts raise.
    assert epoch_seconds(10, 32, 1_000, "bfloat16") > epoch_seconds(10, 32, 1_000)


@pytest.mark.parametrize(
    ("n_train", "n_outputs", "multi_output", "native", "layers", "precision"),
    [
        # Large: at least 1,000,000 target values per network; 3 x 256 where
        # they are 15 or more per parameter of it (3.8 million for 149,523
        # parameters) and the budget buys 5,000 steps (bfloat16: 10,388).
        (200_000, 19, "shared", True, (256, 256, 256), "bfloat16"),
        # float32 buys 3 x 256 fewer steps: 3 x 192.
        (200_000, 19, "shared", False, (192, 192, 192), "float32"),  # no bfloat16
        (1_000_000, 1, "shared", True, (192, 192, 192), "bfloat16"),  # 6.7 each
        # Small: below it.
        (999_999, 1, "shared", True, (128, 128, 128), "float32"),
        (100_000, 1, "shared", True, (128, 128, 128), "float32"),
        (20_000, 25, "shared", True, (128, 128, 128), "float32"),
        # One net per output learns one output's values.
        (200_000, 19, "separate", True, (128, 128, 128), "float32"),
    ],
)
def test_auto_architecture_widens_for_large_data(
    monkeypatch, n_train, n_outputs, multi_output, native, layers, precision
):
    monkeypatch.setattr(sknnfit._auto, "native_bfloat16", lambda device: native)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "auto" never warns about emulation
        plan = plan_for(n_train, n_outputs, multi_output=multi_output, device="cpu")
    assert (plan.hidden_layer_sizes, plan.precision) == (layers, precision)


@pytest.mark.parametrize(
    ("n_train", "layers", "optimizer"),
    [
        # 3 inputs, 1 output: 33,537 parameters at width 128, 8,769 at 64,
        # 2,273 at 32; L-BFGS takes the widest within 2e7 row x parameters.
        (500, (128, 128, 128), "lbfgs"),
        (2_000, (64, 64, 64), "lbfgs"),
        (7_500, (32, 32, 32), "lbfgs"),
        # Beyond the narrowest: Muon on the default width.
        (9_000, (128, 128, 128), "muon"),
    ],
)
def test_auto_architecture_narrows_to_keep_lbfgs(n_train, layers, optimizer):
    plan = plan_for(n_train, n_outputs=1, n_inputs=3)
    assert (plan.hidden_layer_sizes, plan.optimizer) == (layers, optimizer)
    assert plan.hidden_layer_sizes == sknnfit._auto._auto_layers("auto", n_train, 3, 1)


def test_auto_architecture_keeps_the_default_width_for_a_chosen_optimizer():
    plan = plan_for(7_500, n_outputs=1, n_inputs=3, optimizer="lbfgs")
    assert plan.hidden_layer_sizes == (128, 128, 128)
    plan = plan_for(500, n_outputs=1, n_inputs=3, optimizer="adamw")
    assert plan.hidden_layer_sizes == (128, 128, 128)


@pytest.mark.parametrize(
    ("n_train", "params", "layers"),
    [
        # 15 target values per parameter of 3 x 256 is 2,242,845 (149,523
        # parameters for 50 inputs and 19 outputs): 118,045 rows.
        (118_045, {}, (256, 256, 256)),
        (118_044, {}, (192, 192, 192)),
        # Steps: max_epochs x 196 batches of 1,024 rows; 26 epochs are 5,096.
        (200_000, {"max_epochs": 26}, (256, 256, 256)),
        (200_000, {"max_epochs": 25}, (192, 192, 192)),
        # AdamW's steps are cheaper than Muon's: the budget buys more of them.
        (200_000, {"optimizer": "adamw", "precision": "float32"}, (256, 256, 256)),
        (200_000, {"optimizer": "muon", "precision": "float32"}, (192, 192, 192)),
        # An L-BFGS epoch is one full batch: far fewer than 5,000 steps.
        (200_000, {"optimizer": "lbfgs"}, (192, 192, 192)),
    ],
)
def test_auto_architecture_is_wider_with_data_and_steps_for_it(
    monkeypatch, n_train, params, layers
):
    monkeypatch.setattr(sknnfit._auto, "native_bfloat16", lambda device: True)
    assert sknnfit._auto.WIDE_VALUES_PER_PARAMETER == 15
    assert sknnfit._auto.WIDE_MIN_STEPS == 5_000
    plan = plan_for(n_train, **params)
    assert plan.hidden_layer_sizes == layers


def test_explicit_architecture_is_kept_on_large_data(monkeypatch):
    monkeypatch.setattr(sknnfit._auto, "native_bfloat16", lambda device: True)
    plan = plan_for(200_000, hidden_layer_sizes=(64, 64), precision="float32")
    assert (plan.hidden_layer_sizes, plan.precision) == ((64, 64), "float32")
    plan = plan_for(10, hidden_layer_sizes=(16,), precision="bfloat16")
    assert (plan.hidden_layer_sizes, plan.precision) == ((16,), "bfloat16")


@pytest.mark.parametrize(
    ("optimizer", "n_train", "expected"),
    [
        ("lbfgs", 1000, 1000),  # L-BFGS takes the full batch
        ("adamw", 64 * 100, 128),  # about 1/64 of the rows, a power of two
        ("adamw", 100, 32),  # at least 32 ...
        ("adamw", 10, 10),  # ... but never more than the rows
        ("adamw", 10**6, 1024),  # at most 1024
    ],
)
def test_batch_size_auto(optimizer, n_train, expected):
    assert plan_for(n_train, optimizer=optimizer).batch_size == expected


def test_optimizer_auto_takes_lbfgs_for_small_work_only():
    assert plan_for(1000, n_outputs=1, n_inputs=3).optimizer == "lbfgs"
    assert plan_for(200_000).optimizer == "muon"
    # lr and schedule follow the optimizer.
    small = plan_for(1000, n_outputs=1, n_inputs=3)
    assert (small.lr, small.lr_schedule) == (1.0, "none")
    large = plan_for(200_000)
    assert (large.lr, large.lr_schedule) == (5e-3, "linear")


@pytest.mark.parametrize("schedule", ["linear", "onecycle", "wsd"])
def test_step_counted_schedules_with_batch_growth_are_refused(schedule):
    with pytest.raises(ValueError, match="batch_growth"):
        plan_for(1000, lr_schedule=schedule, batch_growth=True)


def test_batch_growth_takes_cosine():
    assert plan_for(1000, batch_growth=True, optimizer="adam").lr_schedule == "cosine"


def test_groups_follow_multi_output_and_ensemble():
    assert plan_for(100, 3).groups == ((0, 1, 2),)
    assert plan_for(100, 2, multi_output="separate", n_ensemble=2).groups == (
        (0,),
        (1,),
        (0,),
        (1,),
    )


def test_plan_is_frozen_and_names_the_fitted_attributes():
    plan = plan_for(100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.lr = 1.0
    attributes = plan.attributes()
    assert attributes["optimizer_"] == plan.optimizer
    assert attributes["base_kind_"] == plan.base_kind
    assert set(attributes) >= {"max_epochs_", "batch_size_", "device_", "loss_"}


def test_fitted_plan_reads_back_the_plan_a_fit_used(small_nn):
    import numpy as np

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), rng.normal(size=(60, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = small_nn(multi_output="separate").fit(X, y)
    plan = fitted_plan(model)
    assert isinstance(plan, Plan)
    assert plan.groups == ((0,), (1,))
    for name, value in plan.attributes().items():
        assert getattr(model, name) == value


@pytest.mark.parametrize(
    ("optimizer", "schedule", "max_epochs", "expected"),
    [
        ("lbfgs", "none", 200, 10),
        ("adamw", "onecycle", 400, 100),
        ("muon", "linear", 49, 20),
        ("muon", "linear", 400, 100),
        ("adamw", "cosine", 40, 20),
        ("adam", "plateau", 400, 20),
        ("adamw", "wsd", 400, 20),  # it anneals before it stops
    ],
)
def test_patience_auto(optimizer, schedule, max_epochs, expected):
    from sknnfit._auto import _patience

    assert _patience("auto", optimizer, schedule, max_epochs) == expected
    assert _patience(7, optimizer, schedule, max_epochs) == 7


@pytest.mark.parametrize(
    ("n_train", "n_outputs", "embedding", "expected"),
    [
        (200_000, 19, "auto", 25),  # large: X's 25 columns get periodic features
        (20_000, 19, "auto", 0),  # 380,000 target values: not large
        (20_000, 19, "periodic", 25),
        (200_000, 19, "none", 0),
    ],
)
def test_embedding_auto_gives_periodic_features_on_large_data_only(
    n_train, n_outputs, embedding, expected
):
    plan = make_plan(
        NNRegressor(embedding=embedding).get_params(),
        n_samples=n_train,
        n_train=n_train,
        n_features=25,
        n_inputs=50,  # with appended logs, which get no periodic features
        n_outputs=n_outputs,
    )
    assert plan.periodic_inputs == expected


def test_periodic_features_need_hidden_layers():
    plan = plan_for(1000, embedding="periodic", hidden_layer_sizes=())
    assert plan.periodic_inputs == 0


def test_max_epochs_auto_counts_the_periodic_features_of_the_first_layer():
    from sknnfit._auto import epoch_seconds, time_budget

    params = {"hidden_layer_sizes": (192, 192, 192), "optimizer": "adamw"}
    params.update(batch_size=1024, precision="float32")
    plain = plan_for(200_000, **params)
    periodic = plan_for(200_000, embedding="periodic", **params)
    # 50 inputs + 2 x 2 sines and cosines of each: the first layer takes 250.
    n_parameters = 250 * 192 + 192 + 2 * (192 * 192 + 192) + 192 * 19 + 19
    per_epoch = epoch_seconds(196, 1024, n_parameters)
    assert periodic.max_epochs == int(time_budget(200_000) // per_epoch) == 46
    assert plain.max_epochs == 64


def test_auto_architecture_counts_the_periodic_features_of_small_data():
    # 3 inputs, 1 output, 2,200 rows: 3 x 64 (8,641 parameters) is within
    # L-BFGS's 2e7 rows x parameters; with the 12 features the first layer
    # takes 15 inputs, 9,409 parameters, beyond it: 3 x 32 keeps L-BFGS.
    assert plan_for(2_200, n_outputs=1, n_inputs=3).hidden_layer_sizes == (64,) * 3
    plan = plan_for(2_200, n_outputs=1, n_inputs=3, embedding="periodic")
    assert plan.periodic_inputs == 3
    assert (plan.hidden_layer_sizes, plan.optimizer) == ((32, 32, 32), "lbfgs")
