"""The body of sknnfit's data-only files: fitted estimators to JSON and back.

:mod:`sknnfit.persistence` wraps what this module writes in an archive with a
header and checksums. Here, :class:`Encoder` turns parameters and fitted
attributes into JSON values, sending every numeric array to a flat dict of
tensors; :class:`Decoder` reverses it. The per-estimator functions store what
cannot be rebuilt (parameters, fitted attributes, transformer statistics,
network weights, training history) and rebuild the rest the way ``fit`` builds
it: the skorch nets from :func:`~sknnfit._auto.fitted_plan` and
:func:`~sknnfit.training.build_net`, the transformers from their factories.

Scikit-learn objects around or beside sknnfit's estimators (a Pipeline, a
ColumnTransformer of encoders and imputers, a TransformedTargetRegressor) are
stored the generic way: their constructor parameters and their fitted
attributes, both as data. Only the classes of :data:`SKLEARN_CLASSES` are
stored; loading one calls its constructor (which only stores its arguments)
and sets the fitted attributes, with the same refusal of names that shadow
methods as sknnfit's own.

Nothing the file names is imported or called: classes (which appear only when
a user put one in ``net_params``) are looked up in a fixed table of the classes
sknnfit trains with, scikit-learn classes in :data:`SKLEARN_CLASSES`, and other
names (transformer step classes) are only compared with what the factories
build.
"""

from __future__ import annotations

import json

import numpy as np
from sklearn.base import clone

from . import _values
from ._sizes import check_nnregressor, check_sklearn, check_ttr, periodic_columns
from ._values import _unsupported

__all__ = ["SKLEARN_CLASSES", "Decoder", "Encoder", "codecs", "supported_names"]

#: The scikit-learn classes :func:`sknnfit.save` stores as data, by their public
#: import path: composition, the usual encoders, imputers and scalers. Their
#: fitted state is plain arrays, strings and numbers; classes whose state holds
#: code (a function of the user's, a fitted tree) are not in the list.
SKLEARN_CLASSES = (
    "sklearn.compose.ColumnTransformer",
    "sklearn.compose.TransformedTargetRegressor",
    "sklearn.compose.make_column_selector",
    "sklearn.impute.MissingIndicator",
    "sklearn.impute.SimpleImputer",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing.FunctionTransformer",
    "sklearn.preprocessing.MaxAbsScaler",
    "sklearn.preprocessing.MinMaxScaler",
    "sklearn.preprocessing.OneHotEncoder",
    "sklearn.preprocessing.OrdinalEncoder",
    "sklearn.preprocessing.PolynomialFeatures",
    "sklearn.preprocessing.PowerTransformer",
    "sklearn.preprocessing.QuantileTransformer",
    "sklearn.preprocessing.RobustScaler",
    "sklearn.preprocessing.StandardScaler",
)


class Encoder(_values.Encoder):
    """:class:`sknnfit._values.Encoder` that also stores estimators: sknnfit's
    own and those of :data:`SKLEARN_CLASSES`."""

    def __init__(self):
        super().__init__(encode_object=_encode_object)


class Decoder(_values.Decoder):
    """:class:`sknnfit._values.Decoder` that also rebuilds the estimators
    :class:`Encoder` stores."""

    def __init__(self, tensors):
        super().__init__(tensors, decode_object=_decode_object)


# ------------------------------------------------------- attributes and steps


def _encode_params(est, enc, prefix):
    params = est.get_params(deep=False)
    if isinstance(params.get("random_state"), np.random.RandomState):
        # Only a later refit draws from it; the fitted weights are stored as is.
        params["random_state"] = None
    return enc(params, f"{prefix}params")


def _fitted_attributes(est):
    params = est.get_params(deep=False)
    return {k: v for k, v in vars(est).items() if k not in params}


