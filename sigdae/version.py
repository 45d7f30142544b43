"""The version of sigdae (the package metadata in pyproject.toml carries the same number)."""

__version__ = "0.12.0"
