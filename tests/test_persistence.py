"""Persistence: pickle and joblib round trips, and the data-only save/load format."""

import hashlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression

from sknnfit import NNRegressor
from sknnfit.bases import BASES
from sknnfit.persistence import FORMAT_VERSION, load, save
from sknnfit.training import WeightedLoss

DATA = Path(__file__).parent / "data"

pytestmark = pytest.mark.filterwarnings(
    "ignore::sknnfit.exceptions.ExtrapolationWarning",
    "ignore::sklearn.exceptions.ConvergenceWarning",
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"dose": np.logspace(-3, 3, 40), "t": rng.normal(size=40), "c": 1.0}
    )
    y = np.sin(X["t"].to_numpy()) + np.log10(X["dose"].to_numpy())
    return X, y


@pytest.fixture(scope="module")
def fitted(small_nn, data):
    X, y = data
    return small_nn(early_stopping=True, optimizer="adamw").fit(X, np.c_[y, y**2])


def assert_same_state(a, b):
    """Fitted attributes equal, nets aside (compared through predictions)."""
    skip = {"net_", "nets_", "input_transformer_", "base_"}
    keys_a = {k for k in vars(a) if k not in skip}
    assert keys_a == {k for k in vars(b) if k not in skip}
    for key in keys_a:
        va, vb = getattr(a, key), getattr(b, key)
        if isinstance(va, np.ndarray):
            np.testing.assert_array_equal(va, vb)
            assert va.dtype == vb.dtype, key
        else:
            assert va == vb, key
            assert type(va) is type(vb), key
    assert a.get_params() == b.get_params()


# ------------------------------------------------------------- pickle and joblib


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trips_predict_identically(
    fitted, data, dump, tmp_path
):
    X, _ = data
    if dump == "pickle":
        other = pickle.loads(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, tmp_path / "m.joblib")
        other = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(other.predict(X), fitted.predict(X))
    assert_same_state(fitted, other)


def test_target_transform_pickles(small_nn, data):
    targets = pytest.importorskip("sknnfit.targets")
    X, y = data
    model = targets.TargetTransformRegressor(small_nn(), target="asinh").fit(X, y)
    other = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(other.predict(X), model.predict(X))


# ----------------------------------------------------------------- safe format

NN_CASES = [
    pytest.param({}, id="defaults"),
    pytest.param({"early_stopping": True, "optimizer": "adamw"}, id="early-stopping"),
    pytest.param({"base": "poly2", "input_transform": "none"}, id="poly-base"),
    pytest.param(
        {"activation": "sin", "net_params": {"module__sin_w0": 2.0}}, id="net-params"
    ),
    pytest.param(
        {"optimizer": "sgd", "lr": 1e-2, "grad_clip": 1.0, "loss": "huber"},
        id="sgd-clip-huber",
    ),
    pytest.param({"n_ensemble": 2}, id="ensemble"),
    pytest.param({"multi_output": "separate"}, id="separate"),
    pytest.param(
        {"multi_output": "separate", "n_ensemble": 2, "optimizer": "adam"},
        id="ensemble-of-separate-nets",
    ),
    *[pytest.param({"base": base}, id=f"base-{base}") for base in BASES],
    *[
        pytest.param({"input_transform": kind}, id=f"input-{kind}")
        for kind in ("standard", "log", "none")
    ],
    pytest.param({"hidden_layer_sizes": (), "linear_skip": True}, id="no-hidden-layer"),
    pytest.param(
        {"linear_skip": True, "activation": "tanh", "optimizer": "signagree"},
        id="linear-skip-signagree",
    ),
    pytest.param(
        {"batch_growth": True, "optimizer": "adam", "loss": "relative"},
        id="batch-growth",
    ),
    pytest.param(
        {"hidden_layer_sizes": "auto", "precision": "auto"}, id="auto-architecture"
    ),
    pytest.param(
        {"precision": "bfloat16", "optimizer": "adam"},
        id="bfloat16",
        # Machines without native bfloat16 warn that it is emulated.
        marks=pytest.mark.filterwarnings("ignore:precision='bfloat16'"),
    ),
]


