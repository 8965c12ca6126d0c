"""Save and load fitted estimators in a format that holds only data.

Every sknnfit estimator pickles (``pickle``, ``joblib.dump``), and a model fitted
on a GPU unpickles on a machine without one. But loading a pickle runs whatever
code the file names, so a pickle is only safe from a source you trust.
:func:`save` and :func:`load` write and read a file that is data only: loading it
parses JSON and raw tensors and never unpickles or imports anything the file
names.

The file is a zip archive (any name; ``.sknnfit`` is a good extension) with
three members:

``header.json``
    ``{"format": "sknnfit", "format_version": 1, "sknnfit_version": "...",
    "meta_sha256": "...", "tensors_sha256": "..."}``.
``meta.json``
    The estimator's class, its constructor parameters, its fitted scalars and
    lists, the skorch net's parameters and its training history. Python's
    JSON dialect: NaN and infinite losses are written as ``NaN``/``Infinity``.
``tensors.safetensors``
    The network weights and every fitted array (scaler statistics, target
    statistics, input box), in the safetensors format.

safetensors rather than ``torch.load(weights_only=True)``: a safetensors file is
a JSON header followed by raw little-endian buffers, read without any
unpickler, whereas ``weights_only=True`` still runs pickle, only with an
allow-list of types. safetensors also reads the arrays without torch-specific
framing and refuses overlapping or out-of-bounds buffers.

:func:`load` checks the header before anything else: the file must be an
sknnfit archive, of a format version this sknnfit can read, written by the
same sknnfit major version, and both payloads must match their SHA-256. The
checksums catch corruption and accidental edits; they are not a signature, so
they do not prove who wrote the file. Classes named in ``meta.json`` are looked
up in a fixed table of the classes sknnfit itself uses, never imported by name.

Supported: a fitted :class:`~sknnfit.NNRegressor` (every net of an ensemble,
the closed-form base, the input transform, the training records) and a
:class:`~sknnfit.targets.TargetTransformRegressor` around one. What only matters
while training is not stored: the skorch callbacks and their state (such as
the divergence monitor's record), the validation split and the training
iterator's settings. The loaded nets predict; ``fit`` builds new ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._device import loadable_device, seeded_torch

__all__ = ["FORMAT_VERSION", "load", "save"]

#: Version of the file layout written by :func:`save`.
FORMAT_VERSION = 1

_HEADER, _META, _TENSORS = "header.json", "meta.json", "tensors.safetensors"

# skorch net parameters that only matter while training, and hold objects that
# are not data (the validation split holds a Dataset, callbacks and the batch
# schedule hold state). The loaded nets predict; NNRegressor.fit builds new ones.
_NET_SKIP = {"callbacks", "train_split", "_params_to_validate"}
_NET_SKIP_PREFIXES = ("callbacks__", "iterator_train__")

# Tags for the JSON values that plain JSON cannot tell apart.
_TAGS = ("__tuple__", "__numpy__", "__class__", "__tensor__", "__array__", "__dict__")


def _safetensors():
    try:
        from safetensors import torch as st
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "sknnfit.save and sknnfit.load need the safetensors package: "
            "pip install safetensors. Without it, use joblib.dump/joblib.load "
            "for files you trust."
        ) from exc
    return st


def _version():
    from ._version import __version__

    return __version__


def _major(version):
    match = re.match(r"\s*(\d+)", str(version))
    return int(match.group(1)) if match else None


# ------------------------------------------------------------------ class table


def _class_table():
    """The classes a file may name: those sknnfit itself builds, and no others."""
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


class _Encoder:
    """Turns parameters and fitted attributes into JSON, sending arrays to tensors."""

    def __init__(self):
        self.tensors = {}
        self.classes = _class_table()

    def tensor(self, key, value):
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
            if value.dtype.kind in "biuf":
                return self.tensor(key, np.ascontiguousarray(value))
            if value.dtype.kind in "OUS" and all(
                isinstance(v, str) for v in value.flat
            ):
                return {
                    "__array__": value.dtype.str if value.dtype.kind != "O" else "O",
                    "shape": list(value.shape),
                    "values": [str(v) for v in value.flat],
                }
            raise _unsupported(key, value)
        if isinstance(value, torch.Tensor):
            return self.tensor(key, value)
        if isinstance(value, torch.device):
            return str(value)
        if isinstance(value, type) and _class_name(value) in self.classes:
            return {"__class__": _class_name(value)}
        raise _unsupported(key, value)


def _unsupported(key, value):
    return ValueError(
        f"{key} = {value!r} cannot be stored in the safe format, which holds only "
        "numbers, strings, arrays and sknnfit's own classes. Use plain values "
        "(for example in net_params), or save with joblib.dump and load the file "
        "only if you trust it."
    )


class _Decoder:
    """The inverse of :class:`_Encoder`, over the tensors read from the file."""

    def __init__(self, tensors):
        self.tensors = tensors
        self.classes = _class_table()

    def __call__(self, value):
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


# ------------------------------------------------------------------- NNRegressor


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
    """Class, plain settings and fitted attributes of each step of a transformer.

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


