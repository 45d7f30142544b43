"""``sigdae tui``: the terminal UI."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("tui", help="the terminal UI: launch, watch and preview runs")
    p.add_argument("--runs-dir", default="runs", help="the folder of runs to show and start (default: runs)")
    p.add_argument("--experiments-dir", help="the folder of experiment outputs to show and start "
                                              "(default: experiments, beside the runs folder)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sigdae.tui.app import run as run_app

    return run_app(runs_dir=args.runs_dir, experiments_dir=args.experiments_dir)
