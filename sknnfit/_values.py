"""JSON values and tensors: what :mod:`sknnfit._codec` builds its files from.

:class:`Encoder` turns parameters and fitted attributes into JSON values,
sending every numeric array to a flat dict of tensors; :class:`Decoder`
reverses it. Classes (which appear only when a user put one in ``net_params``)
are looked up in a fixed table of the classes sknnfit trains with, never
imported by name; so are the scalar types (``numpy.float64``, ``object``) and
NumPy functions (``numpy.log1p``) that scikit-learn transformers hold as
settings. Objects (estimators inside a Pipeline) are handed to the caller's
``encode_object`` and ``decode_object``, which keep their own allow-list. The
decoder reads hostile input: a tag holding the wrong kind of value, a dtype
that is not a plain number or string type, or a string array larger than its
values is refused with ValueError.
"""

from __future__ import annotations

from operator import index

import numpy as np
import torch

__all__ = ["Decoder", "Encoder"]
# Tags for the JSON values that plain JSON cannot tell apart.
_TAGS = (
    "__tuple__",
    "__numpy__",
    "__class__",
    "__tensor__",
    "__array__",
    "__dict__",
    "__type__",
    "__dtype__",
    "__slice__",
    "__function__",
    "__object__",
)
#: What an object array (categories_ of a text column) may hold besides strings.
_OBJECT_VALUES = (str, type(None), bool, int, float)


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


def _type_table():
    """Scalar types scikit-learn transformers hold as settings (``dtype=np.float64``,
    ``make_column_selector(dtype_include=object)``), by name."""
    types = [bool, int, float, str, object]
    types += [np.number, np.integer, np.signedinteger, np.unsignedinteger]
    types += [np.floating, np.bool_, np.object_, np.str_]
    types += [np.dtype(c).type for c in "bBhHiIlLqQefd"]
    return {_class_name(t): t for t in types}


def _function_table():
    """NumPy functions a FunctionTransformer or TransformedTargetRegressor may hold."""
    names = (
        "abs", "arcsinh", "arctanh", "cbrt", "exp", "exp2", "expm1", "log", "log10",
        "log1p", "log2", "negative", "reciprocal", "sinh", "sqrt", "square", "tanh",
    )  # fmt: skip
    return {f"numpy.{name}": getattr(np, name) for name in names}


#: sknnfit's own functions a stored transformer may hold, by name: imported
#: (from this fixed list, never from a name in a file) only when met, so
#: loading a plain network does not import the benchmark harness.
_OWN_FUNCTIONS = {
    # with_preprocessing's categories-as-text step; a rename needs an alias here.
    "sknnfit.bench.tabular._as_object": ("sknnfit.bench.tabular", "_as_object"),
}


def _own_function(name):
    import importlib

    module, attribute = _OWN_FUNCTIONS[name]
    return getattr(importlib.import_module(module), attribute)


def _own_function_name(value):
    """The name of ``value`` in :data:`_OWN_FUNCTIONS`, or None."""
    import sys

    for name, (module, attribute) in _OWN_FUNCTIONS.items():
        loaded = sys.modules.get(module)
        if loaded is not None and getattr(loaded, attribute, None) is value:
            return name
    return None


# ---------------------------------------------------------------------- encoding


class Encoder:
    """Turns parameters and fitted attributes into JSON, sending arrays to tensors.

    Attributes
    ----------
    tensors : dict of str to torch.Tensor
        Every array met so far, by the key its JSON value refers to.
    """

    def __init__(self, encode_object=None):
        self.tensors = {}
        self.classes = _class_table()
        self.types = {t: name for name, t in _type_table().items()}
        self.functions = {id(f): name for name, f in _function_table().items()}
        self.encode_object = encode_object

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
        if isinstance(value, type) and value in self.types:
            return {"__type__": self.types[value]}
        if isinstance(value, np.dtype):
            return {"__dtype__": _dtype(value.str, "biufOUS").str}
        if isinstance(value, slice):
            bounds = (value.start, value.stop, value.step)
            return {"__slice__": [None if b is None else index(b) for b in bounds]}
        if id(value) in self.functions:
            return {"__function__": self.functions[id(value)]}
        if callable(value) and _own_function_name(value) is not None:
            return {"__function__": _own_function_name(value)}
        if self.encode_object is not None:
            return self.encode_object(value, self, key)
        raise _unsupported(key, value)

    def _array(self, value, key):
        if value.dtype.kind in "biuf":
            ref = self.tensor(key, np.ascontiguousarray(value))
            fortran = value.flags.f_contiguous and not value.flags.c_contiguous
            if fortran:
                # Stored in C order; loaded back in Fortran order, as fitted:
                # a product with it then sums in the same order (on AVX-512,
                # a poly3 base's prediction differed by 7e-15 otherwise).
                ref["order"] = "F"
            return ref
        if value.dtype.kind in "US" or (
            value.dtype.kind == "O"
            and all(type(v) in _OBJECT_VALUES or _plain_float(v) for v in value.flat)
        ):
            # Strings (feature_names_in_, the categories of a text column, with
            # None or NaN for missing values) stay in the JSON.
            return {
                "__array__": value.dtype.str if value.dtype.kind != "O" else "O",
                "shape": list(value.shape),
                "values": [_item(v) for v in value.flat],
            }
        raise _unsupported(key, value)


