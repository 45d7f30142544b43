"""The ``sigdae`` command line: one module per command group; :func:`main` is the console script.

Below this package nothing sees argparse: each command module turns its arguments into calls of the
library and the results into output.
"""

from sigdae.cli.program import build_parser, main
from sigdae.cli.train import train_config

__all__ = ["main", "build_parser", "train_config"]
