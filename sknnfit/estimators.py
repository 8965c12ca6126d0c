"""NNRegressor: the scikit-learn face over a skorch-trained PyTorch network."""

from __future__ import annotations

import copy
import difflib
import itertools
import math
import numbers
import warnings
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._compat import Interval, StrOptions
from ._device import loadable_device, resolve_device, seeded_torch, torch_threads
from ._validation import check_finite, check_numeric_frame, explain_input_error
from .bases import BASES, make_base, resolve_base
from .exceptions import ConvergenceWarning, ExtrapolationWarning
from .features import INPUT_TRANSFORMS, make_input_transformer
from .modules import ACTIVATIONS, MLP, PRECISIONS, native_bfloat16
from .training import (
    LOSSES,
    LR_SCHEDULES,
    OPTIMIZERS,
    BatchGrowth,
    BatchSchedule,
    FastNet,
    ProgressBar,
    TensorBatchIterator,
    TrainingMonitor,
    copy_params,
    grad_clip_callback,
    loss_weights,
    lr_schedule_callback,
    make_criterion,
    optimizer_spec,
)

#: Rows per forward pass at predict time (memory, not accuracy).
PREDICT_BATCH = 8192

#: optimizer="auto" picks full-batch L-BFGS when n_train x n_parameters is at
#: most this (about a minute of L-BFGS on one laptop core), AdamW otherwise.
LBFGS_BUDGET = 1.5e8

#: lr="auto" per optimizer (for AdamW/Adam/SGD the peak of the one-cycle schedule).
#: Adam/AdamW: 5e-3 beat 3e-3 on steep25x19 (nRMSE 0.0137 against 0.0178 on
#: seed 0, 0.0190 against 0.0228 on seed 2) and on formula5; 1e-2 was on the edge
#: of stability there (one seed got worse with more epochs; 2e-2 diverged).
DEFAULT_LR = {
    "adam": 5e-3,
    "adamw": 5e-3,
    "sgd": 1e-2,
    "lbfgs": 1.0,
    "signagree": 1e-3,
}

#: max_epochs="auto": enough epochs for about this many optimizer steps (the
#: one-cycle schedule needs steps, not passes, to settle) ...
AUTO_STEPS = 45_000

#: ... within these bounds (L-BFGS: the lower one) ...
AUTO_EPOCHS = (200, 400)

#: ... and at most this many row x parameter passes (training rows x network
#: parameters x epochs): about 2 minutes of a 2-core x86-64 machine with
#: PyTorch's own thread setting (two threads ran steep25x19's networks at
#: 1.3-1.7x the speed of one, benchmarks/precision.py --threads 1 2), which
#: leaves room for the same machine running 1.5 times slower at a busy moment,
#: as this one did. 100,000 rows of formula5 (34,433 parameters) keep their
#: 400 epochs.
AUTO_WORK = 2.0e12

#: precision="bfloat16" raises that cap by this factor: mixed-precision epochs
#: of steep25x19's wide network (three layers of 192) were 1.3-1.6 times as
#: fast as float32 on this AVX512-BF16 CPU with both threads (0.68 s against
#: 0.88 s in benchmarks/precision.py, 0.67 s against 1.01-1.07 s in another
#: run), and whole default fits agree: 171 bfloat16 passes took at most 148 s,
#: 114 float32 passes 147 s (benchmarks/results/goals*.md).
BFLOAT16_SPEEDUP = 1.5

#: hidden_layer_sizes="auto" and precision="auto": a network that learns at
#: least this many target values (training rows x the outputs it predicts) is
#: trained on large data, where the error kept falling with more passes and
#: more width for as long as we measured (steep25x19: 200,000 rows x 19
#: outputs). It gets LARGE_LAYERS and, where the device has native bfloat16,
#: mixed precision; smaller data gets DEFAULT_LAYERS in float32.
LARGE_DATA = 1_000_000

#: Hidden layers of hidden_layer_sizes="auto" below and above LARGE_DATA.
DEFAULT_LAYERS = (128, 128, 128)
LARGE_LAYERS = (192, 192, 192)

#: predict warns about rows beyond the training box by more than this share of
#: each column's range.
EXTRAPOLATION_SLACK = 0.01

#: batch_growth doubles the batch size up to this many rows.
MAX_GROWN_BATCH = 8192


