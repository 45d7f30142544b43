"""The ONNX graph of a causal model's stream step, in two layouts joined by the number of frames.

A stream sends one or two frames a call, where the cost is the number of operations: the frame-row layout
of :mod:`sigdae.models.causal_step` (each dilated conv as one slice, product and sum per tap) is fastest
there. A file's chunk sends thousands, where the cost is arithmetic and memory: channels first, with
onnxruntime's own 1x1 and depthwise convolutions, takes about 30 % less time. The exported graph holds
both and picks by the input's frame count, so one file serves streams and files. The interface is the
same either way: log magnitudes ``(N, frames, bins)`` and the past ``(N, history, hidden)`` in, gains
and the next past out.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

MANY_FRAMES = 32  # from this many frames a call, the channels-first layout is the faster one


class CausalRowsGraph(torch.nn.Module):
    """The stream step in frame rows, the past of every block packed along time."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.step = model.frame_step()

    def forward(self, logmag: torch.Tensor, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gain, pasts = self.step(logmag, list(torch.split(past, self.step.spans, dim=1)), sliced=True)
        return gain, torch.cat(pasts, dim=1)


class CausalChannelsGraph(CausalRowsGraph):
    """The same step channels first: every layer a convolution over (N, channels, frames)."""

    def forward(self, logmag: torch.Tensor, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        step = self.step
        x = F.conv1d(logmag.transpose(1, 2), step.inputs.T[:, :, None], step.inputs_bias)
        nexts = []
        for block, block_past in zip(step.blocks, torch.split(past.transpose(1, 2), step.spans, dim=2)):
            h = F.leaky_relu(F.conv1d(x, block.expand.T[:, :, None], block.expand_bias), block.expand_slope)
            joined = torch.cat([block_past, h], dim=2)
            taps = block.taps.T.unsqueeze(1)  # (hidden, 1, kernel)
            y = F.conv1d(joined, taps, block.taps_bias, dilation=block.dilation, groups=taps.shape[0])
            y = F.leaky_relu(y, block.taps_slope)
            x = F.conv1d(y, block.project.T[:, :, None], block.project_bias) + x
            nexts.append(joined[:, :, -block.span:])
        x = F.leaky_relu(x, step.output_slope)
        gain = torch.sigmoid(F.conv1d(x, step.outputs.T[:, :, None], step.outputs_bias))
        return gain.transpose(1, 2), torch.cat(nexts, dim=2).transpose(1, 2)


def _branch(model, prefix: str, outer: set[str]):
    """A model's graph as an If branch: its values renamed under ``prefix`` but for the outer inputs."""
    import onnx
    from onnx import helper

    def name(value: str) -> str:
        return value if value in outer or not value else prefix + value

    nodes = []
    for node in model.graph.node:
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = prefix + node.name
        copy.input[:] = [name(v) for v in node.input]
        copy.output[:] = [name(v) for v in node.output]
        nodes.append(copy)
    renamed = []
    for item in [*model.graph.initializer, *model.graph.output]:
        copy = type(item)()
        copy.CopyFrom(item)
        copy.name = name(item.name)
        renamed.append(copy)
    inits, outputs = renamed[:len(model.graph.initializer)], renamed[len(model.graph.initializer):]
    return helper.make_graph(nodes, prefix.rstrip("/"), [], outputs, initializer=inits)


def join_by_frames(few, many, threshold: int = MANY_FRAMES):
    """One ONNX model that runs ``many``'s graph when its input has at least ``threshold`` frames (axis 1)
    and ``few``'s below; both take the same inputs and give the same outputs."""
    import onnx
    from onnx import helper, numpy_helper

    outer = {value.name for value in few.graph.input}
    nodes = [
        helper.make_node("Shape", ["input"], ["frames"], start=1, end=2),
        helper.make_node("Constant", [], ["fewest_many"], value=numpy_helper.from_array(
            np.array([threshold], np.int64))),
        helper.make_node("GreaterOrEqual", ["frames", "fewest_many"], ["many_frames_1"]),
        helper.make_node("Squeeze", ["many_frames_1"], ["many_frames"]),
        helper.make_node("If", ["many_frames"], [value.name for value in few.graph.output],
                         then_branch=_branch(many, "many/", outer), else_branch=_branch(few, "few/", outer)),
    ]
    graph = helper.make_graph(nodes, "causal_step", list(few.graph.input), list(few.graph.output))
    joined = helper.make_model(graph, opset_imports=list(few.opset_import), producer_name=few.producer_name)
    joined.ir_version = few.ir_version
    onnx.checker.check_model(joined)
    return joined