@pytest.mark.parametrize("params", NN_CASES)
@pytest.mark.parametrize("two_d", [False, True])
def test_save_load_predicts_identically(small_nn, data, tmp_path, params, two_d):
    X, y = data
    Y = np.c_[y, y**2, np.full_like(y, 4.0)] if two_d else y
    try:
        model = small_nn(**params).fit(X, Y)
    except (TypeError, ValueError) as exc:  # a parameter the estimator lacks
        pytest.skip(f"NNRegressor does not take {params}: {exc}")
    save(model, tmp_path / "m.sknnfit")
    other = load(tmp_path / "m.sknnfit")
    np.testing.assert_array_equal(other.predict(X), model.predict(X))
    assert_same_state(model, other)
    assert other.net_.history[:, "train_loss"] == model.net_.history[:, "train_loss"]


def test_loaded_model_refits_and_keeps_its_parameters(small_nn, fitted, data, tmp_path):
    X, y = data
    save(fitted, tmp_path / "m.sknnfit")
    other = load(tmp_path / "m.sknnfit")
    np.testing.assert_array_equal(
        other.fit(X, np.c_[y, y**2]).predict(X),
        small_nn(**fitted.get_params()).fit(X, np.c_[y, y**2]).predict(X),
    )


@pytest.mark.filterwarnings("ignore:.*were clipped to the range")
@pytest.mark.parametrize(
    "target", ["standard", "log", "log1p", "asinh", "rank", "rank_normal", "auto"]
)
def test_target_transform_save_load_predicts_identically(
    small_nn, data, tmp_path, target
):
    targets = pytest.importorskip("sknnfit.targets")
    X, y = data
    Y = np.exp(np.c_[y, -y])  # positive, spanning decades
    model = targets.TargetTransformRegressor(small_nn(), target=target).fit(X, Y)
    save(model, tmp_path / "t.sknnfit")
    other = load(tmp_path / "t.sknnfit")
    np.testing.assert_array_equal(other.predict(X), model.predict(X))
    assert other.target_ == model.target_
    assert other.regressor_ is other.ttr_.regressor_


def test_target_transform_with_other_regressor_is_refused(data, tmp_path):
    targets = pytest.importorskip("sknnfit.targets")
    X, y = data
    model = targets.TargetTransformRegressor(LinearRegression()).fit(X, y)
    with pytest.raises(TypeError, match="only when its regressor is an NNRegressor"):
        save(model, tmp_path / "t.sknnfit")


def test_file_layout_and_header(fitted, tmp_path):
    path = tmp_path / "m.sknnfit"
    save(fitted, path)
    with zipfile.ZipFile(path) as zf:
        assert set(zf.namelist()) == {"header.json", "meta.json", "tensors.safetensors"}
        header = json.loads(zf.read("header.json"))
        meta = zf.read("meta.json")
        tensors = zf.read("tensors.safetensors")
    import sknnfit

    assert header["format"] == "sknnfit"
    assert header["format_version"] == FORMAT_VERSION
    assert header["sknnfit_version"] == sknnfit.__version__
    assert header["meta_sha256"] == hashlib.sha256(meta).hexdigest()
    assert header["tensors_sha256"] == hashlib.sha256(tensors).hexdigest()
    # Format 2 describes no net: nets are rebuilt from the plan, so no class is
    # named (only net_params can hold one).
    assert b"__class__" not in meta
    assert b"sknnfit.modules" not in meta and b"torch.optim" not in meta
    estimator = json.loads(meta)["estimator"]
    assert [set(item) for item in estimator["nets"]] == [{"group", "history"}]
    keys = set(safetensors.torch.load(tensors))
    weights = {k for k in keys if k.startswith("nets_.0.module.")}
    assert weights == {f"nets_.0.module.{k}" for k in fitted.net_.module_.state_dict()}
    assert keys - weights == {
        "input_transformer_.scale.mean_",
        "input_transformer_.scale.scale_",
        "input_transformer_.scale.var_",
        "residual_scale_",
        "x_max_",
        "x_min_",
        "y_mean_",
        "y_scale_",
    }
    assert not list(tmp_path.glob(".sknnfit-*"))  # no temporary file left


