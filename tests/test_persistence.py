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
    pytest.param({"early_stopping": True, "optimizer": "muon"}, id="muon"),
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
    pytest.param({"embedding": "periodic"}, id="periodic"),
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


@pytest.mark.parametrize("early_stopping", [True, False])
def test_loaded_model_trains_on_under_warm_start(
    small_nn, data, tmp_path, early_stopping
):
    # A file keeps no training callbacks: warm start rebuilds them and trains
    # on from the loaded weights (this raised a KeyError before).
    X, y = data
    model = small_nn(early_stopping=early_stopping, optimizer="adamw", warm_start=True)
    model.fit(X, y)
    save(model, tmp_path / "m.sknnfit")
    other = load(tmp_path / "m.sknnfit")
    before = other.predict(X)
    other.fit(X, y)
    assert other.n_iter_ > model.n_iter_
    assert not np.array_equal(other.predict(X), before)
    if early_stopping:
        assert len(other.validation_scores_) == other.n_iter_
    assert other.score(X, y) >= model.score(X, y) - 0.01


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
    # The closed-form base, when the automatic rule chose one, is stored too.
    base = set()
    if fitted.base_ is not None:
        steps = getattr(fitted.base_, "steps", [("step", fitted.base_)])
        base = {f"base_.{n}.{a}" for n, _ in steps for a in ("coef_", "intercept_")}
    assert (
        keys - weights
        == {
            "input_transformer_.scale.mean_",
            "input_transformer_.scale.scale_",
            "input_transformer_.scale.var_",
            "network_weight_",
            "residual_scale_",
            "x_max_",
            "x_min_",
            "y_mean_",
            "y_scale_",
        }
        | base
    )
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
    with pytest.raises(ValueError, match=rf"is not a valid sknnfit file: .*{match}"):
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


# ------------------------------------------------------------ hostile files


def edit_meta(change):
    """A ``meta=`` for :func:`rewrite` applying ``change`` to the estimator dict."""

    def edit(meta):
        meta = json.loads(meta)
        change(meta["estimator"])
        return json.dumps(meta).encode()

    return edit


def edit_tensors(change):
    """A ``tensors=`` for :func:`rewrite` applying ``change`` to the tensor dict."""

    def edit(payload):
        tensors = safetensors.torch.load(payload)
        change(tensors)
        return safetensors.torch.save(tensors)

    return edit


def write_zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, payload in members:
            zf.writestr(name, payload)


def members_of(path):
    with zipfile.ZipFile(path) as zf:
        return [(name, zf.read(name)) for name in zf.namelist()]


INVALID = r"is not a valid sknnfit file: "


