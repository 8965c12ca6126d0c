"""skorch callbacks behind NNRegressor's plain training parameters."""

from __future__ import annotations

import math

import torch
from skorch.callbacks import Callback, GradientNormClipping, LRScheduler

from .._options import LR_SCHEDULES
from .schedule import WarmupStableDecay

#: lr_schedule="linear": the rate rises from lr/25 to lr over this share of the
#: steps, then falls linearly to about zero (lr/250,000) at the last step.
#: Linear decay is the worst-case optimal schedule for the last iterate of SGD
#: (Defazio et al. 2023, "Optimal linear decay learning rate schedules and
#: further refinements"); decaying to zero after a short warmup beat one-cycle's
#: 30% warmup and cosine decay on steep25x19 (README).
LINEAR_WARMUP = 0.05


def lr_schedule_callback(
    name,
    *,
    lr,
    max_epochs,
    steps_per_epoch,
    monitor,
    cycle_momentum=True,
    patience=None,
    tol=0.0,
):
    """skorch callback for the ``lr_schedule`` parameter, or None.

    ``"linear"`` and ``"onecycle"`` are PyTorch's ``OneCycleLR``, stepped
    every batch: a warmup from ``lr / 25`` over :data:`LINEAR_WARMUP` of the
    steps and a linear decay, or its own 30% warmup and cosine decay.
    ``cycle_momentum`` must be False for optimizers without momentum or betas
    (L-BFGS, SignAgree). ``patience`` and ``tol`` are the plateau rule of
    ``"wsd"`` (:class:`~sknnfit.training.schedule.WarmupStableDecay`), which
    also ends training.
    """
    if name == "none":
        return None
    if name == "wsd":
        return WarmupStableDecay(
            lr,
            max_epochs,
            steps_per_epoch,
            monitor=monitor,
            patience=patience,
            tol=tol,
        )
    if name in ("linear", "onecycle"):
        total = max(2, max_epochs * steps_per_epoch)
        # OneCycleLR divides by its warmup's length in steps less one: at
        # least 1.5 steps keeps that above zero on short runs.
        shape = (
            {"pct_start": max(LINEAR_WARMUP, 1.5 / total), "anneal_strategy": "linear"}
            if name == "linear"
            else {}
        )
        return LRScheduler(
            policy=torch.optim.lr_scheduler.OneCycleLR,
            max_lr=lr,
            total_steps=total,
            cycle_momentum=cycle_momentum,
            step_every="batch",
            **shape,
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
