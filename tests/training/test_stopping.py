"""Stall and EarlyStop: stop where the loss stopped falling or would gain too little."""

import numpy as np
from skorch.history import History

from sknnfit.training.stopping import BAD_EPOCH_KEY, STOP_KEY, EarlyStop, Stall


class _Net:
    """What the callback reads: a history and max_epochs."""

    def __init__(self, max_epochs):
        self.max_epochs = max_epochs
        self.history = History()


def _stop_epoch(losses, max_epochs, patience=10, gain=1.21, min_left=20, bad=()):
    """The epoch at which Stall stops training on these held-out losses, or None."""
    net = _Net(max_epochs)
    stall = Stall("valid_loss", patience, gain, min_left)
    stall.on_train_begin(net)
    for epoch, loss in enumerate(losses, start=1):
        net.history.new_epoch()
        net.history.record("train_loss", loss)
        net.history.record("valid_loss", loss)
        if epoch in bad:
            net.history.record(BAD_EPOCH_KEY, True)
        try:
            stall.on_epoch_end(net)
        except KeyboardInterrupt:
            assert net.history[-1, STOP_KEY] == "stalled"
            return epoch
    return None


def test_a_loss_that_creeps_stops_once_the_rate_is_measured():
    # 0.01% per epoch: 190 more epochs would gain 2%, far from 1.21x.
    losses = 1e-6 * 0.9999 ** np.arange(200)
    assert _stop_epoch(losses, 200) == 11


def test_a_loss_that_falls_steadily_runs_out_its_epochs():
    losses = 0.95 ** np.arange(200)
    assert _stop_epoch(losses, 200) is None


def test_a_slow_fall_stops_only_where_the_epochs_left_cannot_buy_the_gain():
    # 0.5% per epoch: the epochs left gain 1.21x until 38 are left (1.005**38 is
    # 1.209), at epoch 62 of 100.
    losses = 0.995 ** np.arange(100)
    assert _stop_epoch(losses, 100) == 62


def test_fewer_epochs_left_than_min_left_are_run_out():
    # 1% per epoch gains 1.21x over 20 epochs: below that, it would stop, but
    # then fewer than min_left=20 are left.
    losses = 0.99 ** np.arange(100)
    assert _stop_epoch(losses, 100) is None
    assert _stop_epoch(losses, 100, min_left=5) == 82


def test_a_loss_at_its_best_several_epochs_back_counts_as_no_fall():
    # Best at epoch 30; ten epochs later nothing beat it.
    losses = np.r_[np.linspace(1.0, 0.5, 30), np.full(30, 0.6)]
    assert _stop_epoch(losses, 200) == 40


def test_bad_epochs_are_not_counted():
    losses = 0.95 ** np.arange(60)
    losses[30:40] = np.nan
    assert _stop_epoch(losses, 200, bad=range(31, 41)) is None


def _early_stop_epoch(losses, patience=10, tol=1e-6, reason="flat"):
    """The epoch at which EarlyStop stops on these training losses, or None."""
    net = _Net(len(losses))
    stop = EarlyStop("train_loss", patience, tol, reason=reason)
    stop.on_train_begin(net)
    for epoch, loss in enumerate(losses, start=1):
        net.history.new_epoch()
        net.history.record("train_loss", loss)
        try:
            stop.on_epoch_end(net)
        except KeyboardInterrupt:
            assert net.history[-1, STOP_KEY] == reason
            return epoch
    return None


def test_a_flat_training_loss_stops_patience_epochs_after_its_last_fall():
    losses = np.r_[np.geomspace(1.0, 1e-3, 30), np.full(170, 1e-3)]
    assert _early_stop_epoch(losses) == 40


def test_a_training_loss_falling_by_more_than_tol_each_epoch_is_run_out():
    # 1e-6 relative per epoch: progress for tol=1e-7, a miss for tol=1e-5.
    losses = 1e-3 * (1 - 1e-6) ** np.arange(200)
    assert _early_stop_epoch(losses, tol=1e-7) is None
    assert _early_stop_epoch(losses, tol=1e-5) == 11
