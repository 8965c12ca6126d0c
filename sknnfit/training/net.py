"""The skorch net sknnfit trains, and the batch iterator that feeds it."""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch import NeuralNetRegressor


class BatchSchedule:
    """The training batch size, shared by :class:`BatchGrowth` and the iterator."""

    def __init__(self, batch_size):
        self.batch_size = int(batch_size)


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
