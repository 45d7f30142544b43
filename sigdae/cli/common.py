"""What every command module shares: the parser class that turns argparse's complaints into one line."""

from __future__ import annotations

import argparse

from sigdae.errors import UsageError

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a :class:`UsageError` (one line), not a usage block and exit."""

    def error(self, message: str) -> None:
        raise UsageError(f"{message} (see {self.prog} --help)")

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("action", _Commands)
        return super().add_subparsers(**kwargs)


class _Commands(argparse._SubParsersAction):
    """Sub-commands whose ``--help`` shows a description: their one-line help where none is given."""

    def add_parser(self, name, **kwargs):
        if kwargs.get("description") is None and kwargs.get("help"):
            kwargs["description"] = kwargs["help"][0].upper() + kwargs["help"][1:] + "."
        return super().add_parser(name, **kwargs)


def add_json_flag(parser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON (for scripts)")
