"""Training machinery built from NNRegressor's plain parameters.

Everything here plugs into skorch through its public extension points: batch
iterators (``iterator_train`` / ``iterator_valid``), optimizers, criteria and
callbacks. :class:`sknnfit.NNRegressor` translates its parameters into these
once per fit, in :func:`build_callbacks` and friends.
"""

from __future__ import annotations

import copy
import inspect
import math
import warnings

import numpy as np
import torch
from skorch.callbacks import Callback, GradientNormClipping, LRScheduler
from torch import nn

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
    """

    def __init__(self, dataset, batch_size, shuffle=False, seed=None, device=None):
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
        self.shuffle = shuffle
        self.generator = None
        if shuffle:
            self.generator = torch.Generator()
            self.generator.manual_seed(0 if seed is None else int(seed))

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        n, bs = len(self.X), self.batch_size
        if self.shuffle and n > bs:
            perm = torch.randperm(n, generator=self.generator).to(self.X.device)
            X, y = self.X[perm], (None if self.y is None else self.y[perm])
        else:
            X, y = self.X, self.y
        for start in range(0, n, bs):
            stop = start + bs
            yield X[start:stop], (None if y is None else y[start:stop])


# ------------------------------------------------------------------------ optimizers

OPTIMIZERS = ("adam", "adamw", "sgd", "lbfgs", "signagree")


def _fused_supported(cls, device):
    """Whether ``cls(fused=True)`` is available for ``device`` in this torch."""
    if "fused" not in inspect.signature(cls).parameters:
        return False
    if str(device).startswith("cuda"):
        return True
    major, minor = (int(p) for p in torch.__version__.split(".")[:2])
    # Fused CPU kernels for Adam/AdamW arrived in torch 2.4.
    return (major, minor) >= (2, 4)


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
        kwargs = {"line_search_fn": "strong_wolfe", "max_iter": 20}
    elif name == "signagree":
        from .optim import SignAgree

        cls = SignAgree
        kwargs = {"weight_decay": weight_decay}
    else:  # pragma: no cover - guarded by the parameter constraints
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {name!r}.")
    if name in ("adam", "adamw") and _fused_supported(cls, device):
        # One fused kernel per step instead of a loop of small ops: about 25% less
        # time per step on small networks.
        kwargs["fused"] = True
    kwargs["lr"] = lr
    return cls, kwargs


# ----------------------------------------------------------------------------- losses

LOSSES = ("mse", "mae", "huber")


def make_criterion(name):
    """Return the torch loss class for ``name``."""
    return {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss}[name]


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
        if torch.isfinite(loss.detach()).item():
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
        if score < self.best_loss_ - self.tol * abs(self.best_loss_):
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

    def on_train_end(self, net, **kwargs):
        if self.restore_best and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
        elif self.last_good_state_ is not None and self.recoveries_:
            net.module_.load_state_dict(self.last_good_state_)

    def report(self, max_epochs, interrupted):
        """Warn about what happened during training; raise if nothing usable is left."""
        if self.gave_up_ and self.best_state_ is None and self.epochs_done_ <= 1:
            raise DivergenceError(
                "Training diverged: the loss became NaN or infinite "
                f"{len(self.recoveries_) + 1} times, even after lowering the "
                f"learning rate to {self.recoveries_[-1][1]:.3g} if any. No epoch "
                "finished with a finite loss, so there are no usable weights. Try a "
                "smaller lr, grad_clip=1.0, loss='huber', or check X and y for "
                "extreme values."
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
            warnings.warn(
                f"fit was interrupted after {self.epochs_done_} of {max_epochs} "
                f"epochs; the model keeps the best weights so far (epoch "
                f"{self.best_epoch_}). Call fit again to train from scratch.",
                FitInterruptedWarning,
                stacklevel=3,
            )


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
