"""sigdae's errors: one family, so the CLI can tell a user's mistake from a bug.

Every error sigdae raises about what a user gave it (arguments, configs, files, checkpoints, plugins)
is a :class:`SigdaeError` with a one-line message; the CLI prints it and exits with status 2. Any other
exception is a bug and keeps its traceback. Each subclass also derives from the built-in it replaced
(``ValueError`` or ``LookupError``), so ``except ValueError`` around sigdae calls keeps working.
"""

from __future__ import annotations


class SigdaeError(Exception):
    """Something the user gave sigdae is wrong; the message is one readable line."""


class UsageError(SigdaeError, ValueError):
    """Bad command-line input."""


class ConfigError(SigdaeError, ValueError):
    """A config file, recipe or override is invalid."""


class DataError(SigdaeError, ValueError):
    """A data set, folder or input file cannot be used."""


class AudioError(DataError):
    """An audio file cannot be read or written, or audio data is malformed."""


class ImageError(DataError):
    """An image file cannot be read or written, or image data is malformed."""


class CheckpointError(SigdaeError, ValueError):
    """A checkpoint or run directory cannot be loaded."""


class ModelError(SigdaeError, ValueError):
    """A model's options are invalid or its input does not fit it."""


class CorruptionError(SigdaeError, ValueError):
    """A corruption spec or its parameters are invalid."""


class LossError(ConfigError):
    """A loss spec is invalid."""


class PluginError(SigdaeError, LookupError):
    """A registered name is unknown, taken twice, or its plugin failed to load."""


class RunError(SigdaeError, RuntimeError):
    """A run directory is busy, missing, or in a state that forbids the action."""


class TrainingError(SigdaeError, RuntimeError):
    """Training cannot go on (e.g. the loss became non-finite); the last good checkpoint is kept."""
