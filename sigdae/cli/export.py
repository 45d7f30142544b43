"""``sigdae export``: an inference-only checkpoint of a run (optionally the mean of several runs' weights),
or an ONNX model to run with onnxruntime alone when OUT ends in ``.onnx``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sigdae.errors import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write an inference-only checkpoint (OUT.pt) or ONNX model (OUT.onnx) "
                                      "of a run",
                       description="Write an inference-only copy of a run's model: a checkpoint (OUT.pt) to share "
                                   "or bundle, or an ONNX model (OUT.onnx) to run with onnxruntime without PyTorch "
                                   "(needs pip install 'sigdae[onnx]').")
    p.add_argument("model", metavar="RUN_OR_CHECKPOINT", help="run directory or checkpoint file")
    p.add_argument("output", metavar="OUT", help="the file to write: OUT.pt (checkpoint) or OUT.onnx (ONNX)")
    p.add_argument("--note", default="", help="a line stored with the weights (e.g. training data, licence)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.add_argument("--average", action="append", default=[], metavar="RUN_OR_CHECKPOINT",
                   help="average the weights with this run's (repeatable; same architecture, e.g. runs "
                        "fine-tuned from one model with different seeds)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if Path(args.output).exists() and not args.overwrite:
        raise UsageError(f"{args.output} exists: pass --overwrite to replace it")
    if args.output.lower().endswith(".onnx"):
        return _run_onnx(args)
    from sigdae.checkpoint import export

    slim = export(args.model, args.output, args.note, average=args.average)
    averaged = f", the mean of {len(slim['averaged_from'])} checkpoints" if args.average else ""
    print(f"wrote {args.output}: {slim['model']['name']} for {slim.get('task', '?')}{averaged}, "
          f"{Path(args.output).stat().st_size / 1e6:.2f} MB")
    return 0


def _run_onnx(args: argparse.Namespace) -> int:
    from sigdae.onnx_export import export_onnx

    if args.average:
        raise UsageError("--average writes a checkpoint: export the average to a .pt file first, then that file "
                         "to .onnx")
    meta = export_onnx(args.model, args.output, args.note)
    graph = {"stft_mask": "the network (STFT outside the graph)",
             "causal_mask": "its stream step, frame by frame (STFT outside the graph)"}.get(meta["sigdae_graph"],
                                                                                          "the whole model")
    print(f"wrote {args.output}: {meta['model']} for {meta.get('task') or '?'}, {graph}, "
          f"{Path(args.output).stat().st_size / 1e6:.2f} MB")
    return 0
