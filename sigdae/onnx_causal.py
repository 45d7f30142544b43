"""The ONNX graph of a causal model's stream step, in two layouts joined by the number of frames.

A stream sends one or two frames a call, where the cost is the number of operations: the frame-row layout
of :mod:`sigdae.models.causal_step` (each dilated conv as one slice, product and sum per tap) is fastest
there. A file's chunk sends thousands, where the cost is arithmetic and memory: its channels-first
``columns``, with onnxruntime's own 1x1 and depthwise convolutions, takes about 30 % less time. The
exported graph holds both and picks by the input's frame count, so one file serves streams and files.
The interface is the same either way: log magnitudes ``(N, frames, bins)`` and the past
``(N, history, hidden)`` in, gains and the next past out.
"""

from __future__ import annotations

import numpy as np
import torch

from sigdae.models.causal_step import FrameStep

MANY_FRAMES = 32  # from this many frames a call, the channels-first layout is the faster one


class CausalRowsGraph(torch.nn.Module):
    """A causal model's stream step (``model.frame_step()``) in frame rows, the past of every block packed
    along time."""

    def __init__(self, step: FrameStep):
        super().__init__()
        self.step = step

    def forward(self, logmag: torch.Tensor, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gain, pasts = self.step(logmag, list(torch.split(past, self.step.spans, dim=1)), sliced=True)
        return gain, torch.cat(pasts, dim=1)


class CausalChannelsGraph(CausalRowsGraph):
    """The same step channels first (``FrameStep.columns``): every layer a convolution."""

    def forward(self, logmag: torch.Tensor, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gain, pasts = self.step.columns(logmag, list(torch.split(past.transpose(1, 2), self.step.spans, dim=2)))
        return gain, torch.cat(pasts, dim=2).transpose(1, 2)


def _branch(model, prefix: str, outer: set[str]):
    """A model's graph as an If branch: its values renamed under ``prefix`` but for the outer inputs."""
    import onnx
    from onnx import helper

    def name(value: str) -> str:
        return value if value in outer or not value else prefix + value

    def renamed(item):
        copy = type(item)()
        copy.CopyFrom(item)
        if isinstance(item, onnx.NodeProto):
            copy.name = prefix + item.name
            copy.input[:] = [name(v) for v in item.input]
            copy.output[:] = [name(v) for v in item.output]
        else:
            copy.name = name(item.name)
        return copy

    graph = model.graph
    return helper.make_graph([renamed(node) for node in graph.node], prefix.rstrip("/"), [],
                             [renamed(value) for value in graph.output],
                             initializer=[renamed(init) for init in graph.initializer])


def join_by_frames(few, many, threshold: int = MANY_FRAMES):
    """One ONNX model that runs ``many``'s graph when its input has at least ``threshold`` frames (axis 1)
    and ``few``'s below; both take the same inputs and give the same outputs."""
    import onnx
    from onnx import helper, numpy_helper

    outer = {value.name for value in few.graph.input}
    nodes = [
        helper.make_node("Shape", [few.graph.input[0].name], ["frames"], start=1, end=2),
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
