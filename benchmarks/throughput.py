"""Training throughput: NNRegressor vs skorch the usual way vs a plain PyTorch loop.

Run ``python benchmarks/throughput.py`` (``--quick`` for a short smoke run). It prints
a table of training samples per second, measured in one run with the same thread
count, net, optimizer (Adam) and batch size for every column, plus the FLOP limit
(matmul FLOP/s over 6 x parameters), and writes
``benchmarks/results/throughput.md`` (``throughput_Nthreads.md`` with ``--threads N``
for N > 1).
Short workloads run each column three times, interleaved, and keep the best.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from skorch import NeuralNetRegressor
from torch import nn

from sknnfit import NNRegressor
from sknnfit.bench.report import markdown_table
from sknnfit.modules import MLP

# (name, n_rows, n_in, n_out, hidden, activation, batch sizes, epochs)
WORKLOADS = [
    ("a: 200k x 25 -> 19, 7x256 leaky_relu", 200_000, 25, 19, (256,) * 7,
     "leaky_relu", (256, 1024), 2),
    ("b: 4k x 1 -> 1, 1x128 tanh", 4_000, 1, 1, (128,), "tanh", (32, 256), 20),
    ("c: 1k x 1 -> 1, 2x64 relu", 1_000, 1, 1, (64, 64), "relu", (64,), 60),
]  # fmt: skip


def _data(n, n_in, n_out, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, n_in)).astype(np.float32)
    W = rng.normal(size=(n_in, n_out)).astype(np.float32)
    y = np.sin(X @ W).astype(np.float32)
    return X, y


def _module(n_in, n_out, hidden, activation):
    return MLP(n_in, n_out, hidden, activation, linear_skip=False)


def time_sknnfit(X, y, hidden, activation, batch, epochs):
    model = NNRegressor(
        hidden,
        activation=activation,
        linear_skip=False,
        base="none",  # the same work as the other columns: just the network
        optimizer="adam",
        lr=1e-3,
        lr_schedule="none",
        batch_size=batch,
        max_epochs=epochs,
        input_transform="standard",
        n_threads=None,  # the thread count run() set for every column
        device="cpu",
        random_state=0,
    )
    with warnings.catch_warnings():
        # Short timing runs stop "still improving" by design.
        warnings.simplefilter("ignore", category=UserWarning)
        start = time.perf_counter()
        model.fit(X, y if y.shape[1] > 1 else y.ravel())
        seconds = time.perf_counter() - start
    return len(X) * epochs / seconds


def time_skorch_usual(X, y, hidden, activation, batch, epochs):
    """skorch as its docs show it: DataLoader batches and the default 80/20 split."""
    net = NeuralNetRegressor(
        _module,
        module__n_in=X.shape[1],
        module__n_out=y.shape[1],
        module__hidden=hidden,
        module__activation=activation,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=batch,
        max_epochs=epochs,
        verbose=0,
    )
    start = time.perf_counter()
    net.fit(X, y)
    seconds = time.perf_counter() - start
    n_train = sum(net.history[-1, "batches", :, "train_batch_size"])
    return n_train * epochs / seconds


def time_plain_loop(X, y, hidden, activation, batch, epochs):
    """A hand-written loop: tensors, a permutation per epoch, index slicing."""
    torch.manual_seed(0)
    module = _module(X.shape[1], y.shape[1], hidden, activation)
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = len(Xt)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        Xp, yp = Xt[perm], yt[perm]
        for i in range(0, n, batch):
            opt.zero_grad()
            loss = loss_fn(module(Xp[i : i + batch]), yp[i : i + batch])
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    return n * epochs / seconds


def matmul_flops(size=1024, width=256, repeats=50):
    """FLOP/s of a (size x width) @ (width x width) float32 matmul in torch."""
    a = torch.randn(size, width)
    b = torch.randn(width, width)
    for _ in range(5):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    seconds = time.perf_counter() - start
    return 2 * size * width * width * repeats / seconds


def run(quick=False, threads=1):
    """Measure every workload and return a tidy DataFrame (one row per workload)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    rows = []
    try:
        flops = matmul_flops()
        for name, n, n_in, n_out, hidden, act, batches, epochs in WORKLOADS:
            if quick:
                n, epochs = min(n, 20_000), max(1, epochs // 10)
            X, y = _data(n, n_in, n_out)
            params = sum(
                p.numel() for p in _module(n_in, n_out, hidden, act).parameters()
            )
            for batch in batches:
                row = {"workload": name, "batch": batch, "params": params}
                columns = (
                    ("sknnfit", time_sknnfit),
                    ("skorch_usual", time_skorch_usual),
                    ("plain_loop", time_plain_loop),
                )
                # Short workloads: the three columns take turns, best of 3 each,
                # so a burst of load elsewhere does not decide the ratio.
                repeats = 1 if n * epochs > 100_000 else 3
                for _ in range(repeats):
                    for col, fn in columns:
                        rate = fn(X, y, hidden, act, batch, epochs)
                        row[col] = max(row.get(col, 0.0), rate)
                row["flop_limit"] = flops / (6 * params)
                rows.append(row)
    finally:
        torch.set_num_threads(previous)
    df = pd.DataFrame(rows)
    df["vs_plain"] = df["sknnfit"] / df["plain_loop"]
    df["vs_skorch"] = df["sknnfit"] / df["skorch_usual"]
    df["of_flop_limit"] = df["sknnfit"] / df["flop_limit"]
    df.attrs["matmul_gflops"] = flops / 1e9
    df.attrs["threads"] = threads
    return df


#: Columns of the table: (heading, cell format) per column of run()'s frame.
TABLE = {
    "workload": ("workload", "{}"),
    "batch": ("batch", "{}"),
    "sknnfit": ("sknnfit", "{:,.0f}"),
    "skorch_usual": ("skorch usual", "{:,.0f}"),
    "plain_loop": ("plain loop", "{:,.0f}"),
    "vs_plain": ("sknnfit/plain", "{:.2f}x"),
    "vs_skorch": ("sknnfit/skorch", "{:.2f}x"),
    "flop_limit": ("FLOP limit", "{:,.0f}"),
    "of_flop_limit": ("sknnfit/limit", "{:.2f}"),
}


def to_markdown(df):
    """The samples-per-second table of run()'s frame, in Markdown."""
    table = df[list(TABLE)].rename(columns={k: h for k, (h, _) in TABLE.items()})
    return markdown_table(table, formats=dict(TABLE.values()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    df = run(quick=args.quick, threads=args.threads)
    table = to_markdown(df)
    header = (
        f"Training samples per second, measured {dt.date.today()} on "
        f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores), "
        f"torch {torch.__version__}, {args.threads} thread(s) for every column; "
        f"matmul reaches {df.attrs['matmul_gflops']:.1f} GFLOP/s. FLOP limit = "
        "matmul FLOP/s / (6 x parameters).\n"
        f"Command: `python benchmarks/throughput.py"
        f"{' --quick' if args.quick else ''} --threads {args.threads}`\n"
    )
    print(header)
    print(table)
    if not args.quick:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        name = (
            "throughput.md"
            if args.threads == 1
            else f"throughput_{args.threads}threads.md"
        )
        (out / name).write_text(header + "\n" + table + "\n")
    return df


if __name__ == "__main__":
    main()
