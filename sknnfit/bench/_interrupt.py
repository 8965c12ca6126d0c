"""How :func:`~sknnfit.bench.compare` tells that a fit was cut short by Ctrl-C.

A Ctrl-C during ``NNRegressor.fit`` ends the fit early but gracefully: the model
keeps its best weights, warns :class:`~sknnfit.exceptions.FitInterruptedWarning`
and records ``interrupted_ = True``. Other models let the ``KeyboardInterrupt``
out of ``fit``. Either way the harness stops the run (see ``compare``'s Notes).
"""

from __future__ import annotations

from ..exceptions import FitInterruptedWarning

# Attributes through which a fitted meta-estimator exposes the model inside it.
_INNER = ("regressor_", "best_estimator_", "pipeline_", "estimator_")


def _has_interrupted_flag(estimator, depth=4):
    """``interrupted_`` of the estimator or of a model nested in it."""
    if estimator is None or depth < 0:
        return False
    if bool(getattr(estimator, "interrupted_", False)):
        return True
    inner = [getattr(estimator, attr, None) for attr in _INNER]
    steps = getattr(estimator, "steps", None)
    if steps:
        inner.append(steps[-1][1])
    return any(_has_interrupted_flag(sub, depth - 1) for sub in inner)


def fit_was_interrupted(estimator, caught=()):
    """Whether a fit that returned was cut short by Ctrl-C.

    Parameters
    ----------
    estimator : estimator
        The model after ``fit`` returned.
    caught : list of warnings.WarningMessage, default=()
        The warnings recorded during the fit.

    Returns
    -------
    interrupted : bool
        True when a :class:`~sknnfit.exceptions.FitInterruptedWarning` was
        recorded, or the model (or a regressor inside it: ``regressor_``,
        ``best_estimator_``, a pipeline's last step) has ``interrupted_ = True``.
    """
    if any(issubclass(w.category, FitInterruptedWarning) for w in caught):
        return True
    return _has_interrupted_flag(estimator)
