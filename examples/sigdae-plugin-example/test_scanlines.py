"""What a plugin author runs: sigdae's contract check on their corruption."""

from sigdae.testing import check_corruption
from sigdae_plugin_example import ScanLines


def test_scanlines_keeps_the_contract():
    check_corruption(ScanLines, fraction=0.3)
