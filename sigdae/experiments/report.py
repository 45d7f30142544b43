"""An experiment's output folder: ``report.md`` (what was run, tables, figures), ``results.json`` (every
number, for scripts and tests) and the PNG figures beside them."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Sequence

from sigdae.fileio import atomic_write_text


class Report:
    """Collects the parts of a report in order and writes them with :meth:`write`."""

    def __init__(self, out: str | os.PathLike, title: str, command: str):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.title = title
        self.command = command
        self.parts: list[str] = []
        self.figures: list[str] = []

    def path(self, name: str) -> Path:
        """Where a figure called ``name`` goes (inside the output folder)."""
        return self.out / name

    def text(self, paragraph: str) -> None:
        self.parts.append(paragraph.strip())

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> None:
        """A markdown table; ``align`` is one letter per column (l or r), numbers right by default."""
        align = align or "l" + "r" * (len(headers) - 1)
        lines = ["| " + " | ".join(headers) + " |",
                 "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
        lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
        self.parts.append("\n".join(lines))

    def figure(self, path: Path, caption: str) -> None:
        self.figures.append(path.name)
        self.parts.append(f"![{caption}]({path.name})\n\n*{caption}*")

    def write(self, results: dict[str, Any]) -> dict[str, Any]:
        """Write report.md and results.json; returns ``results`` with the figure names added."""
        results = {**results, "figures": list(self.figures)}
        body = "\n\n".join([f"# {self.title}", f"```bash\n{self.command}\n```", *self.parts])
        atomic_write_text(self.out / "report.md", body + "\n")
        atomic_write_text(self.out / "results.json", json.dumps(_finite(results), indent=1) + "\n")
        return results


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"
    return str(value).replace("|", "\\|")


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
