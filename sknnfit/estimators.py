"""NNRegressor: the scikit-learn face over a skorch-trained PyTorch network."""

from __future__ import annotations

import difflib
import math
import numbers
import warnings
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetRegressor
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from ._device import loadable_device, resolve_device, seeded_torch, torch_threads
from .exceptions import ConvergenceWarning, ExtrapolationWarning
from .features import INPUT_TRANSFORMS, make_input_transformer
from .modules import ACTIVATIONS, MLP
from .training import (
    LOSSES,
    LR_SCHEDULES,
    OPTIMIZERS,
    ProgressBar,
    TensorBatchIterator,
    TrainingMonitor,
    copy_params,
    grad_clip_callback,
    lr_schedule_callback,
    make_criterion,
    optimizer_spec,
)

#: Rows per forward pass at predict time (memory, not accuracy).
PREDICT_BATCH = 8192


def check_finite(A, name):
    """Raise a ValueError naming how many values of ``A`` are NaN or infinite.

    Parameters
    ----------
    A : ndarray
        Numeric array, 1-D or 2-D.
    name : str
        How to call it in the message (``"X"`` or ``"y"``).
    """
    A = np.asarray(A)
    if A.dtype.kind not in "fc":
        return
    finite = np.isfinite(A)
    if finite.all():
        return
    bad = ~finite
    n_nan = int(np.isnan(A).sum())
    n_inf = int(bad.sum()) - n_nan
    A2 = bad.reshape(len(A), -1)
    row, col = (int(i) for i in np.argwhere(A2)[0])
    where = f"row {row}" if A.ndim == 1 else f"row {row}, column {col}"
    kinds = " and ".join(s for s, n in (("NaN", n_nan), ("infinity", n_inf)) if n)
    raise ValueError(
        f"Input {name} contains {kinds}: {n_nan} NaN and {n_inf} infinite value(s), "
        f"the first at {where}. Remove those rows or impute the values (e.g. "
        "sklearn.impute.SimpleImputer in a Pipeline) before fitting."
    )


