"""Built-in models. Importing this package registers them in ``MODELS``; ``build_model`` builds one by name."""

from __future__ import annotations

import inspect
import re
from typing import Any

from sigdae.models.base import Denoiser, ModelError
from sigdae.registry import MODELS

# built-in model modules (imported for their @MODELS.register side effect)
from sigdae.models import conv  # noqa: F401,E402
from sigdae.models import dense  # noqa: F401,E402
from sigdae.models import spectral  # noqa: F401,E402
from sigdae.models import vae  # noqa: F401,E402
from sigdae.models import stacked  # noqa: F401,E402
from sigdae.models import causal  # noqa: F401,E402

__all__ = ["MODELS", "Denoiser", "ModelError", "build_model"]

_BAD_KEYWORD = re.compile(r"unexpected keyword argument '([^']+)'")


def build_model(name: str, **config: Any) -> Denoiser:
    """Build the registered model ``name`` from keyword config; an unknown option is a one-line ModelError."""
    cls = MODELS.get(name)
    try:
        return cls(**config)
    except ModelError:
        raise
    except (TypeError, ValueError) as exc:  # an option of the wrong type or value, from a config file
        bad = _BAD_KEYWORD.search(str(exc))
        if bad is None:
            options = ", ".join(f"{k}={v!r}" for k, v in config.items())
            raise ModelError(f"model '{name}' cannot be built from {options[:200]}: {str(exc).splitlines()[0]}") from None
        try:
            options = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
        except (TypeError, ValueError):
            options = []
        known = f" (options: {', '.join(options)})" if options else ""
        raise ModelError(f"model '{name}': unknown option '{bad.group(1)}'{known}") from None