def _set_fitted(est, attributes):
    """Set fitted attributes read from a file, refusing names that shadow methods."""
    for key, value in attributes.items():
        if not key.isidentifier() or hasattr(type(est), key):
            raise ValueError(
                f"The file sets the attribute {key!r} of {type(est).__name__}, "
                "which is not a fitted attribute; it was not written by "
                "sknnfit.save."
            )
        setattr(est, key, value)


_PLAIN = (type(None), bool, int, float, str)


def _steps(transformer):
    return list(getattr(transformer, "steps", [("step", transformer)]))


def _encode_steps(transformer, enc, prefix):
    """Class name, plain settings and fitted attributes of each step.

    Functions (``np.log`` and its inverse, the log columns in ``kw_args``) are
    not stored: loading rebuilds the transformer with the library's factory and
    then restores these values onto it.
    """
    return [
        {
            "name": name,
            "class": type(step).__name__,
            "params": {
                k: v
                for k, v in step.get_params(deep=False).items()
                if isinstance(v, _PLAIN)
            },
            # Private state too: PolynomialFeatures needs its _n_out_full.
            "fitted": {
                k: enc(v, f"{prefix}{name}.{k}")
                for k, v in _fitted_attributes(step).items()
            },
        }
        for name, step in _steps(transformer)
    ]


def _restore_steps(transformer, stored, dec, what):
    """Put the stored settings and statistics onto a freshly built transformer."""
    steps = _steps(transformer)
    built = [(name, type(step).__name__) for name, step in steps]
    saved = [(step["name"], step["class"]) for step in stored]
    if built != saved:
        raise ValueError(
            f"The file's {what} has steps {saved}; this sknnfit version builds "
            f"{built}. Load the model with the sknnfit version that saved it."
        )
    for (name, step), saved_step in zip(steps, stored, strict=True):
        params = saved_step["params"]
        if not all(isinstance(v, _PLAIN) for v in params.values()):
            raise ValueError(
                f"the file's {what} step {name!r} has settings that are not plain "
                f"values: {params!r}"
            )
        step.set_params(**params)
        _set_fitted(step, dec(saved_step["fitted"]))
    return transformer


# ------------------------------------------------------------------------- nets


def _encode_net(group, net, enc, prefix):
    """The outputs a net predicts, its training history and its weights.

    Not skorch's ``save_params(f_params=..., use_safetensors=True)``: it writes
    one whole safetensors file per module, so an ensemble would need one archive
    member and one checksum per net. Storing ``module_.state_dict()`` under the
    net's prefix keeps every tensor in the one checksummed payload.
    """
    for key, value in net.module_.state_dict().items():
        enc.tensor(f"{prefix}module.{key}", value)
    history = json.loads(json.dumps(net.history.to_list(), default=_plain))
    return {"group": enc(group, f"{prefix}group"), "history": history}


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise _unsupported("a value in net_.history", value)


def _stored_history(item, dec):
    """A net's history from its entry in the file, format 1 or 2.

    A format-1 entry also holds the net's skorch parameters. The plan rebuilds
    them, so they are ignored, after checking that the classes they name are
    in the table (as format 1 required).
    """
    if "net" in item:
        dec(item["net"]["params"])
        return item["net"]["history"]
    return item["history"]


def _n_inputs(state):
    """Inputs of an MLP's state: its first Linear's columns, less periodic features."""
    first = (
        state["hidden.0.weight"] if "hidden.0.weight" in state else state["out.weight"]
    )
    return first.shape[1] - periodic_columns(state)


def _rebuild_net(plan, n_outputs, state, history, where):
    """A fitted skorch net from the plan, the module's weights and the history.

    The stored weights must have exactly the shapes of the module the plan
    builds (checked on PyTorch's meta device, before anything is allocated).
    """
    from skorch.history import History

    from ._device import seeded_torch
    from ._sizes import check_module_state
    from .training import build_net

    net = build_net(plan, _n_inputs(state), n_outputs)
    check_module_state(net, state, where)
    # initialize() draws throw-away random weights from torch's global generator;
    # fork it so that loading leaves the caller's random state untouched.
    with seeded_torch(0, plan.device):
        net.initialize()
    net.module_.load_state_dict(state)
    net.history = History(history)
    return net


