"""The Python API's ``sigdae.train``: a :class:`~sigdae.trainer.Trainer` with overrides and a progress display."""

from __future__ import annotations

import copy
import os
import sys
from typing import Any

from sigdae.runs import Listener
from sigdae.trainer import Trainer


def train(config: dict[str, Any], run_dir: str | os.PathLike | None = None, *, resume: bool = False,
          epochs: int | None = None, max_minutes: float | None = None, progress: bool | None = None,
          listeners: list[Listener] | None = None) -> dict[str, Any]:
    """Train a model from a run config and return a summary dict (status, epochs, steps, best, ...).

    ``config`` is a recipe (``sigdae.recipe("mnist")``) or any dict of the same shape (see
    docs/configuration.md). ``run_dir`` receives the config, event log, checkpoints and preview; without
    it nothing is written (the model lives only in memory). ``epochs`` and ``max_minutes`` override the
    config's ``[train]`` settings. ``progress`` shows a progress display on stderr (default: when stderr
    is a terminal). ``resume`` continues the run in ``run_dir`` from its ``last.pt``.

        summary = sigdae.train(sigdae.recipe("mnist"), "runs/mnist", max_minutes=2)
        model = sigdae.load_model("runs/mnist")
    """
    config = copy.deepcopy(config)
    for key, value in (("epochs", epochs), ("max_minutes", max_minutes)):
        if value is not None:
            config.setdefault("train", {})[key] = value
    listeners = list(listeners or [])
    if progress or (progress is None and sys.stderr.isatty()):
        from sigdae.progress import ProgressDisplay

        listeners.append(ProgressDisplay())
    return Trainer(config, run_dir, listeners=listeners, resume=resume).fit()
