"""The "wsd" learning-rate schedule: warm up, hold, anneal when progress stops.

A one-cycle schedule fixes its length before training: it anneals over its last
70% of steps whether or not the held-out loss is still falling, so stopping early
means stopping at a high rate, and its patience must be long. Warmup-stable-decay
(Hägele et al. 2024, "Scaling laws and compute-optimal training beyond fixed
training durations") holds the peak rate until the monitored loss stops
improving, then anneals over a share of the epochs run so far and stops: the
length of training follows the data, not a fixed count.
"""

from __future__ import annotations

import math

from skorch.callbacks import Callback

from .stopping import BAD_EPOCH_KEY, improved, stop_training


class WarmupStableDecay(Callback):
    """Linear warmup, a constant rate, then a linear decay ending training.

    The rate rises from ``lr * start_factor`` to ``lr`` over the first
    ``warmup`` share of ``max_epochs``, stays at ``lr``, and falls linearly to
    ``lr * final_factor`` over the decay. The decay begins when the monitored
    loss has not improved by ``tol`` (relative to its lowest value) for
    ``patience`` epochs after the warmup, and then lasts ``decay / (1 - decay)``
    times the epochs run so far (at least one): ``decay`` is its share of the
    whole training. At its end training stops (reason ``"early_stopping"``).
    Without a plateau, the decay takes the last ``decay`` share of
    ``max_epochs``, as a fixed-length schedule would. A decay a plateau started
    that lowers the monitored loss by the factor ``restart_gain`` or more shows
    that the plateau was the rate's, not the data's: training goes on at
    ``restart_factor`` times the rate, until the next plateau. The default,
    a loss lower by more than 10%, is the rule by which
    :func:`~sknnfit.training.record.still_improving` says more epochs help.

    Parameters
    ----------
    lr : float
        The peak rate.
    max_epochs : int
    steps_per_epoch : int
    monitor : str
        History key of the loss watched for a plateau.
    patience : int or None
        Epochs without progress that start the decay; None never starts it early.
    tol : float
    warmup : float, default=0.05
    decay : float, default=0.2
    start_factor : float, default=0.04
    final_factor : float, default=1e-3
    restart_gain : float, default=1/0.9
    restart_factor : float, default=0.1

    Attributes
    ----------
    decay_epoch_ : int or None
        The epoch after which the decay began (None while it has not).
    gains_ : list of float
        The monitored loss before each decay a plateau started over the lowest
        loss at its end.
    """

    def __init__(
        self,
        lr,
        max_epochs,
        steps_per_epoch,
        monitor,
        patience,
        tol,
        warmup=0.05,
        decay=0.2,
        start_factor=0.04,
        final_factor=1e-3,
        restart_gain=1 / 0.9,
        restart_factor=0.1,
    ):
        self.lr = lr
        self.max_epochs = max_epochs
        self.steps_per_epoch = steps_per_epoch
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.warmup = warmup
        self.decay = decay
        self.start_factor = start_factor
        self.final_factor = final_factor
        self.restart_gain = restart_gain
        self.restart_factor = restart_factor

    def scale_lr(self, factor):
        """Multiply the rate from now on (divergence recovery lowers it)."""
        self.lr_ *= factor

    def on_train_begin(self, net, **kwargs):
        self.lr_ = float(self.lr)
        self.step_ = 0
        self.warmup_steps_ = math.ceil(
            self.warmup * self.max_epochs * self.steps_per_epoch
        )
        self.best_, self.misses_ = math.inf, 0
        self.decay_epoch_ = None
        self.plateau_ = False
        self.gains_ = []
        # Without a plateau the decay takes the last share of max_epochs.
        self.forced_epoch_ = self.max_epochs - max(
            1, math.ceil(self.decay * self.max_epochs)
        )

    def rate(self):
        """The learning rate of the next step."""
        if self.decay_epoch_ is not None:
            done = self.step_ - self.decay_step_
            left = max(0.0, 1.0 - done / self.decay_steps_)
            return self.lr_ * (self.final_factor + (1 - self.final_factor) * left)
        if self.step_ < self.warmup_steps_:
            share = self.step_ / self.warmup_steps_
            return self.lr_ * (self.start_factor + (1 - self.start_factor) * share)
        return self.lr_

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        rate = self.rate()
        for group in net.optimizer_.param_groups:
            group["lr"] = rate

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.step_ += 1

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        stalled = self._watch(net)
        if self.decay_epoch_ is None:
            if stalled:
                self.plateau_ = True
                run = math.ceil(self.decay / (1 - self.decay) * epoch)
                self._begin_decay(epoch, min(run, self.max_epochs - epoch))
            elif epoch >= self.forced_epoch_:
                self._begin_decay(epoch, self.max_epochs - epoch)
            return
        if not (self.plateau_ and epoch >= self.decay_end_):
            return
        gain = self.before_decay_ / max(self.best_, 1e-300)
        self.gains_.append(gain)
        if gain >= self.restart_gain and self.max_epochs - epoch > self.patience:
            # Annealing still lowered the loss clearly: the plateau was the
            # rate's, not the data's. Go on at a lower rate.
            self.lr_ *= self.restart_factor
            self.decay_epoch_, self.plateau_, self.misses_ = None, False, 0
            self.forced_epoch_ = max(self.forced_epoch_, epoch + 1)
            return
        stop_training(net, "early_stopping")

    def _watch(self, net):
        """Count epochs without progress after the warmup; True at ``patience``."""
        row = net.history[-1]
        if self.patience is None or row.get(BAD_EPOCH_KEY, False):
            return False
        score = row.get(self.monitor, math.nan)
        if not math.isfinite(score):
            return False
        if improved(score, self.best_, self.tol):
            self.misses_ = 0
        elif self.step_ >= self.warmup_steps_:
            self.misses_ += 1
        self.best_ = min(self.best_, float(score))
        return self.misses_ >= self.patience

    def _begin_decay(self, epoch, epochs):
        """Decay over the next ``epochs`` epochs (at least one)."""
        epochs = max(1, epochs)
        self.before_decay_ = self.best_
        self.decay_epoch_, self.decay_end_ = epoch, epoch + epochs
        self.decay_step_ = self.step_
        self.decay_steps_ = epochs * self.steps_per_epoch
