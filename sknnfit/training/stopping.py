"""When training stops, and which weights it keeps: skorch callbacks.

skorch leaves its training loop on ``KeyboardInterrupt``, whoever raises it (its
own ``EarlyStopping`` does the same). A callback of this module that ends
training first records why in the epoch's history row (key ``"sknnfit_stop"``),
so :func:`stop_reason` tells those stops apart from a user's Ctrl-C. An epoch
whose loss or weights were not finite is marked ``"sknnfit_bad_epoch"`` and
never counts as the best or as progress.

Callbacks run in list order: :class:`DivergenceRecovery` first, so the others
only see epochs it accepted, and at the end it restores the last good weights
before :class:`BestWeights` may put the best ones in their place.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from .._inference import PREDICT_BATCH

STOP_KEY = "sknnfit_stop"
BAD_EPOCH_KEY = "sknnfit_bad_epoch"


def stop_training(net, reason):
    """Record ``reason`` in the current epoch's history row and leave training."""
    net.history.record(STOP_KEY, reason)
    raise KeyboardInterrupt  # skorch's way out of the training loop


def completed_epochs(net):
    """Epochs that ran to their end (their history row has a training loss)."""
    return sum("train_loss" in row for row in net.history)


def stop_reason(net):
    """Why training ended: a callback's reason, ``"max_epochs"`` or ``"interrupted"``.

    ``"interrupted"`` is a ``KeyboardInterrupt`` that no callback raised: the
    user's Ctrl-C.
    """
    for row in reversed(net.history):
        if STOP_KEY in row:
            return row[STOP_KEY]
    return "max_epochs" if completed_epochs(net) >= net.max_epochs else "interrupted"


#: A second Ctrl-C within this many seconds of one that cut a fit short raises
#: KeyboardInterrupt instead of cutting the next fit short.
DOUBLE_INTERRUPT_SECONDS = 3.0

_last_interrupt = {"time": -math.inf}


def note_interrupt():
    """Record that a fit was cut short by Ctrl-C; raise if one just was.

    skorch turns a Ctrl-C into the end of training, so a loop of fits (a grid
    search, a benchmark) would only move on to the next fit. The second Ctrl-C
    within :data:`DOUBLE_INTERRUPT_SECONDS` raises ``KeyboardInterrupt`` and
    stops the loop.
    """
    now = time.monotonic()
    previous, _last_interrupt["time"] = _last_interrupt["time"], now
    if now - previous <= DOUBLE_INTERRUPT_SECONDS:
        raise KeyboardInterrupt(
            f"a second Ctrl-C within {DOUBLE_INTERRUPT_SECONDS:g} s: stopping"
        )


def improved(score, best, tol):
    """Whether ``score`` beats ``best`` by the relative margin ``tol``.

    The first finite score (``best`` still infinite) always does: ``inf - tol *
    inf`` is NaN.
    """
    return not math.isfinite(best) or score < best - tol * abs(best)


def _good_epoch(net):
    return not net.history[-1].get(BAD_EPOCH_KEY, False)


