"""The causal model's stream step, with its weights prepared once per stream.

A 10 ms stream block holds one or two frames, so the cost of a step is the number of tensor operations,
not arithmetic. The step therefore works on frames laid out as rows (B, K, C): batch norms are folded
into the 1x1 convs next to them, each 1x1 conv is one ``addmm``, and a dilated depthwise conv is one
product and sum over a strided view of its past. The result equals the training layout's to float
rounding; batch norms use their running statistics, as in evaluation.

``columns`` runs the same step channels first, (B, C, K), every layer a convolution: slower for one or two
frames, faster for many, where the cost is arithmetic rather than the number of operations (the ONNX
export holds both; see :mod:`sigdae.onnx_causal`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def norm_affine(norm: nn.Module | None, channels: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch norm in evaluation as ``x * scale + shift`` (None or an ``nn.Identity``, left by a fused
    checkpoint, as 1 and 0)."""
    if not isinstance(norm, nn.modules.batchnorm._BatchNorm):
        return like.new_ones(channels), like.new_zeros(channels)
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -norm.running_mean * scale
    if norm.bias is not None:
        shift = shift + norm.bias
    return scale, shift


def folded(conv: nn.Conv1d, norm: nn.Module | None) -> tuple[torch.Tensor, torch.Tensor]:
    """A conv's weight and bias with the batch norm that follows it (if any) folded in."""
    scale, shift = norm_affine(norm, conv.out_channels, conv.weight)
    return conv.weight * scale[:, None, None], conv.bias * scale + shift


