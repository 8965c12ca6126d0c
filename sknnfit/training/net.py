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
        Dataset whose ``X`` is a tensor and ``y`` a tensor, None, or a dict of
        tensors (``{"y": targets, "weight": weights}``, see :class:`FastNet`).
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
        self.X = _tensor(dataset.X, device)
        y = dataset.y
        if isinstance(y, dict):
            self.y = {key: _tensor(value, device) for key, value in y.items()}
        else:
            self.y = None if y is None else _tensor(y, device)
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
        X, y = self.X, self.y
        if self.shuffle and n > bs:
            rows = torch.randperm(n, generator=self.generator).to(self.X.device)
            # index_select copies the shuffled rows about 5x as fast as X[rows].
            X, y = X.index_select(0, rows), _rows(y, rows)
        for start in range(0, n, bs):
            part = slice(start, start + bs)
            yield X[part], _rows(y, part)


def _tensor(A, device):
    if not isinstance(A, torch.Tensor):
        A = torch.as_tensor(np.asarray(A, dtype=np.float32))
    return A if device is None else A.to(device)


def _rows(y, rows):
    """Rows of a target tensor, of each tensor of a target dict, or None."""
    if y is None:
        return None
    if isinstance(y, dict):
        return {key: _take(value, rows) for key, value in y.items()}
    return _take(y, rows)


def _take(t, rows):
    """``t[rows]``; a tensor of row indices through ``index_select`` (faster)."""
    return t.index_select(0, rows) if isinstance(rows, torch.Tensor) else t[rows]


class FastNet(NeuralNetRegressor):
    """skorch's NeuralNetRegressor with loss weights, L2 penalty, fewer mode switches.

    Weights: when the target is a dict ``{"y": targets, "weight": weights}``
    (each of shape (n_samples, n_outputs)), :meth:`get_loss` passes the batch's
    weights to the criterion as its third argument. This is the one path by
    which weights reach the loss (the ``"relative"`` and ``"peak"`` losses).

    L2 penalty: ``l2_penalty`` adds ``0.5 * l2_penalty * sum(p**2)`` over every
    trainable parameter to the training loss. Its gradient is exactly the
    ``weight_decay`` term that :class:`torch.optim.Adam` and
    :class:`torch.optim.SGD` add to the gradient, so ``weight_decay`` means the
    same penalty for :class:`torch.optim.LBFGS`, which has no such option and
    only sees the loss its closure returns. Biases are penalised too, as
    PyTorch's ``weight_decay`` does (scikit-learn's MLPRegressor ``alpha``
    spares them); with standardised inputs and targets they stay small.

    Mode: skorch calls ``module.train()`` before every batch, which walks the
    whole module tree. The mode only changes between training and evaluation
    passes, so this subclass switches it only then. Everything else is skorch's
    own.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        As in :class:`skorch.NeuralNetRegressor`; so are ``*args`` and
        ``**kwargs``.
    l2_penalty : float, default=0.0
        Coefficient of the L2 penalty added to the training loss (not to the
        validation loss, nor to evaluation outside training). The recorded
        ``train_loss`` includes it, as MLPRegressor's ``loss_curve_`` does.
    """

    def __init__(self, module, *args, l2_penalty=0.0, **kwargs):
        super().__init__(module, *args, **kwargs)
        self.l2_penalty = l2_penalty

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_true, dict):
            loss = self.criterion_(y_pred, y_true["y"], y_true["weight"])
        else:
            loss = super().get_loss(y_pred, y_true, X=X, training=training)
        if training and self.l2_penalty:
            loss = loss + 0.5 * self.l2_penalty * self.squared_norm()
        return loss

    def squared_norm(self):
        """Sum of the squares of the module's trainable parameters, a 0-d tensor."""
        return sum(p.pow(2).sum() for p in self.module_.parameters() if p.requires_grad)

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
