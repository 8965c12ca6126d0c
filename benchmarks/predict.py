"""Predict speed and memory: NNRegressor next to MLPRegressor, LightGBM and HGB.

Run ``python benchmarks/predict.py`` (``--quick`` for a short smoke run,
``--threads N`` for N threads in every model; default 1). For each model,
fitted on a 1-input and a 10-input problem, it measures in one run:

- ``latency_ms``: the median time of one ``predict`` call on one row;
- ``rows_per_s``: rows per second of ``predict`` on 100,000 rows (best of 3);
- ``extra_mb`` (NNRegressor only): peak resident memory added by ``predict``
  on 2,000,000 rows, beyond the float64 result it returns (measured in a fresh
  subprocess from the kernel's peak RSS, which sees PyTorch's allocations;
  tracemalloc does not).

The models take turns, call by call, so load elsewhere on the machine weighs
on all of them alike.

``NNRegressor`` is the default estimator (``max_epochs`` is small: only predict
speed matters here; ``guard=False`` where the parameter exists, so predict runs
the network). MLPRegressor is given twice:
with its defaults (one hidden layer of 100 ReLU) and with NNRegressor's
default network size (three layers of 128). Writes
``benchmarks/results/predict.md`` and ``predict.csv`` (``predict_Nthreads.*``
for N > 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROWS_LATENCY_CALLS = 300
ROWS_THROUGHPUT = 100_000
ROWS_MEMORY = 2_000_000

#: (name, number of inputs, function of X)
PROBLEMS = [
    ("1-D: sin(3x) + x^2", 1, lambda X: np.sin(3 * X[:, 0]) + X[:, 0] ** 2),
    (
        "10-D: Friedman #1 + 5 noise inputs",
        10,
        lambda X: (
            10 * np.sin(np.pi * X[:, 0] * X[:, 1])
            + 20 * (X[:, 2] - 0.5) ** 2
            + 10 * X[:, 3]
            + 5 * X[:, 4]
        ),
    ),
]


def _inputs(n, n_in, seed):
    return np.random.default_rng(seed).uniform(0, 1, size=(n, n_in))


def models(quick=False):
    """``{name: unfitted estimator}``: the models compared, those installed."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.neural_network import MLPRegressor

    from sknnfit import NNRegressor

    nn_params = {"max_epochs": 5 if quick else 20, "random_state": 0}
    if "guard" in NNRegressor().get_params():
        nn_params["guard"] = False  # predict must run the network to be measured
    out = {
        "NNRegressor": NNRegressor(**nn_params),
        "MLPRegressor (100,)": MLPRegressor(max_iter=50, random_state=0),
        "MLPRegressor (128,128,128)": MLPRegressor(
            hidden_layer_sizes=(128, 128, 128), max_iter=50, random_state=0
        ),
        "HistGradientBoosting": HistGradientBoostingRegressor(random_state=0),
    }
    try:
        from lightgbm import LGBMRegressor
    except ImportError:
        pass
    else:
        out["LightGBM"] = LGBMRegressor(random_state=0, verbose=-1)
    return out


# ---------------------------------------------------------------------- measuring


def _call(model, X):
    """Seconds of one ``predict`` call of ``model``."""
    start = time.perf_counter()
    model.predict(X)
    return time.perf_counter() - start


def latency_ms(variants, x1, calls=ROWS_LATENCY_CALLS):
    """Median milliseconds of ``predict`` on the one row ``x1``, per variant.

    The variants take turns, call by call, so a burst of load elsewhere on
    the machine weighs on all of them alike.
    """
    times = {key: [] for key in variants}
    for i in range(calls + 20):
        for key, variant in variants.items():
            seconds = _call(variant, x1)
            if i >= 20:  # warm-up calls left out
                times[key].append(seconds)
    return {key: 1e3 * float(np.median(t)) for key, t in times.items()}


def rows_per_second(variants, X, repeats=3):
    """Rows per second of ``predict`` on ``X``, the best of ``repeats``, per variant."""
    best = {key: np.inf for key in variants}
    for variant in variants.values():
        _call(variant, X[:1000])
    for _ in range(repeats):
        for key, variant in variants.items():
            best[key] = min(best[key], _call(variant, X))
    return {key: len(X) / seconds for key, seconds in best.items()}


def _peak_rss_child(path, n_rows, n_in):
    """In a fresh process: MB that predict on ``n_rows`` adds to the peak RSS.

    The result (n_rows float64 values) is subtracted: what is left is the
    memory predict needs besides what it returns.
    """
    with open(path, "rb") as f:
        model = pickle.load(f)
    X = _inputs(n_rows, n_in, seed=2)
    model.predict(X[:10])  # imports and one-time set-up
    rss = _status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak to the current RSS
    y = model.predict(X)
    peak = _status_kb("VmHWM")
    return (peak - rss) / 1024 - y.nbytes / 2**20


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}.")


