"""``sigdae export``: an inference-only checkpoint of a run (optionally the mean of several runs' weights)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write an inference-only checkpoint of a run (to share or bundle)")
    p.add_argument("model", metavar="RUN_OR_CHECKPOINT", help="run directory or checkpoint file")
    p.add_argument("output", metavar="OUT.pt", help="the checkpoint to write")
    p.add_argument("--note", default="", help="a line stored with the weights (e.g. training data, licence)")
    p.add_argument("--average", action="append", default=[], metavar="RUN_OR_CHECKPOINT",
                   help="average the weights with this run's (repeatable; same architecture, e.g. runs "
                        "fine-tuned from one model with different seeds)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sigdae.checkpoint import export

    slim = export(args.model, args.output, args.note, average=args.average)
    averaged = f", the mean of {len(slim['averaged_from'])} checkpoints" if args.average else ""
    print(f"wrote {args.output}: {slim['model']['name']} for {slim.get('task', '?')}{averaged}, "
          f"{Path(args.output).stat().st_size / 1e6:.2f} MB")
    return 0
