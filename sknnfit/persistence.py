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
    "tensors_sha256": "..."}``, plus ``"hmac_sha256"`` in a signed file.
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

:func:`load` treats every file as hostile until checked (see its docstring
and :mod:`sknnfit._archive`): the path must be a regular file; the archive must
hold exactly the three members, each within a size limit checked before it is
decompressed (:data:`MAX_BYTES` for the tensors, :data:`MAX_META_BYTES` for
``meta.json``, both overridable); JSON nesting is bounded; the header must say
it is an sknnfit archive, of a format version this sknnfit can read, written by
the same sknnfit major version, and both payloads must match their SHA-256;
every size the JSON declares must agree with the stored tensors before any
network is built. Whatever is wrong, the error is a ValueError reading
``"<path> is not a valid sknnfit file: <what is wrong>"`` (a missing path is a
FileNotFoundError, a folder an IsADirectoryError).

The checksums catch accidental corruption (a truncated copy, a flipped bit, an
edit by mistake), not tampering: anyone who can edit the file can recompute
them. For that, :func:`save` signs with ``key=...`` (an HMAC-SHA256 of the
header, which holds both checksums, stored in the header as ``hmac_sha256``)
and ``load(path, key=...)`` refuses a file that is unsigned or signed with
another key. Without a key, a signed file loads like any other. Either way a
class named in ``meta.json`` (only in ``net_params``, where a user put one) is
looked up in a fixed table of the classes sknnfit itself uses, never imported
by name.

