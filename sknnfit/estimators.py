"""NNRegressor: the scikit-learn face over a skorch-trained PyTorch network.

``fit`` reads validate -> plan -> train: :mod:`sknnfit._validation` checks the
inputs, :func:`sknnfit._auto.make_plan` resolves every "auto" once, and
:func:`sknnfit.training.train_net` trains each network of the plan.
"""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions, TorchDevice
from ._options import ACTIVATIONS, LOSSES, LR_SCHEDULES, OPTIMIZERS, PRECISIONS
from ._rows import fit_rng, split_rows
from ._validation import (
    check_hidden_layer_sizes,
    closest_hint,
    to_float32,
    validate_x,
    validate_xy,
)
from .bases import BASES, make_base
from .features import INPUT_TRANSFORMS, make_input_transformer


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
        x the outputs it predicts). The choice is ``hidden_layer_sizes_``.
    activation : {"relu", "leaky_relu", "tanh", "gelu", "silu", "sin"}, \
            default="silu"
        Hidden-layer activation. Smooth activations fit smooth functions with
        fewer kinks and extrapolate more gently than ReLU.
    linear_skip : bool, default=False
        Add a learned linear path from inputs to outputs inside the network.
    base : {"auto", "linear", "poly2", "poly3", "none"}, default="auto"
        Closed-form ridge model fitted first (float64); the network learns what
        it leaves. A linear base makes identity maps and linear trends exact; a
        polynomial base keeps polynomial behaviour outside the training data.
        ``"auto"`` takes ``"poly2"`` when there are at least 20 rows
        per quadratic coefficient, else ``"linear"`` with 20 rows per linear
        coefficient, else ``"none"``; the choice is ``base_kind_``.
    optimizer : {"auto", "adam", "adamw", "sgd", "lbfgs", "signagree"}, \
            default="auto"
        ``"auto"``: full-batch L-BFGS when training rows x network parameters
        is at most 1.5e8 (small data, where it fits far more precisely), AdamW
        otherwise. Adam and AdamW use PyTorch's fused kernels where available;
        ``"signagree"`` is :class:`~sknnfit.training.optim.SignAgree`.
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
        schedule needs steps to settle), and at most 2.0e12 / (training rows x
        network parameters) passes, 1.5 times that in bfloat16. The choice is
        ``max_epochs_``.
    batch_size : "auto" or int, default="auto"
        Rows per optimiser step. ``"auto"``: the whole training set for L-BFGS,
        else about 1/64 of the rows, rounded to a power of two in [32, 1024].
    lr_schedule : {"auto", "none", "onecycle", "cosine", "plateau"}, \
            default="auto"
        ``"auto"``: one-cycle for first-order optimizers, cosine with
        ``batch_growth``, none for L-BFGS (``lr_schedule_``).
    batch_growth : bool, default=False
        Double the batch size (up to 8192 rows) each time the training loss
        stalls for 5 epochs.
    loss : {"auto", "mse", "mae", "huber", "relative", "peak"}, default="auto"
        Training loss. ``"relative"`` is the mean relative error |y_pred - y| /
        |y| in the user's units; ``"peak"`` weights rows by how far their
        target lies from its median, up to 10x, so rare peaks are not averaged
        away. See :func:`sknnfit.training.loss_weights`.
        ``"auto"`` is ``"mse"`` (``loss_``); inside a
        :class:`~sknnfit.TargetTransformRegressor` whose target is ``"log"``,
        ``"log1p"`` or ``"asinh"``, the wrapper sets ``"peak"`` instead, to give
        back to the tails some of the weight the compression took from them.
    multi_output : {"shared", "separate"}, default="shared"
        One network for all outputs, or one per output (for outputs that
        interfere).
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
        ``GridSearchCV(n_jobs=k)``, get their share of the cores). Set 1 when
        other busy processes share the cores: PyTorch's threads wait for each
        other, and then run slower than one.
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Arithmetic of training. ``"bfloat16"`` is mixed precision: the network's
        matrix products run in bfloat16 under :func:`torch.autocast`, while the
        weights, the optimizer and the loss stay in float32, and predictions are
        computed at full precision. On GPUs from Ampere on and on CPUs with
        AVX512-BF16 or AMX an epoch is faster, so ``max_epochs="auto"`` allows
        1.5 times the work; elsewhere bfloat16 is emulated and ``fit`` warns.
        It costs accuracy where small relative errors matter. ``"auto"``:
        bfloat16 for the large data that gets the wide network of
        ``hidden_layer_sizes="auto"``, if the device computes it natively;
        float32 otherwise. The choice is ``precision_``.
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
        It maps transformed inputs to the scaled residual of the base, not to
        ``y``: use ``predict`` for predictions.
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
    interrupted_ : bool
        Whether Ctrl-C cut the fit short; the model keeps what was trained. A
        second Ctrl-C within 3 s raises ``KeyboardInterrupt`` out of ``fit``.
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
        "device": [str, TorchDevice],
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
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator "
                    f"{type(self).__name__}.{closest_hint(name, valid)} Valid "
                    f"parameters are: {sorted(valid)!r}."
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
        check_hidden_layer_sizes(self.hidden_layer_sizes)
        X, y = validate_xy(self, X, y)
        y2 = y.reshape(len(y), -1)
        self._y_ndim, self.n_outputs_ = y.ndim, y2.shape[1]
        Xt64 = self._fit_input_transform(X)
        self.y_mean_, self.y_scale_ = _target_statistics(y2)
        rng = fit_rng(self.random_state)
        train_rows, valid_rows = split_rows(
            len(X), rng, self.early_stopping, self.validation_fraction
        )
        n_train = len(X) if valid_rows is None else len(train_rows)
        from ._auto import make_plan

        plan = make_plan(
            self.get_params(deep=False),
            n_samples=len(X),
            n_train=n_train,
            n_features=self.n_features_in_,
            n_inputs=Xt64.shape[1],
            n_outputs=self.n_outputs_,
            constant_target=not self.y_scale_.any(),
        )
        for name, value in plan.attributes().items():
            setattr(self, name, value)
        data = self._training_data(Xt64, y2, train_rows, valid_rows)
        self._record(self._train(plan, data, rng))
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
        import torch

        from . import _inference
        from ._device import torch_threads

        check_is_fitted(self, "net_")
        X = validate_x(self, X)
        _inference.warn_outside_box(self._outside_rows(X), stacklevel=2)
        Xt64 = self.input_transformer_.transform(X)
        to_float32(Xt64, "X")  # raises if the network could not take it
        with torch_threads(self.n_threads), torch.inference_mode():
            out = _inference.ensemble_outputs(
                self.nets_, Xt64, self.n_outputs_, self.device_
            )
        y = self._to_user_units(out, Xt64)
        _inference.warn_non_finite(y, stacklevel=2)
        return y.ravel() if self._y_ndim == 1 else y

    # ------------------------------------------------------------------ helpers

    def _fit_input_transform(self, X):
        """Fit ``input_transformer_`` and the training box; the transformed X."""
        self.x_min_, self.x_max_ = X.min(axis=0), X.max(axis=0)
        self.input_transformer_, self.log_columns_ = make_input_transformer(
            self.input_transform, X
        )
        # Columns near float64's limit overflow the scaler's variance; the
        # float32 check then says so, instead of NumPy's RuntimeWarnings.
        with np.errstate(over="ignore", invalid="ignore"):
            Xt64 = self.input_transformer_.fit_transform(X)
        to_float32(Xt64, "X")  # raises if the network could not take it
        return Xt64

    def _training_data(self, Xt64, y2, train_rows, valid_rows):
        """Fit the base on the training rows; the network's float32 data.

        The network learns the base's residual on the standardised target,
        scaled to unit size: :meth:`_to_user_units` is the way back. The base
        sees the training rows only, so the validation loss is honest, and the
        input columns as given (standardised), not the appended logs.
        """
        yt = (y2 - self.y_mean_) / np.where(self.y_scale_ > 0, self.y_scale_, 1.0)
        self.base_ = make_base(self.base_kind_)
        self.residual_scale_ = np.ones(yt.shape[1])
        if self.base_ is not None:
            base_in = Xt64[:, : self.n_features_in_]
            self.base_.fit(base_in[train_rows], yt[train_rows])
            yt = yt - self.base_.predict(base_in).reshape(yt.shape)
            # Unit variance for the network, but not blown up by more than 1e6:
            # an exactly linear target leaves only rounding noise.
            self.residual_scale_ = np.maximum(yt[train_rows].std(axis=0), 1e-6)
            yt = yt / self.residual_scale_
        # A constant output has y_scale_ = 0 (predicted exactly); its weights
        # only need to stay finite.
        from .training import TrainData, loss_weights

        unit_scale = np.where(self.y_scale_ > 0, self.y_scale_, 1.0)
        weight = loss_weights(self.loss_, y2, unit_scale * self.residual_scale_)
        Xt, yt = to_float32(Xt64, "X"), yt.astype(np.float32)
        rows = {"X": Xt[train_rows], "y": yt[train_rows]}
        if weight is not None:
            rows["weight"] = weight[train_rows]
        if valid_rows is not None:
            rows.update(X_valid=Xt[valid_rows], y_valid=yt[valid_rows])
            if weight is not None:
                rows["weight_valid"] = weight[valid_rows]
        return TrainData(**rows)

    def _train(self, plan, data, rng):
        """Train the plan's networks into ``nets_``; their training records."""
        from ._device import torch_threads
        from .training import train_net
        from .training.stopping import note_interrupt

        self.nets_, records = [], []
        with torch_threads(self.n_threads):
            for group in plan.groups:
                seed = int(rng.randint(np.iinfo(np.int32).max))
                net, record = train_net(plan, data, group, seed)
                self.nets_.append((list(group), net))
                records.append(record)
                if record.interrupted:
                    note_interrupt()  # raises on a second Ctrl-C in a row
                    break  # Ctrl-C: keep what is trained, skip the other nets
        self.net_ = self.nets_[0][1]
        self.interrupted_ = records[-1].interrupted
        return records

    def _to_user_units(self, out, Xt64):
        """Network outputs (scaled residuals) back to ``y``'s units, 2-D."""
        out = out * self.residual_scale_
        if self.base_ is not None:
            base_in = Xt64[:, : self.n_features_in_]
            out += self.base_.predict(base_in).reshape(out.shape)
        return out * self.y_scale_ + self.y_mean_

    def _record(self, records):
        """Training records from the first net; warnings from every net."""
        from .training.record import report

        for other in records[1:]:
            report(other, check_convergence=False, stacklevel=3)
        first = records[0]
        self.loss_curve_ = first.loss_curve
        self.validation_scores_ = first.validation_scores
        self.n_epochs_ = first.n_epochs
        self.best_epoch_ = first.best_epoch if first.kept_best else first.n_epochs
        report(first, stacklevel=3)

    def _outside_rows(self, X):
        """Boolean mask of the rows of ``X`` outside the training box."""
        from ._inference import outside_box

        return outside_box(X, self.x_min_, self.x_max_, log_columns=self.log_columns_)

    def __setstate__(self, state):
        super().__setstate__(state)
        device = getattr(self, "device_", None)
        if device is not None:
            from ._device import place_net

            # Fitted on a GPU, loaded where there is none: predict on the CPU.
            for _, net in getattr(self, "nets_", [(None, self.net_)]):
                self.device_ = place_net(net, device)


def _target_statistics(y2):
    """``(mean, scale)`` per output; scale 0 for a constant output.

    A constant output keeps ``y_scale_ = 0``, so predict returns it exactly
    whatever the network outputs; training sees zeros for it.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mean = y2.mean(axis=0)
        scale = y2.std(axis=0)
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise ValueError(
            "y is too large to standardise in float64 (max |y| = "
            f"{np.abs(y2).max():.3g}). Divide y by a constant first, or wrap the "
            "model in TargetTransformRegressor(target='log' or 'asinh')."
        )
    return mean, np.where(np.ptp(y2, axis=0) > 0, scale, 0.0)
