"""Reliability: divergence recovery, gradient clipping, Ctrl-C, reproducibility."""

import signal
import warnings

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import GradientNormClipping

from sknnfit.exceptions import (
    DivergenceError,
    DivergenceWarning,
    FitInterruptedWarning,
)
from sknnfit.training import TensorBatchIterator, stopping
from sknnfit.training.stopping import BestWeights, stop_reason

pytestmark = pytest.mark.filterwarnings(
    "ignore::sknnfit.exceptions.ExtrapolationWarning",
    "ignore::sklearn.exceptions.ConvergenceWarning",
)


#: This module's settings for ``small_nn``. Adam: one loss evaluation per batch, so
#: batches and epochs are easy to count (the "auto" optimizer picks L-BFGS for data
#: this small).
ADAM16 = {"hidden_layer_sizes": (16,), "max_epochs": 5, "optimizer": "adam"}


def divergence_of(model):
    return dict(model.net_.callbacks_)["sknnfit_divergence"]


# ---------------------------------------------------------------------- divergence


class NaNLossAt(torch.nn.Module):
    """MSE whose value is NaN at the given training calls (1-based), to inject
    a divergence at a known batch. Other keyword arguments (the settings of
    sknnfit's own criterion) are ignored."""

    def __init__(self, at=(), **kwargs):
        super().__init__()
        self.at = at
        self.calls = 0

    def forward(self, input, target):
        loss = ((input - target[:, : input.shape[1]]) ** 2).mean()
        if not torch.is_grad_enabled():
            return loss  # validation batches
        self.calls += 1
        if self.at == "all" or self.calls in self.at:
            return loss * float("nan")
        return loss


def test_nan_loss_restores_last_good_weights_and_lowers_lr(small_nn, normal_data):
    X, y = normal_data
    # 64 rows in batches of 32: calls 3 and 4 are epoch 2. A NaN on its last
    # batch leaves the weights of epoch 1, which a 1-epoch fit reproduces.
    kw = {"batch_size": 32, "lr_schedule": "none", "lr": 1e-2}
    net_params = {"criterion": NaNLossAt, "criterion__at": (4,)}
    with pytest.warns(
        DivergenceWarning,
        match=r"diverged 1 time\(s\) \(first at epoch 2\).*Restored the last good "
        r"weights and lowered the learning rate to 0\.001",
    ):
        model = small_nn(
            hidden_layer_sizes=(16,),
            optimizer="adam",
            max_epochs=2,
            net_params=net_params,
            **kw,
        ).fit(X, y)
    one_epoch = small_nn(
        hidden_layer_sizes=(16,), optimizer="adam", max_epochs=1, **kw
    ).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), one_epoch.predict(X))
    assert divergence_of(model).recoveries_ == [("epoch 2", pytest.approx(1e-3))]
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3)
    assert np.isnan(model.loss_curve_[1])


def test_nan_loss_mid_training_then_training_goes_on(small_nn, normal_data):
    X, y = normal_data
    net_params = {"criterion": NaNLossAt, "criterion__at": (3,)}
    with pytest.warns(DivergenceWarning, match="training went on"):
        model = small_nn(
            hidden_layer_sizes=(16,),
            optimizer="adam",
            max_epochs=4,
            batch_size=32,
            net_params=net_params,
        ).fit(X, y)
    assert model.n_epochs_ == 4
    assert np.isfinite(model.loss_curve_[2:]).all()
    assert np.isfinite(model.predict(X)).all()


def test_loss_nan_on_every_batch_raises_divergence_error(small_nn, normal_data):
    X, y = normal_data
    net_params = {"criterion": NaNLossAt, "criterion__at": "all"}
    with pytest.raises(
        DivergenceError,
        match=r"loss became NaN, infinite or over 10 times the loss without the "
        r"network 7 time\(s\).*no epoch finished with a "
        r"finite loss.*smaller lr, grad_clip=1\.0",
    ):
        small_nn(**ADAM16, net_params=net_params).fit(X, y)