def _encode_net(net, enc, prefix):
    """A fitted skorch net: its plain parameters, its history, its weights."""
    params = {
        k: v
        for k, v in net.get_params(deep=False).items()
        if k not in _NET_SKIP and not k.startswith(_NET_SKIP_PREFIXES)
    }
    for key, value in net.module_.state_dict().items():
        enc.tensor(f"{prefix}module.{key}", value)
    history = json.loads(json.dumps(net.history.to_list(), default=_plain))
    return {"params": enc(params, f"{prefix}params"), "history": history}


def _decode_net(meta, dec, tensors, prefix, device):
    from skorch.history import History

    from .training import FastNet

    params = dec(meta["params"])
    for key in ("device", "iterator_valid__device"):
        if key in params:
            params[key] = device
    net = FastNet(**params, callbacks=[], train_split=None)
    # initialize() draws throw-away random weights from torch's global generator;
    # fork it so that loading leaves the caller's random state untouched.
    with seeded_torch(0, device):
        net.initialize()
    module_prefix = f"{prefix}module."
    state = {
        k[len(module_prefix) :]: v
        for k, v in tensors.items()
        if k.startswith(module_prefix)
    }
    net.module_.load_state_dict(state)
    net.history = History(meta["history"])
    return net


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise _unsupported("a value in net_.history", value)


def _encode_nnregressor(est, enc, prefix=""):
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
            {
                "group": enc(group, f"{prefix}nets_[{i}]"),
                "net": _encode_net(net, enc, f"{prefix}nets_.{i}."),
            }
            for i, (group, net) in enumerate(nets)
        ],
        "has_nets_list": hasattr(est, "nets_"),
    }


def _decode_nnregressor(meta, dec, tensors, prefix=""):
    from .estimators import NNRegressor

    est = NNRegressor(**dec(meta["params"]))
    _set_fitted(est, dec(meta["fitted"]))
    est.input_transformer_ = _rebuild_input_transformer(
        est, meta["input_transformer"], dec
    )
    if meta["base"] is not None:
        from .bases import make_base

        est.base_ = _restore_steps(make_base(est.base_kind_), meta["base"], dec, "base")
    elif meta["has_nets_list"]:
        est.base_ = None
    device = loadable_device(est.device_)
    est.device_ = device
    nets = [
        (
            dec(item["group"]),
            _decode_net(item["net"], dec, tensors, f"{prefix}nets_.{i}.", device),
        )
        for i, item in enumerate(meta["nets"])
    ]
    est.net_ = nets[0][1]
    if meta["has_nets_list"]:
        est.nets_ = nets
    return est


