"""Training machinery: everything that plugs into skorch.

Through skorch's public extension points only: batch iterators
(:mod:`~sknnfit.training.net`), optimizers (:mod:`~sknnfit.training.optim`),
criteria (:mod:`~sknnfit.training.losses`) and callbacks
(:mod:`~sknnfit.training.callbacks`). :func:`~sknnfit.training.run.train_net`
assembles them from the plan that :class:`~sknnfit.NNRegressor` resolves.
"""

from .._options import LOSSES, LR_SCHEDULES, OPTIMIZERS
from .callbacks import (
    BatchGrowth,
    ProgressBar,
    grad_clip_callback,
    lr_schedule_callback,
)
from .losses import WeightedLoss, loss_weights, make_criterion
from .net import BatchSchedule, FastNet, TensorBatchIterator
from .optim import SignAgree, optimizer_spec
from .run import TrainData, build_net, continue_net, train_net
from .stopping import BestWeights, DivergenceRecovery, EarlyStop

__all__ = [
    "LOSSES",
    "LR_SCHEDULES",
    "OPTIMIZERS",
    "BatchGrowth",
    "BatchSchedule",
    "BestWeights",
    "DivergenceRecovery",
    "EarlyStop",
    "FastNet",
    "ProgressBar",
    "SignAgree",
    "TensorBatchIterator",
    "TrainData",
    "WeightedLoss",
    "build_net",
    "continue_net",
    "grad_clip_callback",
    "loss_weights",
    "lr_schedule_callback",
    "make_criterion",
    "optimizer_spec",
    "train_net",
]