def rows(conv: nn.Conv1d, norm: nn.Module | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A 1x1 conv (and the batch norm after it) as (C_in, C_out) matrix and bias, for ``addmm`` on rows."""
    weight, bias = folded(conv, norm)
    return weight[:, :, 0].T.contiguous(), bias


def tap_rows(conv: nn.Conv1d, norm: nn.Module | None) -> tuple[torch.Tensor, torch.Tensor]:
    """A depthwise conv (and the batch norm after it) as (kernel, C) taps, oldest first, and bias."""
    weight, bias = folded(conv, norm)
    return weight[:, 0, :].T.contiguous(), bias


def norm_then_rows(norm: nn.Module, conv: nn.Conv1d) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch norm followed by a 1x1 conv as (C_in, C_out) matrix and bias, for ``addmm`` on rows."""
    scale, shift = norm_affine(norm, conv.in_channels, conv.weight)
    weight = conv.weight[:, :, 0]
    return (weight * scale[None, :]).T.contiguous(), conv.bias + weight @ shift


def slope(act: nn.PReLU) -> float:
    """A single-slope PReLU's slope, to run it as a leaky ReLU: onnxruntime's PRelu broadcasts a slope
    tensor element by element, several times slower."""
    return float(act.weight)


@dataclass
class BlockStep:
    """One temporal block: expand (1x1), PReLU, causal depthwise conv, PReLU, project (1x1), residual."""

    expand: torch.Tensor
    expand_bias: torch.Tensor
    expand_slope: float
    taps: torch.Tensor  # (kernel, hidden), oldest tap first
    taps_bias: torch.Tensor
    taps_slope: float
    project: torch.Tensor
    project_bias: torch.Tensor
    dilation: int

    @property
    def span(self) -> int:
        """Past frames the depthwise conv sees."""
        return (self.taps.shape[0] - 1) * self.dilation

    def __call__(self, x: torch.Tensor, past: torch.Tensor, sliced: bool = False) -> tuple[torch.Tensor,
                                                                                          torch.Tensor]:
        """Rows (B, K, width) and this block's past (B, span, hidden) -> rows and the new past. ``sliced``
        computes the depthwise conv from one slice per tap, which ONNX export can follow for any K; the
        default, one strided view, costs fewer operations."""
        b, k, width = x.shape
        h = torch.addmm(self.expand_bias, x.reshape(b * k, width), self.expand).view(b, k, -1)
        h = F.leaky_relu(h, self.expand_slope)
        joined = torch.cat([past, h], dim=1)
        if sliced:
            y = self.taps_bias
            for tap, weight in enumerate(self.taps):
                start = tap * self.dilation
                y = torch.addcmul(y, joined[:, start:start - self.span or None], weight)
        else:
            seen = joined.unfold(1, self.span + 1, 1)[..., ::self.dilation]  # (B, K, hidden, kernel)
            y = (seen * self.taps.T).sum(-1) + self.taps_bias
        y = F.leaky_relu(y, self.taps_slope)
        out = torch.addmm(self.project_bias, y.reshape(b * k, -1), self.project).view(b, k, width)
        return out.add_(x), joined[:, -self.span:]

    def columns(self, x: torch.Tensor, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """As a call, channels first: (B, width, K) and the past (B, hidden, span)."""
        h = F.leaky_relu(F.conv1d(x, self.expand.T[:, :, None], self.expand_bias), self.expand_slope)
        joined = torch.cat([past, h], dim=2)
        taps = self.taps.T.unsqueeze(1)  # (hidden, 1, kernel)
        y = F.conv1d(joined, taps, self.taps_bias, dilation=self.dilation, groups=taps.shape[0])
        y = F.leaky_relu(y, self.taps_slope)
        return F.conv1d(y, self.project.T[:, :, None], self.project_bias) + x, joined[:, :, -self.span:]


@dataclass
class FrameStep:
    """The whole network per frame: log magnitude in, gain per bin out."""

    inputs: torch.Tensor
    inputs_bias: torch.Tensor
    blocks: list[BlockStep]
    output_slope: float
    outputs: torch.Tensor
    outputs_bias: torch.Tensor

    @property
    def spans(self) -> list[int]:
        """Past frames each block keeps."""
        return [block.span for block in self.blocks]

    @property
    def history(self) -> int:
        """Past frames of all blocks together (the ONNX graph's ``past`` packs them along time)."""
        return sum(self.spans)

    @property
    def hidden(self) -> int:
        """Channels of each block's past."""
        return self.blocks[0].taps.shape[1]

    def start(self, batch: int, device: torch.device | str = "cpu") -> list[torch.Tensor]:
        """Each block's past at a stream's start: zeros."""
        return [torch.zeros(batch, span, self.hidden, device=device) for span in self.spans]

    def __call__(self, logmag: torch.Tensor, pasts: list[torch.Tensor], sliced: bool = False) -> tuple[
            torch.Tensor, list]:
        """(B, K, bins) log magnitudes and each block's past -> (B, K, bins) gains and the new pasts."""
        b, k, bins = logmag.shape
        x = torch.addmm(self.inputs_bias, logmag.reshape(b * k, bins), self.inputs).view(b, k, -1)
        new_pasts = []
        for block, past in zip(self.blocks, pasts):
            x, past = block(x, past, sliced)
            new_pasts.append(past)
        x = F.leaky_relu(x, self.output_slope)
        gain = torch.addmm(self.outputs_bias, x.reshape(b * k, -1), self.outputs).view(b, k, bins)
        return torch.sigmoid(gain), new_pasts

    def columns(self, logmag: torch.Tensor, pasts: list[torch.Tensor]) -> tuple[torch.Tensor, list]:
        """As a call, channels first inside: (B, K, bins) log magnitudes and each block's past laid out
        (B, hidden, span) -> (B, K, bins) gains and the new pasts, laid out the same."""
        x = F.conv1d(logmag.transpose(1, 2), self.inputs.T[:, :, None], self.inputs_bias)
        new_pasts = []
        for block, past in zip(self.blocks, pasts):
            x, past = block.columns(x, past)
            new_pasts.append(past)
        x = F.leaky_relu(x, self.output_slope)
        gain = F.conv1d(x, self.outputs.T[:, :, None], self.outputs_bias)
        return torch.sigmoid(gain).transpose(1, 2), new_pasts
