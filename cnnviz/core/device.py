"""Choosing where torch runs: cpu, cuda or mps, falling back to the cpu with a warning."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # "cpu", "cuda", "mps"
    available: bool
    reason: str  # why not, or what it is


def _cuda_info() -> DeviceInfo:
    try:
        if torch.cuda.is_available():
            return DeviceInfo("cuda", True, torch.cuda.get_device_name(0))
        built = torch.backends.cuda.is_built()
        why = "no CUDA GPU found" if built else "this torch build has no CUDA support"
        return DeviceInfo("cuda", False, why)
    except Exception as err:  # a broken driver must not take the app down
        return DeviceInfo("cuda", False, f"CUDA failed to initialise: {err}")


def _mps_info() -> DeviceInfo:
    try:
        if torch.backends.mps.is_available():
            return DeviceInfo("mps", True, "Apple Metal")
        return DeviceInfo("mps", False, "Apple Metal (MPS) is only on macOS with Apple silicon")
    except Exception as err:
        return DeviceInfo("mps", False, f"MPS failed to initialise: {err}")


def available_devices() -> list[DeviceInfo]:
    """Every device the app knows, with whether it can be used here and why not."""
    return [DeviceInfo("cpu", True, "always available"), _cuda_info(), _mps_info()]


def pick_device(name: str) -> tuple[torch.device, list[str]]:
    """The device for ``name`` ("auto", "cpu", "cuda", "mps") and any warnings.

    "auto" takes cuda, then mps, then cpu, silently. An explicit choice that is not available
    falls back to the cpu with one warning line, never an error.
    """
    infos = {d.name: d for d in available_devices()}
    if name == "auto":
        for cand in ("cuda", "mps"):
            if infos[cand].available:
                return torch.device(cand), []
        return torch.device("cpu"), []
    if name == "cpu":
        return torch.device("cpu"), []
    info = infos.get(name)
    if info is not None and info.available:
        return torch.device(name), []
    why = info.reason if info is not None else "unknown device"
    return torch.device("cpu"), [f"{name} is not available ({why}); running on the CPU"]


def torch_threads() -> int:
    """Threads for torch's CPU kernels: all cores but one (at least 1), or CNNVIZ_TORCH_THREADS.

    The spare core keeps the window, the video decoder and the OS responsive. On the 2-core
    machines this is measured on, one thread was also the faster choice: with two, every
    barrier in torch's thread pool waits for a core that something else holds (engine.run at
    512^2 took 72 ms on one thread and 108 ms on two, in the same hour; scripts/bench.py).
    """
    env = os.environ.get("CNNVIZ_TORCH_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, (os.cpu_count() or 2) - 1)
