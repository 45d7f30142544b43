"""The classic denoising-autoencoder experiments, one command each (``sigdae experiment NAME``).

Each trains small MNIST models with the Trainer (in memory), scores them on the MNIST test set and writes
``report.md``, ``results.json`` and PNG figures into one folder. ``size="quick"`` (``--quick``) trains on
a subset for a few epochs; ``size="full"`` is what the documentation shows.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path
from typing import Any

from sigdae.errors import UsageError

# name -> module under sigdae.experiments (each has SUMMARY and run(settings, report))
EXPERIMENTS = {
    "noise-sweep": "noise_sweep",
    "noise-types": "noise_types",
    "light-vs-heavy": "light_vs_heavy",
    "anomaly": "anomaly",
    "pca": "pca",
    "features": "features",
    "vae-samples": "vae_samples",
}


def experiment_module(name: str) -> Any:
    if name not in EXPERIMENTS:
        raise UsageError(f"unknown experiment '{name}' (known: {', '.join(EXPERIMENTS)})")
    return importlib.import_module(f"sigdae.experiments.{EXPERIMENTS[name]}")


def summaries() -> dict[str, str]:
    """Experiment name -> what it shows, in one line."""
    return {name: experiment_module(name).SUMMARY for name in EXPERIMENTS}


def command_line(name: str, size: str) -> str:
    return f"sigdae experiment {name}" + (" --quick" if size == "quick" else "")


def run_experiment(name: str, out: str | os.PathLike, size: str = "full", *, device: str = "cpu", seed: int = 0,
                   log=None) -> dict[str, Any]:
    """Run experiment ``name`` at ``size`` ("quick" or "full") into the folder ``out``; returns its results
    (also in ``out/results.json``). ``log`` receives progress lines."""
    from sigdae.experiments.common import Settings, get_size
    from sigdae.experiments.report import Report

    module = experiment_module(name)
    settings = Settings(get_size(size), device=device, seed=seed, log=log or (lambda line: None))
    report = Report(Path(out), f"Experiment: {name}" + (" (quick size)" if size == "quick" else ""),
                    command_line(name, size))
    started = time.perf_counter()
    results = module.run(settings, report)
    seconds = time.perf_counter() - started
    report.text(f"Size `{size}`, seed {seed}, device `{device}`; the run took {seconds:.0f} s.")
    return report.write({"experiment": name, "size": size, "seed": seed, "device": device,
                         "seconds": round(seconds, 1), **results})
