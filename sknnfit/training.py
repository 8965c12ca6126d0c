"""Training machinery built from NNRegressor's plain parameters.

Everything here plugs into skorch through its public extension points: batch
iterators (``iterator_train`` / ``iterator_valid``), optimizers, criteria and
callbacks. :class:`sknnfit.NNRegressor` translates its parameters into these
once per fit, in :func:`build_callbacks` and friends.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import torch
from skorch import NeuralNetRegressor
from skorch.callbacks import Callback, GradientNormClipping, LRScheduler
from torch import nn

from ._compat import fused_adam_supported
from .exceptions import DivergenceError, DivergenceWarning, FitInterruptedWarning

# --------------------------------------------------------------------------- batches


class TensorBatchIterator:
    """Batches sliced from whole tensors, for skorch's ``iterator_train/valid``.

    skorch's default DataLoader fetches and collates row by row, which costs most
    of an epoch for small networks. This iterator moves the data to the training
    device once, draws one random permutation per epoch and yields index slices.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Dataset whose ``X`` and ``y`` are tensors (``y`` may be None).
    batch_size : int
        Rows per batch; the last batch may be smaller.
    shuffle : bool, default=False
        Draw a new permutation for every pass over the data.
    seed : int or None, default=None
        Seed of the permutation generator (one generator per iterator, so the
        global torch RNG is never touched).
    device : str or None, default=None
        Device the batches are moved to; None keeps the tensors where they are.
    batch_schedule : BatchSchedule or None, default=None
        Shared object whose ``batch_size`` overrides ``batch_size`` at the start
        of every epoch (set by the :class:`BatchGrowth` callback).
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle=False,
        seed=None,
        device=None,
        batch_schedule=None,
    ):
        X, y = dataset.X, dataset.y
        if not isinstance(X, torch.Tensor):
            X = torch.as_tensor(np.asarray(X, dtype=np.float32))
        if y is not None and not isinstance(y, torch.Tensor):
            y = torch.as_tensor(np.asarray(y, dtype=np.float32))
        if device is not None:
            X = X.to(device)
            y = None if y is None else y.to(device)
        self.X, self.y = X, y
        self.batch_size = max(1, int(batch_size))
        self.batch_schedule = batch_schedule
        self.shuffle = shuffle
        self.generator = None
        if shuffle:
            self.generator = torch.Generator()
            self.generator.manual_seed(0 if seed is None else int(seed))

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        n, bs = len(self.X), self.batch_size
        if self.batch_schedule is not None:
            bs = self.batch_schedule.batch_size
        if self.shuffle and n > bs:
            perm = torch.randperm(n, generator=self.generator).to(self.X.device)
            X, y = self.X[perm], (None if self.y is None else self.y[perm])
        else:
            X, y = self.X, self.y
        for start in range(0, n, bs):
            stop = start + bs
            yield X[start:stop], (None if y is None else y[start:stop])


class FastNet(NeuralNetRegressor):
    """skorch's NeuralNetRegressor, minus a per-batch mode switch.

    skorch calls ``module.train()`` before every batch, which walks the whole
    module tree (about 6% of a small network's step). The mode only changes
    between training and evaluation passes, so this subclass switches it only
    then. Internal to NNRegressor; everything else is skorch's own.
    """

    def _set_training(self, training=True):
        if getattr(self, "sknnfit_mode_", None) == training:
            module = getattr(self, "module_", None)
            if module is not None and module.training == training:
                return
        super()._set_training(training)
        self.sknnfit_mode_ = training

    def initialize(self):
        self.sknnfit_mode_ = None
        return super().initialize()


# ------------------------------------------------------------------------ optimizers

OPTIMIZERS = ("adam", "adamw", "sgd", "lbfgs", "signagree")


def optimizer_spec(name, lr, weight_decay, device):
    """Return ``(optimizer_class, keyword_arguments)`` for skorch."""
    if name == "adam":
        cls = torch.optim.Adam
        kwargs = {"weight_decay": weight_decay}
    elif name == "adamw":
        cls = torch.optim.AdamW
        kwargs = {"weight_decay": weight_decay}
    elif name == "sgd":
        cls = torch.optim.SGD
        kwargs = {"momentum": 0.9, "nesterov": True, "weight_decay": weight_decay}
    elif name == "lbfgs":
        cls = torch.optim.LBFGS
        # PyTorch's default tolerances stop L-BFGS once gradients fall below 1e-7,
        # long before a smooth fit is as good as float32 allows; let max_epochs
        # decide instead.
        kwargs = {
            "line_search_fn": "strong_wolfe",
            "max_iter": 20,
            "history_size": 50,
            "tolerance_grad": 0.0,
            "tolerance_change": 0.0,
        }
    elif name == "signagree":
        from .optim import SignAgree

        cls = SignAgree
        kwargs = {"weight_decay": weight_decay}
    else:  # pragma: no cover - guarded by the parameter constraints
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {name!r}.")
    if name in ("adam", "adamw") and fused_adam_supported(cls, device):
        # One fused kernel per step instead of a loop of small ops: about 25% less
        # time per step on small networks.
        kwargs["fused"] = True
    kwargs["lr"] = lr
    return cls, kwargs