def _plain_float(value):
    return isinstance(value, np.floating) and value.dtype == np.float64


def _item(value):
    return value.item() if isinstance(value, np.generic) else value


def _unsupported(key, value):
    return ValueError(
        f"{key} = {value!r} cannot be stored in the safe format, which holds only "
        "numbers, strings, arrays and sknnfit's own classes. Use plain values "
        "(for example in net_params), or save with joblib.dump and load the file "
        "only if you trust it."
    )


class Decoder:
    """The inverse of :class:`Encoder`, over the tensors read from the file."""

    def __init__(self, tensors, decode_object=None):
        self.tensors = tensors
        self.classes = _class_table()
        self.types = _type_table()
        self.functions = _function_table()
        self.decode_object = decode_object

    def __call__(self, value):
        """Decode the JSON value ``value``."""
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tuple__" in value:
            return tuple(self(v) for v in _tagged(value, "__tuple__", list))
        if "__numpy__" in value:
            dtype = _dtype(_tagged(value, "__numpy__", str), "biuf")
            return dtype.type(_tagged(value, "value", (bool, int, float)))
        if "__tensor__" in value:
            key = _tagged(value, "__tensor__", str)
            if key not in self.tensors:
                raise ValueError(
                    f"its JSON refers to a tensor {key!r} it does not hold"
                )
            array = self.tensors[key].numpy().copy()
            order = value.get("order", "C")
            if order not in ("C", "F"):
                raise ValueError(f"tensor {key!r} has an unknown order {order!r}")
            return np.asfortranarray(array) if order == "F" else array
        if "__array__" in value:
            return _string_array(value)
        if "__class__" in value:
            name = _tagged(value, "__class__", str)
            if name not in self.classes:
                raise ValueError(
                    f"The file names the class {name!r}, which sknnfit does not "
                    "load: only its own classes can appear in a saved model."
                )
            return self.classes[name]
        if "__type__" in value:
            return _from_table(self.types, _tagged(value, "__type__", str), "type")
        if "__function__" in value:
            name = _tagged(value, "__function__", str)
            if name in _OWN_FUNCTIONS:
                return _own_function(name)
            return _from_table(self.functions, name, "function")
        if "__dtype__" in value:
            return _dtype(_tagged(value, "__dtype__", str), "biufOUS")
        if "__slice__" in value:
            bounds = _tagged(value, "__slice__", list)
            if len(bounds) != 3 or not all(
                b is None or (type(b) is int) for b in bounds
            ):
                raise ValueError(f"its JSON holds the slice {bounds!r}")
            return slice(*bounds)
        if "__object__" in value:
            if self.decode_object is None:
                raise ValueError("its JSON holds an object where none belongs")
            return self.decode_object(value, self)
        if "__dict__" in value:
            value = _tagged(value, "__dict__", dict)
        return {k: self(v) for k, v in value.items()}

    def module_state(self, prefix):
        """The tensors whose keys start with ``prefix``, without it."""
        return {
            key[len(prefix) :]: tensor
            for key, tensor in self.tensors.items()
            if key.startswith(prefix)
        }


def _tagged(value, tag, kind):
    """``value[tag]``, refused unless of type ``kind``."""
    found = value.get(tag)
    if not isinstance(found, kind):
        raise ValueError(
            f"its JSON holds {tag} = {found!r}, which is not a valid entry"
        )
    return found


def _from_table(table, name, what):
    if name not in table:
        raise ValueError(
            f"The file names the {what} {name!r}, which sknnfit does not load: "
            f"only {sorted(table)} can appear in a saved model."
        )
    return table[name]


def _dtype(name, kinds):
    """The NumPy dtype called ``name``, refused unless of one of ``kinds``."""
    try:
        dtype = np.dtype(name)
    except TypeError as exc:
        raise ValueError(f"its JSON names the dtype {name!r} ({exc})") from exc
    if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype:
        raise ValueError(f"its JSON names the dtype {name!r}, which it does not use")
    return dtype


def _string_array(value):
    """An array of strings from its JSON form; no larger than its values warrant."""
    values = _tagged(value, "values", list)
    shape = _tagged(value, "shape", list)
    name = _tagged(value, "__array__", str)
    allowed = _OBJECT_VALUES if name == "O" else (str,)
    if not all(type(v) in allowed for v in values):
        raise ValueError(
            "its JSON holds a string array with values that are not strings"
        )
    if name == "O":
        array = np.empty(len(values), dtype=object)
        array[:] = values
    else:
        dtype = _dtype(name, "US")
        # A width beyond the longest value only pads; it may not blow up.
        if dtype.itemsize * len(values) > 4 * sum(map(len, values)) + 2**20:
            raise ValueError(
                f"its JSON declares {len(values)} strings of dtype {name!r}, far "
                "wider than the strings it holds"
            )
        array = np.array(values, dtype=dtype)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
        raise ValueError(f"its JSON holds the array shape {shape!r}")
    return array.reshape(shape)
