"""What predict does around the networks: float64 outputs, and its two warnings."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import torch

from .exceptions import ExtrapolationWarning

#: Rows per forward pass at predict time (memory, not accuracy).
PREDICT_BATCH = 8192

#: A row is outside the training box when, in some column, it passes the box by
#: more than this share of the column's training range (in decades for the
#: log-transformed columns) ...
EXTRAPOLATION_SLACK = 0.25

#: ... and predict warns when more than this share of its rows are outside.
#: Chosen by benchmarks/extrapolation.py: few warnings on random splits of one
#: sample, a clear one on data that leaves the box.
EXTRAPOLATION_SHARE = 0.01


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
    out = np.zeros((len(Xt64), n_outputs))
    counts = np.zeros(n_outputs)
    for group, net in nets:
        out[:, group] += network_output(net, Xt64, device)
        counts[group] += 1
    return out / np.maximum(counts, 1)


def network_output(net, Xt64, device):
    """One net's outputs for transformed inputs, as float64 NumPy.

    On the CPU the trained float32 weights are evaluated in float64: a row's
    prediction then depends on the rest of its batch only through float64
    rounding (BLAS kernels sum in an order that depends on the batch size, so a
    row alone and the same row in a batch agree to about 1e-15 relative, not bit
    for bit), and the output carries no float32 rounding. On a GPU the float32
    path is kept.
    """
    if device == "cpu":
        module = copy.deepcopy(net.module_).double().eval()
        X = torch.from_numpy(Xt64)
        parts = [
            module(X[i : i + PREDICT_BATCH]).numpy()
            for i in range(0, len(X), PREDICT_BATCH)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, 1))
    Xt = torch.from_numpy(np.asarray(Xt64, dtype=np.float32))
    return np.asarray(net.predict(Xt), dtype=np.float64)


def outside_box(X, x_min, x_max, slack=EXTRAPOLATION_SLACK, log_columns=()):
    """Boolean mask of the rows of ``X`` outside the box ``[x_min, x_max]``.

    A row counts as outside when it passes the box by more than ``slack`` times
    the column's range: test rows of a sampled distribution land past the edges
    of the training sample, by more the fewer the training rows and the longer
    the tails, which is not extrapolation worth a warning.
    """
    if len(log_columns):
        # Decade-spanning columns (the network gets their log): distances in
        # decades, so a heavy right tail is not mistaken for extrapolation.
        cols = list(log_columns)
        X, x_min, x_max = (np.array(a, dtype=np.float64) for a in (X, x_min, x_max))
        with np.errstate(divide="ignore", invalid="ignore"):
            X[:, cols] = np.log(np.where(X[:, cols] > 0, X[:, cols], np.nan))
        x_min[cols], x_max[cols] = np.log(x_min[cols]), np.log(x_max[cols])
        X = np.where(np.isnan(X), -np.inf, X)  # a value <= 0: outside
    span = x_max - x_min
    margin = slack * np.where(span > 0, span, 1.0)
    return ((X < x_min - margin) | (X > x_max + margin)).any(axis=1)


def warn_outside_box(outside, stacklevel=2):
    """ExtrapolationWarning when over EXTRAPOLATION_SHARE of the rows are outside."""
    if not len(outside) or outside.mean() <= EXTRAPOLATION_SHARE:
        return
    warnings.warn(
        f"{outside.mean():.1%} of the rows ({int(outside.sum())} of {len(outside)}) "
        "lie outside the box of the training inputs (by over a quarter of a "
        "column's range); neural networks "
        "extrapolate poorly there. See sknnfit.diagnostics for an "
        "extrapolation check.",
        ExtrapolationWarning,
        stacklevel=stacklevel + 1,
    )


def warn_non_finite(y, stacklevel=2):
    """RuntimeWarning when predictions overflowed to NaN or infinity."""
    n_bad = int((~np.isfinite(y)).sum())
    if n_bad:
        warnings.warn(
            f"{n_bad} prediction(s) are NaN or infinite: the network overflowed "
            "float32 on these inputs. Check X for extreme values.",
            RuntimeWarning,
            stacklevel=stacklevel + 1,
        )
