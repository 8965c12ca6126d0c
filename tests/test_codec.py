"""The codec of the data-only format: values to JSON and tensors, and rebuilding.

Whole-file behaviour (round trips of fitted models, refusals, checksums) is in
``test_persistence.py``.
"""

import json

import numpy as np
import pytest
import torch

from sknnfit import _values
from sknnfit._codec import Decoder, Encoder, _n_inputs
from sknnfit.features import INPUT_TRANSFORMS, make_input_transformer
from sknnfit.modules import MLP
from sknnfit.training import WeightedLoss


def round_trip(value):
    enc = Encoder()
    # Through JSON text, as in a file.
    encoded = json.loads(json.dumps(enc(value, "value"), allow_nan=True))
    return Decoder(enc.tensors)(encoded), encoded, enc.tensors


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        "text",
        3,
        2.5,
        float("nan"),
        (1, (2, "a")),
        [1, [2.0, None]],
        {"a": 1, "b": {"c": (1, 2)}},
        {"__tensor__": "not a reference", "__tuple__": [1]},  # keys that are tags
    ],
    ids=repr,
)
def test_plain_values_round_trip(value):
    decoded, _, tensors = round_trip(value)
    assert tensors == {}
    if value != value:  # NaN
        assert decoded != decoded
    else:
        assert decoded == value
        assert type(decoded) is type(value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_numpy_scalars_keep_their_dtype(dtype):
    decoded, _, _ = round_trip(dtype(1))
    assert decoded == 1
    assert type(decoded) is dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8])
def test_numeric_arrays_go_to_tensors(dtype):
    array = np.arange(6, dtype=dtype).reshape(2, 3)
    decoded, encoded, tensors = round_trip({"a": array})
    assert encoded == {"a": {"__tensor__": "value['a']"}}
    assert list(tensors) == ["value['a']"]
    np.testing.assert_array_equal(decoded["a"], array)
    assert decoded["a"].dtype == array.dtype


def test_arrays_come_back_in_the_memory_order_they_were_fitted_in():
    # A fitted Ridge's coef_ is Fortran-ordered; a product with a C-ordered
    # copy may sum in another order and differ in the last bits.
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    plain = np.arange(6.0).reshape(3, 2)
    decoded, encoded, _ = round_trip({"f": fortran, "c": plain, "v": plain[:, 0]})
    assert encoded["f"] == {"__tensor__": "value['f']", "order": "F"}
    assert encoded["c"] == {"__tensor__": "value['c']"}
    np.testing.assert_array_equal(decoded["f"], fortran)
    assert decoded["f"].flags.f_contiguous and not decoded["f"].flags.c_contiguous
    assert decoded["c"].flags.c_contiguous and decoded["v"].flags.c_contiguous


def test_an_unknown_memory_order_is_refused():
    tensors = {"t": torch.zeros(2, 2)}
    with pytest.raises(ValueError, match="unknown order 'K'"):
        Decoder(tensors)({"__tensor__": "t", "order": "K"})


@pytest.mark.parametrize("dtype", [object, "U3"])
def test_string_arrays_stay_in_the_json(dtype):
    names = np.array(["dose", "t", "c"], dtype=dtype)
    decoded, _, tensors = round_trip(names)
    assert tensors == {}
    np.testing.assert_array_equal(decoded, names)
    assert decoded.dtype == names.dtype


def test_a_device_is_stored_as_its_name():
    assert round_trip(torch.device("cpu"))[0] == "cpu"


def test_a_class_of_the_table_round_trips():
    decoded, encoded, _ = round_trip({"criterion": WeightedLoss})
    assert encoded == {
        "criterion": {"__class__": "sknnfit.training.losses.WeightedLoss"}
    }
    assert decoded == {"criterion": WeightedLoss}


@pytest.mark.parametrize(
    "value",
    [
        np.complex128(1j),
        np.array([1j]),
        np.array([{"a": 1}], dtype=object),
        {1: "integer key"},
        torch.nn.MSELoss,  # a class, but not one of the table
        len,
        object(),
    ],
    ids=lambda v: type(v).__name__,
)
def test_values_that_are_not_data_are_refused_by_name(value):
    with pytest.raises(ValueError, match=r"net_params\['x'\].*cannot be stored"):
        Encoder()({"x": value}, "net_params")


@pytest.mark.parametrize(
    "value",
    [np.float64, float, object, np.number, np.dtype("float32"), np.dtype("O")],
    ids=repr,
)
def test_scalar_types_and_dtypes_of_transformer_settings_round_trip(value):
    decoded, encoded, _ = round_trip(value)
    assert decoded is value or decoded == value
    assert set(encoded) <= {"__type__", "__dtype__"}


def test_slices_and_numpy_functions_round_trip():
    value = {"out": slice(0, 5, None), "func": np.log1p, "inverse": np.expm1}
    decoded, encoded, _ = round_trip(value)
    assert decoded == value
    assert encoded["func"] == {"__function__": "numpy.log1p"}


def test_categories_with_missing_values_stay_in_the_json():
    categories = np.array(["a", "b", None, np.nan], dtype=object)
    decoded, _, tensors = round_trip(categories)
    assert tensors == {}
    assert decoded.dtype == object and list(decoded[:3]) == ["a", "b", None]
    assert decoded[3] != decoded[3]


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"__type__": "builtins.eval"}, "names the type 'builtins.eval'"),
        ({"__function__": "os.system"}, "names the function 'os.system'"),
        ({"__dtype__": "V8"}, "dtype 'V8'"),
        ({"__slice__": [0, "a", None]}, "slice"),
        ({"__object__": "NNRegressor", "state": {}}, "object where none belongs"),
    ],
    ids=repr,
)
def test_names_outside_the_tables_are_refused_when_decoding(value, match):
    with pytest.raises(ValueError, match=match):
        _values.Decoder({})(value)


