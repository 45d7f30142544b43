"""Tables for people and for scripts: a Rich table on a terminal, plain aligned text when the output is a
pipe or a file (nothing cut, nothing wrapped), or Markdown for reports.

Every results table sigdae prints (``sigdae eval``, ``sigdae demo``, the benchmarks) goes through
:func:`print_table` or :func:`markdown_table`; cells are printed literally (no Rich markup).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any, Sequence, Union


@dataclass(frozen=True)
class Column:
    title: str
    justify: str = "left"  # "left" or "right"


ColumnSpec = Union[str, Column]


def _columns(columns: Sequence[ColumnSpec]) -> list[Column]:
    return [c if isinstance(c, Column) else Column(c) for c in columns]


def console(file: IO[str] | None = None):
    """A Rich console on ``file`` (default: standard output as it is at the time of the call)."""
    from rich.console import Console

    return Console(file=file, soft_wrap=True)  # piped or redirected output keeps whole lines


def rich_table(columns: Sequence[ColumnSpec], rows: Sequence[Sequence[Any]], title: str | None = None):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title) if title else None)
    for column in _columns(columns):
        table.add_column(Text(column.title), justify=column.justify)
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    return table


def plain_table(columns: Sequence[ColumnSpec], rows: Sequence[Sequence[Any]], title: str | None = None,
                indent: str = "") -> str:
    """Columns aligned with two spaces between them; a title line and a header line above the rows."""
    cols = _columns(columns)
    cells = [[c.title for c in cols], *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(cols))]
    lines = [title] if title else []
    for line in cells:
        padded = [cell.rjust(w) if c.justify == "right" else cell.ljust(w) for cell, w, c in zip(line, widths, cols)]
        lines.append((indent + "  ".join(padded)).rstrip())
    return "\n".join(lines) + "\n"


def markdown_table(columns: Sequence[ColumnSpec], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table (right-justified columns align right); ``|`` in a cell is escaped."""
    cols = _columns(columns)

    def line(cells: Sequence[Any]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    rule = "|" + "".join("---:|" if c.justify == "right" else "---|" for c in cols)
    return "\n".join([line([c.title for c in cols]), rule, *(line(row) for row in rows)]) + "\n"


def print_table(columns: Sequence[ColumnSpec], rows: Sequence[Sequence[Any]], title: str | None = None,
                file: IO[str] | None = None) -> None:
    """A Rich table when ``file`` (default: standard output) is a terminal, else :func:`plain_table`."""
    out = console(file)
    if out.is_terminal:
        out.print(rich_table(columns, rows, title))
    else:
        out.file.write(plain_table(columns, rows, title))
        out.file.flush()


IMAGE_SCORE_COLUMNS = [Column(""), Column("PSNR dB", "right"), Column("SSIM", "right")]


def print_image_scores(title: str, scored: Sequence[tuple[str, dict[str, float]]],
                       file: IO[str] | None = None) -> None:
    """The image results table: one row per (label, {"psnr", "ssim"}) pair."""
    rows = [(label, f"{s['psnr']:.2f}", f"{s['ssim']:.3f}") for label, s in scored]
    print_table(IMAGE_SCORE_COLUMNS, rows, title, file)
