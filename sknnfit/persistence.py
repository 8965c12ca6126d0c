"""Save and load fitted estimators in a format that holds only data.

Every sknnfit estimator pickles (``pickle``, ``joblib.dump``), and a model fitted
on a GPU unpickles on a machine without one. But loading a pickle runs whatever
code the file names, so a pickle is only safe from a source you trust.
:func:`save` and :func:`load` write and read a file that is data only: loading it
parses JSON and raw tensors and never unpickles or imports anything the file
names.

The file is a zip archive (any name; ``.sknnfit`` is a good extension) with
three members. Format 2:

``header.json``
    ``{"format": "sknnfit", "format_version": 2, "sknnfit_version": "...",
    "torch_version": "...", "estimator": "NNRegressor", "meta_sha256": "...",
    "tensors_sha256": "..."}``.
``meta.json``
    ``{"estimator": {...}}``: the estimator's class name, its constructor
    parameters, its fitted scalars and lists, the settings and fitted scalars
    of each step of its transformers (input transform, closed-form base,
    target transform), and for each net the output columns it predicts and its
    training history. Python's JSON dialect: NaN and infinite losses are
    written as ``NaN``/``Infinity``.
``tensors.safetensors``
    Every fitted array (scaler statistics, target statistics, input box, base
    coefficients) under its attribute's name, and the weights of net ``i``
    (``module_.state_dict()``) under ``nets_.{i}.module.``; inside a
    TargetTransformRegressor, every key starts with ``regressor_.``.

The skorch nets themselves are not described: loading rebuilds each one as
``fit`` builds it, from the plan the fitted attributes record
(:func:`sknnfit._auto.fitted_plan`, :func:`sknnfit.training.build_net`), then
loads its weights and history. Transformers are rebuilt by their factories and
get the stored statistics. Format 1 (earlier development versions of sknnfit
0.1) also stored every skorch parameter of each net, with class names; those
files still load: the classes they name are checked against the table of
sknnfit's own and then ignored, the nets being rebuilt from the plan in the
same way.

safetensors rather than ``torch.load(weights_only=True)``: a safetensors file is
a JSON header followed by raw little-endian buffers, read without any
unpickler, whereas ``weights_only=True`` still runs pickle, only with an
allow-list of types. safetensors also reads the arrays without torch-specific
framing and refuses overlapping or out-of-bounds buffers.

:func:`load` checks the header before anything else: the file must be an
sknnfit archive, of a format version this sknnfit can read, written by the
same sknnfit major version, and both payloads must match their SHA-256. The
checksums catch corruption and accidental edits; they are not a signature, so
they do not prove who wrote the file. A class named in ``meta.json`` (only in
``net_params``, where a user put one) is looked up in a fixed table of the
classes sknnfit itself uses, never imported by name.

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

import torch
from sklearn.utils.validation import check_is_fitted

from ._codec import Decoder, Encoder, codecs

__all__ = ["FORMAT_VERSION", "load", "save"]

#: Version of the file layout written by :func:`save`; :func:`load` reads
#: every version from 1 to this one.
FORMAT_VERSION = 2

_HEADER, _META, _TENSORS = "header.json", "meta.json", "tensors.safetensors"


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


# ------------------------------------------------------------------------ save


def save(estimator, path):
    """Save a fitted estimator to ``path`` in sknnfit's data-only format.

    The file is a zip archive holding a JSON description and a safetensors file
    of the weights and fitted arrays, with SHA-256 checksums of both (see
    :mod:`sknnfit.persistence`). It is written to a temporary file first and moved
    into place, so an interrupted save never leaves a half-written file at
    ``path``.

    Parameters
    ----------
    estimator : NNRegressor or TargetTransformRegressor
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
    supported = codecs()
    if type(estimator) not in supported:
        names = ", ".join(name for name, _, _ in supported.values())
        raise TypeError(
            f"sknnfit.save supports {names}; got {type(estimator).__name__}. Use "
            "joblib.dump for other estimators (and load such files only if you "
            "trust them: unpickling runs code)."
        )
    check_is_fitted(estimator)
    name, encode, _ = supported[type(estimator)]
    enc = Encoder()
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
    _write_archive(os.fspath(path), header, meta, tensors)


def _write_archive(path, header, meta, tensors):
    """Write the three members to a temporary file, then move it to ``path``."""
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


# ------------------------------------------------------------------------ load


def load(path):
    """Load an estimator written by :func:`save`, without unpickling anything.

    A model fitted on a GPU loads on a machine without one; it then predicts on
    the CPU. Files of every format version up to :data:`FORMAT_VERSION` load.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    estimator : NNRegressor or TargetTransformRegressor
        The fitted estimator, predicting exactly as the saved one did on the
        same device.

    Raises
    ------
    ValueError
        If the file is not an sknnfit file, was written by another sknnfit major
        version or a newer format, does not match its checksums (modified or
        corrupted after saving), or names a class sknnfit does not load.
    """
    path = os.fspath(path)
    header, meta_bytes, tensor_bytes = _read_archive(path)
    _check_header(path, header, meta_bytes, tensor_bytes)
    try:
        meta = json.loads(meta_bytes)
        tensors = _safetensors().load(tensor_bytes)
    except Exception as exc:
        raise ValueError(
            f"{path!r} has sknnfit checksums but unreadable contents ({exc})."
        ) from exc
    estimator_meta = meta.get("estimator", {})
    decoders = {name: decode for name, _, decode in codecs().values()}
    name = estimator_meta.get("class")
    if name not in decoders:
        raise ValueError(
            f"{path!r} holds a {name!r}, which this sknnfit cannot load; it loads "
            f"{sorted(decoders)}."
        )
    return decoders[name](estimator_meta, Decoder(tensors))


def _check_header(path, header, meta_bytes, tensor_bytes):
    """Refuse a file of another format, version or major release, or checksum."""
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
