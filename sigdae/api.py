"""The Python API: load a trained model and denoise tensors with it.

    import sigdae
    model = sigdae.load_model("runs/mnist")          # a run directory or a checkpoint file
    clean = model.denoise(noisy)                      # (N, 1, H, W) in [0, 1] -> same shape
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch

from sigdae import checkpoint
from sigdae.errors import ModelError
from sigdae.models.base import fuse_batchnorm, relu_in_place


@dataclass
class LoadedModel:
    """A trained model with what its checkpoint says about it."""

    module: torch.nn.Module
    name: str
    signal: str
    task: str
    sample_rate: int | None
    corruption: str
    path: str
    device: torch.device
    meta: dict[str, Any] = field(default_factory=dict)

    @torch.no_grad()
    def denoise(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Denoise a batch; returns a tensor of the same shape, dtype and device as ``x``.

        Images are floats in [0, 1]; integer images (uint8 0-255, or another integer type's full range)
        are scaled to [0, 1] for the model and back, and come back rounded in their own type."""
        if not torch.is_tensor(x):
            raise TypeError(f"denoise expects a torch.Tensor, got {type(x).__name__}")
        scale = 1.0
        if not x.is_floating_point():
            if self.signal != "image" or x.dtype == torch.bool:
                raise ModelError(f"denoise expects a float tensor for a {self.signal} model, got {x.dtype}")
            scale = float(torch.iinfo(x.dtype).max)
        out = torch.cat([self.module((x[i:i + batch_size].to(self.device, torch.float32) / scale)).float()
                         for i in range(0, x.shape[0], batch_size)]) if x.shape[0] else x.float()
        if self.signal == "image":
            out = out.clamp(0, 1)
        if scale != 1.0:
            out = (out * scale).round()
        return out.to(device=x.device, dtype=x.dtype)

    __call__ = denoise

    def num_parameters(self) -> int:
        """Parameters of the model as trained (before batch norm was folded into the convs)."""
        return int(self.meta.get("parameters", sum(p.numel() for p in self.module.parameters())))


def load_model(path: str | os.PathLike, device: str = "auto", prefer: str = "best.pt") -> LoadedModel:
    """Load a run directory (``best.pt``, else ``last.pt``) or checkpoint file, safely (weights only), an
    ONNX file from ``sigdae export RUN model.onnx`` (run with onnxruntime: ``pip install 'sigdae[onnx]'``),
    or a bundled model by name (``speech``, ``realtime``)."""
    from sigdae.bundled import resolve
    from sigdae.device import select_device

    path = resolve(path)
    if os.fspath(path).lower().endswith(".onnx"):
        return _load_onnx(path, device)
    dev = select_device(device)
    payload = checkpoint.load(path, prefer=prefer)
    module = checkpoint.build_model(payload).eval()
    parameters = sum(p.numel() for p in module.parameters())
    # channels_last: 15-20 % faster 2-D convolutions on oneDNN and cuDNN (1-D weights are left as they are)
    module = relu_in_place(fuse_batchnorm(module)).to(dev, memory_format=torch.channels_last)
    return LoadedModel(module=module, name=payload["model"]["name"], signal=payload.get("signal", "image"),
                       task=payload.get("task", ""), sample_rate=payload.get("sample_rate"),
                       corruption=payload.get("corruption", ""), path=payload["path"], device=dev,
                       meta={"parameters": parameters, **{k: payload[k] for k in
                             ("config_toml", "trainer", "trained", "sigdae_version", "note") if k in payload}})


def _load_onnx(path: str | os.PathLike, device: str) -> LoadedModel:
    from sigdae.onnx_runtime import open_onnx

    module = open_onnx(path, device)
    meta = module.meta
    rate = int(meta["sample_rate"]) if meta.get("sample_rate") else None
    return LoadedModel(module=module, name=meta.get("model", "onnx"), signal=meta.get("signal", "image"),
                       task=meta.get("task", ""), sample_rate=rate, corruption=meta.get("corruption", ""),
                       path=os.fspath(path), device=torch.device("cpu"),
                       meta={"parameters": int(meta.get("parameters", 0)), "onnx": meta,
                             **({"note": meta["note"]} if "note" in meta else {})})
