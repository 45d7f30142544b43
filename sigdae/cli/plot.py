"""``sigdae plot RUN [RUN ...]``: a run's loss and metric curves as a PNG (several runs overlaid), and its
preview: spectrograms for a speech run, digits for an image run."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("plot", help="draw the training curves of runs (and a run's preview) as PNG",
                       description="Draw training loss against step and the monitored validation metric against "
                                   "epoch, one line per run. With one run, its last preview is drawn too "
                                   "(clean/noisy/denoised spectrograms for speech, digits for images).")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories")
    p.add_argument("--out", help="PNG of the curves (default: RUN/curves.png for one run, curves.png for several)")
    p.add_argument("--no-preview", action="store_true", help="only the curves")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sigdae.plots.runs import plot_curves, plot_preview
    from sigdae.runs import RunDir

    single = len(args.runs) == 1
    out = Path(args.out) if args.out else (Path(args.runs[0]) / "curves.png" if single else Path("curves.png"))
    written = [plot_curves(args.runs, out)]
    if single and not args.no_preview and RunDir(args.runs[0]).preview_file.is_file():
        written.append(plot_preview(args.runs[0], out.with_name(f"{out.stem}-preview.png")))
    for path in written:
        print(path)
    return 0
