"""``sigdae demo``: train, score and draw a small model on bundled data."""

from __future__ import annotations

import argparse

from sigdae.report import print_image_scores


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="train, evaluate and show a small model on bundled data",
                       description="Train the default conv DAE for a few minutes and the classic dense DAE for 3 "
                                   "epochs on MNIST, score both on the test set and draw a grid of digits.")
    p.add_argument("job", nargs="?", default="mnist", choices=["mnist"], help="the demo to run (mnist)")
    p.add_argument("--minutes", type=float, default=1.5, help="training budget for the conv model (default 1.5)")
    p.add_argument("--run-dir", default="runs/demo-mnist", help="where the demo's runs and grid go")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sigdae.demo import run_mnist_demo
    from sigdae.progress import ProgressDisplay

    result = run_mnist_demo(args.run_dir, minutes=args.minutes, device=args.device, listeners=[ProgressDisplay()])
    print_image_scores(f"MNIST test set ({result['images']} images), {result['corruption']}", result["scores"])
    print(f"grid (rows: clean, noisy, denoised): {result['grid']}")
    return 0
