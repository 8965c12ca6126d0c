"""Results of :func:`~sknnfit.bench.compare` reduced and written out as text.

:func:`summarize` reduces the rows to the median and min-max range over seeds;
the ``format_*`` functions turn frames into the tables the command line, the
examples and the benchmark scripts print; :func:`markdown_table` writes any frame
as a Markdown table for ``benchmarks/results/``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import SCORE_KEYS, per_output_scores

__all__ = [
    "SUMMARY_METRICS",
    "TABLE_METRICS",
    "format_interrupted",
    "format_number",
    "format_per_target",
    "format_results",
    "format_summary",
    "format_warnings",
    "mark_interrupted",
    "markdown_table",
    "per_target_summary",
    "summarize",
]

SUMMARY_METRICS = (*SCORE_KEYS, "fit_seconds")
"""Columns :func:`summarize` reduces by default (those present in the frame)."""

#: Columns of :func:`format_summary`, when present: every score but the raw RMSE
#: (nRMSE says the same on a comparable scale), and the fit time.
TABLE_METRICS = (*(k for k in SCORE_KEYS if k != "rmse"), "fit_seconds")

#: Separator of the distinct messages in compare's ``warning_messages`` column.
MESSAGE_SEP = " | "


def summarize(df, metrics=None):
    """Median and range over seeds (and folds) of each (problem, model).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows from :func:`~sknnfit.bench.compare`.
    metrics : list of str or None, default=None
        Columns to reduce. None uses those of :data:`SUMMARY_METRICS` that are
        in ``df`` and not NaN everywhere.

    Returns
    -------
    summary : pandas.DataFrame
        One row per (problem, model), in the order they first appear, with
        columns ``problem``, ``model``, ``n_runs`` (rows reduced: seeds times
        folds), ``n_warnings`` (runs that raised at least one warning) and, for
        each metric ``m``, ``m_median``, ``m_min`` and ``m_max``. With a handful
        of seeds the min-max range is the honest spread; quartiles of three
        values would pretend to more.

    Examples
    --------
    >>> import pandas as pd
    >>> from sknnfit.bench import summarize
    >>> df = pd.DataFrame({"problem": "p", "model": "m", "seed": [0, 1, 2],
    ...                    "nrmse": [0.1, 0.3, 0.2]})
    >>> summarize(df)[["n_runs", "nrmse_median", "nrmse_min", "nrmse_max"]]
       n_runs  nrmse_median  nrmse_min  nrmse_max
    0       3           0.2        0.1        0.3
    """
    missing = {"problem", "model"} - set(df.columns)
    if missing:
        raise ValueError(
            f"summarize needs the frame from compare(); columns {sorted(missing)} "
            "are missing."
        )
    if metrics is None:
        metrics = [
            m for m in SUMMARY_METRICS if m in df.columns and df[m].notna().any()
        ]
    else:
        unknown = [m for m in metrics if m not in df.columns]
        if unknown:
            raise ValueError(
                f"Metric column(s) {unknown} are not in the frame; available: "
                f"{list(df.columns)}."
            )
    groups = df.groupby(["problem", "model"], sort=False)
    out = groups.size().rename("n_runs").to_frame()
    if "warnings" in df.columns:
        out["n_warnings"] = groups["warnings"].agg(
            lambda s: int((s.fillna("") != "").sum())
        )
    for m in metrics:
        values = groups[m]
        out[f"{m}_median"] = values.median()
        out[f"{m}_min"] = values.min()
        out[f"{m}_max"] = values.max()
    return out.reset_index()


def per_target_summary(predictions, target_names=None):
    """nRMSE and R² of each target, median and range over seeds (and folds).

    :func:`summarize` reports each metric averaged over a problem's targets; a
    model that fits one target well and another badly shows here.

    Parameters
    ----------
    predictions : dict
        From ``compare(..., return_predictions=True)``. Fits that failed or
        were cut short (no predictions) are left out.
    target_names : dict or list of str or None, default=None
        Names of the targets: a list for every problem, or ``{problem: list}``.
        None (or a problem left out) names them ``y0``, ``y1``, ...

    Returns
    -------
    table : pandas.DataFrame
        One row per (problem, model, target), in the order compare ran them,
        with columns ``problem``, ``model``, ``target``, ``n_runs`` and
        ``nrmse_median``, ``nrmse_min``, ``nrmse_max``, ``r2_median``,
        ``r2_min``, ``r2_max``.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnfit.bench.report import per_target_summary
    >>> y = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> preds = {("p", "m", 0): {"y_test": y, "y_pred": y + [1.0, 0.0]}}
    >>> per_target_summary(preds, ["a", "b"])[["target", "nrmse_median", "r2_median"]]
      target  nrmse_median  r2_median
    0      a           1.0        0.0
    1      b           0.0        1.0
    """
    rows = []
    for key, entry in predictions.items():
        if entry["y_pred"] is None:
            continue
        problem, model = key[0], key[1]
        scores = per_output_scores(entry["y_test"], entry["y_pred"])
        n_outputs = len(scores["nrmse"])
        names = (
            target_names.get(problem)
            if isinstance(target_names, dict)
            else target_names
        )
        if names is None:
            names = [f"y{i}" for i in range(n_outputs)]
        if len(names) != n_outputs:
            raise ValueError(
                f"target_names gives {len(names)} names for problem {problem!r}, "
                f"which has {n_outputs} targets."
            )
        for i, name in enumerate(names):
            rows.append(
                {
                    "problem": problem,
                    "model": model,
                    "target": str(name),
                    "nrmse": scores["nrmse"][i],
                    "r2": scores["r2"][i],
                }
            )
    columns = ["problem", "model", "target", "n_runs"]
    columns += [f"{m}_{s}" for m in ("nrmse", "r2") for s in ("median", "min", "max")]
    if not rows:
        return pd.DataFrame(columns=columns)
    groups = pd.DataFrame(rows).groupby(["problem", "model", "target"], sort=False)
    out = groups.size().rename("n_runs").to_frame()
    for m in ("nrmse", "r2"):
        out[f"{m}_median"] = groups[m].median()
        out[f"{m}_min"] = groups[m].min()
        out[f"{m}_max"] = groups[m].max()
    return out.reset_index()[columns]


def format_per_target(table):
    """:func:`per_target_summary` as text: one table per problem, a row per
    (model, target), ``median ±half-range`` cells.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`per_target_summary`.

    Returns
    -------
    text : str
        The tables, or ``""`` when no problem has more than one target.
    """
    blocks = []
    for problem, group in table.groupby("problem", sort=False):
        if group["target"].nunique() < 2:
            continue
        index = pd.MultiIndex.from_frame(group[["model", "target"]])
        text = pd.DataFrame(index=index)
        text["runs"] = group["n_runs"].to_numpy()
        for m in ("nrmse", "r2"):
            text[m] = _summary_cells(group, m)
        blocks.append(f"{problem}, per target\n{text.to_string()}")
    return "\n\n".join(blocks)


def format_number(value):
    """A metric as text: 4 significant digits, scientific notation for very large
    or small magnitudes, ``"-"`` for None, NaN and inf.

    Examples
    --------
    >>> format_number(0.012345), format_number(1.5e-7), format_number(None)
    ('0.01235', '1.500e-07', '-')
    """
    if value is None or not np.isfinite(value):
        return "-"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3e}"
    return f"{value:.4g}"


def _messages(text):
    """The distinct warning messages of one ``warning_messages`` cell."""
    return text.split(MESSAGE_SEP) if text else []


def format_results(df, columns):
    """The chosen columns of a :func:`~sknnfit.bench.compare` frame as text, then
    its warnings.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`~sknnfit.bench.compare`.
    columns : list of str
        Columns to show, in order.

    Returns
    -------
    text : str
        The table (4 significant digits), followed by one ``warning: ...`` line
        per distinct warning message recorded during the fits.
    """
    with pd.option_context("display.width", 120):
        lines = [df[columns].to_string(index=False, float_format="{:.4g}".format)]
    messages = {m for text in df.get("warning_messages", []) for m in _messages(text)}
    lines += [f"warning: {m}" for m in sorted(messages)]
    return "\n".join(lines)


def _summary_cells(group, metric):
    """``median ±half-range`` of one metric, one cell per model."""
    cells = []
    for _, row in group.iterrows():
        cell = format_number(row[f"{metric}_median"])
        half_range = (row[f"{metric}_max"] - row[f"{metric}_min"]) / 2
        if row["n_runs"] > 1 and np.isfinite(half_range):
            cell += f" ±{half_range:.2g}"
        cells.append(cell)
    return cells


def format_summary(summary):
    """The summary as text: one table per problem, ``median ±half-range`` cells.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarize`.

    Returns
    -------
    text : str
        Tables with one row per model and a column per metric of
        :data:`TABLE_METRICS`. A cell is the median over runs and, with several
        runs, half the min-max range (``0.12 ±0.03`` means the runs spanned 0.09
        to 0.15 around a median of 0.12, not necessarily symmetrically; the
        summary has the exact min and max). Metrics that do not apply to a
        problem are left out.
    """
    blocks = []
    for problem, group in summary.groupby("problem", sort=False):
        table = pd.DataFrame(index=pd.Index(group["model"], name="model"))
        table["runs"] = group["n_runs"].to_numpy()
        for m in TABLE_METRICS:
            col = f"{m}_median"
            if col not in group or group[col].isna().all():
                continue
            table[m] = _summary_cells(group, m)
        if "n_warnings" in group:
            table["warned"] = group["n_warnings"].to_numpy()
        blocks.append(f"{problem}\n{table.to_string()}")
    return "\n\n".join(blocks)


def format_warnings(df, max_chars=160):
    """The warnings of a :func:`~sknnfit.bench.compare` frame, one line per
    (problem, model, message) with the seeds that raised it.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`~sknnfit.bench.compare`.
    max_chars : int, default=160
        Longer messages are cut to this length, ending in ``...``.

    Returns
    -------
    text : str
        A heading and the lines, or ``""`` when no fit warned.
    """
    if "warning_messages" not in df or not (df["warning_messages"] != "").any():
        return ""
    lines = ["Warnings raised during fit/predict (also in results.csv):"]
    rows = df[df["warning_messages"] != ""]
    for (problem, model), group in rows.groupby(["problem", "model"], sort=False):
        seen = {}
        for seed, text in zip(group["seed"], group["warning_messages"], strict=True):
            for message in _messages(text):
                seen.setdefault(message, []).append(int(seed))
        for message, seeds in seen.items():
            short = (
                message
                if len(message) <= max_chars
                else message[: max_chars - 3] + "..."
            )
            lines.append(f"  {problem} / {model} (seeds {seeds}): {short}")
    return "\n".join(lines)


def mark_interrupted(summary, df):
    """The summary with ``" *"`` after each model that had a fit cut short.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summarize`.
    df : pandas.DataFrame
        The :func:`~sknnfit.bench.compare` frame it summarizes.

    Returns
    -------
    summary : pandas.DataFrame
        ``summary`` itself when no row of ``df`` is ``interrupted``, else a
        copy with the marked model names, for printing.
    """
    if "interrupted" not in df or not df["interrupted"].any():
        return summary
    cut = df[df["interrupted"].astype(bool)]
    keys = set(zip(cut["problem"], cut["model"], strict=True))
    marked = summary.copy()
    marked["model"] = [
        f"{model} *" if (problem, model) in keys else model
        for problem, model in zip(summary["problem"], summary["model"], strict=True)
    ]
    return marked


def format_interrupted(df):
    """What a Ctrl-C left out of a :func:`~sknnfit.bench.compare` frame, as text.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`~sknnfit.bench.compare`.

    Returns
    -------
    text : str
        How many of the planned fits finished and one ``*`` line per fit cut
        short, or ``""`` when the run was not interrupted.
    """
    if not df.attrs.get("interrupted"):
        return ""
    n_fits = df.attrs.get("n_fits", len(df))
    lines = [
        f"Interrupted by the user (Ctrl-C): {len(df)} of {n_fits} fits finished "
        "or were cut short; the others were not run."
    ]
    cut = df[df["interrupted"].astype(bool)] if "interrupted" in df else df[:0]
    for _, row in cut.iterrows():
        lines.append(
            f"* {row['problem']} / {row['model']} seed {row['seed']} was cut "
            "short: its metrics are left out (NaN; interrupted=True in the "
            "results)."
        )
    return "\n".join(lines)


def _cell(value, fmt, floatfmt):
    if fmt is not None:
        return fmt(value) if callable(fmt) else fmt.format(value)
    if isinstance(value, (float, np.floating)):
        return format(value, floatfmt)
    return str(value)


def markdown_table(frame, *, floatfmt=".4g", formats=None):
    """A frame as a Markdown (pipe) table, without pandas' optional tabulate.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows; the index is left out.
    floatfmt : str, default=".4g"
        Format spec of float cells.
    formats : dict or None, default=None
        Per column: a ``str.format`` pattern such as ``"{:,.0f}"`` or a callable
        returning the cell text; it wins over ``floatfmt``.

    Returns
    -------
    text : str
        Header, rule and one line per row, columns padded to a common width;
        numeric columns are right-aligned, the others left-aligned.

    Examples
    --------
    >>> import pandas as pd
    >>> print(markdown_table(pd.DataFrame({"model": ["nn", "poly"],
    ...                                    "nrmse": [0.012345, 0.5]})))
    | model |   nrmse |
    |:------|--------:|
    | nn    | 0.01235 |
    | poly  |     0.5 |
    """
    formats = formats or {}
    columns = [str(c) for c in frame.columns]
    body = [
        [_cell(v, formats.get(c), floatfmt) for c, v in zip(columns, row, strict=True)]
        for row in frame.itertuples(index=False)
    ]
    right = [
        pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    widths = [max([len(c), *(len(r[i]) for r in body)]) for i, c in enumerate(columns)]

    def line(cells):
        padded = (
            cell.rjust(w) if r else cell.ljust(w)
            for cell, w, r in zip(cells, widths, right, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if r else ":" + "-" * (w + 1)
        for w, r in zip(widths, right, strict=True)
    )
    return "\n".join([line(columns), rule + "|", *map(line, body)])