def _rebuild_input_transformer(est, stored, dec):
    """Rebuild ``input_transformer_`` with the library's factory, then restore it.

    The factory picks the log columns from the data it is given, so it gets two
    rows that make it pick exactly the stored columns (positive and spanning three
    decades there, signed elsewhere); the fitted statistics are then overwritten
    with the stored ones.
    """
    from .features import make_input_transformer

    n_features, log_columns = est.n_features_in_, list(est.log_columns_)
    X_fake = np.tile([[-1.0], [1.0]], (1, n_features))
    X_fake[:, log_columns] = [[1.0], [1e3]]
    transformer, columns = make_input_transformer(est.input_transform, X_fake)
    if list(columns) != log_columns:
        raise ValueError(
            f"The file's input transform takes the log of columns {log_columns}, "
            f"which this sknnfit version's input_transform={est.input_transform!r} "
            "cannot rebuild. Load the model with the sknnfit version that saved it."
        )
    return _restore_steps(transformer, stored, dec, "input transform")


# ------------------------------------------------------- TargetTransformRegressor


def _encode_ttr(est, enc, prefix=""):
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
        "regressor_": _encode_nnregressor(est.regressor_, enc, f"{prefix}regressor_."),
    }


def _decode_ttr(meta, dec, tensors, prefix=""):
    from sklearn.compose import TransformedTargetRegressor

    from .estimators import NNRegressor
    from .targets import TargetTransformRegressor, make_target_transformer

    params = meta["params"]
    regressor = params["regressor"]
    est = TargetTransformRegressor(
        regressor=None if regressor is None else NNRegressor(**dec(regressor)),
        target=params["target"],
    )
    _set_fitted(est, dec(meta["fitted"]))
    fitted_regressor = _decode_nnregressor(
        meta["regressor_"], dec, tensors, f"{prefix}regressor_."
    )

    # Targets of ones lie in every kind's domain; the settings the factory
    # derives from them (the number of quantiles) are replaced by the stored ones.
    y_fake = np.ones((2, fitted_regressor.n_outputs_))
    transformer = _restore_steps(
        make_target_transformer(est.target_, y_fake),
        meta["transformer"],
        dec,
        "target transformer",
    )
    ttr = TransformedTargetRegressor(
        regressor=est._make_regressor(),
        transformer=make_target_transformer(est.target_, y_fake),
        check_inverse=False,
    )
    _set_fitted(ttr, dec(meta["ttr_fitted"]))
    ttr.regressor_, ttr.transformer_ = fitted_regressor, transformer
    est.ttr_, est.regressor_, est.transformer_ = ttr, fitted_regressor, transformer
    return est


# ------------------------------------------------------------------------ public


def _codecs():
    """Supported classes: (name in the file, encoder, decoder)."""
    from .estimators import NNRegressor

    codecs = {NNRegressor: ("NNRegressor", _encode_nnregressor, _decode_nnregressor)}
    try:
        from .targets import TargetTransformRegressor
    except ImportError:  # pragma: no cover - during development only
        return codecs
    codecs[TargetTransformRegressor] = (
        "TargetTransformRegressor",
        _encode_ttr,
        _decode_ttr,
    )
    return codecs