# ------------------------------------------------------------------- NNRegressor


def encode_nnregressor(est, enc, prefix=""):
    """The JSON description of a fitted NNRegressor; its arrays go to ``enc``."""
    fitted = _fitted_attributes(est)
    net = fitted.pop("net_")
    # nets_ holds (output columns, net) pairs; net_ is the first net.
    nets = fitted.pop("nets_", [(None, net)])
    if nets[0][1] is not net:
        raise ValueError("net_ is not nets_[0][1]; refit the model before saving.")
    transformer = fitted.pop("input_transformer_")
    base = fitted.pop("base_", None)
    stage_nets = fitted.pop("stage_nets_", [])
    return {
        "class": "NNRegressor",
        "params": _encode_params(est, enc, prefix),
        "fitted": {k: enc(v, f"{prefix}{k}") for k, v in fitted.items()},
        "input_transformer": _encode_steps(
            transformer, enc, f"{prefix}input_transformer_."
        ),
        "base": None if base is None else _encode_steps(base, enc, f"{prefix}base_."),
        "nets": [
            _encode_net(group, net, enc, f"{prefix}nets_.{i}.")
            for i, (group, net) in enumerate(nets)
        ],
        # The networks of the stages after the first (n_stages), stage by stage.
        "stages": [
            [
                _encode_net(group, net, enc, f"{prefix}stage_nets_.{k}.{i}.")
                for i, (group, net) in enumerate(stage)
            ]
            for k, stage in enumerate(stage_nets)
        ],
    }


def decode_nnregressor(meta, dec, prefix=""):
    """Rebuild a fitted NNRegressor from :func:`encode_nnregressor`'s output."""
    from ._device import loadable_device
    from .estimators import NNRegressor

    est = NNRegressor(**dec(meta["params"]))
    fitted = dec(meta["fitted"])
    if "validation_scores_" in fitted:  # its name before 0.4: a loss, not an R²
        fitted["validation_loss_curve_"] = fitted.pop("validation_scores_")
    _set_fitted(est, fitted)
    _rebuild_transformers(est, meta, dec)
    # Fitted on a GPU, loaded where there is none: the nets are built on the CPU.
    est.device_ = loadable_device(est.device_)
    stored = meta["nets"]
    if not isinstance(stored, list):
        raise ValueError(f"the file lists {stored!r} as the nets")
    groups = [dec(item["group"]) for item in stored]
    states = [
        dec.module_state(f"{prefix}nets_.{i}.module.") for i in range(len(stored))
    ]
    # Before any net is built: the sizes the JSON declares against the tensors.
    check_nnregressor(est, groups, states)
    stages = meta.get("stages", [])  # files before n_stages have none
    if not isinstance(stages, list) or len(stages) != len(
        getattr(est, "stage_scales_", [])
    ):
        raise ValueError("the file's stages do not match its stage_scales_")
    stage_parts = []
    for k, stage in enumerate(stages):
        if not isinstance(stage, list):
            raise ValueError(f"the file lists {stage!r} as the nets of stage {k + 2}")
        stage_groups = [dec(item["group"]) for item in stage]
        stage_states = [
            dec.module_state(f"{prefix}stage_nets_.{k}.{i}.module.")
            for i in range(len(stage))
        ]
        check_nnregressor(est, stage_groups, stage_states)
        stage_parts.append((stage, stage_groups, stage_states))
    _rebuild_nets(est, stored, dec, groups, states)
    if hasattr(est, "stage_scales_"):  # absent from files before n_stages
        from ._auto import fitted_plan

        plan = fitted_plan(est)
        est.stage_nets_ = [
            _rebuilt(_stage_plan(est, plan, k), *part, dec, f"stage {k + 2} net")
            for k, part in enumerate(stage_parts)
        ]
    return est


