"""Where and on how many threads torch runs.

Devices: cpu, cuda or mps, falling back to the cpu with a warning. Threads: one policy
(:func:`torch_threads`, applied by :func:`configure_threads`) shared by the window, the CLI
and the benchmarks. Importing this module does not import torch; its functions do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class DeviceInfo:
    name: str  # "cpu", "cuda", "mps"
    available: bool
    reason: str  # why not, or what it is


def _cuda_info() -> DeviceInfo:
    import torch

    try:
        if torch.cuda.is_available():
            return DeviceInfo("cuda", True, torch.cuda.get_device_name(0))
        built = torch.backends.cuda.is_built()
        why = "no CUDA GPU found" if built else "this torch build has no CUDA support"
        return DeviceInfo("cuda", False, why)
    except Exception as err:  # a broken driver must not take the app down
        return DeviceInfo("cuda", False, f"CUDA failed to initialise: {err}")


def _mps_info() -> DeviceInfo:
    import torch

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
    import torch

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


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def torch_threads(requested: int | str | None = None) -> int:
    """Threads for torch's CPU kernels: ``requested``, else CNNVIZ_TORCH_THREADS, else all
    cores but one; always clamped to 1 .. :func:`available_cores` (a request of 100000 gets
    the cores there are; a non-number is ignored).

    The spare core keeps the window, the video decoder and the OS responsive. On the 2-core
    machines this is measured on, one thread was also the faster choice for the whole Result:
    with two, every barrier in torch's thread pool waits for a core that something else holds
    (scripts/bench.py prints both, interleaved; README, Performance).
    """
    cores = available_cores()
    if requested is None:
        requested = os.environ.get("CNNVIZ_TORCH_THREADS", "")
    try:
        n = int(str(requested).strip())
    except ValueError:
        n = 0
    if n <= 0:
        n = cores - 1
    return max(1, min(n, cores))


@dataclass(frozen=True)
class ThreadPolicy:
    torch_threads: int
    blas_threads: int  # numpy's BLAS pool
    cores: int
    malloc_kept: bool = False  # glibc keeps freed tensor memory for the next run (see keep_freed_memory)

    def describe(self) -> str:
        kept = ", freed memory kept for the next run" if self.malloc_kept else ""
        return f"{self.torch_threads} torch thread(s), numpy BLAS {self.blas_threads}, {self.cores} core(s){kept}"


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest: blocks below it come from the heap, never a fresh mmap
TRIM_THRESHOLD = 256 * 2**20  # free memory kept at the heap's top before it is given back


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep the memory a run frees for the next run (True where it did).

    Every engine.run allocates and frees the same tens of MB of maps and gradients (blocks of
    0.1-4 MB). glibc serves such blocks by mmap and gives them back on free, adjusting its
    threshold only as it goes, so a run could pay page faults on every new tensor and munmap on
    every freed one: 1-3 ms of a 20 ms run at 512^2 (scripts/bench.py, interleaved). A fixed
    32 MB mmap threshold and a 256 MB trim threshold keep them in the heap; blocks over 32 MB
    (a 2048^2 input's first level) are still mapped and given back. The peak memory is unchanged
    (it is the run's own); CNNVIZ_MALLOC=0 leaves malloc as it is. No-op off glibc."""
    if os.environ.get("CNNVIZ_MALLOC", "1").strip() == "0":
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt  # glibc (and musl's stub) export it; others raise
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError, TypeError):
        return False


_BLAS_LIMIT: object = None  # keeps threadpoolctl's limiter alive


def configure_threads(requested: int | str | None = None) -> ThreadPolicy:
    """Apply the thread policy to this process and return it; call on the thread that runs torch.

    torch gets :func:`torch_threads` intra-op threads (and one inter-op thread, if it has not
    started its pool yet). numpy's BLAS pool is cut to one thread: the engine's numpy work is
    elementwise and small matrix products, and a BLAS pool spinning beside torch's only steals
    its cores (the oversubscription measured in issue 16). Freed tensor memory is kept for
    the next run (:func:`keep_freed_memory`).
    """
    global _BLAS_LIMIT
    import torch

    n = torch_threads(requested)
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(1)
    except (RuntimeError, AttributeError):  # already set, or parallel work already ran: keep it
        pass
    blas = 1
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        _BLAS_LIMIT = threadpool_limits(limits=blas, user_api="blas")
    except Exception:  # threadpoolctl missing or a BLAS it cannot drive: leave the pool as it is
        blas = -1
    return ThreadPolicy(torch_threads=n, blas_threads=blas, cores=available_cores(), malloc_kept=keep_freed_memory())
