"""Device and thread resolution: the only place that knows about CUDA.

Everything that decides where tensors live goes through here, so a model fitted on a
GPU can be pickled, loaded and used on a machine without one.
"""

from __future__ import annotations

import contextlib
import re

import torch

_CUDA_PATTERN = re.compile(r"^cuda(:\d+)?$")


def resolve_device(device):
    """Turn the ``device`` parameter into a concrete torch device string.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device
        ``"auto"`` picks ``"cuda"`` when PyTorch sees a GPU and ``"cpu"`` otherwise.

    Returns
    -------
    device : str
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Raises
    ------
    ValueError
        If the string is not a device name, or CUDA is asked for but not available.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if isinstance(device, str) and _CUDA_PATTERN.match(device):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but PyTorch sees no CUDA device "
                f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}). "
                "Use device='auto' to fall back to the CPU, or install a CUDA "
                "build of PyTorch."
            )
        if ":" in device:
            index = int(device.split(":")[1])
            if index >= torch.cuda.device_count():
                raise ValueError(
                    f"device={device!r} was requested but only "
                    f"{torch.cuda.device_count()} CUDA device(s) exist; use "
                    f"'cuda:0' .. 'cuda:{torch.cuda.device_count() - 1}'."
                )
        return device
    raise ValueError(
        f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}."
    )


def is_cuda(device):
    """Whether a resolved device string names a CUDA device."""
    return str(device).startswith("cuda")


def loadable_device(device):
    """The device to use after unpickling: CUDA if still available, else CPU."""
    if is_cuda(device) and not torch.cuda.is_available():
        return "cpu"
    return device


def place_net(net, device):
    """Point a fitted skorch net at the device it can use here; return that device.

    A net fitted on a GPU and unpickled or loaded where there is none predicts on
    the CPU: skorch maps its module there, and its batches must follow.
    """
    usable = loadable_device(device)
    if usable != device:
        net.device = usable
        net.iterator_valid__device = usable
        net.iterator_train__device = usable
    return usable


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run a block with ``torch.set_num_threads(n_threads)``, restored afterwards.

    ``None`` leaves PyTorch's setting alone.
    """
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def training_mode():
    """Run a block with gradients on and float32 as torch's default dtype.

    A caller may have set ``torch.set_default_dtype(torch.float64)`` or be inside
    ``torch.inference_mode()``/``torch.no_grad()``; sknnfit trains float32 modules
    with autograd either way. The default dtype is restored afterwards.
    """
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        with torch.inference_mode(False), torch.enable_grad():
            yield
    finally:
        torch.set_default_dtype(previous)


@contextlib.contextmanager
def seeded_torch(seed, device):
    """Run a block with torch's global RNG seeded, and restore its state afterwards.

    skorch builds modules with PyTorch's default initialisers, which draw from the
    global generator; forking it keeps fits reproducible without leaving the user's
    global torch state changed.
    """
    devices = []
    if is_cuda(device):
        index = int(device.split(":")[1]) if ":" in device else 0
        devices = [index]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