def _stage_plan(est, plan, k):
    """The plan of stage ``k + 2``: the first's, with the stage's activation.

    ``stages_`` records each stage's activation; files written before it did
    built every stage with the first one's.
    """
    import dataclasses

    from ._options import ACTIVATIONS

    records = getattr(est, "stages_", [])
    record = records[k + 1] if k + 1 < len(records) else {}
    activation = record.get("activation", plan.activation)
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"the file names {activation!r} as the activation of stage {k + 2}; "
            f"sknnfit builds {ACTIVATIONS}"
        )
    return dataclasses.replace(plan, activation=activation)


def _rebuild_transformers(est, meta, dec):
    """``input_transformer_`` and ``base_`` from their factories and the file."""
    from .bases import make_base
    from .features import make_input_transformer

    transformer, _ = make_input_transformer(
        est.input_transform, log_columns=est.log_columns_
    )
    est.input_transformer_ = _restore_steps(
        transformer, meta["input_transformer"], dec, "input transform"
    )
    est.base_ = None
    if meta["base"] is not None:
        est.base_ = _restore_steps(make_base(est.base_kind_), meta["base"], dec, "base")


def _rebuild_nets(est, stored, dec, groups, states):
    """Set ``nets_`` and ``net_``, each net rebuilt from the fitted plan."""
    from ._auto import fitted_plan

    # Format-1 files of models from before nets_ existed store no group:
    # their one net predicts every output.
    every = list(range(est.n_outputs_))
    groups = [every if group is None else group for group in groups]
    # fitted_plan reads the output groups from nets_; the nets come next.
    est.nets_ = [(group, None) for group in groups]
    est.nets_ = _rebuilt(fitted_plan(est), stored, groups, states, dec, "net")
    est.net_ = est.nets_[0][1]


def _rebuilt(plan, stored, groups, states, dec, label):
    """``[(group, net), ...]``: each stored net rebuilt from the plan."""
    return [
        (
            group,
            _rebuild_net(
                plan, len(group), state, _stored_history(item, dec), f"{label} {i}"
            ),
        )
        for i, (group, state, item) in enumerate(
            zip(groups, states, stored, strict=True)
        )
    ]


# ------------------------------------------------------- TargetTransformRegressor


def encode_ttr(est, enc, prefix=""):
    """The JSON description of a fitted TargetTransformRegressor of an NNRegressor."""
    from .estimators import NNRegressor

    regressor = est.regressor
    if not (regressor is None or type(regressor) is NNRegressor) or (
        type(est.regressor_) is not NNRegressor
    ):
        raise TypeError(
            "sknnfit.save stores a TargetTransformRegressor only when its "
            f"regressor is an NNRegressor; got {type(est.regressor_).__name__}. "
            "Use joblib.dump for other regressors."
        )
    fitted = _fitted_attributes(est)
    ttr = fitted.pop("ttr_")
    transformer = fitted.pop("transformer_")
    fitted.pop("regressor_")
    ttr_params = ttr.get_params(deep=False)
    ttr_fitted = {
        k: v
        for k, v in vars(ttr).items()
        if k not in ttr_params and k not in ("regressor_", "transformer_")
    }
    return {
        "class": "TargetTransformRegressor",
        "params": {
            "target": est.target,
            "regressor": None
            if regressor is None
            else _encode_params(regressor, enc, f"{prefix}regressor."),
        },
        "fitted": {k: enc(v, f"{prefix}{k}") for k, v in fitted.items()},
        "ttr_fitted": {k: enc(v, f"{prefix}ttr_.{k}") for k, v in ttr_fitted.items()},
        "transformer": _encode_steps(transformer, enc, f"{prefix}transformer_."),
        "regressor_": encode_nnregressor(est.regressor_, enc, f"{prefix}regressor_."),
    }


