"""What predict does after validating X: float64 outputs, by chunks, and two warnings.

:func:`predict` is the whole way from validated inputs to predictions in the
user's units. It reads the fitted estimator as plain arrays (:func:`input_arrays`,
:func:`base_arrays`, :func:`network_layers`), which :mod:`sknnfit.export` turns
into an ONNX graph, so the two cannot drift apart. It works through the rows
:data:`PREDICT_BATCH` at a time and writes each chunk into one preallocated
float64 result: memory beyond that result does not grow with the row count.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import warnings
import weakref

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LinearRegression, Ridge, RidgeCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    PolynomialFeatures,
    StandardScaler,
)
from torch import nn

from . import features
from .exceptions import ExtrapolationWarning
from .modules import MLP, Sine, periodic_features

#: Rows per forward pass at predict time (memory, not accuracy).
PREDICT_BATCH = 8192

#: Rows per float64 forward pass on the CPU, within a chunk of PREDICT_BATCH:
#: the activations of a block (512 x 128 float64, 0.5 MB) stay in the cache,
#: which gave 1.4x the rows per second of 8192-row blocks (1 thread, 3 x 128
#: SiLU; benchmarks/predict.py).
CPU_BLOCK = 512

#: A row is outside the training box when, in some column, it passes the box by
#: more than this share of the column's training range (in decades for the
#: log-transformed columns) ...
EXTRAPOLATION_SLACK = 0.25

#: ... and predict warns when more than this share of its rows are outside.
#: Chosen by benchmarks/extrapolation.py: few warnings on random splits of one
#: sample, a clear one on data that leaves the box.
EXTRAPOLATION_SHARE = 0.01


# ---------------------------------------------------------------------- predict


def predict(est, X, stacklevel=2):
    """Predictions of a fitted NNRegressor for validated inputs, 2-D float64.

    Warns (:func:`warn_outside_box`) before computing anything, raises the input
    transform's error for a log column that is no longer positive, then fills
    one ``(n_samples, n_outputs_)`` array chunk by chunk.

    Parameters
    ----------
    est : NNRegressor
        Fitted estimator.
    X : ndarray of shape (n_samples, n_features_in_)
        Float64 inputs, as :func:`sknnfit._validation.validate_x` returns them.
    stacklevel : int, default=2
        Of the warnings, counted from the caller of this function.

    Returns
    -------
    y : ndarray of shape (n_samples, n_outputs_)
        Predictions in the units of ``y``.
    """
    import contextlib

    from ._device import torch_threads
    from ._validation import to_float32

    n, n_outputs = len(X), est.n_outputs_
    lo, hi, log_check = _box(est)
    n_outside = sum(int(_outside(X[rows], lo, hi).sum()) for rows in _chunks(n))
    _warn_outside(n_outside, n, stacklevel=stacklevel + 1)
    inputs = input_arrays(est.input_transformer_, est.x_min_)
    if n_outside or log_check:
        # A value <= 0 in a log column lies below its lo > 0: outside.
        _check_log_columns(X, inputs)
    transform = est.input_transformer_.transform if inputs is None else inputs.transform
    base = est.base_
    if base is not None:
        base = base_arrays(base) or base
    use_network = getattr(est, "use_network_", True)
    stages = later_stages(est)
    y = np.empty((n, n_outputs))
    # No inference_mode: the float64 copies need no gradients, and entering it
    # costs a tenth of a one-row predict.
    threads = contextlib.nullcontext()
    if est.n_threads is not None:
        threads = torch_threads(est.n_threads)
    with threads:
        for rows in _chunks(n):
            Xt = transform(X[rows])
            if not np.abs(Xt).max() <= _FLOAT32_MAX:
                to_float32(Xt, "X")  # raises: the network could not take it
            out = None
            if base is not None:
                out = base.predict(Xt[:, : est.n_features_in_])
                out = out.reshape(len(Xt), n_outputs)
            if use_network:
                nets = _chunk_outputs(est.nets_, Xt, n_outputs, est.device_)
                nets = nets * est.residual_scale_
                out = nets if out is None else np.add(nets, out, out=nets)
                for scale, stage in stages:
                    out += scale * _chunk_outputs(stage, Xt, n_outputs, est.device_)
            elif out is None:
                out = np.zeros((len(Xt), n_outputs))
            np.add(
                np.multiply(out, est.y_scale_, out=y[rows]), est.y_mean_, out=y[rows]
            )
    warn_non_finite(y, stacklevel=stacklevel + 1)
    return y


#: est -> (x_min_, x_max_, log columns, lo, hi, log_check): the box limits of
#: :func:`box_limits`, made once per fit (a fit sets new x_min_ and x_max_).
_BOXES = weakref.WeakKeyDictionary()


def _box(est):
    """``(lo, hi, log_check)`` of ``est``'s training box, cached per fit.

    ``log_check``: whether a value <= 0 of a log column could pass as inside
    (its ``lo`` underflowed to 0), so the columns must be checked anyway.
    """
    cols = tuple(est.log_columns_)
    hit = _BOXES.get(est)
    if hit and hit[0] is est.x_min_ and hit[1] is est.x_max_ and hit[2] == cols:
        return hit[3:]
    lo, hi = box_limits(est.x_min_, est.x_max_, log_columns=cols)
    log_check = bool(cols) and not (lo[list(cols)] > 0).all()
    _BOXES[est] = (est.x_min_, est.x_max_, cols, lo, hi, log_check)
    return lo, hi, log_check


#: Largest float32: transformed inputs beyond it cannot reach the network.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def later_stages(est):
    """``[(scale, nets), ...]``: the stages after the first (``n_stages``).

    Each adds ``scale`` times the mean of its nets to the first stage's
    ``residual_scale_`` times the mean of ``nets_``, in standardised units.
    """
    scales = getattr(est, "stage_scales_", [])
    return list(zip(scales, getattr(est, "stage_nets_", []), strict=True))


def _chunks(n, size=PREDICT_BATCH):
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _check_log_columns(X, inputs):
    """Raise the input transform's own error when a log column is not positive.

    Only where the logs replace the columns (``input_transform="log"``): an
    appended log is floored instead (:class:`InputArrays`). Checked on all rows
    before the chunks, so the message names every offending column and the
    smallest value, as an unchunked transform would.
    """
    if inputs is None or not inputs.log_columns or inputs.append:
        return
    cols = list(inputs.log_columns)
    if len(X) and (X.min(axis=0)[cols] <= 0).any():
        features._checked_log(X, cols)  # raises, naming the columns


def ensemble_outputs(nets, Xt64, n_outputs, device):
    """Average output of the networks for each output column, as float64.

    Parameters
    ----------
    nets : list of (list of int, skorch net)
        Each net with the output columns it predicts.
    Xt64 : ndarray of shape (n_samples, n_inputs)
        Transformed inputs.
    n_outputs : int
    device : str
        Where the nets live.

    Returns
    -------
    out : ndarray of shape (n_samples, n_outputs)
        The mean over the nets of each column; 0 for a column no net predicts
        (a fit interrupted before its net), so the base alone predicts it.
    """
    out = np.empty((len(Xt64), n_outputs))
    with torch.inference_mode():
        for rows in _chunks(len(Xt64)):
            out[rows] = _chunk_outputs(nets, Xt64[rows], n_outputs, device)
    return out


def _chunk_outputs(nets, Xt64, n_outputs, device):
    """:func:`ensemble_outputs` of one chunk of rows."""
    if len(nets) == 1 and list(nets[0][0]) == list(range(n_outputs)):
        return network_output(nets[0][1], Xt64, device)  # the mean of one
    out = np.zeros((len(Xt64), n_outputs))
    counts = np.zeros(n_outputs)
    for group, net in nets:
        out[:, group] += network_output(net, Xt64, device)
        counts[group] += 1
    return out / np.maximum(counts, 1)


def network_output(net, Xt64, device):
    """One net's outputs for transformed inputs, as float64 NumPy.

    On the CPU the trained float32 weights are evaluated in float64 (a copy made
    once per set of weights, see :func:`float64_forward`): a row's prediction
    then depends on the rest of its batch only through float64 rounding (BLAS
    kernels sum in an order that depends on the batch size, so a row alone and
    the same row in a batch agree to about 1e-15 relative, not bit for bit), and
    the output carries no float32 rounding; it runs :data:`CPU_BLOCK` rows at a
    time. On a GPU the network runs at its training precision: float32 (or, for
    ``precision="float64"``, float64 inputs, not rounded to float32 on the
    way). Call it with at most
    :data:`PREDICT_BATCH` rows, under :func:`torch.inference_mode`.
    """
    if device == "cpu":
        forward = float64_forward(net.module_)
        X = torch.from_numpy(Xt64)
        if len(X) <= CPU_BLOCK:
            return forward(X).numpy()
        parts = [forward(X[i : i + CPU_BLOCK]) for i in range(0, len(X), CPU_BLOCK)]
        return torch.cat(parts).numpy()
    float64 = getattr(net.module_, "precision", None) == "float64"
    Xt = torch.from_numpy(np.asarray(Xt64, dtype=np.float64 if float64 else np.float32))
    return np.asarray(net.predict(Xt), dtype=np.float64)


# ---------------------------------------------------------------------- float64 copies

#: module -> (its weights and their versions, the float64 forward). Weak keys:
#: an entry goes with its module, and nothing is added to the net or its pickle.
_FLOAT64 = weakref.WeakKeyDictionary()


def float64_forward(module):
    """A float64 evaluation-mode forward function of ``module``, made once.

    The float64 copy is cached until the module's weights change: a refit builds
    a new module; ``load_state_dict``, ``load_params`` and unfused optimizer
    steps change the tensors in place, which bumps their version counters; a
    tensor replaced by assignment (``layer.weight = ...``, or its ``.data``) is
    seen too. Fused optimizer steps and in-place writes through ``.data`` leave
    the counters alone: call :func:`drop_float64` after them (training code
    that continues a fitted net does). An :class:`~sknnfit.modules.MLP`
    becomes a list of ``F.linear`` calls and activation functions (the kernels
    its layers call, so the outputs are the same, without a Python module call
    per layer).

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    forward : callable
        Maps a float64 tensor of transformed inputs to the module's float64
        output, with or without :func:`torch.inference_mode`.
    """
    hit = _FLOAT64.get(module)
    if hit is not None and _unchanged(hit[0]):
        return hit[1]
    # Normal tensors without gradients, even when predict runs under
    # inference_mode: the copy must serve callers outside it too.
    with torch.inference_mode(False), torch.no_grad():
        copy64 = copy.deepcopy(module).double().eval().requires_grad_(False)
    try:
        forward = _mlp_forward(network_layers(copy64))
    except TypeError:
        forward = copy64
    weights = _weights(module)
    if weights is not None:
        _FLOAT64[module] = (weights, forward)
    return forward


def _weights(module):
    """``(owner, name, tensor, version)`` for each parameter and buffer, or None.

    None for inference tensors, which have no version counter (a module built
    under :func:`torch.inference_mode`): those are copied on every call.
    """
    weights = []
    for sub in module.modules():
        for owner in (sub._parameters, sub._buffers):
            for name, tensor in owner.items():
                if tensor is None:
                    continue
                if tensor.is_inference():
                    return None
                weights.append(
                    (owner, name, tensor, tensor._version, tensor.data_ptr())
                )
    return weights


def _unchanged(weights):
    # A dict lookup and two numbers per tensor: far cheaper than walking the
    # module tree again, which a one-row predict would notice.
    return all(
        owner.get(name) is t and t._version == version and t.data_ptr() == ptr
        for owner, name, t, version, ptr in weights
    )


def drop_float64(module):
    """Forget ``module``'s float64 copy: its weights changed unseen.

    Needed after in-place updates that leave the version counters alone:
    fused optimizer steps (``Adam(fused=True)``, AdamW) and writes through
    ``tensor.data``.
    """
    _FLOAT64.pop(module, None)


@dataclasses.dataclass(frozen=True)
class Layer:
    """One step of an MLP's forward pass.

    ``kind`` is ``"linear"`` (``weight`` of shape (out, in), ``bias``),
    ``"periodic"`` (``weight``: the frequencies of
    :class:`~sknnfit.modules.PeriodicFeatures`) or an activation of
    :data:`sknnfit._options.ACTIVATIONS`; ``param`` is the negative slope of
    ``"leaky_relu"``, the frequency of ``"sin"`` and the approximation
    (``"none"`` or ``"tanh"``) of ``"gelu"``.
    """

    kind: str
    weight: torch.Tensor | None = None
    bias: torch.Tensor | None = None
    param: object = None


def network_layers(module):
    """An :class:`~sknnfit.modules.MLP` as ``(trunk, skip)``: lists of :class:`Layer`.

    The output is ``run(trunk, x) + run(skip, x)``, or ``run(trunk, x)`` when
    ``skip`` is None.

    Raises
    ------
    TypeError
        If ``module`` is not an MLP built of the layers sknnfit makes (a custom
        ``module`` passed through ``net_params``).
    """
    if type(module) is not MLP:
        raise TypeError(
            f"Only sknnfit.modules.MLP networks can be read as layers; got "
            f"{type(module).__name__}."
        )
    activations = {
        nn.ReLU: ("relu", None),
        nn.Tanh: ("tanh", None),
        nn.SiLU: ("silu", None),
    }
    trunk = []
    if module.periodic is not None:
        trunk.append(Layer("periodic", module.periodic.frequencies))
    for layer in [*module.hidden, module.out]:
        kind = type(layer)
        if kind is nn.Linear:
            trunk.append(Layer("linear", layer.weight, layer.bias))
        elif kind in activations:
            trunk.append(Layer(*activations[kind]))
        elif kind is nn.LeakyReLU:
            trunk.append(Layer("leaky_relu", param=float(layer.negative_slope)))
        elif kind is nn.GELU:
            trunk.append(Layer("gelu", param=layer.approximate))
        elif kind is Sine:
            trunk.append(Layer("sin", param=layer.w0))
        else:
            raise TypeError(f"MLP layer {kind.__name__} is not one sknnfit builds.")
    skip = None
    if module.skip is not None:
        skip = [Layer("linear", module.skip.weight, module.skip.bias)]
    return trunk, skip


def _activation(layer):
    """The function an activation or ``"periodic"`` :class:`Layer` stands for,
    as its module calls it."""
    if layer.kind == "periodic":
        return lambda x: periodic_features(x, layer.weight)
    if layer.kind == "relu":
        return F.relu
    if layer.kind == "tanh":
        return torch.tanh
    if layer.kind == "silu":
        return F.silu
    if layer.kind == "leaky_relu":
        return lambda x: F.leaky_relu(x, layer.param)
    if layer.kind == "gelu":
        return lambda x: F.gelu(x, approximate=layer.param)
    return lambda x: torch.sin(layer.param * x)  # Sine.forward


def _run(steps, x):
    for linear, act in steps:
        x = F.linear(x, *linear) if act is None else act(x)
    return x


def _mlp_forward(layers):
    trunk, skip = (
        None
        if part is None
        else [
            ((s.weight, s.bias), None) if s.kind == "linear" else (None, _activation(s))
            for s in part
        ]
        for part in layers
    )
    if skip is None:
        return lambda x: _run(trunk, x)
    return lambda x: _run(trunk, x) + _run(skip, x)


# ---------------------------------------------------------------------- sklearn parts


@dataclasses.dataclass(frozen=True)
class InputArrays:
    """The fitted input transform of :func:`sknnfit.features.make_input_transformer`.

    ``log_columns`` get their log, appended after the inputs (``append``, for
    ``input_transform="auto"``) or in their place; then every column is
    standardised with ``mean`` and ``scale`` (None: passed through).

    ``log_floor`` (appended logs only; None: none): per log column, the value
    whose log stands in for a value <= 0, where the log is undefined. Only the
    log is floored; the column itself keeps its value.
    """

    log_columns: tuple
    append: bool
    mean: np.ndarray | None
    scale: np.ndarray | None
    log_floor: np.ndarray | None = None

    def transform(self, X):
        """The transformed inputs, computed as the scikit-learn steps compute them."""
        cols = list(self.log_columns)
        if cols and self.append:
            Xt = np.empty((len(X), X.shape[1] + len(cols)))
            Xt[:, : X.shape[1]] = X
            logged = X[:, cols]
            if self.log_floor is not None:
                logged = np.where(logged > 0, logged, self.log_floor)
            np.log(logged, out=Xt[:, X.shape[1] :])
        else:
            Xt = X.copy()
            if cols:
                Xt[:, cols] = np.log(X[:, cols])
        if self.mean is not None:
            Xt -= self.mean
            Xt /= self.scale
        return Xt


def transform_inputs(est, X):
    """The network's inputs for validated ``X``: ``est``'s input transform.

    As :func:`predict` computes them, appended logs floored (:func:`input_arrays`).
    """
    inputs = input_arrays(est.input_transformer_, est.x_min_)
    if inputs is None:
        return est.input_transformer_.transform(X)
    return inputs.transform(X)


def input_arrays(transformer, x_min=None):
    """``transformer`` as :class:`InputArrays`; None if sknnfit did not build it.

    ``x_min`` (the training minimum of every input, ``NNRegressor.x_min_``)
    gives appended logs their floor: a value <= 0 there takes the log of its
    column's training minimum. None: no floor, as the scikit-learn steps.
    """
    if type(transformer) is FunctionTransformer and transformer.func is None:
        return InputArrays((), False, None, None)  # input_transform="none"
    if type(transformer) is not Pipeline:
        return None
    steps = [step for _, step in transformer.steps]
    log = steps.pop(0) if len(steps) == 2 else None
    scaler = steps[0] if len(steps) == 1 else None
    if (
        not (type(scaler) is StandardScaler and scaler.with_mean and scaler.with_std)
        or getattr(scaler, "scale_", None) is None
    ):
        return None
    if log is None:
        return InputArrays((), False, scaler.mean_, scaler.scale_)
    funcs = {features._append_log_columns: True, features._log_columns: False}
    if type(log) is not FunctionTransformer or log.func not in funcs:
        return None
    columns = tuple(int(j) for j in (log.kw_args or {}).get("columns", ()))
    append = funcs[log.func]
    floor = None
    if append and columns and x_min is not None:
        floor = np.asarray(x_min, dtype=np.float64)[list(columns)]
    return InputArrays(columns, append, scaler.mean_, scaler.scale_, floor)


@dataclasses.dataclass(frozen=True)
class BaseArrays:
    """A fitted closed-form base of :func:`sknnfit.bases.make_base` as arrays.

    The prediction is ``P @ coef.T + intercept``, where ``P`` is the inputs
    (``degree`` 1) or their polynomial features of :func:`polynomial_blocks`
    standardised with ``mean`` and ``scale``.
    """

    degree: int
    mean: np.ndarray | None
    scale: np.ndarray | None
    coef: np.ndarray
    intercept: np.ndarray | float

    def features(self, X):
        """The standardised features the ridge model takes."""
        if self.degree == 1:
            return X
        n, d = X.shape
        P = np.empty((n, math.comb(d + self.degree, self.degree) - 1))
        P[:, :d] = X
        for start, end, col, at in polynomial_blocks(d, self.degree):
            # PolynomialFeatures' own recurrence, so the features round alike.
            np.multiply(
                P[:, start:end], X[:, col : col + 1], out=P[:, at : at + end - start]
            )
        return (P - self.mean) / self.scale

    def predict(self, X):
        """The base's prediction (as the fitted ridge model returns it)."""
        return self.features(X) @ self.coef.T + self.intercept