def extra_memory_mb(model, n_in, n_rows, threads):
    """:func:`_peak_rss_child` in a subprocess; NaN where /proc is missing."""
    if not Path("/proc/self/clear_refs").exists():
        return float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.pkl"
        path.write_bytes(pickle.dumps(model))
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        args = [sys.executable, __file__, "--memory-child", str(path)]
        args += [str(n_rows), str(n_in), str(threads)]
        done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"memory subprocess failed:\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def run(quick=False, threads=1, memory=True):
    """Measure every model on every problem; a tidy DataFrame, one row each."""
    import torch
    from threadpoolctl import threadpool_limits

    n_fit = 500 if quick else 2_000
    n_rows = 10_000 if quick else ROWS_THROUGHPUT
    n_mem = 200_000 if quick else ROWS_MEMORY
    calls = 50 if quick else ROWS_LATENCY_CALLS
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    rows = []
    try:
        with threadpool_limits(threads), warnings.catch_warnings():
            # Short fits stop before converging: that is the point here.
            warnings.filterwarnings("ignore", message=".*(converge|improving).*")
            for problem, n_in, f in PROBLEMS:
                X = _inputs(n_fit, n_in, seed=0)
                variants = {}
                for name, model in models(quick).items():
                    if hasattr(model, "n_jobs"):
                        model.set_params(n_jobs=threads)
                    variants[name] = model.fit(X, f(X))
                latency = latency_ms(variants, X[:1], calls)
                speed = rows_per_second(variants, _inputs(n_rows, n_in, seed=1))
                for label, model in variants.items():
                    extra = float("nan")
                    if memory and label.startswith("NNRegressor"):
                        extra = extra_memory_mb(model, n_in, n_mem, threads)
                    rows.append(
                        {
                            "problem": problem,
                            "model": label,
                            "latency_ms": latency[label],
                            "rows_per_s": speed[label],
                            "extra_mb": extra,
                        }
                    )
    finally:
        torch.set_num_threads(previous)
    df = pd.DataFrame(rows)
    df.attrs.update(threads=threads, n_rows=n_rows, n_mem=n_mem, calls=calls)
    return df


#: Columns of the table: (heading, cell format) per column of run()'s frame.
TABLE = {
    "problem": ("problem", "{}"),
    "model": ("model", "{}"),
    "latency_ms": ("1 row (ms, median)", "{:.3f}"),
    "rows_per_s": ("rows/s on 100,000", "{:,.0f}"),
    "extra_mb": ("extra MB, 2M rows", lambda v: "" if np.isnan(v) else f"{v:,.0f}"),
}


def to_markdown(df):
    """The table of run()'s frame, in Markdown."""
    from sknnfit.bench.report import markdown_table

    table = df[list(TABLE)].rename(columns={k: h for k, (h, _) in TABLE.items()})
    return markdown_table(table, formats=dict(TABLE.values()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-memory", action="store_true", help="skip 2M rows")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        path, n_rows, n_in, threads = args.memory_child
        import torch

        torch.set_num_threads(int(threads))
        print(_peak_rss_child(path, int(n_rows), int(n_in)))
        return None
    df = run(quick=args.quick, threads=args.threads, memory=not args.no_memory)
    import torch

    import sknnfit

    table = to_markdown(df)
    header = (
        f"Predict speed, measured {dt.date.today()} on "
        f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores, "
        f"shared), sknnfit {sknnfit.__version__}, torch {torch.__version__}, "
        f"{args.threads} thread(s) for every model. 1 row: median of "
        f"{df.attrs['calls']} calls of `predict`. Rows/s: best of 3 calls on "
        f"{df.attrs['n_rows']:,} rows. Extra MB: peak RSS added by `predict` on "
        f"{df.attrs['n_mem']:,} rows, beyond its float64 result, in a fresh "
        "process.\n"
        f"Command: `OMP_NUM_THREADS={args.threads} python benchmarks/predict.py"
        f"{' --quick' if args.quick else ''} --threads {args.threads}`\n"
    )
    print(header)
    print(table)
    if not args.quick:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        stem = "predict" if args.threads == 1 else f"predict_{args.threads}threads"
        (out / f"{stem}.md").write_text(header + "\n" + table + "\n")
        df.to_csv(out / f"{stem}.csv", index=False)
    return df


if __name__ == "__main__":
    main()