def test_objects_outside_the_allow_list_are_refused_when_decoding():
    value = {"__object__": "sklearn.svm.SVR", "state": {"params": {}, "fitted": {}}}
    with pytest.raises(ValueError, match=r"names the class 'sklearn\.svm\.SVR'"):
        Decoder({})(value)


def test_a_class_outside_the_table_is_refused_when_decoding():
    with pytest.raises(ValueError, match=r"names the class 'os\.system'"):
        Decoder({})({"__class__": "os.system"})


@pytest.mark.parametrize(
    ("sizes", "linear_skip"), [((8, 4), False), ((8,), True), ((), True), ((), False)]
)
def test_n_inputs_is_read_from_the_module_state(sizes, linear_skip):
    module = MLP(5, 2, hidden_layer_sizes=sizes, linear_skip=linear_skip)
    assert _n_inputs(module.state_dict()) == 5


# ------------------------------------------------- transformers for known columns

# A column spanning decades, a positive one that does not, a signed one.
X_MIXED = np.column_stack(
    [np.logspace(-2, 2, 10), np.linspace(1, 2, 10), np.linspace(-1, 1, 10)]
)


def describe(transformer):
    steps = getattr(transformer, "steps", [("step", transformer)])
    return [(name, type(step).__name__, step.get_params()) for name, step in steps]


@pytest.mark.parametrize("kind", INPUT_TRANSFORMS)
def test_input_transformer_for_known_log_columns_is_the_one_built_from_data(kind):
    from_data, columns = make_input_transformer(kind, X_MIXED)
    known, same = make_input_transformer(kind, log_columns=columns)
    assert same == columns
    assert describe(known) == describe(from_data)
    np.testing.assert_array_equal(
        known.fit_transform(X_MIXED), from_data.fit_transform(X_MIXED)
    )


@pytest.mark.parametrize("kind", ["standard", "none"])
def test_kinds_without_logs_refuse_log_columns(kind):
    with pytest.raises(ValueError, match=rf"input_transform='{kind}' takes the log"):
        make_input_transformer(kind, log_columns=[0])


@pytest.mark.parametrize("kind", ["auto", "log"])
def test_kinds_that_choose_columns_need_x_or_the_columns(kind):
    with pytest.raises(ValueError, match="pass X or log_columns"):
        make_input_transformer(kind)


# ------------------------------------------------------------ hostile values


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"__numpy__": "V1000000000", "value": 1}, "names the dtype 'V1000000000'"),
        ({"__numpy__": "(1000,)f8", "value": 1}, r"names the dtype '\(1000,\)f8'"),
        ({"__numpy__": "<f8", "value": [1]}, r"value = \[1\], which is not a valid"),
        ({"__tuple__": 3}, "__tuple__ = 3"),
        ({"__tensor__": "missing"}, "tensor 'missing' it does not hold"),
        ({"__class__": ["os", "system"]}, "__class__ = \\['os', 'system'\\]"),
        (
            {"__array__": "<U100000000", "shape": [2], "values": ["a", "b"]},
            "far wider than the strings",
        ),
        ({"__array__": "O", "shape": [2], "values": [{"a": 1}, "b"]}, "not strings"),
        ({"__array__": "<U1", "shape": [2], "values": [1, "b"]}, "not strings"),
        ({"__dict__": [1]}, "__dict__ = \\[1\\]"),
    ],
    ids=repr,
)
def test_the_decoder_refuses_malformed_tags_with_value_error(value, match):
    with pytest.raises(ValueError, match=match):
        Decoder({})(value)


def test_every_step_the_factories_build_has_a_size_rule():
    from sknnfit._sizes import _RULES
    from sknnfit.bases import BASES, make_base
    from sknnfit.target_transforms import make_target_transformer

    built = [
        make_input_transformer(kind, log_columns=[])[0] for kind in INPUT_TRANSFORMS
    ]
    built += [make_base(kind) for kind in BASES if kind not in ("auto", "none")]
    targets = ["standard", "log", "log1p", "asinh", "rank", "rank_normal"]
    built += [make_target_transformer(t, n_quantiles=10) for t in targets]
    for transformer in built:
        for _, step in getattr(transformer, "steps", [("step", transformer)]):
            assert type(step).__name__ in _RULES


def test_module_shapes_are_checked_without_allocating():
    from skorch import NeuralNetRegressor

    from sknnfit._sizes import check_module_state

    state = MLP(3, 1, hidden_layer_sizes=(8,)).state_dict()
    huge = NeuralNetRegressor(
        MLP,
        module__n_inputs=3,
        module__n_outputs=1,
        module__hidden_layer_sizes=(10**6,) * 2,
    )
    with pytest.raises(ValueError, match=r"hidden\.0\.bias of shape \(1000000,\)"):
        check_module_state(huge, state, "net 0")
    same = NeuralNetRegressor(
        MLP, module__n_inputs=3, module__n_outputs=1, module__hidden_layer_sizes=(8,)
    )
    check_module_state(same, state, "net 0")
