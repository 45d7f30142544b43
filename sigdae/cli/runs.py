"""``sigdae runs list|stop|resume|export``: the runs in a folder, from the shell (the TUI does the same)."""

from __future__ import annotations

import argparse
import time

from sigdae.cli.common import add_json_flag
from sigdae.cli.listing import print_listing
from sigdae.errors import UsageError

LIST_FIELDS = {"name": "name", "status": "status", "task": "task", "model": "model", "epoch": "epoch",
               "best": "best", "updated": "updated"}


def add_parser(sub) -> None:
    p = sub.add_parser("runs", help="list, stop, resume and export the runs in a folder")
    p.set_defaults(handler=run_list, runs_dir="runs", json=False)
    rsub = p.add_subparsers(dest="action", metavar="ACTION", help="list (the default), stop, resume or export")
    q = rsub.add_parser("list", help="the runs in a folder, newest first, with their status")
    q.add_argument("runs_dir", nargs="?", default="runs", help="the folder of runs (default: runs)")
    add_json_flag(q, "the runs")
    q.set_defaults(handler=run_list)
    q = rsub.add_parser("stop", help="ask a live run to stop (it saves last.pt first)")
    q.add_argument("run", help="the run's folder")
    q.set_defaults(handler=run_stop)
    q = rsub.add_parser("resume", help="continue a stopped run in the background (its output goes to train.log)")
    q.add_argument("run", help="the run's folder")
    q.set_defaults(handler=run_resume)
    q = rsub.add_parser("export", help="write a run's epochs as CSV, from its event log")
    q.add_argument("run", help="the run's folder")
    q.add_argument("--csv", action="store_true", required=True, help="CSV of epochs (the one format for now)")
    q.add_argument("--out", help="the CSV file (default: RUN/epochs.csv)")
    q.set_defaults(handler=run_export)


def _run(path: str):
    from sigdae.runs import RunDir

    run = RunDir(path)
    if not run.is_run():
        raise UsageError(f"{path}: not a run directory")
    return run


def run_list(args: argparse.Namespace) -> int:
    from sigdae.runs import scan_runs

    items = [{"name": r.name, "path": str(r.path), "status": r.status, "task": r.task, "model": r.model,
              "epoch": r.epoch, "best": "" if r.best is None else f"{r.best:.3f}", "monitor": r.monitor,
              "updated": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.updated))}
             for r in scan_runs(args.runs_dir)]
    print_listing(items, LIST_FIELDS, as_json=args.json, title=f"runs in {args.runs_dir}")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    from sigdae.runs import request_stop

    if not request_stop(_run(args.run).path):
        raise UsageError(f"{args.run} is not running")
    print(f"asked {args.run} to stop; it saves last.pt first")
    return 0


def run_resume(args: argparse.Namespace) -> int:
    from sigdae.runs import resume_run

    pid = resume_run(_run(args.run).path)
    print(f"resumed {args.run} in the background (pid {pid}); its output goes to {args.run}/train.log")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from sigdae.runs.loggers import export_csv

    print(f"wrote {export_csv(_run(args.run), args.out)}")
    return 0
