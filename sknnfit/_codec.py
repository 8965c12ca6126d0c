"""The body of sknnfit's data-only files: fitted estimators to JSON and back.

:mod:`sknnfit.persistence` wraps what this module writes in an archive with a
header and checksums. Here, :class:`Encoder` turns parameters and fitted
attributes into JSON values, sending every numeric array to a flat dict of
tensors; :class:`Decoder` reverses it. The per-estimator functions store what
cannot be rebuilt (parameters, fitted attributes, transformer statistics,
network weights, training history) and rebuild the rest the way ``fit`` builds
it: the skorch nets from :func:`~sknnfit._auto.fitted_plan` and
:func:`~sknnfit.training.build_net`, the transformers from their factories.

Nothing the file names is imported or called: classes (which appear only when
a user put one in ``net_params``) are looked up in a fixed table of the classes
sknnfit trains with, and other names (transformer step classes) are only
compared with what the factories build.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from sklearn.base import clone

__all__ = ["Decoder", "Encoder", "codecs"]

# Tags for the JSON values that plain JSON cannot tell apart.
_TAGS = ("__tuple__", "__numpy__", "__class__", "__tensor__", "__array__", "__dict__")


# ------------------------------------------------------------------ class table


def _class_table():
    """The classes a file may name: those sknnfit itself trains with, no others."""
    from skorch.dataset import Dataset

    from .modules import MLP
    from .training import (
        LOSSES,
        OPTIMIZERS,
        TensorBatchIterator,
        make_criterion,
        optimizer_spec,
    )

    classes = [MLP, TensorBatchIterator, Dataset]
    classes += [make_criterion(name)[0] for name in LOSSES]
    classes += [optimizer_spec(name, 1e-3, 0.0, "cpu")[0] for name in OPTIMIZERS]
    table = {_class_name(c): c for c in classes}
    # Files written before the training package was split name its classes by
    # their old modules.
    for cls in classes:
        if cls.__module__.startswith("sknnfit.training."):
            old = "optim" if cls.__name__ == "SignAgree" else "training"
            table[f"sknnfit.{old}.{cls.__qualname__}"] = cls
    return table


def _class_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


# ---------------------------------------------------------------------- encoding


class Encoder:
    """Turns parameters and fitted attributes into JSON, sending arrays to tensors.

    Attributes
    ----------
    tensors : dict of str to torch.Tensor
        Every array met so far, by the key its JSON value refers to.
    """

    def __init__(self):
        self.tensors = {}
        self.classes = _class_table()

    def tensor(self, key, value):
        """Store ``value`` as the tensor ``key``; the JSON value that refers to it."""
        # A copy: safetensors refuses tensors that share memory.
        self.tensors[key] = torch.as_tensor(value).detach().cpu().clone().contiguous()
        return {"__tensor__": key}

    def __call__(self, value, key):
        """Encode ``value``; ``key`` names it in errors and tensor names."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.generic):
            if value.dtype.kind not in "biuf":
                raise _unsupported(key, value)
            return {"__numpy__": value.dtype.str, "value": value.item()}
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, tuple):
            return {"__tuple__": [self(v, f"{key}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self(v, f"{key}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise _unsupported(key, value)
            out = {k: self(v, f"{key}[{k!r}]") for k, v in value.items()}
            return {"__dict__": out} if any(k in _TAGS for k in value) else out
        if isinstance(value, np.ndarray):
            return self._array(value, key)
        if isinstance(value, torch.Tensor):
            return self.tensor(key, value)
        if isinstance(value, torch.device):
            return str(value)
        if isinstance(value, type) and _class_name(value) in self.classes:
            return {"__class__": _class_name(value)}
        raise _unsupported(key, value)

    def _array(self, value, key):
        if value.dtype.kind in "biuf":
            return self.tensor(key, np.ascontiguousarray(value))
        if value.dtype.kind in "OUS" and all(isinstance(v, str) for v in value.flat):
            # Strings (feature_names_in_) stay in the JSON.
            return {
                "__array__": value.dtype.str if value.dtype.kind != "O" else "O",
                "shape": list(value.shape),
                "values": [str(v) for v in value.flat],
            }
        raise _unsupported(key, value)


def _unsupported(key, value):
    return ValueError(
        f"{key} = {value!r} cannot be stored in the safe format, which holds only "
        "numbers, strings, arrays and sknnfit's own classes. Use plain values "
        "(for example in net_params), or save with joblib.dump and load the file "
        "only if you trust it."
    )


class Decoder:
    """The inverse of :class:`Encoder`, over the tensors read from the file."""

    def __init__(self, tensors):
        self.tensors = tensors
        self.classes = _class_table()

    def __call__(self, value):
        """Decode the JSON value ``value``."""
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tuple__" in value:
            return tuple(self(v) for v in value["__tuple__"])
        if "__numpy__" in value:
            return np.dtype(value["__numpy__"]).type(value["value"])
        if "__tensor__" in value:
            return self.tensors[value["__tensor__"]].numpy().copy()
        if "__array__" in value:
            dtype = object if value["__array__"] == "O" else value["__array__"]
            return np.array(value["values"], dtype=dtype).reshape(value["shape"])
        if "__class__" in value:
            name = value["__class__"]
            if name not in self.classes:
                raise ValueError(
                    f"The file names the class {name!r}, which sknnfit does not "
                    "load: only its own classes can appear in a saved model."
                )
            return self.classes[name]
        if "__dict__" in value:
            value = value["__dict__"]
        return {k: self(v) for k, v in value.items()}

    def module_state(self, prefix):
        """The tensors whose keys start with ``prefix``, without it."""
        return {
            key[len(prefix) :]: tensor
            for key, tensor in self.tensors.items()
            if key.startswith(prefix)
        }


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


def _steps(transformer):
    return list(getattr(transformer, "steps", [("step", transformer)]))


def _encode_steps(transformer, enc, prefix):
    """Class name, plain settings and fitted attributes of each step.

    Functions (``np.log`` and its inverse, the log columns in ``kw_args``) are
    not stored: loading rebuilds the transformer with the library's factory and
    then restores these values onto it.
    """
    plain = (type(None), bool, int, float, str)
    return [
        {
            "name": name,
            "class": type(step).__name__,
            "params": {
                k: v
                for k, v in step.get_params(deep=False).items()
                if isinstance(v, plain)
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
    for (_, step), saved_step in zip(steps, stored, strict=True):
        step.set_params(**saved_step["params"])
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
    """Width of the input layer of an MLP's state: its first Linear's columns."""
    first = (
        state["hidden.0.weight"] if "hidden.0.weight" in state else state["out.weight"]
    )
    return first.shape[1]


def _rebuild_net(plan, n_outputs, state, history):
    """A fitted skorch net from the plan, the module's weights and the history."""
    from skorch.history import History

    from ._device import seeded_torch
    from .training import build_net

    net = build_net(plan, _n_inputs(state), n_outputs)
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
    }


def decode_nnregressor(meta, dec, prefix=""):
    """Rebuild a fitted NNRegressor from :func:`encode_nnregressor`'s output."""
    from ._device import loadable_device
    from .estimators import NNRegressor

    est = NNRegressor(**dec(meta["params"]))
    _set_fitted(est, dec(meta["fitted"]))
    _rebuild_transformers(est, meta, dec)
    # Fitted on a GPU, loaded where there is none: the nets are built on the CPU.
    est.device_ = loadable_device(est.device_)
    _rebuild_nets(est, meta["nets"], dec, prefix)
    return est


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


def _rebuild_nets(est, stored, dec, prefix):
    """Set ``nets_`` and ``net_``, each net rebuilt from the fitted plan."""
    from ._auto import fitted_plan

    # Format-1 files of models from before nets_ existed store no group:
    # their one net predicts every output.
    every = list(range(est.n_outputs_))
    groups = [dec(item["group"]) for item in stored]
    groups = [every if group is None else group for group in groups]
    # fitted_plan reads the output groups from nets_; the nets come next.
    est.nets_ = [(group, None) for group in groups]
    plan = fitted_plan(est)
    est.nets_ = [
        (
            group,
            _rebuild_net(
                plan,
                len(group),
                dec.module_state(f"{prefix}nets_.{i}.module."),
                _stored_history(item, dec),
            ),
        )
        for i, (group, item) in enumerate(zip(groups, stored, strict=True))
    ]
    est.net_ = est.nets_[0][1]


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
    return est


def codecs():
    """Supported classes: ``{class: (name in the file, encoder, decoder)}``."""
    from .estimators import NNRegressor
    from .targets import TargetTransformRegressor

    return {
        NNRegressor: ("NNRegressor", encode_nnregressor, decode_nnregressor),
        TargetTransformRegressor: ("TargetTransformRegressor", encode_ttr, decode_ttr),
    }
