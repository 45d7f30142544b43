"""The pretrained models shipped in ``sigdae.assets``, by name: ``speech`` (the default, best quality) and
``realtime`` (causal, 20 ms latency, for calls and live audio). Anywhere a model path is taken, a bundled
name works too, unless a file or folder of that name exists."""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

BUNDLED_MODELS = {"speech": "speech16k.pt", "realtime": "realtime16k.pt"}
DEFAULT_MODEL = "speech"


def bundled_model_path(name: str = DEFAULT_MODEL) -> Path:
    """The file of the bundled model ``name`` (``speech`` or ``realtime``)."""
    from sigdae.errors import CheckpointError

    if name not in BUNDLED_MODELS:
        raise CheckpointError(f"no bundled model '{name}' (bundled: {', '.join(BUNDLED_MODELS)})")
    path = Path(str(importlib.resources.files("sigdae.assets") / BUNDLED_MODELS[name]))
    if not path.is_file():
        raise CheckpointError(f"the bundled model {BUNDLED_MODELS[name]} is missing from {path.parent}; "
                              "pass --model RUN_DIR_OR_CHECKPOINT")
    return path


def resolve(model: str | os.PathLike) -> str | os.PathLike:
    """A bundled model's path for its name (when no file or folder has that name), else ``model``."""
    if isinstance(model, str) and model in BUNDLED_MODELS and not os.path.exists(model):
        return bundled_model_path(model)
    return model
