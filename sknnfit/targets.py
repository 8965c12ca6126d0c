"""TargetTransformRegressor: fit any regressor on a log, asinh or rank scale of y.

The regression itself is scikit-learn's
:class:`~sklearn.compose.TransformedTargetRegressor`; this module only turns one
plain, grid-searchable parameter into a target kind, checks the targets, and
hands them to the transformer that :mod:`sknnfit.target_transforms` builds for
that kind (which says so when the way back loses information).
"""

from __future__ import annotations

import inspect
import warnings
from typing import ClassVar

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.utils import check_array, get_tags
from sklearn.utils.metadata_routing import (
    UNUSED,
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from ._compat import HasMethods, StrOptions
from ._validation import check_finite
from .estimators import NNRegressor

# Importable from here as before: tests and warning filters name it
# sknnfit.targets.ClippedPredictionWarning, and the docstring below refers to it.
from .exceptions import ClippedPredictionWarning
from .target_transforms import (
    TARGETS,
    auto_target,
    make_target_transformer,
    standardisable,
)

__all__ = ["ClippedPredictionWarning", "TargetTransformRegressor"]

#: Targets whose transform compresses the tails; an NNRegressor with loss="auto"
#: inside TargetTransformRegressor trains with loss="peak" on them.
TAIL_COMPRESSING = ("log", "log1p", "asinh")


def _has_auto_loss(regressor):
    """Whether ``regressor`` is an NNRegressor left at ``loss="auto"``."""
    return isinstance(regressor, NNRegressor) and regressor.loss == "auto"


def _exact_as_given(regressor, X, y, params):
    """Whether ``regressor``'s closed-form models fit ``y`` itself to rounding.

    Only an NNRegressor at ``base="auto"`` with its ``guard`` has them: a clone
    trained for one epoch (the closed-form models are fitted in full, and an
    exact one stops the network before it starts) tells whether one of them
    fits the held-out rows to float32's rounding (``max_epochs_`` is then 0).
    Not tried where y as given is too large to standardise (it cannot learn it).
    """
    if not (
        isinstance(regressor, NNRegressor)
        and regressor.base == "auto"
        and regressor.guard
        and standardisable(y.reshape(len(y), -1))
    ):
        return False
    probe = clone(regressor).set_params(max_epochs=1, n_stages=1, n_ensemble=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a one-epoch network's, not the user's
        probe.fit(X, y, **params)
    return probe.max_epochs_ == 0


def _transformed_y_val(target, transformer, y2, y_val):
    """``y_val`` on the scale the regressor learns: the transform fitted on ``y2``.

    The regressor's held-out rows (``fit(..., X_val=, y_val=)``) must be on the
    scale of the targets it is trained on, or its early stopping and guard
    would compare unlike things. The transformer fitted here on the training
    targets is the one TransformedTargetRegressor fits (a clone of it, on the
    same targets).
    """
    y_val = _check_y(y_val)
    yv2 = y_val.reshape(len(y_val), -1)
    try:
        make_target_transformer(target, yv2)  # its domain check
    except ValueError as error:
        raise ValueError(f"y_val: {error}") from None
    fitted = clone(transformer).fit(y2)
    return fitted.transform(yv2).reshape(y_val.shape)


def _routing_enabled():
    """Whether scikit-learn's metadata routing is on (``enable_metadata_routing``)."""
    return bool(sklearn.get_config().get("enable_metadata_routing", False))


def _takes_sample_weight(regressor):
    """Whether ``regressor.fit`` accepts ``sample_weight``, by name or ``**kwargs``."""
    try:
        parameters = inspect.signature(regressor.fit).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let fit decide
        return True
    return any(
        p.name == "sample_weight" or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in parameters
    )


def _check_y(y):
    """Validate y as a finite float64 array of 1 or 2 dimensions."""
    y = check_array(
        y,
        input_name="y",
        ensure_2d=False,
        dtype="numeric",
        ensure_all_finite=False,
    )
    if y.ndim > 2:
        raise ValueError(
            f"y must be 1-D (n_samples,) or 2-D (n_samples, n_outputs); got shape "
            f"{y.shape}."
        )
    y = y.astype(np.float64, copy=False)
    try:
        check_finite(y, "y")
    except ValueError as exc:
        # Keep check_finite's first sentence (what and where) but not its fix:
        # imputing in a Pipeline acts on X, and a target transform cannot learn
        # from made-up targets.
        problem = str(exc).split(". ", 1)[0]
        raise ValueError(
            f"{problem}. Drop those rows (from X too) before fitting; a target "
            "transform cannot learn from missing targets."
        ) from None
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError("y has 0 columns; pass at least one target.")
    return y


class TargetTransformRegressor(RegressorMixin, BaseEstimator):
    """Regressor fitted on a transformed scale of the targets.

    ``fit`` chooses a transformer from ``target``, then fits a scikit-learn
    :class:`~sklearn.compose.TransformedTargetRegressor` with it: the regressor
    learns ``transform(y)`` and ``predict`` maps its predictions back. Statistics
    (scale, quantiles) are fitted per output. Predictions come back in the shape
    of the ``y`` given to ``fit`` (1-D ``y`` gives 1-D predictions).

    Parameters
    ----------
    regressor : object, default=None
        Regressor with ``fit`` and ``predict``, cloned in ``fit``. None means
        :class:`~sknnfit.NNRegressor` with its defaults. An NNRegressor left at
        ``loss="auto"`` gets ``loss="peak"`` in its clone when the target is
        ``"log"``, ``"log1p"`` or ``"asinh"``: those compress the tails, so plain
        MSE on the compressed scale would give the largest targets, which dominate
        the error in the user's units, little weight. ``regressor_.loss`` shows
        the choice; set ``loss`` explicitly to keep your own.
    target : {"standard", "log", "log1p", "asinh", "rank", "rank_normal", \
            "auto"}, default="standard"
        Scale the regressor learns on:

        - ``"standard"``: centre and scale each output
          (:class:`~sklearn.preprocessing.StandardScaler`);
        - ``"log"``: ``log(y)``, back with ``exp``; needs ``y > 0``;
        - ``"log1p"``: ``log(1 + y)``, back with ``expm1``; needs ``y > -1``;
        - ``"asinh"``: ``asinh(y / s)`` with ``s`` the median ``|y|`` of each
          output (:class:`~sknnfit.target_transforms.AsinhTransformer`): a log
          for signed, long-tailed targets;
        - ``"rank"`` / ``"rank_normal"``: the empirical distribution function of
          each output, to a uniform or a normal scale
          (:class:`~sklearn.preprocessing.QuantileTransformer`, ``n_quantiles =
          min(1000, n_samples)``). Predictions cannot leave the range of the
          training targets: they are clipped at its ends, with a
          :class:`~sknnfit.exceptions.ClippedPredictionWarning`;
        - ``"auto"``: one of ``"log"``, ``"asinh"``, ``"standard"`` for all
          outputs, chosen from the training targets by
          :func:`~sknnfit.target_transforms.auto_target`; but ``"standard"``
          where the regressor is an NNRegressor whose closed-form models
          (``base="auto"``, ``guard=True``) fit the untransformed targets of its
          held-out rows to rounding (a one-epoch fit of a clone tells): a
          transform is there to help a network, and the closed-form model needs
          none.

    Attributes
    ----------
    target_ : str
        Kind used; differs from ``target`` only for ``"auto"``.
    ttr_ : sklearn.compose.TransformedTargetRegressor
        The fitted meta-estimator that does the work.
    regressor_ : object
        The fitted regressor (``ttr_.regressor_``), trained on transformed targets.
    transformer_ : object
        The fitted target transformer (``ttr_.transformer_``).
    n_features_in_ : int
        Number of input features, when ``X`` has a definite number of columns.
    feature_names_in_ : ndarray of str
        Input column names, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    sklearn.compose.TransformedTargetRegressor : The general tool, for any
        transformer or pair of functions.

    Notes
    -----
    ``X`` is passed to the regressor unchanged: put input scaling in the
    regressor (a Pipeline) so that cross-validation never leaks.

    For ``"log"``, ``"log1p"`` and ``"asinh"``, a prediction far beyond the
    training targets can overflow float64 on the way back; it is returned as
    infinity with a RuntimeWarning.

    ``sample_weight`` reaches the regressor only, as in
    TransformedTargetRegressor: the kind ``target="auto"`` picks and the
    transformer's statistics (centre and scale, asinh scale, rank quantiles)
    come from the unweighted targets. The transform is applied to every target,
    zero-weight rows included, so its domain and range must cover them all;
    the weights say which errors matter, and they do on any one-to-one scale.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sknnfit.targets import TargetTransformRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 5, size=(100, 1))
    >>> y = np.exp(2 * X[:, 0])
    >>> model = TargetTransformRegressor(LinearRegression(), target="auto")
    >>> model.fit(X, y).target_
    'log'
    >>> model.predict(X[:3]).shape
    (3,)
    >>> round(model.score(X, y), 6)
    1.0
    """

    # fit's sample_weight is routed to the regressor, not consumed here: no
    # set_fit_request(sample_weight=...) of this class's own, which would do
    # nothing (TransformedTargetRegressor has none either).
    __metadata_request__fit: ClassVar[dict] = {"sample_weight": UNUSED}

    _parameter_constraints: ClassVar[dict] = {
        "regressor": [HasMethods(["fit", "predict"]), None],
        "target": [StrOptions(set(TARGETS))],
    }

    def __init__(self, regressor=None, *, target="standard"):
        self.regressor = regressor
        self.target = target

    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the regressor on the transformed targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, passed to the regressor unchanged.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Finite numeric targets, within the domain of ``target``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights for the regressor's ``fit``. The target transform and the
            choice of ``target="auto"`` do not use them (see Notes). With metadata
            routing enabled, the regressor must request them
            (``regressor.set_fit_request(sample_weight=True)``); without it, they
            are passed on when given, and the regressor's ``fit`` must accept them.
        **fit_params : dict
            Other parameters of the regressor's ``fit``: passed on unchanged, or
            routed when metadata routing is enabled; but ``y_val`` (the held-out
            targets of ``NNRegressor.fit(..., X_val=, y_val=)``) is transformed
            as ``y`` is, so that the regressor's held-out rows are on the scale
            it learns.

        Returns
        -------
        self : TargetTransformRegressor
            The fitted estimator.
        """
        self._validate_params()
        # Records n_features_in_ and feature_names_in_ without converting X: the
        # regressor validates X itself, here and in predict.
        validate_data(self, X, y, skip_check_array=True)
        y = _check_y(y)
        y2 = y.reshape(len(y), -1)
        self.target_ = auto_target(y2) if self.target == "auto" else self.target
        regressor = self._make_regressor()
        params = dict(fit_params)
        if sample_weight is not None:
            params["sample_weight"] = sample_weight
        if _routing_enabled():
            # Raises scikit-learn's own error, naming set_fit_request, for
            # metadata the regressor has not said it wants.
            params = process_routing(self, "fit", **params).regressor.fit
        elif sample_weight is not None and not _takes_sample_weight(regressor):
            raise ValueError(
                f"{type(regressor).__name__}.fit takes no sample_weight, so "
                "TargetTransformRegressor cannot pass it on. Use a regressor whose "
                "fit accepts sample_weight (NNRegressor, Ridge, ...), or drop it."
            )
        if (
            self.target == "auto"
            and self.target_ != "standard"
            and _exact_as_given(regressor, X, y, params)
        ):
            # A transform is for the network's sake: where a closed-form model
            # fits y itself to rounding, none is trained, and the transform
            # would only make that model inexact (formula5: a sum of products
            # of powers of x, which asinh(y) is not).
            self.target_ = "standard"
        if self.target_ in TAIL_COMPRESSING and _has_auto_loss(regressor):
            # MSE on the compressed scale gives the rows with the largest targets,
            # which dominate the error in the user's units, little weight; the peak
            # loss gives them back up to 10x (formula5, seed 1: R² 0.99974 against
            # 0.99938 with MSE).
            regressor.set_params(loss="peak")
        transformer = make_target_transformer(self.target_, y2)
        if params.get("y_val") is not None:
            params["y_val"] = _transformed_y_val(
                self.target_, transformer, y2, params["y_val"]
            )
        self.ttr_ = TransformedTargetRegressor(
            regressor=regressor,
            transformer=transformer,
            # The transformers are exact inverses (tested property-based); the
            # check's warning would tell users to set an option they do not have.
            check_inverse=False,
        )
        self.ttr_.fit(X, y, **params)
        self.regressor_ = self.ttr_.regressor_
        self.transformer_ = self.ttr_.transformer_
        return self

    def predict(self, X, **predict_params):
        """Predict on the original scale of the targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs with the columns seen in ``fit``.
        **predict_params : dict
            Passed to the regressor's ``predict``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, 1-D when ``fit`` got a 1-D ``y``.
        """
        check_is_fitted(self, "ttr_")
        return self.ttr_.predict(X, **predict_params)

    def _make_regressor(self):
        """A clone of ``regressor``, or the default NNRegressor.

        Under metadata routing the default requests ``sample_weight`` when its
        ``fit`` takes it, as TransformedTargetRegressor's default
        LinearRegression does: the user cannot call ``set_fit_request`` on a
        regressor they did not pass.
        """
        if self.regressor is not None:
            return clone(self.regressor)
        regressor = NNRegressor()
        if (
            _routing_enabled()
            and "sample_weight" in inspect.signature(NNRegressor.fit).parameters
        ):
            regressor.set_fit_request(sample_weight=True)
        return regressor

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._make_regressor())
        # X goes to the regressor untouched, so it decides what X may be.
        tags.input_tags = inner.input_tags
        tags.target_tags.multi_output = inner.target_tags.multi_output
        # The closest tag to "y > 0" (log) and "y > -1" (log1p).
        tags.target_tags.positive_only = self.target in ("log", "log1p")
        # A regressor that is not a RegressorMixin has no regressor tags (as
        # TransformedTargetRegressor allows): keep this class's own.
        if inner.regressor_tags is not None:
            tags.regressor_tags.poor_score = inner.regressor_tags.poor_score
        return tags

    def get_metadata_routing(self):
        """Get the metadata routing of this object: everything goes to the regressor.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
            Routing of ``fit`` and ``predict`` parameters to the regressor.
        """
        return MetadataRouter(owner=self).add(
            regressor=self._make_regressor(),
            method_mapping=MethodMapping()
            .add(caller="fit", callee="fit")
            .add(caller="predict", callee="predict"),
        )