Supported: a fitted :class:`~sknnfit.NNRegressor` (every net of an ensemble,
the closed-form base, the input transform, the training records), a
:class:`~sknnfit.targets.TargetTransformRegressor` around one, and scikit-learn
compositions of them (a Pipeline, such as a search's ``best_estimator_``, a
ColumnTransformer of imputers, encoders and scalers, a
TransformedTargetRegressor) built from the scikit-learn classes of
:data:`sknnfit._codec.SKLEARN_CLASSES`. Those are stored as their constructor
parameters and fitted attributes, as data; the class names are looked up in
that list, never imported by name, and a function they hold must be one of
NumPy's (``np.log1p``). Saving any other class raises a TypeError that names it
and points to ``joblib.dump``. What only matters
while training is not stored: the skorch callbacks and their state (such as
the divergence monitor's record), the validation split and the training
iterator's settings. The loaded nets predict; ``fit`` builds new ones, or with
``warm_start=True`` trains them on from their weights (the optimizer starts
afresh).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile

import torch
from sklearn.utils.validation import check_is_fitted

from . import _archive
from ._archive import HEADER as _HEADER
from ._archive import MAX_BYTES, MAX_META_BYTES, InvalidFile
from ._archive import META as _META
from ._archive import TENSORS as _TENSORS
from ._codec import Decoder, Encoder, codecs, supported_names

__all__ = ["FORMAT_VERSION", "MAX_BYTES", "MAX_META_BYTES", "load", "save"]

#: Version of the file layout written by :func:`save`; :func:`load` reads
#: every version from 1 to this one.
FORMAT_VERSION = 2

#: What goes wrong while decoding a crafted file: each becomes a ValueError.
_DECODE_ERRORS = (
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    RuntimeError,
    ArithmeticError,
    AssertionError,
)


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


def save(estimator, path, *, key=None):
    """Save a fitted estimator to ``path`` in sknnfit's data-only format.

    The file is a zip archive holding a JSON description and a safetensors file
    of the weights and fitted arrays, with SHA-256 checksums of both (see
    :mod:`sknnfit.persistence`), and, given a ``key``, an HMAC-SHA256 signature.
    It is written to a temporary file in the same folder
    (``.<name>.<random>.sknnfit-tmp``) and moved into place with
    :func:`os.replace`, so an interrupted save never leaves a half-written file
    at ``path``. The temporary file is removed if saving fails, and on SIGTERM
    while Python's default SIGTERM action is in force (the process then still
    ends by SIGTERM); only SIGKILL or a power cut leave one behind.

    Parameters
    ----------
    estimator : NNRegressor, TargetTransformRegressor or Pipeline
        A fitted estimator: one of sknnfit's, or a scikit-learn Pipeline,
        ColumnTransformer or TransformedTargetRegressor of them and the
        scikit-learn transformers listed in :mod:`sknnfit.persistence`. A
        ``random_state`` given as a RandomState instance, and a Pipeline's
        ``memory``, are stored as None: they only matter for a later refit.
    path : str or os.PathLike
        Where to write the file: a new path, or an existing regular file, which
        is replaced and keeps its permission bits. A new file gets the
        permissions ``open(path, "w")`` would give (``0o666`` less the umask).
    key : bytes or str, default=None
        Secret key to sign the file with (str is encoded as UTF-8). The
        signature is an HMAC-SHA256 of the header, which holds the SHA-256 of
        both payloads, so it covers every byte the model is read from.
        ``load(path, key=key)`` then refuses a file not signed with this key.

    Raises
    ------
    NotFittedError
        If the estimator is not fitted.
    TypeError
        If the estimator's class, or that of a step inside it, is not
        supported by the safe format (the message names it), a step holds a
        function other than NumPy's, or ``key`` is neither bytes nor str.
    ValueError
        If a parameter (for example an entry of ``net_params``) is not plain
        data (numbers, strings, arrays and sknnfit's own classes) or nests
        deeper than the format allows; if ``path`` exists and is not a regular
        file (a symbolic link, even to a regular file, since replacing it
        would replace the link rather than write through it; a folder; a
        device); or if ``key`` is empty.
    """
    supported = codecs()
    if type(estimator) not in supported:
        search = ""
        if hasattr(estimator, "best_estimator_") or hasattr(estimator, "cv_results_"):
            search = (
                " For a fitted search, save its best_estimator_ (fit with refit=True)."
            )
        raise TypeError(
            f"sknnfit.save supports {supported_names()}; got "
            f"{type(estimator).__name__}.{search} Use joblib.dump for other "
            "estimators (and load such files only if you trust them: unpickling "
            "runs code)."
        )
    check_is_fitted(estimator)
    key = None if key is None else _archive.as_key(key)
    path = os.fspath(path)
    _archive.check_target(path)  # before the work of encoding
    name, encode, _ = supported[type(estimator)]
    enc = Encoder()
    estimator_meta = encode(estimator, enc)
    meta = json.dumps(
        {"estimator": estimator_meta}, sort_keys=True, allow_nan=True
    ).encode()
    if _archive.json_depth(meta) > _archive.MAX_JSON_DEPTH:
        raise ValueError(
            f"The model's settings nest deeper than {_archive.MAX_JSON_DEPTH} "
            "levels, which sknnfit.load refuses; flatten the values of net_params."
        )
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
    if key is not None:
        header = _archive.add_signature(header, key)
    _archive.write_members(
        path,
        {
            _HEADER: (json.dumps(header, indent=1).encode(), zipfile.ZIP_DEFLATED),
            _META: (meta, zipfile.ZIP_DEFLATED),
            _TENSORS: (tensors, zipfile.ZIP_STORED),
        },
    )


# ------------------------------------------------------------------------ load


def load(path, *, key=None, max_bytes=MAX_BYTES, max_meta_bytes=MAX_META_BYTES):
    """Load an estimator written by :func:`save`, without unpickling anything.

    A model fitted on a GPU loads on a machine without one; it then predicts on
    the CPU. Files of every format version up to :data:`FORMAT_VERSION` load.

    The file is treated as hostile until checked: each member's uncompressed
    size is checked against the limits before it is decompressed (and reading
    stops at the limit whatever the archive declares), JSON nesting is
    bounded, and every size the JSON declares (input and output widths,
    hidden layers, log columns, output groups, transformer statistics) must
    agree with the shapes of the stored tensors before any network is built,
    so loading allocates about as much as the file holds.

    The SHA-256 checksums in the header catch accidental corruption (a
    truncated download, a flipped bit, an edit by mistake): anyone can
    recompute them, so they do not prove who wrote the file. To detect
    tampering, sign with ``save(..., key=...)`` and load with the same ``key``.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.
    key : bytes or str, default=None
        The key the file was signed with (str is encoded as UTF-8). Given, an
        unsigned file or one whose signature does not match is refused. Without
        a key the signature is not checked, and a signed file loads as any
        other.
    max_bytes : int, default=MAX_BYTES
        Largest uncompressed size of the weights and fitted arrays
        (``tensors.safetensors``) read: 2 GiB, about 500 million float32
        weights. Raise it for larger models from a source you trust.
    max_meta_bytes : int, default=MAX_META_BYTES
        Largest uncompressed size of the JSON description (``meta.json``):
        64 MiB, about a million mini-batches of training history.

    Returns
    -------
    estimator : NNRegressor, TargetTransformRegressor or Pipeline
        The fitted estimator, predicting exactly as the saved one did on the
        same device.

    Raises
    ------
    FileNotFoundError
        If nothing is at ``path``.
    IsADirectoryError
        If ``path`` is a folder.
    ValueError
        For every file that is not a valid sknnfit file, with a message
        ``"<path> is not a valid sknnfit file: <what is wrong>"``: not a
        regular file, not a zip archive or a damaged one, members missing,
        unexpected, repeated or over the limits, JSON that does not parse or
        nests too deep, a checksum or signature that does not match, sizes
        that disagree with the stored tensors, or a class sknnfit does not
        load. Also (with its own message) if the file was written by another
        sknnfit major version or a newer format.
    """
    key = None if key is None else _archive.as_key(key)
    path = os.fspath(path)
    members = _archive.read_members(path, max_bytes, max_meta_bytes)
    header = _archive.parse_json(path, members[_HEADER], "header")
    _check_header(path, header, members, key)
    meta = _archive.parse_json(path, members[_META], "meta.json")
    try:
        tensors = _safetensors().load(members[_TENSORS])
    except Exception as exc:  # safetensors' own error type varies by version
        raise InvalidFile(path, f"its tensors cannot be read ({exc})") from exc
    try:
        return _decode(path, meta, tensors)
    except InvalidFile:
        raise
    except _DECODE_ERRORS as exc:
        why = str(exc) if type(exc) is ValueError else f"{type(exc).__name__}: {exc}"
        raise InvalidFile(path, why.rstrip(".")) from exc


def _decode(path, meta, tensors):
    estimator_meta = meta["estimator"] if isinstance(meta, dict) else None
    if not isinstance(estimator_meta, dict):
        raise InvalidFile(path, "its meta.json holds no estimator")
    decoders = {name: decode for name, _, decode in codecs().values()}
    name = estimator_meta.get("class")
    if not isinstance(name, str) or name not in decoders:
        raise InvalidFile(
            path, f"it holds a {name!r}, and this sknnfit loads {sorted(decoders)}"
        )
    return decoders[name](estimator_meta, Decoder(tensors))


def _check_header(path, header, members, key):
    """Refuse a file of another format, version or major release, or checksum."""
    if not isinstance(header, dict) or header.get("format") != "sknnfit":
        raise InvalidFile(path, "its header does not say format 'sknnfit'")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidFile(path, f"its header gives format version {version!r}")
    if version > FORMAT_VERSION:
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
    if key is not None:
        _archive.check_signature(path, header, key)
    for what, member in (("meta", _META), ("tensors", _TENSORS)):
        if hashlib.sha256(members[member]).hexdigest() != header.get(f"{what}_sha256"):
            raise InvalidFile(
                path,
                f"it fails its {what} checksum: the file was corrupted or modified "
                "after it was saved. Save the model again from its source",
            )
