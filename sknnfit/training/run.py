"""train_net: build one skorch net from the plan, train it, read the record back.

The way LightGBM's scikit-learn wrapper calls ``train()`` once and reads
``booster_`` back: :class:`~sknnfit.NNRegressor` resolves a
:class:`~sknnfit._auto.Plan`, and :func:`train_net` turns it into skorch's
parameters in one place.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import torch
from skorch.callbacks import PassthroughScoring
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from .. import _inference
from .._device import seeded_torch, training_mode
from .._inference import PREDICT_BATCH
from ..modules import MLP
from .callbacks import (
    BatchGrowth,
    ProgressBar,
    grad_clip_callback,
    lr_schedule_callback,
)
from .losses import make_criterion
from .net import BatchSchedule, FastNet, TensorBatchIterator
from .optim import optimizer_spec
from .record import TrainingRecord
from .stopping import (
    BestWeights,
    DivergenceRecovery,
    EarlyStop,
    Stall,
    TimeLimit,
    evaluate_loss,
    stop_reason,
)

#: batch_growth doubles the batch size up to this many rows.
MAX_GROWN_BATCH = 8192

#: With nothing held out, full-batch L-BFGS stops (reason ``"flat"``) after
#: ``patience`` epochs in a row that each lowered its lowest training loss by
#: less than this share: about what float32 sums over the rows can tell, so
#: 200 more such epochs would gain 2e-4 at most. The loss of a full batch is a
#: deterministic function of the weights: flat means the optimizer has
#: stopped moving, not a noisy plateau.
FLAT_TOL = 1e-6


@dataclasses.dataclass(frozen=True)
class TrainData:
    """Float32 training arrays of a fit, all outputs; ``train_net`` slices a group.

    ``weight`` (and ``weight_valid``) are per-entry loss weights of the shape of
    ``y``, or None; ``X_valid`` is None without a validation set.
    """

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray | None = None
    X_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None
    weight_valid: np.ndarray | None = None


def train_net(plan, data, group, seed, max_time=None, stall=None):
    """Build and train one skorch net for the outputs ``group``.

    Parameters
    ----------
    plan : sknnfit._auto.Plan
    data : TrainData
    group : tuple of int
        Output columns this net predicts.
    seed : int
        Seeds the weights and the batch order.
    max_time : float or None, default=None
        Seconds of training allowed (:class:`~sknnfit.training.stopping.TimeLimit`).
    stall : (float, int) or None, default=None
        ``(gain, min_left)``: with early stopping and a constant learning rate,
        stop where the epochs left (``min_left`` or more) cannot divide the
        validation loss by ``gain`` at the rate of the last ``patience`` epochs
        (:class:`~sknnfit.training.stopping.Stall`).

    Returns
    -------
    net : FastNet
        The trained skorch net.
    record : TrainingRecord
    """
    cols = list(group)
    valid = _valid_dataset(data, cols)
    monitor = "valid_loss" if valid is not None else "train_loss"
    batch_schedule = BatchSchedule(plan.batch_size) if plan.batch_growth else None
    callbacks = _watch_callbacks(plan, monitor)
    best = dict(callbacks)["sknnfit_best"]
    if stall is not None and plan.early_stopping and plan.lr_schedule == "none":
        callbacks.append(("sknnfit_stall", Stall(monitor, plan.patience, *stall)))
    if max_time is not None:
        callbacks.append(("sknnfit_time_limit", TimeLimit(max_time)))
    callbacks += _extra_callbacks(plan, len(data.X), monitor, batch_schedule)
    net = build_net(
        plan,
        data.X.shape[1],
        len(cols),
        callbacks=callbacks,
        train_split=None if valid is None else predefined_split(valid),
        iterator_train__seed=seed,
        iterator_train__batch_schedule=batch_schedule,
    )
    with training_mode(), seeded_torch(seed, plan.device):
        X = torch.from_numpy(np.ascontiguousarray(data.X)).to(plan.device)
        y = _target(data.y, data.weight, cols, plan.device)
        net.fit(X, y)
    return net, _record(net, best, X, y)


def continue_net(net, plan, data, group, seed, max_epochs, max_time=None):
    """Train a fitted net further, from its weights and optimizer state.

    For ``warm_start`` and ``partial_fit``: the history starts anew (the
    learning-rate schedule is rebuilt for ``max_epochs`` epochs of this data),
    the callbacks keep their roles, and L-BFGS takes the new rows as one batch.

    Parameters
    ----------
    net : FastNet
        A net :func:`train_net` returned.
    plan : sknnfit._auto.Plan
    data : TrainData
        Must hold held-out rows exactly when the net was trained with them.
    group : sequence of int
    seed : int
    max_epochs : int
    max_time : float or None, default=None

    Returns
    -------
    record : TrainingRecord
        Of this training only.
    """
    cols = list(group)
    valid = _valid_dataset(data, cols)
    monitor = "valid_loss" if valid is not None else "train_loss"
    plan = dataclasses.replace(plan, max_epochs=max_epochs)
    if plan.optimizer == "lbfgs":
        net.batch_size = len(data.X)
        plan = dataclasses.replace(plan, batch_size=len(data.X))
    # The stall stop gives epochs to stages, which come only after a first fit.
    replaced = (
        "sknnfit_lr_schedule",
        "sknnfit_time_limit",
        "sknnfit_progress",
        "sknnfit_stall",
    )
    callbacks = [(name, cb) for name, cb in net.callbacks if name not in replaced]
    if "sknnfit_best" not in dict(callbacks):
        # A loaded net: what only matters while training was not saved.
        callbacks = _watch_callbacks(plan, monitor) + callbacks
    if valid is not None and getattr(net, "callbacks__valid_loss", True) is None:
        # build_net turned the held-out loss off for a net built without them
        # (skorch reads this attribute when it initializes the callbacks).
        net.callbacks__valid_loss = PassthroughScoring(name="valid_loss")
    if max_time is not None:
        callbacks.append(("sknnfit_time_limit", TimeLimit(max_time)))
    schedule = BatchSchedule(plan.batch_size) if plan.batch_growth else None
    added = _extra_callbacks(plan, len(data.X), monitor, schedule)
    net.callbacks = callbacks + [(n, cb) for n, cb in added if n in replaced]
    net.max_epochs = max_epochs
    net.train_split = None if valid is None else predefined_split(valid)
    net.initialize_callbacks()
    net.history.clear()
    with training_mode(), seeded_torch(seed, plan.device):
        X = torch.from_numpy(np.ascontiguousarray(data.X)).to(plan.device)
        y = _target(data.y, data.weight, cols, plan.device)
        net.partial_fit(X, y)
    # predict's float64 copy of the module watches the weights' version
    # counters, which fused AdamW steps leave unchanged: drop it.
    _inference.drop_float64(net.module_)
    return _record(net, dict(net.callbacks_)["sknnfit_best"], X, y)


def _watch_callbacks(plan, monitor):
    """The callbacks that watch a net's loss: divergence, best weights, stopping."""
    callbacks = [
        ("sknnfit_divergence", DivergenceRecovery(monitor)),
        ("sknnfit_best", BestWeights(monitor, restore=monitor == "valid_loss")),
    ]
    if plan.early_stopping and plan.lr_schedule != "wsd":
        # "wsd" stops itself, after annealing from the plateau.
        callbacks.append(
            ("sknnfit_early_stop", EarlyStop(monitor, plan.patience, plan.tol))
        )
    if monitor == "train_loss" and plan.optimizer == "lbfgs":
        flat = EarlyStop(monitor, plan.patience, FLAT_TOL, reason="flat")
        callbacks.append(("sknnfit_flat", flat))
    return callbacks


