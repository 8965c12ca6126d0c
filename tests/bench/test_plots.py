"""Plots of compare results: files written, figures returned, missing matplotlib."""

import sys

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor

from sknnfit import NNRegressor
from sknnfit.bench import compare

# Tiny problems and models: each fit takes well under a second.
SMALL = {"n_train": 200, "n_test": 101}


def tiny_nn(**params):
    # No closed-form base: square is a polynomial, which a base fits exactly,
    # leaving the network no epoch to train (and no loss curve to draw).
    return NNRegressor((8, 8), max_epochs=5, base="none", **params)


@pytest.fixture(scope="module")
def square_predictions():
    _, preds = compare(
        "square",
        {"nn": tiny_nn(), "poly": "poly"},
        seeds=2,
        problem_kwargs=SMALL,
        return_predictions=True,
        progress=False,
    )
    return preds


def test_save_plots_writes_all_pngs_for_1d_problem(square_predictions, tmp_path):
    pytest.importorskip("matplotlib")
    from sknnfit.bench.plots import save_plots

    paths = save_plots(square_predictions, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == [
        "square_abs_error.png",
        "square_curves.png",
        "square_loss.png",
        "square_pred_vs_true.png",
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_of_multioutput_problem_skip_curves(tmp_path):
    pytest.importorskip("matplotlib")
    from sknnfit.bench.plots import plot_curves, save_plots

    _, preds = compare(
        "steep25x19",
        {"rf": RandomForestRegressor(n_estimators=3)},
        problem_kwargs={"n_train": 100, "n_test": 100},
        return_predictions=True,
        progress=False,
    )
    names = sorted(p.name for p in save_plots(preds, tmp_path))
    assert names == ["steep25x19_abs_error.png", "steep25x19_pred_vs_true.png"]
    with pytest.raises(ValueError, match="1-D problems"):
        plot_curves(preds)


def test_plot_functions_return_figures(square_predictions):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from sknnfit.bench import plots

    for plot in (
        plots.plot_predicted_vs_true,
        plots.plot_abs_error,
        plots.plot_curves,
        plots.plot_loss_curves,
    ):
        fig = plot(square_predictions, seed=1)
        assert isinstance(fig, Figure)
        assert "seed 1" in (
            fig._suptitle.get_text() if fig._suptitle else ""
        ) + "".join(ax.get_title() for ax in fig.axes)


def test_plots_without_matplotlib_name_the_extra(monkeypatch, square_predictions):
    from sknnfit.bench.plots import plot_curves

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "sknnfit\[bench\]"'):
        plot_curves(square_predictions)


def fake_entry(curve=None, validation=None, X_test=None):
    y = np.linspace(0.0, 1.0, 20)
    entry = {
        "X_test": y[:, None] if X_test is None else X_test,
        "y_test": y,
        "y_pred": y + 0.01,
        "loss_curve": curve,
        "train_range": None,
    }
    if validation is not None:
        entry["validation_curve"] = validation
    return entry


def test_loss_curves_give_each_model_its_own_labelled_axis():
    pytest.importorskip("matplotlib")
    from sknnfit.bench.plots import plot_loss_curves

    preds = {
        ("p", "nn", 0): fake_entry([1.0, 0.5, 0.2]),
        ("p", "mlp", 0): fake_entry([40.0, 30.0]),
        ("p", "poly", 0): fake_entry(None),
    }
    fig = plot_loss_curves(preds)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["nn", "mlp"]
    labels = [ax.get_ylabel() for ax in axes]
    assert labels[0].startswith("training loss") and "standardised" in labels[0]
    assert labels[1].startswith("training loss") and "MLPRegressor" in labels[1]
    assert not axes[0].get_shared_y_axes().joined(axes[0], axes[1])


def test_validation_loss_gets_a_panel_of_its_own():
    pytest.importorskip("matplotlib")
    from sknnfit.bench.plots import plot_loss_curves

    preds = {
        ("p", "nn", 0): fake_entry([1.0, 0.5], validation=[1.2, 0.7]),
        ("p", "other", 0): fake_entry([3.0, 2.0]),
    }
    fig = plot_loss_curves(preds)
    labels = [ax.get_ylabel().split("\n")[0] for ax in fig.axes if ax.get_visible()]
    assert labels == ["training loss", "training loss", "validation loss"]
    assert "own loss_curve_ units" in fig.axes[1].get_ylabel()


def test_save_plots_of_a_raw_table_skips_curves(tmp_path):
    pytest.importorskip("matplotlib")
    import pandas as pd

    from sknnfit.bench.plots import save_plots

    table = pd.DataFrame({"colour": ["red", "blue"] * 10})
    preds = {("t", "hgb", 0): fake_entry(X_test=table)}
    names = sorted(p.name for p in save_plots(preds, tmp_path))
    assert names == ["t_abs_error.png", "t_pred_vs_true.png"]
