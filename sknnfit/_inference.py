"""What predict does around the networks: float64 outputs, and its two warnings."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import torch

from .exceptions import ExtrapolationWarning

#: Rows per forward pass at predict time (memory, not accuracy).
PREDICT_BATCH = 8192

#: predict warns about rows beyond the training box by more than this share of
#: each column's range.
EXTRAPOLATION_SLACK = 0.01


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

    On the CPU the trained float32 weights are evaluated in float64: every row
    then gets the same result whatever else is in the batch (float32 matrix
    kernels round differently for different batch sizes), and the output
    carries no float32 rounding. On a GPU the float32 path is kept.
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


def outside_box(X, x_min, x_max):
    """Boolean mask of the rows of ``X`` outside the box ``[x_min, x_max]``.

    A row counts as outside when it passes the box by more than
    :data:`EXTRAPOLATION_SLACK` of the column's range: test rows of a sampled
    box land a hair past its edges, which is not extrapolation worth a warning.
    """
    span = x_max - x_min
    slack = EXTRAPOLATION_SLACK * np.where(span > 0, span, 1.0)
    return ((X < x_min - slack) | (X > x_max + slack)).any(axis=1)


def warn_outside_box(outside, stacklevel=2):
    """ExtrapolationWarning naming the share of rows outside the training box."""
    if not outside.any():
        return
    warnings.warn(
        f"{outside.mean():.1%} of the rows ({int(outside.sum())} of {len(outside)}) "
        "lie outside the box of the training inputs; neural networks "
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