def _valid_dataset(data, cols):
    """The held-out rows as a skorch Dataset, or None."""
    if data.X_valid is None:
        return None
    with training_mode():
        return Dataset(
            torch.from_numpy(data.X_valid),
            _target(data.y_valid, data.weight_valid, cols),
        )


def build_net(plan, n_inputs, n_outputs, **overrides):
    """The skorch net of ``plan`` for one network, not initialized.

    Parameters
    ----------
    plan : sknnfit._auto.Plan
    n_inputs, n_outputs : int
        Width of the network's input and output layers.
    **overrides
        skorch parameters set after the plan's (``callbacks``, ``train_split``,
        the training iterator's seed); the plan's ``net_params`` come last.

    Returns
    -------
    net : FastNet
    """
    params = {
        **_module_params(plan, n_inputs, n_outputs),
        **_optimizer_params(plan),
        **_iterator_params(plan),
        "max_epochs": plan.max_epochs,
        "batch_size": plan.batch_size,
        "train_split": None,
        "callbacks": [],
        "device": plan.device,
        "verbose": 1 if plan.verbose >= 2 else 0,
        **overrides,
    }
    if params["train_split"] is None:
        # skorch notifies every callback three times per batch; one without
        # a validation set has nothing to do.
        params["callbacks__valid_loss"] = None
    if plan.verbose < 2:
        params["callbacks__print_log"] = None
    extra = copy.deepcopy(dict(plan.net_params or {}))
    # The user's callbacks run after sknnfit's own, which they never replace.
    user_callbacks = [
        *copy.deepcopy(list(plan.callbacks or ())),
        *extra.pop("callbacks", ()),
    ]
    params.update(extra)
    params["callbacks"] = [*params["callbacks"], *user_callbacks]
    return FastNet(**params)


