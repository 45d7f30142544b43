"""SI-SDR, PESQ-WB and STOI of a speech model on a folder of noisy/clean pairs (``sigdae eval --pairs``)."""

from __future__ import annotations

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
    """Enhance the noisy side of each pair (the first ``limit`` when given) and score it against the clean.

    Returns ``{"model", "pairs", "files", "mean": {"noisy": {...}, "enhanced": {...}}, "rtf", "per_file"}``;
    the scores are ``si_sdr`` and, with the ``metrics`` extra installed, ``pesq_wb`` and ``stoi``.
    """
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
