"""Plots of benchmark predictions, from ``compare(..., return_predictions=True)``.

Every function takes the ``predictions`` dict of :func:`sknnfit.bench.compare`,
draws one problem and one seed (the smallest, by default) and returns a
:class:`matplotlib.figure.Figure`. Figures are built without pyplot, on the Agg
canvas, so they work on headless machines and leave pyplot's state alone;
:func:`save_plots` writes them as PNG files.

matplotlib is an optional dependency: ``pip install "sknnfit[bench]"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "plot_abs_error",
    "plot_curves",
    "plot_loss_curves",
    "plot_predicted_vs_true",
    "save_plots",
]

# A target whose largest magnitude exceeds its median magnitude this many times
# is drawn on a symmetric-log axis, or its bulk collapses into one corner.
_HEAVY_TAIL_RATIO = 1e3
# The share of highest true values marked as the peak (as in metrics.peak_nmae).
_PEAK_TOP = 0.01


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "sknnfit's plots need matplotlib, which is not installed. Install it "
            'with: pip install "sknnfit[bench]"'
        ) from exc
    return Figure, FigureCanvasAgg


def _figure(n_panels=1, *, panel_size=(4.2, 3.8), sharex=False, sharey=False):
    Figure, FigureCanvasAgg = _matplotlib()
    n_cols = min(n_panels, 4)
    n_rows = -(-n_panels // n_cols)
    fig = Figure(
        figsize=(panel_size[0] * n_cols, panel_size[1] * n_rows),
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=sharex, sharey=sharey)
    axes = axes.ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _select(predictions, problem=None, seed=None):
    """``(problem, seed, {model: entry})`` for one problem and seed (first fold)."""
    if not predictions:
        raise ValueError(
            "predictions is empty; get it from compare(..., return_predictions=True)."
        )
    problems = list(dict.fromkeys(key[0] for key in predictions))
    if problem is None:
        if len(problems) > 1:
            raise ValueError(
                f"predictions hold several problems {problems}; pick one with "
                "problem=NAME."
            )
        problem = problems[0]
    elif problem not in problems:
        raise ValueError(f"No predictions for problem {problem!r}; have {problems}.")
    keys = [key for key in predictions if key[0] == problem]
    seeds = sorted({key[2] for key in keys})
    if seed is None:
        seed = seeds[0]
    elif seed not in seeds:
        raise ValueError(
            f"No predictions for seed {seed} of {problem!r}; have seeds {seeds}."
        )
    chosen = {}
    for key in sorted((k for k in keys if k[2] == seed), key=lambda k: k[3:]):
        chosen.setdefault(key[1], predictions[key])  # first fold with cv
    # Keep the models in the order compare ran them.
    order = list(dict.fromkeys(key[1] for key in keys))
    return problem, seed, {m: chosen[m] for m in order if m in chosen}


def _as_2d(a):
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(len(a), -1)


def _n_columns(X):
    shape = np.shape(X)
    return shape[1] if len(shape) == 2 else 1


def _is_curve(entry):
    """Whether an entry is a 1-D numeric problem (a raw table with a text
    column is not, and is not converted to find out)."""
    if _n_columns(entry["X_test"]) != 1 or _as_2d(entry["y_test"]).shape[1] != 1:
        return False
    try:
        _as_2d(entry["X_test"])
    except (TypeError, ValueError):
        return False
    return True


def _heavy_tailed(y):
    a = np.abs(y[np.isfinite(y)])
    if a.size == 0:
        return None
    median = np.median(a)
    if median > 0 and a.max() > _HEAVY_TAIL_RATIO * median:
        return median
    return None


def _subsample(n, max_points, rng):
    if n <= max_points:
        return np.arange(n)
    return np.sort(rng.choice(n, max_points, replace=False))


def _title(fig, what, problem, seed, entry):
    n_outputs = _as_2d(entry["y_test"]).shape[1]
    outputs = f", all {n_outputs} outputs pooled" if n_outputs > 1 else ""
    fig.suptitle(f"{problem}: {what} (seed {seed}{outputs})")


def plot_predicted_vs_true(predictions, *, problem=None, seed=None, max_points=20_000):
    """Predicted against true test targets, one panel per model.

    Parameters
    ----------
    predictions : dict
        From ``compare(..., return_predictions=True)``.
    problem : str or None, default=None
        Problem to draw; may be None when the predictions hold only one.
    seed : int or None, default=None
        Seed to draw; None takes the smallest.
    max_points : int, default=20000
        Points drawn per panel at most (a fixed random subset beyond that).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure. Heavy-tailed targets are drawn on symmetric-log axes.
    """
    problem, seed, entries = _select(predictions, problem, seed)
    fig, axes = _figure(len(entries), sharex=True, sharey=True)
    rng = np.random.default_rng(0)
    first = next(iter(entries.values()))
    y_true_all = _as_2d(first["y_test"]).ravel()
    linthresh = _heavy_tailed(y_true_all)
    lo, hi = np.min(y_true_all), np.max(y_true_all)
    for ax, (model, entry) in zip(axes, entries.items(), strict=True):
        ax.set_title(model)
        if entry["y_pred"] is None:
            ax.text(0.5, 0.5, "fit failed", ha="center", transform=ax.transAxes)
            continue
        t = _as_2d(entry["y_test"]).ravel()
        p = _as_2d(entry["y_pred"]).ravel()
        idx = _subsample(t.size, max_points, rng)
        ax.scatter(t[idx], p[idx], s=3, alpha=0.4, rasterized=True)
        ax.plot([lo, hi], [lo, hi], color="k", lw=1, label="y = x")
        ax.set_xlabel("true")
        ax.set_ylabel("predicted")
        if linthresh is not None:
            ax.set_xscale("symlog", linthresh=linthresh)
            ax.set_yscale("symlog", linthresh=linthresh)
        # Diverged predictions would otherwise stretch the shared axes.
        margin = 0.1 * (hi - lo) if hi > lo else 1.0
        if linthresh is None:
            ax.set_xlim(lo - margin, hi + margin)
            ax.set_ylim(lo - margin, hi + margin)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper left")
    _title(fig, "predicted vs true", problem, seed, first)
    return fig


def plot_abs_error(predictions, *, problem=None, seed=None, max_points=20_000):
    """Absolute test error against the true target, one panel per model.

    The top 1% of true values of each output (the peaks, as scored by
    :func:`sknnfit.bench.metrics.peak_nmae`) are drawn in a second colour, so a model
    that smooths narrow peaks away shows a cloud of large errors on the right.

    Parameters
    ----------
    predictions : dict
        From ``compare(..., return_predictions=True)``.
    problem : str or None, default=None
        Problem to draw; may be None when the predictions hold only one.
    seed : int or None, default=None
        Seed to draw; None takes the smallest.
    max_points : int, default=20000
        Points drawn per panel at most (the peaks are always drawn).

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure, with a logarithmic error axis shared by the panels.
    """
    problem, seed, entries = _select(predictions, problem, seed)
    fig, axes = _figure(len(entries), sharex=True, sharey=True)
    rng = np.random.default_rng(0)
    first = next(iter(entries.values()))
    t2 = _as_2d(first["y_test"])
    n = t2.shape[0]
    k = min(n, max(1, int(np.ceil(_PEAK_TOP * n))))
    peak = np.zeros_like(t2, dtype=bool)
    np.put_along_axis(peak, np.argpartition(t2, n - k, axis=0)[n - k :], True, 0)
    peak = peak.ravel()
    t = t2.ravel()
    linthresh = _heavy_tailed(t)
    keep = np.zeros(t.size, dtype=bool)
    keep[_subsample(t.size, max_points, rng)] = True
    keep |= peak
    for ax, (model, entry) in zip(axes, entries.items(), strict=True):
        ax.set_title(model)
        if entry["y_pred"] is None:
            ax.text(0.5, 0.5, "fit failed", ha="center", transform=ax.transAxes)
            continue
        err = np.abs(_as_2d(entry["y_pred"]).ravel() - t)
        rest = keep & ~peak
        ax.scatter(t[rest], err[rest], s=3, alpha=0.4, rasterized=True, label="test")
        ax.scatter(
            t[peak], err[peak], s=6, color="C3", rasterized=True, label="top 1% (peaks)"
        )
        ax.set_yscale("log")
        if linthresh is not None:
            ax.set_xscale("symlog", linthresh=linthresh)
        ax.set_xlabel("true target")
        ax.set_ylabel("|predicted - true|")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(loc="best")
    _title(fig, "absolute error against the true target", problem, seed, first)
    return fig


def plot_curves(predictions, *, problem=None, seed=None):
    """Fitted curves over the test inputs of a 1-D problem, training range shaded.

    Parameters
    ----------
    predictions : dict
        From ``compare(..., return_predictions=True)``.
    problem : str or None, default=None
        Problem to draw; it must have a single input and a single output.
    seed : int or None, default=None
        Seed to draw; None takes the smallest.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes with the true curve, every model's curve and the training range.
        The vertical range is that of the true curve plus a margin, so a
        diverging extrapolation does not flatten the rest.

    Raises
    ------
    ValueError
        If the problem has more than one input or output.
    """
    problem, seed, entries = _select(predictions, problem, seed)
    first = next(iter(entries.values()))
    n_inputs = _n_columns(first["X_test"])
    y = _as_2d(first["y_test"])
    if n_inputs != 1 or y.shape[1] != 1:
        raise ValueError(
            f"plot_curves draws 1-D problems; {problem!r} has {n_inputs} inputs "
            f"and {y.shape[1]} outputs. Use plot_predicted_vs_true instead."
        )
    X = _as_2d(first["X_test"])
    order = np.argsort(X[:, 0], kind="stable")
    x = X[order, 0]
    fig, (ax,) = _figure(1, panel_size=(8.0, 4.5))
    if first["train_range"] is not None:
        ax.axvspan(*first["train_range"], color="0.85", label="training range")
    ax.plot(x, y[order, 0], color="k", lw=2.5, label="true")
    for i, (model, entry) in enumerate(entries.items()):
        if entry["y_pred"] is not None:
            y_pred = _as_2d(entry["y_pred"])[order, 0]
            # Good fits sit on top of each other; the dashes keep them apart.
            style = ("-", "--", "-.", ":")[i % 4]
            ax.plot(x, y_pred, color=f"C{i}", ls=style, lw=1.5, label=model)
    lo, hi = float(y.min()), float(y.max())
    margin = 0.25 * (hi - lo) if hi > lo else 1.0
    ax.set_ylim(lo - margin, hi + margin)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    ax.set_title(f"{problem}: fitted curves on the test inputs (seed {seed})")
    return fig


#: What each model's ``loss_curve_`` measures, by the names compare knows.
_LOSS_UNITS = {
    "nn": "NNRegressor loss, standardised target",
    "nn-auto-target": "NNRegressor loss, transformed standardised target",
    "mlp": "MLPRegressor: squared error / 2 + L2 penalty",
}


def _loss_units(model, entry):
    if entry.get("loss_units"):
        return entry["loss_units"]
    return _LOSS_UNITS.get(model, "the model's own loss_curve_ units")


def plot_loss_curves(predictions, *, problem=None, seed=None):
    """Loss per epoch of the models that record one, one panel per model.

    Each model's ``loss_curve_`` measures its own quantity (NNRegressor's loss
    on its standardised, possibly transformed, target; scikit-learn's
    MLPRegressor's half squared error plus its L2 penalty), so no two models
    share an axis: each panel has its own vertical axis, labelled with what it
    measures. A model whose entry also holds a ``"validation_curve"`` (the
    held-out loss per epoch) gets a second panel below for it.

    Parameters
    ----------
    predictions : dict
        From ``compare(..., return_predictions=True)``.
    problem : str or None, default=None
        Problem to draw; may be None when the predictions hold only one.
    seed : int or None, default=None
        Seed to draw; None takes the smallest.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One column per model: training loss on top, validation loss (when
        recorded) below, logarithmic axes, epochs along the bottom.

    Raises
    ------
    ValueError
        If no model recorded a loss curve.
    """
    problem, seed, entries = _select(predictions, problem, seed)
    curves = {m: e for m, e in entries.items() if e["loss_curve"]}
    if not curves:
        raise ValueError(
            f"No model of {problem!r} recorded a loss curve (loss_curve_); "
            "only neural networks do."
        )
    rows = [("loss_curve", "training loss")]
    if any(e.get("validation_curve") for e in curves.values()):
        rows.append(("validation_curve", "validation loss"))
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=(4.2 * len(curves), 3.4 * len(rows)), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), len(curves), squeeze=False)
    for col, (model, entry) in enumerate(curves.items()):
        units = _loss_units(model, entry)
        for row, (key, quantity) in enumerate(rows):
            ax = axes[row, col]
            curve = entry.get(key)
            if not curve:
                ax.set_visible(False)
                continue
            ax.plot(np.arange(1, len(curve) + 1), curve, color=f"C{row}")
            ax.set_yscale("log")
            ax.set_ylabel(f"{quantity}\n({units})", fontsize="small")
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3, which="both")
            ax.set_title(model if row == 0 else f"{model}: {quantity}")
    fig.suptitle(f"{problem}: loss per epoch, one quantity per axis (seed {seed})")
    return fig


def save_plots(predictions, out_dir, *, seed=None, dpi=110):
    """Write every plot that applies to each problem as PNG files.

    Parameters
    ----------
    predictions : dict
        From ``compare(..., return_predictions=True)``.
    out_dir : str or path-like
        Folder to write to; created if missing.
    seed : int or None, default=None
        Seed to draw; None takes the smallest of each problem.
    dpi : int, default=110
        Resolution of the PNG files.

    Returns
    -------
    paths : list of pathlib.Path
        Files written: ``{problem}_pred_vs_true.png``,
        ``{problem}_abs_error.png``, ``{problem}_curves.png`` (1-D problems) and
        ``{problem}_loss.png`` (when a model recorded a loss curve).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for problem in dict.fromkeys(key[0] for key in predictions):
        _, _, entries = _select(predictions, problem, seed)
        first = next(iter(entries.values()))
        plots = [
            ("pred_vs_true", plot_predicted_vs_true),
            ("abs_error", plot_abs_error),
        ]
        if _is_curve(first):
            plots.append(("curves", plot_curves))
        if any(e["loss_curve"] for e in entries.values()):
            plots.append(("loss", plot_loss_curves))
        for name, plot in plots:
            fig = plot(predictions, problem=problem, seed=seed)
            path = out_dir / f"{problem}_{name}.png"
            fig.savefig(path, dpi=dpi)
            paths.append(path)
    return paths
