"""Real seconds per step against the cost model of ``max_epochs="auto"``.

Run ``python benchmarks/cost_model.py`` (``--threads 1 2``); writes
``benchmarks/results/cost_model.md``. Nothing else should run meanwhile. Where
the model is right, ``ratio`` (real seconds per model second) is about the same
in every row; a precision whose rows sit lower is counted as slower than it is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
from pathlib import Path

import pandas as pd
import torch

from sknnfit.bench.cost import time_steps
from sknnfit.bench.report import markdown_table
from sknnfit.modules import native_bfloat16


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    df = pd.concat([time_steps(threads=t) for t in args.threads], ignore_index=True)
    df["ms_per_step"] = 1e3 * df.pop("seconds_per_step")
    df["model_ms_per_step"] = 1e3 * df.pop("model_seconds_per_step")
    df["ratio"] = df.pop("ratio")
    header = (
        f"Milliseconds per training step of NNRegressor (three hidden layers, 19 "
        f"outputs, median of 4 passes of 64 steps) against the cost model of "
        f'`max_epochs="auto"`, measured {dt.date.today()} on {platform.machine()} '
        f"({os.cpu_count()} cores, native bfloat16: {native_bfloat16('cpu')}), "
        f"torch {torch.__version__}.\n"
        f"Command: `python benchmarks/cost_model.py --threads "
        f"{' '.join(map(str, args.threads))}`\n"
    )
    table = markdown_table(df, floatfmt=".3g")
    print(header)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cost_model.md").write_text(header + "\n" + table + "\n")
    return df


if __name__ == "__main__":
    main()
