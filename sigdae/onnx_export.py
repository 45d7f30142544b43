"""Export a trained model to ONNX, to run with onnxruntime alone (no PyTorch).

A spectral-mask speech model is exported as its network: the graph maps STFT magnitudes ``(N, bins,
frames)`` to a gain of the same shape, and the STFT and inverse STFT stay outside the graph (they are a
few lines of numpy: see ``examples/onnx_denoise.py``). Every other model is exported whole, input to
output (a waveform model's ``(N, C, T)``, an image model's ``(N, C, H, W)``). The model's facts (kind of
graph, sample rate, STFT size and hop, chunking grid and reach) are stored in the file's metadata.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

import torch

from sigdae.errors import ModelError
from sigdae.fileio import atomic_output
from sigdae.onnx_runtime import GRAPH_DIRECT, GRAPH_MASK, require_onnx
from sigdae.version import __version__

OPSET = 17
PARITY_TOLERANCE = 1e-4


class MaskGraph(torch.nn.Module):
    """A spectral-mask model's network: STFT magnitudes (N, bins, frames) -> gain (N, bins, frames)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, magnitude: torch.Tensor) -> torch.Tensor:
        return self.model.mask(magnitude)


def _graph(module: torch.nn.Module, signal: str, in_channels: int) -> tuple[torch.nn.Module, torch.Tensor,
                                                                              dict[str, dict[int, str]], str]:
    """(graph module, example input, dynamic axes, graph kind) for a loaded model."""
    if hasattr(module, "stream"):
        raise ModelError(f"{type(module).name} is a causal streaming model, which ONNX export does not cover: "
                         "run it with PyTorch (sigdae denoise, sigdae live, sigdae.StreamEnhancer)")
    if hasattr(module, "mask") and hasattr(module, "n_fft"):
        example = torch.rand(1, module.n_fft // 2 + 1, 67) * 2
        return MaskGraph(module), example, {"input": {0: "batch", 2: "frames"},
                                            "output": {0: "batch", 2: "frames"}}, GRAPH_MASK
    if signal == "waveform":
        axes = {0: "batch", 1: "channels", 2: "samples"}
        return module, torch.randn(1, 1, 16000) * 0.1, {"input": axes, "output": axes}, GRAPH_DIRECT
    axes = {0: "batch", 2: "height", 3: "width"}
    return module, torch.rand(1, in_channels, 28, 28), {"input": axes, "output": axes}, GRAPH_DIRECT


def export_onnx(src: str | os.PathLike, dst: str | os.PathLike, note: str = "") -> dict[str, Any]:
    """Write the model of a run or checkpoint ``src`` to the ONNX file ``dst``; returns its metadata.

    The exported graph is checked against the PyTorch model with onnxruntime before the file is kept."""
    from sigdae.api import load_model

    require_onnx()
    model = load_model(src, device="cpu")
    module = model.module.to(memory_format=torch.contiguous_format)
    in_channels = int(getattr(module, "config", {}).get("in_channels", 1) or 1)
    graph, example, axes, kind = _graph(module, model.signal, in_channels)
    meta = {"sigdae_graph": kind, "model": model.name, "signal": model.signal, "task": model.task,
            "corruption": model.corruption, "sigdae_version": __version__,
            "parameters": str(model.num_parameters())}
    if model.sample_rate:
        meta["sample_rate"] = str(model.sample_rate)
    for key in ("n_fft", "hop", "time_multiple", "receptive_samples"):
        if hasattr(module, key):
            meta[key] = str(int(getattr(module, key)))
    if kind == GRAPH_MASK:
        meta["window"] = "hann"
    if note:
        meta["note"] = note
    with warnings.catch_warnings(), torch.no_grad(), atomic_output(dst) as tmp:
        warnings.simplefilter("ignore")  # tracer warnings about shape arithmetic, which the parity check covers
        try:
            torch.onnx.export(graph.eval(), (example,), str(tmp), input_names=["input"], output_names=["output"],
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        except Exception as exc:
            raise ModelError(f"cannot export {model.path} to ONNX: {str(exc).splitlines()[0][:200]}") from None
        _stamp(str(tmp), meta)
        _check_parity(str(tmp), graph, example, model.path)
    return meta


def _stamp(path: str, meta: dict[str, str]) -> None:
    import onnx

    proto = onnx.load(path)
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = "sigdae model: " + json.dumps(meta, sort_keys=True)
    onnx.save(proto, path)


def _check_parity(path: str, graph: torch.nn.Module, example: torch.Tensor, source: str) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    # a second, larger input: the graph must follow the input's size, not the traced one
    for x in (example, torch.cat([example, example.flip(-1)], dim=-1)):
        want = graph(x).numpy()
        got = session.run(None, {"input": x.numpy()})[0]
        if got.shape != want.shape or abs(got - want).max() > PARITY_TOLERANCE:
            raise ModelError(f"the ONNX export of {source} does not reproduce the model "
                             f"(shape {got.shape} vs {want.shape}); this model cannot be exported yet")