def polynomial_blocks(n_features, degree):
    """How ``PolynomialFeatures(degree, include_bias=False)`` builds its columns.

    Parameters
    ----------
    n_features, degree : int

    Returns
    -------
    blocks : list of (int, int, int, int)
        ``(start, end, col, at)``: columns ``at : at + end - start`` are columns
        ``start : end`` times input column ``col``; columns ``0 : n_features``
        are the inputs. In order, so each block reads columns already built.

    Examples
    --------
    >>> polynomial_blocks(2, 2)  # x0, x1, x0*x0, x0*x1, x1*x1
    [(0, 2, 0, 2), (1, 2, 1, 4)]
    """
    blocks = []
    index = [*range(n_features), n_features]
    at = n_features
    for _ in range(2, degree + 1):
        new_index, end = [], index[-1]
        for col in range(n_features):
            start = index[col]
            new_index.append(at)
            blocks.append((start, end, col, at))
            at += end - start
        new_index.append(at)
        index = new_index
    return blocks


#: The linear models a base may end in; their prediction is X @ coef_.T + intercept_.
_LINEAR_MODELS = (Ridge, RidgeCV, LinearRegression)


def base_arrays(base):
    """A fitted base as :class:`BaseArrays`; None if sknnfit did not build it."""
    if isinstance(base, _LINEAR_MODELS):
        return BaseArrays(1, None, None, base.coef_, base.intercept_)
    if type(base) is not Pipeline or len(base.steps) != 3:
        return None
    poly, scaler, ridge = (step for _, step in base.steps)
    if not (
        type(poly) is PolynomialFeatures
        and isinstance(poly.degree, numbers.Integral)
        and poly.degree >= 1
        and not poly.include_bias
        and not poly.interaction_only
        and type(scaler) is StandardScaler
        and scaler.with_mean
        and scaler.with_std
        and isinstance(ridge, _LINEAR_MODELS)
    ):
        return None
    n_columns = math.comb(poly.n_features_in_ + poly.degree, poly.degree) - 1
    if poly.n_output_features_ != n_columns:
        return None
    return BaseArrays(
        int(poly.degree), scaler.mean_, scaler.scale_, ridge.coef_, ridge.intercept_
    )


