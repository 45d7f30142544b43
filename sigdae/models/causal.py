"""A causal STFT mask estimator for low-latency use: calls, live monitoring, anything that cannot wait.

Each frame of a short STFT (20 ms window, 10 ms hop at 16 kHz) is masked by a gain computed from that
frame and the past only, by a temporal convolutional network (TCN: dilated depthwise-separable causal
convolutions over the log-magnitude frames, as in Conv-TasNet). An output sample depends on at most one
window of input after it (``lookahead_samples``) and a bounded past (``receptive_samples``), so:

* files are enhanced in chunks with context, exactly as the non-causal models are, and
* :meth:`CausalMask.stream` carries each layer's past in a state and takes any number of samples per
  call, at the cost of the new frames only: what real-time streaming needs. Its output equals
  :meth:`forward_raw` on the whole signal to float rounding.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sigdae.models.base import Denoiser, ModelError
from sigdae.models.causal_framing import CausalFraming
from sigdae.models.causal_step import BlockStep, FrameStep, norm_then_rows, rows, slope, tap_rows
from sigdae.models.spectral import as_waveforms
from sigdae.registry import MODELS


class CausalConv(nn.Module):
    """Depthwise conv + batch norm + PReLU along time, seeing the present and ``(kernel - 1) * dilation``
    past frames (zeros before a signal's start)."""

    def __init__(self, channels: int, kernel: int, dilation: int):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv1d(channels, channels, kernel, dilation=dilation, groups=channels),
                                    nn.BatchNorm1d(channels), nn.PReLU())
        self.span = (kernel - 1) * dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(F.pad(x, (self.span, 0)))


class TemporalBlock(nn.Module):
    """1x1 expand, causal depthwise conv, 1x1 project back, added to the input (batch norms sit right after
    the convs, so inference folds them in)."""

    def __init__(self, width: int, hidden: int, kernel: int, dilation: int):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv1d(width, hidden, 1), nn.BatchNorm1d(hidden), nn.PReLU())
        self.depthwise = CausalConv(hidden, kernel, dilation)
        self.project = nn.Conv1d(hidden, width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.project(self.depthwise(self.expand(x)))


@MODELS.register("causal_mask")
class CausalMask(CausalFraming, Denoiser):
    """Causal STFT mask estimator: a dilated causal TCN over log-magnitude frames predicts a gain per bin."""

    signal = "waveform"

    def __init__(self, n_fft: int = 320, hop: int = 160, width: int = 128, hidden: int = 256, layers: int = 6,
                 stacks: int = 2, kernel: int = 3, floor_db: float = -80.0, mask_min: float = 0.0):
        super().__init__(n_fft=n_fft, hop=hop, width=width, hidden=hidden, layers=layers, stacks=stacks,
                         kernel=kernel, floor_db=floor_db, mask_min=mask_min)
        if n_fft % 2 or hop < 1 or n_fft % hop:
            raise ModelError(f"causal_mask: n_fft must be even and a multiple of hop (got {n_fft}, {hop})")
        if min(width, hidden, layers, stacks) < 1 or kernel < 2:
            raise ModelError("causal_mask: width, hidden, layers and stacks must be >= 1 and kernel >= 2")
        if not 0.0 <= mask_min < 1.0:
            raise ModelError(f"causal_mask: mask_min must be in [0, 1), got {mask_min}")
        self.init_framing(n_fft, hop, floor_db, mask_min)
        bins = n_fft // 2 + 1
        self.inputs = nn.Sequential(nn.BatchNorm1d(bins), nn.Conv1d(bins, width, 1))
        self.blocks = nn.ModuleList(TemporalBlock(width, hidden, kernel, 2 ** i)
                                    for _ in range(stacks) for i in range(layers))
        self.outputs = nn.Sequential(nn.PReLU(), nn.Conv1d(width, bins, 1))

    @property
    def history_frames(self) -> int:
        return sum(block.depthwise.span for block in self.blocks)

    @property
    def receptive_samples(self) -> int:
        """How far back (in samples) an output depends on the input; its look-ahead is shorter."""
        return (self.history_frames + 1) * self.hop + self.n_fft

    def masked(self, frames: torch.Tensor) -> torch.Tensor:
        """Time frames (B, K, n_fft) -> enhanced windowed frames, in the training layout."""
        spec = torch.fft.rfft(frames * self.window, dim=-1).transpose(1, 2)  # (B, bins, K)
        x = self.inputs(torch.log(spec.abs() + self.floor))
        for block in self.blocks:
            x = block(x)
        gain = torch.sigmoid(self.outputs(x)).clamp_min(self.mask_min)
        out = torch.fft.irfft((spec * gain).transpose(1, 2), n=self.n_fft, dim=-1)
        return out * (self.window / self.gain)

    def forward_raw(self, x: torch.Tensor) -> torch.Tensor:
        x = as_waveforms(x, "causal_mask")
        return self.from_frames(self.masked(self.frames_of(x)), x)

    @torch.no_grad()
    def frame_step(self) -> FrameStep:
        """The network's weights prepared for streams (see ``causal_step``), read when called."""
        blocks = []
        for block in self.blocks:
            expand, expand_norm, expand_act = block.expand
            taps, taps_norm, taps_act = block.depthwise.layers
            blocks.append(BlockStep(*rows(expand, expand_norm), slope(expand_act), *tap_rows(taps, taps_norm),
                                    slope(taps_act), *rows(block.project), dilation=taps.dilation[0]))
        inputs_norm, inputs = self.inputs
        outputs_act, outputs = self.outputs
        return FrameStep(*norm_then_rows(inputs_norm, inputs), blocks, slope(outputs_act), *rows(outputs))

    def stream_start(self, batch: int) -> dict[str, Any]:
        """A stream holds the weights as they are at its start, prepared for frame-by-frame use (batch
        norms with their running statistics), and each block's past, zero."""
        step = self.frame_step()
        return {"step": step, "pasts": step.start(batch, self.window.device)}

    def frame_gains(self, logmag: torch.Tensor, state: dict[str, Any]) -> torch.Tensor:
        gain, state["pasts"] = state["step"](logmag, state["pasts"])
        return gain

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {"signal": "waveform (N, C, T); causal, works on a 20 ms STFT with a 10 ms hop"}