def _target(y, weight, cols, device=None):
    """The target skorch gets: a tensor, or ``{"y": ..., "weight": ...}``."""
    y = torch.from_numpy(np.ascontiguousarray(y[:, cols])).to(device)
    if weight is None:
        return y
    weight = torch.from_numpy(np.ascontiguousarray(weight[:, cols])).to(device)
    return {"y": y, "weight": weight}


def _module_params(plan, n_inputs, n_outputs):
    return {
        "module": MLP,
        "module__n_inputs": n_inputs,
        "module__n_outputs": n_outputs,
        "module__hidden_layer_sizes": plan.hidden_layer_sizes,
        "module__activation": plan.activation,
        "module__linear_skip": plan.linear_skip,
        "module__precision": plan.precision,
        "module__periodic_inputs": plan.periodic_inputs,
    }


def _optimizer_params(plan):
    opt_cls, opt_kwargs = optimizer_spec(
        plan.optimizer, plan.lr, plan.weight_decay, plan.device, plan.precision
    )
    criterion, criterion_kwargs = make_criterion(plan.loss, quantile=plan.quantile)
    params = {"criterion": criterion, "optimizer": opt_cls, "lr": opt_kwargs.pop("lr")}
    # torch.optim.LBFGS has no weight_decay: the same penalty goes into the loss.
    params["l2_penalty"] = plan.weight_decay if plan.optimizer == "lbfgs" else 0.0
    params.update({f"criterion__{k}": v for k, v in criterion_kwargs.items()})
    params.update({f"optimizer__{k}": v for k, v in opt_kwargs.items()})
    return params


def _iterator_params(plan):
    return {
        "iterator_train": TensorBatchIterator,
        "iterator_train__shuffle": True,
        "iterator_train__device": plan.device,
        "iterator_valid": TensorBatchIterator,
        "iterator_valid__batch_size": PREDICT_BATCH,
        "iterator_valid__device": plan.device,
    }


def _extra_callbacks(plan, n_train, monitor, batch_schedule):
    """The callbacks of the plain training parameters, in their order."""
    callbacks = []
    schedule = lr_schedule_callback(
        plan.lr_schedule,
        lr=plan.lr,
        max_epochs=plan.max_epochs,
        steps_per_epoch=math.ceil(n_train / plan.batch_size),
        monitor=monitor,
        cycle_momentum=plan.optimizer in ("adam", "adamw", "muon", "sgd"),
        patience=plan.patience if plan.early_stopping else None,
        tol=plan.tol,
    )
    if schedule is not None:
        callbacks.append(("sknnfit_lr_schedule", schedule))
    clip = grad_clip_callback(plan.grad_clip)
    if clip is not None:
        callbacks.append(("sknnfit_grad_clip", clip))
    if batch_schedule is not None:
        growth = BatchGrowth(batch_schedule, min(n_train, MAX_GROWN_BATCH))
        callbacks.append(("sknnfit_batch_growth", growth))
    if plan.verbose:
        callbacks.append(("sknnfit_progress", ProgressBar(plan.max_epochs)))
    return callbacks


def _record(net, best, X, y):
    rows = [row for row in net.history if "train_loss" in row]
    has_valid = any("valid_loss" in row for row in rows)
    divergence = dict(net.callbacks_)["sknnfit_divergence"]
    final_loss = evaluate_loss(net, X, y)
    return TrainingRecord(
        stop=stop_reason(net),
        max_epochs=net.max_epochs,
        loss_curve=[float(row["train_loss"]) for row in rows],
        validation_scores=(
            [float(row["valid_loss"]) for row in rows if "valid_loss" in row]
            if has_valid
            else None
        ),
        best_epoch=best.best_epoch_,
        kept_best=best.restore and best.best_epoch_ > 0,
        recoveries=list(divergence.recoveries_),
        # Finite weights with a finite epoch loss can still overflow float32
        # after the epoch's last step: check before predict returns NaN.
        outputs_finite=math.isfinite(final_loss),
        final_loss=final_loss,
        base_loss=divergence.base_loss_,
        start_loss=divergence.start_loss_,
        max_loss=divergence.max_loss_,
    )
