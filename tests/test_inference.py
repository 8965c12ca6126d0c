"""Tests of sknnfit._inference: predict by chunks, the float64 cache, the arrays."""

import copy
import gc
import pickle
import warnings
import weakref

import numpy as np
import pytest
import torch
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sknnfit import _inference
from sknnfit._validation import validate_x
from sknnfit.exceptions import ExtrapolationWarning


def _reference(model, X):
    """predict as it was computed before the chunks: the scikit-learn objects
    on all rows, and a fresh float64 copy of each module."""
    Xt = model.input_transformer_.transform(X)
    base = np.zeros((len(X), model.n_outputs_))
    if model.base_ is not None:
        base = model.base_.predict(Xt[:, : model.n_features_in_])
        base = base.reshape(len(X), model.n_outputs_)
    out = np.zeros((len(X), model.n_outputs_))
    counts = np.zeros(model.n_outputs_)
    with torch.inference_mode():
        for group, net in model.nets_:
            module = copy.deepcopy(net.module_).double().eval()
            out[:, group] += module(torch.from_numpy(Xt)).numpy()
            counts[group] += 1
    out = out / np.maximum(counts, 1)
    if getattr(model, "use_network_", True):
        base = out * model.residual_scale_ + base
    return base * model.y_scale_ + model.y_mean_


def _data(n=200, n_features=2, positive=False, seed=0):
    rng = np.random.default_rng(seed)
    low = 0.01 if positive else -1.0
    X = rng.uniform(low, 2.0, size=(n, n_features))
    y = np.c_[np.sin(2 * X[:, 0]) + X[:, 1], X[:, 0] * X[:, 1]]
    return X, y


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"base": "poly3"},
        {"base": "none"},
        {"input_transform": "log"},
        {"input_transform": "none"},
        {"n_ensemble": 2},
        {"multi_output": "separate"},
        {"activation": "sin", "linear_skip": True},
        {"embedding": "periodic"},
    ],
)
def test_predict_matches_the_scikit_learn_steps(small_nn, params):
    X, y = _data(positive=True)
    X[:, 1] *= 100  # spans decades: "auto" appends its log
    model = small_nn(**params).fit(X, y)
    X_new = _data(n=50, positive=True, seed=1)[0] * [1, 100]
    got = _inference.predict(model, validate_x(model, X_new))
    np.testing.assert_allclose(got, _reference(model, X_new), rtol=1e-13, atol=1e-13)


def test_predict_streams_rows_in_chunks_of_predict_batch(small_nn, monkeypatch):
    X, y = _data()
    model = small_nn().fit(X, y[:, 0])
    chunks, blocks = [], []
    network_output, forward = _inference.network_output, _inference.float64_forward

    def recording_output(net, Xt64, device):
        chunks.append(len(Xt64))
        return network_output(net, Xt64, device)

    def recording_forward(module):
        inner = forward(module)

        def run(x):
            blocks.append(len(x))
            return inner(x)

        return run

    monkeypatch.setattr(_inference, "network_output", recording_output)
    monkeypatch.setattr(_inference, "float64_forward", recording_forward)
    X_big = np.random.default_rng(1).uniform(-1, 2, size=(20_000, 2))
    got = _inference.predict(model, X_big)
    assert chunks == [8192, 8192, 3616]
    assert max(blocks) == _inference.CPU_BLOCK and sum(blocks) == 20_000
    assert got.shape == (20_000, 1)
    np.testing.assert_allclose(got, _reference(model, X_big), rtol=1e-13, atol=1e-13)
    # A row alone and in a batch differ by float64 rounding only.
    alone = _inference.predict(model, X_big[-1:])
    np.testing.assert_allclose(alone, got[-1:], rtol=1e-14, atol=1e-14)


def test_float64_copy_is_made_once_per_set_of_weights(small_nn):
    X, y = _data()
    model = small_nn().fit(X, y)
    module = model.net_.module_
    first = _inference.float64_forward(module)
    assert _inference.float64_forward(module) is first
    n_inputs = module.hidden[0].in_features
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(5, n_inputs)))
    before = first(x)
    with torch.no_grad():
        module.out.bias.add_(1.0)  # in place, as an optimiser step
    changed = _inference.float64_forward(module)
    assert changed is not first
    torch.testing.assert_close(changed(x), before + 1.0)
    module.load_state_dict({k: v.clone() for k, v in module.state_dict().items()})
    assert _inference.float64_forward(module) is not changed
    reloaded = _inference.float64_forward(module)
    module.out.bias = torch.nn.Parameter(module.out.bias.detach() - 1.0)
    replaced = _inference.float64_forward(module)
    assert replaced is not reloaded
    torch.testing.assert_close(replaced(x), before)
    module.out.bias.data = module.out.bias.data + 1.0  # a new storage
    assert _inference.float64_forward(module) is not replaced
    dropped = _inference.float64_forward(module)
    _inference.drop_float64(module)  # as after a fused optimizer step
    assert _inference.float64_forward(module) is not dropped


def test_later_stages_are_added(small_nn):
    X, y = _data()
    model = small_nn(n_stages=2).fit(X, y)
    assert len(model.stage_nets_) == 1
    got = _inference.predict(model, X)
    np.testing.assert_allclose(got, model.predict(X), rtol=1e-13, atol=1e-13)
    model.stage_scales_, model.stage_nets_ = [], []
    assert not np.allclose(_inference.predict(model, X), got)


