import numpy as np
import pytest

from sknnfit._noise import MAX_ROWS, noise_share


@pytest.fixture
def inputs():
    return np.random.default_rng(0).uniform(-1, 1, size=(3000, 3))


def test_noise_is_all_noise(inputs):
    rng = np.random.default_rng(1)
    assert noise_share(inputs, rng.normal(size=(len(inputs), 2))) == pytest.approx(
        1.0, abs=0.08
    )


def test_a_smooth_residual_is_not_noise(inputs):
    smooth = np.sin(2 * inputs[:, 0]) * inputs[:, 1]
    assert noise_share(inputs, smooth) < 0.05


def test_a_mix_is_in_between(inputs):
    rng = np.random.default_rng(2)
    mix = np.sin(2 * inputs[:, 0]) + 0.5 * rng.normal(size=len(inputs))
    share = noise_share(inputs, mix)
    expected = 0.25 / (0.25 + np.mean(np.sin(2 * inputs[:, 0]) ** 2))
    assert share == pytest.approx(expected, rel=0.2)


def test_duplicated_rows_compare_with_their_twin():
    X = np.repeat(np.arange(50.0)[:, None], 2, axis=0)
    r = np.repeat(np.arange(50.0), 2)  # equal at equal inputs: no noise
    assert noise_share(X, r) == 0.0


def test_nothing_to_compare_is_nan():
    X = np.zeros((5, 1))
    assert np.isnan(noise_share(X, np.zeros(5)))
    assert np.isnan(noise_share(X[:2], np.ones(2)))


def test_large_inputs_are_subsampled(monkeypatch):
    import sknnfit._noise as noise

    monkeypatch.setattr(noise, "MAX_ROWS", 500)
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(5000, 1))
    assert noise.noise_share(X, rng.normal(size=5000)) == pytest.approx(1, abs=0.15)
    assert MAX_ROWS == 20_000