def test_load_never_unpickles(fitted, data, tmp_path, monkeypatch):
    X, _ = data
    save(fitted, tmp_path / "m.sknnfit")

    def forbidden(*args, **kwargs):
        raise AssertionError("load() must not unpickle")

    for module, name in [
        (pickle, "load"),
        (pickle, "loads"),
        (pickle, "Unpickler"),
        (torch, "load"),
        (joblib, "load"),
    ]:
        monkeypatch.setattr(module, name, forbidden)
    other = load(tmp_path / "m.sknnfit")
    monkeypatch.undo()
    np.testing.assert_array_equal(other.predict(X), fitted.predict(X))


LOAD_ALONE = textwrap.dedent(
    """
    import sys
    from sknnfit import load
    load(sys.argv[1])
    assert not [m for m in sys.modules if m.startswith("sknnfit.bench")]
    """
)


def test_load_does_not_import_the_benchmark_harness(fitted, tmp_path):
    save(fitted, tmp_path / "m.sknnfit")
    subprocess.run(
        [sys.executable, "-c", LOAD_ALONE, str(tmp_path / "m.sknnfit")], check=True
    )


def test_load_leaves_the_global_torch_generator_alone(fitted, tmp_path):
    save(fitted, tmp_path / "m.sknnfit")
    state = torch.get_rng_state()
    load(tmp_path / "m.sknnfit")
    assert torch.equal(torch.get_rng_state(), state)


def test_saving_an_unfitted_estimator_raises_not_fitted(small_nn, tmp_path):
    with pytest.raises(NotFittedError):
        save(small_nn(), tmp_path / "m.sknnfit")
    assert not (tmp_path / "m.sknnfit").exists()


def test_saving_another_estimator_suggests_joblib(data, tmp_path):
    X, y = data
    with pytest.raises(TypeError, match=r"supports NNRegressor.*joblib\.dump"):
        save(LinearRegression().fit(X, y), tmp_path / "m.sknnfit")


def test_net_params_that_are_not_data_are_refused(small_nn, data, tmp_path):
    X, y = data

    class MyLoss(torch.nn.MSELoss):
        def __init__(self, **kwargs):
            super().__init__()

        def forward(self, input, target):
            return super().forward(input, target[:, : input.shape[1]])

    model = small_nn(net_params={"criterion": MyLoss}).fit(X, y)
    with pytest.raises(ValueError, match=r"net_params.*cannot be stored in the safe"):
        save(model, tmp_path / "m.sknnfit")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------- refusing to load