def save(estimator, path):
    """Save a fitted estimator to ``path`` in sknnfit's data-only format.

    The file is a zip archive holding a JSON description and a safetensors file
    of the weights and fitted arrays, with SHA-256 checksums of both (see
    :mod:`sknnfit.persistence`). It is written to a temporary file first and moved
    into place, so an interrupted save never leaves a half-written file at
    ``path``.

    Parameters
    ----------
    estimator : NNRegressor
        A fitted estimator. A ``random_state`` given as a RandomState instance
        is stored as None: it only matters for a later refit.
    path : str or os.PathLike
        Where to write the file; an existing file is replaced.

    Raises
    ------
    NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator's class is not supported by the safe format.
    ValueError
        If a parameter (for example an entry of ``net_params``) is not plain
        data: numbers, strings, arrays and sknnfit's own classes.
    """
    codecs = _codecs()
    if type(estimator) not in codecs:
        names = ", ".join(name for name, _, _ in codecs.values())
        raise TypeError(
            f"sknnfit.save supports {names}; got {type(estimator).__name__}. Use "
            "joblib.dump for other estimators (and load such files only if you "
            "trust them: unpickling runs code)."
        )
    check_is_fitted(estimator)
    name, encode, _ = codecs[type(estimator)]
    enc = _Encoder()
    estimator_meta = encode(estimator, enc)
    meta = json.dumps(
        {"estimator": estimator_meta}, sort_keys=True, allow_nan=True
    ).encode()
    tensors = _safetensors().save(enc.tensors)
    header = {
        "format": "sknnfit",
        "format_version": FORMAT_VERSION,
        "sknnfit_version": _version(),
        "torch_version": torch.__version__,
        "estimator": name,
        "meta_sha256": hashlib.sha256(meta).hexdigest(),
        "tensors_sha256": hashlib.sha256(tensors).hexdigest(),
    }
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".sknnfit-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f, zipfile.ZipFile(f, "w") as zf:
            zf.writestr(_HEADER, json.dumps(header, indent=1), zipfile.ZIP_DEFLATED)
            zf.writestr(_META, meta, zipfile.ZIP_DEFLATED)
            zf.writestr(_TENSORS, tensors, zipfile.ZIP_STORED)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(path):
    """Load an estimator written by :func:`save`, without unpickling anything.

    A model fitted on a GPU loads on a machine without one; it then predicts on
    the CPU.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    estimator : NNRegressor
        The fitted estimator, predicting exactly as the saved one did on the
        same device.

    Raises
    ------
    ValueError
        If the file is not an sknnfit file, was written by another sknnfit major
        version or a newer format, or does not match its checksums (modified or
        corrupted after saving).
    """
    path = os.fspath(path)
    header, meta_bytes, tensor_bytes = _read_archive(path)
    if header.get("format") != "sknnfit":
        raise _not_sknnfit(path, "its header does not say format 'sknnfit'")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} uses sknnfit file format {version!r}; this sknnfit "
            f"({_version()}) reads formats up to {FORMAT_VERSION}. Upgrade sknnfit "
            "to load it."
        )
    saved_with, running = header.get("sknnfit_version"), _version()
    if _major(saved_with) != _major(running):
        raise ValueError(
            f"{path!r} was saved by sknnfit {saved_with}, and this is sknnfit "
            f"{running}: files are only read by the major version that wrote them. "
            f"Load it with sknnfit {_major(saved_with)}.x, or refit the model."
        )
    for what, payload in (("meta", meta_bytes), ("tensors", tensor_bytes)):
        if hashlib.sha256(payload).hexdigest() != header.get(f"{what}_sha256"):
            raise ValueError(
                f"{path!r} fails its {what} checksum: the file was modified or "
                "corrupted after it was saved. Save the model again from its "
                "source."
            )
    try:
        meta = json.loads(meta_bytes)
        tensors = _safetensors().load(tensor_bytes)
    except Exception as exc:
        raise ValueError(
            f"{path!r} has sknnfit checksums but unreadable contents ({exc})."
        ) from exc
    estimator_meta = meta.get("estimator", {})
    decoders = {name: decode for name, _, decode in _codecs().values()}
    name = estimator_meta.get("class")
    if name not in decoders:
        raise ValueError(
            f"{path!r} holds a {name!r}, which this sknnfit cannot load; it loads "
            f"{sorted(decoders)}."
        )
    return decoders[name](estimator_meta, _Decoder(tensors), tensors)


def _read_archive(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {path!r}.")
    if not zipfile.is_zipfile(path):
        raise _not_sknnfit(path, "it is not a zip archive")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        missing = {_HEADER, _META, _TENSORS} - names
        if missing:
            raise _not_sknnfit(path, f"it lacks {sorted(missing)}")
        try:
            header = json.loads(zf.read(_HEADER))
        except ValueError as exc:
            raise _not_sknnfit(path, f"its header is not JSON ({exc})") from exc
        if not isinstance(header, dict):
            raise _not_sknnfit(path, "its header is not a JSON object")
        return header, zf.read(_META), zf.read(_TENSORS)


def _not_sknnfit(path, why):
    return ValueError(
        f"{path!r} is not a file written by sknnfit.save: {why}. Pickle and joblib "
        "files are not read here; load those with joblib.load, and only if you "
        "trust their source."
    )
