"""The zip container of sknnfit's data-only files: bounded reading, safe writing.

:mod:`sknnfit.persistence` decides what goes into a file; this module reads and
writes the archive itself, and treats every file as hostile until checked:

* Reading refuses anything but a regular file, checks each member's declared
  uncompressed size against a limit before decompressing it, and reads no more
  than the limit even if the declaration lies. The archive must hold exactly
  the three expected members, once each. JSON members are parsed only after
  their nesting depth is checked, so no file can make the parser recurse
  deeply. Every failure of the zip or JSON layer is a :class:`ValueError`
  saying what is wrong.
* Writing refuses to replace anything but a regular file (never a link, a
  folder or a device), writes a temporary file in the same folder, gives it the
  permissions the final file should have, and moves it into place with
  :func:`os.replace`; the temporary file is removed on any exception and, when
  the process runs Python's default SIGTERM action, on SIGTERM too.
* Signing: an HMAC-SHA256 of the header (which holds the SHA-256 of both
  payloads), keyed by a secret the user holds.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import stat
import struct
import threading
import zipfile
import zlib

import numpy as np

HEADER, META, TENSORS = "header.json", "meta.json", "tensors.safetensors"
MEMBERS = (HEADER, META, TENSORS)

#: Default limit on the uncompressed size of ``tensors.safetensors`` (2 GiB):
#: the weights and fitted arrays. A float32 network of 500 million weights fits.
MAX_BYTES = 2 * 1024**3
#: Default limit on the uncompressed size of ``meta.json`` (64 MiB): settings,
#: fitted scalars and the training history (about 60 bytes per mini-batch).
MAX_META_BYTES = 64 * 1024**2
#: Limit on ``header.json`` (64 KiB; :func:`sknnfit.save` writes about 400 bytes).
MAX_HEADER_BYTES = 64 * 1024
#: Deepest nesting of arrays and objects read from a JSON member. sknnfit's
#: own files nest about 10 levels; ``save`` refuses values nested deeper.
MAX_JSON_DEPTH = 64
#: Suffix of the temporary files ``save`` writes next to the target.
TMP_SUFFIX = ".sknnfit-tmp"

_SIGNATURE = "hmac_sha256"
#: What zipfile raises on a damaged archive (NotImplementedError, for an
#: unknown version or method, is a RuntimeError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    LookupError,
    struct.error,
)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class InvalidFile(ValueError):
    """A file that is not a valid sknnfit file; the message says why."""

    def __init__(self, path, why):
        super().__init__(f"{path!r} is not a valid sknnfit file: {why}.")
        self.why = why


# ---------------------------------------------------------------------- reading


def read_members(path, max_bytes=MAX_BYTES, max_meta_bytes=MAX_META_BYTES):
    """``{member name: bytes}`` of the archive at ``path``, within the limits.

    Raises FileNotFoundError for a missing path, IsADirectoryError for a
    folder, and :class:`InvalidFile` for everything else that is wrong.
    """
    limits = {HEADER: MAX_HEADER_BYTES, META: max_meta_bytes, TENSORS: max_bytes}
    for name, limit in limits.items():
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(
                f"The limit for {name} must be a positive int; got {limit!r}."
            )
    try:
        _check_is_regular(path, os.stat(path))
    except FileNotFoundError:
        _check_is_regular(path, None)
    with open(path, "rb") as f:
        size = _check_is_regular(path, os.fstat(f.fileno())).st_size
        if size > sum(limits.values()) + 2**20:
            raise InvalidFile(
                path,
                f"it is {size} bytes long, more than the limits allow "
                f"(max_bytes={max_bytes}, max_meta_bytes={max_meta_bytes}); pass "
                "larger limits to sknnfit.load if you trust its source",
            )
        try:
            zf = zipfile.ZipFile(f)
        except _ZIP_ERRORS as exc:
            raise InvalidFile(
                path,
                f"it is not a zip archive ({exc}). Pickle and joblib files are not "
                "read here; load those with joblib.load, and only if you trust "
                "their source",
            ) from exc
        try:
            with zf:
                infos = _check_members(path, zf.infolist(), limits)
                return {info.filename: _read(path, zf, info, limits) for info in infos}
        except InvalidFile:
            raise
        except _ZIP_ERRORS as exc:
            raise InvalidFile(path, f"its zip archive is damaged ({exc})") from exc


def _check_is_regular(path, st):
    if st is None:
        raise FileNotFoundError(errno.ENOENT, f"No such file: {path!r}", path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(
            errno.EISDIR,
            f"{path!r} is a folder; sknnfit.load reads the file written by "
            "sknnfit.save: pass that file's path",
            path,
        )
    if not stat.S_ISREG(st.st_mode):
        raise InvalidFile(path, f"it is {_kind(st.st_mode)}, not a regular file")
    return st


def _kind(mode):
    kinds = [
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((what for test, what in kinds if test(mode)), "not a regular file")


def _check_members(path, infos, limits):
    names = [info.filename for info in infos]
    missing = [name for name in MEMBERS if name not in names]
    if missing:
        raise InvalidFile(
            path,
            f"it lacks {missing}. Pickle and joblib files are not read here; load "
            "those with joblib.load, and only if you trust their source",
        )
    extra = sorted(set(names) - set(MEMBERS))
    if extra or len(names) != len(MEMBERS):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise InvalidFile(
            path,
            f"it holds unexpected members {extra}"
            if extra
            else f"it holds {twice} twice",
        )
    for info in infos:
        if info.flag_bits & 0x1:
            raise InvalidFile(path, f"its member {info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InvalidFile(
                path,
                f"its member {info.filename} uses compression method "
                f"{info.compress_type}; sknnfit writes only stored or deflated members",
            )
        if info.file_size > limits[info.filename]:
            raise _too_large(path, info.filename, info.file_size, limits)
    return infos


def _read(path, zf, info, limits):
    """One member, never more than its limit, whatever the archive declares."""
    limit = limits[info.filename]
    with zf.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise _too_large(path, info.filename, len(data), limits)
    if len(data) != info.file_size:
        raise InvalidFile(
            path,
            f"its member {info.filename} holds {len(data)} bytes, not the "
            f"{info.file_size} its directory declares",
        )
    return data


def _too_large(path, name, size, limits):
    fix = {
        TENSORS: "pass a larger max_bytes to sknnfit.load",
        META: "pass a larger max_meta_bytes to sknnfit.load",
        HEADER: "sknnfit never writes such a header",
    }[name]
    return InvalidFile(
        path,
        f"its member {name} is {size} bytes uncompressed, over the limit of "
        f"{limits[name]} ({fix} if you trust the file's source)",
    )


def parse_json(path, data, what):
    """Parse a JSON member after checking its nesting depth."""
    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise InvalidFile(
            path, f"its {what} nests {depth} levels deep, more than {MAX_JSON_DEPTH}"
        )
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidFile(path, f"its {what} is not valid JSON ({exc})") from exc


def json_depth(data):
    """The deepest nesting of ``[`` and ``{`` in JSON text, strings left out."""
    if isinstance(data, str):
        data = data.encode()
    stripped = np.frombuffer(_STRING.sub(b'""', bytes(data)), dtype=np.uint8)
    step = np.isin(stripped, (ord("["), ord("{"))).astype(np.int64)
    step -= np.isin(stripped, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


# ---------------------------------------------------------------------- signing


def as_key(key):
    """A signing key as bytes: bytes as they are, str as UTF-8."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError(f"key must be bytes or str; got {type(key).__name__}.")
    if not len(key):
        raise ValueError(
            "key must not be empty: pass the secret shared with the reader."
        )
    return bytes(key)


def sign(header, key):
    """The HMAC-SHA256 (hex) of every header field but the signature itself."""
    fields = {k: v for k, v in header.items() if k != _SIGNATURE}
    message = (
        b"sknnfit-signature-1\n"
        + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    )
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def add_signature(header, key):
    """``header`` with its signature under ``key`` added."""
    return {**header, _SIGNATURE: sign(header, key)}


def check_signature(path, header, key):
    """Refuse an unsigned file, or one whose signature does not match ``key``."""
    stored = header.get(_SIGNATURE)
    if stored is None:
        raise InvalidFile(
            path,
            "it is not signed, and a key was given: load it without key only if "
            "you trust its source, or save it again with sknnfit.save(..., key=...)",
        )
    if not isinstance(stored, str) or not hmac.compare_digest(
        stored.encode("ascii", "replace"), sign(header, key).encode()
    ):
        raise InvalidFile(
            path,
            "its signature does not match the key: it was signed with another key "
            "or modified after it was signed",
        )


# ---------------------------------------------------------------------- writing


def check_target(path):
    """The mode to give the file at ``path``: None for a new file.

    Refuses a path that exists and is not a regular file: ``save`` would
    replace a link by a regular file, and a device or folder is never a model.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise ValueError(
            f"{path!r} is a symbolic link (to {os.path.realpath(path)!r}): "
            "sknnfit.save would replace the link itself by a regular file, not "
            "write to its target. Save to the target's path, or remove the link "
            "first."
        )
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(
            f"{path!r} is {_kind(st.st_mode)}: sknnfit.save only creates a file or "
            "replaces a regular file. Choose another path."
        )
    return stat.S_IMODE(st.st_mode)


def write_members(path, members):
    """Write ``{name: (bytes, compression)}`` to ``path`` through a temporary file.

    The temporary file, ``.<name>.<random>.sknnfit-tmp`` in the same folder,
    is created with the permissions ``open(path, "w")`` would give (the
    umask applies), or takes the mode of the file it replaces; it is removed if
    anything goes wrong, including a SIGTERM under Python's default action.
    """
    mode = check_target(path)
    folder, name = os.path.split(os.path.abspath(path))
    with _sigterm_raises():
        fd, tmp = _create_temporary(folder, name)
        try:
            with os.fdopen(fd, "wb") as f:
                if mode is not None:
                    os.chmod(tmp, mode)
                with zipfile.ZipFile(f, "w") as zf:
                    for member, (payload, compression) in members.items():
                        zf.writestr(member, payload, compression)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)


def _create_temporary(folder, name):
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}{TMP_SUFFIX}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - a 48-bit collision
            continue


class _Terminated(BaseException):
    """SIGTERM arrived while a temporary file existed."""


@contextlib.contextmanager
def _sigterm_raises():
    """Turn SIGTERM into an exception while the body runs, then die of it.

    Only where Python's default action (terminate at once, running no cleanup)
    is in force and this is the main thread; a handler the program installed
    is left alone. After the cleanup, the default action is restored and the
    signal sent again, so the process ends as it would have.
    """
    usable = (
        hasattr(signal, "SIGTERM")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    )
    if not usable:
        yield
        return

    def handler(signum, frame):
        raise _Terminated

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise SystemExit(128 + signal.SIGTERM) from None  # pragma: no cover
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
