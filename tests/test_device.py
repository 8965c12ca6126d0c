"""sknnfit._device: device names, thread counts and seeded torch blocks."""

import numpy as np
import pytest
import torch

from sknnfit._device import (
    is_cuda,
    loadable_device,
    resolve_device,
    seeded_torch,
    torch_threads,
)

HAS_CUDA = torch.cuda.is_available()
needs_no_cuda = pytest.mark.skipif(HAS_CUDA, reason="needs a machine without CUDA")


# ------------------------------------------------------------------ resolve_device


def test_auto_follows_cuda_availability():
    assert resolve_device("auto") == ("cuda" if HAS_CUDA else "cpu")


@pytest.mark.parametrize("device", ["cpu", torch.device("cpu")])
def test_cpu_is_always_available(device):
    assert resolve_device(device) == "cpu"


@pytest.mark.parametrize("device", ["tpu", "CPU", "cuda:", "cuda:x", "gpu", None, 0])
def test_unknown_device_names_the_valid_forms(device):
    with pytest.raises(
        ValueError, match=r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got "
    ):
        resolve_device(device)


@needs_no_cuda
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda:1")])
def test_cuda_without_cuda_suggests_auto(device):
    with pytest.raises(ValueError, match=r"sees no CUDA device.*device='auto'"):
        resolve_device(device)


def test_cuda_index_beyond_the_devices_names_the_range(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == "cuda:1"
    assert resolve_device("cuda") == "cuda"
    with pytest.raises(
        ValueError, match=r"only 2 CUDA device\(s\).*'cuda:0' \.\. 'cuda:1'"
    ):
        resolve_device("cuda:2")


# ------------------------------------------------------------------ loadable_device


@pytest.mark.parametrize(("device", "is_cuda_"), [("cpu", False), ("cuda", True)])
def test_is_cuda(device, is_cuda_):
    assert is_cuda(device) is is_cuda_
    assert is_cuda("cuda:3")


def test_loadable_device_falls_back_to_the_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert loadable_device("cuda:1") == "cpu"
    assert loadable_device("cuda") == "cpu"
    assert loadable_device("cpu") == "cpu"


def test_loadable_device_keeps_cuda_where_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert loadable_device("cuda:1") == "cuda:1"
    assert loadable_device("cpu") == "cpu"


# ------------------------------------------------------------------ torch_threads


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    wanted = 1 if before != 1 else 2
    with torch_threads(wanted):
        assert torch.get_num_threads() == wanted
    assert torch.get_num_threads() == before


def test_torch_threads_restores_after_an_error():
    before = torch.get_num_threads()
    wanted = 1 if before != 1 else 2
    with pytest.raises(RuntimeError, match="boom"), torch_threads(wanted):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_torch_threads_none_leaves_pytorch_alone(monkeypatch):
    def refuse(n):
        raise AssertionError(f"set_num_threads({n}) with n_threads=None")

    monkeypatch.setattr(torch, "set_num_threads", refuse)
    with torch_threads(None):
        pass


# ------------------------------------------------------------------ seeded_torch


def test_seeded_torch_is_reproducible():
    with seeded_torch(7, "cpu"):
        a = torch.rand(5)
    with seeded_torch(7, "cpu"):
        b = torch.rand(5)
    with seeded_torch(8, "cpu"):
        c = torch.rand(5)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_seeded_torch_leaves_the_global_generator_unchanged():
    torch.manual_seed(123)
    state = torch.get_rng_state().clone()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    with seeded_torch(0, "cpu"):
        torch.rand(10)
    assert torch.equal(torch.get_rng_state(), state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    # ... so the next global draw is what it would have been without the block.
    after = torch.rand(3)
    torch.manual_seed(123)
    torch.testing.assert_close(after, torch.rand(3))


def test_seeded_torch_restores_after_an_error():
    torch.manual_seed(5)
    state = torch.get_rng_state().clone()
    with pytest.raises(RuntimeError, match="boom"), seeded_torch(0, "cpu"):
        torch.rand(4)
        raise RuntimeError("boom")
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA GPU")
def test_seeded_torch_forks_the_cuda_generator_too():
    state = torch.cuda.get_rng_state(0).clone()
    with seeded_torch(0, "cuda:0"):
        a = torch.rand(4, device="cuda:0")
    with seeded_torch(0, "cuda"):
        b = torch.rand(4, device="cuda:0")
    assert torch.equal(a, b)
    assert torch.equal(torch.cuda.get_rng_state(0), state)
