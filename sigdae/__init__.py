"""sigdae: denoising autoencoders for images and sound.

    import sigdae
    model = sigdae.load_model("runs/mnist")        # .denoise(x)
    sigdae.train(sigdae.recipe("mnist"), run_dir="runs/mnist")
"""

from __future__ import annotations

from typing import Any

from sigdae.version import __version__

_EXPORTS = {
    "load_model": "sigdae.api",
    "LoadedModel": "sigdae.api",
    "train": "sigdae.train_api",
    "Trainer": "sigdae.trainer",
    "recipe": "sigdae.recipes",
    "Enhancer": "sigdae.enhance",
    "bundled_model_path": "sigdae.bundled",
    "StreamEnhancer": "sigdae.stream",
    "corruptions": None,
    "SigdaeError": "sigdae.errors",
}


def __getattr__(name: str) -> Any:  # lazy: `import sigdae` stays light (the TUI starts fast)
    import importlib

    if name not in _EXPORTS:
        raise AttributeError(f"module 'sigdae' has no attribute '{name}'")
    module = _EXPORTS[name]
    if module is None:
        return importlib.import_module(f"sigdae.{name}")
    return getattr(importlib.import_module(module), name)


__all__ = list(_EXPORTS)