def test_refit_predicts_with_the_new_weights(small_nn):
    X, y = _data()
    model = small_nn().fit(X, y)
    first = model.predict(X)
    model.set_params(random_state=1, max_epochs=4).fit(X, y)
    np.testing.assert_allclose(model.predict(X), _reference(model, X), rtol=1e-13)
    assert not np.allclose(model.predict(X), first)


def test_float64_copy_made_in_inference_mode_serves_outside_it(small_nn):
    X, y = _data()
    module = small_nn().fit(X, y).net_.module_
    _inference._FLOAT64.pop(module, None)
    with torch.inference_mode():
        forward = _inference.float64_forward(module)
    x = torch.zeros(2, module.hidden[0].in_features, dtype=torch.float64)
    out = forward(x)  # raised before: inference tensors in autograd
    assert not out.requires_grad


def test_cache_neither_keeps_the_module_alive_nor_enters_pickles(small_nn):
    X, y = _data()
    model = small_nn().fit(X, y)
    size = len(pickle.dumps(model))
    model.predict(X)
    assert len(pickle.dumps(model)) == size
    ref = weakref.ref(model.net_.module_)
    assert ref() in _inference._FLOAT64
    del model
    gc.collect()
    assert ref() is None


def test_use_network_false_predicts_with_the_base_alone(small_nn):
    X, y = _data()
    model = small_nn(base="poly2").fit(X, y)
    model.use_network_ = False
    Xt = model.input_transformer_.transform(X)
    base = model.base_.predict(Xt[:, :2]) * model.y_scale_ + model.y_mean_
    np.testing.assert_allclose(_inference.predict(model, X), base, rtol=1e-13)


def test_predict_warns_for_rows_outside_the_box(small_nn):
    X, y = _data()
    model = small_nn().fit(X, y)
    X_far = X[:40].copy()
    X_far[:10, 0] = 50.0
    with pytest.warns(ExtrapolationWarning, match=r"25\.0% of the rows \(10 of 40\)"):
        _inference.predict(model, X_far)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _inference.predict(model, X[:40])


def test_predict_raises_the_log_columns_error_for_all_rows(small_nn):
    X, y = _data(positive=True)
    X[:, 1] *= 100
    model = small_nn(input_transform="log").fit(X, y)
    assert 1 in model.log_columns_
    X_bad = np.repeat(X[:1], 10_000, axis=0)
    X_bad[9_000, 1] = -3.0  # in the second chunk
    with pytest.raises(ValueError, match=r"Column\(s\) \[1\].*smallest: -3"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)
            _inference.predict(model, X_bad)


def test_an_appended_log_is_floored_and_the_column_kept(small_nn):
    X, y = _data(positive=True)
    X[:, 1] *= 100
    model = small_nn().fit(X, y)  # input_transform="auto": logs appended
    assert model.log_columns_ == [0, 1]
    X_new = X[:3].copy()
    X_new[1, 1], X_new[2, 0] = -3.0, 0.0
    got = _inference.transform_inputs(model, X_new)
    # The columns keep their values; only their logs take the training minimum.
    floored = np.where(X_new > 0, X_new, model.x_min_)
    expected = model.input_transformer_.transform(floored)
    expected[:, :2] = (X_new - model.input_transformer_[-1].mean_[:2]) / (
        model.input_transformer_[-1].scale_[:2]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="contain values <= 0"):
        model.input_transformer_.transform(X_new)  # the unfloored steps refuse


def test_outside_box_measures_log_columns_in_decades():
    x_min, x_max = np.array([0.0, 1.0]), np.array([1.0, 1000.0])
    X = np.array([[0.5, 2000.0], [0.5, 1e5], [1.3, 10.0], [0.5, -1.0]])
    got = _inference.outside_box(X, x_min, x_max, log_columns=[1])
    assert got.tolist() == [False, True, True, True]


@pytest.mark.parametrize("degree", [2, 3, 5])
@pytest.mark.parametrize("n_features", [1, 3])
def test_polynomial_features_match_scikit_learn_bit_for_bit(degree, n_features):
    X = np.random.default_rng(0).normal(size=(30, n_features))
    expected = PolynomialFeatures(degree, include_bias=False).fit_transform(X)
    arrays = _inference.BaseArrays(degree, 0.0, 1.0, np.zeros((1, 1)), 0.0)
    np.testing.assert_array_equal(arrays.features(X), expected)


def test_foreign_parts_are_not_read_as_arrays():
    from torch import nn

    assert _inference.input_arrays(StandardScaler().fit(np.eye(2))) is None
    assert _inference.base_arrays(PolynomialFeatures(2).fit(np.eye(2))) is None
    with pytest.raises(TypeError, match=r"Only sknnfit\.modules\.MLP"):
        _inference.network_layers(nn.Linear(2, 1))


def test_a_custom_module_still_predicts_in_float64():
    from torch import nn

    module = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    x = torch.randn(3, 2, dtype=torch.float64)
    forward = _inference.float64_forward(module)
    with torch.no_grad():
        expected = copy.deepcopy(module).double()(x)
    torch.testing.assert_close(forward(x), expected)


def test_box_limits_beyond_float64_are_infinite_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lo, hi = _inference.box_limits([1e-300], [1e300], log_columns=[0])
    assert 0 < lo[0] < 1e-300 and hi[0] == np.inf
