"""``sigdae eval MODEL --pairs DIR``: SI-SDR, PESQ-WB and STOI of a speech model on noisy/clean pairs."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import torch

from sigdae.api import LoadedModel
from sigdae.metrics import si_sdr


def _optional_scores(estimate: torch.Tensor, clean: torch.Tensor, rate: int) -> dict[str, float]:
    """PESQ-WB and STOI when the ``metrics`` extra is installed; nothing otherwise."""
    from sigdae import metrics

    scores = {}
    for key, fn in (("pesq_wb", lambda: metrics.pesq_wb(estimate, clean, rate)),
                    ("stoi", lambda: metrics.stoi(estimate, clean, rate))):
        try:
            scores[key] = float(fn())
        except ImportError:
            continue
        except Exception:  # PESQ refuses silent or too-short files; leave that file's score out
            continue
    return scores


def evaluate_pairs(model: LoadedModel, root: str, limit: int = 0) -> dict[str, Any]:
    from sigdae.datasets.speech import PairedFolders
    from sigdae.enhance import Enhancer

    rate = int(model.sample_rate or 16000)
    pairs = PairedFolders(root, sample_rate=rate)
    enhancer = Enhancer(model)
    rows, seconds, audio_seconds = [], 0.0, 0.0
    for i in range(min(len(pairs), limit or len(pairs))):
        noisy, clean = pairs.pair(i)
        started = time.perf_counter()
        enhanced = enhancer.enhance_tensor(noisy, rate)
        seconds += time.perf_counter() - started
        audio_seconds += noisy.shape[-1] / rate
        row = {"file": pairs.names[i]}
        for side, signal in (("noisy", noisy), ("enhanced", enhanced)):
            row[side] = {"si_sdr": float(si_sdr(signal[0], clean[0])), **_optional_scores(signal[0], clean[0], rate)}
        rows.append(row)
    means = {side: {k: sum(r[side][k] for r in rows if k in r[side]) / max(1, sum(k in r[side] for r in rows))
                    for k in rows[0][side]} for side in ("noisy", "enhanced")}
    return {"model": model.path, "pairs": root, "files": len(rows), "mean": means,
            "rtf": seconds / max(audio_seconds, 1e-9), "per_file": rows}


def evaluate_pairs_command(model: LoadedModel, args: argparse.Namespace) -> int:
    if not args.pairs:
        raise ValueError("a speech model is scored on pairs: pass --pairs DIR (with clean/ and noisy/)")
    result = evaluate_pairs(model, args.pairs, args.limit)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['files']} pairs from {args.pairs}  (RTF {result['rtf']:.4f})")
    keys = list(result["mean"]["noisy"])
    table.add_column("")
    for key in keys:
        table.add_column({"si_sdr": "SI-SDR dB", "pesq_wb": "PESQ-WB", "stoi": "STOI"}[key], justify="right")
    for side in ("noisy", "enhanced"):
        table.add_row(side, *(f"{result['mean'][side][k]:.3f}" for k in keys))
    table.add_row("gain", *(f"{result['mean']['enhanced'][k] - result['mean']['noisy'][k]:+.3f}" for k in keys))
    Console().print(table)
    return 0
