"""``sigdae experiment NAME``: one of the classic DAE experiments, written as a report with figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub) -> None:
    from sigdae.experiments import EXPERIMENTS

    p = sub.add_parser("experiment", help="run a classic DAE experiment and write its report and figures",
                       description="Train small MNIST models and write OUT/report.md, OUT/results.json and PNG "
                                   "figures. `sigdae experiment list` names the experiments.")
    p.add_argument("name", metavar="NAME", choices=[*EXPERIMENTS, "list"],
                   help=f"one of: {', '.join(EXPERIMENTS)}; or 'list'")
    p.add_argument("--quick", action="store_true", help="small models on a subset: minutes instead of tens of minutes")
    p.add_argument("--out", help="output folder (default: experiments/NAME, or experiments/NAME-quick)")
    p.add_argument("--device", default="cpu", help="cpu (default), auto, cuda, cuda:N or mps")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    p.set_defaults(handler=run)


def default_out(name: str, quick: bool) -> Path:
    return Path("experiments") / (f"{name}-quick" if quick else name)


def run(args: argparse.Namespace) -> int:
    from sigdae.experiments import run_experiment, summaries

    if args.name == "list":
        for name, summary in summaries().items():
            print(f"{name}\t{summary}")
        return 0
    out = Path(args.out) if args.out else default_out(args.name, args.quick)
    results = run_experiment(args.name, out, "quick" if args.quick else "full", device=args.device, seed=args.seed,
                             log=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"{out / 'report.md'}  ({len(results['figures'])} figures, {results['seconds']:.0f} s)")
    return 0
