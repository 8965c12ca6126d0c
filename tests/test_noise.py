import numpy as np
import pytest

from sknnfit._noise import MAX_ROWS, noise_share, residual_wavenumber


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


# ------------------------------------------------------------ residual_wavenumber


@pytest.mark.parametrize("k", [3.0, 12.0])
def test_the_wavenumber_of_a_plane_wave_is_its_rate(inputs, k):
    direction = np.array([0.6, 0.8, 0.0])
    wave = np.cos(k * inputs @ direction + 0.3)
    assert residual_wavenumber(inputs, wave) == pytest.approx(k, rel=0.15)
    # Neither its size nor a second, identical output changes it.
    both = 1e-9 * np.column_stack([wave, wave])
    assert residual_wavenumber(inputs, both) == pytest.approx(
        residual_wavenumber(inputs, wave)
    )


def test_a_faster_residual_has_a_larger_wavenumber():
    x = np.linspace(-np.pi, np.pi, 2001)[:, None]  # whole periods
    slow, fast = (residual_wavenumber(x, np.sin(k * x[:, 0])) for k in (2, 20))
    assert slow == pytest.approx(2, rel=0.02)
    assert fast == pytest.approx(20, rel=0.02)


def test_the_wavenumber_skips_duplicated_rows():
    x = np.linspace(-np.pi, np.pi, 501)
    X = np.repeat(x, 2)[:, None]  # every row twice: no distance to divide by
    assert residual_wavenumber(X, np.repeat(np.sin(5 * x), 2)) == pytest.approx(
        5, rel=0.02
    )


def test_no_wavenumber_without_rows_or_residual():
    X = np.linspace(0, 1, 10)[:, None]
    assert np.isnan(residual_wavenumber(X, np.zeros(10)))
    assert np.isnan(residual_wavenumber(X[:2], np.ones(2)))
    assert np.isnan(residual_wavenumber(np.zeros((10, 1)), np.arange(10.0)))
    assert np.isnan(residual_wavenumber(np.repeat(X[:2], 5, axis=0), np.ones(10)))
