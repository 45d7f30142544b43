"""``python -m sigdae``: the same as the ``sigdae`` command."""

import sys

from sigdae.cli.program import main

sys.exit(main())
