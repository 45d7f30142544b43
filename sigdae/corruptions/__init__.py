"""Corruptions: the contract, composition, specs and the built-in noise types.

``sigdae.corruptions.get("gaussian")(std=0.3)`` or ``sigdae.corruptions.parse("gaussian(std=0.3)")``.
Other packages add types through the ``sigdae.corruptions`` entry-point group.
"""

from sigdae.corruptions.base import Corruption, CorruptionError, Param, Params, SIGNAL_KINDS
from sigdae.corruptions.compose import Chain, OneOf
from sigdae.corruptions.spec import from_config, parse
from sigdae.corruptions import image as _image  # noqa: F401  (registers the image built-ins)
from sigdae.corruptions import audio as _audio  # noqa: F401  (registers the audio built-ins)
from sigdae.registry import CORRUPTIONS
from sigdae.values import format_value


def get(name: str) -> type[Corruption]:
    return CORRUPTIONS.get(name)


def names(pattern: str | None = None) -> list[str]:
    return CORRUPTIONS.list(pattern)


__all__ = ["Corruption", "CorruptionError", "Param", "Params", "SIGNAL_KINDS", "Chain", "OneOf",
           "parse", "from_config", "format_value", "get", "names", "CORRUPTIONS"]
