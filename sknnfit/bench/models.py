"""The models :func:`~sknnfit.bench.compare` knows by name, and how it reads its
``models`` argument.
"""

from __future__ import annotations

from collections import Counter

from sklearn.base import clone

from .._validation import did_you_mean
from .baselines import BASELINES, make_baseline

__all__ = ["MODELS", "make_model"]

MODELS = {
    "nn": "NNRegressor with its defaults (sknnfit.NNRegressor).",
    "nn-auto-target": (
        "NNRegressor inside TargetTransformRegressor(target='auto'): log or "
        "asinh of heavy-tailed targets, chosen from the training targets."
    ),
    **BASELINES,
}
"""Model names :func:`~sknnfit.bench.compare` accepts, with a one-line description
each."""


def make_model(name, *, random_state=0):
    """Build an unfitted model by the name :func:`~sknnfit.bench.compare` knows
    it by.

    Parameters
    ----------
    name : str
        One of the keys of :data:`MODELS`: ``"nn"`` (:class:`~sknnfit.NNRegressor`),
        ``"nn-auto-target"`` (an NNRegressor in
        :class:`~sknnfit.targets.TargetTransformRegressor` with ``target="auto"``),
        or a baseline of :func:`sknnfit.bench.baselines.make_baseline` (``"poly"``,
        ``"hgb"``, ``"rf"``, ``"mlp"``, ``"lgbm"``, ``"xgb"``).
    random_state : int, default=0
        Seed of the model.

    Returns
    -------
    estimator : regressor
        An unfitted estimator.

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.
    ImportError
        If the model needs an optional package that is not installed.

    Examples
    --------
    >>> from sknnfit.bench import make_model
    >>> make_model("nn", random_state=3)
    NNRegressor(random_state=3)
    """
    if not isinstance(name, str) or name not in MODELS:
        raise did_you_mean("model", name, MODELS)
    from ..estimators import NNRegressor

    if name == "nn":
        return NNRegressor(random_state=random_state)
    if name == "nn-auto-target":
        # Lazy: targets.py imports estimators, and keeps the bench importable
        # on its own.
        from ..targets import TargetTransformRegressor

        return TargetTransformRegressor(
            NNRegressor(random_state=random_state), target="auto"
        )
    return make_baseline(name, random_state=random_state)


def _seeded(estimator, seed):
    """A clone of ``estimator`` with every ``random_state`` parameter set to seed."""
    estimator = clone(estimator)
    keys = [
        key
        for key in estimator.get_params(deep=True)
        if key == "random_state" or key.endswith("__random_state")
    ]
    if keys:
        estimator.set_params(**dict.fromkeys(keys, seed))
    return estimator


def _resolve_models(models):
    """``[(name, spec)]`` where spec is a model name or an estimator."""
    if isinstance(models, str) or hasattr(models, "fit"):
        models = [models]
    if isinstance(models, dict):
        items = list(models.items())
    else:
        items = []
        for model in models:
            name = model if isinstance(model, str) else type(model).__name__
            items.append((name, model))
    if not items:
        raise ValueError("models is empty; pass at least one name or estimator.")

    resolved, seen = [], Counter()
    for name, spec in items:
        if isinstance(spec, str):
            make_model(spec)  # unknown names and missing packages fail now
        elif not (hasattr(spec, "fit") and hasattr(spec, "predict")):
            raise TypeError(
                f"Model {name!r} is a {type(spec).__name__}, not an estimator: pass "
                f"a name from {sorted(MODELS)} or an object with fit and predict."
            )
        seen[name] += 1
        label = str(name) if seen[name] == 1 else f"{name}-{seen[name]}"
        resolved.append((label, spec))
    return resolved


def _make_estimator(spec, seed):
    """The estimator of one fit: ``spec`` built by name, or cloned and seeded."""
    if isinstance(spec, str):
        return make_model(spec, random_state=seed)
    return _seeded(spec, seed)
