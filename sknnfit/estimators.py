"""NNRegressor: the scikit-learn face over a skorch-trained PyTorch network.

``fit`` reads validate -> plan -> train: :mod:`sknnfit._validation` checks the
inputs, :func:`sknnfit._auto.make_plan` resolves every "auto" once, and
:func:`sknnfit.training.train_net` trains each network of the plan.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import time
import warnings
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions, TorchDevice, _check_sample_weight
from ._options import ACTIVATIONS, LOSSES, LR_SCHEDULES, OPTIMIZERS, PRECISIONS
from ._rows import Rows, fit_rng, holdout_size, split_rows
from ._validation import (
    check_finite,
    check_hidden_layer_sizes,
    closest_hint,
    to_float32,
    validate_x,
    validate_xy,
)
from .bases import (
    BASES,
    DEGREE_TOLERANCE,
    LAURENT_ROWS,
    MIN_ROWS_PER_COEF,
    LaurentPolynomial,
    PowerLaw,
    best_candidate,
    blend_bases,
    exact_polynomial,
    fit_weighted,
    held_out_mse,
    make_base,
    n_monomials,
    polynomial_candidates,
    resolve_base,
    would_overrun,
)
from .exceptions import (
    ExtrapolationWarning,
    NetworkNotUsedWarning,
    TargetOutlierWarning,
)
from .features import INPUT_TRANSFORMS, make_input_transformer

#: base="auto" gives the network a base of at most this degree (chosen on
#: held-out rows); higher degrees only compete with it in the guard: the
#: residual they leave is oscillatory, and harder for the network to fit.
NETWORK_BASE_DEGREE = 2


#: n_stages="auto" keeps a stage that divides the held-out RMSE by at least
#: this ...
STAGE_GAIN = 1.1

#: ... where the held-out rows show the gain clearly: the paired t statistic of
#: their squared errors before and after the stage, or the sign test's z of
#: the share of rows whose error falls, is at least this. A stage fitted to
#: noise changes them by chance (both about normal around 0 or below), while
#: on noise-free data even a 1.8x gain was thrown away by a bar of 2x
#: (II.2.42: held-out RMSE 0.0013 to 0.0007, test nRMSE 8.1e-4 to 2.5e-4) ...
STAGE_T = 3.0

#: ... up to this many stages (the first included) ...
MAX_AUTO_STAGES = 3

#: ... and none is tried on a residual whose nearest-neighbour differences
#: call this share of it noise (noise gives about 1; a stage that divides the
#: held-out RMSE by STAGE_GAIN needs 1 - 1/1.1**2, 17%, of it learnable, and
#: the estimate is rough): the trial would cost a network's training for
#: nothing.
STAGE_NOISE_SHARE = 0.9

#: ... and while the epochs the earlier stages left of max_epochs are at least
#: this many times the patience: room for a stage to stop on its own.
MIN_STAGE_PATIENCES = 2

#: n_ensemble="auto": at most this many members ...
MAX_AUTO_MEMBERS = 5

#: ... and another only while the members' variance over seeds, the part of
#: the held-out mean square error that averaging m members divides by m, is
#: above this share of the rest (what infinitely many would leave): members
#: are added until the RMSE is within about 1% of that limit.
MEMBER_SHARE = 0.02

#: n_stages="auto" tries a stage with sine networks (SIREN's initialisation)
#: first, and with the first network's activation when that does not clearly
#: help. What a network leaves on noise-free data oscillates, with many sign
#: changes, and a fresh SiLU network can start orthogonal to it and stay at its
#: initial loss. On the residual of clean sin(x)'s first network (seed 0, three
#: initialisations, 60 L-BFGS epochs) the relative MSE reached 1e-6 to 2e-6
#: with sines, 4e-6 to 4e-5 with tanh, and 1.4e-3 or no progress at all (twice
#: in three) with SiLU. On seven fits of the suite's formulas, sine stages gave
#: 1.2-3.7x lower nRMSE than SiLU ones on five; on the other two the sine stage
#: was not kept, and the SiLU stage is the one that is.
STAGE_ACTIVATION = "sin"

#: ... and then, where the residual on the training rows oscillates at a
#: wavenumber k of at least this (the RMS wavenumber of a first layer at its
#: usual initialisation is 1 per unit of the standardised inputs), with sine
#: networks whose first layer starts sqrt(k) times wider, midway on a log
#: scale between the usual band and k (the multi-stage networks' kappa). A
#: residual that oscillates faster than the usual band can hold is otherwise
#: not learnt at all: on clean sin(x) in float64 (seed 0) a third sine stage
#: at the usual band stayed at its initial loss, while one 4x, 10x, 50x and
#: 131x wider took the held-out RMSE from 6.2e-7 to 3e-9, 1.3e-9, 2.5e-8 and
#: 2.0e-7: k, an RMS, is led by the residual's fastest parts, and a first
#: layer at k leaves its slower ones (sqrt(k) = 11.5 gave 9.3e-10).
WIDER_BAND = 2.0

#: The reasons a network stopped on its held-out loss: stopped improving
#: (``patience``) or improving too slowly to be worth its epochs left (see
#: NNRegressor._stall). Stages follow only such networks.
HELD_OUT_STOPS = ("early_stopping", "stalled")

#: A polynomial whose held-out RMSE is at most this (in standard deviations of
#: y) is exact for a float32 network, whose rounding is about 1e-7 relative:
#: no network is trained on top of it.
EXACT_RMSE = 1e-6

#: base="auto" tries Laurent polynomials (:class:`~sknnfit.bases.LaurentPolynomial`)
#: of total degree up to this ...
MAX_LAURENT_DEGREE = 5

#: ... of at most this many products, with at least
#: :data:`~sknnfit.bases.MIN_ROWS_PER_COEF` training rows per product (of the
#: at most :data:`~sknnfit.bases.LAURENT_ROWS` it solves on), as the
#: polynomials: its least squares costs rows x products**2, about 2 s for
#: 20,000 rows of 1,173 products (5 inputs, degree 5) on two cores.
MAX_LAURENT_PRODUCTS = 1200


#: A closed-form model that predicts alone, without a network, must have a
#: held-out RMSE below the network's (or the blend's) divided by this: the
#: Laurent polynomial's many products must earn their extrapolation risk.
ALONE_MARGIN = {"power": 1.0, "laurent": DEGREE_TOLERANCE}


class NNRegressor(RegressorMixin, BaseEstimator):
    """Neural-network regressor trained by skorch, with function-fitting defaults.

    ``fit`` standardises the inputs (adding the log of decade-spanning columns)
    and each target, holds rows out (``early_stopping``), fits a closed-form
    ridge base, builds a PyTorch
    :class:`~sknnfit.modules.MLP` for what the base leaves, and trains it with a
    skorch :class:`~skorch.NeuralNetRegressor` fed by batches sliced from tensors
    that already live on the training device. Predictions come back as float64
    NumPy arrays in the shape of the ``y`` given to ``fit``.

    What the held-out rows decide, by default (each can be turned off):

    - the base's polynomial degree and ridge penalty (``base="auto"``);
    - when training stops: ``patience`` epochs without progress on them, and
      the weights of the best epoch are kept (``early_stopping``);
    - how much the network is trusted: the prediction is a blend of the
      network and the best of the mean, the base and the polynomials tried,
      weighted by least squares on the held-out rows; when the network adds
      nothing, the closed-form model predicts alone, with a
      :class:`~sknnfit.exceptions.NetworkNotUsedWarning` (``guard``).

    Parameters
    ----------
    hidden_layer_sizes : "auto" or tuple of int, default="auto"
        Width of each hidden layer. ``"auto"``: three layers of 192 when a
        network learns at least 1,000,000 target values (training rows x the
        outputs it predicts), of 256 when those are also at least 15 per
        parameter of that network and it trains at least 5,000 optimizer
        steps (``max_epochs`` x batches per epoch); below that, with
        ``optimizer="auto"``, three layers of the widest of 128, 64 and 32
        that full-batch L-BFGS trains within 2e7 training rows x network
        parameters (on smooth data it reaches a lower error per second than
        minibatches on a wider network), else three layers of 128. The
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
        polynomial base keeps polynomial behaviour outside the training data.
        ``"auto"`` with held-out rows: the mean (``"none"``), the linear or
        the quadratic model, whichever has the lowest held-out error (the
        lowest degree within 10% of the best), its ridge penalty chosen by
        leave-one-out; without them: ``"poly2"`` when there are at least 20
        rows per quadratic coefficient, else ``"linear"`` with 20 rows per
        linear coefficient, else ``"none"``. The choice is ``base_kind_``; the
        guard may replace it by a polynomial of higher degree, or by a power
        law (``"power"``, :class:`~sknnfit.bases.PowerLaw`): with held-out rows
        and positive inputs, ``"auto"`` also fits
        ``y = c * x1**b1 * x2**b2 * ...``, and sums of products of the inputs'
        powers from -2 to 2 (``"laurent"``,
        :class:`~sknnfit.bases.LaurentPolynomial`, the degree chosen on the
        held-out rows); when one fits the held-out rows to 1e-6 standard
        deviations no network is trained, and when it predicts them better than
        the network and every polynomial (the Laurent polynomial by a factor of
        1.1) it predicts alone.
    optimizer : {"auto", "adam", "adamw", "muon", "sgd", "lbfgs", "signagree"}, \
            default="auto"
        ``"auto"``: full-batch L-BFGS when training rows x network parameters
        is at most 2e7 (small data, where it fits far more precisely), Muon
        otherwise. ``"muon"`` is :class:`~sknnfit.training.optim.MuonAdamW`:
        Muon's orthogonalised momentum on the hidden layers' weight matrices
        (its Newton-Schulz steps in bfloat16 where the network trains in
        bfloat16, for matrices of 128 or more on their smaller side), AdamW on
        the output layer and the biases. Adam and AdamW use
        PyTorch's fused kernels where available; ``"signagree"`` is
        :class:`~sknnfit.training.optim.SignAgree`. The choice is
        ``optimizer_``.
    lr : "auto" or float, default="auto"
        Learning rate (the peak of the schedule). ``"auto"``: 5e-3
        for Adam/AdamW/Muon, 1e-2 for SGD, 1.0 for L-BFGS, 1e-3 for SignAgree
        (``lr_``).
    weight_decay : float, default=0.0
        Weight decay (decoupled for AdamW and Muon). L-BFGS has no such option: it
        minimises the loss plus ``0.5 * weight_decay * sum(w**2)`` over all
        network parameters, the penalty whose gradient Adam and SGD add.
    max_epochs : "auto" or int, default="auto"
        Passes over the training data (L-BFGS: steps of up to 20 evaluations).
        ``"auto"``: 200 for L-BFGS, and at most 2.5e9 / (training rows x
        network parameters); for first-order optimizers enough passes
        for about 45,000 optimizer steps, between 200 and 400 (an annealed
        schedule needs steps to settle), and at most the passes a time budget
        allows: 3 ms per training row, between 40 s and 3.5 minutes, of a cost
        model of one x86-64 core (1.9 ms per step plus 1.65e-10 s per batch row
        x network parameter; in bfloat16 the per-row part 3.5 times as fast and
        0.5 ms more per step; Muon adds 0.4 ms plus 6.5e-10 s x
        ``min(a, b)**2 * max(a, b)`` for each hidden weight matrix of ``a`` x
        ``b``, the second 2.5 times as fast where it runs in bfloat16). The
        choice is ``max_epochs_``.
    batch_size : "auto" or int, default="auto"
        Rows per optimiser step. ``"auto"``: the whole training set for L-BFGS,
        else about 1/64 of the rows, rounded to a power of two in [32, 1024].
    lr_schedule : {"auto", "none", "linear", "onecycle", "wsd", "cosine", \
            "plateau"}, default="auto"
        ``"linear"`` warms up from ``lr / 25`` to ``lr`` over the first 5% of
        the optimizer steps of ``max_epochs`` and then decays linearly to
        about zero at the last; ``"onecycle"`` warms up over 30% and decays
        along a cosine (both PyTorch's ``OneCycleLR``, stepped every batch).
        ``"wsd"`` (warmup-stable-decay) warms up over 5% of ``max_epochs``,
        holds ``lr`` until the monitored loss has not improved for ``patience``
        epochs, then decays linearly over a quarter of the epochs run and stops
        (:class:`~sknnfit.training.schedule.WarmupStableDecay`); a decay that
        lowers the held-out loss by more than 10% (the plateau was the rate's,
        not the data's) goes on at a tenth of the rate. Without a plateau it decays
        over the last 20% of ``max_epochs``; it needs held-out rows (or
        monitors the training loss). ``"auto"``: linear for first-order
        optimizers, cosine with ``batch_growth``, none for L-BFGS
        (``lr_schedule_``).
    batch_growth : bool, default=False
        Double the batch size (up to 8192 rows) each time the training loss
        stalls for 5 epochs.
    loss : {"auto", "mse", "mae", "huber", "relative", "peak", "quantile"}, \
            default="auto"
        Training loss. ``"relative"`` is the mean relative error |y_pred - y| /
        |y| in the user's units; ``"peak"`` weights rows by how far their
        target lies from its median, up to 10x, so rare peaks are not averaged
        away. See :func:`sknnfit.training.loss_weights`.
        ``"auto"`` is ``"mse"`` (``loss_``); inside a
        :class:`~sknnfit.TargetTransformRegressor` whose target is ``"log"``,
        ``"log1p"`` or ``"asinh"``, the wrapper sets ``"peak"`` instead, to give
        back to the tails some of the weight the compression took from them.
        ``"quantile"`` is the pinball loss of level ``quantile``: predictions
        estimate that quantile of y given X, as ``QuantileRegressor`` and
        ``HistGradientBoostingRegressor(loss="quantile")`` do; the guard, which
        compares mean-type errors, is then off.
    quantile : float, default=0.5
        Level in (0, 1) of ``loss="quantile"`` (0.9: 90% of targets lie below
        the prediction); ignored by the other losses.
    multi_output : {"shared", "separate"}, default="shared"
        One network for all outputs, or one per output (for outputs that
        interfere).
    n_ensemble : "auto" or int, default="auto"
        Train this many networks from different seeds and average them.
        ``"auto"``: one, and then more, up to 5, where they help: only with
        held-out rows, after a first network that stopped on its held-out loss
        and when no later stage was kept (the residual is noise, which
        averaging reduces; stages reduce bias), unless the guard would replace
        the first network by a closed-form model. Each member trains from a new
        seed on the same rows, at most the epochs the earlier networks left of
        ``max_epochs`` (as the stages do; none starts with fewer left than the
        first network ran), and is kept unless it predicts the held-out rows
        worse than their mean. After the second, another is trained only
        while the members' disagreement on the held-out rows says more would
        help: with ``m`` members the held-out mean square error is ``B + v /
        m`` (``v`` their variance over seeds), and members are added while
        ``v / m`` is above 2% of ``B``, what infinitely many would leave. The
        number kept is ``n_ensemble_``.
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the rows (or use ``X_val`` and
        ``y_val`` given to ``fit``), stop when their loss has not improved for
        ``patience`` epochs, and keep the best epoch's weights. ``"auto"`` does
        so when at least 10 rows would be held out, and trains on all rows
        otherwise; ``False`` trains on all rows for ``max_epochs`` (no held-out
        rows, so no base selection and no guard). With nothing held out,
        L-BFGS stops sooner, after ``patience`` epochs in a row that each
        lowered its training loss by less than a relative 1e-6 (stop reason
        ``"flat"``). The choice is ``early_stopping_``.
    validation_fraction : "auto" or float, default="auto"
        Share of rows held out. ``"auto"``: 20%, at most 5,000 rows.
    guard : bool, default=True
        With held-out rows: weigh the network against the best closed-form
        model (of the mean, the base and the polynomials ``base="auto"``
        tried, the lowest held-out error) and predict with ``a * network +
        (1 - a) * closed-form``, ``a`` in [0, 1] fitted on the held-out rows
        by least squares and shrunk towards 0 unless they tell it clearly from
        0 (``network_weight_``); at ``a = 0`` the closed-form model predicts
        alone, with a warning (``use_network_``, ``validation_rmse_``).
        With too few rows to hold any out (``early_stopping="auto"``,
        ``base="auto"``): the same weighing on out-of-fold predictions of
        5-fold cross-validation, the network as this fit trains it against
        the mean and the simplest polynomial within one standard error of
        the lowest leave-one-out error; a network that does not beat the
        closed-form model out of fold on its own is not trained at all.
    max_time : float or None, default=None
        Seconds ``fit`` may take: each network stops at the end of the epoch
        that spends its share of what is left (the base and the checks are
        counted too: ``base="auto"`` starts no closed-form candidate beyond
        the linear model and the power law that it predicts to end after the
        limit, and once it is spent the guard's closed-form model is not
        refitted on the held-out rows). None: no limit.
    patience : "auto" or int, default="auto"
        Epochs without improvement before stopping (under ``"wsd"``: before
        its decay). ``"auto"``: 10 for L-BFGS (whose epochs are up to 20
        full-batch steps); under a linear, one-cycle or cosine schedule a
        quarter of ``max_epochs_`` (at least 20: while the rate is high the
        held-out loss wanders); 20 otherwise (``patience_``).
    tol : float, default=1e-4
        Relative improvement of the monitored loss that counts as progress.
    grad_clip : float or None, default=None
        Clip the gradient norm to this value.
    input_transform : {"auto", "standard", "log", "none"}, default="auto"
        ``"auto"`` standardises every column and gives the network, in addition,
        the log of each strictly positive column spanning more than a decade
        (max/min > 10, ``log_columns_``); see
        :func:`sknnfit.features.make_input_transformer`.
    embedding : {"auto", "periodic", "none"}, default="auto"
        ``"periodic"`` gives each column of ``X`` (standardised) two sines
        and two cosines of trained frequencies in front of the first hidden
        layer (:class:`sknnfit.modules.PeriodicFeatures`; the periodic
        embeddings of Gorishniy et al. 2022): steep and narrow features are
        then fitted in fewer steps. ``"auto"``: ``"periodic"`` on the large data
        that gets the wide network of ``hidden_layer_sizes="auto"``, ``"none"``
        below, where they also fit noise and cost precision on smooth
        formulas (README). The choice is ``periodic_inputs_``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    n_threads : int or None, default=None
        PyTorch CPU threads during fit and predict, restored afterwards. None
        leaves PyTorch's setting alone: one thread per physical core, or what
        ``OMP_NUM_THREADS`` says (joblib's workers, as in
        ``GridSearchCV(n_jobs=k)``, get their share of the cores). Set 1 when
        other busy processes share the cores: PyTorch's threads wait for each
        other, and then run slower than one.
    precision : {"auto", "float32", "bfloat16", "float64"}, default="auto"
        Arithmetic of training. ``"float64"`` trains weights, data and loss in
        double precision, for the last digits on noise-free data (slower:
        ``benchmarks/results/precision_goals.md`` has the cost per epoch).
        ``"bfloat16"`` is mixed precision: the network's
        matrix products run in bfloat16 under :func:`torch.autocast`, while the
        weights, the optimizer and the loss stay in float32, and predictions are
        computed at full precision. On GPUs from Ampere on and on CPUs with
        AVX512-BF16 or AMX an epoch is faster, so ``max_epochs="auto"`` allows
        more passes in the same time budget; elsewhere bfloat16 is emulated and
        ``fit`` warns.
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
        applied last. Copied at fit time, never modified. Its ``"callbacks"``
        are appended to sknnfit's own, as ``callbacks`` are.
    callbacks : list or None, default=None
        skorch callbacks (or ``(name, callback)`` pairs) run after sknnfit's own
        in every network's training, e.g. ``[skorch.callbacks.EpochTimer()]``
        or a checkpoint. Copied for each network.
    n_stages : "auto" or int, default="auto"
        Networks fitted one after the other, each to what the earlier ones
        leave (the residual on the training rows, scaled to unit size), and
        summed: the way to precision on noise-free data. ``"auto"``: up to 3,
        each kept only if it divides the held-out RMSE by 1.1 or more, by a
        margin the held-out rows show clearly (the paired t statistic of their
        squared errors at least 3), and none tried when the residual of
        neighbouring rows differs as noise does or after networks whose
        held-out loss was lowest after their first epoch (variance, not bias,
        limits them); 1 without held-out rows. The "auto"
        stages share the first's ``max_epochs``: each trains at most the
        epochs the earlier ones left, and none starts with fewer than two
        ``patience`` left. Stages are tried only after networks that stopped
        on the held-out loss: it stopped improving (``patience``), or, in
        float64 at a constant learning rate (L-BFGS), it improved too slowly
        for the epochs left to divide the held-out RMSE by 1.1 at the rate of
        the last ``patience`` epochs (stop ``"stalled"``; such a stop needs two
        ``patience`` left, and the epochs go to the stages; when no stage is
        kept, the network trains on for them). A stage is tried with sine
        networks (``activation="sin"``, SIREN's initialisation), whose features
        oscillate as a residual does, and, if that does not help, once more
        with the first one's activation. An int trains that many, each for
        ``max_epochs``, with the first one's activation. Each stage otherwise
        trains as the first does (``max_time`` covers them all); ``stages_``
        records them.
    warm_start : bool, default=False
        As in MLPRegressor: ``fit`` on a fitted model continues training its
        networks from their weights on the new data, with the fitted input
        transform, target scaling and base kept (``loss_curve_`` goes on);
        stages after the first are dropped. A model whose guard weighed the
        network against a closed-form model (``network_weight_`` below 1) is
        fitted from scratch instead, with a warning: its networks were scaled
        into a blend; ``guard=False`` keeps them whole. False fits from scratch.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The (first) trained skorch net; ``net_.module_`` is the PyTorch module.
        It is one part of the model, not the model: it maps the transformed
        inputs (``input_transformer_``) to the base's residual divided by
        ``residual_scale_``, in standardised target units (``y_mean_``,
        ``y_scale_``). ``predict`` puts the parts together, and
        :func:`sknnfit.export.export_onnx` writes them as one graph.
    nets_ : list of (list of int, skorch.NeuralNetRegressor)
        Every trained net with the outputs it predicts.
    optimizer_, lr_, lr_schedule_, loss_ : str, float, str, str
        What the "auto" settings resolved to.
    hidden_layer_sizes_ : tuple of int
        Hidden layer widths used (``hidden_layer_sizes`` resolved).
    precision_ : str
        Training arithmetic used (``precision`` resolved).
    periodic_inputs_ : int
        Columns of ``X`` the networks give periodic features (``embedding``
        resolved): ``n_features_in_`` or 0.
    base_kind_ : str
        The base model used; ``base_`` is the fitted ridge model, the
        :class:`~sknnfit.bases.PowerLaw` (``"power"``), the
        :class:`~sknnfit.bases.LaurentPolynomial` (``"laurent"``) or None.
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
    validation_loss_curve_ : list of float or None
        Held-out loss per epoch (in the training loss's units), or None
        without held-out rows. (Named ``validation_scores_`` before, which
        MLPRegressor uses for R² scores; that name still works, with a
        FutureWarning.)
    n_iter_ : int
        Epochs run, as ``MLPRegressor.n_iter_`` (also ``n_epochs_``).
    best_loss_ : float or None
        Lowest training loss of an epoch, as ``MLPRegressor.best_loss_``.
    best_validation_loss_ : float or None
        Lowest held-out loss of an epoch; None without held-out rows.
    use_network_ : bool
        Whether predictions use the network; False when ``guard`` found that
        it adds nothing on the held-out rows to a closed-form model.
    network_weight_ : ndarray of shape (n_outputs,)
        Per output, the weight ``a`` of the guard's blend ``a * (base +
        networks) + (1 - a) * best closed-form model``: 1 without held-out
        rows, without the guard, or when the network is clearly better; 0 when
        the closed-form model predicts alone. The blend is folded into
        ``base_`` (``base_kind_`` is its degree) and ``residual_scale_``.
    validation_rmse_ : dict of str to float or None
        Held-out RMSE, in standard deviations of y, of the mean (``"mean"``),
        the base (its kind), the best polynomial tried, the power law and the
        Laurent polynomial where they apply (``"power"``, ``"laurent"``), the
        network (``"network"``) and, when the
        guard weighed a blend of them, the blend (``"blend"``). Without
        held-out rows: the out-of-fold RMSE of the mean, the polynomial and
        the network where the guard cross-validated them, None otherwise.
    early_stopping_ : bool
        Whether rows were held out and training stopped on them.
    stages_ : list of dict
        One entry per stage kept: ``"validation_rmse"`` (held-out RMSE of the
        model up to it, in standard deviations of y; None without held-out
        rows), ``"seconds"`` (its training time; the first stage's counts the
        fit from its start), ``"epochs"`` (the most any of its networks ran),
        ``"activation"`` (its networks'), ``"first_scale"`` (stages after the
        first: the factor on their first layer's initial weights, 1 or the
        widened band of a fast residual) and ``"stop"`` (why the network that
        ran longest stopped: ``"max_epochs"``, ``"early_stopping"``,
        ``"stalled"``, ``"max_time"``, ...).
    stage_scales_, stage_nets_ : list
        For each stage after the first: the scale of its residual
        (standardised units, per output) and its nets, as ``nets_``.
    best_epoch_ : int
        Epoch (1-based) whose weights the model holds.
    n_ensemble_ : int
        Members of the ensemble: ``n_ensemble``, or the number ``"auto"``
        kept (the networks of the first stage, ``nets_``, are this many
        copies of the output groups, member after member).
    interrupted_ : bool
        Whether Ctrl-C cut the fit short; the model keeps what was trained. A
        second Ctrl-C within 3 s raises ``KeyboardInterrupt`` out of ``fit``.
    n_epochs_ : int
        Epochs actually run.
    x_min_, x_max_ : ndarray of shape (n_features_in_,)
        Box of the training inputs (rows of positive weight); ``predict`` warns
        when rows fall outside.

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
        "n_ensemble": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "loss": [StrOptions({"auto", *LOSSES})],
        "quantile": [Interval(numbers.Real, 0, 1, closed="neither")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [
            StrOptions({"auto"}),
            Interval(numbers.Real, 0, 1, closed="neither"),
        ],
        "guard": ["boolean"],
        "max_time": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "patience": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "grad_clip": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "input_transform": [StrOptions(set(INPUT_TRANSFORMS))],
        "embedding": [StrOptions({"auto", "periodic", "none"})],
        "device": [str, TorchDevice],
        "n_threads": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "precision": [StrOptions({"auto", *PRECISIONS})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "net_params": [None, dict],
        "callbacks": [None, list],
        "warm_start": ["boolean"],
        "n_stages": [
            StrOptions({"auto"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
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
        quantile=0.5,
        multi_output="shared",
        n_ensemble="auto",
        early_stopping="auto",
        validation_fraction="auto",
        guard=True,
        max_time=None,
        patience="auto",
        tol=1e-4,
        grad_clip=None,
        input_transform="auto",
        embedding="auto",
        device="auto",
        n_threads=None,
        precision="auto",
        random_state=None,
        verbose=0,
        net_params=None,
        callbacks=None,
        warm_start=False,
        n_stages="auto",
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
        self.quantile = quantile
        self.multi_output = multi_output
        self.n_ensemble = n_ensemble
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.guard = guard
        self.max_time = max_time
        self.patience = patience
        self.tol = tol
        self.grad_clip = grad_clip
        self.input_transform = input_transform
        self.embedding = embedding
        self.device = device
        self.n_threads = n_threads
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.net_params = net_params
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.n_stages = n_stages

    # ------------------------------------------------------------------ sklearn API

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        # Sparse X is densified in validate_xy / validate_x, as MLPRegressor does.
        tags.input_tags.sparse = True
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

    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric inputs (NumPy array or pandas DataFrame).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Non-negative weight of each row, in every statistic and loss of the
            fit (input and target scaling, base, network, held-out scores): an
            integer weight counts as that many copies of the row, and a row of
            weight 0 as no row. None: all 1.
        X_val, y_val : array-like or None, default=None
            A validation set of your choosing, used instead of held-out rows
            for every decision ``early_stopping`` makes; all of ``X`` and ``y``
            are then trained on. Both or neither.
        sample_weight_val : array-like of shape (n_val,) or None, default=None
            Weights of the validation rows.

        Returns
        -------
        self : NNRegressor
            The fitted estimator.
        """
        self._validate_params()
        validation = (X_val, y_val, sample_weight_val)
        if self.warm_start and hasattr(self, "nets_"):
            # Files from before network_weight_ say only use_network_.
            whole = getattr(self, "use_network_", True) and np.all(
                getattr(self, "network_weight_", 1.0) == 1.0
            )
            if whole:
                return self._continue(X, y, sample_weight, validation)
            warnings.warn(
                "warm_start: the guard weighed the network against a closed-form "
                "model (network_weight_ is not 1), so the networks no longer fit "
                "what they were trained on; fitting from scratch.",
                UserWarning,
                stacklevel=2,
            )
        return self._fit(X, y, sample_weight, validation, self.get_params(deep=False))

    def partial_fit(self, X, y, sample_weight=None):
        """One pass over ``X`` and ``y``, as ``MLPRegressor.partial_fit``.

        The first call fits the input transform, the target scaling and the
        base on its rows (no rows are held out; ``optimizer="auto"`` is AdamW
        and ``lr_schedule="auto"`` a constant rate, since the number of steps
        is unknown) and trains one epoch; each later call trains every network
        one more epoch on its rows, from where it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,) or None, default=None

        Returns
        -------
        self : NNRegressor
        """
        if hasattr(self, "nets_"):
            return self._continue(X, y, sample_weight, (None, None, None), epochs=1)
        self._validate_params()
        params = self.get_params(deep=False)
        params.update(max_epochs=1, early_stopping=False)
        if params["optimizer"] == "auto":
            params["optimizer"] = "adamw"
        if params["lr_schedule"] == "auto":
            params["lr_schedule"] = "none"
        return self._fit(X, y, sample_weight, (None, None, None), params)

    def _fit(self, X, y, sample_weight, validation, params):
        """Fit from scratch with the parameters ``params``."""
        start = time.monotonic()
        X_val, y_val, sample_weight_val = validation
        check_hidden_layer_sizes(params["hidden_layer_sizes"])
        X, y = validate_xy(self, X, y)
        w = _check_weights(sample_weight, X, "sample_weight")
        valid_given = _check_val_pair(X_val, y_val)
        y2 = y.reshape(len(y), -1)
        self._y_ndim, self.n_outputs_ = y.ndim, y2.shape[1]
        Xt64 = self._fit_input_transform(X, w)
        self.y_mean_, self.y_scale_ = _target_statistics(y2, w)
        _warn_outlying_targets(y2, w)
        rng = fit_rng(self.random_state)
        if valid_given:
            X_valid, y_valid = self._validation_set(X_val, y_val, y2.shape[1])
            w_valid = _check_weights(sample_weight_val, X_valid, "sample_weight_val")
            rows = Rows(Xt64, y2, w, X_valid, y_valid, w_valid)
        else:
            if sample_weight_val is not None:
                raise ValueError(
                    "sample_weight_val weighs the rows of X_val; pass X_val and "
                    "y_val with it, or leave it out."
                )
            n_valid = holdout_size(
                _n_weighted(w, len(X)),
                params["early_stopping"],
                params["validation_fraction"],
            )
            rows = Rows.split(Xt64, y2, w, split_rows(len(X), rng, n_valid, w))
        # early_stopping="auto" that found too few rows to hold out (not
        # partial_fit, whose one epoch holds none out by design).
        too_few = params["early_stopping"] == "auto" and rows.X_valid is None
        self._fit_base(rows, self._base_deadline(start), loo=too_few)
        self._cross_validated = None
        if too_few and self._guards_by_cross_validation():
            from ._crossval import cross_validate

            self._cross_validated = cross_validate(
                self,
                X,
                y,
                w,
                rows.X[:, : self.n_features_in_],
                seed=rng.randint(2**31),
                deadline=self._base_deadline(start),
            )
        from ._auto import make_plan

        plan = make_plan(
            params,
            n_samples=len(X),
            n_train=len(rows.X),
            n_features=self.n_features_in_,
            n_inputs=Xt64.shape[1],
            n_outputs=self.n_outputs_,
            base_kind=self.base_kind_,
            validation=rows.X_valid is not None,
            nothing_to_learn=not self.y_scale_.any()
            or self._exact_closed_form()
            or self._network_lost(),
        )
        for name, value in plan.attributes().items():
            setattr(self, name, value)
        data = self._training_data(rows)
        records = self._train(plan, data, rng, start)
        self._record(records)
        self.n_ensemble_ = 1 if self.n_ensemble == "auto" else self.n_ensemble
        if not self.interrupted_:
            epochs_left = self._add_stages(plan, data, rows, rng, start, records)
            self._add_members(plan, data, rows, rng, start, records, epochs_left)
        else:
            self.stage_scales_, self.stage_nets_, self.stages_ = [], [], []
        # With max_time spent, the closed-form model stays fitted on the
        # training rows: refitting it on every row would overrun the limit.
        self._guard(rows, refit=not valid_given and self._time_share(start, 1) != 0)
        return self

    def _continue(self, X, y, sample_weight, validation, epochs=None):
        """Train the fitted networks further on ``X`` and ``y`` (warm start).

        The input transform, target scaling, base and residual scale stay as
        fitted; rows are held out again when the fit held rows out.
        """
        from ._auto import fitted_plan
        from ._device import torch_threads
        from .training import continue_net

        start = time.monotonic()
        X_val, y_val, sample_weight_val = validation
        X = validate_x(self, X)
        y2 = _checked_targets(y, len(X), self.n_outputs_, "y")
        w = _check_weights(sample_weight, X, "sample_weight")
        Xt64 = self._network_inputs(X, "X")
        rng = fit_rng(self.random_state)
        if _check_val_pair(X_val, y_val):
            if not self.early_stopping_:
                raise ValueError(
                    "This model was fitted without held-out rows, so its "
                    "networks do not watch a validation loss: fit it from "
                    "scratch (warm_start=False) to use X_val and y_val."
                )
            X_valid, y_valid = self._validation_set(X_val, y_val, self.n_outputs_)
            w_valid = _check_weights(sample_weight_val, X_valid, "sample_weight_val")
            rows = Rows(Xt64, y2, w, X_valid, y_valid, w_valid)
        else:
            n_valid = 0
            if self.early_stopping_:
                n_valid = holdout_size(
                    _n_weighted(w, len(X)), True, self.validation_fraction
                )
            rows = Rows.split(Xt64, y2, w, split_rows(len(X), rng, n_valid, w))
        data = self._training_data(rows, keep_scale=True)
        plan = fitted_plan(self)
        # Later stages fitted what the first left before; they would not now.
        self.stage_scales_, self.stage_nets_ = [], []
        self.stages_ = getattr(self, "stages_", [])[:1]
        epochs = plan.max_epochs if epochs is None else epochs
        records = []
        with torch_threads(self.n_threads):
            for i, (group, net) in enumerate(self.nets_):
                seconds = self._time_share(start, len(self.nets_) - i)
                seed = int(rng.randint(np.iinfo(np.int32).max))
                records.append(
                    continue_net(net, plan, data, group, seed, epochs, seconds)
                )
        self._record(records, append=True)
        return self

    def predict(self, X, return_std=False):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs with the columns seen in ``fit``.
        return_std : bool, default=False
            Also return the spread of the ensemble's members (``n_ensemble`` of
            2 or more), as GaussianProcessRegressor and BayesianRidge do: for
            each row, the standard deviation over the members of their own
            prediction (with every stage), in y's units. It measures how much
            networks trained from other seeds disagree, which grows where the
            data is thin or absent; it is not a noise level.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Float64 predictions, 1-D when ``fit`` got a 1-D ``y``.
        y_std : ndarray of the shape of ``y_pred``
            Only with ``return_std=True``.
        """
        from . import _inference

        check_is_fitted(self, "net_")
        X = validate_x(self, X)
        self._warn_floored_logs(X)
        # Chunk by chunk into one float64 result, from the fitted arrays: the
        # extra memory does not grow with the rows.
        y = _inference.predict(self, X, stacklevel=2)
        if not return_std:
            return y.ravel() if self._y_ndim == 1 else y
        std = self._member_std(_inference.transform_inputs(self, X))
        return (y.ravel(), std.ravel()) if self._y_ndim == 1 else (y, std)

    def _warn_floored_logs(self, X, what="X"):
        """Warn where a value <= 0 meets a column whose log the network takes.

        ``input_transform="auto"`` gives the network the log of columns that
        were strictly positive in training, next to the columns themselves. A
        count column seen from 1 upwards may hold 0 at predict time, where the
        log is undefined: that log is taken at the column's training minimum
        (:func:`sknnfit._inference.input_arrays`), with an
        :class:`~sknnfit.exceptions.ExtrapolationWarning`. The column itself,
        and the closed-form base, keep the value. (``input_transform="log"``
        replaces the columns by their logs and raises instead.) ``what``
        names the rows in the warning.
        """
        cols = list(getattr(self, "log_columns_", []))
        if self.input_transform != "auto" or not cols or not len(X):
            return
        bad = X[:, cols] <= 0
        if not bad.any():
            return
        names = [cols[j] for j in np.flatnonzero(bad.any(axis=0))]
        warnings.warn(
            f"Column(s) {names} were strictly positive in training (their log is "
            f"an input of the network) but {int(bad.any(axis=1).sum())} row(s) "
            f"of {what} hold values <= 0: their log was taken at the column's training "
            "minimum; the column itself keeps its value. Refit with "
            "input_transform='standard' to give the network the values alone.",
            ExtrapolationWarning,
            stacklevel=3,
        )

    def _member_std(self, Xt64):
        """Standard deviation over the ensemble's members, y's units, 2-D."""
        n_members = getattr(self, "n_ensemble_", self.n_ensemble)
        if n_members < 2:
            kept = (
                " (n_ensemble='auto' trained one: see its rules)"
                if self.n_ensemble == "auto"
                else ""
            )
            raise ValueError(
                "predict(return_std=True) reads the spread of an ensemble, and "
                f"this model has one network{kept}: fit with n_ensemble=5 (or "
                "2 or more) to get one."
            )
        if not getattr(self, "use_network_", True):
            raise ValueError(
                "predict(return_std=True): the guard replaced the networks by "
                f"a closed-form model ({self.base_kind_}), which has no spread; "
                "fit with guard=False to predict with the ensemble."
            )
        if len(self.nets_) % n_members:
            raise ValueError(
                "predict(return_std=True): the fit was interrupted before every "
                "member of the ensemble was trained; fit again."
            )
        members = np.zeros((n_members, len(Xt64), self.n_outputs_))
        for scale, nets in self._stages():
            # plan.groups repeats the output groups once per member, in order.
            per_member = len(nets) // n_members
            for m in range(n_members):
                part = nets[m * per_member : (m + 1) * per_member]
                members[m] += scale * self._stage_output(part, Xt64)
        return members.std(axis=0) * self.y_scale_

    # ------------------------------------------------------------------ helpers

    def _fit_input_transform(self, X, w):
        """Fit ``input_transformer_`` and the training box; the transformed X.

        Rows of weight 0 count as absent: they choose no log column, do not
        move the scaler and are outside the training box; a value <= 0 of
        theirs in a column whose log is appended takes the log of the column's
        minimum, as at predict time.
        """
        kept, w_kept = (X, None) if w is None else (X[w > 0], w[w > 0])
        self.x_min_, self.x_max_ = kept.min(axis=0), kept.max(axis=0)
        self.input_transformer_, self.log_columns_ = make_input_transformer(
            self.input_transform, kept
        )
        # Columns near float64's limit overflow the scaler's variance; the
        # float32 check then says so, instead of NumPy's RuntimeWarnings.
        with np.errstate(over="ignore", invalid="ignore"):
            fit_weighted(self.input_transformer_, kept, sample_weight=w_kept)
            Xt64 = self._network_inputs(X)  # rows of weight 0: no warning
        to_float32(Xt64, "X")  # raises if the network could not take it
        return Xt64

    def _network_inputs(self, X, what=None):
        """The fitted input transform of ``X``, as ``predict`` takes it.

        Appended logs of values <= 0 are floored at the column's training
        minimum; :meth:`_warn_floored_logs` names the rows ``what`` (None: no
        warning).
        """
        from . import _inference

        if what is not None:
            self._warn_floored_logs(X, what)
        return _inference.transform_inputs(self, X)

    def _validation_set(self, X_val, y_val, n_outputs):
        """The user's validation set, transformed: ``(X_valid, y_valid)``."""
        X_val = validate_x(self, X_val)
        y_val = np.asarray(y_val, dtype=np.float64)
        y_val = y_val.reshape(len(y_val), -1)
        if len(y_val) != len(X_val) or y_val.shape[1] != n_outputs:
            raise ValueError(
                f"X_val has {len(X_val)} rows and y_val has shape {y_val.shape}; "
                f"pass {len(X_val)} rows of {n_outputs} target(s), as y in fit."
            )
        check_finite(y_val, "y_val")
        return self._network_inputs(X_val, "X_val"), y_val

    def _standardise(self, y2):
        return (y2 - self.y_mean_) / np.where(self.y_scale_ > 0, self.y_scale_, 1.0)

    def _base_deadline(self, start):
        """After when no closed-form candidate starts: ``max_time`` after
        ``start`` (the networks then train one epoch each); None without it."""
        if self.max_time is None:
            return None
        return start + self.max_time

    def _fit_base(self, rows, deadline=None, loo=False):
        """Fit ``base_`` on the training rows; ``base="auto"`` picks it on held-out.

        With held-out rows, ``base="auto"`` tries the mean, the linear model and
        polynomials (:func:`sknnfit.bases.select_base`); without them it
        follows :func:`sknnfit.bases.resolve_base`. The base sees the input
        columns as given (standardised), not the appended logs. With ``loo``
        (``early_stopping="auto"`` found too few rows to hold out),
        ``base="auto"`` with the ``guard`` first looks for a polynomial that is
        exact by leave-one-out (:func:`sknnfit.bases.exact_polynomial`); then
        no network is trained. No candidate is started that
        :func:`~sknnfit.bases.would_overrun` ``deadline`` (a
        :func:`time.monotonic` time), but the mean, the linear model and the
        power law are always fitted.
        """
        n = self.n_features_in_
        yt = self._standardise(rows.y)
        self._polynomials = self._power = self._laurent = None
        self._loo_exact = False
        if self.base == "auto" and rows.X_valid is not None:
            yv = self._standardise(rows.y_valid)
            self._polynomials = polynomial_candidates(
                rows.X[:, :n],
                yt,
                rows.X_valid[:, :n],
                yv,
                sample_weight=rows.w,
                valid_weight=rows.w_valid,
                exact_mse=EXACT_RMSE**2,
                deadline=deadline,
            )
            units = self._positive_units(rows)
            if units is not None:
                self._power = self._power_law(units, rows, yt, yv)
                # Many products where a polynomial or the power law is exact
                # already would only cost time.
                if not self._exact_closed_form():
                    self._laurent = self._laurent_polynomial(
                        units, rows, yt, yv, deadline
                    )
            self.base_kind_ = best_candidate(self._polynomials, NETWORK_BASE_DEGREE)
            self.base_ = self._polynomials[self.base_kind_][0]
            return
        if loo and self.base == "auto" and self.guard and self.loss != "quantile":
            # Leave-one-out tells an exact polynomial, which no network could
            # add to (the rule of the held-out rows, above).
            found = exact_polynomial(
                rows.X[:, :n], yt, sample_weight=rows.w, exact_mse=EXACT_RMSE**2
            )
            if found is not None:
                self.base_kind_, self.base_ = found
                self._loo_exact = True
                return
        self.base_kind_ = resolve_base(self.base, len(rows.X), n)
        self.base_ = make_base(self.base_kind_)
        if self.base_ is not None:
            fit_weighted(self.base_, rows.X[:, :n], yt, rows.w)

    def _positive_units(self, rows):
        """The units of :class:`~sknnfit.bases.PowerLaw` and its kin, or None.

        None where neither applies: an input that is not logged holds a value
        <= 0 in the held-out rows (the training rows' ``fit`` checks), or the
        input transform is not one sknnfit builds, or ``loss="quantile"``.
        """
        from ._inference import input_arrays

        inputs = input_arrays(self.input_transformer_)
        if inputs is None or self.loss == "quantile":
            return None
        n = self.n_features_in_
        logged = np.zeros(n, dtype=bool)
        if not inputs.append:
            logged[list(inputs.log_columns)] = True
        plain = inputs.mean is None  # input_transform="none"
        units = {
            "x_offset": np.zeros(n) if plain else inputs.mean[:n],
            "x_scale": np.ones(n) if plain else inputs.scale[:n],
            "logged": logged,
            "y_offset": self.y_mean_,
            "y_scale": np.where(self.y_scale_ > 0, self.y_scale_, 1.0),
        }
        x_valid = rows.X_valid[:, :n] * units["x_scale"] + units["x_offset"]
        return units if ((x_valid > 0) | logged).all() else None

    def _held_out_mse(self, model, rows, yv):
        """Mean squared error of ``model`` on the held-out rows (standardised)."""
        with np.errstate(over="ignore", invalid="ignore"):
            pred = model.predict(rows.X_valid[:, : self.n_features_in_])
        return held_out_mse(pred, yv, rows.w_valid)

    def _power_law(self, units, rows, yt, yv):
        """``(PowerLaw, held-out MSE)`` fitted on the training rows, or None.

        None where an output has too few rows of one sign
        (:class:`~sknnfit.bases.PowerLaw`) or a training input is <= 0.
        """
        fits = []
        # Least squares of log|y| (for noise that multiplies y) and of y (for
        # noise added to it, which may flip the sign of values near 0): the
        # held-out rows choose.
        for refine in (False, True):
            law = PowerLaw(**units, refine=refine)
            try:
                fitted = fit_weighted(law, rows.X[:, : self.n_features_in_], yt, rows.w)
            except (ValueError, np.linalg.LinAlgError):  # not a ValueError in NumPy 1
                continue
            fits.append((fitted, self._held_out_mse(fitted, rows, yv)))
        return min(fits, key=lambda fit: fit[1]) if fits else None

    def _laurent_polynomial(self, units, rows, yt, yv, deadline=None):
        """``(LaurentPolynomial, held-out MSE)`` of the degree held-out rows pick.

        Tried only where no polynomial and no power law is exact. Degrees 1,
        2, ... up to :data:`MAX_LAURENT_DEGREE`, while the products
        number at most :data:`MAX_LAURENT_PRODUCTS` with
        :data:`~sknnfit.bases.MIN_ROWS_PER_COEF` training rows each, or until one is
        exact to :data:`EXACT_RMSE`. Each costs more than all lower degrees
        together, so all are tried: one held-out row far out in a corner can
        make a degree look worse than the one below it and the next exact (as
        on formula5). Of those tried, the lowest degree within
        :data:`~sknnfit.bases.DEGREE_TOLERANCE` of the best wins. None where no
        degree could be fitted, or none before ``deadline`` (none is started
        that :func:`~sknnfit.bases.would_overrun` it).
        """
        n = self.n_features_in_
        rows_used = min(len(rows.X), LAURENT_ROWS)
        tried, last = [], (0.0, 1)
        for degree in range(1, MAX_LAURENT_DEGREE + 1):
            products = n_monomials(n, degree)
            if (
                products > MAX_LAURENT_PRODUCTS
                or rows_used < MIN_ROWS_PER_COEF * products
            ):
                break
            if would_overrun(deadline, *last, products):
                break
            began = time.monotonic()
            model = LaurentPolynomial(degree, **units)
            try:
                fitted = fit_weighted(model, rows.X[:, :n], yt, rows.w)
            except (ValueError, np.linalg.LinAlgError):
                break
            score = self._held_out_mse(fitted, rows, yv)
            tried.append((fitted, score))
            last = (time.monotonic() - began, products)
            if math.sqrt(score) <= EXACT_RMSE:
                break
        if not tried:
            return None
        best = min(score for _, score in tried)
        return next(fit for fit in tried if fit[1] <= DEGREE_TOLERANCE * best)

    def _exact_closed_form(self):
        """Whether a closed-form model fits the held-out rows to float32 rounding.

        A polynomial tried, the power law or the Laurent polynomial (or, without
        held-out rows, a polynomial exact by leave-one-out): a float32 network
        cannot add to it, so none is trained (with ``guard``).
        """
        if self._loo_exact:
            return True
        if not (self.guard and self._polynomials) or self.loss == "quantile":
            return False
        scores = [score for _, score in self._polynomials.values()]
        for found in (self._power, self._laurent):
            if found is not None:
                scores.append(found[1])
        return math.sqrt(min(scores)) <= EXACT_RMSE

    def _guards_by_cross_validation(self):
        """Whether a fit without held-out rows cross-validates the network
        (:mod:`sknnfit._crossval`): with the guard, ``base="auto"``, a target
        that varies, not the quantile loss, and no exact polynomial found."""
        return (
            self.guard
            and self.base == "auto"
            and self.loss != "quantile"
            and self.y_scale_.any()
            and not self._loo_exact
        )

    def _network_lost(self):
        """Whether cross-validation gave the network no weight on any output:
        then none is trained."""
        found = self._cross_validated
        return found is not None and not found.weight.any()

    def _base_output(self, Xt64):
        """The base's prediction in standardised units, 2-D; zeros without one."""
        if self.base_ is None:
            return np.zeros((len(Xt64), self.n_outputs_))
        out = self.base_.predict(Xt64[:, : self.n_features_in_])
        return out.reshape(len(Xt64), self.n_outputs_)

    def _train_dtype(self):
        return np.float64 if self.precision_ == "float64" else np.float32

    def _train_inputs(self, Xt64, name):
        """Inputs for training: float32 (checked in range) or, in float64, as is."""
        X32 = to_float32(Xt64, name)  # raises if the network could not take it
        return Xt64 if self.precision_ == "float64" else X32

    def _training_data(self, rows, keep_scale=False):
        """The network's float32 data: the base's residual, scaled to unit size.

        :func:`sknnfit._inference.predict` is the way back. The base was fitted
        on the training rows only, so the validation loss is honest.
        """
        from .training import TrainData, loss_weights

        yt = self._standardise(rows.y) - self._base_output(rows.X)
        # Unit variance for the network, but not blown up by more than 1e6:
        # an exactly fitted target leaves only rounding noise.
        if not keep_scale:
            self.residual_scale_ = np.ones(yt.shape[1])
        if self.base_ is not None and not keep_scale:
            std = (
                yt.std(axis=0)
                if rows.w is None
                else np.sqrt(np.average(yt**2, axis=0, weights=rows.w))
            )
            self.residual_scale_ = np.maximum(std, 1e-6)
        # A constant output has y_scale_ = 0 (predicted exactly); its weights
        # only need to stay finite.
        unit = np.where(self.y_scale_ > 0, self.y_scale_, 1.0) * self.residual_scale_
        dtype = self._train_dtype()
        arrays = {
            "X": self._train_inputs(rows.X, "X"),
            "y": (yt / self.residual_scale_).astype(dtype),
            "weight": _with_rows(
                loss_weights(self.loss_, rows.y, unit), rows.w, self.n_outputs_
            ),
        }
        if rows.X_valid is not None:
            yv = self._standardise(rows.y_valid) - self._base_output(rows.X_valid)
            arrays.update(
                X_valid=self._train_inputs(rows.X_valid, "X_val"),
                y_valid=(yv / self.residual_scale_).astype(dtype),
                weight_valid=_with_rows(
                    loss_weights(self.loss_, rows.y_valid, unit),
                    rows.w_valid,
                    self.n_outputs_,
                ),
            )
        return TrainData(**arrays)

    def _train(self, plan, data, rng, start):
        """Train the plan's networks into ``nets_``; their training records.

        With ``max_time``, each network gets an equal share of what is left.
        """
        from ._device import torch_threads
        from .training import train_net
        from .training.stopping import note_interrupt

        self.nets_, records = [], []
        with torch_threads(self.n_threads):
            for i, group in enumerate(plan.groups):
                seed = int(rng.randint(np.iinfo(np.int32).max))
                seconds = self._time_share(start, len(plan.groups) - i)
                net, record = train_net(
                    plan, data, group, seed, seconds, self._stall(plan)
                )
                self.nets_.append((list(group), net))
                records.append(record)
                if record.interrupted:
                    note_interrupt()  # raises on a second Ctrl-C in a row
                    break  # Ctrl-C: keep what is trained, skip the other nets
        self.net_ = self.nets_[0][1]
        self.interrupted_ = records[-1].interrupted
        return records

    def _held_out_rmse(self, pred, y_std, w=None):
        """RMSE of standardised predictions over the non-constant outputs."""
        live = self.y_scale_ > 0
        if not live.any():
            return 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            per_row = np.mean((pred - y_std)[:, live] ** 2, axis=1)
            err = np.average(per_row, weights=w)
        return float(np.sqrt(err)) if np.isfinite(err) else math.inf

    def _network_output(self, Xt64):
        """What the networks of every stage add to the base, standardised, 2-D."""
        return sum(
            scale * self._stage_output(nets, Xt64) for scale, nets in self._stages()
        )

    def _add_stages(self, plan, data, rows, rng, start, records):
        """Fit further networks to what the earlier stages leave (``n_stages``).

        Each stage learns the residual of the model so far on the training
        rows, scaled to unit size. With ``n_stages="auto"`` stages are tried
        only after networks that stopped on their held-out loss (``records``
        say so: one that ran out of epochs would gain more from more epochs),
        they share the first stage's ``max_epochs`` (a trial trains at most
        the epochs the earlier ones left, and none is tried with fewer than
        :data:`MIN_STAGE_PATIENCES` patiences left), a stage is kept only if
        it clearly lowers the held-out RMSE (:meth:`_stage_helps`), trying
        :data:`STAGE_ACTIVATION` networks and then networks of the first one's
        activation, and a stage that neither gives ends
        the search (on noisy data, the residual is noise and no stage is
        kept); a residual that nearest-neighbour differences call noise
        (:meth:`_looks_like_noise`) ends it before training, and so do first
        networks whose held-out loss was lowest after their first epoch (a
        stage would add variance to what variance limits). An int trains
        that many, each for ``max_epochs``, with the first one's activation.
        Sets ``stage_scales_``, ``stage_nets_`` and ``stages_``; returns the
        epochs of ``max_epochs`` the stages (and resumed networks) left.
        """
        converged = all(r.stop in HELD_OUT_STOPS for r in records)
        self.stage_scales_, self.stage_nets_ = [], []
        valid = rows.X_valid is not None
        yt = self._standardise(rows.y)
        yv = self._standardise(rows.y_valid) if valid else None
        fit = None  # on the training rows: computed once a stage is tried
        fit_v = (
            self._base_output(rows.X_valid) + self._network_output(rows.X_valid)
            if valid
            else None
        )
        score = self._held_out_rmse(fit_v, yv, rows.w_valid) if valid else None
        # A stage's epochs: the most any of its networks ran (one per group).
        longest = _longest(records)
        used = longest.n_epochs
        self.stages_ = [
            {
                "validation_rmse": score,
                "seconds": time.monotonic() - start,
                "epochs": used,
                "activation": plan.activation,
                "stop": longest.stop,
            }
        ]
        auto = self.n_stages == "auto"
        # Held-out loss lowest after the first epoch and rising from there:
        # the networks' variance limits them, not their bias, and a stage
        # fitted to the training residual would only add variance.
        at_once = all(r.best_epoch <= 1 for r in records)
        n_stages = (
            (MAX_AUTO_STAGES if valid and converged and not at_once else 1)
            if auto
            else self.n_stages
        )
        # "auto": the stages share the first's max_epochs, so that trying them
        # costs at most one more full training (the discarded trials).
        epochs_left = plan.max_epochs - used
        for _ in range(1, n_stages):
            if plan.max_epochs == 0 or self._time_share(start, 1) == 0.0:
                break
            # Held-out rows: the networks have not fitted their noise.
            if auto and valid and self._looks_like_noise(rows.X_valid, yv - fit_v):
                break
            if fit is None:
                fit = self._base_output(rows.X) + self._network_output(rows.X)
            residual = yt - fit
            scale = np.maximum(
                np.sqrt(np.average(residual**2, axis=0, weights=rows.w)), 1e-12
            )
            stage_data = self._stage_data(
                data, residual / scale, (yv - fit_v) / scale if valid else None
            )
            kept = None
            for activation, band in self._stage_trials(plan, rows, residual):
                began = time.monotonic()
                stage_plan = dataclasses.replace(plan, activation=activation)
                if band != 1.0:
                    stage_plan = dataclasses.replace(
                        stage_plan,
                        net_params={
                            "module__first_scale": band,
                            **(plan.net_params or {}),
                        },
                    )
                if auto:
                    if epochs_left < MIN_STAGE_PATIENCES * plan.patience:
                        break
                    stage_plan = dataclasses.replace(stage_plan, max_epochs=epochs_left)
                nets, stage_records = self._train_stage(
                    stage_plan, stage_data, rng, start
                )
                after_v = (
                    fit_v + scale * self._stage_output(nets, rows.X_valid)
                    if valid
                    else None
                )
                epochs_left -= _longest(stage_records).n_epochs
                if (
                    stage_records[-1].interrupted
                    or not auto
                    or self._stage_helps(fit_v, after_v, yv, rows.w_valid)
                ):
                    kept = (activation, band, nets, stage_records, after_v, began)
                    break
            if kept is None:
                break
            activation, band, nets, stage_records, after_v, began = kept
            self.stage_scales_.append(scale)
            self.stage_nets_.append(nets)
            fit = fit + scale * self._stage_output(nets, rows.X)
            fit_v = after_v
            longest = _longest(stage_records)
            self.stages_.append(
                {
                    "validation_rmse": (
                        self._held_out_rmse(fit_v, yv, rows.w_valid) if valid else None
                    ),
                    "seconds": time.monotonic() - began,
                    "epochs": longest.n_epochs,
                    "activation": activation,
                    "first_scale": band,
                    "stop": longest.stop,
                }
            )
            converged = converged and all(
                r.stop in HELD_OUT_STOPS for r in stage_records
            )
            if stage_records[-1].interrupted or (auto and not converged):
                break
        if not self.stage_nets_:
            ran = self.stages_[0]["epochs"]
            self._resume_stalled(plan, data, rows, rng, start, records)
            epochs_left -= self.stages_[0]["epochs"] - ran
        return epochs_left

    def _add_members(self, plan, data, rows, rng, start, records, epochs_left):
        """``n_ensemble="auto"``: add members to the first stage while they help.

        Only with held-out rows, after first networks that stopped on their
        held-out loss, when no later stage was kept (what is left is noise,
        whose share the members' variance adds to) and when the guard would
        keep the first network (a weight above 0 for some output): where it
        finds nothing the network adds, a closed-form model predicts alone
        and members would change nothing. Each member trains from a new seed
        for at most ``epochs_left`` (the epochs the earlier networks left of
        ``max_epochs``; none starts with fewer than the first network ran, nor
        than :data:`MIN_STAGE_PATIENCES` patiences), and is kept unless it
        predicts the held-out rows worse than their mean (it learnt nothing):
        members are draws of one training, and each lowers the error in
        expectation even where the held-out rows, by chance, say otherwise.
        After the second, another is tried only while :meth:`_member_pays`.
        At most :data:`MAX_AUTO_MEMBERS`. Sets ``n_ensemble_``.
        """
        if not (
            self.n_ensemble == "auto"
            and plan.early_stopping
            and rows.X_valid is not None
            and not self.stage_nets_
            and not self.interrupted_
            and all(r.stop in HELD_OUT_STOPS for r in records)
        ):
            return
        yv = self._standardise(rows.y_valid)
        base_v = self._base_output(rows.X_valid)
        scale = self.residual_scale_
        outputs = [scale * self._stage_output(self.nets_, rows.X_valid)]
        _, scores, _, weight = self._guard_decision(base_v + outputs[0], rows)
        if weight is not None and (weight == 0).all():
            return  # the guard finds nothing the network adds: members neither
        began = time.monotonic()
        # A member cut short by the epochs left would be a weaker draw than
        # the first network: one starts only where it can train as long.
        need = max(_longest(records).n_epochs, MIN_STAGE_PATIENCES * plan.patience)
        while len(outputs) < MAX_AUTO_MEMBERS:
            if epochs_left < need:
                break
            if self._time_share(start, 1) == 0.0:
                break
            if len(outputs) > 1 and not self._member_pays(
                outputs, base_v, yv, rows.w_valid
            ):
                break
            member_plan = dataclasses.replace(plan, max_epochs=epochs_left)
            nets, member_records = self._train_stage(member_plan, data, rng, start)
            epochs_left -= _longest(member_records).n_epochs
            if member_records[-1].interrupted:
                self.interrupted_ = True
                break  # Ctrl-C: the member is cut short; keep those before it
            out = scale * self._stage_output(nets, rows.X_valid)
            # Members are draws of one training: the next one lowers the
            # error in expectation even where these rows, by chance, say
            # otherwise; one that predicts them worse than the mean learnt
            # nothing (diverged).
            own = self._held_out_rmse(base_v + out, yv, rows.w_valid)
            if not own < scores["mean"]:
                break
            outputs.append(out)
            self.nets_.extend(nets)
            self._report_members(member_records)
        self.n_ensemble_ = len(outputs)
        if len(outputs) > 1:
            self.stages_[0].update(
                validation_rmse=self._held_out_rmse(
                    base_v + np.mean(outputs, axis=0), yv, rows.w_valid
                ),
                seconds=self.stages_[0]["seconds"] + time.monotonic() - began,
            )

    def _member_pays(self, outputs, base_v, yv, w):
        """Whether another member would bring the held-out MSE nearer its limit.

        ``outputs`` are the members' held-out outputs. Their variance over
        seeds, ``v`` (per row, unbiased, averaged over the rows and the
        non-constant outputs), is the part of the held-out mean square error
        that averaging ``m`` members divides by ``m``: the error is ``B + v /
        m``, and ``B`` is what infinitely many members would leave. Another
        pays while ``v / m`` is above :data:`MEMBER_SHARE` of ``B``. The
        disagreement does not read the targets, so early stopping on the same
        rows does not flatter it.
        """
        live = self.y_scale_ > 0
        m = len(outputs)
        stacked = np.stack(outputs)[:, :, live]
        per_row = np.mean(np.var(stacked, axis=0, ddof=1), axis=1)
        w, _ = _effective_rows(w, len(per_row))
        v = float(np.average(per_row, weights=w))
        mse = self._held_out_rmse(base_v + np.mean(outputs, axis=0), yv, w) ** 2
        return v / m > MEMBER_SHARE * max(mse - v / m, 0.0)

    def _report_members(self, records):
        """Warnings of the networks of an added member (not their convergence)."""
        from .training.record import report

        for record in records:
            report(record, check_convergence=False, stacklevel=5)

    def _resume_stalled(self, plan, data, rows, rng, start, records):
        """Give the first networks that stalled their epochs back: no stage was kept.

        A network stopped as ``"stalled"`` left its epochs to the stages; with
        none kept, it trains on for them, from its best weights and optimizer
        state, without the stall stop, so that trying stages costs it no
        epochs (L-BFGS can speed up again after a slow stretch). The weights of
        the lower held-out loss are kept. Updates ``stages_[0]`` and the
        training curves.
        """
        if all(r.stop != "stalled" for r in records):
            return
        from ._device import torch_threads
        from .training import continue_net
        from .training.stopping import state_copy

        began = time.monotonic()
        first = None  # (the first network's resumed record, kept its old weights)
        ran = [(r.n_epochs, r.stop) for r in records]  # per network, resumes added
        pairs = enumerate(zip(self.nets_, records, strict=True))
        with torch_threads(self.n_threads):
            for i, ((group, net), record) in pairs:
                left = plan.max_epochs - record.n_epochs
                if record.stop != "stalled" or left <= 0:
                    continue
                state = state_copy(net.module_)
                seconds = self._time_share(start, len(self.nets_) - i)
                seed = int(rng.randint(np.iinfo(np.int32).max))
                more = continue_net(net, plan, data, group, seed, left, seconds)
                before = min(record.validation_scores)
                kept_before = not min(more.validation_scores) < before
                if kept_before:
                    net.module_.load_state_dict(state)
                ran[i] = (record.n_epochs + more.n_epochs, more.stop)
                if i == 0:
                    first = (more, kept_before)
                if more.interrupted:
                    self.interrupted_ = True
                    break
        epochs, stop = max(ran, key=lambda pair: pair[0])
        self.stages_[0].update(
            epochs=epochs,
            stop=stop,
            seconds=self.stages_[0]["seconds"] + time.monotonic() - began,
        )
        # A stall stop watches held-out rows, so there are some.
        fit_v = self._base_output(rows.X_valid) + self._network_output(rows.X_valid)
        yv = self._standardise(rows.y_valid)
        self.stages_[0]["validation_rmse"] = self._held_out_rmse(
            fit_v, yv, rows.w_valid
        )
        if first is None:
            return
        more, kept_before = first
        best_before = self.best_epoch_
        self._record([more], append=True)
        if kept_before:
            self.best_epoch_ = best_before

    def _stage_data(self, data, y, y_valid):
        """The training arrays of a stage: ``data``'s inputs, targets ``y``."""
        from .training import TrainData

        dtype = self._train_dtype()
        arrays = {"X": data.X, "y": y.astype(dtype), "weight": data.weight}
        if data.X_valid is not None:
            arrays.update(
                X_valid=data.X_valid,
                y_valid=y_valid.astype(dtype),
                weight_valid=data.weight_valid,
            )
        return TrainData(**arrays)

    def _train_stage(self, plan, data, rng, start):
        """One stage's networks, one per output group, and their records.

        Stops after a network that Ctrl-C interrupted (the last record says so).
        """
        from .training import train_net

        nets, records = [], []
        for i, group in enumerate(plan.groups):
            seconds = self._time_share(start, len(plan.groups) - i)
            seed = int(rng.randint(np.iinfo(np.int32).max))
            net, record = train_net(plan, data, group, seed, seconds, self._stall(plan))
            nets.append((list(group), net))
            records.append(record)
            if record.interrupted:
                break
        return nets, records

    def _stage_trials(self, plan, rows, residual):
        """Yield ``(activation, first_scale)``: the networks a stage tries, in order.

        An int ``n_stages`` trains the first network's activation. ``"auto"``
        tries :data:`STAGE_ACTIVATION` networks at the usual band of input
        frequencies; then, where the training rows' ``residual`` oscillates at
        a wavenumber k of :data:`WIDER_BAND` or more
        (:func:`sknnfit._noise.residual_wavenumber` on the base's inputs), sine
        networks whose first layer starts ``sqrt(k)`` times wider; then the
        first network's activation. Lazy: k is measured only when the first
        trial did not pass.
        """
        if self.n_stages != "auto":
            yield plan.activation, 1.0
            return
        from ._noise import residual_wavenumber

        yield STAGE_ACTIVATION, 1.0
        live = self.y_scale_ > 0
        band = residual_wavenumber(rows.X[:, : self.n_features_in_], residual[:, live])
        if band >= WIDER_BAND:
            yield STAGE_ACTIVATION, float(np.sqrt(band))
        if plan.activation != STAGE_ACTIVATION:
            yield plan.activation, 1.0

    def _stall(self, plan):
        """``(gain, min_left)`` of a network's stall stop, or None.

        With ``n_stages="auto"`` and ``precision="float64"``, a network trained
        at a constant learning rate (L-BFGS) stops where its epochs left, at
        the rate of its last ``patience`` epochs, could not lower the held-out
        RMSE by :data:`STAGE_GAIN` (the mean square by its square), what a
        stage must gain to be kept, while they are enough for a stage to be
        tried (:data:`MIN_STAGE_PATIENCES` patiences); when no stage is kept it
        gets them back (:meth:`_resume_stalled`). In float64 nothing rounds the
        held-out loss to a standstill: on clean sin(x), L-BFGS lowered it by
        2% over the last 190 of its 200 epochs, and the stages it left no
        epochs for took the grid RMSE from 1.6e-4 to 2.0e-8. In float32 the
        rule is off: on the suite's formulas with 1% noise it cost 1.04x to
        1.22x nRMSE on seven fits, and giving the epochs back after failed
        stage trials made fits up to 2.6x slower.
        """
        if self.n_stages != "auto" or plan.precision != "float64":
            return None
        return STAGE_GAIN**2, MIN_STAGE_PATIENCES * plan.patience

    def _stage_helps(self, before, after, yv, w):
        """Whether held-out predictions ``after`` a stage clearly beat ``before``.

        The RMSE falls by :data:`STAGE_GAIN` or more, and the rows show it
        clearly: the mean fall of their squared errors is at least
        :data:`STAGE_T` standard errors (paired t), or the share of rows whose
        error falls is at least :data:`STAGE_T` standard errors above one half
        (sign test). The t statistic alone fails where a few rows hold most of
        the error: on clean sin(x) in float64 a stage that lowered the error of
        every one of 250 held-out rows, and the RMSE 6-fold, had t = 2.6
        because five rows held 70% of the squared error.
        """
        old = self._held_out_rmse(before, yv, w)
        new = self._held_out_rmse(after, yv, w)
        if not new * STAGE_GAIN <= old:
            return False
        live = self.y_scale_ > 0
        fall = np.mean(((before - yv) ** 2 - (after - yv) ** 2)[:, live], axis=1)
        w, n_eff = _effective_rows(w, len(fall))
        mean = np.average(fall, weights=w)
        spread = np.sqrt(np.average((fall - mean) ** 2, weights=w) / n_eff)
        if mean >= STAGE_T * spread:
            return True
        better = np.average((fall > 0) + 0.5 * (fall == 0), weights=w)
        return bool(better - 0.5 >= STAGE_T * 0.5 / np.sqrt(n_eff))

    def _looks_like_noise(self, X, residual):
        """Whether a residual on held-out rows is noise: no stage can lower it.

        True when nearest-neighbour differences call at least
        :data:`STAGE_NOISE_SHARE` of its mean square noise
        (:func:`sknnfit._noise.noise_share` on the base's inputs).
        """
        from ._noise import noise_share

        live = self.y_scale_ > 0
        share = noise_share(X[:, : self.n_features_in_], residual[:, live])
        return bool(share >= STAGE_NOISE_SHARE)

    def _stages(self):
        """``[(scale, nets), ...]`` of every stage, the first included."""
        from ._inference import later_stages

        return [(self.residual_scale_, self.nets_), *later_stages(self)]

    def _time_share(self, start, n_left):
        """Seconds of ``max_time`` left since ``start``, split over ``n_left``."""
        if self.max_time is None:
            return None
        return max(self.max_time - (time.monotonic() - start), 0.0) / n_left

    def _stage_output(self, nets, Xt64):
        """The mean of ``nets`` on transformed inputs, 2-D float64."""
        import torch

        from . import _inference
        from ._device import torch_threads

        with torch_threads(self.n_threads), torch.inference_mode():
            return _inference.ensemble_outputs(
                nets, Xt64, self.n_outputs_, self.device_
            )

    def _guard(self, rows, refit):
        """Weigh the network against the best closed-form model on held-out rows.

        The closed-form models are the mean, the base and, with
        ``base="auto"``, every degree :func:`sknnfit.bases.polynomial_candidates`
        tried; the best is the one of lowest held-out RMSE. The prediction
        becomes ``a * (base + networks) + (1 - a) * best``, with ``a`` per
        output in [0, 1] chosen by least squares on the held-out rows (one
        number, so it hardly overfits them): 1 when the network is clearly
        better, 0 (the closed-form model alone, with a warning) when it adds
        nothing, in between when each is better somewhere, as on noisy data
        where the network's variance and the polynomial's bias are both seen.
        The blend is folded into ``base_`` (a polynomial of the higher degree)
        and the networks' scales. Where the inputs and targets allow them, a
        :class:`~sknnfit.bases.PowerLaw` or
        :class:`~sknnfit.bases.LaurentPolynomial` whose held-out RMSE times its
        :data:`ALONE_MARGIN` is below that of the outcome predicts alone instead
        (neither has a polynomial form to blend in). Sets ``use_network_``,
        ``network_weight_`` and ``validation_rmse_``.
        """
        self.use_network_, self.validation_rmse_ = True, None
        self.network_weight_ = np.ones(self.n_outputs_)
        if rows.X_valid is None:
            self._polynomials = self._power = self._laurent = None
            found, self._cross_validated = self._cross_validated, None
            if self._loo_exact:  # no network was trained
                self._closed_form_only(self.base_kind_, self.base_, None)
            elif found is not None:  # too few rows to hold out: K-fold
                self.validation_rmse_ = found.scores
                if not found.weight.any():  # and no network was trained
                    where = "out of fold (too few rows to hold any out)"
                    self._closed_form_only(found.kind, found.model, found.scores, where)
                elif not (found.weight == 1).all():
                    self._blend(found.model, found.weight)
            return
        network = self._base_output(rows.X_valid) + self._network_output(rows.X_valid)
        models, scores, kind, weight = self._guard_decision(network, rows)
        self._polynomials = self._power = self._laurent = None
        self.validation_rmse_ = scores
        if weight is None or (weight == 1).all():
            return
        model = models[kind]
        if refit and model is not None:
            # A closed-form model has nothing to stop early: it is refitted, at
            # its penalty, on every row, the held-out ones included.
            model = self._refit_on_all_rows(model, rows)
        if (weight == 0).all():
            self._closed_form_only(kind, model, scores)
            return
        self._blend(model, weight)

    def _blend(self, model, weight):
        """Predict ``weight * (base + networks) + (1 - weight) * model``.

        The blend is folded into ``base_`` and the networks' scales.
        """
        self.network_weight_ = weight
        self.base_kind_, self.base_ = blend_bases(self.base_, model, weight)
        self.residual_scale_ = self.residual_scale_ * weight
        self.stage_scales_ = [scale * weight for scale in self.stage_scales_]

    def _guard_decision(self, network, rows):
        """What the guard makes of held-out predictions ``network``, changing nothing.

        Returns ``(models, scores, kind, weight)``: the closed-form models
        weighed (``{kind: model}``, None for the mean), every held-out RMSE
        (``validation_rmse_``), and the closed-form model ``kind`` the network
        is blended with at ``weight`` per output (0: that model alone); weight
        is None when the guard is off (``guard=False``, the quantile loss).
        """
        yv = self._standardise(rows.y_valid)

        def rmse(pred):
            return self._held_out_rmse(pred, yv, rows.w_valid)

        models = {"mean": None, self.base_kind_: self.base_}
        polynomials = self._polynomials
        if polynomials:
            best = min(polynomials, key=lambda kind: polynomials[kind][1])
            models[best] = polynomials[best][0]
        alone = {"power": self._power, "laurent": self._laurent}
        models.update({kind: fit[0] for kind, fit in alone.items() if fit is not None})
        n = self.n_features_in_
        closed = {
            kind: np.zeros_like(yv)
            if model is None
            else model.predict(rows.X_valid[:, :n]).reshape(yv.shape)
            for kind, model in models.items()
        }
        scores = {kind: rmse(pred) for kind, pred in closed.items()}
        scores["network"] = rmse(network)
        if not self.guard or self.loss_ == "quantile":
            return models, scores, None, None
        polynomial = {k: v for k, v in closed.items() if k not in ALONE_MARGIN}
        kind = min(polynomial, key=scores.get)
        weight = self._network_weight(network, closed[kind], yv, rows.w_valid)
        outcome = rmse(weight * network + (1 - weight) * closed[kind])
        if not (weight == 1).all() and not (weight == 0).all():
            scores["blend"] = outcome
        # Better than the network with every polynomial, by its margin: it
        # predicts alone (it has no polynomial form to blend into the base).
        better = {
            kind: scores[kind] * margin
            for kind, margin in ALONE_MARGIN.items()
            if kind in models and scores[kind] * margin < outcome
        }
        if better:
            kind = min(better, key=better.get)
            weight = np.zeros(self.n_outputs_)
        return models, scores, kind, weight

    def _network_weight(self, network, closed, yv, w):
        """The network's weight against ``closed``, per output, in [0, 1].

        The least-squares ``a`` of ``a * network + (1 - a) * closed`` on the
        held-out rows, shrunk by ``max(0, 1 - 1 / t**2)``, where ``t`` is the
        ratio of ``a`` to its standard error: a weight the held-out rows cannot
        tell from 0 (as on pure noise, where chance alone gives ``t**2`` about
        1) shrinks to 0, and a clear one (``t`` of 10: 1%) hardly moves. 1 for
        constant outputs and where the two predict alike.
        """
        gap = network - closed
        resid = yv - closed
        w, n_eff = _effective_rows(w, len(yv))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            num = np.average(gap * resid, axis=0, weights=w)
            den = np.average(gap**2, axis=0, weights=w)
            weight = num / den
            # The slope's standard error: the spread of the gap times what the
            # blend leaves, over the square root of the held-out rows.
            left = resid - weight * gap
            spread = np.average((gap * left) ** 2, axis=0, weights=w)
            t2 = num**2 * n_eff / spread
            weight = weight * np.maximum(0.0, 1.0 - 1.0 / t2)
        weight = np.where(den > 0, weight, 1.0)
        weight = np.clip(np.nan_to_num(weight, nan=1.0, posinf=1.0), 0.0, 1.0)
        return np.where(self.y_scale_ > 0, weight, 1.0)

    def _closed_form_only(self, kind, model, scores, where=None):
        """Predict with the closed-form model ``kind`` alone, and say so.

        ``where``: how the network was measured (None: on held-out rows, and
        no warning when nothing was left to learn, so none was trained).
        """
        self.use_network_ = False
        self.network_weight_ = np.zeros(self.n_outputs_)
        self.base_kind_, self.base_ = (
            ("none", None) if kind == "mean" else (kind, model)
        )
        if self.max_epochs_ == 0 and where is None:
            return  # nothing to learn: no network was trained, none is missed
        warnings.warn(
            f"The network adds nothing {where or 'on held-out rows'} to a "
            f"closed-form model ({kind}: RMSE {scores[kind]:.4g} standard "
            f"deviations of y; the network's {scores['network']:.4g}), which "
            "predicts alone. The data may be too small or too noisy for a "
            "network here, or a polynomial suffices; guard=False keeps the "
            "network. validation_rmse_ has every score.",
            NetworkNotUsedWarning,
            stacklevel=5,  # _closed_form_only, _guard, _fit, fit, the caller
        )

    def _refit_on_all_rows(self, model, rows):
        """``model`` refitted on the training and held-out rows together."""

        n = self.n_features_in_
        X = np.vstack([rows.X[:, :n], rows.X_valid[:, :n]])
        y = self._standardise(np.vstack([rows.y, rows.y_valid]))
        w = None if rows.w is None else np.concatenate([rows.w, rows.w_valid])
        return fit_weighted(clone(model), X, y, w)

    def _record(self, records, append=False):
        """Training records from the first net; warnings from every net.

        ``append``: the curves go on from those of the earlier fit.
        """
        from .training.record import report

        for other in records[1:]:
            report(other, check_convergence=False, stacklevel=4)
        first = records[0]
        before = self.n_epochs_ if append else 0
        valid = first.validation_scores
        if append:
            self.loss_curve_ = [*self.loss_curve_, *first.loss_curve]
            if valid is not None:
                valid = [*(self.validation_loss_curve_ or []), *valid]
        else:
            self.loss_curve_ = first.loss_curve
        self.validation_loss_curve_ = valid
        self.n_epochs_ = self.n_iter_ = before + first.n_epochs
        best = first.best_epoch if first.kept_best else first.n_epochs
        self.best_epoch_ = before + best
        self.best_loss_ = min(self.loss_curve_, default=None)
        self.best_validation_loss_ = min(
            self.validation_loss_curve_ or [], default=None
        )
        report(first, stacklevel=4)

    @property
    def validation_scores_(self):
        """Deprecated name of ``validation_loss_curve_``.

        It holds losses, while ``MLPRegressor.validation_scores_`` holds R²
        scores; the name goes in a later release.
        """
        warnings.warn(
            "NNRegressor.validation_scores_ is renamed validation_loss_curve_: it "
            "holds held-out losses per epoch, while MLPRegressor's "
            "validation_scores_ holds R² scores. The old name will be removed.",
            FutureWarning,
            stacklevel=2,
        )
        return self.validation_loss_curve_

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


def _longest(records):
    """The record of the network that trained the most epochs (the first of ties)."""
    return max(records, key=lambda record: record.n_epochs)


def _n_weighted(w, n_rows):
    """The rows of positive weight: those a split may hold out (weight 0 counts
    for nothing)."""
    return n_rows if w is None else int(np.count_nonzero(w))


def _effective_rows(w, n_rows):
    """Row weights (ones for None) and their effective count, (sum w)^2 / sum w^2."""
    w = np.ones(n_rows) if w is None else w
    return w, w.sum() ** 2 / np.sum(w**2)


def _checked_targets(y, n_rows, n_outputs, name):
    """``y`` as 2-D finite float64 of ``n_rows`` rows and ``n_outputs`` columns."""
    y2 = np.asarray(y, dtype=np.float64)
    y2 = y2.reshape(len(y2), -1) if y2.ndim else y2.reshape(1, 1)
    if y2.shape != (n_rows, n_outputs):
        raise ValueError(
            f"{name} has shape {np.shape(y)}; pass {n_rows} rows of {n_outputs} "
            "target(s), as in the first fit."
        )
    check_finite(y2, name)
    return y2


def _check_val_pair(X_val, y_val):
    """Whether a validation set was given; both of its halves or neither."""
    if (X_val is None) != (y_val is None):
        given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
        raise ValueError(
            f"fit got {given} but no {missing}: pass both for a validation set "
            "of your own, or neither to hold out rows of X."
        )
    return X_val is not None


def _with_rows(entry_weights, w, n_outputs):
    """Loss weights of each entry times the row's weight, scaled to mean 1.

    Scaled so that the mean loss over the rows is the weighted mean: an integer
    weight counts as that many copies of the row.
    """
    if w is None:
        return entry_weights
    rows = (w / w.mean()).astype(np.float32)[:, None]
    if entry_weights is None:
        return np.ascontiguousarray(np.broadcast_to(rows, (len(w), n_outputs)))
    return entry_weights * rows


def _check_weights(sample_weight, X, name):
    """``sample_weight`` as float64 of X's rows, or None; errors name the fix."""
    if sample_weight is None:
        return None
    # scikit-learn's messages: negative values, all zero, wrong length.
    w = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not w.any():  # scikit-learn < 1.9 lets it through
        raise ValueError(
            f"{name}: sample weights must contain at least one non-zero number; "
            "every row has weight 0, which leaves nothing to fit."
        )
    with np.errstate(over="ignore"):
        squares = np.dot(w, w)
    if not np.isfinite(squares):  # the weighted statistics would overflow
        raise ValueError(
            f"{name}: weights up to {w.max():.3g} are too large for float64 (their "
            "squares overflow in the weighted statistics). Divide them by a "
            "constant, e.g. their mean."
        )
    return w


def _warn_outlying_targets(y2, w):
    """Warn for each output whose scale a few extreme rows set (see _outliers)."""
    from ._outliers import outlying_targets

    for found in outlying_targets(y2, w):
        column = f" (output {found['output']})" if y2.shape[1] > 1 else ""
        warnings.warn(
            f"y{column} is dominated by {found['n_rows']} extreme value(s): without "
            f"them its standard deviation falls from {found['std']:.3g} to "
            f"{found['std_without']:.3g} (the most extreme is {found['value']:.6g}, "
            f"row {found['row']}). NNRegressor fits y scaled by its standard "
            "deviation, so the other rows' variation is lost in the network's "
            "error and it predicts about their mean. If those values are "
            "mistakes, remove the rows; otherwise compress y: "
            "TargetTransformRegressor(NNRegressor(), target='asinh').",
            TargetOutlierWarning,
            stacklevel=4,
        )


def _target_statistics(y2, w=None):
    """``(mean, scale)`` per output, weighted; scale 0 for a constant output.

    A constant output keeps ``y_scale_ = 0``, so predict returns it exactly
    whatever the network outputs; training sees zeros for it.
    """
    if w is not None:
        y2 = y2[w > 0]
        w = w[w > 0]
    with np.errstate(over="ignore", invalid="ignore"):
        mean = np.average(y2, axis=0, weights=w)
        if w is None:
            scale = y2.std(axis=0)
        else:
            scale = np.sqrt(np.average((y2 - mean) ** 2, axis=0, weights=w))
    if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
        raise ValueError(
            "y is too large to standardise in float64 (max |y| = "
            f"{np.abs(y2).max():.3g}). Divide y by a constant first, or wrap the "
            "model in TargetTransformRegressor(target='log' or 'asinh')."
        )
    return mean, np.where(np.ptp(y2, axis=0) > 0, scale, 0.0)