def state_copy(module):
    """A detached copy of ``module``'s weights, for ``load_state_dict``."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _scale_lr(net, factor):
    """Multiply the learning rate everywhere it is stored (optimizer and schedulers)."""
    for group in net.optimizer_.param_groups:
        for key in ("lr", "initial_lr", "max_lr", "min_lr"):
            if key in group and isinstance(group[key], (int, float)):
                group[key] *= factor
    for _, cb in net.callbacks_:
        scheduler = getattr(cb, "lr_scheduler_", None)
        if scheduler is not None and hasattr(scheduler, "base_lrs"):
            scheduler.base_lrs = [b * factor for b in scheduler.base_lrs]
        if scheduler is not None and hasattr(scheduler, "min_lrs"):
            scheduler.min_lrs = [b * factor for b in scheduler.min_lrs]
        if hasattr(cb, "scale_lr"):
            cb.scale_lr(factor)  # a schedule that sets the rate itself


class _HoldsWeights(Callback):
    """A callback that keeps weight copies while training, and drops them after."""

    _weight_attributes = ()

    def _drop_weights(self):
        for name in self._weight_attributes:
            setattr(self, name, None)

    def __getstate__(self):
        state = self.__dict__.copy()
        for name in self._weight_attributes:
            state[name] = None
        return state


class DivergenceRecovery(_HoldsWeights):
    """Undo a diverging loss: last good weights, fresh optimizer state, lr / 10.

    A non-finite training loss on a batch, non-finite weights at the end of an
    epoch, or an epoch's training loss above ``limit`` times both the base loss
    (the loss of a network that outputs zero, which leaves the closed-form
    base's predictions as they are) and the untrained network's loss restores
    the weights of the last epoch that ended well, clears the optimizer's state
    and multiplies the learning rate by ``lr_factor``. After
    ``max_recoveries`` recoveries training stops (reason ``"diverged"``) with the
    last good weights. When training ends early for any reason after a
    recovery, or by a Ctrl-C in mid-epoch, the model keeps the last good
    weights, those of the last complete epoch.

    Parameters
    ----------
    monitor : str, default="train_loss"
        History key of the loss that must be finite at the end of an epoch.
    max_recoveries : int, default=6
    lr_factor : float, default=0.1
    limit : float, default=10.0
        Multiple of the base loss above which an epoch's training loss counts
        as diverged.

    Attributes
    ----------
    base_loss_ : float
        The training loss of a network that outputs zero.
    start_loss_ : float
        The training loss of the untrained network.
    max_loss_ : float
        The training loss above which an epoch counts as diverged.
    recoveries_ : list of (str, float)
        Where each recovery happened and the learning rate it left.
    """

    _weight_attributes = ("last_good_state_", "probe_")

    #: Training rows on which the weights at the end of each epoch are checked.
    PROBE_ROWS = 1024

    def __init__(
        self, monitor="train_loss", max_recoveries=6, lr_factor=0.1, limit=10.0
    ):
        self.monitor = monitor
        self.max_recoveries = max_recoveries
        self.lr_factor = lr_factor
        self.limit = limit

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.recoveries_ = []
        self.last_good_state_ = state_copy(net.module_)
        self.base_loss_ = base_loss(net, y)
        tensor = isinstance(X, torch.Tensor)
        self.start_loss_ = evaluate_loss(net, X, y) if tensor else math.inf
        self.probe_ = _probe(X, y, self.PROBE_ROWS) if tensor else None
        # Far above both the base's loss and the untrained network's: on an
        # exactly fitted base the first is ~0, and only the second is a scale.
        self.max_loss_ = self.limit * max(self.base_loss_, self.start_loss_)

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if not training or loss is None:
            return
        # skorch has already synchronised on loss.item(); this is a float check.
        if not math.isfinite(loss.item()):
            self._recover(net, where=f"epoch {len(net.history)}")

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1, self.monitor]
        params_finite = all(
            torch.isfinite(p).all().item() for p in net.module_.parameters()
        )
        # The epoch's mean loss and the loss of the weights it ends with (a
        # last step can undo a good epoch), both on training rows: the limit is
        # a multiple of training losses, and held-out rows may differ.
        losses = [net.history[-1, "train_loss"]]
        if params_finite and self.probe_ is not None:
            losses.append(evaluate_loss(net, *self.probe_))
        too_high = max(losses) > self.max_loss_
        if np.isfinite(score) and params_finite and not too_high:
            self.last_good_state_ = state_copy(net.module_)
            return
        net.history.record(BAD_EPOCH_KEY, True)
        if not params_finite or too_high:
            self._recover(net, where=f"end of epoch {len(net.history)}")
        # else: the batch that produced the non-finite loss was already undone.

    def _recover(self, net, where):
        net.module_.load_state_dict(self.last_good_state_)
        if len(self.recoveries_) >= self.max_recoveries:
            stop_training(net, "diverged")
        net.optimizer_.state.clear()
        _scale_lr(net, self.lr_factor)
        self.recoveries_.append((where, net.optimizer_.param_groups[0]["lr"]))

    def on_train_end(self, net, **kwargs):
        reason = stop_reason(net)
        if self.recoveries_ or reason in ("interrupted", "diverged"):
            # After a Ctrl-C in mid-epoch, go back to the end of the last
            # complete epoch: the one n_epochs_ and the warning speak of.
            net.module_.load_state_dict(self.last_good_state_)
        self._drop_weights()


def base_loss(net, y):
    """The criterion's value for a network that outputs zero on targets ``y``.

    The network learns the residual of the closed-form base, so this is the
    base's own loss (or the mean's, without a base).
    """
    target = y["y"] if isinstance(y, dict) else y
    if not isinstance(target, torch.Tensor):
        return math.inf  # data skorch wraps otherwise: no limit
    with torch.no_grad():
        return net.get_loss(torch.zeros_like(target), y).item()


def evaluate_loss(net, X, y, batch_size=PREDICT_BATCH):
    """The criterion of ``net`` on all rows of ``X`` and ``y``, in evaluation mode.

    Evaluated in chunks in evaluation mode; NaN when an output is not finite.
    The criteria are means over entries, so chunk means weighted by their rows
    give the mean over all rows.
    """
    module = net.module_
    was_training = module.training
    module.eval()
    total = 0.0
    try:
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                part = slice(start, start + batch_size)
                out = module(X[part])
                if not torch.isfinite(out).all().item():
                    return math.nan
                y_part = (
                    {k: v[part] for k, v in y.items()}
                    if isinstance(y, dict)
                    else y[part]
                )
                total += net.get_loss(out, y_part).item() * len(out)
    finally:
        module.train(was_training)
    return total / max(len(X), 1)


def _probe(X, y, n_rows):
    """An even sample of at most ``n_rows`` rows of ``X`` and ``y``."""
    if len(X) <= n_rows:
        return X, y
    rows = torch.linspace(0, len(X) - 1, n_rows, device=X.device).long()
    if isinstance(y, dict):
        return X[rows], {key: value[rows] for key, value in y.items()}
    return X[rows], y[rows]


class BestWeights(_HoldsWeights):
    """Track the epoch with the lowest monitored loss; optionally restore it.

    Parameters
    ----------
    monitor : str, default="train_loss"
        History key of the loss to minimise.
    restore : bool, default=True
        Load the best epoch's weights when training ends.

    Attributes
    ----------
    best_loss_ : float
    best_epoch_ : int
        1-based epoch of ``best_loss_``; 0 when no epoch ended well.
    """

    _weight_attributes = ("best_state_",)

    def __init__(self, monitor="train_loss", restore=True):
        self.monitor = monitor
        self.restore = restore

    def on_train_begin(self, net, **kwargs):
        self.best_loss_, self.best_epoch_, self.best_state_ = math.inf, 0, None

    def on_epoch_end(self, net, **kwargs):
        score = net.history[-1, self.monitor]
        if _good_epoch(net) and score < self.best_loss_:
            self.best_loss_, self.best_epoch_ = float(score), len(net.history)
            if self.restore:
                self.best_state_ = state_copy(net.module_)

    def on_train_end(self, net, **kwargs):
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
        self._drop_weights()


class EarlyStop(Callback):
    """Stop after ``patience`` epochs without a relative improvement of ``tol``.

    Progress is measured against the lowest loss so far. skorch's own
    ``EarlyStopping`` measures it against the last epoch that improved by the
    threshold, and its ``load_best`` restores that epoch rather than the lowest
    one; :class:`BestWeights` restores the lowest.

    Parameters
    ----------
    monitor : str
        History key of the loss to watch (the validation loss, or the training
        loss where nothing is held out).
    patience : int
    tol : float
    reason : str, default="early_stopping"
        The stop's reason in the history (:func:`stop_reason`).
    """

    #: Callbacks pickled before ``reason`` existed read this class default.
    reason = "early_stopping"

    def __init__(self, monitor, patience, tol, reason="early_stopping"):
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.reason = reason

    def on_train_begin(self, net, **kwargs):
        self.best_, self.misses_ = math.inf, 0

    def on_epoch_end(self, net, **kwargs):
        if not _good_epoch(net):
            return
        score = net.history[-1, self.monitor]
        if improved(score, self.best_, self.tol):
            self.misses_ = 0
        else:
            self.misses_ += 1
        self.best_ = min(self.best_, float(score))
        if self.misses_ >= self.patience:
            stop_training(net, self.reason)


class Stall(Callback):
    """Stop where the epochs left, at the recent rate, would gain too little.

    After each epoch the lowest loss so far is compared with the lowest of
    ``patience`` epochs earlier. When that fall, repeated over the epochs left
    (``max_epochs`` minus those run), would lower the loss by less than the
    factor ``gain``, training stops (reason ``"stalled"``), but only while at
    least ``min_left`` epochs are left: the epochs it saves are for other
    training. Meant for a constant learning rate: an annealed schedule gains
    most at its end.

    Parameters
    ----------
    monitor : str
        History key of the loss to watch (the validation loss).
    patience : int
        Epochs the rate is measured over.
    gain : float
        The factor the epochs left must be able to divide the loss by.
    min_left : int
        Fewer epochs left than this are run out.
    """

    def __init__(self, monitor, patience, gain, min_left):
        self.monitor = monitor
        self.patience = patience
        self.gain = gain
        self.min_left = min_left

    def on_train_begin(self, net, **kwargs):
        self.bests_ = []

    def on_epoch_end(self, net, **kwargs):
        if not _good_epoch(net):
            return
        score = float(net.history[-1, self.monitor])
        self.bests_.append(min([score, *self.bests_[-1:]]))
        if len(self.bests_) <= self.patience:
            return
        best, before = self.bests_[-1], self.bests_[-1 - self.patience]
        left = net.max_epochs - completed_epochs(net)
        if left < max(self.min_left, 1) or not (best > 0 and math.isfinite(before)):
            return
        if (before / best) ** (left / self.patience) < self.gain:
            stop_training(net, "stalled")


class TimeLimit(Callback):
    """Stop at the end of the first epoch that ends ``seconds`` after training began.

    Parameters
    ----------
    seconds : float
        Training time allowed; the epoch running when it is spent completes.
    """

    def __init__(self, seconds):
        self.seconds = seconds

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.monotonic()

    def on_epoch_end(self, net, **kwargs):
        if time.monotonic() - self.start_ >= self.seconds:
            stop_training(net, "max_time")
