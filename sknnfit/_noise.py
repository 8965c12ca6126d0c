"""How much of a residual looks like noise: nearest-neighbour differences.

For noise of variance s**2 on top of a smooth function, half the mean squared
difference between the residuals of each row and of its nearest neighbour in
the inputs is about s**2 (the function barely moves between neighbours), while
the residual's mean square is s**2 plus what is left to learn. Their ratio is
about 1 when the residual is noise and small when it is a smooth function, the
difference-based variance estimate of Rice (1984) and the Gamma test carried to
several inputs.
"""

from __future__ import annotations

import numpy as np

#: At most this many rows are compared (a random subset beyond).
MAX_ROWS = 20_000


def noise_share(X, residual, random_state=0):
    """Share of ``residual``'s mean square that neighbouring rows call noise.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs, on comparable scales (standardised).
    residual : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        What a model leaves on those rows.
    random_state : int, default=0
        Picks the subset when there are more than :data:`MAX_ROWS` rows.

    Returns
    -------
    share : float
        ``mean((r_i - r_nn(i))**2) / 2 / mean(r**2)`` over rows and outputs,
        with ``nn(i)`` the nearest other row: about 1 for noise, near 0 for a
        residual that is smooth at the spacing of the rows; nan for fewer than
        3 rows or a zero residual.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(2000, 2))
    >>> round(noise_share(X, rng.normal(size=2000)), 1)
    1.0
    >>> bool(noise_share(X, np.sin(3 * X[:, 0])) < 0.05)
    True
    """
    r = np.asarray(residual, dtype=np.float64).reshape(len(X), -1)
    X, r = _subset(X, r, random_state)
    total = np.mean(r**2)
    if len(X) < 3 or not total > 0:
        return float("nan")
    other, _ = _nearest(X)
    return float(0.5 * np.mean((r - r[other]) ** 2) / total)


def residual_wavenumber(X, residual, random_state=0):
    """Root-mean-square wavenumber of ``residual``, from nearest-neighbour slopes.

    For ``r = a * sin(k . x)`` the mean square of the slope between neighbours
    along a random direction is ``a**2 |k|**2 / (2 d)`` in ``d`` inputs and the
    mean square of ``r`` is ``a**2 / 2``, so ``sqrt(d * mean(slope**2) /
    mean(r**2))`` is ``|k|``: the rate, in radians per unit of the inputs, at
    which the residual oscillates. Meaningful where the rows resolve it (several
    rows per period) and the residual is not noise (:func:`noise_share`).

    Parameters
    ----------
    X, residual, random_state
        As in :func:`noise_share`.

    Returns
    -------
    wavenumber : float
        nan for fewer than 3 distinct rows or a zero residual.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-2, 2, 2001)[:, None]
    >>> round(residual_wavenumber(x, np.sin(15 * x[:, 0])))
    15
    """
    r = np.asarray(residual, dtype=np.float64).reshape(len(X), -1)
    X, r = _subset(X, r, random_state)
    # Repeated inputs have no distance to divide by: one row each.
    X, first = np.unique(X, axis=0, return_index=True)
    r = r[first]
    total = np.mean(r**2)
    if len(X) < 3 or not total > 0:
        return float("nan")
    other, distance = _nearest(X)
    slope = (r - r[other]) / distance[:, None]
    return float(np.sqrt(X.shape[1] * np.mean(slope**2) / total))


def _subset(X, r, random_state):
    """At most :data:`MAX_ROWS` rows of ``X`` and ``r``, a random subset beyond."""
    if len(X) > MAX_ROWS:
        rows = np.random.default_rng(random_state).choice(len(X), MAX_ROWS, False)
        return X[rows], r[rows]
    return X, r


def _nearest(X):
    """Each row's nearest other row and the distance to it."""
    from sklearn.neighbors import NearestNeighbors

    distance, idx = NearestNeighbors(n_neighbors=2).fit(X).kneighbors(X)
    # Duplicated rows are their own nearest neighbour: take the other column.
    own = idx[:, 0] == np.arange(len(X))
    return np.where(own, idx[:, 1], idx[:, 0]), np.where(own, distance[:, 1], 0.0)