# ---------------------------------------------------------------------- warnings


def outside_box(X, x_min, x_max, slack=EXTRAPOLATION_SLACK, log_columns=()):
    """Boolean mask of the rows of ``X`` outside the box ``[x_min, x_max]``.

    A row counts as outside when it passes the box by more than ``slack`` times
    the column's range: test rows of a sampled distribution land past the edges
    of the training sample, by more the fewer the training rows and the longer
    the tails, which is not extrapolation worth a warning.
    """
    lo, hi = box_limits(x_min, x_max, slack, log_columns)
    return _outside(X, lo, hi)


def box_limits(x_min, x_max, slack=EXTRAPOLATION_SLACK, log_columns=()):
    """``(lo, hi)``: the box widened by ``slack``, in decades for ``log_columns``.

    In the units of ``X`` either way: a log column's limits are the exp of its
    limits in decades (the log is increasing), so a row is compared as it is,
    and a value <= 0 there falls below ``lo > 0``.
    """
    lo, hi = (np.array(a, dtype=np.float64) for a in (x_min, x_max))
    cols = list(log_columns)
    if cols:
        # Decade-spanning columns (the network gets their log): distances in
        # decades, so a heavy right tail is not mistaken for extrapolation.
        lo[cols], hi[cols] = np.log(lo[cols]), np.log(hi[cols])
    span = hi - lo
    margin = slack * np.where(span > 0, span, 1.0)
    lo, hi = lo - margin, hi + margin
    if cols:
        # Limits beyond float64: inf above (no value lies past it), the
        # smallest positive number below (so that 0 still falls outside).
        with np.errstate(over="ignore"):
            lo[cols] = np.maximum(np.exp(lo[cols]), np.nextafter(0.0, 1.0))
            hi[cols] = np.exp(hi[cols])
    return lo, hi


