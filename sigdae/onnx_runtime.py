"""Run a model exported by :mod:`sigdae.onnx_export` with onnxruntime, as a module like a checkpoint's.

``sigdae.load_model("model.onnx")`` wraps :func:`open_onnx`'s module in a :class:`~sigdae.api.LoadedModel`,
so the Enhancer, the stream and ``sigdae denoise --model model.onnx`` use it as they use a PyTorch model.
The STFT around a spectral-mask graph, and the framing around a causal model's stream step, are computed
here exactly as the model does them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from sigdae.errors import CheckpointError, ModelError
from sigdae.models.causal_framing import CausalFraming

GRAPH_MASK = "stft_mask"  # magnitude -> gain; STFT outside the graph
GRAPH_DIRECT = "direct"   # the model's own input -> output
GRAPH_CAUSAL = "causal_mask"  # a causal model's stream step: log magnitudes and past -> gains and past


def require_onnx(*packages: str) -> None:
    """Raise a one-line ModelError unless the optional packages of ``sigdae[onnx]`` named (default: both
    onnx, to export, and onnxruntime, to run) can be imported."""
    import importlib.util

    missing = [name for name in packages or ("onnx", "onnxruntime") if importlib.util.find_spec(name) is None]
    if missing:
        raise ModelError(f"ONNX support needs {' and '.join(missing)}: pip install 'sigdae[onnx]'")


class OnnxGraph(torch.nn.Module):
    """An onnxruntime session as a module: tensors in, tensors out (on the CPU)."""

    def __init__(self, session, meta: dict[str, str]):
        super().__init__()
        self.session, self.meta = session, meta
        for key in ("time_multiple", "receptive_samples"):
            if key in meta and not hasattr(type(self), key):
                setattr(self, key, int(meta[key]))

    def run(self, x: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(x.detach().cpu().float().numpy())
        return torch.from_numpy(self.session.run(None, {"input": array})[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x)


class OnnxSpectralMask(OnnxGraph):
    """STFT -> the exported gain graph -> inverse STFT, as :class:`~sigdae.models.spectral.SpectralMask`."""

    def __init__(self, session, meta: dict[str, str]):
        super().__init__(session, meta)
        self.n_fft, self.hop = int(meta["n_fft"]), int(meta["hop"])
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(1)
        n, c, t = x.shape
        flat = x.reshape(n * c, t).float()
        spec = torch.stft(flat, self.n_fft, self.hop, window=self.window, center=True, return_complex=True)
        gain = self.run(spec.abs())
        out = torch.istft(spec * gain, self.n_fft, self.hop, window=self.window, center=True, length=t)
        return out.reshape(n, c, t).to(x.dtype)


class OnnxCausalMask(CausalFraming, OnnxGraph):
    """The exported stream step of a causal model inside the model's own framing
    (:mod:`sigdae.models.causal_framing`): the file path and the real-time stream, as the PyTorch model."""

    chunk_seconds = 30.0  # onnxruntime ran the bundled model's files fastest in 30 s chunks (of 15, 30, 60)

    def __init__(self, session, meta: dict[str, str]):
        OnnxGraph.__init__(self, session, meta)
        self.init_framing(int(meta["n_fft"]), int(meta["hop"]), float(meta["floor_db"]), float(meta["mask_min"]))
        self.past_shape = (int(meta["history"]), int(meta["hidden"]))

    def stream_start(self, batch: int) -> dict[str, np.ndarray]:
        return {"past": np.zeros((batch, *self.past_shape), np.float32)}

    def frame_gains(self, logmag: torch.Tensor, state: dict) -> torch.Tensor:
        gain, state["past"] = self.session.run(None, {"input": np.ascontiguousarray(logmag.cpu().numpy()),
                                                      "past": state["past"]})
        return torch.from_numpy(gain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stream_whole(x.unsqueeze(1) if x.dim() == 2 else x)


def _providers(device: str) -> list[str]:
    import onnxruntime as ort

    if device.startswith("cuda"):
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise CheckpointError(f"device '{device}' was asked for an ONNX model, but this onnxruntime has no "
                                  "CUDA support (install onnxruntime-gpu, or use the .pt checkpoint)")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def open_onnx(path: str | os.PathLike, device: str = "auto") -> OnnxGraph:
    """The module of an ONNX file written by ``sigdae export RUN model.onnx``, with the file's metadata as
    ``.meta``; it runs with torch's thread count."""
    require_onnx("onnxruntime")
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no such ONNX model: {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    providers = _providers(device)
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:
        raise CheckpointError(f"cannot read ONNX model {path}: {' '.join(str(exc).split())[:200]}") from None
    meta = dict(session.get_modelmeta().custom_metadata_map)
    kind = meta.get("sigdae_graph")
    modules = {GRAPH_MASK: OnnxSpectralMask, GRAPH_DIRECT: OnnxGraph, GRAPH_CAUSAL: OnnxCausalMask}
    if kind not in modules:
        raise CheckpointError(f"{path} is an ONNX file, but not one written by sigdae export")
    return modules[kind](session, meta)