def decode_ttr(meta, dec, prefix=""):
    """Rebuild a fitted TargetTransformRegressor from :func:`encode_ttr`'s output."""
    from sklearn.compose import TransformedTargetRegressor

    from .estimators import NNRegressor
    from .target_transforms import make_target_transformer
    from .targets import TargetTransformRegressor

    params = meta["params"]
    regressor = params["regressor"]
    est = TargetTransformRegressor(
        regressor=None if regressor is None else NNRegressor(**dec(regressor)),
        target=params["target"],
    )
    _set_fitted(est, dec(meta["fitted"]))
    fitted_regressor = decode_nnregressor(
        meta["regressor_"], dec, f"{prefix}regressor_."
    )
    # The settings that come from the data (the number of quantiles) are
    # restored with the statistics.
    transformer = _restore_steps(
        make_target_transformer(est.target_),
        meta["transformer"],
        dec,
        "target transformer",
    )
    # The unfitted templates, as fit made them: clones of what was fitted
    # (fit may have set the regressor's loss for the target).
    ttr = TransformedTargetRegressor(
        regressor=clone(fitted_regressor),
        transformer=clone(transformer),
        check_inverse=False,
    )
    _set_fitted(ttr, dec(meta["ttr_fitted"]))
    ttr.regressor_, ttr.transformer_ = fitted_regressor, transformer
    est.ttr_, est.regressor_, est.transformer_ = ttr, fitted_regressor, transformer
    check_ttr(est)
    return est


def _sknnfit_codecs():
    from .estimators import NNRegressor
    from .targets import TargetTransformRegressor

    return {
        NNRegressor: ("NNRegressor", encode_nnregressor, decode_nnregressor),
        TargetTransformRegressor: ("TargetTransformRegressor", encode_ttr, decode_ttr),
    }


def codecs():
    """Classes :func:`sknnfit.save` takes: ``{class: (name in the file, encoder,
    decoder)}``; an encoder is called as ``encode(estimator, Encoder())``, a
    decoder as ``decode(meta, Decoder(tensors))``."""
    supported = _sknnfit_codecs()
    for name, cls in _sklearn_table().items():
        if hasattr(cls, "fit"):  # not make_column_selector
            supported[cls] = (
                name,
                lambda est, enc, name=name: {
                    "class": name,
                    **_encode_sklearn(est, enc, ""),
                },
                lambda meta, dec, cls=cls: _decode_sklearn(cls, meta, dec),
            )
    return supported


def supported_names():
    """The estimators :func:`sknnfit.save` stores, as a sentence."""
    return (
        "NNRegressor and TargetTransformRegressor, and Pipelines and other "
        "compositions of them with these scikit-learn classes: "
        + ", ".join(name.rsplit(".", 1)[1] for name in SKLEARN_CLASSES)
    )


# ------------------------------------------------------- scikit-learn objects


def _sklearn_table():
    """``{public name: class}`` for :data:`SKLEARN_CLASSES`."""
    import importlib

    table = {}
    for name in SKLEARN_CLASSES:
        module, attribute = name.rsplit(".", 1)
        # The names are this module's constants, never read from a file.
        table[name] = getattr(importlib.import_module(module), attribute)
    return table


def _params(obj):
    if hasattr(obj, "get_params"):
        return obj.get_params(deep=False)
    return dict(vars(obj))  # make_column_selector: its three settings


