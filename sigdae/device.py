"""Pick the compute device: CUDA, then Apple MPS, then the CPU, unless the user names one."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch

from sigdae.config import ConfigError


def select_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device '{name}' (use auto, cpu, cuda, cuda:N or mps)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but no CUDA GPU is available here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was asked for, but Apple MPS is not available here")
    return device


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bfloat16 in hardware (AVX512-BF16 or AMX); emulated bf16 is slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return (" avx512_bf16" in flags or " amx_bf16" in flags) and torch.backends.mkldnn.is_available()


def autocast_dtype(device: torch.device, amp: bool | str) -> torch.dtype | None:
    """The mixed-precision dtype for training on ``device``, or None for full fp32.

    ``amp`` is true/"auto" (use what the hardware runs natively: fp16 or bf16 on CUDA, bf16 on CPUs with
    bf16 instructions), false/"off", or "bf16"/"fp16" to force one.
    """
    choice = {True: "auto", False: "off"}.get(amp, amp) if isinstance(amp, bool) else str(amp).lower()
    if choice not in ("auto", "off", "bf16", "fp16"):
        raise ConfigError(f"train.amp must be true, false, auto, off, bf16 or fp16, not '{amp}'")
    if choice == "off" or device.type not in ("cuda", "cpu"):
        return None
    if choice == "bf16":
        return torch.bfloat16
    if choice == "fp16":
        if device.type != "cuda":
            raise ConfigError("train.amp = fp16 needs a CUDA device (use bf16 on the CPU)")
        return torch.float16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_native_bf16() else None


def compile_backend(name: Any) -> str:
    """A ``torch.compile`` backend by name (``train.compile``), checked against the ones torch knows."""
    import torch._dynamo

    if name not in torch._dynamo.list_backends(exclude_tags=()):
        raise ConfigError(f"train.compile: unknown backend {name!r} (e.g. inductor, eager, aot_eager)")
    return name


def memory_stats(device: torch.device) -> dict[str, float]:
    """GPU memory in use (MB) for the training events; nothing on other devices."""
    if device.type == "cuda":
        return {"gpu_allocated_mb": torch.cuda.memory_allocated(device) / 2**20,
                "gpu_reserved_mb": torch.cuda.memory_reserved(device) / 2**20}
    return {}