class NNRegressor(RegressorMixin, BaseEstimator):
    """Neural-network regressor trained by skorch, with function-fitting defaults.

    ``fit`` standardises the inputs (adding the log of decade-spanning columns)
    and each target, fits a closed-form ridge base, builds a PyTorch
    :class:`~sknnfit.modules.MLP` for what the base leaves, and trains it with a
    skorch :class:`~skorch.NeuralNetRegressor` fed by batches sliced from tensors
    that already live on the training device. Predictions come back as float64
    NumPy arrays in the shape of the ``y`` given to ``fit``.

    Parameters
    ----------
    hidden_layer_sizes : "auto" or tuple of int, default="auto"
        Width of each hidden layer. ``"auto"``: three layers of 128, or of 192
        when a network learns at least 1,000,000 target values (training rows
        x the outputs it predicts; steep25x19's 200,000 rows x 19 outputs),
        where a wider network reached a lower error in the same time. The
        choice is ``hidden_layer_sizes_``.
    activation : {"relu", "leaky_relu", "tanh", "gelu", "silu", "sin"}, \
            default="silu"
        Hidden-layer activation. Smooth activations fit smooth functions with
        fewer kinks and extrapolate more gently than ReLU.
    linear_skip : bool, default=False
        Add a learned linear path from inputs to outputs inside the network.
    base : {"auto", "linear", "poly2", "poly3", "none"}, default="auto"
        Closed-form ridge model fitted first (float64); the network learns what
        it leaves. A linear base makes identity maps and linear trends exact; a
        polynomial base keeps polynomial behaviour outside the training data
        (seed 002). ``"auto"`` takes ``"poly2"`` when there are at least 20 rows
        per quadratic coefficient, else ``"linear"`` with 20 rows per linear
        coefficient, else ``"none"``; the choice is ``base_kind_``.
    optimizer : {"auto", "adam", "adamw", "sgd", "lbfgs", "signagree"}, \
            default="auto"
        ``"auto"``: full-batch L-BFGS when training rows x network parameters
        is at most 1.5e8 (small data, where it fits far more precisely), AdamW
        otherwise. Adam and AdamW use PyTorch's fused kernels where available;
        ``"signagree"`` is :class:`~sknnfit.training.optim.SignAgree` (seed 000's rule).
        The choice is ``optimizer_``.
    lr : "auto" or float, default="auto"
        Learning rate (the peak of the one-cycle schedule). ``"auto"``: 5e-3
        for Adam/AdamW, 1e-2 for SGD, 1.0 for L-BFGS, 1e-3 for SignAgree
        (``lr_``).
    weight_decay : float, default=0.0
        Weight decay (decoupled for AdamW).
    max_epochs : "auto" or int, default="auto"
        Passes over the training data (L-BFGS: steps of up to 20 evaluations).
        ``"auto"``: 200 for L-BFGS; for first-order optimizers enough passes
        for about 45,000 optimizer steps, between 200 and 400 (a one-cycle
        schedule needs steps to settle: 100k rows in batches of 1024 get 400
        passes), and at most 2.0e12 / (training rows x network parameters)
        passes, 1.5 times that in bfloat16: about 2 minutes of a 2-core CPU
        (200k rows with 50 network inputs, 19 outputs and three layers of 192
        get 114 passes, 171 in bfloat16). The choice is ``max_epochs_``.
    batch_size : "auto" or int, default="auto"
        Rows per optimiser step. ``"auto"``: the whole training set for L-BFGS,
        else about 1/64 of the rows, rounded to a power of two in [32, 1024].
    lr_schedule : {"auto", "none", "onecycle", "cosine", "plateau"}, \
            default="auto"
        ``"auto"``: one-cycle for first-order optimizers, cosine with
        ``batch_growth``, none for L-BFGS (``lr_schedule_``).
    batch_growth : bool, default=False
        Double the batch size (up to 8192 rows) each time the training loss
        stalls for 5 epochs, as seed 000's answer suggests.
    loss : {"auto", "mse", "mae", "huber", "relative", "peak"}, default="auto"
        Training loss. ``"relative"`` is the mean relative error |y_pred - y| /
        |y| in the user's units (seed 001); ``"peak"`` weights rows by how far
        their target lies from its median, up to 10x, so rare peaks are not
        averaged away (seed 000). See :func:`sknnfit.training.loss_weights`.
        ``"auto"`` is ``"mse"`` (``loss_``); inside a
        :class:`~sknnfit.TargetTransformRegressor` whose target is ``"log"``,
        ``"log1p"`` or ``"asinh"``, the wrapper sets ``"peak"`` instead, to give
        back to the tails some of the weight the compression took from them.
    multi_output : {"shared", "separate"}, default="shared"
        One network for all outputs, or one per output (seed 000's advice for
        outputs that interfere).
    n_ensemble : int, default=1
        Train this many networks from different seeds and average them.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows and stop when the validation
        loss has not improved for ``patience`` epochs; the best weights are kept.
    validation_fraction : float, default=0.1
        Share of rows held out when ``early_stopping=True``.
    patience : int, default=20
        Epochs without improvement before stopping.
    tol : float, default=1e-4
        Relative improvement of the monitored loss that counts as progress.
    grad_clip : float or None, default=None
        Clip the gradient norm to this value.
    input_transform : {"auto", "standard", "log", "none"}, default="auto"
        ``"auto"`` standardises every column and gives the network, in addition,
        the log of each strictly positive column spanning more than a decade
        (max/min > 10, ``log_columns_``); see
        :func:`sknnfit.features.make_input_transformer`.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    n_threads : int or None, default=None
        PyTorch CPU threads during fit and predict, restored afterwards. None
        leaves PyTorch's setting alone: one thread per physical core, or what
        ``OMP_NUM_THREADS`` says (joblib's workers, as in
        ``GridSearchCV(n_jobs=k)``, get their share of the cores). Two threads
        trained 1.3-1.7 times as fast as one on a 2-core CPU. Set 1 when other
        busy processes share the cores: PyTorch's threads wait for each other,
        and two threads beside one busy process ran at 0.4-0.46 times the speed
        of one.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of training. ``"bfloat16"`` is mixed precision: the network's
        matrix products run in bfloat16 under :func:`torch.autocast`, while the
        weights, the optimizer and the loss stay in float32, and predictions are
        computed at full precision. On GPUs from Ampere on and on CPUs with
        AVX512-BF16 or AMX an epoch is faster (steep25x19's wide network on a
        2-core AVX512-BF16 CPU: 0.68 s against 0.88 s), so
        ``max_epochs="auto"`` allows 1.5 times the work; elsewhere bfloat16 is
        emulated and ``fit`` warns. It costs accuracy where small relative
        errors matter (formula5's median relative error 0.0026-0.0030 against
        0.0019-0.0020 in float32). ``"auto"``: bfloat16 for the large data that
        gets the wide network of ``hidden_layer_sizes="auto"``, where error
        falls with every extra pass, if the device computes it natively;
        float32 otherwise. The choice is ``precision_``. See
        ``benchmarks/results/goals.md``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order and the validation split.
        The same integer gives identical predictions on the CPU.
    verbose : int, default=0
        0 is silent, 1 shows a progress bar over epochs, 2 also prints skorch's
        per-epoch table.
    net_params : dict or None, default=None
        Extra keyword arguments for :class:`skorch.NeuralNetRegressor` (for
        example ``{"module__sin_w0": 3.0}`` or ``{"optimizer__betas": (0.9, 0.99)}``),
        applied last. Copied at fit time, never modified.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The (first) trained skorch net; ``net_.module_`` is the PyTorch module.
    nets_ : list of (list of int, skorch.NeuralNetRegressor)
        Every trained net with the outputs it predicts.
    optimizer_, lr_, lr_schedule_, loss_ : str, float, str, str
        What the "auto" settings resolved to.
    hidden_layer_sizes_ : tuple of int
        Hidden layer widths used (``hidden_layer_sizes`` resolved).
    precision_ : str
        Training arithmetic used (``precision`` resolved).
    base_kind_ : str
        The base model used; ``base_`` is the fitted ridge model or None.
    residual_scale_ : ndarray of shape (n_outputs,)
        Scale of the residual the networks were trained on.
    input_transformer_ : sklearn.pipeline.Pipeline
        Fitted input transform (log columns and standardisation).
    log_columns_ : list of int
        Input columns that were log-transformed.
    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        Target standardisation statistics. ``y_scale_`` is 0 for a constant
        target, which is then predicted exactly.
    device_ : str
        Device used for training.
    batch_size_ : int
        Batch size used for training.
    max_epochs_ : int
        Epochs the training was allowed (``max_epochs`` resolved).
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of str
        Input column names, when X was a DataFrame with string column names.
    n_outputs_ : int
        Number of targets.
    loss_curve_ : list of float
        Training loss per epoch (standardised target units).
    validation_scores_ : list of float or None
        Validation loss per epoch when ``early_stopping=True``, else None.
    best_epoch_ : int
        Epoch (1-based) whose weights the model holds.
    n_epochs_ : int
        Epochs actually run.
    x_min_, x_max_ : ndarray of shape (n_features_in_,)
        Box of the training inputs; ``predict`` warns when rows fall outside.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnfit import NNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(200, 1))
    >>> y = X[:, 0] ** 2
    >>> model = NNRegressor(max_epochs=30, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "hidden_layer_sizes": [StrOptions({"auto"}), "array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "linear_skip": ["boolean"],
        "optimizer": [StrOptions({"auto", *OPTIMIZERS})],
        "lr": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "max_epochs": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "lr_schedule": [StrOptions({"auto", *LR_SCHEDULES})],
        "batch_growth": ["boolean"],
        "base": [StrOptions(set(BASES))],
        "multi_output": [StrOptions({"shared", "separate"})],
        "n_ensemble": [Interval(numbers.Integral, 1, None, closed="left")],
        "loss": [StrOptions({"auto", *LOSSES})],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "grad_clip": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "input_transform": [StrOptions(set(INPUT_TRANSFORMS))],
        "device": [str, torch.device],
        "n_threads": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "precision": [StrOptions({"auto", *PRECISIONS})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "net_params": [None, dict],
    }

    def __init__(
        self,
        hidden_layer_sizes="auto",
        *,
        activation="silu",
        linear_skip=False,
        base="auto",
        optimizer="auto",
        lr="auto",
        weight_decay=0.0,
        max_epochs="auto",
        batch_size="auto",
        lr_schedule="auto",
        batch_growth=False,
        loss="auto",
        multi_output="shared",
        n_ensemble=1,
        early_stopping=False,
        validation_fraction=0.1,
        patience=20,
        tol=1e-4,
        grad_clip=None,
        input_transform="auto",
        device="auto",
        n_threads=None,
        precision="auto",
        random_state=None,
        verbose=0,
        net_params=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.linear_skip = linear_skip
        self.base = base
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr_schedule = lr_schedule
        self.batch_growth = batch_growth
        self.loss = loss
        self.multi_output = multi_output
        self.n_ensemble = n_ensemble
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.grad_clip = grad_clip
        self.input_transform = input_transform
        self.device = device
        self.n_threads = n_threads
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.net_params = net_params

    # ------------------------------------------------------------------ sklearn API

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def set_params(self, **params):
        """Set parameters; an unknown name gets a "did you mean" suggestion."""
        valid = self.get_params(deep=True)
        for key in params:
            name = key.split("__", 1)[0]
            if name not in valid:
                close = difflib.get_close_matches(name, list(valid), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator "
                    f"{type(self).__name__}.{hint} Valid parameters are: "
                    f"{sorted(valid)!r}."
                )
        return super().set_params(**params)

    def fit(self, X, y):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric inputs (NumPy array or pandas DataFrame).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets.

        Returns
        -------
        self : NNRegressor
            The fitted estimator.
        """
        self._validate_params()
        self._check_hidden_layer_sizes()
        check_numeric_frame(X)
        X, y = self._validate_xy(X, y)
        y2 = y.reshape(len(y), -1)
        self._y_ndim = y.ndim
        self.n_outputs_ = y2.shape[1]

        self.x_min_ = X.min(axis=0)
        self.x_max_ = X.max(axis=0)
        self.input_transformer_, self.log_columns_ = make_input_transformer(
            self.input_transform, X
        )
        # Columns near float64's limit overflow the scaler's variance; the check
        # in _to_float32 then says so, instead of NumPy's RuntimeWarnings.
        with np.errstate(over="ignore", invalid="ignore"):
            Xt64 = self.input_transformer_.fit_transform(X)
        Xt = self._to_float32(Xt64, "X")  # raises if the network could not take it
        yt = self._standardise_targets(y2)

        self.device_ = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        train_rows, valid_rows = self._split_rows(len(X), rng)
        # The base sees the training rows only, so the validation loss is honest,
        # and the input columns as given (standardised), not the appended logs
        # of input_transform="auto".
        yt = self._fit_base(Xt64[:, : self.n_features_in_], yt, train_rows)
        # A constant output has y_scale_ = 0 (predicted exactly); its weights
        # only need to stay finite.
        unit_scale = np.where(self.y_scale_ > 0, self.y_scale_, 1.0)
        self.loss_ = "mse" if self.loss == "auto" else self.loss
        weights = loss_weights(self.loss_, y2, unit_scale * self.residual_scale_)
        yt = yt.astype(np.float32)
        if weights is not None:
            yt = np.hstack([yt, weights])
        Xtr, ytr = Xt[train_rows], yt[train_rows]
        Xv, yv = (
            (None, None) if valid_rows is None else (Xt[valid_rows], yt[valid_rows])
        )
        self._resolve_architecture(len(Xtr))
        self.optimizer_, self.lr_, self.lr_schedule_ = self._resolve_optimizer(
            len(Xtr), Xt.shape[1]
        )
        self.batch_size_ = self._resolve_batch_size(len(Xtr))
        self.max_epochs_ = self._resolve_max_epochs(len(Xtr), Xt.shape[1])

        k = self.n_outputs_
        if self.multi_output == "separate":
            groups = [[j] for j in range(k)]
        else:
            groups = [list(range(k))]
        self.nets_, monitors = [], []
        jobs = [group for _ in range(self.n_ensemble) for group in groups]
        with torch_threads(self.n_threads):
            for group in jobs:
                cols = group + ([c + k for c in group] if weights is not None else [])
                seed = int(rng.randint(np.iinfo(np.int32).max))
                net, monitor = self._train_net(
                    Xtr,
                    ytr[:, cols],
                    None if Xv is None else (Xv, yv[:, cols]),
                    len(group),
                    seed,
                )
                self.nets_.append((group, net))
                monitors.append(monitor)
                if (
                    monitor.epochs_done_ < self.max_epochs_
                    and not monitor.stopped_early_
                    and not monitor.gave_up_
                ):
                    break  # Ctrl-C: keep what is trained, skip the other nets
        self.net_ = self.nets_[0][1]
        self._record_training(monitors)
        return self

    def _train_net(self, Xtr, ytr, valid, n_out, seed):
        """Build and train one skorch net; return it with its TrainingMonitor."""
        hidden = self.hidden_layer_sizes_
        steps_per_epoch = math.ceil(len(Xtr) / self.batch_size_)
        monitor_name = "valid_loss" if valid is not None else "train_loss"
        monitor = TrainingMonitor(
            monitor=monitor_name,
            early_stopping=self.early_stopping,
            patience=self.patience,
            tol=self.tol,
            restore_best=valid is not None,
        )
        callbacks = [("sknnfit_monitor", monitor)]
        schedule = lr_schedule_callback(
            self.lr_schedule_,
            lr=self.lr_,
            max_epochs=self.max_epochs_,
            steps_per_epoch=steps_per_epoch,
            monitor=monitor_name,
            cycle_momentum=self.optimizer_ in ("adam", "adamw", "sgd"),
        )
        if schedule is not None:
            callbacks.append(("sknnfit_lr_schedule", schedule))
        clip = grad_clip_callback(self.grad_clip)
        if clip is not None:
            callbacks.append(("sknnfit_grad_clip", clip))
        batch_schedule = None
        if self.batch_growth:
            batch_schedule = BatchSchedule(self.batch_size_)
            callbacks.append(
                (
                    "sknnfit_batch_growth",
                    BatchGrowth(batch_schedule, min(len(Xtr), MAX_GROWN_BATCH)),
                )
            )
        if self.verbose:
            callbacks.append(("sknnfit_progress", ProgressBar(self.max_epochs_)))

        opt_cls, opt_kwargs = optimizer_spec(
            self.optimizer_, self.lr_, self.weight_decay, self.device_
        )
        lr = opt_kwargs.pop("lr")
        criterion, criterion_kwargs = make_criterion(self.loss_)
        params = {
            "module": MLP,
            "module__n_inputs": Xtr.shape[1],
            "module__n_outputs": n_out,
            "module__hidden_layer_sizes": hidden,
            "module__activation": self.activation,
            "module__linear_skip": self.linear_skip,
            "module__precision": self.precision_,
            "criterion": criterion,
            "optimizer": opt_cls,
            "lr": lr,
            "max_epochs": self.max_epochs_,
            "batch_size": self.batch_size_,
            "iterator_train": TensorBatchIterator,
            "iterator_train__shuffle": True,
            "iterator_train__seed": seed,
            "iterator_train__device": self.device_,
            "iterator_train__batch_schedule": batch_schedule,
            "iterator_valid": TensorBatchIterator,
            "iterator_valid__batch_size": PREDICT_BATCH,
            "iterator_valid__device": self.device_,
            "train_split": None,
            "callbacks": callbacks,
            "device": self.device_,
            "verbose": 1 if self.verbose >= 2 else 0,
        }
        if valid is not None:
            valid_ds = Dataset(torch.from_numpy(valid[0]), torch.from_numpy(valid[1]))
            params["train_split"] = predefined_split(valid_ds)
        else:
            # skorch notifies every callback three times per batch; one without
            # a validation set has nothing to do.
            params["callbacks__valid_loss"] = None
        if self.verbose < 2:
            params["callbacks__print_log"] = None
        params.update({f"criterion__{k}": v for k, v in criterion_kwargs.items()})
        params.update({f"optimizer__{k}": v for k, v in opt_kwargs.items()})
        params.update(copy_params(self.net_params))
        net = FastNet(**params)
        with seeded_torch(seed, self.device_):
            Xtr_t = torch.from_numpy(np.ascontiguousarray(Xtr)).to(self.device_)
            ytr_t = torch.from_numpy(np.ascontiguousarray(ytr)).to(self.device_)
            net.fit(Xtr_t, ytr_t)
        return net, monitor

    def _forward(self, net, Xt64):
        """Network outputs for transformed inputs, as float64 NumPy.

        On the CPU the trained float32 weights are evaluated in float64: every
        row then gets the same result whatever else is in the batch (float32
        matrix kernels round differently for different batch sizes), and the
        output carries no float32 rounding. On a GPU the float32 path is kept.
        """
        if self.device_ == "cpu":
            module = copy.deepcopy(net.module_).double().eval()
            X = torch.from_numpy(Xt64)
            parts = [
                module(X[i : i + PREDICT_BATCH]).numpy()
                for i in range(0, len(X), PREDICT_BATCH)
            ]
            return np.concatenate(parts) if parts else np.zeros((0, 1))
        Xt = torch.from_numpy(np.asarray(Xt64, dtype=np.float32))
        return np.asarray(net.predict(Xt), dtype=np.float64)

    def _fit_base(self, Xt64, yt, train_rows):
        """Fit the closed-form base on ``train_rows``; return the scaled residual."""
        self.base_kind_ = resolve_base(self.base, *Xt64.shape)
        self.base_ = make_base(self.base_kind_)
        if self.base_ is None:
            self.residual_scale_ = np.ones(yt.shape[1])
            return yt
        self.base_.fit(Xt64[train_rows], yt[train_rows])
        residual = yt - self.base_.predict(Xt64).reshape(yt.shape)
        # Scale the residual to unit variance so the network sees a well-scaled
        # target, but not by more than 1e6: an exactly linear target leaves only
        # rounding noise, which must not be blown up into a signal.
        self.residual_scale_ = np.maximum(residual[train_rows].std(axis=0), 1e-6)
        return residual / self.residual_scale_

    def _resolve_optimizer(self, n_train, n_inputs):
        """``optimizer_``, ``lr_`` and ``lr_schedule_`` from the "auto" settings."""
        optimizer = self.optimizer
        if optimizer == "auto":
            small = n_train * self._n_parameters(n_inputs) <= LBFGS_BUDGET
            optimizer = "lbfgs" if small else "adamw"
        lr = self.lr
        if lr == "auto":
            lr = DEFAULT_LR[optimizer]
        schedule = self.lr_schedule
        if schedule == "auto":
            if optimizer == "lbfgs":
                schedule = "none"
            elif self.batch_growth:
                schedule = "cosine"
            else:
                schedule = "onecycle"
        if schedule == "onecycle" and self.batch_growth:
            raise ValueError(
                "lr_schedule='onecycle' needs a fixed number of steps, which "
                "batch_growth=True changes. Use lr_schedule='cosine' or 'plateau' "
                "(or 'auto') with batch_growth."
            )
        return optimizer, float(lr), schedule

    def predict(self, X):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs with the columns seen in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Float64 predictions, 1-D when ``fit`` got a 1-D ``y``.
        """
        check_is_fitted(self, "net_")
        check_numeric_frame(X)
        try:
            X = validate_data(
                self,
                X,
                reset=False,
                dtype=[np.float64, np.float32],
                ensure_all_finite=False,
            )
        except ValueError as exc:
            better = explain_input_error(exc, X)
            if better is None:
                raise
            raise better from exc
        check_finite(X, "X")
        self._warn_outside_box(X)
        X = np.ascontiguousarray(X, dtype=np.float64)
        Xt64 = self.input_transformer_.transform(X)
        self._to_float32(Xt64, "X")  # raises if the network could not take it
        out = np.zeros((len(X), self.n_outputs_))
        counts = np.zeros(self.n_outputs_)
        with torch_threads(self.n_threads), torch.inference_mode():
            for group, net in self.nets_:
                out[:, group] += self._forward(net, Xt64)
                counts[group] += 1
        # Average the ensemble; an output whose net was never trained (fit
        # interrupted) falls back to the base model.
        out = out / np.maximum(counts, 1) * self.residual_scale_
        if self.base_ is not None:
            base_in = Xt64[:, : self.n_features_in_]
            out += self.base_.predict(base_in).reshape(out.shape)
        y = out * self.y_scale_ + self.y_mean_
        n_bad = int((~np.isfinite(y)).sum())
        if n_bad:
            warnings.warn(
                f"{n_bad} prediction(s) are NaN or infinite: the network overflowed "
                "float32 on these inputs. Check X for extreme values.",
                RuntimeWarning,
                stacklevel=2,
            )
        if self._y_ndim == 1:
            y = y.ravel()
        return y

    # ------------------------------------------------------------------ helpers

    def _check_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, str) and sizes == "auto":
            return sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive integers, e.g. "
                f"(128, 128, 128), or 'auto'; got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _validate_xy(self, X, y):
        # validate_data rejects non-finite y with a terse message; say where.
        y_arr = np.asarray(y) if y is not None else None
        if y_arr is not None and y_arr.dtype.kind in "fc":
            check_finite(y_arr, "y")
        try:
            X, y = validate_data(
                self,
                X,
                y,
                multi_output=True,
                y_numeric=True,
                dtype=[np.float64, np.float32],
                ensure_all_finite=False,
            )
        except ValueError as exc:
            better = explain_input_error(exc, X, y)
            if better is None:
                raise
            raise better from exc
        if y.dtype.kind not in "fiub":
            # validate_data lets NumPy string targets through (only object y is
            # converted); catch them here rather than in a bare astype.
            raise explain_input_error(ValueError("non-numeric y"), X, y)
        check_finite(X, "X")
        check_finite(y, "y")
        # One memory layout for arrays and DataFrames alike, so both give
        # bit-identical results.
        X = np.ascontiguousarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 0:
            raise ValueError("y has 0 columns; pass at least one target.")
        return X, y

    def _standardise_targets(self, y2):
        with np.errstate(over="ignore", invalid="ignore"):
            mean = y2.mean(axis=0)
            scale = y2.std(axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise ValueError(
                "y is too large to standardise in float64 (max |y| = "
                f"{np.abs(y2).max():.3g}). Divide y by a constant first, or wrap the "
                "model in TargetTransformRegressor(target='log' or 'asinh')."
            )
        # A constant target keeps y_scale_ = 0, so predict returns it exactly
        # whatever the network outputs; training sees zeros for it.
        scale = np.where(np.ptp(y2, axis=0) > 0, scale, 0.0)
        self.y_mean_, self.y_scale_ = mean, scale
        return (y2 - mean) / np.where(scale > 0, scale, 1.0)

    @staticmethod
    def _to_float32(A, name):
        with np.errstate(over="ignore", invalid="ignore"):
            A32 = np.asarray(A, dtype=np.float32)
        if not np.isfinite(A32).all():
            raise ValueError(
                f"{name} does not fit in float32 after scaling (values beyond "
                "3.4e38 or NaN after the input transform). Rescale the offending "
                "columns, or use input_transform='log' for positive columns that "
                "span many decades."
            )
        return np.ascontiguousarray(A32)

    def _split_rows(self, n, rng):
        """``(train_rows, valid_rows)``: all rows and None without early stopping."""
        if not self.early_stopping:
            return slice(None), None  # a view, not a copy of the training data
        n_valid = math.ceil(self.validation_fraction * n)
        if n < 2 or n - n_valid < 1:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction="
                f"{self.validation_fraction} of the rows, which leaves no training "
                f"rows from n_samples={n}. Pass at least 2 samples, lower "
                "validation_fraction, or set early_stopping=False."
            )
        perm = rng.permutation(n)
        return perm[n_valid:], perm[:n_valid]

    def _resolve_batch_size(self, n_train):
        if self.batch_size == "auto" and self.optimizer_ == "lbfgs":
            return int(n_train)  # L-BFGS needs the full-batch gradient
        if self.batch_size == "auto":
            target = max(1.0, n_train / 64)
            size = 2 ** round(math.log2(target))
            return int(min(n_train, max(32, min(1024, size))))
        return int(min(self.batch_size, n_train))

    def _n_parameters(self, n_inputs):
        """Weights and biases of one network with ``n_inputs`` inputs."""
        widths = [n_inputs, *self.hidden_layer_sizes_, self.n_outputs_]
        return sum(a * b + b for a, b in itertools.pairwise(widths))

    def _resolve_max_epochs(self, n_train, n_inputs):
        """``max_epochs_``: the given number, or the "auto" rule."""
        if self.max_epochs != "auto":
            return int(self.max_epochs)
        if self.optimizer_ == "lbfgs":
            return AUTO_EPOCHS[0]
        steps_per_epoch = math.ceil(n_train / self.batch_size_)
        epochs = min(
            AUTO_EPOCHS[1], max(AUTO_EPOCHS[0], math.ceil(AUTO_STEPS / steps_per_epoch))
        )
        # Large data: cap the work so a default fit stays within minutes.
        work_per_epoch = n_train * self._n_parameters(n_inputs)
        speedup = BFLOAT16_SPEEDUP if self.precision_ == "bfloat16" else 1.0
        budget = AUTO_WORK * speedup
        return int(max(1, min(epochs, budget // work_per_epoch)))

    def _resolve_architecture(self, n_train):
        """``hidden_layer_sizes_`` and ``precision_`` from the "auto" settings.

        A network that learns at least :data:`LARGE_DATA` target values (rows x
        the outputs it predicts: all of them for ``multi_output="shared"``, one
        for ``"separate"``) gets :data:`LARGE_LAYERS` and bfloat16 where the
        device computes it natively; smaller data :data:`DEFAULT_LAYERS` in
        float32.
        """
        per_net = self.n_outputs_ if self.multi_output == "shared" else 1
        large = n_train * per_net >= LARGE_DATA
        sizes = self._check_hidden_layer_sizes()
        if sizes == "auto":
            sizes = LARGE_LAYERS if large else DEFAULT_LAYERS
        self.hidden_layer_sizes_ = sizes
        if self.precision == "float32":
            self.precision_ = "float32"
            return
        native = native_bfloat16(self.device_)
        if self.precision == "auto":
            self.precision_ = "bfloat16" if large and native else "float32"
            return
        self.precision_ = "bfloat16"
        if not native:
            warnings.warn(
                f"precision='bfloat16' on device {self.device_!r}, which has no "
                "native bfloat16 arithmetic (CUDA needs Ampere or later, a CPU "
                "AVX512-BF16 or AMX): PyTorch emulates it, which is usually slower "
                "than float32. Use precision='float32' here.",
                UserWarning,
                stacklevel=3,
            )

    def _record_training(self, monitors):
        """Training records from the first net; warnings from every net."""
        monitor = monitors[0]
        for other in monitors[1:]:
            other.report(self.max_epochs_, interrupted=False)
            other.best_state_ = other.last_good_state_ = None
        history = self.net_.history
        rows = [r for r in history if "train_loss" in r]
        self.loss_curve_ = [float(r["train_loss"]) for r in rows]
        self.validation_scores_ = (
            [float(r["valid_loss"]) for r in rows if "valid_loss" in r]
            if self.early_stopping
            else None
        )
        self.n_epochs_ = len(rows)
        self.best_epoch_ = (
            int(monitor.best_epoch_) if monitor.best_state_ else (self.n_epochs_)
        )
        interrupted = (
            self.n_epochs_ < self.max_epochs_
            and not monitor.stopped_early_
            and not monitor.gave_up_
        )
        monitor.report(self.max_epochs_, interrupted)
        # The weight copies are only needed during training; do not pickle them.
        monitor.best_state_ = monitor.last_good_state_ = None
        if (
            not interrupted
            and not monitor.stopped_early_
            and self.n_epochs_ == self.max_epochs_
            and _still_improving(
                self.validation_scores_ or self.loss_curve_, self.max_epochs_
            )
        ):
            warnings.warn(
                f"NNRegressor reached max_epochs={self.max_epochs_} while the loss "
                "was still improving (by more than 10% over the last 10% of "
                "epochs). Increase max_epochs for a better fit; with "
                "early_stopping=True training stops where the validation loss "
                "is best.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _outside_rows(self, X):
        """Boolean mask of the rows of ``X`` outside the training box.

        A row counts as outside when it passes the box by more than 1% of the
        column's range: test rows of a sampled box land a hair past its edges,
        which is not extrapolation worth a warning.
        """
        span = self.x_max_ - self.x_min_
        slack = EXTRAPOLATION_SLACK * np.where(span > 0, span, 1.0)
        return ((X < self.x_min_ - slack) | (X > self.x_max_ + slack)).any(axis=1)

    def _warn_outside_box(self, X):
        outside = self._outside_rows(X)
        frac = outside.mean() if len(outside) else 0.0
        if frac > 0:
            warnings.warn(
                f"{frac:.1%} of the rows ({int(outside.sum())} of {len(X)}) lie "
                "outside the box of the training inputs; neural networks "
                "extrapolate poorly there. See sknnfit.diagnostics for an "
                "extrapolation check.",
                ExtrapolationWarning,
                stacklevel=3,
            )

    def __setstate__(self, state):
        super().__setstate__(state)
        device = getattr(self, "device_", None)
        if device is not None and loadable_device(device) != device:
            # Fitted on a GPU, loaded where there is none: skorch has already
            # mapped the module to the CPU; keep our batches there too.
            self.device_ = "cpu"
            self.net_.device = "cpu"
            self.net_.iterator_valid__device = "cpu"
            self.net_.iterator_train__device = "cpu"


def _still_improving(curve, max_epochs, threshold=0.1):
    """Whether the best loss of the last 10% of epochs beats the earlier best by 10%.

    Annealed schedules (one-cycle, cosine) always gain a little at the end as the
    learning rate falls; a gain of more than 10% in the last tenth of training
    means more epochs would clearly help.
    """
    curve = [c for c in curve if np.isfinite(c)]
    k = max(2, max_epochs // 10)
    if len(curve) <= k:
        return len(curve) > 1 and curve[-1] < curve[0] * (1 - threshold)
    before = min(curve[:-k])
    after = min(curve[-k:])
    return after < before - threshold * abs(before)