def test_zip_bomb_is_refused_before_decompressing(saved, tmp_path):
    import tracemalloc

    bomb = tmp_path / "bomb.sknnfit"
    members = dict(members_of(saved))
    members["meta.json"] = b" " * (65 * 2**20)  # 65 MiB of spaces, 64 KiB zipped
    write_zip(bomb, members.items())
    assert bomb.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=INVALID + r".*meta\.json.*max_meta_bytes"):
            load(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20


def test_limits_are_documented_and_overridable(saved):
    import sknnfit.persistence as persistence

    assert persistence.MAX_BYTES == 2 * 2**30
    assert persistence.MAX_META_BYTES == 64 * 2**20
    with pytest.raises(ValueError, match=r"tensors\.safetensors.*max_bytes"):
        load(saved, max_bytes=1000)
    with pytest.raises(ValueError, match=r"meta\.json.*max_meta_bytes"):
        load(saved, max_meta_bytes=100)
    load(saved, max_bytes=10**6, max_meta_bytes=10**6)


def set_declared_size(path, member, size):
    """Make the central directory (and local header) understate a member's size."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    name = member.encode()
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_at = start + (46 if signature == b"PK\x01\x02" else 30)
            if data[name_at : name_at + len(name)] == name:
                assert (
                    int.from_bytes(data[start + offset : start + offset + 4], "little")
                    == info.file_size
                )
                data[start + offset : start + offset + 4] = size.to_bytes(4, "little")
            start += 4
    path.write_bytes(bytes(data))


def test_a_member_larger_than_declared_is_not_read_past_its_declaration(saved):
    set_declared_size(saved, "meta.json", 10)
    with pytest.raises(ValueError, match=INVALID):
        load(saved)


@pytest.mark.parametrize(
    ("members", "match"),
    [
        pytest.param(
            lambda m: [*m, ("extra.bin", b"x")],
            r"it holds unexpected members \['extra\.bin'\]",
            id="extra",
        ),
        pytest.param(lambda m: [*m, m[0]], r"it holds \['.*'\] twice", id="duplicate"),
    ],
)
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_unexpected_or_repeated_members_are_refused(saved, members, match):
    write_zip(saved, members(members_of(saved)))
    with pytest.raises(ValueError, match=INVALID + match):
        load(saved)


def test_other_compression_methods_are_refused(saved):
    write_zip(saved, members_of(saved), zipfile.ZIP_BZIP2)
    with pytest.raises(ValueError, match=INVALID + ".*compression method 12"):
        load(saved)


def test_deeply_nested_json_is_refused_without_recursing(saved):
    deep = b'{"estimator": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    rewrite(saved, meta=lambda _: deep)
    with pytest.raises(
        ValueError, match=INVALID + r"its meta\.json nests 100001 levels"
    ):
        load(saved)


def test_brackets_inside_strings_do_not_count_as_nesting():
    from sknnfit._archive import json_depth

    assert json_depth(b'{"a": ["[[[", "\\"{{"], "b": {}}') == 2
    assert json_depth(b"[]") == 1 and json_depth(b"3") == 0


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param(
            lambda e: e["fitted"].update(n_features_in_=300_000_000),
            r"x_min_ is \(3,\), but the stored tensors give \(300000000,\)",
            id="n_features_in_",
        ),
        pytest.param(
            lambda e: e["fitted"].update(n_outputs_=300_000_000),
            r"y_mean_ is \(2,\), but the stored tensors give \(300000000,\)",
            id="n_outputs_",
        ),
        pytest.param(
            lambda e: e["fitted"].update(n_outputs_=3.0),
            "n_outputs_ must be an integer",
            id="float-width",
        ),
        pytest.param(
            lambda e: e["fitted"].update(
                hidden_layer_sizes_={"__tuple__": [100_000, 100_000]}
            ),
            r"net 0's module has hidden\.0\.bias of shape \(100000,\).*stores \(8,\)",
            id="hidden-layer-sizes",
        ),
        pytest.param(
            lambda e: e["params"].update(
                net_params={"module__hidden_layer_sizes": {"__tuple__": [10**5] * 2}}
            ),
            r"net 0's module has hidden\.0\.bias of shape \(100000,\)",
            id="module-in-net-params",
        ),
        pytest.param(
            lambda e: e["fitted"].update(log_columns_=[7]),
            r"log_columns_ = \[7\] must be distinct indices below 3",
            id="log-columns",
        ),
        pytest.param(
            lambda e: e["nets"][0].update(group=[0, 5]),
            r"output group of net 0 = \[0, 5\] must be distinct indices below 2",
            id="group-index",
        ),
        pytest.param(
            lambda e: e["nets"].clear(), "as the nets' output groups", id="no-net"
        ),
        pytest.param(lambda e: e.pop("nets"), r"KeyError: 'nets'", id="missing-key"),
        pytest.param(
            lambda e: e["input_transformer"][-1]["fitted"].update(n_features_in_=9),
            r"input_transformer_\.scale\.n_features_in_ is 9.*give 4",
            id="scaler-width",
        ),
        pytest.param(
            lambda e: e["fitted"].update(
                feature_names_in_={
                    "__array__": "<U100000000",
                    "shape": [1],
                    "values": ["a"],
                }
            ),
            "far wider than the strings it holds",
            id="huge-string-dtype",
        ),
        pytest.param(
            lambda e: e["fitted"].update(
                best_epoch_={"__numpy__": "V1000000000", "value": 1}
            ),
            "names the dtype 'V1000000000'",
            id="void-dtype",
        ),
        pytest.param(
            lambda e: e["fitted"].update(x_min_={"__tensor__": "nowhere"}),
            "refers to a tensor 'nowhere' it does not hold",
            id="missing-tensor",
        ),
        pytest.param(
            lambda e: e["input_transformer"][-1]["params"].update(copy={"a": 1}),
            "settings that are not plain values",
            id="step-setting",
        ),
    ],
)
def test_declared_sizes_must_agree_with_the_stored_tensors(saved, change, match):
    # Checksums recomputed: only the consistency checks stand in the way.
    rewrite(saved, meta=edit_meta(change))
    with pytest.raises(ValueError, match=INVALID + ".*" + match):
        load(saved)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        pytest.param(
            lambda t: t.update({"nets_.0.module.out.weight": torch.zeros(2, 9)}),
            r"out\.weight of shape \(2, 8\).*stores \(2, 9\)",
            id="weight-shape",
        ),
        pytest.param(
            lambda t: t.pop("nets_.0.module.out.bias"),
            r"out\.bias of shape \(2,\).*stores None",
            id="missing-weight",
        ),
        pytest.param(
            lambda t: t.update(
                {"input_transformer_.scale.mean_": torch.zeros(5, dtype=torch.float64)}
            ),
            r"input_transformer_\.scale\.mean_ is \(5,\).*give \(4,\)",
            id="scaler-statistic",
        ),
        pytest.param(
            lambda t: t.update({"nets_.0.module.hidden.0.weight": torch.zeros(8, 5)}),
            r"first layer of net 0 is \(8, 5\).*\(\*, 4\)",
            id="input-width",
        ),
    ],
)
def test_stored_tensors_must_fit_the_model(saved, change, match):
    rewrite(saved, tensors=edit_tensors(change))
    with pytest.raises(ValueError, match=INVALID + ".*" + match):
        load(saved)


@pytest.mark.filterwarnings("ignore:.*were clipped to the range")
def test_target_transformer_statistics_must_fit(small_nn, data, tmp_path):
    targets = pytest.importorskip("sknnfit.targets")
    X, y = data
    path = tmp_path / "t.sknnfit"
    save(targets.TargetTransformRegressor(small_nn(), target="rank").fit(X, y), path)
    key = "transformer_.step.references_"
    rewrite(path, tensors=edit_tensors(lambda t: t.update({key: t[key][:-1]})))
    with pytest.raises(
        ValueError, match=INVALID + r".*references_ is \(39,\).*\(40,\)"
    ):
        load(path)


def test_random_corruption_only_ever_raises_value_error(small_nn, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    model = small_nn(max_epochs=2).fit(X, X[:, 0])
    good_path = tmp_path / "good.sknnfit"
    save(model, good_path)
    good, expected = good_path.read_bytes(), model.predict(X)
    loaded = 0
    for trial in range(200):
        data = bytearray(good)
        if trial % 4 == 0:
            data = data[: rng.integers(len(data))]
        else:
            for i in rng.integers(len(data), size=rng.integers(1, 4)):
                data[i] ^= int(rng.integers(1, 256))
        path = tmp_path / "bad.sknnfit"
        path.write_bytes(bytes(data))
        try:
            other = load(path)
        except ValueError as exc:
            assert INVALID in str(exc)
            continue
        loaded += 1  # the flip hit a byte nothing reads (a zip timestamp)
        np.testing.assert_array_equal(other.predict(X), expected)
    assert loaded < 20


def test_loading_a_folder_or_a_device(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"is a folder; sknnfit\.load reads"):
        load(tmp_path)
    if os.path.exists("/dev/null"):
        with pytest.raises(ValueError, match=INVALID + "it is a character device"):
            load("/dev/null")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        with pytest.raises(ValueError, match=INVALID + "it is a named pipe"):
            load(tmp_path / "pipe")  # refused without opening it (that would block)


def test_a_dangling_link_is_a_missing_file(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="No such file"):
        load(tmp_path / "link")


# ------------------------------------------------------------- save and the path


def test_save_refuses_a_symbolic_link_and_leaves_it(fitted, saved, tmp_path):
    link = tmp_path / "link.sknnfit"
    link.symlink_to(saved)
    before = saved.read_bytes()
    with pytest.raises(
        ValueError, match=r"is a symbolic link .*replace the link itself"
    ):
        save(fitted, link)
    assert link.is_symlink() and saved.read_bytes() == before


@pytest.mark.parametrize(
    ("target", "what"), [("folder", "a folder"), ("/dev/null", "a character device")]
)
def test_save_refuses_what_is_not_a_regular_file(fitted, tmp_path, target, what):
    path = tmp_path if target == "folder" else Path(target)
    if not path.exists():
        pytest.skip(f"no {target}")
    with pytest.raises(ValueError, match=f"is {what}: sknnfit.save only creates"):
        save(fitted, path)
    assert not list(tmp_path.glob(".*.sknnfit-tmp"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_new_file_gets_the_permissions_open_would_give(fitted, tmp_path, umask):
    old = os.umask(umask)
    try:
        save(fitted, tmp_path / "m.sknnfit")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    mode = (tmp_path / "m.sknnfit").stat().st_mode & 0o7777
    assert mode == (tmp_path / "plain").stat().st_mode & 0o7777 == 0o666 & ~umask


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_replaced_file_keeps_its_mode(fitted, saved):
    saved.chmod(0o640)
    save(fitted, saved)
    assert saved.stat().st_mode & 0o7777 == 0o640
    load(saved)


def test_no_temporary_file_is_left_when_saving_fails(fitted, saved, monkeypatch):
    before = saved.read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save(fitted, saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    assert sorted(p.name for p in saved.parent.iterdir()) == ["m.sknnfit"]


SAVE_UNTIL_KILLED = textwrap.dedent(
    """
    import os, sys, time
    from sknnfit import load, save

    model = load(sys.argv[1])
    real_fsync = os.fsync

    def slow_fsync(fd):  # the temporary file is complete: wait to be killed
        real_fsync(fd)
        print("writing", flush=True)
        time.sleep(60)

    os.fsync = slow_fsync
    save(model, sys.argv[2])
    """
)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("existing", [False, True])
def test_sigterm_during_save_leaves_no_temporary_file(tmp_path, existing):
    import signal

    target = tmp_path / "m.sknnfit"
    if existing:
        target.write_bytes(b"previous")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SAVE_UNTIL_KILLED,
            str(DATA / "golden_default.sknnfit"),
            str(target),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline() == "writing\n"
        assert len(list(tmp_path.glob(".m.sknnfit.*.sknnfit-tmp"))) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
    finally:
        proc.kill()
        proc.stdout.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["m.sknnfit"] if existing else []
    )
    if existing:
        assert target.read_bytes() == b"previous"


# ------------------------------------------------------------------- signing


@pytest.mark.parametrize("key", [b"\x00secret bytes", "clé secrète"])
def test_a_signed_file_loads_with_its_key_and_without_one(fitted, data, tmp_path, key):
    X, _ = data
    path = tmp_path / "m.sknnfit"
    save(fitted, path, key=key)
    for other in (load(path, key=key), load(path)):
        np.testing.assert_array_equal(other.predict(X), fitted.predict(X))
    if isinstance(key, str):
        load(path, key=key.encode("utf-8"))


def test_wrong_key_and_unsigned_file_are_refused(fitted, saved, tmp_path):
    signed = tmp_path / "s.sknnfit"
    save(fitted, signed, key="right")
    with pytest.raises(
        ValueError, match=INVALID + "its signature does not match the key"
    ):
        load(signed, key="wrong")
    with pytest.raises(
        ValueError, match=INVALID + "it is not signed, and a key was given"
    ):
        load(saved, key="right")


def test_tampering_with_recomputed_checksums_is_caught_only_by_the_signature(
    fitted, tmp_path
):
    path = tmp_path / "s.sknnfit"
    save(fitted, path, key=b"k")

    def edit(tensors):
        tensors["nets_.0.module.out.bias"] = tensors["nets_.0.module.out.bias"] + 1

    rewrite(path, tensors=edit_tensors(edit))  # checksums recomputed
    load(path)  # the checksum only catches accidents
    with pytest.raises(ValueError, match="signature does not match"):
        load(path, key=b"k")
    # Nor can the signature be dropped or moved to another file's header.
    rewrite(path, header={"hmac_sha256": None})
    with pytest.raises(ValueError, match="it is not signed"):
        load(path, key=b"k")


@pytest.mark.parametrize(("key", "error"), [("", ValueError), (123, TypeError)])
def test_invalid_keys(fitted, saved, key, error):
    with pytest.raises(error, match="key must"):
        save(fitted, saved, key=key)
    with pytest.raises(error, match="key must"):
        load(saved, key=key)


def test_settings_nested_too_deep_are_refused_when_saving(fitted, tmp_path):
    import copy

    deep = {}
    level = deep
    for _ in range(70):
        level["a"] = {}
        level = level["a"]
    model = copy.copy(fitted)
    model.net_params = deep
    with pytest.raises(ValueError, match="nest deeper than 64"):
        save(model, tmp_path / "m.sknnfit")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------- scikit-learn pipelines


@pytest.fixture(scope="module")
def mixed_frame():
    """A table with a text column, missing values in it and in a number column."""
    rng = np.random.default_rng(1)
    n = 60
    X = pd.DataFrame(
        {
            "size": rng.uniform(1, 10, n),
            # NaN, not None, marks a missing text: scikit-learn 1.7's SimpleImputer
            # keeps None as a category of its own.
            "colour": rng.choice(np.array(["red", "green", "blue", np.nan], object), n),
            "age": rng.normal(size=n),
        }
    )
    X.loc[[2, 7], "size"] = np.nan
    y = np.nan_to_num(X["size"].to_numpy()) + 2.0 * (X["colour"] == "red") + 1.0
    return X, y


def preprocessor():
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["size", "age"]),
            ("cat", categorical, make_column_selector(dtype_exclude="number")),
        ]
    )


@pytest.fixture(scope="module")
def mixed_pipeline(small_nn, mixed_frame):
    from sklearn.pipeline import Pipeline

    X, y = mixed_frame
    return Pipeline([("pre", preprocessor()), ("nn", small_nn())]).fit(X, y)


def test_pipeline_of_column_transformer_and_network_round_trips(
    mixed_pipeline, mixed_frame, tmp_path, monkeypatch
):
    X, _ = mixed_frame
    save(mixed_pipeline, tmp_path / "p.sknnfit")
    for module, name in [(pickle, "loads"), (pickle, "Unpickler"), (joblib, "load")]:
        monkeypatch.setattr(module, name, pytest.fail)
    other = load(tmp_path / "p.sknnfit")
    monkeypatch.undo()
    assert other is not mixed_pipeline
    np.testing.assert_array_equal(other.predict(X), mixed_pipeline.predict(X))
    # Unseen and missing categories go through the loaded encoder as they did.
    new = X.head(3).assign(colour=["purple", np.nan, "red"])
    np.testing.assert_array_equal(other.predict(new), mixed_pipeline.predict(new))
    cat = other.named_steps["pre"].named_transformers_["cat"][-1]
    assert [list(c) for c in cat.categories_] == [["blue", "green", "red"]]
    assert other.get_params()["nn__hidden_layer_sizes"] == (8,)


def test_pipeline_file_holds_data_only(mixed_pipeline, tmp_path):
    path = tmp_path / "p.sknnfit"
    save(mixed_pipeline, path)
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("header.json"))
        meta = json.loads(zf.read("meta.json"))
    assert header["estimator"] == "sklearn.pipeline.Pipeline"
    steps = meta["estimator"]["params"]["steps"]
    assert [s["__tuple__"][1]["__object__"] for s in steps] == [
        "sklearn.compose.ColumnTransformer",
        "NNRegressor",
    ]


def test_grid_search_best_estimator_round_trips(small_nn, mixed_frame, tmp_path):
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    X, y = mixed_frame
    search = GridSearchCV(
        Pipeline([("pre", preprocessor()), ("nn", small_nn(max_epochs=2))]),
        {"nn__hidden_layer_sizes": [(4,), (8,)]},
        cv=2,
    ).fit(X, y)
    save(search.best_estimator_, tmp_path / "best.sknnfit")
    best = load(tmp_path / "best.sknnfit")
    np.testing.assert_array_equal(best.predict(X), search.predict(X))
    with pytest.raises(TypeError, match=r"save its best_estimator_"):
        save(search, tmp_path / "search.sknnfit")


@pytest.mark.parametrize("wrapper", ["sknnfit", "sklearn"])
def test_target_wrappers_inside_a_pipeline_round_trip(
    small_nn, mixed_frame, tmp_path, wrapper
):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline

    from sknnfit.targets import TargetTransformRegressor

    X, y = mixed_frame
    if wrapper == "sknnfit":
        model = TargetTransformRegressor(small_nn(), target="log")
    else:
        model = TransformedTargetRegressor(
            small_nn(), func=np.log1p, inverse_func=np.expm1
        )
    pipe = Pipeline([("pre", preprocessor()), ("model", model)]).fit(X, y)
    save(pipe, tmp_path / "p.sknnfit")
    other = load(tmp_path / "p.sknnfit")
    np.testing.assert_array_equal(other.predict(X), pipe.predict(X))


def test_unsupported_step_names_its_class_and_joblib(small_nn, data, tmp_path):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    X, y = data
    pipe = make_pipeline(PCA(n_components=2), small_nn()).fit(X, y)
    with pytest.raises(
        TypeError, match=r"steps\[0\]\[1\] = sklearn\.decomposition.*PCA.*joblib\.dump"
    ):
        save(pipe, tmp_path / "p.sknnfit")
    assert list(tmp_path.iterdir()) == []


def test_a_function_of_your_own_is_refused_by_name(small_nn, data, tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = data
    pipe = make_pipeline(FunctionTransformer(lambda a: a + 1), small_nn()).fit(X, y)
    with pytest.raises(TypeError, match=r"FunctionTransformer\(func=.*function of"):
        save(pipe, tmp_path / "p.sknnfit")


def test_pipeline_with_a_cache_folder_is_saved_without_it(small_nn, data, tmp_path):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    steps = [("scale", StandardScaler()), ("nn", small_nn())]
    pipe = Pipeline(steps, memory=str(tmp_path / "cache")).fit(X, y)
    save(pipe, tmp_path / "p.sknnfit")
    other = load(tmp_path / "p.sknnfit")
    assert other.memory is None
    np.testing.assert_array_equal(other.predict(X), pipe.predict(X))


def test_a_scikit_learn_class_outside_the_list_is_refused_on_load(
    mixed_pipeline, tmp_path
):
    path = tmp_path / "p.sknnfit"
    save(mixed_pipeline, path)
    rewrite(
        path,
        meta=lambda m: m.replace(
            b'"sklearn.preprocessing.StandardScaler"', b'"sklearn.svm.SVR"'
        ),
    )
    with pytest.raises(ValueError, match=r"names the class 'sklearn\.svm\.SVR'"):
        load(path)


def test_one_hot_widths_must_fit_the_stored_categories(mixed_pipeline, tmp_path):
    path = tmp_path / "p.sknnfit"
    save(mixed_pipeline, path)
    rewrite(
        path,
        meta=lambda m: m.replace(
            b'"_n_features_outs": [3]', b'"_n_features_outs": [3000000000]'
        ),
    )
    with pytest.raises(
        ValueError, match=r"_n_features_outs\[0\] is 3000000000.*at most 3"
    ):
        load(path)


def test_with_preprocessing_pipeline_round_trips(small_nn, mixed_frame, tmp_path):
    from sknnfit.bench.tabular import with_preprocessing

    X, y = mixed_frame
    pipe = with_preprocessing(small_nn(), X).fit(X, y)
    save(pipe, tmp_path / "p.sknnfit")
    with zipfile.ZipFile(tmp_path / "p.sknnfit") as zf:
        # Its categories-as-text step is sknnfit's own function, stored by name.
        assert b'"sknnfit.bench.tabular._as_object"' in zf.read("meta.json")
    other = load(tmp_path / "p.sknnfit")
    np.testing.assert_array_equal(other.predict(X), pipe.predict(X))


# ------------------------------------------------------------ stage activations


def _two_stage_model(activation=None):
    """A fitted two-stage model; its second stage's activation set to ``activation``.

    Setting it rebuilds that stage's network with sines (weights kept), as a
    stage that ``n_stages="auto"`` tried again with sines is.
    """
    from sknnfit.modules import MLP

    rng = np.random.default_rng(0)
    X = rng.uniform(-np.pi, np.pi, (300, 1))
    model = NNRegressor((16,), n_stages=2, guard=False, random_state=0)
    model.fit(X, np.sin(X[:, 0]))
    if activation is not None:
        net = model.stage_nets_[0][0][1]
        n_inputs = net.module_.hidden[0].in_features
        module = MLP(n_inputs, 1, (16,), activation=activation)
        module.load_state_dict(net.module_.state_dict())
        net.module_ = module
        model.stages_[1]["activation"] = activation
    return model, X


def test_a_sine_stage_saves_and_loads_as_it_predicts(tmp_path):
    from sknnfit.modules import Sine

    model, X = _two_stage_model("sin")
    save(model, tmp_path / "m.sknnfit")
    loaded = load(tmp_path / "m.sknnfit")
    module = loaded.stage_nets_[0][0][1].module_
    assert any(isinstance(m, Sine) for m in module.modules())
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_a_sine_stage_with_a_widened_first_layer_saves_and_loads(tmp_path):
    # n_stages="auto" may start a sine stage with first_scale > 1; only its
    # initial weights differ, so the file holds what it learnt and the record.
    model, X = _two_stage_model("sin")
    first = model.stage_nets_[0][0][1].module_.hidden[0]
    with torch.no_grad():
        first.weight.mul_(8.0)
    model.stages_[1]["first_scale"] = 8.0
    save(model, tmp_path / "m.sknnfit")
    loaded = load(tmp_path / "m.sknnfit")
    assert loaded.stages_[1]["first_scale"] == 8.0
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_a_file_without_stage_activations_builds_stages_as_the_first(tmp_path):
    # Files written before stages_ recorded activations.
    model, X = _two_stage_model()
    for stage in model.stages_:
        del stage["activation"]
    save(model, tmp_path / "m.sknnfit")
    np.testing.assert_array_equal(
        load(tmp_path / "m.sknnfit").predict(X), model.predict(X)
    )


def test_a_stage_activation_sknnfit_does_not_build_is_refused(tmp_path):
    model, _ = _two_stage_model()
    model.stages_[1]["activation"] = "swish"
    save(model, tmp_path / "m.sknnfit")
    with pytest.raises(ValueError, match="'swish' as the activation of stage 2"):
        load(tmp_path / "m.sknnfit")


# ----------------------------------------------------------- a power-law model


@pytest.fixture(scope="module")
def power_model():
    rng = np.random.default_rng(0)
    X = np.exp(rng.uniform(0.0, 4.0, size=(300, 3)))
    model = NNRegressor((8,), random_state=0).fit(X, X[:, 0] * X[:, 1] / X[:, 2])
    assert model.base_kind_ == "power"
    return model, X


def test_a_power_law_model_saves_and_loads_as_it_predicts(power_model, tmp_path):
    model, X = power_model
    save(model, tmp_path / "m.sknnfit")
    other = load(tmp_path / "m.sknnfit")
    assert type(other.base_).__name__ == "PowerLaw"
    np.testing.assert_array_equal(other.predict(X), model.predict(X))


def test_a_power_law_of_the_wrong_width_is_refused(power_model, tmp_path):
    model, _ = power_model
    path = tmp_path / "m.sknnfit"
    save(model, path)

    def widen(e):
        fitted = e["base"][0]["fitted"]
        fitted["coef_"], fitted["x_offset_"] = fitted["x_offset_"], fitted["coef_"]

    rewrite(path, meta=edit_meta(widen))
    with pytest.raises(ValueError, match=INVALID + r".*base_\.step\.x_offset_ is"):
        load(path)


# --------------------------------------------------------- a Laurent polynomial


@pytest.fixture(scope="module")
def laurent_model():
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 5.0, size=(1000, 3))
    model = NNRegressor((8,), random_state=0).fit(X, X[:, 0] + X[:, 1] / X[:, 2])
    assert model.base_kind_ == "laurent"
    return model, X


def test_a_laurent_polynomial_model_saves_and_loads_as_it_predicts(
    laurent_model, tmp_path
):
    model, X = laurent_model
    save(model, tmp_path / "m.sknnfit")
    other = load(tmp_path / "m.sknnfit")
    assert type(other.base_).__name__ == "LaurentPolynomial"
    assert other.base_.degree == model.base_.degree
    np.testing.assert_array_equal(other.predict(X), model.predict(X))


def test_a_laurent_polynomial_of_the_wrong_width_is_refused(laurent_model, tmp_path):
    model, _ = laurent_model
    path = tmp_path / "m.sknnfit"
    save(model, path)

    def swap(e):
        fitted = e["base"][0]["fitted"]
        fitted["coef_"], fitted["exponents_"] = fitted["exponents_"], fitted["coef_"]

    rewrite(path, meta=edit_meta(swap))
    with pytest.raises(ValueError, match=INVALID + r".*base_\.step\.exponents_ is"):
        load(path)