def rewrite(path, header=None, meta=None, tensors=None, keep_checksums=False):
    """Rewrite members of a saved file, recomputing checksums unless told not to."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    old = json.loads(members["header.json"])
    if meta is not None:
        members["meta.json"] = meta(members["meta.json"])
    if tensors is not None:
        members["tensors.safetensors"] = tensors(members["tensors.safetensors"])
    new = dict(old)
    if not keep_checksums:
        new["meta_sha256"] = hashlib.sha256(members["meta.json"]).hexdigest()
        new["tensors_sha256"] = hashlib.sha256(
            members["tensors.safetensors"]
        ).hexdigest()
    new.update(header or {})
    members["header.json"] = json.dumps(new).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "m.sknnfit"
    save(fitted, path)
    return path


def flip_last_byte(payload):
    return payload[:-1] + bytes([payload[-1] ^ 1])


def test_tampered_weights_fail_the_checksum(saved):
    rewrite(saved, tensors=flip_last_byte, keep_checksums=True)
    with pytest.raises(ValueError, match=r"fails its tensors checksum.*modified"):
        load(saved)


def test_tampered_json_fails_the_checksum(saved):
    rewrite(
        saved,
        meta=lambda m: m.replace(b'"max_epochs": 3', b'"max_epochs": 4'),
        keep_checksums=True,
    )
    with pytest.raises(ValueError, match=r"fails its meta checksum.*modified"):
        load(saved)


def test_other_major_version_is_refused(saved):
    rewrite(saved, header={"sknnfit_version": "99.0.0"})
    with pytest.raises(ValueError, match=r"saved by sknnfit 99\.0\.0.*major version"):
        load(saved)


def test_newer_format_version_is_refused(saved):
    rewrite(saved, header={"format_version": FORMAT_VERSION + 1})
    with pytest.raises(ValueError, match="Upgrade sknnfit"):
        load(saved)


def test_a_class_of_the_table_in_net_params_round_trips(small_nn, data, tmp_path):
    X, y = data
    model = small_nn(net_params={"criterion": WeightedLoss}).fit(X, y)
    save(model, tmp_path / "m.sknnfit")
    other = load(tmp_path / "m.sknnfit")
    assert other.net_params == {"criterion": WeightedLoss}
    np.testing.assert_array_equal(other.predict(X), model.predict(X))


def test_class_outside_the_table_is_refused_even_with_valid_checksums(
    small_nn, data, tmp_path
):
    # An attacker can recompute checksums; naming a callable must still fail.
    X, y = data
    path = tmp_path / "m.sknnfit"
    save(small_nn(net_params={"criterion": WeightedLoss}).fit(X, y), path)
    rewrite(
        path,
        meta=lambda m: m.replace(
            b'"sknnfit.training.losses.WeightedLoss"', b'"os.system"'
        ),
    )
    with pytest.raises(ValueError, match=r"names the class 'os\.system'"):
        load(path)


# ------------------------------------------------------------------ format 1


@pytest.fixture
def format_1_file(tmp_path):
    """A copy of a file written by the last sknnfit of format 1."""
    path = tmp_path / "v1.sknnfit"
    path.write_bytes((DATA / "golden_ensemble.sknnfit").read_bytes())
    with zipfile.ZipFile(path) as zf:
        assert json.loads(zf.read("header.json"))["format_version"] == 1
    return path


def test_format_1_file_loads_and_saves_as_format_2(format_1_file, tmp_path):
    X = np.random.default_rng(5).uniform(-1, 1, size=(20, 3))
    old = load(format_1_file)
    assert [group for group, _ in old.nets_] == [[0], [0]]
    save(old, tmp_path / "v2.sknnfit")
    new = load(tmp_path / "v2.sknnfit")
    np.testing.assert_array_equal(new.predict(X), old.predict(X))
    assert_same_state(old, new)


def test_format_1_file_of_a_model_without_nets_list_loads(format_1_file):
    # Models from before nets_ existed were saved with one net and no groups.
    def drop_groups(meta):
        meta = json.loads(meta)
        estimator = meta["estimator"]
        estimator["has_nets_list"] = False
        estimator["nets"] = [dict(estimator["nets"][0], group=None)]
        return json.dumps(meta).encode()

    X = np.random.default_rng(5).uniform(-1, 1, size=(20, 3))
    first = load(format_1_file).nets_[0][1].module_
    rewrite(format_1_file, meta=drop_groups)
    model = load(format_1_file)
    assert [group for group, _ in model.nets_] == [[0]]
    assert model.net_ is model.nets_[0][1]
    for a, b in zip(model.net_.module_.parameters(), first.parameters(), strict=True):
        assert torch.equal(a, b)
    assert model.predict(X).shape == (20,)


def test_format_1_net_parameters_naming_an_unknown_class_are_refused(format_1_file):
    # Format 1 stored every skorch parameter of the nets; they are ignored, but
    # only once each class they name is known.
    rewrite(
        format_1_file,
        meta=lambda m: m.replace(b'"sknnfit.modules.MLP"', b'"os.system"'),
    )
    with pytest.raises(ValueError, match=r"names the class 'os\.system'"):
        load(format_1_file)


def test_attribute_that_shadows_a_method_is_refused(saved):
    rewrite(saved, meta=lambda m: m.replace(b'"n_epochs_"', b'"predict"'))
    with pytest.raises(ValueError, match=r"'predict'.*not a fitted attribute"):
        load(saved)


@pytest.mark.parametrize(
    ("write", "match"),
    [
        pytest.param(
            lambda p: joblib.dump(NNRegressor(), p), "not a zip archive", id="joblib"
        ),
        pytest.param(
            lambda p: p.write_text("hello"), "not a zip archive", id="text-file"
        ),
        pytest.param(
            lambda p: zipfile.ZipFile(p, "w").writestr("a.txt", "a"),
            r"lacks \['header\.json'",
            id="other-zip",
        ),
        pytest.param(
            lambda p: zipfile.ZipFile(p, "w").writestr("header.json", "{"),
            "lacks",
            id="truncated",
        ),
    ],
)
def test_non_sknnfit_file_is_refused(tmp_path, write, match):
    path = tmp_path / "x.bin"
    write(path)
    with pytest.raises(
        ValueError, match=rf"not a file written by sknnfit\.save.*{match}"
    ):
        load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.sknnfit")


# ---------------------------------------------------------------------- CUDA

LOAD_WITHOUT_CUDA = textwrap.dedent(
    """
    import pickle, sys
    import numpy as np, torch
    from sknnfit.persistence import load
    assert not torch.cuda.is_available()
    X = np.load(sys.argv[1])
    pickled = pickle.load(open(sys.argv[2], "rb"))
    safe = load(sys.argv[3])
    assert pickled.device_ == safe.device_ == "cpu"
    np.save(sys.argv[4], np.stack([pickled.predict(X), safe.predict(X)]))
    """
)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fitted_on_cuda_loads_and_predicts_without_cuda(small_nn, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    model = small_nn(device="cuda").fit(X, X[:, 0] ** 2)
    assert model.device_.startswith("cuda")
    np.save(tmp_path / "X.npy", X)
    with open(tmp_path / "m.pkl", "wb") as f:
        pickle.dump(model, f)
    save(model, tmp_path / "m.sknnfit")
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_CUDA]
        + [str(tmp_path / n) for n in ("X.npy", "m.pkl", "m.sknnfit", "out.npy")],
        env=env,
        check=True,
    )
    pickled, safe = np.load(tmp_path / "out.npy")
    on_gpu = model.predict(X)
    np.testing.assert_array_equal(pickled, safe)
    np.testing.assert_allclose(pickled, on_gpu, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_file_of_a_cuda_model_loads_on_the_cpu(fitted, data, saved):
    # As a file saved on a GPU says: the weights are stored on the CPU anyway.
    X, _ = data

    def on_cuda(meta):
        assert b'"device_": "cpu"' in meta
        return meta.replace(b'"device_": "cpu"', b'"device_": "cuda"')

    rewrite(saved, meta=on_cuda)
    other = load(saved)
    assert other.device_ == "cpu"
    assert all(net.device == "cpu" for _, net in other.nets_)
    np.testing.assert_array_equal(other.predict(X), fitted.predict(X))


@pytest.mark.parametrize("n_rows", [100, 400])  # base="auto" -> linear, poly2
def test_save_load_with_the_automatic_base(small_nn, tmp_path, n_rows):
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(1, 100, n_rows), rng.uniform(-1, 1, n_rows)])
    y = np.log(X[:, 0]) * X[:, 1]
    model = small_nn().fit(X, y)
    assert model.base_kind_ == ("linear" if n_rows == 100 else "poly2")
    save(model, tmp_path / "m.sknnfit")
    other = load(tmp_path / "m.sknnfit")
    assert other.base_kind_ == model.base_kind_
    np.testing.assert_array_equal(other.predict(X), model.predict(X))
