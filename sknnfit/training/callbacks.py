"""skorch callbacks behind NNRegressor's plain training parameters."""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from skorch.callbacks import Callback, GradientNormClipping, LRScheduler

from ..exceptions import DivergenceError, DivergenceWarning, FitInterruptedWarning

LR_SCHEDULES = ("none", "onecycle", "cosine", "plateau")


def lr_schedule_callback(
    name, *, lr, max_epochs, steps_per_epoch, monitor, cycle_momentum=True
):
    """skorch LRScheduler for the ``lr_schedule`` parameter, or None.

    ``cycle_momentum`` must be False for optimizers without momentum or betas
    (L-BFGS, SignAgree).
    """
    if name == "none":
        return None
    if name == "onecycle":
        return LRScheduler(
            policy=torch.optim.lr_scheduler.OneCycleLR,
            max_lr=lr,
            total_steps=max(2, max_epochs * steps_per_epoch),
            cycle_momentum=cycle_momentum,
            step_every="batch",
        )
    if name == "cosine":
        return LRScheduler(
            policy=torch.optim.lr_scheduler.CosineAnnealingLR,
            T_max=max(1, max_epochs),
            eta_min=lr * 1e-3,
            step_every="epoch",
        )
    if name == "plateau":
        return LRScheduler(
            policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
            monitor=monitor,
            factor=0.5,
            patience=5,
            min_lr=lr * 1e-4,
        )
    raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}; got {name!r}.")


def grad_clip_callback(max_norm):
    """skorch GradientNormClipping for ``grad_clip``, or None."""
    if max_norm is None:
        return None
    return GradientNormClipping(gradient_clip_value=float(max_norm))


