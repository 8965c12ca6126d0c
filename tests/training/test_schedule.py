"""The "wsd" schedule: warmup, a constant rate, a decay that a plateau starts."""

import numpy as np
import pytest
import torch
from skorch.history import History

from sknnfit import NNRegressor
from sknnfit.training.schedule import WarmupStableDecay
from sknnfit.training.stopping import STOP_KEY


class _Net:
    """What the callback touches: an optimizer and a history."""

    def __init__(self):
        self.optimizer_ = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1)
        self.history = History()


def _run(schedule, losses, steps_per_epoch):
    """Drive the callback over epochs with these held-out losses.

    Returns the rate of every step and the epoch that stopped training (or None).
    """
    net = _Net()
    schedule.on_train_begin(net)
    rates = []
    for epoch, loss in enumerate(losses, start=1):
        net.history.new_epoch()
        for _ in range(steps_per_epoch):
            schedule.on_batch_begin(net, training=True)
            rates.append(net.optimizer_.param_groups[0]["lr"])
            schedule.on_batch_end(net, training=True)
        net.history.record("valid_loss", loss)
        try:
            schedule.on_epoch_end(net)
        except KeyboardInterrupt:
            assert net.history[-1, STOP_KEY] == "early_stopping"
            return np.array(rates), epoch
    return np.array(rates), None


def _schedule(max_epochs, patience=3, **kw):
    return WarmupStableDecay(
        1.0, max_epochs, 4, monitor="valid_loss", patience=patience, tol=0.0, **kw
    )


def test_without_plateau_it_warms_up_holds_and_decays_over_the_last_fifth():
    rates, stopped = _run(_schedule(50), np.geomspace(1, 1e-3, 50), 4)
    assert stopped is None  # skorch's max_epochs ends it
    assert rates[0] == pytest.approx(0.04)  # 1/25 of the peak
    assert np.all(np.diff(rates[:10]) > 0)  # warmup: 5% of 200 steps
    assert np.all(rates[10:160] == 1.0)  # constant until epoch 40 ...
    assert np.all(np.diff(rates[160:]) < 0)  # ... then down ...
    assert rates[-1] < 0.03  # ... to near the floor


def test_a_plateau_starts_the_decay_and_its_end_stops_training():
    # Improving for 20 epochs, then flat: 3 epochs without progress start a
    # decay of a quarter of the 23 epochs run (6), after which training stops.
    losses = [*np.geomspace(1, 0.5, 20), *[0.5] * 100]
    rates, stopped = _run(_schedule(400, restart_gain=np.inf), losses, 4)
    assert stopped == 23 + 6
    assert np.all(np.diff(rates[23 * 4 :]) < 0)


def test_a_decay_that_cuts_the_loss_by_far_more_than_noise_goes_on_lower():
    # Flat through the warmup (20 epochs) and patience: the decay starts after
    # epoch 23 and divides the loss by 10 (more than 10% lower). The plateau was
    # the rate's, so training goes on at a tenth of the rate.
    losses = [*[1.0] * 25, *[0.1] * 200]
    schedule = _schedule(400)
    rates, stopped = _run(schedule, losses, 4)
    assert schedule.gains_[0] == pytest.approx(10.0)
    assert 0.1 in rates  # the second stable phase
    assert stopped is not None  # the second decay gains nothing: stop
    assert schedule.gains_[-1] == pytest.approx(1.0)


def test_a_decay_that_gains_less_than_a_tenth_stops():
    losses = [*[1.0] * 25, *[0.95] * 200]  # 5% lower: the data's plateau
    schedule = _schedule(400)
    _, stopped = _run(schedule, losses, 4)
    # Misses count from the end of the warmup (epoch 20): the decay starts
    # after epoch 22 and lasts ceil(22 / 4) = 6 epochs.
    assert stopped == 22 + 6
    assert schedule.gains_ == [pytest.approx(1 / 0.95)]


def test_without_patience_only_the_last_fifth_decays():
    rates, stopped = _run(_schedule(50, patience=None), [1.0] * 50, 4)
    assert stopped is None
    assert np.all(rates[10:160] == 1.0)


def test_divergence_recovery_lowers_the_rate_it_sets():
    schedule = _schedule(50)
    net = _Net()
    schedule.on_train_begin(net)
    schedule.step_ = 20  # past the warmup
    schedule.scale_lr(0.1)
    schedule.on_batch_begin(net, training=True)
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(0.1)


def test_wsd_stops_on_its_own_on_noise():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (400, 2))
    y = X[:, 0] + 0.3 * rng.normal(size=400)  # noise: the loss soon stalls
    model = NNRegressor(
        optimizer="adamw",
        lr_schedule="wsd",
        hidden_layer_sizes=(16,),
        max_epochs=300,
        guard=False,
        random_state=0,
        device="cpu",
    ).fit(X, y)
    assert model.lr_schedule_ == "wsd"
    assert model.n_epochs_ < 300
    assert model.n_iter_ == model.n_epochs_