def _outside(X, lo, hi):
    """Mask of the rows of ``X`` outside ``[lo, hi]`` (of :func:`box_limits`)."""
    return ((X < lo) | (X > hi)).any(axis=1)


def warn_outside_box(outside, stacklevel=2):
    """ExtrapolationWarning when over EXTRAPOLATION_SHARE of the rows are outside."""
    _warn_outside(int(np.sum(outside)), len(outside), stacklevel=stacklevel + 1)


def _warn_outside(n_outside, n, stacklevel=2):
    if not n or n_outside / n <= EXTRAPOLATION_SHARE:
        return
    warnings.warn(
        f"{n_outside / n:.1%} of the rows ({n_outside} of {n}) "
        "lie outside the box of the training inputs (by over a quarter of a "
        "column's range); neural networks "
        "extrapolate poorly there. See sknnfit.diagnostics for an "
        "extrapolation check.",
        ExtrapolationWarning,
        stacklevel=stacklevel + 1,
    )


def warn_non_finite(y, stacklevel=2):
    """RuntimeWarning when predictions overflowed to NaN or infinity."""
    if np.isfinite(y).all():
        return
    n_bad = int((~np.isfinite(y)).sum())
    if n_bad:
        warnings.warn(
            f"{n_bad} prediction(s) are NaN or infinite: the network overflowed "
            "float32 on these inputs. Check X for extreme values.",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )
