"""One look for every figure: the Agg backend, a readable size at README width, and a compact PNG."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DPI = 100
FONT_SIZE = 10


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (imported here, on first use)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": FONT_SIZE, "axes.grid": False, "figure.dpi": DPI,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def new_figure(width: float = 6.4, height: float = 4.2, ncols: int = 1, nrows: int = 1) -> tuple[Any, Any]:
    """(figure, axes) of ``width`` x ``height`` inches."""
    plt = pyplot()
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=True, layout="constrained")
    return fig, axes


def save(fig: Any, path: str | os.PathLike) -> Path:
    """Write ``fig`` as a PNG (parent folders created) and close it; returns the path."""
    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    plt.close(fig)
    _compact(path)
    return path


def _compact(path: Path) -> None:
    """Re-encode as a 256-colour palette PNG: a third to a tenth of the size, no visible change in a chart."""
    from PIL import Image

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(path, format="PNG", optimize=True)