def _encode_object(value, enc, key):
    """An estimator inside a stored one (a Pipeline step, a ColumnTransformer's
    transformer) as a tagged JSON value."""
    own = _sknnfit_codecs()
    if type(value) in own:
        name, encode, _ = own[type(value)]
        if not _is_fitted(value):
            # An unfitted template (TransformedTargetRegressor's regressor):
            # its settings only.
            return {"__object__": name, "state": _encode_sklearn(value, enc, key)}
        prefix = f"{key}."
        state = encode(value, enc, prefix)
        return {"__object__": name, "prefix": prefix, "state": state}
    names = {cls: name for name, cls in _sklearn_table().items()}
    if type(value) in names:
        return {
            "__object__": names[type(value)],
            "state": _encode_sklearn(value, enc, f"{key}."),
        }
    if hasattr(value, "get_params") or hasattr(value, "fit"):
        cls = type(value)
        raise TypeError(
            f"sknnfit.save cannot store {key} = {cls.__module__}.{cls.__qualname__}: "
            f"the safe format stores only {supported_names()}. Replace that step by "
            "one of those, or save the whole model with joblib.dump (and load such "
            "a file only if you trust it: unpickling runs code)."
        )
    raise _unsupported(key, value)


def _is_fitted(est):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(est)
    except NotFittedError:
        return False
    return True


def _encode_sklearn(est, enc, prefix):
    """Constructor parameters and fitted attributes of a scikit-learn object."""
    params = _params(est)
    if isinstance(params.get("random_state"), np.random.RandomState):
        params["random_state"] = None  # as in _encode_params
    for name, value in params.items():
        if (
            callable(value)
            and not isinstance(value, type)
            and not hasattr(value, "get_params")
            and id(value) not in enc.functions
            and _values._own_function_name(value) is None
        ):
            raise TypeError(
                f"sknnfit.save cannot store {type(est).__name__}({name}={value!r}) "
                f"at {prefix[:-1] or 'the top level'}: a function of your own is "
                "code, which the safe format does not hold (it stores only NumPy "
                f"functions: {', '.join(sorted(_values._function_table()))}). "
                "Use one of those, or save with joblib.dump and load the file only "
                "if you trust it."
            )
    fitted = {k: v for k, v in vars(est).items() if k not in params}
    if params.get("memory") is not None:
        # A cache folder only speeds up a later fit, and loading one unpickles.
        params["memory"] = None
    return {
        "params": {k: enc(v, f"{prefix}{k}") for k, v in params.items()},
        "fitted": {k: enc(v, f"{prefix}{k}") for k, v in fitted.items()},
    }


def _decode_object(value, dec):
    """The inverse of :func:`_encode_object`, for names on the allow-lists only."""
    name = value.get("__object__")
    state = value.get("state")
    if not isinstance(name, str) or not isinstance(state, dict):
        raise ValueError(f"its JSON holds the object {name!r} without its state")
    own = {name: (cls, decode) for cls, (name, _, decode) in _sknnfit_codecs().items()}
    if name in own:
        cls, decode = own[name]
        if "prefix" not in value:
            return _decode_sklearn(cls, state, dec)  # an unfitted template
        prefix = value["prefix"]
        if not isinstance(prefix, str):
            raise ValueError(f"its JSON holds the prefix {prefix!r} of a {name}")
        return decode(state, dec, prefix)
    table = _sklearn_table()
    if name not in table:
        raise ValueError(
            f"The file names the class {name!r}, which sknnfit does not load: "
            f"only {sorted(own)} and {sorted(table)} can appear in a saved model."
        )
    return _decode_sklearn(table[name], state, dec)


def _decode_sklearn(cls, state, dec):
    params, fitted = state["params"], state["fitted"]
    if not isinstance(params, dict) or not isinstance(fitted, dict):
        raise ValueError(f"the file's {cls.__name__} holds no params or fitted dict")
    est = cls(**{k: dec(v) for k, v in params.items()})
    if getattr(est, "memory", None) is not None:
        # A cache folder would make a later fit unpickle what it holds.
        raise ValueError(
            f"the file's {cls.__name__} has memory={est.memory!r}; sknnfit.save "
            "stores pipelines without a cache"
        )
    _set_fitted(est, {k: dec(v) for k, v in fitted.items()})
    check_sklearn(est)
    return est