# Settings whose loss really becomes infinite or NaN (the test checks it): SGD
# with Nesterov momentum at 1e3 to 1e5 times its usual rate. Adam does not
# qualify: its steps are bounded by lr, so even lr=1e3 gives a huge but finite
# loss.
DIVERGING = [
    pytest.param({"optimizer": "sgd", "lr": 1e3}, id="sgd-lr1e3"),
    pytest.param({"optimizer": "sgd", "lr": 3.0, "lr_schedule": "none"}, id="sgd-lr3"),
    pytest.param(
        {"optimizer": "sgd", "lr": 10.0, "lr_schedule": "none", "early_stopping": True},
        id="sgd-lr10-early-stopping",
    ),
    pytest.param({"optimizer": "sgd", "lr": 1e3, "early_stopping": True}, id="sgd-es"),
]


@pytest.mark.parametrize("params", DIVERGING)
def test_huge_learning_rate_recovers_or_raises_never_nan(small_nn, normal_data, params):
    X, y = normal_data
    model = small_nn(**(ADAM16 | params), batch_size=16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X, y)
        except DivergenceError as exc:
            assert "no usable weights" in str(exc) and "smaller lr" in str(exc)
            return
    # The probe: training really met a non-finite or an exploding loss ...
    curve = np.array(model.loss_curve_)
    exploded = curve[np.isfinite(curve)] > divergence_of(model).max_loss_
    assert not np.isfinite(curve).all() or exploded.any()
    # ... said so, and kept weights that predict finite numbers.
    messages = [str(w.message) for w in caught if w.category is DivergenceWarning]
    assert len(messages) == 1
    assert "Restored the last good weights and lowered the learning rate" in messages[0]
    assert divergence_of(model).recoveries_[-1][1] < params["lr"]
    assert np.isfinite(model.predict(X)).all()


def test_recovered_model_keeps_learning(small_nn, normal_data):
    X, y = normal_data
    # Diverges, then trains on at a lower learning rate to a useful fit.
    with pytest.warns(DivergenceWarning, match=r"time\(s\).*; training went on"):
        model = small_nn(
            hidden_layer_sizes=(16,),
            max_epochs=20,
            optimizer="sgd",
            lr=3.0,
            lr_schedule="none",
            early_stopping=True,
            batch_size=16,
        ).fit(X, y)
    assert model.validation_loss_curve_[model.best_epoch_ - 1] < 1.0  # the weights kept
    assert np.isfinite(model.predict(X)).all()


# ------------------------------------------------------------------ gradient clip


def test_grad_clip_adds_skorch_gradient_norm_clipping(small_nn, normal_data):
    X, y = normal_data
    clipped = small_nn(
        hidden_layer_sizes=(16,), optimizer="adam", max_epochs=1, grad_clip=0.5
    ).fit(X, y)
    callback = dict(clipped.net_.callbacks_)["sknnfit_grad_clip"]
    assert isinstance(callback, GradientNormClipping)
    assert callback.gradient_clip_value == 0.5
    plain = small_nn(hidden_layer_sizes=(16,), optimizer="adam", max_epochs=1).fit(X, y)
    assert "sknnfit_grad_clip" not in dict(plain.net_.callbacks_)


def test_grad_clip_is_applied_on_every_step(small_nn, normal_data, monkeypatch):
    import skorch.callbacks.regularization as regularization

    norms = []
    original = regularization.clip_grad_norm_

    def spy(parameters, max_norm, **kwargs):
        parameters = list(parameters)
        original(parameters, max_norm, **kwargs)
        norms.append(torch.norm(torch.stack([p.grad.norm() for p in parameters])))
        return norms[-1]

    monkeypatch.setattr(regularization, "clip_grad_norm_", spy)
    X, y = normal_data
    small_nn(
        hidden_layer_sizes=(16,),
        optimizer="adam",
        max_epochs=3,
        batch_size=16,
        grad_clip=0.01,
    ).fit(X, y)
    assert len(norms) == 3 * 4  # every optimiser step
    assert max(float(n) for n in norms) <= 0.01 * (1 + 1e-4)


