"""Export a trained model to ONNX, to run with onnxruntime alone (no PyTorch).

A spectral-mask speech model is exported as its network: the graph maps STFT magnitudes ``(N, bins,
frames)`` to a gain of the same shape, and the STFT and inverse STFT stay outside the graph (they are a
few lines of numpy: see ``examples/onnx_denoise.py``). A causal model's graph is its stream step: log
magnitudes ``(N, frames, bins)`` and its past ``(N, history, hidden)`` in, gains and the next past out,
so it runs frame by frame in real time (two layouts of it, for streams and for files: see
:mod:`sigdae.onnx_causal`). Every other model is exported whole, input to output (a waveform
model's ``(N, C, T)``, an image model's ``(N, C, H, W)``). The model's facts (kind of graph, sample rate,
STFT size and hop, chunking grid and reach) are stored in the file's metadata.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any, NamedTuple

import torch

from sigdae.errors import ModelError
from sigdae.fileio import atomic_output
from sigdae.onnx_causal import MANY_FRAMES, CausalChannelsGraph, CausalRowsGraph, join_by_frames
from sigdae.onnx_runtime import GRAPH_CAUSAL, GRAPH_DIRECT, GRAPH_MASK, require_onnx
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


class Graph(NamedTuple):
    module: torch.nn.Module
    examples: list[tuple[torch.Tensor, ...]]  # the traced input first, then others to check against
    inputs: list[str]
    outputs: list[str]
    axes: dict[str, dict[int, str]]
    kind: str
    many_frames: torch.nn.Module | None = None  # a causal step's layout for long inputs (see onnx_causal)


def _graph(module: torch.nn.Module, signal: str, in_channels: int) -> Graph:
    """What to export for a loaded model, with example inputs."""
    if hasattr(module, "frame_step"):
        bins, step = module.n_fft // 2 + 1, module.frame_step()
        examples = [(torch.randn(1, k, bins) - 3, torch.randn(1, step.history, step.hidden))
                    for k in (7, 1, MANY_FRAMES - 1, MANY_FRAMES, 90)]
        axes = {"input": {0: "batch", 1: "frames"}, "past": {0: "batch"}, "output": {0: "batch", 1: "frames"},
                "next_past": {0: "batch"}}
        return Graph(CausalRowsGraph(step), examples, ["input", "past"], ["output", "next_past"], axes,
                     GRAPH_CAUSAL, CausalChannelsGraph(step))
    if hasattr(module, "mask") and hasattr(module, "n_fft"):
        example = torch.rand(1, module.n_fft // 2 + 1, 67) * 2
        axes = {"input": {0: "batch", 2: "frames"}, "output": {0: "batch", 2: "frames"}}
        graph, kind = MaskGraph(module), GRAPH_MASK
    elif signal == "waveform":
        example = torch.randn(1, 1, 16000) * 0.1
        axes = {name: {0: "batch", 1: "channels", 2: "samples"} for name in ("input", "output")}
        graph, kind = module, GRAPH_DIRECT
    else:
        example = torch.rand(1, in_channels, 28, 28)
        axes = {name: {0: "batch", 2: "height", 3: "width"} for name in ("input", "output")}
        graph, kind = module, GRAPH_DIRECT
    # a second, larger input: the graph must follow the input's size, not the traced one
    examples = [(example,), (torch.cat([example, example.flip(-1)], dim=-1),)]
    return Graph(graph, examples, ["input"], ["output"], axes, kind)


def export_onnx(src: str | os.PathLike, dst: str | os.PathLike, note: str = "") -> dict[str, Any]:
    """Write the model of a run or checkpoint ``src`` to the ONNX file ``dst``; returns its metadata.

    The exported graph is checked against the PyTorch model with onnxruntime before the file is kept."""
    from sigdae.api import load_model

    require_onnx()
    model = load_model(src, device="cpu")
    module = model.module.to(memory_format=torch.contiguous_format)
    in_channels = int(getattr(module, "config", {}).get("in_channels", 1) or 1)
    graph = _graph(module, model.signal, in_channels)
    meta = {"sigdae_graph": graph.kind, "model": model.name, "signal": model.signal, "task": model.task,
            "corruption": model.corruption, "sigdae_version": __version__,
            "parameters": str(model.num_parameters())}
    if model.sample_rate:
        meta["sample_rate"] = str(model.sample_rate)
    for key in ("n_fft", "hop", "time_multiple", "receptive_samples", "lookahead_samples"):
        if hasattr(module, key):
            meta[key] = str(int(getattr(module, key)))
    if graph.kind == GRAPH_MASK:
        meta["window"] = "hann"
    if graph.kind == GRAPH_CAUSAL:
        meta.update(window="sqrt_hann", floor_db=repr(float(module.config.get("floor_db", -80.0))),
                    mask_min=repr(float(module.mask_min)), history=str(graph.module.step.history),
                    hidden=str(graph.module.step.hidden))
    if note:
        meta["note"] = note
    import onnx

    with warnings.catch_warnings(), torch.no_grad(), atomic_output(dst) as tmp:
        warnings.simplefilter("ignore")  # tracer warnings about shape arithmetic, which the parity check covers
        try:
            proto = _traced(graph.module, graph)
            if graph.many_frames is not None:
                proto = join_by_frames(proto, _traced(graph.many_frames, graph))
        except Exception as exc:
            raise ModelError(f"cannot export {model.path} to ONNX: {str(exc).splitlines()[0][:200]}") from None
        _stamp(proto, meta)
        onnx.save(proto, str(tmp))
        _check_parity(str(tmp), graph, model.path)
    return meta


def _traced(module: torch.nn.Module, graph: Graph):
    """The ONNX model of ``module`` traced on the graph's first example, in memory."""
    import io

    import onnx

    buffer = io.BytesIO()
    torch.onnx.export(module.eval(), graph.examples[0], buffer, input_names=graph.inputs,
                      output_names=graph.outputs, dynamic_axes=graph.axes, opset_version=OPSET, dynamo=False)
    return onnx.load_from_string(buffer.getvalue())


def _stamp(proto, meta: dict[str, str]) -> None:
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = "sigdae model: " + json.dumps(meta, sort_keys=True)


def _check_parity(path: str, graph: Graph, source: str) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for example in graph.examples:
        want = graph.module(*example)
        want = [t.numpy() for t in (want if isinstance(want, tuple) else (want,))]
        got = session.run(None, {name: x.numpy() for name, x in zip(graph.inputs, example)})
        for g, w in zip(got, want):
            if g.shape != w.shape or abs(g - w).max() > PARITY_TOLERANCE:
                raise ModelError(f"the ONNX export of {source} does not reproduce the model "
                                 f"(shape {g.shape} vs {w.shape}); this model cannot be exported yet")
