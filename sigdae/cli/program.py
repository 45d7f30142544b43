"""The ``sigdae`` program: the parser of every command, and the one place that turns errors into exit codes.

A :class:`~sigdae.errors.SigdaeError` (a mistake in what the user gave) or an OSError about a user's path
prints one line and exits with status 2; Ctrl+C exits with 130; any other exception is a bug and keeps
its traceback (exit status 1).
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from sigdae.cli.common import EXIT_USAGE, Parser
from sigdae.cli.corruptions import add_parser as add_corruptions
from sigdae.cli.demo import add_parser as add_demo
from sigdae.cli.denoise import add_parser as add_denoise
from sigdae.cli.evaluate import add_parser as add_eval
from sigdae.cli.experiment import add_parser as add_experiment
from sigdae.cli.export import add_parser as add_export
from sigdae.cli.listing import add_parsers as add_listings
from sigdae.cli.live import add_parser as add_live
from sigdae.cli.plot import add_parser as add_plot
from sigdae.cli.runs import add_parser as add_runs
from sigdae.cli.train import add_parser as add_train
from sigdae.cli.tui import add_parser as add_tui
from sigdae.errors import SigdaeError, UsageError
from sigdae.version import __version__

EXIT_INTERRUPTED = 130
USER_PATH_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="sigdae", description="Denoising autoencoders for images and sound.")
    parser.add_argument("--version", action="version", version=f"sigdae {__version__}")
    parser.set_defaults(handler=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for add in (add_train, add_eval, add_denoise, add_live, add_corruptions, add_listings, add_demo, add_export,
                add_experiment, add_plot, add_runs, add_tui):
        add(sub)
    return parser


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.handler is None:
        parser.print_help()
        return EXIT_USAGE
    threads = getattr(args, "threads", None)
    if threads is not None:
        if threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        import torch

        torch.set_num_threads(threads)
    return args.handler(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sigdae ARGV`` (``sys.argv[1:]`` by default); returns the exit status."""
    try:
        return _run(argv)
    except (SigdaeError, *USER_PATH_ERRORS) as exc:
        print(f"sigdae: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("sigdae: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
