"""``sigdae eval``: PSNR/SSIM of an image model on the MNIST test set, or speech metrics on pairs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sigdae.cli.common import add_json_flag
from sigdae.errors import UsageError
from sigdae.report import Column, print_image_scores, print_table

SPEECH_METRICS = {"si_sdr": "SI-SDR dB", "pesq_wb": "PESQ-WB", "stoi": "STOI"}


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="score a model: PSNR/SSIM on MNIST test, or speech metrics on pairs",
                       description="Score a model against clean references: an image model on the MNIST test "
                                   "set (PSNR, SSIM), a speech model on a folder of pairs (SI-SDR, and PESQ-WB "
                                   "and STOI with the metrics extra).")
    p.add_argument("model", metavar="RUN_OR_CHECKPOINT", help="run directory or checkpoint file")
    p.add_argument("--corruption", help="evaluate at this corruption instead of the training one")
    p.add_argument("--pairs", help="speech: folder of pairs (clean/ + noisy/)")
    p.add_argument("--limit", type=int, default=0, help="only the first N test items")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    add_json_flag(p, "the scores")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sigdae.api import load_model

    if args.limit < 0:
        raise UsageError(f"--limit must be 0 (all) or more, got {args.limit}")
    model = load_model(args.model, device=args.device)
    if args.pairs or model.signal == "waveform":
        if not args.pairs:
            raise UsageError("a speech model is scored on pairs: pass --pairs DIR (with clean/ and noisy/)")
        from sigdae.speech_eval import evaluate_pairs

        result = evaluate_pairs(model, args.pairs, args.limit)
        if args.json:
            print(json.dumps(result, indent=1))
        else:
            print_speech_scores(result)
        return 0
    from sigdae.evaluate import evaluate_mnist

    result = evaluate_mnist(model, args.corruption, args.limit)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    label = Path(result["model"]).parent.name or "model"
    print_image_scores(f"MNIST test ({result['images']} images), corruption {result['corruption']}",
                       [("noisy input", result["noisy"]), (label, result["denoised"])])
    return 0


def print_speech_scores(result: dict[str, Any]) -> None:
    keys = list(result["mean"]["noisy"])
    mean = result["mean"]
    rows = [(side, *(f"{mean[side][k]:.3f}" for k in keys)) for side in ("noisy", "enhanced")]
    rows.append(("gain", *(f"{mean['enhanced'][k] - mean['noisy'][k]:+.3f}" for k in keys)))
    print_table([Column(""), *(Column(SPEECH_METRICS.get(k, k), "right") for k in keys)], rows,
                title=f"{result['files']} pairs from {result['pairs']}  (RTF {result['rtf']:.4f})")