def _state_copy(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _outputs_finite(module, X, batch_size=8192):
    """Whether ``module`` gives finite outputs on every row of the tensor ``X``.

    Anything other than a tensor (skorch also accepts dicts and datasets) is not
    checked and counts as finite.
    """
    if not isinstance(X, torch.Tensor):
        return True
    if len(X) > 2 * batch_size:
        # Overflow starts at the extreme inputs: check the rows holding each
        # column's minimum and maximum plus an even sample, not a whole extra
        # pass over a large training set.
        extremes = torch.cat([X.argmin(dim=0), X.argmax(dim=0)])
        sample = torch.linspace(0, len(X) - 1, batch_size, device=X.device).long()
        X = X[torch.unique(torch.cat([extremes, sample]))]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return all(
                torch.isfinite(module(X[i : i + batch_size])).all().item()
                for i in range(0, len(X), batch_size)
            )
    finally:
        module.train(was_training)


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


class TrainingMonitor(Callback):
    """Best weights, early stopping, divergence recovery and interrupts in one place.

    After every epoch it compares the monitored loss (validation loss when there
    is a validation set, else training loss) with the best so far and keeps a copy
    of the best weights. It stops training after ``patience`` epochs without an
    improvement larger than ``tol`` (relative) when ``early_stopping`` is on.

    A non-finite loss on any batch triggers a recovery: the last good weights are
    restored, the optimizer state is reset and the learning rate divided by 10.
    After ``max_recoveries`` failed recoveries training stops with the last good
    weights, or raises :class:`~sknnfit.exceptions.DivergenceError` when no epoch
    ever finished with a finite loss.

    skorch swallows ``KeyboardInterrupt`` to implement early stopping; this
    callback tells a user's Ctrl-C apart from its own stop so that the estimator
    can warn and keep the best weights.
    """

    def __init__(
        self,
        *,
        monitor="train_loss",
        early_stopping=False,
        patience=20,
        tol=1e-4,
        restore_best=True,
        max_recoveries=6,
        lr_factor=0.1,
    ):
        self.monitor = monitor
        self.early_stopping = early_stopping
        self.patience = patience
        self.tol = tol
        self.restore_best = restore_best
        self.max_recoveries = max_recoveries
        self.lr_factor = lr_factor

    def initialize(self):
        self.best_loss_ = math.inf
        self.best_epoch_ = 0
        self.best_state_ = None
        self.last_good_state_ = None
        self.misses_ = 0
        self.stopped_early_ = False
        self.epochs_done_ = 0
        self.recoveries_ = []
        self.gave_up_ = False
        self.converged_ = False
        return self

    def on_train_begin(self, net, **kwargs):
        self.initialize()
        self.last_good_state_ = _state_copy(net.module_)

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if not training or loss is None:
            return
        # skorch has already synchronised on loss.item(); this is a float check.
        if math.isfinite(loss.item()):
            return
        self._recover(net, where=f"epoch {self.epochs_done_ + 1}")

    def _recover(self, net, where):
        if len(self.recoveries_) >= self.max_recoveries:
            self.gave_up_ = True
            net.module_.load_state_dict(self.last_good_state_)
            raise KeyboardInterrupt  # skorch's way to leave the training loop
        net.module_.load_state_dict(self.last_good_state_)
        net.optimizer_.state.clear()
        _scale_lr(net, self.lr_factor)
        lr = net.optimizer_.param_groups[0]["lr"]
        self.recoveries_.append((where, lr))

    def on_epoch_end(self, net, **kwargs):
        self.epochs_done_ = len(net.history)
        score = net.history[-1, self.monitor]
        params_finite = all(
            torch.isfinite(p).all().item() for p in net.module_.parameters()
        )
        if not (np.isfinite(score) and params_finite):
            if params_finite:
                # The batch that produced the non-finite loss was already undone.
                return
            self._recover(net, where=f"end of epoch {self.epochs_done_}")
            return
        self.last_good_state_ = _state_copy(net.module_)
        # The first finite epoch always counts as progress (inf - tol * inf is NaN).
        first = not math.isfinite(self.best_loss_)
        if first or score < self.best_loss_ - self.tol * abs(self.best_loss_):
            self.misses_ = 0
        else:
            self.misses_ += 1
        if score < self.best_loss_:
            self.best_loss_ = float(score)
            self.best_epoch_ = self.epochs_done_
            if self.restore_best:
                self.best_state_ = self.last_good_state_
        self.converged_ = self.misses_ >= self.patience
        if self.early_stopping and self.converged_:
            self.stopped_early_ = True
            raise KeyboardInterrupt

    def on_train_end(self, net, X=None, **kwargs):
        interrupted = (
            self.epochs_done_ < net.max_epochs
            and not self.stopped_early_
            and not self.gave_up_
        )
        if self.restore_best and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
        elif self.last_good_state_ is not None and (self.recoveries_ or interrupted):
            # After a Ctrl-C in mid-epoch, go back to the end of the last complete
            # epoch: the one n_epochs_ and the warning speak of.
            net.module_.load_state_dict(self.last_good_state_)
        # Finite weights with a finite epoch loss can still overflow float32 after
        # the epoch's last step (seen with SGD at lr=1e3); a forward pass over
        # the training rows (extremes and a sample, when many) tells before
        # predict returns NaN.
        self.outputs_finite_ = _outputs_finite(net.module_, X)

    def report(self, max_epochs, interrupted):
        """Warn about what happened during training; raise if nothing usable is left."""
        n_bad = len(self.recoveries_) + int(self.gave_up_)
        no_good_epoch = n_bad > 0 and self.best_epoch_ == 0
        if no_good_epoch or not getattr(self, "outputs_finite_", True):
            what = "the loss became NaN or infinite"
            if n_bad:
                what += f" {n_bad} time(s)"
            if self.recoveries_:
                what += (
                    " even after lowering the learning rate to "
                    f"{self.recoveries_[-1][1]:.3g}"
                )
            why = (
                "no epoch finished with a finite loss"
                if no_good_epoch
                else "the weights kept give NaN or infinite outputs on the "
                "training inputs"
            )
            raise DivergenceError(
                f"Training diverged: {what}, and {why}, so there are no usable "
                "weights. Try a smaller lr, grad_clip=1.0, loss='huber', or check "
                "X and y for extreme values."
            )
        if self.recoveries_:
            first, last = self.recoveries_[0], self.recoveries_[-1]
            outcome = (
                "stopped training with the last good weights"
                if self.gave_up_
                else "training went on"
            )
            warnings.warn(
                f"Training diverged {len(self.recoveries_)} time(s) (first at "
                f"{first[0]}): the loss became NaN or infinite. Restored the last "
                f"good weights and lowered the learning rate to {last[1]:.3g}; "
                f"{outcome}. Use a smaller lr or grad_clip to avoid this.",
                DivergenceWarning,
                stacklevel=3,
            )
        if interrupted:
            kept = (
                f"the best weights so far (epoch {self.best_epoch_})"
                if self.restore_best and self.best_state_ is not None
                else f"the weights of the last complete epoch ({self.epochs_done_})"
            )
            warnings.warn(
                f"fit was interrupted after {self.epochs_done_} of {max_epochs} "
                f"epochs; the model keeps {kept}. Call fit again to train from "
                "scratch.",
                FitInterruptedWarning,
                stacklevel=3,
            )


class BatchGrowth(Callback):
    """Double the batch size when the training loss stops improving (seed 000).

    Small batches make fast early progress; larger ones average away gradient
    noise for the fine detail at the end, which has the effect of a decaying
    learning rate.

    Parameters
    ----------
    schedule : BatchSchedule
        Shared with the training iterator.
    max_batch_size : int
        Upper bound of the batch size.
    patience : int, default=5
        Epochs without a relative improvement of ``tol`` before doubling.
    tol : float, default=1e-3
        Relative improvement of the training loss that counts as progress.
    """

    def __init__(self, schedule, max_batch_size, patience=5, tol=1e-3):
        self.schedule = schedule
        self.max_batch_size = max_batch_size
        self.patience = patience
        self.tol = tol

    def on_train_begin(self, net, **kwargs):
        self.best_ = math.inf
        self.misses_ = 0
        self.sizes_ = [self.schedule.batch_size]

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if loss < self.best_ * (1 - self.tol):
            self.best_, self.misses_ = loss, 0
            return
        self.misses_ += 1
        if self.misses_ >= self.patience and self.schedule.batch_size < (
            self.max_batch_size
        ):
            self.schedule.batch_size = min(
                self.max_batch_size, 2 * self.schedule.batch_size
            )
            self.sizes_.append(self.schedule.batch_size)
            self.misses_ = 0
            self.best_ = loss


class ProgressBar(Callback):
    """A tqdm bar over epochs showing the training and validation loss."""

    def __init__(self, total, file=None):
        self.total = total
        self.file = file

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, unit="epoch", file=self.file, leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        post = {"loss": f"{row['train_loss']:.4g}"}
        if "valid_loss" in row:
            post["val"] = f"{row['valid_loss']:.4g}"
        self.bar_.set_postfix(post, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state