def _check_numeric_frame(X, name="X"):
    """Reject DataFrames with non-numeric columns with a message naming them."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "columns"):
        return
    bad = [
        str(col)
        for col, dt in zip(X.columns, dtypes, strict=False)
        if not (np.issubdtype(np.dtype(dt), np.number) or np.dtype(dt) == bool)
    ]
    if bad:
        raise ValueError(
            f"{name} has non-numeric column(s) {bad[:5]}"
            f"{'...' if len(bad) > 5 else ''}."
            " NNRegressor needs numbers: encode categories first, e.g. "
            "ColumnTransformer([('cat', OneHotEncoder(), cat_columns)], "
            "remainder='passthrough') in a Pipeline."
        )


class NNRegressor(RegressorMixin, BaseEstimator):
    """Neural-network regressor trained by skorch, with function-fitting defaults.

    ``fit`` standardises the inputs (after a log of decade-spanning columns) and
    each target, builds a PyTorch :class:`~sknnfit.modules.MLP`, and trains it
    with a skorch :class:`~skorch.NeuralNetRegressor` fed by batches sliced from
    tensors that already live on the training device. Predictions come back as
    float64 NumPy arrays in the shape of the ``y`` given to ``fit``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(128, 128, 128)
        Width of each hidden layer.
    activation : {"relu", "leaky_relu", "tanh", "gelu", "silu", "sin"}, \
            default="silu"
        Hidden-layer activation. Smooth activations fit smooth functions with
        fewer kinks and extrapolate more gently than ReLU.
    linear_skip : bool, default=True
        Add a linear path from inputs to outputs, so identity maps and linear
        trends are exact and the hidden layers fit only the rest.
    optimizer : {"adam", "adamw", "sgd", "lbfgs", "signagree"}, default="adamw"
        Optimiser. Adam and AdamW use PyTorch's fused kernels where available.
        ``"signagree"`` is :class:`~sknnfit.optim.SignAgree`.
    lr : float, default=3e-3
        Learning rate (the peak rate of the one-cycle schedule).
    weight_decay : float, default=0.0
        Weight decay (decoupled for AdamW).
    max_epochs : int, default=200
        Number of passes over the training data.
    batch_size : "auto" or int, default="auto"
        Rows per optimiser step. ``"auto"`` uses about 1/64 of the training rows,
        rounded to a power of two between 32 and 1024.
    lr_schedule : {"none", "onecycle", "cosine", "plateau"}, default="onecycle"
        Learning-rate schedule over the ``max_epochs`` epochs.
    loss : {"mse", "mae", "huber"}, default="mse"
        Training loss, computed on the standardised targets.
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
        ``"auto"`` takes the log of strictly positive columns spanning more than
        two decades and standardises every column; see
        :func:`sknnfit.features.make_input_transformer`.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    n_threads : int or None, default=1
        PyTorch CPU threads during fit and predict, restored afterwards. One
        thread is as fast as two on small CPUs and does not collapse when another
        process is busy. None leaves PyTorch's setting alone.
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
        The trained skorch net; ``net_.module_`` is the PyTorch module.
    input_transformer_ : sklearn.pipeline.Pipeline
        Fitted input transform (log columns and standardisation).
    log_columns_ : list of int
        Input columns that were log-transformed.
    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        Target standardisation statistics.
    device_ : str
        Device used for training.
    batch_size_ : int
        Batch size used for training.
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
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "linear_skip": ["boolean"],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "loss": [StrOptions(set(LOSSES))],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "grad_clip": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "input_transform": [StrOptions(set(INPUT_TRANSFORMS))],
        "device": [str, torch.device],
        "n_threads": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "net_params": [None, dict],
    }

    def __init__(
        self,
        hidden_layer_sizes=(128, 128, 128),
        *,
        activation="silu",
        linear_skip=True,
        optimizer="adamw",
        lr=3e-3,
        weight_decay=0.0,
        max_epochs=200,
        batch_size="auto",
        lr_schedule="onecycle",
        loss="mse",
        early_stopping=False,
        validation_fraction=0.1,
        patience=20,
        tol=1e-4,
        grad_clip=None,
        input_transform="auto",
        device="auto",
        n_threads=1,
        random_state=None,
        verbose=0,
        net_params=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.linear_skip = linear_skip
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr_schedule = lr_schedule
        self.loss = loss
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.grad_clip = grad_clip
        self.input_transform = input_transform
        self.device = device
        self.n_threads = n_threads
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
        hidden = self._check_hidden_layer_sizes()
        _check_numeric_frame(X)
        X, y = self._validate_xy(X, y)
        y2 = y.reshape(len(y), -1)
        self._y_ndim = y.ndim
        self.n_outputs_ = y2.shape[1]

        self.x_min_ = X.min(axis=0)
        self.x_max_ = X.max(axis=0)
        self.input_transformer_, self.log_columns_ = make_input_transformer(
            self.input_transform, X
        )
        Xt = self._to_float32(self.input_transformer_.fit_transform(X), "X")
        yt = self._standardise_targets(y2)

        self.device_ = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        Xtr, ytr, valid = self._split(Xt, yt, rng)
        self.batch_size_ = self._resolve_batch_size(len(Xtr))
        steps_per_epoch = math.ceil(len(Xtr) / self.batch_size_)

        monitor = TrainingMonitor(
            monitor="valid_loss" if valid is not None else "train_loss",
            early_stopping=self.early_stopping,
            patience=self.patience,
            tol=self.tol,
            restore_best=valid is not None,
        )
        callbacks = [("sknnfit_monitor", monitor)]
        schedule = lr_schedule_callback(
            self.lr_schedule,
            lr=self.lr,
            max_epochs=self.max_epochs,
            steps_per_epoch=steps_per_epoch,
            monitor="valid_loss" if valid is not None else "train_loss",
        )
        if schedule is not None:
            callbacks.append(("sknnfit_lr_schedule", schedule))
        clip = grad_clip_callback(self.grad_clip)
        if clip is not None:
            callbacks.append(("sknnfit_grad_clip", clip))
        if self.verbose:
            callbacks.append(("sknnfit_progress", ProgressBar(self.max_epochs)))

        opt_cls, opt_kwargs = optimizer_spec(
            self.optimizer, self.lr, self.weight_decay, self.device_
        )
        lr = opt_kwargs.pop("lr")
        params = {
            "module": MLP,
            "module__n_inputs": Xt.shape[1],
            "module__n_outputs": self.n_outputs_,
            "module__hidden_layer_sizes": hidden,
            "module__activation": self.activation,
            "module__linear_skip": self.linear_skip,
            "criterion": make_criterion(self.loss),
            "optimizer": opt_cls,
            "lr": lr,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size_,
            "iterator_train": TensorBatchIterator,
            "iterator_train__shuffle": True,
            "iterator_train__seed": seed,
            "iterator_train__device": self.device_,
            "iterator_valid": TensorBatchIterator,
            "iterator_valid__batch_size": PREDICT_BATCH,
            "iterator_valid__device": self.device_,
            "train_split": None if valid is None else predefined_split(valid),
            "callbacks": callbacks,
            "device": self.device_,
            "verbose": 1 if self.verbose >= 2 else 0,
        }
        params.update({f"optimizer__{k}": v for k, v in opt_kwargs.items()})
        params.update(copy_params(self.net_params))
        self.net_ = NeuralNetRegressor(**params)

        with torch_threads(self.n_threads), seeded_torch(seed, self.device_):
            Xtr_t = torch.from_numpy(Xtr).to(self.device_)
            ytr_t = torch.from_numpy(ytr).to(self.device_)
            self.net_.fit(Xtr_t, ytr_t)
        self._record_training(monitor)
        return self

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
        _check_numeric_frame(X)
        X = validate_data(
            self,
            X,
            reset=False,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
        )
        check_finite(X, "X")
        self._warn_outside_box(X)
        Xt = self._to_float32(self.input_transformer_.transform(X), "X")
        with torch_threads(self.n_threads), torch.inference_mode():
            out = self.net_.predict(torch.from_numpy(Xt))
        y = np.asarray(out, dtype=np.float64) * self.y_scale_ + self.y_mean_
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
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive integers, e.g. "
                f"(128, 128, 128); got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _validate_xy(self, X, y):
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
            if "could not convert string to float" in str(exc):
                raise ValueError(
                    f"{exc}. NNRegressor needs numeric X and y: encode text or "
                    "categories first (e.g. OneHotEncoder in a ColumnTransformer)."
                ) from exc
            raise
        check_finite(X, "X")
        check_finite(y, "y")
        X = X.astype(np.float64, copy=False)
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
        scale = np.where(scale > 0, scale, 1.0)
        self.y_mean_, self.y_scale_ = mean, scale
        return ((y2 - mean) / scale).astype(np.float32)

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

    def _split(self, Xt, yt, rng):
        if not self.early_stopping:
            return Xt, yt, None
        n = len(Xt)
        n_valid = math.ceil(self.validation_fraction * n)
        if n < 2 or n - n_valid < 1:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction="
                f"{self.validation_fraction} of the rows, which leaves no training "
                f"rows from n_samples={n}. Pass at least 2 samples, lower "
                "validation_fraction, or set early_stopping=False."
            )
        perm = rng.permutation(n)
        iv, it = perm[:n_valid], perm[n_valid:]
        valid = Dataset(torch.from_numpy(Xt[iv]), torch.from_numpy(yt[iv]))
        return Xt[it], yt[it], valid

    def _resolve_batch_size(self, n_train):
        if self.batch_size == "auto":
            target = max(1.0, n_train / 64)
            size = 2 ** round(math.log2(target))
            return int(min(n_train, max(32, min(1024, size))))
        return int(min(self.batch_size, n_train))

    def _record_training(self, monitor):
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
            self.n_epochs_ < self.max_epochs
            and not monitor.stopped_early_
            and not monitor.gave_up_
        )
        monitor.report(self.max_epochs, interrupted)
        # The weight copies are only needed during training; do not pickle them.
        monitor.best_state_ = monitor.last_good_state_ = None
        if (
            not interrupted
            and not monitor.stopped_early_
            and self.n_epochs_ == self.max_epochs
            and _still_improving(
                self.validation_scores_ or self.loss_curve_, self.max_epochs
            )
        ):
            warnings.warn(
                f"NNRegressor reached max_epochs={self.max_epochs} while the loss "
                "was still improving (by more than 10% over the last 10% of "
                "epochs). Increase max_epochs for a better fit.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _warn_outside_box(self, X):
        span = self.x_max_ - self.x_min_
        slack = 1e-9 * np.where(span > 0, span, 1.0)
        outside = ((X < self.x_min_ - slack) | (X > self.x_max_ + slack)).any(axis=1)
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