def test_grad_clip_keeps_a_huge_learning_rate_finite(small_nn, normal_data):
    # Clipped steps never overflow; a loss that grows far above the base's is
    # still caught and undone (a DivergenceWarning), but never a NaN.
    X, y = normal_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        model = small_nn(
            hidden_layer_sizes=(16,),
            max_epochs=5,
            optimizer="sgd",
            lr=1e3,
            batch_size=16,
            grad_clip=1.0,
        ).fit(X, y)
    assert np.isfinite(model.loss_curve_).all()
    assert np.isfinite(model.predict(X)).all()


# ---------------------------------------------------------------------- interrupt


@pytest.fixture
def interrupt_after_epoch(monkeypatch):
    """Raise KeyboardInterrupt, as a Ctrl-C would, after an epoch's best check."""

    def arm(epoch):
        original = BestWeights.on_epoch_end

        def on_epoch_end(self, net, **kwargs):
            original(self, net, **kwargs)
            if len(net.history) == epoch:
                raise KeyboardInterrupt

        monkeypatch.setattr(BestWeights, "on_epoch_end", on_epoch_end)

    return arm


@pytest.fixture
def sigint_during_epoch(monkeypatch):
    """Send a real SIGINT from inside a training batch loop of the given epoch."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)

    def arm(epoch, batch=1):
        original = TensorBatchIterator.__iter__
        passes = {"n": 0}

        def __iter__(self):
            if self.shuffle:  # the training iterator
                passes["n"] += 1
            for i, item in enumerate(original(self)):
                if self.shuffle and passes["n"] == epoch and i == batch:
                    signal.raise_signal(signal.SIGINT)
                yield item

        monkeypatch.setattr(TensorBatchIterator, "__iter__", __iter__)

    yield arm
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_ctrl_c_after_epoch_3_keeps_a_usable_model(
    small_nn, normal_data, interrupt_after_epoch, early_stopping
):
    X, y = normal_data
    interrupt_after_epoch(3)
    kept = "best weights so far" if early_stopping else "last complete epoch"
    with pytest.warns(
        FitInterruptedWarning, match=rf"interrupted after 3 of 10 epochs.*{kept}"
    ):
        model = small_nn(
            hidden_layer_sizes=(16,),
            optimizer="adam",
            max_epochs=10,
            early_stopping=early_stopping,
        ).fit(X, y)
    assert model.n_epochs_ == 3
    assert len(model.loss_curve_) == 3
    assert 1 <= model.best_epoch_ <= 3
    pred = model.predict(X)
    assert pred.shape == (64,) and np.isfinite(pred).all()


def test_sigint_mid_epoch_goes_back_to_the_last_complete_epoch(
    small_nn, normal_data, interrupt_after_epoch, sigint_during_epoch
):
    X, y = normal_data
    sigint_during_epoch(4)
    with pytest.warns(FitInterruptedWarning, match="after 3 of 10 epochs"):
        mid = small_nn(
            hidden_layer_sizes=(16,), optimizer="adam", max_epochs=10, batch_size=8
        ).fit(X, y)
    assert mid.n_epochs_ == 3
    # Same seed, stopped cleanly at the end of epoch 3: the same weights. (Not
    # a second Ctrl-C in a row, which would stop the program.)
    stopping._last_interrupt["time"] = float("-inf")
    interrupt_after_epoch(3)
    with pytest.warns(FitInterruptedWarning):
        end = small_nn(
            hidden_layer_sizes=(16,), optimizer="adam", max_epochs=10, batch_size=8
        ).fit(X, y)
    np.testing.assert_array_equal(mid.predict(X), end.predict(X))


def test_interrupted_model_refits_from_scratch(
    small_nn, normal_data, interrupt_after_epoch
):
    X, y = normal_data
    interrupt_after_epoch(2)
    model = small_nn(hidden_layer_sizes=(16,), optimizer="adam", max_epochs=4)
    with pytest.warns(FitInterruptedWarning):
        model.fit(X, y)
    assert model.n_epochs_ == 2


def test_interrupted_is_recorded(small_nn, normal_data, interrupt_after_epoch):
    X, y = normal_data
    params = {"hidden_layer_sizes": (16,), "optimizer": "adam", "max_epochs": 4}
    assert small_nn(**params).fit(X, y).interrupted_ is False
    interrupt_after_epoch(2)
    with pytest.warns(FitInterruptedWarning, match="twice within 3 s"):
        assert small_nn(**params).fit(X, y).interrupted_ is True


def test_second_ctrl_c_in_a_row_stops_a_loop_of_fits(
    small_nn, normal_data, interrupt_after_epoch
):
    from sklearn.model_selection import GridSearchCV

    X, y = normal_data
    interrupt_after_epoch(1)  # every fit is cut short, as by repeated Ctrl-C
    search = GridSearchCV(
        small_nn(hidden_layer_sizes=(16,), optimizer="adam", max_epochs=4),
        {"lr": [1e-3, 1e-2]},
        cv=2,
    )
    with pytest.raises(KeyboardInterrupt, match="second Ctrl-C"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitInterruptedWarning)
            search.fit(X, y)


def test_ctrl_c_long_after_the_last_one_cuts_only_the_fit(
    small_nn, normal_data, interrupt_after_epoch
):
    X, y = normal_data
    interrupt_after_epoch(1)
    params = {"hidden_layer_sizes": (16,), "optimizer": "adam", "max_epochs": 4}
    with pytest.warns(FitInterruptedWarning):
        small_nn(**params).fit(X, y)
    stopping._last_interrupt["time"] -= 2 * stopping.DOUBLE_INTERRUPT_SECONDS
    with pytest.warns(FitInterruptedWarning):
        assert small_nn(**params).fit(X, y).interrupted_


def test_net_params_max_epochs_is_not_an_interrupt(small_nn, normal_data):
    X, y = normal_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitInterruptedWarning)
        model = small_nn(max_epochs=10, net_params={"max_epochs": 2}).fit(X, y)
    assert model.n_epochs_ == 2 and not model.interrupted_


def test_early_stopping_is_not_reported_as_an_interrupt(small_nn, normal_data):
    X, y = normal_data
    # tol=1 asks for a 100% improvement each epoch: stops after `patience`.
    model = small_nn(
        hidden_layer_sizes=(16,),
        optimizer="adam",
        max_epochs=50,
        early_stopping=True,
        patience=2,
        tol=1.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitInterruptedWarning)
        model.fit(X, y)
    assert model.n_epochs_ == 3  # the first epoch, then `patience` misses
    assert stop_reason(model.net_) == "early_stopping"


# ---------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("early_stopping", [False, True])
def test_same_random_state_is_bit_identical(small_nn, normal_data, early_stopping):
    X, y = normal_data
    Y = np.c_[y, y**2]
    runs = [
        small_nn(**ADAM16, random_state=7, early_stopping=early_stopping).fit(X, Y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].predict(X), runs[1].predict(X))
    assert runs[0].loss_curve_ == runs[1].loss_curve_


def test_global_seeds_neither_matter_nor_change(small_nn, normal_data):
    X, y = normal_data
    # The legacy global generators are exactly what fit must leave alone.
    torch.manual_seed(1)
    np.random.seed(1)  # noqa: NPY002
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    a = small_nn(**ADAM16, random_state=3).fit(X, y).predict(X)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])  # noqa: NPY002
    torch.manual_seed(2)
    b = small_nn(**ADAM16, random_state=3).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)


def test_random_state_instance_gives_identical_fits(small_nn, normal_data):
    X, y = normal_data
    a = small_nn(**ADAM16, random_state=np.random.RandomState(5)).fit(X, y).predict(X)
    b = small_nn(**ADAM16, random_state=np.random.RandomState(5)).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)


def _search(small_nn, X, y, n_jobs):
    search = GridSearchCV(
        small_nn(hidden_layer_sizes=(16,), optimizer="adam", max_epochs=3),
        {"lr": [1e-3, 1e-2], "hidden_layer_sizes": [(4,), (8,)]},
        cv=2,
        n_jobs=n_jobs,
    )
    return search.fit(X, y)


def test_grid_search_in_parallel_is_bit_identical(small_nn, normal_data):
    X, y = normal_data
    runs = [_search(small_nn, X, y, n_jobs) for n_jobs in (2, 2, 1)]
    scores = [k for k in runs[0].cv_results_ if "test_score" in k]
    for other in runs[1:]:
        for key in scores:
            np.testing.assert_array_equal(
                runs[0].cv_results_[key], other.cv_results_[key]
            )
        assert other.best_params_ == runs[0].best_params_
        np.testing.assert_array_equal(
            other.best_estimator_.predict(X), runs[0].best_estimator_.predict(X)
        )


def _global_random_states():
    import random

    return np.random.get_state(), torch.get_rng_state(), random.getstate()  # noqa: NPY002


@pytest.mark.parametrize("early_stopping", [False, True])
def test_random_state_none_leaves_every_global_generator_alone(
    small_nn, normal_data, early_stopping
):
    X, y = normal_data
    before = _global_random_states()
    small_nn(**ADAM16, random_state=None, early_stopping=early_stopping).fit(X, y)
    after = _global_random_states()
    numpy_before, numpy_after = before[0], after[0]
    assert numpy_before[0] == numpy_after[0]
    np.testing.assert_array_equal(numpy_before[1], numpy_after[1])
    assert numpy_before[2:] == numpy_after[2:]  # position, gaussian cache
    assert torch.equal(before[1], after[1])
    assert before[2] == after[2]


# ---------------------------------------------------------------- torch's modes


def test_fit_works_under_float64_default_dtype_and_restores_it(small_nn, normal_data):
    X, y = normal_data
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = small_nn(**ADAM16).fit(X, y)
        assert torch.get_default_dtype() == torch.float64
        pred = model.predict(X)
    finally:
        torch.set_default_dtype(previous)
    reference = small_nn(**ADAM16).fit(X, y).predict(X)
    np.testing.assert_array_equal(pred, reference)


@pytest.mark.parametrize("mode", [torch.inference_mode, torch.no_grad])
def test_fit_works_inside_inference_mode(small_nn, normal_data, mode):
    X, y = normal_data
    with mode():
        pred = small_nn(**ADAM16).fit(X, y).predict(X)
    np.testing.assert_array_equal(pred, small_nn(**ADAM16).fit(X, y).predict(X))


# ------------------------------------------------------ divergence by the loss


@pytest.fixture(scope="module")
def split_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (300, 3))
    X_test = rng.uniform(-2, 2, (300, 3))

    def f(A):
        return np.sin(A[:, 0]) + A[:, 1] * A[:, 2]

    return X, f(X), X_test, f(X_test)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "muon", "signagree"])
@pytest.mark.parametrize("base", ["auto", "none"])
def test_huge_finite_loss_is_caught_and_recovered(
    small_nn, split_data, optimizer, base
):
    # lr=1e3 gives a finite but huge loss (no NaN): caught by its size, undone,
    # and the model kept is far better than predicting the mean.
    X, y, X_test, y_test = split_data
    with pytest.warns(DivergenceWarning, match="over 10 times"):
        model = small_nn(
            hidden_layer_sizes=(16,),
            optimizer=optimizer,
            lr=1e3,
            max_epochs=30,
            base=base,
        ).fit(X, y)
    assert divergence_of(model).recoveries_
    assert model.score(X_test, y_test) > (0.5 if base == "auto" else 0.0)


def test_sgd_at_a_million_times_its_rate_never_returns_a_broken_model(
    small_nn, split_data
):
    X, y, X_test, y_test = split_data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            model = small_nn(optimizer="sgd", lr=1e6, max_epochs=10, base="none")
            model.fit(X, y)
    except DivergenceError as exc:
        assert "no usable weights" in str(exc)
        return
    assert model.score(X_test, y_test) > 0.0


def test_a_kept_model_far_worse_than_the_base_raises(small_nn, split_data):
    from sknnfit.training.record import TrainingRecord, report

    record = TrainingRecord(
        stop="max_epochs",
        max_epochs=5,
        loss_curve=[1.0] * 5,
        validation_scores=None,
        best_epoch=5,
        kept_best=False,
        recoveries=[],
        outputs_finite=True,
        final_loss=50.0,
        base_loss=1.0,
        start_loss=1.2,
        max_loss=12.0,
    )
    with pytest.raises(DivergenceError, match="over 10 times worse"):
        report(record)
