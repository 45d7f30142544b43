"""The documentation stays true to the code: configuration tables against the real defaults, the README's
size, and no words about how the project was developed anywhere in the tree."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.md"
README_LIMIT = 12 * 1024

# Words that tell the project's history or the machine it was built on, not the product.
HISTORY_MARKERS = [
    re.compile(r"\bsessions?[ -]\d", re.IGNORECASE),
    re.compile(r"\brounds?[ -]\d", re.IGNORECASE),
    re.compile(r"\btargets? (met|not met)\b", re.IGNORECASE),
    re.compile(r"\*\*not met\*\*", re.IGNORECASE),
    re.compile(r"/tmp/"),
    re.compile(r"\.\./shared\b"),
]

_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cells(line: str) -> list[str]:
    return [cell.strip().replace("\\|", "|") for cell in _CELL_SPLIT.split(line.strip())[1:-1]]


def key_tables(path: Path) -> dict[str, dict[str, str]]:
    """``key | default | meaning`` tables of a markdown file, by the heading above each: heading ->
    {key: default cell, backticks removed}."""
    tables: dict[str, dict[str, str]] = {}
    heading, header = "", None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading, header = line.lstrip("#").strip(), None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells
            continue
        if header[:2] != ["key", "default"] or set("".join(cells)) <= set("-: "):
            continue
        tables.setdefault(heading, {})[cells[0].strip("`")] = cells[1].strip("`")
    return tables


def toml_value(cell: str):
    return tomllib.loads(f"v = {cell}")["v"]


def as_toml_data(value):
    """A code default as TOML can write it: TOML has no null (an unset path is ``""``) and no tuples."""
    if value is None:
        return ""
    if isinstance(value, tuple):
        return [as_toml_data(v) for v in value]
    return value


def _section(title: str) -> dict[str, str]:
    tables = key_tables(CONFIGURATION)
    matches = [heading for heading in tables if heading.replace("`", "") == title]
    assert matches, f"docs/configuration.md has no table under '## {title}' (has: {sorted(tables)})"
    return tables[matches[0]]


def test_the_train_table_lists_every_train_default_with_its_value():
    from sigdae.config import TRAIN_DEFAULTS

    table = _section("[train]")
    assert sorted(table) == sorted(TRAIN_DEFAULTS)
    for key, default in TRAIN_DEFAULTS.items():
        assert toml_value(table[key]) == as_toml_data(default), f"[train] {key}"


@pytest.mark.parametrize("task", ["mnist", "speech"])
def test_each_data_table_lists_the_task_defaults(task):
    from sigdae.tasks import TASKS

    defaults = TASKS.get(task).data_defaults
    table = _section(f'[data] for task = "{task}"')
    assert sorted(table) == sorted(defaults)
    for key, default in defaults.items():
        assert toml_value(table[key]) == as_toml_data(default), f"[data] {key} for {task}"


def test_every_default_cell_is_toml():
    for heading, table in key_tables(CONFIGURATION).items():
        for key, cell in table.items():
            if cell not in ("—", "the model's own"):
                toml_value(cell)  # raises on a cell that is not a TOML value


def test_readme_fits_in_twelve_kilobytes():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; keep it a guide of at most {README_LIMIT}"


def _repository_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked source archive)
        skip = {".venv", ".git", "build", "dist", "bench-runs", "runs", "experiments"}
        listed = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                  if not skip.intersection(p.relative_to(ROOT).parts) and "egg-info" not in str(p)]
    return [ROOT / name for name in listed if name.endswith((".md", ".py"))]


def test_no_file_tells_the_development_history():
    this_file = Path(__file__).resolve()
    found = []
    for path in _repository_files():
        if path.resolve() == this_file or not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if any(marker.search(line) for marker in HISTORY_MARKERS):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not found, "development history or machine paths:\n" + "\n".join(found)
