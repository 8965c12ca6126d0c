"""Targets whose scale is set by a few extreme values.

NNRegressor trains on y divided by its standard deviation. When a handful of
rows lie so far from the rest that, without them, the standard deviation is a
thousandth of what it is with them, the other rows vary by a thousandth of the
scale the network is fitted on: fitting their variation would take an error far
below that, which a float32 network rarely reaches, and it fits their mean.
:func:`outlying_targets` finds those outputs so that ``fit`` can say so, and
name the fix.
"""

from __future__ import annotations

import math

import numpy as np

#: The extreme rows looked at: this share of the rows, at least one.
OUTLIER_SHARE = 1e-3

#: ... and an output is dominated by them when, without them, its standard
#: deviation is at most this share of the full one (and not 0: a constant bulk
#: with a few spikes is a shape a network fits).
SPREAD_RATIO = 1e-3


def outlying_targets(y2, w=None):
    """The outputs of ``y2`` whose standard deviation a few rows set.

    Parameters
    ----------
    y2 : ndarray of shape (n_samples, n_outputs)
        Finite training targets.
    w : ndarray of shape (n_samples,) or None
        Sample weights; rows of weight 0 count as absent.

    Returns
    -------
    found : list of dict
        One per dominated output: ``output``, ``n_rows`` (the extreme rows
        left out), ``row`` (the most extreme, as an index into ``y2``),
        ``value`` (its target), ``std`` and ``std_without`` (the standard
        deviation with and without the extreme rows).
    """
    rows = np.arange(len(y2)) if w is None else np.flatnonzero(w > 0)
    weights = None if w is None else w[rows]
    k = max(1, math.ceil(OUTLIER_SHARE * len(rows)))
    found = []
    if len(rows) <= k + 1:
        return found
    for j in range(y2.shape[1]):
        col = y2[rows, j]
        distance = np.abs(col - np.median(col))
        rest = np.ones(len(col), dtype=bool)
        rest[np.argpartition(distance, len(col) - k)[-k:]] = False
        std = _std(col, weights)
        std_without = _std(col[rest], None if weights is None else weights[rest])
        if 0 < std_without <= SPREAD_RATIO * std:
            extreme = int(np.argmax(distance))
            found.append(
                {
                    "output": j,
                    "n_rows": k,
                    "row": int(rows[extreme]),
                    "value": float(col[extreme]),
                    "std": std,
                    "std_without": std_without,
                }
            )
    return found


def _std(values, weights):
    mean = np.average(values, weights=weights)
    return float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))