# ----------------------------------------------------------------------------- losses

LOSSES = ("mse", "mae", "huber", "relative", "peak")


class WeightedLoss(nn.Module):
    """MSE, L1 or Huber loss with optional per-entry weights carried in ``y``.

    When the target tensor has twice as many columns as the prediction, the
    second half holds weights: ``loss = mean(w * elementwise_loss)``. This lets
    row weights travel through skorch's batches with the targets, with no change
    to skorch. The ``"relative"`` and ``"peak"`` losses of NNRegressor are built
    this way (see :func:`loss_weights`).

    Parameters
    ----------
    kind : {"mse", "l1", "huber"}, default="mse"
        Element-wise loss.
    """

    def __init__(self, kind="mse"):
        super().__init__()
        self.kind = kind

    def forward(self, y_pred, y_true):
        k = y_pred.shape[1]
        weights = None
        if y_true.shape[1] == 2 * k:
            y_true, weights = y_true[:, :k], y_true[:, k:]
        if self.kind == "mse":
            loss = (y_pred - y_true) ** 2
        elif self.kind == "l1":
            loss = (y_pred - y_true).abs()
        else:
            loss = nn.functional.huber_loss(y_pred, y_true, reduction="none")
        if weights is not None:
            loss = loss * weights
        return loss.mean()


def make_criterion(name):
    """Return ``(criterion_class, kwargs)`` for the ``loss`` parameter."""
    kind = {"mse": "mse", "mae": "l1", "huber": "huber", "relative": "l1"}
    return WeightedLoss, {"kind": kind.get(name, "mse")}


def loss_weights(name, y_orig, unit_scale, *, peak_weight=10.0):
    """Per-entry weights for the ``"relative"`` and ``"peak"`` losses, or None.

    Parameters
    ----------
    name : str
        The ``loss`` parameter.
    y_orig : ndarray of shape (n_samples, n_outputs)
        Targets in the user's units.
    unit_scale : ndarray of shape (n_outputs,)
        User units per unit of the network's target (so that a network error
        ``e`` is ``e * unit_scale`` in the user's units).
    peak_weight : float, default=10.0
        For ``"peak"``: weight of a row at the extreme of its output relative to
        a row at the median.

    Returns
    -------
    weights : ndarray of shape (n_samples, n_outputs) or None
        Normalised to mean 1 per output.

    Notes
    -----
    ``"relative"``: ``w = unit_scale / (|y| + eps)`` with ``eps`` = 1e-3 x the
    median ``|y|`` of the output, so the weighted L1 loss is the mean relative
    error ``|y_pred - y| / |y|`` (seed 001's loss) without dividing by zero.
    ``"peak"``: ``w = 1 + (peak_weight - 1) * r**2`` where ``r`` in [0, 1] is the
    distance of ``y`` from its median over the largest such distance, so the
    rare extreme rows of a steep target are not averaged away (seed 000).
    """
    if name == "relative":
        absy = np.abs(y_orig)
        eps = 1e-3 * np.median(absy, axis=0) + 1e-12
        w = unit_scale / (absy + eps)
    elif name == "peak":
        dist = np.abs(y_orig - np.median(y_orig, axis=0))
        top = dist.max(axis=0)
        r = dist / np.where(top > 0, top, 1.0)
        w = 1.0 + (peak_weight - 1.0) * r**2
    else:
        return None
    w = w / w.mean(axis=0)
    return w.astype(np.float32)


# -------------------------------------------------------------------------- callbacks

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


class BatchSchedule:
    """The training batch size, shared by :class:`BatchGrowth` and the iterator."""

    def __init__(self, batch_size):
        self.batch_size = int(batch_size)


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


def copy_params(params):
    """Deep copy of the ``net_params`` escape hatch, so fit never mutates it."""
    return copy.deepcopy(dict(params or {}))
